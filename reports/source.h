/*
 * source: the log a report pack or a trail is computed from (a store or a
 * bundle), fixed at one signed checkpoint, with every covered entry's
 * summary.
 *
 * A store's kept summaries are read as they are (sharelog-verify checks
 * them against the entries); a bundle's, or an older store's, are derived
 * from the entries on every core.
 */
#ifndef SL_REPORT_SOURCE_H
#define SL_REPORT_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/err.h"
#include "formats/hash.h"
#include "formats/summary.h"

struct sl_rsource {
	int is_store;
	int derived;              /* 1: summaries derived here, not kept */
	uint64_t size;            /* entries covered: the checkpoint's size */
	struct sl_summary *sum;   /* [size] */
	char origin[256];
	char *note;               /* the signed checkpoint note, NUL-ended */
	size_t note_len;
	uint8_t root[SL_HASH_LEN];
	uint8_t head[SL_HASH_LEN];/* leaf hash of entry size - 1 */
	int64_t last_ms;          /* its recorded_at (INT64_MIN: unread) */
	void *priv;
};

/**
 * Open the log at @path (which the caller has verified) at its signed
 * checkpoint of size @at (0: the newest). SL_ENOTFOUND names a size the
 * log has no checkpoint for. With @summaries, sum[] is filled (@threads
 * workers derive them when the log keeps none). Free with
 * sl_rsource_close().
 */
int sl_rsource_open(struct sl_rsource **out, const char *path, uint64_t at,
    int threads, int summaries, struct sl_err *e);
void sl_rsource_close(struct sl_rsource *s);

/** Fill sum[] of a source opened without summaries (@threads workers
 *  derive them when the log keeps none). A source may be opened on one
 *  thread and loaded on another, but not used by two at once. */
int sl_rsource_load_summaries(struct sl_rsource *s, int threads,
    struct sl_err *e);

/**
 * The same over a store the caller already has open (sharelogd serving
 * a trail: LMDB forbids opening one store twice in a process). @store is
 * borrowed and stays open after sl_rsource_close().
 */
struct sl_store;
int sl_rsource_open_store(struct sl_rsource **out, struct sl_store *store,
    uint64_t at, int threads, int summaries, struct sl_err *e);

/** Entry @seq's bytes (< size), borrowed until close. */
int sl_rsource_entry(struct sl_rsource *s, uint64_t seq, const uint8_t **p,
    size_t *n);

/**
 * The complete Merkle node (level, index) of the log, as an
 * sl_merkle_get_fn with ctx = the source. A bundle's nodes are computed
 * on first use (every entry hashed once).
 */
int sl_rsource_node(uint8_t out[SL_HASH_LEN], void *ctx, unsigned level,
    uint64_t index);

/** The entries' seqs whose record has child_ref @ref (64 hex), or
 *  case_ref @case_ref (exactly one of them non-NULL), in seq order, up
 *  to size: *out (malloc'ed, caller frees) and *n. */
int sl_rsource_find(struct sl_rsource *s, const char *ref,
    const char *case_ref, uint64_t **out, size_t *n, struct sl_err *e);

/** The seqs of the threads of the @nd decision_ids dids[i][0..lens[i])
 *  (canonical JSON strings, quotes included), sorted, without repeats,
 *  up to size: *out (malloc'ed, caller frees) and *n. */
int sl_rsource_threads(struct sl_rsource *s, const uint8_t *const *dids,
    const size_t *lens, size_t nd, uint64_t **out, size_t *n,
    struct sl_err *e);

#endif
