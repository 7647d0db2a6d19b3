/*
 * pack: the board's report pack (domain.md §8c): eleven CSV reports, a
 * guidance file and pack.json, computed from one signed checkpoint of a
 * verified log, so the same checkpoint and options give the same bytes.
 *
 * A published pack passes every count through disclosure control
 * (reports/disclose); an internal pack (unsuppressed) carries exact counts
 * and review_overdue, and says so in every file name.
 */
#ifndef SL_PACK_H
#define SL_PACK_H

#include <stdint.h>

#include "formats/err.h"
#include "formats/hash.h"
#include "verify/policy.h"

enum sl_period { SL_PERIOD_ALL, SL_PERIOD_MONTH, SL_PERIOD_QUARTER,
	SL_PERIOD_YEAR };

struct sl_pack_opts {
	const char *path;         /* the log: a store or a bundle */
	const char *out;          /* the folder to write (created) */
	uint64_t at;              /* checkpoint size; 0 = the newest */
	int64_t from_ms;          /* decisions decided in [from, to); */
	int64_t to_ms;            /* INT64_MIN / INT64_MAX: the whole log */
	enum sl_period period;
	const char *org;          /* one organisation_id, or NULL */
	const char *area;         /* the area_code column ("" none) */
	unsigned k;               /* counts 1..k are suppressed (>= 2) */
	unsigned round;           /* totals to the nearest round (0 = no) */
	int unsuppressed;         /* internal pack: exact counts */
	int64_t as_of_ms;         /* INT64_MIN: the covered log's last
				     recorded_at */
	const struct sl_policy *policy;
	int threads;
	/* 1: make everything again from the entries (every record walked,
	 * judged and summarised, the summaries compared), as sharelog-verify
	 * --pack does; 0: from a store's kept summaries and judgements when
	 * it keeps them for this policy, checking the chain only */
	int recheck;
};

struct sl_pack_result {
	uint64_t size;            /* the checkpoint's size */
	uint8_t root[SL_HASH_LEN];
	char origin[256];
	int files;                /* CSV files written */
	int derived;              /* summaries derived (none were kept) */
	double verify_s;          /* integrity (and phase 1 of the rules
				     when judged_in_pass) */
	double load_s;            /* summaries */
	double comp_s;            /* the rules (the rest of them when
				     judged_in_pass) */
	int judged_in_pass;       /* each record was judged during the
				     integrity pass (a store) */
	int kept;                 /* the rules read the kept judgements */
	char not_kept[512];       /* why not, when the source is a store
				     and recheck was not asked */
	double reports_s;         /* the eleven reports, written */
};

/**
 * Verify the log, then write the pack into o->out (which must not exist
 * or be empty). SL_EINTEGRITY when the log does not verify (nothing is
 * written; @e says why).
 */
int sl_pack_write(const struct sl_pack_opts *o, struct sl_pack_result *r,
    struct sl_err *e);

/**
 * Check the pack in folder @dir against the log @path: the pack is made
 * again from the checkpoint and options it names (with @policy, which
 * must be the one it names) and every file must be byte-identical.
 * 0 when it is, SL_EINTEGRITY when not (@e names the first file that
 * differs), another SL_E* code on errors.
 */
int sl_pack_check(const char *dir, const char *path,
    const struct sl_policy *policy, int threads, struct sl_err *e);

/** Parse "month", "quarter", "year" or "all"; -1 otherwise. */
int sl_pack_period_parse(const char *s);

#endif
