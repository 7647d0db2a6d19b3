/*
 * trail: the chronology a case reviewer asks for (domain.md §3, §8c):
 * every entry of every decision thread that touches one child (or one
 * case), one CSV row each, sorted by decided_at then seq, facts apart
 * from reasoning, each row with its leaf hash and its inclusion proof
 * against the signed checkpoint, so the reviewer can show the trail is
 * in the log unaltered (docs/FORMAT.md's script checks the proofs).
 */
#ifndef SL_TRAIL_H
#define SL_TRAIL_H

#include <stdint.h>
#include <stdio.h>

#include "formats/err.h"
#include "formats/store.h"
#include "verify/policy.h"

struct sl_trail_opts {
	const char *path;          /* the log: a store or a bundle */
	struct sl_store *store;    /* or an open store (borrowed) */
	const char *child_ref;     /* the pseudonym (64 hex), or */
	const char *case_ref;      /* a case reference */
	uint64_t at;               /* checkpoint size; 0 = the newest */
	const struct sl_policy *policy;  /* for completeness_flags */
	int64_t as_of_ms;
};

struct sl_trail_result {
	uint64_t rows;
	uint64_t threads;
	uint64_t size;             /* the checkpoint's */
	char origin[256];
};

/**
 * Write the trail as CSV to @f. Every proof is checked against the
 * checkpoint's root before it is written (SL_EINTEGRITY when one fails).
 * A child or case with no entries gives the header row only.
 */
int sl_trail_write(FILE *f, const struct sl_trail_opts *o,
    struct sl_trail_result *r, struct sl_err *e);

#endif
