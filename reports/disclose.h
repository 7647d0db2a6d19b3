/*
 * Disclosure control for the tables a board publishes (domain.md §4):
 * counts from 1 to k are suppressed (shown as "c"), then further cells
 * are suppressed until no suppressed cell can be worked out from what is
 * shown, row and column totals and the grand total included.
 *
 * The guarantee, checked for every suppressed cell whose true value is
 * 1..k (a "primary" cell) and every suppressed total: there is another
 * table of non-negative integers that shows exactly the same published
 * cells and totals, keeps every primary cell within 1..k, and differs in
 * that cell. An attacker who knows the method, the table's shape and k
 * cannot tell the value apart from at least one other.
 *
 * The table is rows x cols interior counts plus, by construction, its
 * row totals, column totals and grand total (the caller never adds them
 * itself). Tables are small (agency types by categories): the method
 * favours a minimal, well-understood result over speed.
 */
#ifndef SL_DISCLOSE_H
#define SL_DISCLOSE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/err.h"

/* Why a cell is not shown. */
enum sl_cell_state {
	SL_CELL_SHOWN = 0,
	SL_CELL_PRIMARY,          /* 1..k */
	SL_CELL_SECONDARY         /* hidden to protect a primary cell */
};

struct sl_disclose_table {
	size_t rows, cols;
	uint64_t *v;              /* (rows + 1) x (cols + 1), row-major: the
				   * last column holds the row totals, the
				   * last row the column totals, the corner
				   * the grand total */
	uint8_t *state;           /* the same shape: enum sl_cell_state */
};

/**
 * A table of rows x cols interior counts (cells[r * cols + c]); the
 * totals are computed here. Free with sl_disclose_free().
 */
int sl_disclose_new(struct sl_disclose_table **out, size_t rows, size_t cols,
    const uint64_t *cells, struct sl_err *e);

void sl_disclose_free(struct sl_disclose_table *t);

/**
 * Suppress: every cell and total whose value is 1..k, then, one at a time,
 * the smallest shown cell (interior before totals, non-zero before zero)
 * that gives an unprotected cell another possible value, until every
 * suppressed cell is protected. k >= 1. Cells already suppressed stay so.
 */
int sl_disclose_suppress(struct sl_disclose_table *t, uint64_t k,
    struct sl_err *e);

/**
 * 1 when suppressed cell (r, c) of the extended table (r == rows or
 * c == cols for totals) could hold another value consistent with what is
 * shown (see the guarantee above), 0 when it can be worked out.
 */
int sl_disclose_protected(const struct sl_disclose_table *t, uint64_t k,
    size_t r, size_t c);

/** Value and state of extended cell (r, c). */
uint64_t sl_disclose_value(const struct sl_disclose_table *t, size_t r,
    size_t c);
enum sl_cell_state sl_disclose_state(const struct sl_disclose_table *t,
    size_t r, size_t c);

#endif
