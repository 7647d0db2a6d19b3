/*
 * store: the append-only LMDB store.
 *
 * Layout: the log, an LMDB environment in the store folder, synced with
 * every commit:
 *   entries      u64be seq            -> entry bytes (canonical JSON)
 *   checkpoints  u64be tree size      -> signed checkpoint note
 *   meta         "format", "origin", "refs" ("complete"), "derived_boot"
 *                (the boot id store/derived was last written in) -> text
 *
 * what the entries give, in store/derived, written with each commit
 * (after the log's) but not synced; trusted only in the boot the log's
 * meta names, else rebuilt by the next writable open:
 *   tree         u64be last leaf, u8 level -> 32-byte Merkle node hash
 *                (a node is written once, when its last leaf arrives, so
 *                every write is an MDB_APPEND)
 *   ids          "r:"record_id        -> u64be seq || SHA-256 of content
 *                "d:"decision_id      -> same, for the one `decision`
 *                                        record of a thread
 *   threads      decision_id          -> u64be seq (sorted duplicates)
 *   summaries    u64be seq            -> the entry's summary for reports
 *                (formats/summary.h, SL_SUMMARY_LEN bytes)
 *   refs         u64be seq            -> the 32-byte child_ref (zero when
 *                none) || case_ref's canonical JSON string (when any);
 *                only for entries with either
 *   meta         "through"            -> u64be n || leaf hash of entry
 *                n-1: every entry below n has its rows
 *
 * and a second one in store/index, derived from refs by sl_store_index()
 * off the commit path (rebuilt whenever it is missing or stale):
 *   subjects     32-byte child_ref    -> u64be seq (sorted duplicates)
 *   cases        canonical JSON string of case_ref -> u64be seq (sorted
 *                duplicates)
 *   meta         "through"            -> u64be n || leaf hash of entry n-1:
 *                every entry below n is indexed
 * Lookups by child or case read the index below n and scan refs from n.
 * A store of format 1 keeps the derived tables (and, older still, its
 * own subjects and cases tables) in the log's environment: read there,
 * and moved to store/derived by its first writable open.
 *
 * One process appends; any number of processes read at the same time.
 * Appends are all-or-nothing per batch and durable (fsync) on return.
 */
#ifndef SL_STORE_H
#define SL_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/err.h"
#include "formats/hash.h"
#include "formats/merkle.h"
#include "formats/record.h"

#define SL_STORE_FORMAT "sharelog-store 2"
/* the layout before store/derived, read as it is, moved by a writable open */
#define SL_STORE_FORMAT_1 "sharelog-store 1"

/* sl_store_open() flags */
#define SL_STORE_RDONLY 0x1
#define SL_STORE_CREATE 0x2   /* make a new, empty store; fails if present */

struct sl_store;
struct sl_store_txn;

/**
 * Open (or with SL_STORE_CREATE create) the store in folder @dir.
 * Caller closes with sl_store_close(). LMDB allows a store one open per
 * process: read-only opens of one store share one handle (safe to read on
 * several threads, each with its own snapshot), closed with the last
 * close; a process opens a store writable once, and never both ways at
 * once. A handle does not survive fork(): a child opens its own.
 */
int sl_store_open(struct sl_store **out, const char *dir, unsigned flags,
    struct sl_err *e);
void sl_store_close(struct sl_store *s);

/** Entries as this handle last wrote or saw them (0 when read-only). */
uint64_t sl_store_size(const struct sl_store *s);

/**
 * Into *@out, the bytes an unprivileged writer may still use on the file
 * system that holds the store (statvfs). 0, or SL_EIO when it cannot be
 * told.
 */
int sl_store_free_bytes(const struct sl_store *s, uint64_t *out);

/** The store's origin (from meta), valid while @s is open. */
const char *sl_store_origin(const struct sl_store *s);

/** One item of an append batch. */
struct sl_store_item {
	/* in: either a record to build an entry from ... */
	const json_t *record;      /* validated record */
	int type;                  /* SL_ET_* */
	const char *submitted_by;
	/* ... or (record NULL) the validated record already in canonical
	 * form, with the values the indexes need (each may be NULL) ... */
	const uint8_t *canon;
	size_t canon_len;
	const char *record_id;
	const char *decision_id;
	/* ... or the exact bytes of an existing entry (restoring a bundle):
	 * its seq and prev must continue the store. */
	const uint8_t *raw;
	size_t raw_len;
	/* out */
	uint64_t seq;
	uint8_t leaf[SL_HASH_LEN];
	int64_t recorded_ms;
	int duplicate;             /* 1: identical earlier submission,
				      -1: the item that conflicted */
	/* out, when the caller gives room: the judgement the store's
	 * keeper (sl_store_keeper) kept of a new entry, so that the caller
	 * need not make it again. kept_len is 0 when there is none (no
	 * keeper, a duplicate, a bundle's entry) or it is longer than
	 * kept_cap; kept_by is then NULL, else the keeper's id. */
	uint8_t *kept;             /* in: room for it, or NULL */
	size_t kept_cap;           /* in */
	size_t kept_len;
	const uint8_t *kept_by;    /* the keeper's (borrowed: lives as long
				      as the keeper) */
};

/**
 * Append @n items as one transaction, fsync'd before return. An item whose
 * record_id is already stored with identical content is not appended
 * again: it gets the original seq and duplicate = 1. A record_id stored
 * with different content, or a second `decision` record in one thread, is
 * SL_ECONFLICT and nothing of the batch is stored; @e names the item.
 */
int sl_store_append(struct sl_store *s, struct sl_store_item *items,
    size_t n, struct sl_err *e);

/**
 * Where a streamed batch comes from. next() hands out the next item
 * (1), says the batch is over (0) or fails (<0, with @e filled); the item
 * stays valid until the next call. rewind() restarts the batch from its
 * first item (the store does so when the map had to grow).
 */
struct sl_store_source {
	int (*next)(void *ctx, struct sl_store_item **it, struct sl_err *e);
	int (*rewind)(void *ctx, struct sl_err *e);
	void *ctx;
};

/**
 * Append everything @src yields as ONE transaction (all or nothing),
 * with the same rules as sl_store_append(). *count gets the number of
 * items taken (duplicates included).
 */
int sl_store_append_from(struct sl_store *s, struct sl_store_source *src,
    uint64_t *count, struct sl_err *e);

/**
 * Check, store nothing: what sl_store_append_from() would do with @src,
 * against the log and within the batch (conflicts, identical retries),
 * in a write transaction that is then abandoned. *count as for an
 * append; *fresh gets how many new entries it would have made. Holds the
 * log's write lock while it runs, as an append does.
 */
int sl_store_append_check(struct sl_store *s, struct sl_store_source *src,
    uint64_t *count, uint64_t *fresh, struct sl_err *e);

/**
 * Append entries given as exact bytes (items[i].raw), as when a store is
 * restored from a bundle. Each must continue the chain of the store.
 */
int sl_store_append_raw(struct sl_store *s, struct sl_store_item *items,
    size_t n, const char *origin, struct sl_err *e);

/** Create the store's first entry (genesis) and set the origin. */
int sl_store_genesis(struct sl_store *s, const char *origin,
    const json_t *record, struct sl_err *e);

/** Store a signed checkpoint note for tree size @size. */
int sl_store_put_checkpoint(struct sl_store *s, uint64_t size,
    const char *note, size_t n, struct sl_err *e);

struct sl_signer;

/**
 * Sign checkpoints inside the appends: one that leaves the log @every or
 * more entries past its newest checkpoint also stores a checkpoint of its
 * new size, in the same transaction, so that it costs no commit and no
 * sync of its own. @signer (named like the origin) is borrowed: it must
 * outlive the store or a call with NULL, which stops this. A signature
 * that cannot be made leaves that append without a checkpoint (the
 * entries matter more); sl_store_sealed_size() then stays behind and the
 * caller signs one itself (auditd/seal.h).
 */
void sl_store_set_sealer(struct sl_store *s, struct sl_signer *signer,
    uint64_t every);

/** The size of the newest checkpoint signed inside an append through @s
 *  (0: none yet). */
uint64_t sl_store_sealed_size(const struct sl_store *s);

/** The compact range of the writer's view (for signing checkpoints). */
int sl_store_root(uint8_t out[SL_HASH_LEN], struct sl_store *s,
    uint64_t *size);

/* ---- reading -------------------------------------------------------- */

/**
 * Begin a read snapshot. Pointers handed out below stay valid until
 * sl_store_read_end(). Works while another process appends.
 */
int sl_store_read_begin(struct sl_store_txn **out, struct sl_store *s,
    struct sl_err *e);
void sl_store_read_end(struct sl_store_txn *t);

/** Number of entries in the snapshot. */
uint64_t sl_store_txn_size(const struct sl_store_txn *t);
/**
 * How many entries (from the first) the snapshot's derived tables hold:
 * the Merkle nodes, ids, threads, summaries and refs. Equal to the size
 * but for a moment after each commit, or, read-only, after the machine
 * restarted (0 until a writable open has built them again).
 */
uint64_t sl_store_txn_derived(const struct sl_store_txn *t);

/** Entry @seq; *p and *n borrow from the snapshot. SL_ENOTFOUND past end. */
int sl_store_get(const uint8_t **p, size_t *n, struct sl_store_txn *t,
    uint64_t seq);

/** A stored Merkle node; usable as an sl_merkle_get_fn with ctx = txn. */
int sl_store_node(uint8_t out[SL_HASH_LEN], void *txn, unsigned level,
    uint64_t index);

typedef int (*sl_store_entry_fn)(void *ctx, uint64_t seq, const uint8_t *p,
    size_t n);

/* sl_store_scan() flags */
#define SL_STORE_SCAN_RELEASE 0x1 /* drop mapped pages once passed */

/**
 * Call @fn for every entry from @start on, in seq order, with the stored
 * key (which a damaged store may not keep contiguous). A non-zero return
 * from @fn stops the scan and is returned. SL_STORE_SCAN_RELEASE keeps
 * the resident memory bounded on large stores; then @fn must copy what it
 * keeps.
 */
int sl_store_scan(struct sl_store_txn *t, uint64_t start, sl_store_entry_fn fn,
    void *ctx, unsigned flags);

typedef int (*sl_store_note_fn)(void *ctx, uint64_t size, const char *note,
    size_t n);

/** Every stored checkpoint, in size order. */
int sl_store_checkpoints(struct sl_store_txn *t, sl_store_note_fn fn,
    void *ctx);

/** The newest stored checkpoint; SL_ENOTFOUND when there is none. */
int sl_store_latest_checkpoint(const char **note, size_t *n, uint64_t *size,
    struct sl_store_txn *t);

/** seq of the record with @record_id; SL_ENOTFOUND. */
int sl_store_find_record(uint64_t *seq, struct sl_store_txn *t,
    const char *record_id);

typedef int (*sl_store_seq_fn)(void *ctx, uint64_t seq);

/**
 * Bring the index environment up to date with the store, in runs of at
 * most @max refs rows (0: the largest) per transaction of its own; *left
 * gets how many entries it has not reached yet (0 when up to date). Safe
 * while this or another process appends; one indexer runs at a time. A
 * writable open and sl_store_close() index everything; a service calls
 * this from a thread of its own so that its commits never wait for the
 * random pages of these indexes. A no-op on a read-only handle.
 */
int sl_store_index(struct sl_store *s, uint64_t max, uint64_t *left,
    struct sl_err *e);

/**
 * Every seq whose record has child_ref @ref (64 hex), in order: from the
 * index environment and, past its reach, refs. SL_ENOTFOUND when an older
 * store opened read-only keeps no such index.
 */
int sl_store_subject(struct sl_store_txn *t, const char *ref,
    sl_store_seq_fn fn, void *ctx);

/** Every seq of the decision thread @decision_id, in order. */
int sl_store_thread(struct sl_store_txn *t, const char *decision_id,
    sl_store_seq_fn fn, void *ctx);

/**
 * Every kept summary from @start on, in seq order: @fn gets the seq and
 * the kept bytes (sl_summary_decode them). SL_ENOTFOUND when the store
 * keeps none (made by an older version and not opened for writing since:
 * the first writable open summarises every entry).
 */
int sl_store_summaries(struct sl_store_txn *t, uint64_t start,
    sl_store_entry_fn fn, void *ctx);

/*
 * What the store keeps with each entry beside its summary, made by the
 * caller's code: the recording rules' judgement of it (verify/
 * completeness.h, sl_comp_keep), which formats/ cannot make itself.
 * @keep writes at most @max bytes for an entry of @type recorded at
 * @recorded_ms whose record has view @v (NULL when it cannot be walked)
 * and returns their length; @id names what makes them (the policy's
 * SHA-256). Borrowed: it must outlive every store opened after it is set.
 */
struct sl_store_keeper {
	uint8_t id[SL_HASH_LEN];
	size_t (*keep)(const void *ctx, uint8_t *out, int type,
	    int64_t recorded_ms, const struct sl_record_view *v);
	const void *ctx;
	size_t max;
};

/**
 * The keeper of the stores this process opens writable from now on
 * (NULL: none). A writable open whose derived tables were judged by
 * another keeper, or not for every entry, builds them all again; one
 * without a keeper drops the judgements kept.
 */
void sl_store_set_keeper(const struct sl_store_keeper *k);

/**
 * Every kept judgement from @start on, in seq order (as
 * sl_store_summaries). SL_ENOTFOUND when the store keeps none.
 */
int sl_store_judgements(struct sl_store_txn *t, uint64_t start,
    sl_store_entry_fn fn, void *ctx);

/** The id of the keeper the snapshot's judgements were made by and how
 *  many there are; SL_ENOTFOUND when it keeps none. */
int sl_store_judged_by(struct sl_store_txn *t, uint8_t id[SL_HASH_LEN],
    uint64_t *count);

/* The longest refs value: a child_ref and a case_ref of up to 400
 * bytes (LMDB keys are at most 511). */
#define SL_STORE_REFS_MAX (SL_HASH_LEN + 400)

/**
 * The refs value of a record (its view, from sl_record_view_scan, or all
 * zero when the walk failed) into @out; returns its length, 0 when the
 * record has neither child_ref nor case_ref and so no refs row.
 */
size_t sl_store_refs_of(uint8_t out[SL_STORE_REFS_MAX],
    const struct sl_record_view *v);

/**
 * Every refs row from @start on, in seq order (@fn as for
 * sl_store_scan; a non-zero return stops). SL_ENOTFOUND when the store
 * keeps none (an older store not opened for writing since).
 */
int sl_store_refs(struct sl_store_txn *t, uint64_t start,
    sl_store_entry_fn fn, void *ctx);

/** 1 when the store keeps refs. */
int sl_store_has_refs(const struct sl_store *s);

/** 1 when the store keeps summaries. */
int sl_store_has_summaries(const struct sl_store *s);

/**
 * A second snapshot, for another thread, exactly the same as @t's (the
 * same transaction of both the store and its index), so two threads can
 * read one snapshot at once: SL_EBUSY when a commit came between, and
 * the caller reads with @t alone. End it with sl_store_read_end().
 */
int sl_store_read_twin(struct sl_store_txn **out, struct sl_store_txn *t,
    struct sl_err *e);

/** How many summaries the snapshot keeps (0 when none). */
uint64_t sl_store_summary_count(struct sl_store_txn *t);

/**
 * Every seq whose record has case_ref given as its canonical JSON string
 * ref[0..n) (quotes included), in order, as sl_store_subject() finds
 * them. SL_ENOTFOUND when an older store opened read-only keeps no cases
 * index.
 */
int sl_store_case(struct sl_store_txn *t, const uint8_t *ref, size_t n,
    sl_store_seq_fn fn, void *ctx);

/* The lookup tables trails and findings find entries by (the threads
 * table, and the index environment's child and case tables), and the
 * two halves of the ids table by which a retry finds its original (the
 * `r:` rows of record_ids, the `d:` rows of decision records). */
enum sl_store_lookup {
	SL_STORE_LK_THREADS,
	SL_STORE_LK_SUBJECTS,
	SL_STORE_LK_CASES,
	SL_STORE_LK_RECORD_IDS,
	SL_STORE_LK_DECISION_IDS,
};

/* One row of a lookup table: its key and seq. */
typedef int (*sl_store_row_fn)(void *ctx, const uint8_t *key, size_t klen,
    uint64_t seq);

/**
 * How far the child and case index reaches in snapshot @t, as lookups
 * read it: *n entries (0 when lookups do not use it: no index, an older
 * store, or one whose reach does not match the store), and the leaf hash
 * it recorded for entry *n - 1 into @leaf (when *n > 0).
 */
int sl_store_index_reach(struct sl_store_txn *t, uint64_t *n,
    uint8_t leaf[SL_HASH_LEN]);

/**
 * Every row of lookup table @which that lookups read, in key order, for
 * the verifier: @fn gets the key (decision_id; child_ref's 32 bytes;
 * case_ref's canonical JSON string; for the ids, the whole key, prefix
 * included, followed by the 32-byte content hash of its value) and the
 * seq, borrowed from the snapshot (an ids row's, only during the call);
 * a non-zero return stops. An ids value of the wrong size is given as
 * seq 0 with a zero hash, so it matches no entry. The index's rows are those below
 * its reach (none when lookups do not use it). Pages read are let go as
 * it goes (memory stays bounded).
 */
int sl_store_lookup_rows(struct sl_store_txn *t, enum sl_store_lookup which,
    sl_store_row_fn fn, void *ctx);

/* One row of the tree table: the last leaf its node covers, its level,
 * and its value (a node hash when @n is 32), borrowed from the snapshot. */
typedef int (*sl_store_node_fn)(void *ctx, uint64_t last, unsigned level,
    const uint8_t *v, size_t n);

/**
 * The tree table's rows from leaf @start on, in order (leaf, then level),
 * for the verifier; rows whose key is not a node's (9 bytes) are never
 * read by proofs and are skipped. A non-zero return of @fn stops and is
 * returned; SL_ESTORE on a read error.
 */
int sl_store_tree_rows(struct sl_store_txn *t, uint64_t start,
    sl_store_node_fn fn, void *ctx);

/**
 * Copy the store, consistently, into the new folder @dir (compacted), as
 * of one read snapshot: safe while another process appends.
 */
int sl_store_backup(struct sl_store *s, const char *dir, struct sl_err *e);

/**
 * Drop this process's resident pages that hold bytes [lo, hi) of the
 * log's map (pointers from sl_store_scan; the data stays in the page
 * cache): pointers into the map stay valid and read the same bytes
 * again. A long sequential read lets go of what it has done with to keep
 * its resident memory bounded. Linux only; a no-op where the map cannot
 * be found.
 */
void sl_store_drop_range(struct sl_store *s, uintptr_t lo, uintptr_t hi);

/**
 * How many times store/derived's commit failed after the log's had
 * succeeded (the append still succeeded; the next one derives what is
 * missing first), and in *@last (when not NULL; a static string, NULL
 * when none) why the last one failed. The writer's thread.
 */
uint64_t sl_store_derived_failures(const struct sl_store *s,
    const char **last);

/** Test hook: the map size new environments start with. */
void sl_store__set_initial_map(size_t bytes);
/* Tests: the boot id store/derived is trusted in (NULL or "": the
 * machine's), to act out a restart of the machine. */
void sl_store__set_boot_id(const char *id);
/* Tests: make store/derived's commits fail (1) or not (0), as a full
 * disk would after the log's commit. */
void sl_store__fail_derived_commit(int on);
/* Tests: make storing a checkpoint fail (1) or not (0), as an I/O error
 * would. */
void sl_store__fail_checkpoint(int on);

#endif
