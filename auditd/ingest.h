/*
 * ingest: decisions in JSON Lines (one client record per line) into the
 * store, as `sharelogd append` does.
 *
 * Every line is validated before anything is stored: one bad line and
 * nothing is appended, and every bad line is reported with its number.
 * Good input is appended as one transaction (or one per @commit_every
 * lines) and is on disk when the call returns.
 */
#ifndef SL_INGEST_H
#define SL_INGEST_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/err.h"
#include "formats/pseudo.h"
#include "formats/store.h"

/* Longest accepted line (one record), as for an API request body. */
#define SL_INGEST_LINE_MAX (64 * 1024)

struct sl_ingest_stats {
	uint64_t lines;       /* records read */
	uint64_t bad;         /* lines refused */
	uint64_t appended;    /* new entries */
	uint64_t duplicates;  /* identical retries, not appended again */
	uint64_t size;        /* store size afterwards */
};

/**
 * @as: the submitting organisation; every record's organisation_id must
 * equal it. NULL: each record is submitted by its own organisation_id.
 * @errs receives one line per bad input line ("line 7: field /decision:
 * not one of: share, not_share, partial").
 * Returns 0, SL_EINVAL when lines were bad (nothing stored), or the
 * store's error.
 */
/*
 * The steps, for readers of other formats (auditd/import.c): open,
 * add every record, and commit only when none was refused.
 */
struct sl_ingest;

/**
 * A new ingest into a temporary spool. @unit names an input item in
 * messages ("line", "row"). @p and @as are borrowed until close.
 */
int sl_ingest_open(struct sl_ingest **out, const struct sl_pseudo *p,
    const char *as, const char *unit, struct sl_err *e);

/**
 * Validate the client record @rec (borrowed; pseudonymised in place) as
 * the API would, check its organisation against @as, mark it with
 * imported_from when that is not NULL, and spool it as item @no.
 * SL_EINVAL with @e naming the field when it is refused.
 */
int sl_ingest_add(struct sl_ingest *g, json_t *rec, uint64_t no,
    const char *imported_from, struct sl_err *e);

/**
 * Append every spooled record (st->lines of them, counted by the caller)
 * to @s, one transaction per @commit_every (0: one for all); fills
 * st->appended, st->duplicates and st->size.
 */
int sl_ingest_commit(struct sl_ingest *g, struct sl_store *s,
    uint64_t commit_every, struct sl_ingest_stats *st, struct sl_err *e);

/**
 * Check only: what sl_ingest_commit() would do, against the log and
 * within the input (a record that conflicts with one already stored, or
 * with another of the input, is SL_ECONFLICT naming its item), as one
 * transaction that is then abandoned. st->appended gets the records that
 * would be new entries, st->duplicates those already in the log, st->size
 * the size the log would reach. Nothing is stored.
 */
int sl_ingest_check(struct sl_ingest *g, struct sl_store *s,
    struct sl_ingest_stats *st, struct sl_err *e);

/** Drop the spool; NULL is allowed. */
void sl_ingest_close(struct sl_ingest *g);

/** Every line of @in through the steps above; @check: sl_ingest_check()
 * instead of sl_ingest_commit(), nothing stored. */
int sl_ingest_jsonl(struct sl_ingest_stats *st, FILE *in, struct sl_store *s,
    const struct sl_pseudo *p, const char *as, uint64_t commit_every,
    int check, FILE *errs, struct sl_err *e);

#endif
