#include "tests/testutil.h"
#include "reports/disclose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * An independent check of the guarantee, by search rather than by graph:
 * for each suppressed cell that must be protected, look for another table
 * of non-negative integers, each suppressed interior cell within one of
 * its true value, that shows the same cells and totals and keeps every
 * primary cell (totals included) within 1..k. Finding one proves the cell
 * cannot be worked out.
 */
struct search {
	const struct sl_disclose_table *t;
	uint64_t k;
	size_t rows, cols;
	size_t unknown[64];      /* interior suppressed cells, r * cols + c */
	size_t nunknown;
	int64_t x[64];           /* the candidate interior table */
	int alt[17 * 17];        /* extended cell has had another value */
};

static int ok_value(const struct search *s, size_t r, size_t c, int64_t v)
{
	enum sl_cell_state st = sl_disclose_state(s->t, r, c);

	if (v < 0)
		return 0;
	if (st == SL_CELL_SHOWN)
		return (uint64_t)v == sl_disclose_value(s->t, r, c);
	if (st == SL_CELL_PRIMARY)
		return v >= 1 && (uint64_t)v <= s->k;
	return 1;
}

static int64_t cell(const struct search *s, size_t r, size_t c)
{
	return s->x[r * s->cols + c];
}

/* Row r complete: its total agrees with what is shown. */
static int row_ok(const struct search *s, size_t r)
{
	int64_t sum = 0;
	size_t c;

	for (c = 0; c < s->cols; c++)
		sum += cell(s, r, c);
	return ok_value(s, r, s->cols, sum);
}

static void record(struct search *s)
{
	size_t r, c, w = s->cols + 1;
	int64_t g = 0;

	for (r = 0; r < s->rows; r++) {
		int64_t sum = 0;

		for (c = 0; c < s->cols; c++) {
			sum += cell(s, r, c);
			if ((uint64_t)cell(s, r, c) !=
			    sl_disclose_value(s->t, r, c))
				s->alt[r * w + c] = 1;
		}
		if ((uint64_t)sum != sl_disclose_value(s->t, r, s->cols))
			s->alt[r * w + s->cols] = 1;
		g += sum;
	}
	for (c = 0; c < s->cols; c++) {
		int64_t sum = 0;

		for (r = 0; r < s->rows; r++)
			sum += cell(s, r, c);
		if ((uint64_t)sum != sl_disclose_value(s->t, s->rows, c))
			s->alt[s->rows * w + c] = 1;
	}
	if ((uint64_t)g != sl_disclose_value(s->t, s->rows, s->cols))
		s->alt[s->rows * w + s->cols] = 1;
}

static int consistent(const struct search *s)
{
	size_t r, c;
	int64_t g = 0;

	for (c = 0; c < s->cols; c++) {
		int64_t sum = 0;

		for (r = 0; r < s->rows; r++)
			sum += cell(s, r, c);
		if (!ok_value(s, s->rows, c, sum))
			return 0;
		g += sum;
	}
	return ok_value(s, s->rows, s->cols, g);
}

static void dfs(struct search *s, size_t i)
{
	size_t at, r, c;
	int64_t v, lo, hi;

	if (i == s->nunknown) {
		if (consistent(s))
			record(s);
		return;
	}
	at = s->unknown[i];
	r = at / s->cols;
	c = at % s->cols;
	lo = (int64_t)sl_disclose_value(s->t, r, c) - 1;
	hi = lo + 2;
	for (v = lo; v <= hi; v++) {
		if (!ok_value(s, r, c, v))
			continue;
		s->x[at] = v;
		/* the row's last unknown placed: its total can be checked */
		if ((i + 1 == s->nunknown || s->unknown[i + 1] / s->cols != r) &&
		    !row_ok(s, r))
			continue;
		dfs(s, i + 1);
	}
	s->x[at] = (int64_t)sl_disclose_value(s->t, r, c);
}

/* Returns the number of suppressed primary cells no other table explains. */
static int disclosed(const struct sl_disclose_table *t, uint64_t k,
    size_t rows, size_t cols)
{
	struct search s;
	size_t r, c, w = cols + 1;
	int bad = 0;

	memset(&s, 0, sizeof(s));
	s.t = t;
	s.k = k;
	s.rows = rows;
	s.cols = cols;
	for (r = 0; r < rows; r++)
		for (c = 0; c < cols; c++) {
			s.x[r * cols + c] = (int64_t)sl_disclose_value(t, r, c);
			if (sl_disclose_state(t, r, c) != SL_CELL_SHOWN)
				s.unknown[s.nunknown++] = r * cols + c;
		}
	/* rows with no unknowns are checked once, up front */
	for (r = 0; r < rows; r++)
		ck_assert(row_ok(&s, r));
	dfs(&s, 0);
	for (r = 0; r <= rows; r++)
		for (c = 0; c <= cols; c++)
			if (sl_disclose_state(t, r, c) == SL_CELL_PRIMARY &&
			    !s.alt[r * w + c])
				bad++;
	return bad;
}

START_TEST(test_disclose_small_cells_are_protected)
{
	unsigned seed = 20261121;
	int n;

	for (n = 0; n < 600; n++) {
		size_t rows = 1 + (size_t)(rand_r(&seed) % 3);
		size_t cols = 1 + (size_t)(rand_r(&seed) % 3);
		uint64_t k = 2 + (uint64_t)(rand_r(&seed) % 4);
		uint64_t cells[9];
		struct sl_disclose_table *t;
		struct sl_err e;
		size_t i, r, c;

		for (i = 0; i < rows * cols; i++)
			cells[i] = rand_r(&seed) % 3 == 0 ? 0 :
			    (uint64_t)(rand_r(&seed) % 14);
		ck_assert_int_eq(sl_disclose_new(&t, rows, cols, cells, &e),
		    0);
		ck_assert_int_eq(sl_disclose_suppress(t, k, &e), 0);
		/* nothing from 1 to k is shown, everything else is as it was */
		for (r = 0; r <= rows; r++)
			for (c = 0; c <= cols; c++) {
				uint64_t v = sl_disclose_value(t, r, c);

				if (v >= 1 && v <= k)
					ck_assert_int_eq(sl_disclose_state(t, r,
					    c), SL_CELL_PRIMARY);
				if (sl_disclose_state(t, r, c) != SL_CELL_SHOWN)
					ck_assert(sl_disclose_protected(t, k,
					    r, c) || sl_disclose_state(t, r,
					    c) == SL_CELL_SECONDARY);
			}
		if (disclosed(t, k, rows, cols)) {
			char msg[256];
			int o = snprintf(msg, sizeof(msg), "k=%llu %zux%zu:",
			    (unsigned long long)k, rows, cols);

			for (i = 0; i < rows * cols; i++)
				o += snprintf(msg + o, sizeof(msg) - (size_t)o,
				    " %llu", (unsigned long long)cells[i]);
			ck_abort_msg("a small cell can be worked out: %s", msg);
		}
		sl_disclose_free(t);
	}
}
END_TEST

/* The textbook case: one small count needs three more hidden around it. */
START_TEST(test_disclose_two_by_two)
{
	uint64_t cells[] = { 3, 10, 12, 20 };
	struct sl_disclose_table *t;
	struct sl_err e;

	ck_assert_int_eq(sl_disclose_new(&t, 2, 2, cells, &e), 0);
	ck_assert_uint_eq(sl_disclose_value(t, 0, 2), 13);
	ck_assert_uint_eq(sl_disclose_value(t, 2, 2), 45);
	ck_assert_int_eq(sl_disclose_suppress(t, 5, &e), 0);
	ck_assert_int_eq(sl_disclose_state(t, 0, 0), SL_CELL_PRIMARY);
	ck_assert_int_eq(sl_disclose_state(t, 0, 1), SL_CELL_SECONDARY);
	ck_assert_int_eq(sl_disclose_state(t, 1, 0), SL_CELL_SECONDARY);
	ck_assert_int_eq(sl_disclose_state(t, 1, 1), SL_CELL_SECONDARY);
	/* the totals stay: 13, 32, 15, 30, 45 give nothing away */
	ck_assert_int_eq(sl_disclose_state(t, 0, 2), SL_CELL_SHOWN);
	ck_assert_int_eq(sl_disclose_state(t, 2, 2), SL_CELL_SHOWN);
	ck_assert(sl_disclose_protected(t, 5, 0, 0));
	sl_disclose_free(t);
	/* two 1s in a row of total 2 would give each other away: hiding
	 * only them is not enough */
	{
		uint64_t c2[] = { 1, 1, 9, 9, 30, 30 };

		ck_assert_int_eq(sl_disclose_new(&t, 2, 3, c2, &e), 0);
		ck_assert_int_eq(sl_disclose_suppress(t, 5, &e), 0);
		size_t r, c, hidden = 0;

		ck_assert_int_eq(disclosed(t, 5, 2, 3), 0);
		for (r = 0; r <= 2; r++)
			for (c = 0; c <= 3; c++)
				hidden += sl_disclose_state(t, r, c) !=
				    SL_CELL_SHOWN;
		ck_assert_uint_gt(hidden, 2);
		sl_disclose_free(t);
	}
	ck_assert_int_eq(sl_disclose_new(&t, 1, 1, cells, &e), 0);
	ck_assert_int_eq(sl_disclose_suppress(t, 1, &e), SL_EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "at least 2"));
	sl_disclose_free(t);
}
END_TEST

Suite *sl_disclose_suite(void)
{
	Suite *s = suite_create("disclose");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_disclose_small_cells_are_protected);
	tcase_add_test(tc, test_disclose_two_by_two);
	suite_add_tcase(s, tc);
	return s;
}
