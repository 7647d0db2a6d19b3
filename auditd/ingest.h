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
int sl_ingest_jsonl(struct sl_ingest_stats *st, FILE *in, struct sl_store *s,
    const struct sl_pseudo *p, const char *as, uint64_t commit_every,
    FILE *errs, struct sl_err *e);

#endif
