/*
 * completeness: the policy's rules over a whole log (a store or a
 * bundle), judging decision threads rather than single entries.
 *
 * A decision or reconsideration is judged as it stands once the later
 * amendment, inform_update and outcome records that follow it (through
 * refers_to_record_id, directly or through one another) have added their
 * fields: a follow-up that supplies what was missing resolves the
 * finding. A follow-up whose refers_to_record_id names no earlier record
 * of the same thread is itself a finding (V20) and resolves nothing.
 * Entries recorded after the "as of" time are not looked at, so a run
 * can be reproduced on a log that has grown since.
 *
 * The log must have passed sl_verify_log() first (canonical entries,
 * contiguous seq); @upto limits the run to the entries it verified.
 */
#ifndef SL_COMPLETENESS_H
#define SL_COMPLETENESS_H

#include <stddef.h>
#include <stdint.h>

#include "formats/err.h"
#include "verify/policy.h"

struct sl_record_view;

/* Phase 2's workers at most (sl_comp_opts.amended's @worker is less). */
#define SL_COMP_WORKERS 64

/**
 * Told of each decision or reconsideration that later follow-ups
 * (amendments, outcomes, inform_updates recorded by the as-of time)
 * added to: its seq and its record as it stands with them, as the rules
 * judge it again (the view is valid during the call only). Called from
 * several workers at once, each with its own @worker, never twice for a
 * seq; a non-zero return fails the run with that code.
 */
typedef int (*sl_comp_amended_fn)(void *ctx, unsigned worker, uint64_t seq,
    const struct sl_record_view *v);

struct sl_comp_opts {
	const struct sl_policy *policy;
	int64_t as_of_ms;
	int64_t from_ms;          /* report decisions decided in [from, to) */
	int64_t to_ms;
	uint64_t upto;            /* entries to look at (the verified ones) */
	int threads;              /* 0 = one per core */
	sl_comp_amended_fn amended;   /* NULL: none told */
	void *amended_ctx;
};

struct sl_comp_finding {
	uint64_t seq;             /* the record judged */
	const char *decision_id;  /* borrowed from the result */
	const char *organisation; /* borrowed from the result */
	uint16_t rule;            /* index into the policy */
	uint8_t severity;
	int16_t field;            /* schema index (sl_policy_field_name) */
};

/* Per organisation and rule. */
struct sl_comp_count {
	const char *organisation;
	uint16_t rule;
	uint8_t severity;         /* as found (a rule may escalate) */
	uint64_t findings;
	uint64_t decisions;       /* decisions with at least one */
};

struct sl_comp_org {
	const char *organisation;
	uint64_t decisions;       /* decisions and reconsiderations judged */
	uint64_t follow_ups;
	uint64_t with_errors;     /* decisions with an error-level finding */
	uint64_t with_warnings;   /* ... with warnings only */
};

struct sl_comp_result;

/**
 * Judge the log at @path (store folder or bundle folder). Findings come
 * out in seq order, then policy order. Free with sl_comp_free().
 */
int sl_comp_run(struct sl_comp_result **out, const char *path,
    const struct sl_comp_opts *o, struct sl_err *e);

/*
 * The same run in three steps, so that phase 1 (every record walked and
 * judged on its own) rides on a pass that walks every record anyway: the
 * integrity pass (sl_verify_opts.visit). sl_comp_begin() opens the log;
 * sl_comp_visit() is the visitor, called from up to SL_COMP_VISITORS
 * threads at once, each with its own @visitor number, for each entry
 * with its envelope and its record's view (NULL when the record could
 * not be walked), the views valid during the call only; sl_comp_end()
 * judges the threads and the log. Only a store's entries are taken from
 * visits; a bundle's, or a store's when not every entry up to @upto was
 * visited, are judged by sl_comp_end() itself. Either way the result is
 * sl_comp_run()'s. On failure of sl_comp_end() the caller still frees
 * @r with sl_comp_free().
 */
#define SL_COMP_VISITORS 64

struct sl_entry_view;
struct sl_record_view;

int sl_comp_begin(struct sl_comp_result **out, const char *path,
    const struct sl_comp_opts *o, struct sl_err *e);
void sl_comp_visit(void *ctx, int visitor, uint64_t seq,
    const uint8_t *entry, size_t n, const struct sl_entry_view *ev,
    const struct sl_record_view *v);
int sl_comp_end(struct sl_comp_result *r);

/** 1 when phase 1 was done by visits (not by sl_comp_end itself). */
int sl_comp_visited(const struct sl_comp_result *r);

size_t sl_comp_findings(const struct sl_comp_result *r,
    const struct sl_comp_finding **out);
size_t sl_comp_counts(const struct sl_comp_result *r,
    const struct sl_comp_count **out);
size_t sl_comp_orgs(const struct sl_comp_result *r,
    const struct sl_comp_org **out);

/** Entries looked at, records judged, errors and warnings found. */
void sl_comp_totals(const struct sl_comp_result *r, uint64_t *entries,
    uint64_t *judged, uint64_t *errors, uint64_t *warnings);

double sl_comp_seconds(const struct sl_comp_result *r);

void sl_comp_free(struct sl_comp_result *r);

/*
 * Kept judgements: what the rules find in each entry on its own, whatever
 * the as-of time (its hits with their grace and escalation as times, its
 * follow_up due dates, its texts for repeated_text, the ids threads are
 * linked by), kept by the store beside the entry at append
 * (sl_store_keeper) so that a run over a store need not walk every
 * record again (sl_comp_run_kept). The byte layout is in docs/FORMAT.md;
 * sharelog-verify checks each one against its entry.
 */
#define SL_COMP_KEPT_VERSION 1
#define SL_COMP_KEPT_MAX 20480   /* bytes of one, at most */

struct sl_comp_keeper;

/** What names judgements kept by policy @p (sl_store_keeper.id): the
 *  SHA-256 of "sharelog kept judgements 1\n" and the policy's SHA-256. */
int sl_comp_keeper_id(uint8_t out[SL_HASH_LEN], const struct sl_policy *p);

/** A keeper for policy @p (borrowed: it must outlive the keeper). */
int sl_comp_keeper_new(struct sl_comp_keeper **out,
    const struct sl_policy *p, struct sl_err *e);
void sl_comp_keeper_free(struct sl_comp_keeper *k);

/**
 * The kept judgement of an entry of @type recorded at @recorded_ms whose
 * record has the view @v (NULL when it cannot be walked), into @out (at
 * least SL_COMP_KEPT_MAX bytes); its length. Safe from several threads.
 */
size_t sl_comp_keep(const struct sl_comp_keeper *k, uint8_t *out, int type,
    int64_t recorded_ms, const struct sl_record_view *v);

struct sl_store_keeper;

/** @out as the store's keeper of @k's judgements (sl_store_set_keeper);
 *  @k is borrowed. Fails only when SHA-256 cannot be set up. */
int sl_comp_store_keeper(struct sl_store_keeper *out,
    const struct sl_comp_keeper *k);

/** 0 when the store at @path keeps @p's judgements of its first @upto
 *  entries (sl_comp_run_kept can run); SL_ENOTFOUND, with @e saying why,
 *  when not; another code when the store cannot be read. */
int sl_comp_kept_ready(const char *path, const struct sl_policy *p,
    uint64_t upto, struct sl_err *e);

/**
 * sl_comp_run() on a store whose kept judgements are this policy's and
 * reach entry @o->upto: phase 1 is read from them, and only the records
 * of decisions that follow-ups added to are walked. The result is
 * sl_comp_run()'s. SL_ENOTFOUND (with @e saying why) when the store
 * keeps none, keeps them for another policy or not for every entry: the
 * caller runs sl_comp_run() instead.
 */
int sl_comp_run_kept(struct sl_comp_result **out, const char *path,
    const struct sl_comp_opts *o, struct sl_err *e);

struct sl_store_txn;

/* A finding open on a thread, for the service's answer. */
struct sl_comp_open {
	uint64_t seq;             /* the record it is on */
	uint16_t rule;
	uint8_t severity;
	int16_t field;
};

#define SL_COMP_THREAD_MAX 512   /* records of one thread looked at */

/* Entry @seq as the caller already holds it: its record in canonical
 * form (borrowed for the call), its SL_ET_* type and recorded time, and
 * when the caller has it, the judgement of it kept by the keeper of the
 * very policy it is judged by (sl_comp_keep; kept_len 0: none), from
 * which a decision is judged without walking its record again. */
struct sl_comp_entry {
	const uint8_t *record;
	size_t len;
	int type;
	int64_t recorded_ms;
	const uint8_t *kept;
	size_t kept_len;
};

/**
 * The findings open on the decision thread of entry @seq as the thread
 * stands with it (the entries of the same decision_id up to @seq): the
 * record judged on its own, and when it is a follow-up, the decision it
 * belongs to judged with its follow-ups, or the V20 finding when it
 * refers to no earlier record of the thread. The log-wide checks
 * (follow_up dates, repeated_text) are left to sharelog-verify. @known
 * is entry @seq when the caller has it (it is not read back from the
 * store), or NULL. Writes up to @cap findings, their number in *n.
 */
int sl_comp_thread(struct sl_store_txn *t, const struct sl_policy *p,
    uint64_t seq, const struct sl_comp_entry *known, int64_t now_ms,
    struct sl_comp_open *out, size_t cap, size_t *n, struct sl_err *e);

#endif
