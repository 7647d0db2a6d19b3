/*
 * integrity: prove a log (a store or an exported bundle) complete and
 * unaltered, trusting nothing in it.
 *
 * Re-checks every entry's canonical form and envelope, seq contiguity,
 * every prev link, recorded_at never going back, the genesis entry, the
 * RFC 6962 root against the newest signed checkpoint and its signature,
 * every other checkpoint the log carries, and consistency with every
 * checkpoint the inspector holds (which exposes a truncated tail or a
 * rewritten history). In a store, also what it derives from the entries
 * and keeps beside them: the board reports' summaries, the refs rows, and
 * the lookup tables trails and findings find entries by (the threads
 * table, the child and case index). Streams: memory stays bounded
 * whatever the size.
 */
#ifndef SL_INTEGRITY_H
#define SL_INTEGRITY_H

#include <stddef.h>
#include <stdint.h>

#include "formats/err.h"
#include "formats/hash.h"

struct sl_entry_view;
struct sl_record_view;

struct sl_verify_opts {
	const char *const *held;   /* checkpoint files the inspector holds */
	size_t nheld;
	const char *const *keys;   /* verifier keys the inspector trusts */
	size_t nkeys;
	int threads;               /* workers; 0 = one per core */
	int skip_lookups;          /* 1: not the lookup tables nor the
				      Merkle nodes (a caller that never
				      reads them) */
	/* Called for every entry of the pass that passed its own checks,
	 * from the workers (@worker below SL_VERIFY_WORKERS_MAX, one
	 * number per thread), in no order: its bytes, envelope and
	 * record's view (NULL when the record cannot be walked), valid
	 * during the call. Lets another pass over every record ride on
	 * this one (sl_comp_visit). NULL: none. */
	void (*visit)(void *ctx, int worker, uint64_t seq,
	    const uint8_t *entry, size_t n, const struct sl_entry_view *ev,
	    const struct sl_record_view *v);
	void *visit_ctx;
	/* 1: the chain only, for a caller that trusts what the store keeps
	 * (sharelog-report's pack on kept judgements): every entry's leaf,
	 * seq, prev link and time, the tree against the checkpoints and
	 * their signatures, but not each entry's canonical form nor the
	 * derived tables (implies skip_lookups; no visits). */
	int chain_only;
	/* 1: leave the log's pages mapped once a chunk is done, for a caller
	 * that reads entries again afterwards and whose log fits in memory
	 * (the pack); 0: each chunk's pages are let go, so that resident
	 * memory stays bounded whatever the log's size. */
	int keep_mapped;
};

#define SL_VERIFY_WORKERS_MAX 16

enum sl_verify_source { SL_SRC_STORE, SL_SRC_BUNDLE };

/* A checkpoint as the verifier saw it. */
struct sl_verify_cp {
	uint64_t size;
	uint8_t root[SL_HASH_LEN];
	int held;          /* 1: given by the inspector */
	int matched;       /* 1: the log's root at that size is this root */
	char key[300];     /* name+id of the key whose signature verified */
	char from[300];    /* file or "store" */
};

struct sl_verify_result {
	int verified;                 /* 1: everything holds */
	enum sl_verify_source source;
	char origin[256];
	uint64_t entries;
	uint64_t bytes;
	uint64_t summaries;           /* store: kept summaries checked */
	uint64_t judgements;          /* store: kept judgements checked */
	int judged_other;             /* store: it keeps judgements by a
					 policy other than the built-in
					 one, not checked */
	uint64_t refs;                /* store: entries whose refs (the
					 trails' lookups) were checked */
	uint64_t lookups;             /* store: entries whose rows in the
					 ids and threads tables and the
					 child and case index were checked */
	uint64_t nodes;               /* store: entries whose Merkle nodes
					 (the tree table: proofs and the
					 writer's state) were checked */
	uint64_t index_reach;         /* store: entries the index covers
					 (lookups read refs past it) */
	uint64_t derived;             /* store: entries the derived tables
					 cover (checked only when all) */
	uint8_t root[SL_HASH_LEN];    /* recomputed over all entries */
	int trust_from_log;           /* no --key: the log's own key trusted */
	char trusted_key[300];        /* the key that signed the newest cp */
	struct sl_verify_cp newest;   /* newest checkpoint of the log */
	uint64_t unsealed;            /* store: entries after newest cp */
	size_t checkpoints;           /* checkpoints checked in all */
	struct sl_verify_cp held[16]; /* the inspector's, first 16 */
	size_t nheld;
	/* the first problem, when not verified */
	uint64_t bad_from;            /* first entry concerned */
	uint64_t bad_to;              /* last entry concerned (range) */
	char problem[1024];
	double seconds;
};

/**
 * Verify the log at @path (a store folder or a bundle folder).
 * Returns 0 when verified, SL_EINTEGRITY when the log fails (r->problem
 * says what, naming the first bad entry), or another SL_E* code for
 * usage and I/O errors (@e says what).
 */
int sl_verify_log(struct sl_verify_result *r, const char *path,
    const struct sl_verify_opts *o, struct sl_err *e);

#endif
