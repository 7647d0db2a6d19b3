#include "reports/disclose.h"

#include <stdlib.h>
#include <string.h>

/*
 * The method. Write the table with its totals as an (R+1) x (C+1) table y
 * whose every row and column sums to zero: y = x inside, y = -total in the
 * last column and last row, y = the grand total in the corner. Adding +1
 * and -1 alternately around a cycle of suppressed cells (row, column, row,
 * ...) keeps every sum, so it gives another table that shows the same
 * thing, as long as each changed cell stays within what the attacker knows
 * of it (a primary cell 1..k, any other suppressed cell >= 0). A cell is
 * protected when such a cycle runs through it: a path, in the graph of
 * rows and columns joined by the other suppressed cells, oriented by
 * which way each cell can move.
 */

#define IDX(t, r, c) ((r) * ((t)->cols + 1) + (c))

int sl_disclose_new(struct sl_disclose_table **out, size_t rows, size_t cols,
    const uint64_t *cells, struct sl_err *e)
{
	struct sl_disclose_table *t;
	size_t r, c, n;

	*out = NULL;
	if (!rows || !cols || rows > 4096 || cols > 4096)
		return sl_err_set(e, SL_EINVAL, "a table has 1 to 4096 rows "
		    "and columns");
	n = (rows + 1) * (cols + 1);
	t = calloc(1, sizeof(*t));
	if (!t || !(t->v = calloc(n, sizeof(*t->v))) ||
	    !(t->state = calloc(n, 1))) {
		sl_disclose_free(t);
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	}
	t->rows = rows;
	t->cols = cols;
	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++) {
			uint64_t x = cells[r * cols + c];

			t->v[IDX(t, r, c)] = x;
			t->v[IDX(t, r, cols)] += x;
			t->v[IDX(t, rows, c)] += x;
			t->v[IDX(t, rows, cols)] += x;
		}
	*out = t;
	return 0;
}

void sl_disclose_free(struct sl_disclose_table *t)
{
	if (!t)
		return;
	free(t->v);
	free(t->state);
	free(t);
}

uint64_t sl_disclose_value(const struct sl_disclose_table *t, size_t r,
    size_t c)
{
	return t->v[IDX(t, r, c)];
}

enum sl_cell_state sl_disclose_state(const struct sl_disclose_table *t,
    size_t r, size_t c)
{
	return (enum sl_cell_state)t->state[IDX(t, r, c)];
}

/* Which way suppressed cell (r, c)'s y may move by one (see above). */
static void moves(const struct sl_disclose_table *t, uint64_t k, size_t r,
    size_t c, int *up, int *down)
{
	uint64_t x = t->v[IDX(t, r, c)];
	int xup, xdown;
	int total = (r == t->rows) != (c == t->cols);   /* y = -x */

	if (t->state[IDX(t, r, c)] == SL_CELL_PRIMARY) {
		xup = x + 1 <= k;
		xdown = x >= 2;
	} else {
		xup = 1;
		xdown = x >= 1;
	}
	*up = total ? xdown : xup;
	*down = total ? xup : xdown;
}

/*
 * A path from node @from to node @to (rows are 0..R, columns R+1..R+C+1)
 * along suppressed cells other than (skip_r, skip_c): row -> column where
 * the cell can go up, column -> row where it can go down.
 */
static int path(const struct sl_disclose_table *t, uint64_t k, size_t from,
    size_t to, size_t skip_r, size_t skip_c)
{
	size_t nr = t->rows + 1, nc = t->cols + 1;
	size_t n = nr + nc;
	uint8_t *seen = calloc(n, 1);
	size_t *queue = malloc(n * sizeof(*queue));
	size_t head = 0, tail = 0;
	int found = 0;

	if (!seen || !queue)
		goto out;
	seen[from] = 1;
	queue[tail++] = from;
	while (head < tail && !found) {
		size_t u = queue[head++];
		size_t i;

		for (i = 0; i < (u < nr ? nc : nr); i++) {
			size_t r = u < nr ? u : i;
			size_t c = u < nr ? i : u - nr;
			size_t w = u < nr ? nr + c : r;
			int up, down;

			if (seen[w] || (r == skip_r && c == skip_c) ||
			    t->state[IDX(t, r, c)] == SL_CELL_SHOWN)
				continue;
			moves(t, k, r, c, &up, &down);
			if (!(u < nr ? up : down))
				continue;
			seen[w] = 1;
			if (w == to) {
				found = 1;
				break;
			}
			queue[tail++] = w;
		}
	}
out:
	free(seen);
	free(queue);
	return found;
}

int sl_disclose_protected(const struct sl_disclose_table *t, uint64_t k,
    size_t r, size_t c)
{
	size_t nr = t->rows + 1;
	int up, down;

	if (t->state[IDX(t, r, c)] == SL_CELL_SHOWN)
		return 0;
	moves(t, k, r, c, &up, &down);
	/* up on (r, c), then back from its column to its row; or down */
	return (up && path(t, k, nr + c, r, r, c)) ||
	    (down && path(t, k, r, nr + c, r, c));
}

/* The order in which shown cells are given up: inside before totals,
 * non-zero before zero, small before large, then position. */
static int better(const struct sl_disclose_table *t, size_t a, size_t b)
{
	size_t w = t->cols + 1;
	int ta = a / w == t->rows || a % w == t->cols;
	int tb = b / w == t->rows || b % w == t->cols;

	if (ta != tb)
		return ta < tb;
	if ((t->v[a] == 0) != (t->v[b] == 0))
		return t->v[a] != 0;
	if (t->v[a] != t->v[b])
		return t->v[a] < t->v[b];
	return a < b;
}

static int first_unprotected(const struct sl_disclose_table *t, uint64_t k,
    size_t *at)
{
	size_t r, c;

	for (r = 0; r <= t->rows; r++)
		for (c = 0; c <= t->cols; c++)
			if (t->state[IDX(t, r, c)] == SL_CELL_PRIMARY &&
			    !sl_disclose_protected(t, k, r, c)) {
				*at = IDX(t, r, c);
				return 1;
			}
	return 0;
}

int sl_disclose_suppress(struct sl_disclose_table *t, uint64_t k,
    struct sl_err *e)
{
	size_t n = (t->rows + 1) * (t->cols + 1);
	size_t w = t->cols + 1;
	size_t i, p;

	if (k < 2)
		return sl_err_set(e, SL_EINVAL, "the suppression threshold k "
		    "must be at least 2 (with k = 1 every suppressed count "
		    "would be a 1)");
	for (i = 0; i < n; i++)
		if (t->state[i] == SL_CELL_SHOWN && t->v[i] >= 1 &&
		    t->v[i] <= k)
			t->state[i] = SL_CELL_PRIMARY;
	while (first_unprotected(t, k, &p)) {
		size_t best = n, near = n;

		/* the first cell, in order, that protects p on its own */
		for (i = 0; i < n; i++) {
			if (t->state[i] != SL_CELL_SHOWN ||
			    (best < n && !better(t, i, best)))
				continue;
			t->state[i] = SL_CELL_SECONDARY;
			if (sl_disclose_protected(t, k, p / w, p % w))
				best = i;
			t->state[i] = SL_CELL_SHOWN;
		}
		/* else one in p's row or column, so a cycle can grow */
		if (best == n)
			for (i = 0; i < n; i++)
				if (t->state[i] == SL_CELL_SHOWN &&
				    (i / w == p / w || i % w == p % w) &&
				    (near == n || better(t, i, near)))
					near = i;
		if (best == n)
			best = near;
		if (best == n)
			for (i = 0; i < n; i++)
				if (t->state[i] == SL_CELL_SHOWN &&
				    (best == n || better(t, i, best)))
					best = i;
		if (best == n)
			return sl_err_set(e, SL_EINVAL, "a count of the table "
			    "cannot be protected even with every cell "
			    "suppressed");
		t->state[best] = SL_CELL_SECONDARY;
	}
	return 0;
}
