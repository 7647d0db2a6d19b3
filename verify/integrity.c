#include "verify/integrity.h"
#include "formats/bundle.h"
#include "formats/checkpoint.h"
#include "formats/enc.h"
#include "formats/entry.h"
#include "formats/mem.h"
#include "formats/merkle.h"
#include "formats/note.h"
#include "formats/rfc3339.h"
#include "formats/sha2x.h"
#include "formats/store.h"
#include "formats/summary.h"
#include "verify/completeness.h"
#include "verify/policy.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Entries are verified in chunks of 2^CHUNK_LOG aligned on the tree, so a
 * full chunk is one perfect Merkle subtree a worker can hash on its own.
 */
#define CHUNK_LOG 11
#define CHUNK (1u << CHUNK_LOG)
#define SLOTS 6
/* A chunk's nodes: 2 * CHUNK - 1 of its own, up to 64 above it */
#define TREE_ROWS (2 * CHUNK + 64)
#define MAX_CPS 100000
#define MAX_KEYS 64

enum anomaly { A_NONE, A_SCAN, A_SEQ, A_PREV, A_TIME, A_TYPE, A_EOL };

/* The lookup tables checked, in the order of enum sl_store_lookup. */
#define LK_TABLES 5
#define LK_KEY 16                        /* bytes of the run's secret */
#define LK_ROW_MAX 511                   /* LMDB's longest key */
#define LK_MSG_MAX (LK_KEY + 1 + 8 + LK_ROW_MAX)
/* An ids row: its key ("r:" or "d:" and the id), then its content hash */
#define LK_ID_MAX (2 + LK_ROW_MAX + SL_HASH_LEN)
/* A row key buffer: the threads key, the refs, two ids rows */
#define LK_BUF (LK_ROW_MAX + SL_STORE_REFS_MAX + 2 * LK_ID_MAX)
/* A content hash's message: more than any entry the scan takes */
#define ID_MSG_MAX ((size_t)1 << 30)

/*
 * The lookup tables are checked as multisets, in bounded memory: each row
 * (table, key, seq) counts as SHA-256(secret || table || seq || key), and
 * per chunk of seqs the entries' rows and the tables' rows must add up to
 * the same 256-bit sum. The secret is drawn afresh for every run, so rows
 * prepared in advance cannot be made to add up to the right sums; a
 * chunk whose sums differ is then looked at row by row to name the entry.
 */
struct lkctx {
	int on;
	uint8_t key[LK_KEY];
	uint64_t reach;                  /* the index covers seqs below */
	int f_did;                       /* decision_id's field index */
	int f_rid;                       /* record_id's */
};

/* One row an entry calls for. */
struct lkrow {
	int table;
	uint8_t *key;             /* an ids row's ends in its content hash */
	size_t len;
};

/*
 * The ids rows of up to two entries waiting for their content hashes,
 * which are then computed two at a time (sl_sha2x): one more SHA-256 of
 * every client record, the largest cost of checking the ids table.
 */
struct idpend {
	struct sl_buf msg[2];
	uint8_t key[2][2 * LK_ID_MAX];
	struct lkrow rows[2][2];
	int nrows[2];
	uint64_t seq[2];
	int n;
};

/* Rows hashed two at a time (sl_sha2x), each added to its own sum. */
struct lkacc {
	const struct lkctx *lk;
	uint8_t msg[2][LK_MSG_MAX];
	size_t len[2];
	uint64_t *sum[2];
	int n;
};

struct chunk {
	uint64_t index;
	uint32_t n;
	size_t len;                        /* bytes of entries */
	const uint8_t *ptr[CHUNK];         /* the entries' bytes */
	uint32_t lens[CHUNK];
	uintptr_t lo;                      /* the mapped bytes it spans, */
	uintptr_t hi;                      /* released once joined */
	uint64_t key[CHUNK];
	uint8_t type[CHUNK];
	uint8_t prev[CHUNK][SL_HASH_LEN];  /* each entry's link, to check */
	int64_t ms[CHUNK];
	uint8_t noeol;                     /* last entry had no newline */
	uint8_t (*nodes)[SL_HASH_LEN];     /* 2 * CHUNK, level by level */
	uint8_t first_prev[SL_HASH_LEN];
	int64_t first_ms;
	int64_t last_ms;
	int anomaly;
	uint32_t anomaly_at;
	/* store: the summaries it keeps for the reports, checked against
	 * the entries in the same pass (NULL when it keeps none) */
	uint8_t (*sums)[SL_SUMMARY_LEN];
	uint32_t nsums;                    /* found, in order from the first */
	uint32_t sum_bad;                  /* first wrong, UINT32_MAX none */
	/* store: its refs rows in the chunk's range (NULL when it keeps
	 * none), each at ref_off in ref_buf, for the entry ref_at */
	uint8_t *ref_buf;                  /* CHUNK * SL_STORE_REFS_MAX */
	uint32_t ref_at[CHUNK];
	uint32_t ref_off[CHUNK];
	uint16_t ref_len[CHUNK];
	uint32_t nrefs;
	size_t ref_used;
	uint32_t ref_bad;                  /* first wrong, UINT32_MAX none */
	/* store: the judgements it keeps for the packs (NULL when none are
	 * checked), entry j's at jbuf[joff[j] .. joff[j + 1]) */
	uint8_t *jbuf;
	size_t jcap;
	uint32_t joff[CHUNK + 1];
	uint32_t njs;
	uint32_t j_bad;                    /* first wrong, UINT32_MAX none */
	/* store: the sums of the lookup rows its entries call for */
	uint64_t lk[LK_TABLES][4];
	/* store: the tree table's rows for its leaves (NULL when not
	 * checked), each for the entry tat and level tlv; tok 0 when the
	 * value is not a node hash */
	uint8_t (*tn)[SL_HASH_LEN];        /* TREE_ROWS */
	uint32_t tat[TREE_ROWS];
	uint8_t tlv[TREE_ROWS];
	uint8_t tok[TREE_ROWS];
	uint32_t ntree;
	uint32_t tree_over;                /* first entry with rows past
					      TREE_ROWS, UINT32_MAX none */
	uint32_t high[64];                 /* rows above the chunk's levels */
	uint32_t nhigh;
	uint32_t tree_bad;                 /* first wrong, UINT32_MAX none */
	int state;                         /* 0 free, 1 filled, 2 done */
	struct sl_hash *hash;              /* worker's, set when taken */
};

/* Offset of level l in a chunk's node array. */
static size_t lvl_base(unsigned l)
{
	size_t b = 0;
	unsigned i;

	for (i = 0; i < l; i++)
		b += CHUNK >> i;
	return b;
}

struct cpinfo {
	struct sl_verify_cp cp;
	char *note;
	size_t notelen;
	int newest;        /* the log's newest checkpoint */
	char origin[SL_ORIGIN_MAX + 1];
};

struct verifier;

/* One worker: its thread and the scratch it hashes and views with. */
struct crew {
	pthread_t th;
	int index;                /* the visitor number it passes on */
	struct verifier *v;
	struct sl_hash *h;
	struct sl_record_view *rv;
	uint8_t *kbuf;            /* a judgement made afresh */
	struct idpend idp;
};

struct verifier {
	const struct sl_verify_opts *o;
	struct sl_verify_result *r;
	struct sl_err *e;
	const char *path;
	/* source */
	int is_store;
	int dv_ok;                  /* store: derived tables cover the log */
	struct sl_store *store;
	struct sl_store_txn *txn;
	const uint8_t *map;       /* the mapped bundle, unmapped at the end */
	size_t maplen;
	/* pipeline */
	struct chunk slots[SLOTS];
	pthread_mutex_t mu;
	pthread_cond_t cv_work;
	pthread_cond_t cv_done;
	uint64_t next_fill;       /* chunk number main fills next */
	uint64_t next_work;       /* chunk number workers take next */
	int stop;
	struct crew *threads;     /* the workers and their scratch */
	int nthreads;
	/* in-order state (main thread) */
	uint64_t consumed;        /* entries consumed */
	struct sl_merkle_range range;
	uint8_t last_leaf[SL_HASH_LEN];
	int64_t last_ms;
	struct sl_hash *hash;
	int failed;               /* an entry anomaly was found */
	uint64_t sum_bad;         /* first wrong kept summary, or UINT64_MAX */
	uint64_t j_bad;           /* first wrong kept judgement, or UINT64_MAX */
	/* the keeper of the judgements the store keeps, when they are the
	 * built-in policy's (the one sharelogd keeps them by) */
	struct sl_policy *kpol;
	struct sl_comp_keeper *keeper;
	uint64_t ref_bad;         /* first wrong refs row, or UINT64_MAX */
	uint64_t tree_bad;        /* first entry with a wrong tree row */
	uint64_t fail_at;
	/* fill state (main thread) */
	struct chunk *cur;
	/* checkpoints, sorted by size */
	struct cpinfo *cps;
	size_t ncps;
	size_t cp_next;
	/* keys: the genesis entry's, and those key_rotation entries add */
	struct sl_verifier *keys[MAX_KEYS];
	size_t nkeys;
	struct sl_verifier *rot[MAX_KEYS];
	uint64_t rot_seq[MAX_KEYS];
	size_t nrot;
	int genesis_ok;
	char genesis_problem[300];
	/* store: the lookup tables' sums, per chunk of seqs (see lkctx) */
	struct lkctx lk;
	uint64_t nbuckets;
	uint64_t (*exp)[LK_TABLES][4];    /* the rows the entries call for */
	uint64_t (*got)[LK_TABLES][4];    /* the rows the tables hold */
	uint8_t ix_leaf[SL_HASH_LEN];      /* entry reach-1's, as the index
					      recorded it */
	uint8_t ix_leaf_seen[SL_HASH_LEN]; /* and as verified */
	int ix_leaf_got;
	/* the tables' walk, on a thread of its own during the pass when
	 * a second read of the same snapshot could be had (twin) */
	struct sl_store_txn *twin;
	pthread_t walk_th;
	int walking;
	int walk_stop;            /* the pass failed: the walk is not needed */
	int walk_rc;
	uint64_t walk_beyond[LK_TABLES];  /* first row past the log */
};


/* ---- lookup tables ---------------------------------------------------- */

static size_t lk_msg(uint8_t *m, const struct lkctx *lk, int table,
    const uint8_t *k, size_t kn, uint64_t seq)
{
	int i;

	/* LMDB keeps keys of at most 511 bytes; a longer one read from an
	 * altered file is hashed marked, so it never matches a real row */
	if (kn > LK_ROW_MAX) {
		kn = LK_ROW_MAX;
		table |= 0x80;
	}
	memcpy(m, lk->key, LK_KEY);
	m[LK_KEY] = (uint8_t)table;
	for (i = 0; i < 8; i++)
		m[LK_KEY + 1 + i] = (uint8_t)(seq >> (56 - 8 * i));
	memcpy(m + LK_KEY + 9, k, kn);
	return LK_KEY + 9 + kn;
}

static void lk_sum_add(uint64_t s[4], const uint8_t d[SL_HASH_LEN])
{
	uint64_t carry = 0;
	int i;

	for (i = 0; i < 4; i++) {
		uint64_t x;
		uint64_t t;

		memcpy(&x, d + 8 * i, 8);
		t = s[i] + x;
		s[i] = t + carry;
		carry = (t < x) | (s[i] < t);
	}
}

static void lk_flush(struct lkacc *a)
{
	uint8_t d[2][SL_HASH_LEN];

	if (a->n == 0)
		return;
	if (a->n == 1) {
		a->msg[1][0] = 0;
		a->len[1] = 0;
	}
	sl_sha2x_prefixed(d[0], d[1], 0x4c, a->msg[0], a->len[0], a->msg[1],
	    a->len[1]);
	lk_sum_add(a->sum[0], d[0]);
	if (a->n == 2)
		lk_sum_add(a->sum[1], d[1]);
	a->n = 0;
}

static void lk_add(struct lkacc *a, uint64_t sum[4], int table,
    const uint8_t *k, size_t kn, uint64_t seq)
{
	a->len[a->n] = lk_msg(a->msg[a->n], a->lk, table, k, kn, seq);
	a->sum[a->n] = sum;
	if (++a->n == 2)
		lk_flush(a);
}

/* One row's own hash (to compare rows one by one). */
static void lk_digest(uint8_t d[SL_HASH_LEN], const struct lkctx *lk,
    int table, const uint8_t *k, size_t kn, uint64_t seq)
{
	uint8_t m[LK_MSG_MAX];
	uint8_t spare[SL_HASH_LEN];
	size_t n = lk_msg(m, lk, table, k, kn, seq);

	sl_sha2x_prefixed(d, spare, 0x4c, m, n, m, 0);
}

/* String field @f of @rv decoded into buf (as the store keys it: as
 * jansson reads it, up to a NUL); its length, 0 when it has none or one
 * longer than LMDB could have kept. */
static size_t lk_str(uint8_t *buf, const struct sl_record_view *rv, int f)
{
	const uint8_t *p = f >= 0 ? rv->val[f] : NULL;
	size_t n = p ? rv->len[f] : 0;
	size_t dn = 0;

	if (!p || n <= 2 || p[0] != '"')
		return 0;
	if (!memchr(p, '\\', n)) {
		dn = n - 2;
		if (dn <= LK_ROW_MAX)
			memcpy(buf, p + 1, dn);
	} else {
		char *d = NULL;

		if (!sl_record_value_dup(&d, p, n)) {
			dn = strlen(d);
			if (dn <= LK_ROW_MAX)
				memcpy(buf, d, dn);
		}
		free(d);
	}
	return dn <= LK_ROW_MAX ? dn : 0;
}

/* An ids row for @id (@dn bytes, in key[2..]): prefix and room for the
 * content hash, which the caller fills in. */
static struct lkrow id_row(int table, uint8_t *key, size_t dn)
{
	key[0] = table == SL_STORE_LK_RECORD_IDS ? 'r' : 'd';
	key[1] = ':';
	return (struct lkrow){ table, key, 2 + dn + SL_HASH_LEN };
}

/*
 * The rows entry @seq (envelope @ev, record view @rv) calls for, as the
 * store writes them: its decision_id (decoded) in the threads table;
 * below the index's reach, its child_ref and its case_ref in the index;
 * for a record a case system sends, its record_id, and for a decision
 * its decision_id, in the ids table, each row ending in room for the
 * content hash (id_fill()). @buf holds the keys (LK_BUF bytes). How
 * many, at most LK_TABLES.
 */
static int lk_rows(struct lkrow out[LK_TABLES], uint8_t *buf,
    const struct lkctx *lk, const struct sl_entry_view *ev,
    const struct sl_record_view *rv, uint64_t seq)
{
	static const uint8_t zero[SL_HASH_LEN];
	uint8_t *ids = buf + LK_ROW_MAX + SL_STORE_REFS_MAX;
	size_t dn = lk_str(buf, rv, lk->f_did);
	size_t n;
	int k = 0;

	/* the store cannot have kept an empty or overlong key */
	if (dn > 0)
		out[k++] = (struct lkrow){ SL_STORE_LK_THREADS, buf, dn };
	if (seq < lk->reach) {
		uint8_t *r = buf + LK_ROW_MAX;

		n = sl_store_refs_of(r, rv);
		if (n >= SL_HASH_LEN && memcmp(r, zero, SL_HASH_LEN))
			out[k++] = (struct lkrow){ SL_STORE_LK_SUBJECTS, r,
				SL_HASH_LEN };
		if (n > SL_HASH_LEN)
			out[k++] = (struct lkrow){ SL_STORE_LK_CASES,
				r + SL_HASH_LEN, n - SL_HASH_LEN };
	}
	if (ev->type < SL_ET_DECISION || ev->type > SL_ET_INFORM_UPDATE)
		return k;
	n = lk_str(ids + 2, rv, lk->f_rid);
	if (n > 0)
		out[k++] = id_row(SL_STORE_LK_RECORD_IDS, ids, n);
	if (ev->type == SL_ET_DECISION && dn > 0) {
		memcpy(ids + LK_ID_MAX + 2, buf, dn);
		out[k++] = id_row(SL_STORE_LK_DECISION_IDS, ids + LK_ID_MAX,
		    dn);
	}
	return k;
}

/* The content hash's message, as the store hashes it for a retry: the
 * type's name and the submitter, each with its NUL, then the record.
 * 0, or -1 when out of memory. */
static int id_msg(struct sl_buf *m, const struct sl_entry_view *ev)
{
	const char *tn = sl_entry_type_name(ev->type);
	const uint8_t *sb = ev->submitted_by;
	size_t sn = ev->submitted_by_len;
	char *d = NULL;
	int rc;

	/* the envelope writes the submitter as a JSON string, and the
	 * store hashed it decoded */
	if (memchr(sb, '\\', sn)) {
		if (sl_record_value_dup(&d, sb - 1, sn + 2))
			return -1;
		sb = (const uint8_t *)d;
		sn = strlen(d);
	}
	sl_buf_reset(m);
	rc = sl_buf_add(m, tn, strlen(tn) + 1) || sl_buf_add(m, sb, sn) ||
	    sl_buf_addc(m, 0) || sl_buf_add(m, ev->record, ev->record_len);
	free(d);
	return rc ? -1 : 0;
}

/* Put content hash @h at the end of the ids rows among @rows. */
static void id_fill(struct lkrow *rows, int nr, const uint8_t *h)
{
	int k;

	for (k = 0; k < nr; k++)
		if (rows[k].table >= SL_STORE_LK_RECORD_IDS)
			memcpy(rows[k].key + rows[k].len - SL_HASH_LEN, h,
			    SL_HASH_LEN);
}

/* Hash the waiting entries' content, two at a time, and add their ids
 * rows to chunk @c's sums. */
static void idp_flush(struct idpend *p, struct lkacc *acc, struct chunk *c)
{
	uint8_t h[2][SL_HASH_LEN];
	int j, k;

	if (p->n == 0)
		return;
	sl_sha2x_pair(h[0], h[1], p->msg[0].data[0], p->msg[0].data + 1,
	    p->msg[0].len - 1, p->n == 2 ? p->msg[1].data[0] : 0,
	    p->n == 2 ? p->msg[1].data + 1 : p->msg[0].data, p->n == 2 ?
	    p->msg[1].len - 1 : 0);
	for (j = 0; j < p->n; j++) {
		id_fill(p->rows[j], p->nrows[j], h[j]);
		for (k = 0; k < p->nrows[j]; k++)
			lk_add(acc, c->lk[p->rows[j][k].table],
			    p->rows[j][k].table, p->rows[j][k].key,
			    p->rows[j][k].len, p->seq[j]);
	}
	p->n = 0;
}

/* Entry @seq's rows into the sums: the ids rows wait for their hash. A
 * message that cannot be made (out of memory) leaves the rows out, so
 * the sums differ and the diagnosis names the entry. */
static void lk_take(struct idpend *p, struct lkacc *acc, struct chunk *c,
    const struct sl_entry_view *ev, struct lkrow *rows, int nr,
    uint64_t seq)
{
	int j, k;

	/* lk_rows() puts the ids rows last */
	for (k = 0; k < nr && rows[k].table < SL_STORE_LK_RECORD_IDS; k++)
		lk_add(acc, c->lk[rows[k].table], rows[k].table, rows[k].key,
		    rows[k].len, seq);
	if (k == nr || id_msg(&p->msg[p->n], ev))
		return;
	j = p->n;
	p->nrows[j] = 0;
	for (; k < nr; k++) {
		uint8_t *dst = p->key[j] + (size_t)p->nrows[j] * LK_ID_MAX;

		memcpy(dst, rows[k].key, rows[k].len);
		p->rows[j][p->nrows[j]++] = (struct lkrow){ rows[k].table,
			dst, rows[k].len };
	}
	p->seq[j] = seq;
	if (++p->n == 2)
		idp_flush(p, acc, c);
}

/* ---- worker ---------------------------------------------------------- */

/* Hash entries [from, to) of c as leaves, two at a time. */
static void leaves(struct chunk *c, uint32_t from, uint32_t to,
    struct sl_hash *h)
{
	uint32_t i;

	for (i = from; i + 1 < to; i += 2)
		sl_sha2x_prefixed(c->nodes[i], c->nodes[i + 1], 0x00, c->ptr[i],
		    c->lens[i], c->ptr[i + 1], c->lens[i + 1]);
	if (i < to)
		sl_hash_leaf(c->nodes[i], h, c->ptr[i], c->lens[i]);
}

/* Entry i's kept summary is there and is what its record says: the
 * summaries are derived data outside the chain, and a damaged or edited
 * one would silently change published statistics. */
static int summary_ok(const struct chunk *c, uint32_t i,
    const struct sl_entry_view *ev, const struct sl_record_view *rv,
    struct sl_hash *h)
{
	struct sl_summary sum;
	uint8_t want[SL_SUMMARY_LEN];

	if (i >= c->nsums)
		return 0;
	sl_summary_derive(&sum, rv, ev->type, ev->recorded_ms, h);
	sl_summary_encode(want, &sum);
	return !memcmp(want, c->sums[i], SL_SUMMARY_LEN);
}

/* Entry i's kept judgement is there and is what the recording rules
 * find in its record: packs count completeness from it. */
static int judgement_ok(const struct chunk *c, uint32_t i,
    const struct sl_entry_view *ev, const struct sl_record_view *rv,
    const struct crew *me)
{
	size_t n;

	if (i >= c->njs)
		return 0;
	n = sl_comp_keep(me->v->keeper, me->kbuf, ev->type, ev->recorded_ms,
	    rv);
	return n == c->joff[i + 1] - c->joff[i] &&
	    !memcmp(me->kbuf, c->jbuf + c->joff[i], n);
}

/* Entry i's refs row is there exactly when its record has a child_ref
 * or a case_ref, and holds them: trails find a child's entries through
 * it, and a row removed or edited would leave one out unseen. *k walks
 * the chunk's rows in step with the entries. */
static int refs_ok(const struct chunk *c, uint32_t i,
    const struct sl_record_view *rv, uint32_t *k)
{
	uint8_t want[SL_STORE_REFS_MAX];
	size_t n = sl_store_refs_of(want, rv);

	if (*k >= c->nrefs || c->ref_at[*k] != i)
		return n == 0;
	(*k)++;
	return n == c->ref_len[*k - 1] &&
	    !memcmp(want, c->ref_buf + c->ref_off[*k - 1], n);
}

/*
 * The tree table holds exactly the chunk's nodes: for entry i, node
 * (i, l) for each level l whose 2^l leaves end at it, as the writer puts
 * them. Those of the chunk's own levels are compared here; those above
 * them (the chunk's last entry's, where the tree joins chunks) are noted
 * for the join. The first entry with a node missing, wrong or one too
 * many, as an index into the chunk; UINT32_MAX when none.
 */
static uint32_t tree_check(struct chunk *c)
{
	uint64_t base = c->index * CHUNK;
	uint32_t k = 0;
	uint32_t i;

	c->nhigh = 0;
	for (i = 0; i < c->n; i++) {
		unsigned top = (unsigned)__builtin_ctzll(base + i + 1);
		unsigned l;

		if (c->tree_over <= i)
			return i;
		for (l = 0; l <= top; l++, k++) {
			if (k >= c->ntree || c->tat[k] != i ||
			    c->tlv[k] != l || !c->tok[k])
				return i;
			if (l > CHUNK_LOG)
				c->high[c->nhigh++] = k;
			else if (memcmp(c->tn[k], c->nodes[lvl_base(l) +
			    ((i + 1) >> l) - 1], SL_HASH_LEN))
				return i;
		}
	}
	return k < c->ntree ? c->tat[k] : c->tree_over;
}

static void work_chunk(struct chunk *c, struct crew *me,
    const struct lkctx *lk)
{
	const struct sl_verify_opts *o = me->v->o;
	struct sl_hash *h = me->h;
	struct sl_record_view *rv = me->rv;
	uint64_t base = c->index * CHUNK;
	uint32_t upto = c->n;
	uint32_t i;
	uint32_t rk = 0;
	unsigned l;
	struct lkacc acc;
	uint8_t kbuf[LK_BUF];

	c->anomaly = A_NONE;
	c->sum_bad = UINT32_MAX;
	c->j_bad = UINT32_MAX;
	c->ref_bad = UINT32_MAX;
	memset(c->lk, 0, sizeof(c->lk));
	acc.lk = lk;
	acc.n = 0;
	/* 1. each entry on its own: canonical form, envelope, seq, type,
	 * and its kept summary and refs */
	for (i = 0; i < c->n; i++) {
		struct sl_entry_view ev;
		uint64_t pos = base + i;
		int walked;

		/* the chain only: the envelope's fixed layout, the prev link
		 * at its fixed place (peek leaves it out); the bytes are
		 * bound by the leaf hashes and the signed root */
		if (o->chain_only ? sl_entry_peek(&ev, c->ptr[i], c->lens[i]) ||
		    sl_enc_unhex(ev.prev, SL_HASH_LEN,
		    (const char *)c->ptr[i] + 9, 2 * SL_HASH_LEN) :
		    sl_entry_scan(&ev, c->ptr[i], c->lens[i], NULL)) {
			c->anomaly = A_SCAN;
			break;
		}
		if (ev.seq != pos || c->key[i] != pos) {
			c->anomaly = A_SEQ;
			break;
		}
		if ((pos == 0) != (ev.type == SL_ET_GENESIS)) {
			c->anomaly = A_TYPE;
			break;
		}
		walked = 0;
		if ((c->sums && c->sum_bad == UINT32_MAX) ||
		    (c->jbuf && c->j_bad == UINT32_MAX) ||
		    (c->ref_buf && c->ref_bad == UINT32_MAX) || lk->on ||
		    (o->visit && !o->chain_only)) {
			/* as the store derived them: a walk that fails
			 * leaves the view empty */
			walked = !sl_record_view_scan(rv, ev.record,
			    ev.record_len, NULL);
			if (!walked)
				memset(rv, 0, sizeof(*rv));
			if (c->sums && c->sum_bad == UINT32_MAX &&
			    !summary_ok(c, i, &ev, rv, h))
				c->sum_bad = i;
			if (c->jbuf && c->j_bad == UINT32_MAX &&
			    !judgement_ok(c, i, &ev, walked ? rv : NULL, me))
				c->j_bad = i;
			if (c->ref_buf && c->ref_bad == UINT32_MAX &&
			    !refs_ok(c, i, rv, &rk))
				c->ref_bad = i;
			if (lk->on) {
				struct lkrow rows[LK_TABLES];
				int nr = lk_rows(rows, kbuf, lk, &ev, rv, pos);

				lk_take(&me->idp, &acc, c, &ev, rows, nr, pos);
			}
		}
		if (o->visit && !o->chain_only)
			o->visit(o->visit_ctx, me->index, pos, c->ptr[i],
			    c->lens[i], &ev, walked ? rv : NULL);
		c->type[i] = (uint8_t)ev.type;
		memcpy(c->prev[i], ev.prev, SL_HASH_LEN);
		c->ms[i] = ev.recorded_ms;
	}
	upto = i;
	idp_flush(&me->idp, &acc, c);
	lk_flush(&acc);
	/* a row for an entry past the chunk's last */
	if (c->anomaly == A_NONE && c->ref_buf && c->ref_bad == UINT32_MAX &&
	    rk < c->nrefs)
		c->ref_bad = c->ref_at[rk];
	if (c->anomaly == A_NONE && c->noeol) {
		c->anomaly = A_EOL;
		upto = c->n - 1;
	}
	/* 2. the leaf hashes, two entries at a time */
	leaves(c, 0, upto, h);
	/* 3. the chain inside the chunk: the first break is the problem */
	for (i = 1; i < upto; i++) {
		if (memcmp(c->prev[i], c->nodes[i - 1], SL_HASH_LEN)) {
			c->anomaly = A_PREV;
			break;
		}
		if (c->ms[i] < c->ms[i - 1]) {
			c->anomaly = A_TIME;
			break;
		}
	}
	if (c->anomaly != A_NONE) {
		c->anomaly_at = i < upto ? i : upto;
		return;
	}
	memcpy(c->first_prev, c->prev[0], SL_HASH_LEN);
	c->first_ms = c->ms[0];
	c->last_ms = c->ms[c->n - 1];
	/* 4. the chunk's subtree, two nodes at a time: (0x01 || left ||
	 * right) where left and right lie side by side in the level below */
	for (l = 1; l <= CHUNK_LOG; l++) {
		size_t b = lvl_base(l);
		size_t pb = lvl_base(l - 1);
		uint32_t cnt = c->n >> l;
		uint32_t k;

		for (k = 0; k + 1 < cnt; k += 2)
			sl_sha2x_prefixed(c->nodes[b + k], c->nodes[b + k + 1],
			    0x01, c->nodes[pb + 2 * k], 2 * SL_HASH_LEN,
			    c->nodes[pb + 2 * k + 2], 2 * SL_HASH_LEN);
		if (k < cnt)
			sl_hash_node(c->nodes[b + k], h, c->nodes[pb + 2 * k],
			    c->nodes[pb + 2 * k + 1]);
	}
	c->tree_bad = c->tn ? tree_check(c) : UINT32_MAX;
}

static void *worker(void *arg)
{
	struct crew *me = arg;
	struct verifier *v = me->v;

	pthread_mutex_lock(&v->mu);
	for (;;) {
		struct chunk *c;

		while (!v->stop && (v->next_work >= v->next_fill ||
		    v->slots[v->next_work % SLOTS].state != 1))
			pthread_cond_wait(&v->cv_work, &v->mu);
		if (v->stop && v->next_work >= v->next_fill)
			break;
		c = &v->slots[v->next_work % SLOTS];
		v->next_work++;
		c->state = 3; /* being worked on */
		pthread_mutex_unlock(&v->mu);
		work_chunk(c, me, &v->lk);
		pthread_mutex_lock(&v->mu);
		c->state = 2;
		pthread_cond_broadcast(&v->cv_done);
	}
	pthread_mutex_unlock(&v->mu);
	return NULL;
}

/* ---- in-order join (main thread) ------------------------------------ */

static void root_at(uint8_t out[SL_HASH_LEN], struct verifier *v,
    const struct chunk *c, uint64_t m)
{
	struct sl_merkle_range r = v->range;
	uint64_t rest = m - c->index * CHUNK;
	uint64_t o = 0;
	int l;

	for (l = CHUNK_LOG; l >= 0; l--) {
		if (!(rest & (UINT64_C(1) << l)))
			continue;
		sl_merkle_range_push_node(&r, v->hash,
		    c->nodes[lvl_base((unsigned)l) + (o >> l)], (unsigned)l);
		o += UINT64_C(1) << l;
	}
	sl_merkle_range_root(out, &r, v->hash);
}

static void note_keys(struct verifier *v, const struct chunk *c, uint32_t i);

/* The nodes above a chunk's own levels, as the join makes them, against
 * the tree table's (tree_check() found them where they belong). */
struct highcmp {
	const struct chunk *c;
	uint32_t k;
	int bad;
};

static int high_cb(void *ctx, unsigned level, const uint8_t h[SL_HASH_LEN])
{
	struct highcmp *hc = ctx;
	const struct chunk *c = hc->c;

	if (level <= CHUNK_LOG)
		return 0;
	if (hc->k >= c->nhigh || c->tlv[c->high[hc->k]] != level ||
	    memcmp(c->tn[c->high[hc->k]], h, SL_HASH_LEN))
		hc->bad = 1;
	hc->k++;
	return 0;
}

static void join_chunk(struct verifier *v, struct chunk *c)
{
	uint64_t base = c->index * CHUNK;
	uint32_t i;

	if (v->failed)
		return;
	if (c->anomaly != A_NONE) {
		/* The entries before the problem were checked: count them,
		 * and learn the log's origin if the genesis entry is here. */
		for (i = 0; i < c->anomaly_at; i++)
			if (c->type[i] == SL_ET_GENESIS)
				note_keys(v, c, i);
		v->failed = 1;
		v->fail_at = base + c->anomaly_at;
		v->consumed += c->anomaly_at;
		return;
	}
	if (base > 0 && (memcmp(c->first_prev, v->last_leaf, SL_HASH_LEN) ||
	    c->first_ms < v->last_ms)) {
		v->failed = 1;
		v->fail_at = base;
		return;
	}
	for (i = 0; i < c->n; i++)
		if (c->type[i] == SL_ET_GENESIS ||
		    c->type[i] == SL_ET_KEY_ROTATION)
			note_keys(v, c, i);
	/* Roots at the checkpoint sizes that end inside this chunk. */
	while (v->cp_next < v->ncps &&
	    v->cps[v->cp_next].cp.size <= base + c->n) {
		struct cpinfo *ci = &v->cps[v->cp_next++];
		uint8_t root[SL_HASH_LEN];

		if (ci->cp.size <= base) {
			/* size 0, or a size already passed */
			if (ci->cp.size == 0)
				memcpy(root, sl_hash_empty, SL_HASH_LEN);
			else
				continue;
		} else {
			root_at(root, v, c, ci->cp.size);
		}
		ci->cp.matched = !memcmp(root, ci->cp.root, SL_HASH_LEN);
	}
	if (c->n == CHUNK) {
		struct highcmp hc = { c, 0, 0 };

		sl_merkle_range_push_cb(&v->range, v->hash,
		    c->nodes[lvl_base(CHUNK_LOG)], CHUNK_LOG, c->tn ? high_cb :
		    NULL, &hc);
		if (c->tn && c->tree_bad == UINT32_MAX &&
		    (hc.bad || hc.k != c->nhigh))
			c->tree_bad = CHUNK - 1;
	} else {
		uint64_t o = 0;
		int l;

		for (l = CHUNK_LOG; l >= 0; l--) {
			if (!(c->n & (1u << l)))
				continue;
			sl_merkle_range_push_node(&v->range, v->hash,
			    c->nodes[lvl_base((unsigned)l) + (o >> l)],
			    (unsigned)l);
			o += UINT64_C(1) << l;
		}
	}
	if (c->sum_bad != UINT32_MAX && v->sum_bad == UINT64_MAX)
		v->sum_bad = base + c->sum_bad;
	if (c->j_bad != UINT32_MAX && v->j_bad == UINT64_MAX)
		v->j_bad = base + c->j_bad;
	if (c->ref_bad != UINT32_MAX && v->ref_bad == UINT64_MAX)
		v->ref_bad = base + c->ref_bad;
	if (c->tree_bad != UINT32_MAX && v->tree_bad == UINT64_MAX)
		v->tree_bad = base + c->tree_bad;
	if (v->exp && c->index < v->nbuckets)
		memcpy(v->exp[c->index], c->lk, sizeof(c->lk));
	if (v->lk.reach > base && v->lk.reach <= base + c->n) {
		memcpy(v->ix_leaf_seen, c->nodes[v->lk.reach - 1 - base],
		    SL_HASH_LEN);
		v->ix_leaf_got = 1;
	}
	memcpy(v->last_leaf, c->nodes[c->n - 1], SL_HASH_LEN);
	v->last_ms = c->last_ms;
	v->consumed += c->n;
	v->r->bytes += c->len;
}

/* Take genesis / key_rotation keys from an entry's record. */
/* Keep one verifier key string: the genesis's, or a rotation's with the
 * seq of its entry (trusted later only through a covering checkpoint). */
static void add_key(struct verifier *v, int type, uint64_t seq,
    const json_t *k)
{
	struct sl_verifier *vk;

	if (!json_is_string(k) || sl_note_verifier_parse(&vk,
	    json_string_value(k), json_string_length(k), NULL))
		return;
	if (type == SL_ET_GENESIS && v->nkeys < MAX_KEYS) {
		v->keys[v->nkeys++] = vk;
	} else if (type == SL_ET_KEY_ROTATION && v->nrot < MAX_KEYS) {
		v->rot_seq[v->nrot] = seq;
		v->rot[v->nrot++] = vk;
	} else {
		sl_note_verifier_free(vk);
	}
}

static void note_keys(struct verifier *v, const struct chunk *c, uint32_t i)
{
	struct sl_entry_view ev;
	json_t *rec;
	json_t *keys;
	json_t *k;
	size_t j;

	if (sl_entry_scan(&ev, c->ptr[i], c->lens[i], NULL))
		return;
	rec = json_loadb((const char *)ev.record, ev.record_len, 0, NULL);
	if (!rec)
		return;
	if (ev.type == SL_ET_KEY_ROTATION) {
		add_key(v, ev.type, c->index * CHUNK + i,
		    json_object_get(rec, "new_key"));
		json_decref(rec);
		return;
	}
	keys = json_object_get(rec, "checkpoint_keys");
	if (!json_is_string(json_object_get(rec, "origin")) ||
	    !sl_checkpoint_origin_ok(json_string_value(json_object_get(rec,
	    "origin"))) || !json_is_array(keys) || !json_array_size(keys)) {
		snprintf(v->genesis_problem, sizeof(v->genesis_problem),
		    "the genesis entry (seq 0) does not name the log's origin "
		    "and checkpoint keys");
	} else {
		snprintf(v->r->origin, sizeof(v->r->origin), "%s",
		    json_string_value(json_object_get(rec, "origin")));
		v->genesis_ok = 1;
	}
	json_array_foreach(keys, j, k)
		add_key(v, ev.type, 0, k);
	json_decref(rec);
}

/* ---- pipeline (main thread fills) ----------------------------------- */

/*
 * Forget the pages a joined chunk spanned. Both sources are read-only file
 * mappings, so this only drops them from this process (a later touch
 * reads the page cache again): resident memory stays bounded however
 * large the log.
 */
static void release(const struct verifier *v, const struct chunk *c)
{
	if (v->o->keep_mapped)
		return;
	if (v->is_store)
		sl_store_drop_range(v->store, c->lo, c->hi);
	else if (v->map)
		sl_mem_forget(c->lo, c->hi, (uintptr_t)v->map,
		    (uintptr_t)v->map + v->maplen);
}

/* With v->mu held: wait for chunk c's worker, join it in order, free it. */
static void finish_chunk(struct verifier *v, struct chunk *c)
{
	while (c->state != 2)
		pthread_cond_wait(&v->cv_done, &v->mu);
	pthread_mutex_unlock(&v->mu);
	join_chunk(v, c);
	release(v, c);
	pthread_mutex_lock(&v->mu);
	c->state = 0;
}

static void consume_oldest(struct verifier *v)
{
	finish_chunk(v, &v->slots[(v->next_fill - (uint64_t)SLOTS) % SLOTS]);
}

/* The kept summaries of a chunk's entries, in order, until one is
 * missing or malformed (the worker names that entry). */
static int sum_cb(void *ctx, uint64_t seq, const uint8_t *p, size_t n)
{
	struct chunk *c = ctx;

	if (c->nsums >= c->n || seq != c->index * CHUNK + c->nsums ||
	    n != SL_SUMMARY_LEN)
		return 1;
	memcpy(c->sums[c->nsums++], p, n);
	return 0;
}

/* The kept judgements of a chunk's entries, in order, until one is
 * missing (or there is no memory for it: the worker names that entry). */
static int judgement_cb(void *ctx, uint64_t seq, const uint8_t *p, size_t n)
{
	struct chunk *c = ctx;
	size_t used = c->joff[c->njs];

	if (c->njs >= c->n || seq != c->index * CHUNK + c->njs ||
	    n > SL_COMP_KEPT_MAX)
		return 1;
	if (used + n > c->jcap) {
		size_t nc = c->jcap * 2 > used + n ? c->jcap * 2 : used + n;
		uint8_t *nb = realloc(c->jbuf, nc);

		if (!nb)
			return 1;
		c->jbuf = nb;
		c->jcap = nc;
	}
	memcpy(c->jbuf + used, p, n);
	c->joff[++c->njs] = (uint32_t)(used + n);
	return 0;
}

/* The refs rows in a chunk's range, in order. */
static int ref_cb(void *ctx, uint64_t seq, const uint8_t *p, size_t n)
{
	struct chunk *c = ctx;
	uint64_t base = c->index * CHUNK;

	if (seq >= base + CHUNK)
		return 1;
	if (n > SL_STORE_REFS_MAX) {
		/* not a row the store writes: the worker names the entry */
		n = 0;
	}
	c->ref_at[c->nrefs] = (uint32_t)(seq - base);
	c->ref_off[c->nrefs] = (uint32_t)c->ref_used;
	c->ref_len[c->nrefs] = (uint16_t)n;
	memcpy(c->ref_buf + c->ref_used, p, n);
	c->ref_used += n;
	c->nrefs++;
	return 0;
}

/* The tree table's rows for a chunk's leaves, in order. */
static int tree_cb(void *ctx, uint64_t last, unsigned level, const uint8_t *p,
    size_t n)
{
	struct chunk *c = ctx;
	uint64_t base = c->index * CHUNK;

	if (last >= base + CHUNK)
		return 1;
	if (c->ntree >= TREE_ROWS) {
		if (c->tree_over == UINT32_MAX)
			c->tree_over = (uint32_t)(last - base);
		return 0;
	}
	c->tat[c->ntree] = (uint32_t)(last - base);
	c->tlv[c->ntree] = (uint8_t)(level < 255 ? level : 255);
	c->tok[c->ntree] = n == SL_HASH_LEN && level < 64;
	if (n == SL_HASH_LEN)
		memcpy(c->tn[c->ntree], p, SL_HASH_LEN);
	c->ntree++;
	return 0;
}

static void submit_chunk(struct verifier *v)
{
	struct chunk *c = v->cur;

	if (v->is_store) {
		c->nsums = 0;
		if (c->sums)
			(void)sl_store_summaries(v->txn, c->index * CHUNK,
			    sum_cb, c);
		c->njs = 0;
		c->joff[0] = 0;
		if (c->jbuf)
			(void)sl_store_judgements(v->txn, c->index * CHUNK,
			    judgement_cb, c);
		c->nrefs = 0;
		c->ref_used = 0;
		if (c->ref_buf)
			(void)sl_store_refs(v->txn, c->index * CHUNK, ref_cb,
			    c);
		c->ntree = 0;
		c->tree_over = UINT32_MAX;
		if (c->tn && sl_store_tree_rows(v->txn, c->index * CHUNK,
		    tree_cb, c) < 0)
			c->tree_over = 0;   /* unreadable: the first entry */
	}
	pthread_mutex_lock(&v->mu);
	v->cur->state = 1;
	v->next_fill++;
	pthread_cond_broadcast(&v->cv_work);
	/* The next slot must be free before main fills it. */
	if (v->next_fill >= SLOTS)
		consume_oldest(v);
	pthread_mutex_unlock(&v->mu);
	v->cur = NULL;
}

static int add_entry(struct verifier *v, uint64_t key, const uint8_t *p,
    size_t n, int noeol)
{
	struct chunk *c = v->cur;

	if (!c) {
		c = &v->slots[v->next_fill % SLOTS];
		c->index = v->next_fill;
		c->n = 0;
		c->len = 0;
		c->noeol = 0;
		c->lo = UINTPTR_MAX;
		c->hi = 0;
		v->cur = c;
	}
	/* Entries are read where they lie, in the file's map: a store's
	 * stay valid while the pass's read snapshot is open. */
	if ((uintptr_t)p < c->lo)
		c->lo = (uintptr_t)p;
	if ((uintptr_t)p + n > c->hi)
		c->hi = (uintptr_t)p + n;
	c->ptr[c->n] = p;
	c->lens[c->n] = (uint32_t)n;
	c->key[c->n] = key;
	c->n++;
	c->len += n;
	c->noeol = (uint8_t)noeol;
	if (c->n == CHUNK)
		submit_chunk(v);
	return v->failed ? 1 : 0;
}

/* ---- sources ---------------------------------------------------------- */

typedef int (*entry_fn)(void *ctx, uint64_t key, const uint8_t *p, size_t n,
    int noeol);

/* Every line of entries.jsonl, in order; key = line position. The file
 * is mapped, so entries are handed over without a copy. */
static int bundle_each(struct verifier *v, entry_fn fn, void *ctx)
{
	char path[4200];
	struct stat st;
	const uint8_t *map;
	const uint8_t *p;
	const uint8_t *end;
	uint64_t pos = 0;
	int fd;
	int rc = 0;

	if (v->map) {
		/* a second pass (the diagnosis): the first has drained */
		munmap((void *)v->map, v->maplen);
		v->map = NULL;
	}
	snprintf(path, sizeof(path), "%s/entries.jsonl", v->path);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return sl_err_set(v->e, SL_EIO, "cannot open %s: %s", path,
		    strerror(errno));
	if (fstat(fd, &st)) {
		close(fd);
		return sl_err_set(v->e, SL_EIO, "cannot read %s", path);
	}
	if (st.st_size == 0) {
		close(fd);
		return 0;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return sl_err_set(v->e, SL_EIO, "cannot map %s: %s", path,
		    strerror(errno));
	madvise((void *)map, (size_t)st.st_size, MADV_SEQUENTIAL);
	/* Chunks point into the map until joined; it is unmapped at the
	 * end, or by the next pass. */
	v->map = map;
	v->maplen = (size_t)st.st_size;
	p = map;
	end = map + st.st_size;
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		rc = fn(ctx, pos++, p, n, !nl);
		if (rc)
			break;
		p += n + 1;
	}
	return rc;
}

struct store_iter {
	entry_fn fn;
	void *ctx;
};

static int store_cb(void *ctx, uint64_t seq, const uint8_t *p, size_t n)
{
	struct store_iter *it = ctx;

	return it->fn(it->ctx, seq, p, n, 0);
}

static int store_each(struct verifier *v, entry_fn fn, void *ctx)
{
	struct store_iter it = { fn, ctx };

	return sl_store_scan(v->txn, 0, store_cb, &it, 0);
}

static int source_each(struct verifier *v, entry_fn fn, void *ctx)
{
	return v->is_store ? store_each(v, fn, ctx) : bundle_each(v, fn, ctx);
}

static int fill_cb(void *ctx, uint64_t key, const uint8_t *p, size_t n,
    int noeol)
{
	return add_entry(ctx, key, p, n, noeol);
}

/* ---- diagnosis of the first bad entry (slow path) --------------------- */

struct wentry {
	int present;
	int scan_ok;
	char scan_msg[SL_ERR_MAX];
	uint64_t key;
	uint64_t seq;
	int type;
	uint8_t prev[SL_HASH_LEN];
	uint8_t leaf[SL_HASH_LEN];
	int64_t ms;
	int noeol;
};

struct window {
	uint64_t center;
	struct wentry w[5];   /* positions center-2 .. center+2 */
	struct sl_hash *h;
};

static int window_cb(void *ctx, uint64_t key, const uint8_t *p, size_t n,
    int noeol)
{
	struct window *x = ctx;
	struct wentry *w;
	struct sl_entry_view ev;
	struct sl_err se = { 0, "" };
	int64_t idx;

	idx = (int64_t)key - (int64_t)x->center + 2;
	if (idx < 0)
		return 0;
	if (idx > 4)
		return 1;
	w = &x->w[idx];
	w->present = 1;
	w->key = key;
	w->noeol = noeol;
	w->scan_ok = !sl_entry_scan(&ev, p, n > SL_ENTRY_MAX ?
	    SL_ENTRY_MAX + 1 : n, &se);
	snprintf(w->scan_msg, sizeof(w->scan_msg), "%s", se.msg);
	if (w->scan_ok) {
		w->seq = ev.seq;
		w->type = ev.type;
		memcpy(w->prev, ev.prev, SL_HASH_LEN);
		w->ms = ev.recorded_ms;
	}
	sl_hash_leaf(w->leaf, x->h, p, n);
	return 0;
}

/* The bundle's "key" is the position; the store's is its stored seq, so
 * for the store the window is built by counting positions. */
struct posctx {
	struct window *x;
	uint64_t pos;
};

static int pos_cb(void *ctx, uint64_t key, const uint8_t *p, size_t n,
    int noeol)
{
	struct posctx *pc = ctx;
	int rc;
	int64_t idx = (int64_t)pc->pos - (int64_t)pc->x->center + 2;

	if (idx > 4)
		return 1;
	rc = window_cb(pc->x, pc->pos, p, n, noeol);
	if (idx >= 0)
		pc->x->w[idx].key = key;
	pc->pos++;
	return rc;
}

static void where(char *out, size_t cap, struct verifier *v, uint64_t pos)
{
	if (v->is_store)
		snprintf(out, cap, "entry %llu", (unsigned long long)pos);
	else
		snprintf(out, cap, "entry %llu (line %llu of entries.jsonl)",
		    (unsigned long long)pos, (unsigned long long)pos + 1);
}

static void problem(struct verifier *v, uint64_t from, uint64_t to,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void problem(struct verifier *v, uint64_t from, uint64_t to,
    const char *fmt, ...)
{
	va_list ap;

	if (v->r->problem[0])
		return;  /* the first problem is the one reported */
	v->r->bad_from = from;
	v->r->bad_to = to;
	va_start(ap, fmt);
	vsnprintf(v->r->problem, sizeof(v->r->problem), fmt, ap);
	va_end(ap);
}

static void diagnose(struct verifier *v, uint64_t p)
{
	struct window x;
	struct posctx pc = { &x, 0 };
	struct wentry *w;
	struct wentry *prev1;
	struct wentry *prev2;
	struct wentry *next1;
	char at[96];
	char at1[96];

	memset(&x, 0, sizeof(x));
	x.center = p;
	x.h = v->hash;
	source_each(v, pos_cb, &pc);
	w = &x.w[2];
	prev1 = &x.w[1];
	prev2 = &x.w[0];
	next1 = &x.w[3];
	where(at, sizeof(at), v, p);
	where(at1, sizeof(at1), v, p ? p - 1 : 0);
	if (!w->present) {
		problem(v, p, p, "%s could not be read again", at);
		return;
	}
	if (!w->scan_ok) {
		problem(v, p, p, "%s is damaged or was re-encoded: %s", at,
		    w->scan_msg);
		return;
	}
	if (w->noeol) {
		problem(v, p, p, "%s does not end in a newline: the file was "
		    "cut short", at);
		return;
	}
	if (w->seq != p) {
		if (w->seq == p + 1 && next1->present && next1->scan_ok &&
		    next1->seq == p) {
			problem(v, p, p + 1, "entries %llu and %llu are in "
			    "each other's place (swapped): %s carries seq "
			    "%llu", (unsigned long long)p,
			    (unsigned long long)p + 1, at,
			    (unsigned long long)w->seq);
		} else if (w->seq > p) {
			problem(v, p, w->seq - 1, "entry %llu is missing: %s "
			    "carries seq %llu, so %llu entr%s deleted before "
			    "it", (unsigned long long)p, at,
			    (unsigned long long)w->seq,
			    (unsigned long long)(w->seq - p),
			    w->seq - p == 1 ? "y was" : "ies were");
		} else if (prev1->present && prev2->present &&
		    !memcmp(w->prev, prev2->leaf, SL_HASH_LEN)) {
			problem(v, p - 1, p - 1, "%s was inserted: it is not "
			    "part of the chain (the entry after it, seq %llu, "
			    "links to the entry before it)", at1,
			    (unsigned long long)w->seq);
		} else {
			problem(v, p, p, "%s carries seq %llu, which came "
			    "before: an entry was inserted or moved here", at,
			    (unsigned long long)w->seq);
		}
		return;
	}
	if (v->is_store && w->key != p) {
		problem(v, p, p, "%s is stored under seq %llu: the store's keys "
		    "were changed", at, (unsigned long long)w->key);
		return;
	}
	if ((p == 0) != (w->type == SL_ET_GENESIS)) {
		problem(v, p, p, p == 0 ? "%s is not the genesis entry" :
		    "%s claims to be a second genesis entry", at);
		return;
	}
	if (p > 0 && prev1->present && memcmp(w->prev, prev1->leaf,
	    SL_HASH_LEN)) {
		if (next1->present && !memcmp(next1->prev, w->leaf,
		    SL_HASH_LEN))
			problem(v, p - 1, p - 1, "%s was altered after it was "
			    "recorded: its hash no longer matches the hash "
			    "that entry %llu recorded for it", at1,
			    (unsigned long long)p);
		else if (next1->present)
			problem(v, p, p, "%s was altered after it was recorded: "
			    "its link to entry %llu is wrong and entry %llu "
			    "does not link to it", at,
			    (unsigned long long)p - 1,
			    (unsigned long long)p + 1);
		else
			problem(v, p - 1, p, "%s (or the link stored in entry "
			    "%llu, the last one) was altered after it was "
			    "recorded", at1, (unsigned long long)p);
		return;
	}
	if (p > 0 && prev1->present && w->ms < prev1->ms) {
		char t1[32];
		char t0[32];

		sl_rfc3339_format(t1, w->ms);
		sl_rfc3339_format(t0, prev1->ms);
		problem(v, p, p, "%s is recorded at %s, before entry %llu (%s): "
		    "time in the log went backwards", at, t1,
		    (unsigned long long)p - 1, t0);
		return;
	}
	problem(v, p, p, "%s does not fit the chain", at);
}

/* ---- checkpoints ------------------------------------------------------ */

static int add_cp(struct verifier *v, const char *note, size_t n,
    const char *from, int held, int newest)
{
	struct sl_note_verdict nv;
	struct sl_checkpoint c;
	struct cpinfo *ci;
	struct sl_err se = { 0, "" };
	char *copy;

	if (v->ncps >= MAX_CPS)
		return sl_err_set(v->e, SL_ETOOBIG, "more than %d checkpoints",
		    MAX_CPS);
	/* Parse only the text here; signatures once the keys are known. */
	int rc = sl_note_open(&nv, note, n, NULL, 0, &se);

	if ((rc && rc != SL_EINTEGRITY) ||
	    sl_checkpoint_parse(&c, note, nv.text_len, &se)) {
		problem(v, 0, 0, "checkpoint %s is malformed: %s", from, se.msg);
		return 0;
	}
	copy = malloc(n);
	if (!copy)
		return sl_err_set(v->e, SL_ENOMEM, "out of memory");
	memcpy(copy, note, n);
	ci = &v->cps[v->ncps++];
	memset(ci, 0, sizeof(*ci));
	ci->note = copy;
	ci->notelen = n;
	ci->newest = newest;
	ci->cp.size = c.size;
	memcpy(ci->cp.root, c.root, SL_HASH_LEN);
	ci->cp.held = held;
	snprintf(ci->cp.from, sizeof(ci->cp.from), "%s", from);
	snprintf(ci->origin, sizeof(ci->origin), "%s", c.origin);
	return 0;
}

struct storecp {
	struct verifier *v;
	uint64_t newest;
};

static int store_cp_cb(void *ctx, uint64_t size, const char *note, size_t n)
{
	struct storecp *sc = ctx;
	char from[64];

	snprintf(from, sizeof(from), "stored at size %llu",
	    (unsigned long long)size);
	return add_cp(sc->v, note, n, from, 0, size == sc->newest);
}

static int cmp_cp(const void *a, const void *b)
{
	const struct cpinfo *x = a;
	const struct cpinfo *y = b;

	return x->cp.size < y->cp.size ? -1 : x->cp.size > y->cp.size;
}

static int load_cps(struct verifier *v)
{
	size_t i;
	int rc = 0;

	v->cps = calloc(MAX_CPS, sizeof(*v->cps));
	if (!v->cps)
		return sl_err_set(v->e, SL_ENOMEM, "out of memory");
	if (v->is_store) {
		struct storecp sc = { v, 0 };
		const char *note;
		size_t n;

		if (!sl_store_latest_checkpoint(&note, &n, &sc.newest, v->txn))
			rc = sl_store_checkpoints(v->txn, store_cp_cb, &sc);
	} else {
		char path[4200];
		char *note;
		size_t n;
		DIR *d;
		struct dirent *de;

		snprintf(path, sizeof(path), "%s/checkpoint", v->path);
		rc = sl_bundle_slurp(&note, &n, path, SL_NOTE_MAX, v->e);
		if (rc == SL_ENOTFOUND) {
			problem(v, 0, 0, "the bundle has no checkpoint file: "
			    "nothing signed covers its entries");
			rc = 0;
		} else if (!rc) {
			rc = add_cp(v, note, n, "checkpoint", 0, 1);
			free(note);
		}
		snprintf(path, sizeof(path), "%s/checkpoints", v->path);
		d = opendir(path);
		while (!rc && d && (de = readdir(d)) != NULL) {
			char from[300];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/checkpoints/%.200s",
			    v->path, de->d_name);
			snprintf(from, sizeof(from), "checkpoints/%.200s",
			    de->d_name);
			rc = sl_bundle_slurp(&note, &n, path, SL_NOTE_MAX, v->e);
			if (!rc) {
				rc = add_cp(v, note, n, from, 0, 0);
				free(note);
			}
		}
		if (d)
			closedir(d);
	}
	for (i = 0; !rc && i < v->o->nheld; i++) {
		char *note;
		size_t n;

		rc = sl_bundle_slurp(&note, &n, v->o->held[i], SL_NOTE_MAX,
		    v->e);
		if (rc)
			break;
		rc = add_cp(v, note, n, v->o->held[i], 1, 0);
		free(note);
	}
	if (!rc)
		qsort(v->cps, v->ncps, sizeof(*v->cps), cmp_cp);
	return rc;
}

/* ---- after the stream: signatures, roots, sizes ----------------------- */

static void fmt_key(char *out, size_t cap, const struct sl_verifier *k)
{
	snprintf(out, cap, "%s+%08x", sl_note_verifier_name(k),
	    (unsigned)sl_note_verifier_id(k));
}

static int check_bundle_vkey(struct verifier *v)
{
	char path[4200];
	char *text = NULL;
	size_t n;
	char *line;
	char *save = NULL;
	int rc;

	snprintf(path, sizeof(path), "%s/log.vkey", v->path);
	rc = sl_bundle_slurp(&text, &n, path, 65536, v->e);
	if (rc == SL_ENOTFOUND) {
		problem(v, 0, 0, "the bundle has no log.vkey file");
		return 0;
	}
	if (rc)
		return rc;
	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save)) {
		struct sl_verifier *k;
		size_t i;
		int known = 0;

		if (sl_note_verifier_parse(&k, line, strlen(line), NULL)) {
			problem(v, 0, 0, "log.vkey holds a line that is not a "
			    "verifier key");
			break;
		}
		for (i = 0; i < v->nkeys + v->nrot; i++) {
			const struct sl_verifier *lk = i < v->nkeys ?
			    v->keys[i] : v->rot[i - v->nkeys];

			if (sl_note_verifier_id(lk) == sl_note_verifier_id(k) &&
			    !strcmp(sl_note_verifier_name(lk),
			    sl_note_verifier_name(k)))
				known = 1;
		}
		if (!known) {
			char kn[300];

			fmt_key(kn, sizeof(kn), k);
			problem(v, 0, 0, "log.vkey names key %s, which neither the "
			    "log's genesis entry nor a key rotation in it "
			    "lists: the key file was replaced", kn);
		}
		sl_note_verifier_free(k);
	}
	free(text);
	return 0;
}

static int check_cps(struct verifier *v, uint64_t n)
{
	struct sl_verifier *trusted[2 * MAX_KEYS];
	struct sl_verifier *mine[MAX_KEYS];
	int rot_trusted[MAX_KEYS] = { 0 };
	size_t nt = 0;
	size_t nmine = 0;
	size_t i;
	struct cpinfo *newest = NULL;
	int rc = 0;

	for (i = 0; i < v->o->nkeys && nmine < MAX_KEYS; i++) {
		rc = sl_note_verifier_parse(&mine[nmine], v->o->keys[i],
		    strlen(v->o->keys[i]), v->e);
		if (rc) {
			sl_err_prefix(v->e, "--key %s", v->o->keys[i]);
			goto out;
		}
		nmine++;
	}
	if (nmine) {
		memcpy(trusted, mine, nmine * sizeof(*trusted));
		nt = nmine;
	} else {
		memcpy(trusted, v->keys, v->nkeys * sizeof(*trusted));
		nt = v->nkeys;
		v->r->trust_from_log = 1;
	}
	for (i = 0; i < v->ncps; i++) {
		struct cpinfo *ci = &v->cps[i];
		struct sl_note_verdict nv;
		struct sl_err se = { 0, "" };

		size_t r;

		v->r->checkpoints++;
		if (ci->newest)
			newest = ci;
		/* A key a key_rotation entry introduces is trusted once a
		 * checkpoint verified by a trusted key covers that entry (the
		 * rotation's bridge checkpoint is signed by both keys); a
		 * rotation entry a forger appended is never covered so. */
		if (sl_note_open(&nv, ci->note, ci->notelen, trusted, nt,
		    &se) == 0) {
			for (r = 0; r < v->nrot; r++)
				if (!rot_trusted[r] && v->rot_seq[r] <
				    ci->cp.size && nt < 2 * MAX_KEYS) {
					rot_trusted[r] = 1;
					trusted[nt++] = v->rot[r];
				}
		}
		if (sl_note_open(&nv, ci->note, ci->notelen, trusted, nt,
		    &se)) {
			problem(v, ci->cp.size ? ci->cp.size - 1 : 0,
			    ci->cp.size ? ci->cp.size - 1 : 0,
			    "checkpoint %s (size %llu) is not signed by %s: %s",
			    ci->cp.from, (unsigned long long)ci->cp.size,
			    nmine ? "a key you trust" : "the log's key (named "
			    "in its genesis entry)", se.msg);
			continue;
		}
		fmt_key(ci->cp.key, sizeof(ci->cp.key),
		    trusted[nv.first_key]);
		if (strcmp(ci->origin, v->r->origin))
			problem(v, 0, 0, "checkpoint %s is for log \"%s\", not "
			    "this log (\"%s\")", ci->cp.from, ci->origin,
			    v->r->origin);
	}
	/* Sizes and roots, smallest first: the first mismatch names the
	 * earliest range that can hold the changed entry. */
	for (i = 0; i < v->ncps; i++) {
		struct cpinfo *ci = &v->cps[i];

		if (ci->cp.size > n) {
			problem(v, n, ci->cp.size - 1, "the log holds %llu "
			    "entries, but checkpoint %s, signed at size %llu, "
			    "shows it once held more: entries %llu to %llu were "
			    "removed from its end", (unsigned long long)n,
			    ci->cp.from, (unsigned long long)ci->cp.size,
			    (unsigned long long)n,
			    (unsigned long long)ci->cp.size - 1);
		} else if (!ci->cp.matched) {
			uint64_t from = 0;
			size_t j;

			for (j = 0; j < i; j++)
				if (v->cps[j].cp.matched &&
				    v->cps[j].cp.size > from)
					from = v->cps[j].cp.size;
			problem(v, from, ci->cp.size - 1, "the first %llu "
			    "entries are not what checkpoint %s signed: one "
			    "or more of entries %llu to %llu were changed and "
			    "the hash chain recomputed to hide it",
			    (unsigned long long)ci->cp.size, ci->cp.from,
			    (unsigned long long)from,
			    (unsigned long long)ci->cp.size - 1);
		}
	}
	if (!newest) {
		problem(v, 0, n ? n - 1 : 0, "the log has no signed checkpoint: "
		    "nothing proves its size or content");
	} else {
		v->r->newest = newest->cp;
		snprintf(v->r->trusted_key, sizeof(v->r->trusted_key), "%s",
		    newest->cp.key);
		if (newest->cp.size < n) {
			if (v->is_store)
				v->r->unsealed = n - newest->cp.size;
			else
				problem(v, newest->cp.size, n - 1, "entries "
				    "%llu to %llu are not covered by the "
				    "bundle's signed checkpoint (size %llu)",
				    (unsigned long long)newest->cp.size,
				    (unsigned long long)n - 1,
				    (unsigned long long)newest->cp.size);
		}
	}
	for (i = 0; i < v->ncps && v->r->nheld < 16; i++)
		if (v->cps[i].cp.held)
			v->r->held[v->r->nheld++] = v->cps[i].cp;
out:
	for (i = 0; i < nmine; i++)
		sl_note_verifier_free(mine[i]);
	return rc;
}

/*
 * What the workers found of data the store derives from its entries and
 * keeps beside them (@kept 0: an older store without it): the first
 * entry whose kept form is wrong, @bad, is a problem described by @what;
 * otherwise *checked counts every entry.
 */
static void check_derived(struct verifier *v, int kept, uint64_t bad,
    const char *what, uint64_t *checked)
{
	if (!kept)
		return;
	if (bad != UINT64_MAX) {
		problem(v, bad, bad, "entry %llu: %s; the entries themselves "
		    "verify", (unsigned long long)bad, what);
		return;
	}
	*checked = v->r->entries;
}


/* ---- the lookup tables, against the entries --------------------------- */

struct lkwalk {
	struct verifier *v;
	struct lkacc acc;
	int table;
	uint64_t limit;           /* the log's entries */
	uint64_t beyond;          /* first row for a seq the log lacks */
	/* diagnosis of one chunk: its entries' rows, one by one */
	uint64_t base, end;
	uint8_t (*want)[SL_HASH_LEN];
	uint8_t *has;             /* 1 wanted, 2 wanted and found */
	uint64_t extra;           /* first row no entry calls for */
};

static int lk_sum_cb(void *ctx, const uint8_t *k, size_t kn, uint64_t seq)
{
	struct lkwalk *w = ctx;

	if (__atomic_load_n(&w->v->walk_stop, __ATOMIC_RELAXED))
		return 1;
	if (seq >= w->limit) {
		if (seq < w->beyond)
			w->beyond = seq;
		return 0;
	}
	lk_add(&w->acc, w->v->got[seq >> CHUNK_LOG][w->table], w->table, k,
	    kn, seq);
	return 0;
}

static int lk_row_cb(void *ctx, const uint8_t *k, size_t kn, uint64_t seq)
{
	struct lkwalk *w = ctx;
	uint8_t d[SL_HASH_LEN];
	size_t i;

	if (seq < w->base || seq >= w->end)
		return 0;
	i = (size_t)(seq - w->base);
	lk_digest(d, &w->v->lk, w->table, k, kn, seq);
	if (w->has[i] == 1 && !memcmp(d, w->want[i], SL_HASH_LEN))
		w->has[i] = 2;
	else if (seq < w->extra)
		w->extra = seq;   /* not called for, or a second time */
	return 0;
}

/*
 * The first entry of chunk @b whose rows in @table differ from what its
 * record calls for (*missing 1: a row is not there; 0: a row is there that
 * it does not call for); UINT64_MAX when none is found.
 */
static uint64_t lk_diagnose(struct verifier *v, int table, uint64_t b,
    int *missing)
{
	struct lkwalk w;
	struct sl_record_view *rv = malloc(sizeof(*rv));
	uint8_t kbuf[LK_BUF];
	struct sl_buf msg;
	uint64_t seq, bad = UINT64_MAX;

	memset(&w, 0, sizeof(w));
	sl_buf_init(&msg, ID_MSG_MAX);
	w.v = v;
	w.table = table;
	w.base = b * CHUNK;
	w.end = w.base + CHUNK < v->consumed ? w.base + CHUNK : v->consumed;
	w.want = malloc(CHUNK * SL_HASH_LEN);
	w.has = calloc(CHUNK, 1);
	w.extra = UINT64_MAX;
	if (!rv || !w.want || !w.has)
		goto out;
	for (seq = w.base; seq < w.end; seq++) {
		struct lkrow rows[LK_TABLES];
		struct sl_entry_view ev;
		const uint8_t *p;
		size_t n;
		int k, nr;

		if (sl_store_get(&p, &n, v->txn, seq) ||
		    sl_entry_scan(&ev, p, n, NULL))
			continue;     /* verified already: not so */
		if (sl_record_view_scan(rv, ev.record, ev.record_len, NULL))
			memset(rv, 0, sizeof(*rv));
		nr = lk_rows(rows, kbuf, &v->lk, &ev, rv, seq);
		if (table >= SL_STORE_LK_RECORD_IDS) {
			uint8_t h[2][SL_HASH_LEN];

			if (id_msg(&msg, &ev))
				continue;
			sl_sha2x_pair(h[0], h[1], msg.data[0], msg.data + 1,
			    msg.len - 1, 0, msg.data, 0);
			id_fill(rows, nr, h[0]);
		}
		for (k = 0; k < nr; k++)
			if (rows[k].table == table) {
				lk_digest(w.want[seq - w.base], &v->lk, table,
				    rows[k].key, rows[k].len, seq);
				w.has[seq - w.base] = 1;
			}
	}
	if (sl_store_lookup_rows(v->txn, (enum sl_store_lookup)table,
	    lk_row_cb, &w))
		goto out;
	for (seq = w.base; seq < w.end && bad == UINT64_MAX; seq++)
		if (w.has[seq - w.base] == 1)
			bad = seq;
	*missing = bad != UINT64_MAX && bad < w.extra;
	if (w.extra < bad)
		bad = w.extra;
out:
	free(rv);
	free(w.want);
	free(w.has);
	sl_buf_free(&msg);
	return bad;
}

/*
 * Every lookup table's rows in snapshot @t into the sums v->got, per run
 * of seqs, and per table the first row for a seq past the log's end into
 * @beyond. It touches nothing the pass does, so it can run beside it.
 */
static int walk_tables(struct verifier *v, struct sl_store_txn *t,
    uint64_t beyond[LK_TABLES])
{
	int tb;

	for (tb = 0; tb < LK_TABLES; tb++) {
		struct lkwalk w;
		int rc;

		beyond[tb] = UINT64_MAX;
		if ((tb == SL_STORE_LK_SUBJECTS || tb == SL_STORE_LK_CASES) &&
		    !v->lk.reach)
			continue;
		memset(&w, 0, sizeof(w));
		w.v = v;
		w.acc.lk = &v->lk;
		w.table = tb;
		w.limit = sl_store_txn_size(t);
		w.beyond = UINT64_MAX;
		rc = sl_store_lookup_rows(t, (enum sl_store_lookup)tb,
		    lk_sum_cb, &w);
		lk_flush(&w.acc);
		if (rc)
			return rc;
		beyond[tb] = w.beyond;
	}
	return 0;
}

static void *walker(void *arg)
{
	struct verifier *v = arg;

	v->walk_rc = walk_tables(v, v->twin, v->walk_beyond);
	return NULL;
}

/*
 * The ids and threads tables and the child and case index hold exactly
 * the rows the entries call for (the index below its reach, which must
 * end on this log's entry); otherwise the first entry concerned is the
 * problem.
 * Store errors are returned.
 */
static int check_lookups(struct verifier *v)
{
	static const char *const what[LK_TABLES] = {
		"the store's threads table, by which trails and findings "
		"gather a decision with its follow-ups,",
		"the child index in the store's folder index, by which trails "
		"find a child's entries,",
		"the case index in the store's folder index, by which trails "
		"find a case's entries,",
		"the store's ids table, by which a retried record finds the "
		"entry it was stored as (its record_id row),",
		"the store's ids table, by which a second decision record "
		"for a decision_id is refused (its decision_id row),",
	};
	/* what a wrong row would do: a row missing, one not called for,
	 * several rows wrong */
	static const char *const harm[LK_TABLES][3] = {
		{ "a trail would leave it out", "a trail would take it in "
		    "wrongly", "a trail could leave entries out or take others "
		    "in" },
		{ "a trail would leave it out", "a trail would take it in "
		    "wrongly", "a trail could leave entries out or take others "
		    "in" },
		{ "a trail would leave it out", "a trail would take it in "
		    "wrongly", "a trail could leave entries out or take others "
		    "in" },
		{ "a retry of it would be stored a second time", "a retry "
		    "would be answered with the wrong entry, or refused",
		    "retries could be stored twice or answered wrongly" },
		{ "a second decision record for its decision_id would be "
		    "taken", "a decision record would be refused wrongly",
		    "decision records could be taken twice or refused "
		    "wrongly" },
	};
	uint64_t first = UINT64_MAX;
	uint64_t serial_beyond[LK_TABLES];
	const uint64_t *beyond = v->walk_beyond;
	int ft = 0, fkind = 0;
	int t, rc;

	if (v->lk.reach && (!v->ix_leaf_got ||
	    memcmp(v->ix_leaf, v->ix_leaf_seen, SL_HASH_LEN))) {
		problem(v, v->lk.reach - 1, v->lk.reach - 1, "entry %llu: the "
		    "child and case index in the store's folder index says it "
		    "covers the entries up to this one, but the leaf hash it "
		    "keeps for it is not this log's (trails would read another "
		    "log's index); the entries themselves verify",
		    (unsigned long long)(v->lk.reach - 1));
		return 0;
	}
	rc = v->walking ? v->walk_rc : walk_tables(v, v->txn,
	    serial_beyond);
	if (!v->walking)
		beyond = serial_beyond;
	if (rc)
		return sl_err_set(v->e, rc, "cannot read the store's lookup "
		    "tables");
	for (t = 0; t < LK_TABLES; t++) {
		uint64_t b, bad;
		int missing = 0;

		if ((t == SL_STORE_LK_SUBJECTS || t == SL_STORE_LK_CASES) &&
		    !v->lk.reach)
			continue;
		for (b = 0; b < v->nbuckets; b++)
			if (memcmp(v->exp[b][t], v->got[b][t],
			    sizeof(v->exp[b][t])))
				break;
		bad = b < v->nbuckets ? lk_diagnose(v, t, b, &missing) :
		    UINT64_MAX;
		if (b < v->nbuckets && bad == UINT64_MAX) {
			bad = b * CHUNK;     /* not found again: the run */
			missing = 3;
		}
		if (beyond[t] < bad) {
			bad = beyond[t];
			missing = 2;
		}
		if (bad < first) {
			first = bad;
			ft = t;
			fkind = missing;
		}
	}
	if (first == UINT64_MAX) {
		v->r->lookups = v->r->entries;
		return 0;
	}
	if (fkind == 3) {
		uint64_t last = first + CHUNK < v->r->entries ?
		    first + CHUNK - 1 : v->r->entries - 1;

		problem(v, first, last, "entries %llu..%llu: %s does not hold "
		    "exactly the rows their records call for (%s); the entries "
		    "themselves verify", (unsigned long long)first,
		    (unsigned long long)last, what[ft], harm[ft][2]);
		return 0;
	}
	if (fkind == 1)
		problem(v, first, first, "entry %llu: %s has no row for it "
		    "(%s); the entries themselves verify",
		    (unsigned long long)first, what[ft], harm[ft][0]);
	else
		problem(v, first, first, "entry %llu: %s %s (%s); the entries "
		    "themselves verify", (unsigned long long)first, what[ft],
		    fkind == 2 ? "has a row for it, but the log has no such "
		    "entry" : "has a row for it that its record does not call "
		    "for", harm[ft][1]);
	return 0;
}

/* A tree row for a leaf past the log's last entry (the chunks read
 * only their own leaves' rows). */
static int past_cb(void *ctx, uint64_t last, unsigned level, const uint8_t *p,
    size_t n)
{
	(void)level;
	(void)p;
	(void)n;
	*(uint64_t *)ctx = last;
	return 1;
}

static int check_tree_end(struct verifier *v)
{
	uint64_t past = UINT64_MAX;
	int rc = sl_store_tree_rows(v->txn, v->r->entries, past_cb, &past);

	if (rc < 0)
		return sl_err_set(v->e, rc, "cannot read the store's tree "
		    "table");
	if (past < v->tree_bad)
		v->tree_bad = past;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sl_verify_log(struct sl_verify_result *r, const char *path,
    const struct sl_verify_opts *o, struct sl_err *e)
{
	struct verifier *v;
	char probe[4200];
	struct stat st;
	double t0 = now_s();
	long ncpu;
	int rc = 0;
	int i;
	int started = 0;

	memset(r, 0, sizeof(*r));
	v = calloc(1, sizeof(*v));
	if (!v)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	v->o = o;
	v->r = r;
	v->e = e;
	v->path = path;
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv_work, NULL);
	pthread_cond_init(&v->cv_done, NULL);
	sl_merkle_range_init(&v->range);
	rc = sl_hash_new(&v->hash);
	if (rc) {
		sl_err_set(e, rc, "cannot set up SHA-256");
		goto out;
	}
	snprintf(probe, sizeof(probe), "%s/data.mdb", path);
	if (!stat(probe, &st)) {
		v->is_store = 1;
		r->source = SL_SRC_STORE;
		rc = sl_store_open(&v->store, path, SL_STORE_RDONLY, e);
		if (!rc)
			rc = sl_store_read_begin(&v->txn, v->store, e);
		if (rc)
			goto out;
	} else {
		snprintf(probe, sizeof(probe), "%s/entries.jsonl", path);
		if (stat(probe, &st)) {
			rc = sl_err_set(e, SL_ENOTFOUND, "%s is neither a store "
			    "(no data.mdb) nor a bundle (no entries.jsonl)",
			    path);
			goto out;
		}
		r->source = SL_SRC_BUNDLE;
	}
	rc = load_cps(v);
	if (rc)
		goto out;
	/* The derived tables (store/derived) lag the log only for a moment
	 * after a commit, or until a writable open after a restart of the
	 * machine rebuilds them: they are checked when they cover it. */
	if (v->is_store) {
		r->derived = sl_store_txn_derived(v->txn);
		v->dv_ok = r->derived == sl_store_txn_size(v->txn);
	}
	if (v->is_store && v->dv_ok && !o->skip_lookups && !o->chain_only) {
		v->lk.on = 1;
		v->lk.f_did = sl_record_field_index("decision_id", 11);
		v->lk.f_rid = sl_record_field_index("record_id", 9);
		v->nbuckets = (sl_store_txn_size(v->txn) + CHUNK - 1) / CHUNK;
		v->exp = calloc(v->nbuckets ? v->nbuckets : 1,
		    sizeof(*v->exp));
		v->got = calloc(v->nbuckets ? v->nbuckets : 1,
		    sizeof(*v->got));
		if (!v->exp || !v->got) {
			rc = sl_err_set(e, SL_ENOMEM, "out of memory");
			goto out;
		}
		if (getrandom(v->lk.key, LK_KEY, 0) != LK_KEY) {
			rc = sl_err_set(e, SL_EIO, "cannot draw a random key: "
			    "%s", strerror(errno));
			goto out;
		}
		rc = sl_store_index_reach(v->txn, &v->lk.reach, v->ix_leaf);
		if (rc) {
			rc = sl_err_set(e, rc, "cannot read the store's child "
			    "and case index");
			goto out;
		}
		r->index_reach = v->lk.reach;
	}
	/* the kept judgements: checked when they are the built-in policy's */
	if (v->is_store && v->dv_ok && !o->chain_only) {
		uint8_t id[SL_HASH_LEN], want[SL_HASH_LEN];
		uint64_t cnt;

		if (!sl_store_judged_by(v->txn, id, &cnt)) {
			rc = sl_policy_load(&v->kpol, NULL, e);
			if (!rc)
				rc = sl_comp_keeper_new(&v->keeper, v->kpol, e);
			if (!rc && (rc = sl_comp_keeper_id(want, v->kpol)) != 0)
				sl_err_set(e, rc, "cannot set up SHA-256");
			if (rc)
				goto out;
			if (memcmp(id, want, SL_HASH_LEN)) {
				sl_comp_keeper_free(v->keeper);
				v->keeper = NULL;
				r->judged_other = 1;
			}
		}
	}
	v->sum_bad = UINT64_MAX;
	v->j_bad = UINT64_MAX;
	v->ref_bad = UINT64_MAX;
	v->tree_bad = UINT64_MAX;
	for (i = 0; i < SLOTS; i++) {
		int sums = v->dv_ok && !o->chain_only &&
		    sl_store_has_summaries(v->store);
		int refs = v->dv_ok && !o->chain_only &&
		    sl_store_has_refs(v->store);

		v->slots[i].nodes = malloc(2 * CHUNK * SL_HASH_LEN);
		if (sums)
			v->slots[i].sums = malloc(CHUNK * SL_SUMMARY_LEN);
		if (v->keeper) {
			v->slots[i].jcap = CHUNK * 256;
			v->slots[i].jbuf = malloc(v->slots[i].jcap);
			if (!v->slots[i].jbuf) {
				rc = sl_err_set(e, SL_ENOMEM, "out of memory");
				goto out;
			}
		}
		if (refs)
			v->slots[i].ref_buf = malloc(CHUNK *
			    SL_STORE_REFS_MAX);
		if (v->lk.on)
			v->slots[i].tn = malloc(TREE_ROWS * SL_HASH_LEN);
		if (!v->slots[i].nodes || (sums && !v->slots[i].sums) ||
		    (refs && !v->slots[i].ref_buf) ||
		    (v->lk.on && !v->slots[i].tn)) {
			rc = sl_err_set(e, SL_ENOMEM, "out of memory");
			goto out;
		}
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	v->nthreads = o->threads > 0 ? o->threads : (ncpu > 0 ? (int)ncpu : 1);
	if (v->nthreads > SL_VERIFY_WORKERS_MAX)
		v->nthreads = SL_VERIFY_WORKERS_MAX;
	v->threads = calloc((size_t)v->nthreads, sizeof(*v->threads));
	if (!v->threads) {
		rc = sl_err_set(e, SL_ENOMEM, "out of memory");
		goto out;
	}
	/* every worker's scratch before any starts: a worker that could not
	 * get its own would leave the chunks to the others, or to none */
	for (i = 0; i < v->nthreads; i++) {
		v->threads[i].v = v;
		v->threads[i].index = i;
		v->threads[i].rv = malloc(sizeof(*v->threads[i].rv));
		v->threads[i].kbuf = v->keeper ? malloc(SL_COMP_KEPT_MAX) :
		    NULL;
		sl_buf_init(&v->threads[i].idp.msg[0], ID_MSG_MAX);
		sl_buf_init(&v->threads[i].idp.msg[1], ID_MSG_MAX);
		if (!v->threads[i].rv || (v->keeper && !v->threads[i].kbuf) ||
		    sl_hash_new(&v->threads[i].h)) {
			rc = sl_err_set(e, SL_ENOMEM, "out of memory");
			goto out;
		}
	}
	/* the tables' walk beside the pass, on the same snapshot; when a
	 * commit came between the two reads, it runs after the pass */
	if (v->lk.on) {
		struct sl_err te;

		if (!sl_store_read_twin(&v->twin, v->txn, &te) &&
		    !pthread_create(&v->walk_th, NULL, walker, v))
			v->walking = 1;
	}
	for (i = 0; i < v->nthreads; i++) {
		if (pthread_create(&v->threads[i].th, NULL, worker,
		    &v->threads[i])) {
			rc = sl_err_set(e, SL_EIO, "cannot start a thread");
			goto stop;
		}
		started++;
	}
	rc = source_each(v, fill_cb, v);
	if (rc == 1)
		rc = 0;  /* stopped early at a bad entry */
	if (!rc && v->cur)
		submit_chunk(v);
	/* Join whatever is still in flight, in order. */
	pthread_mutex_lock(&v->mu);
	{
		uint64_t k = v->next_fill > SLOTS ? v->next_fill - SLOTS : 0;

		for (; k < v->next_fill; k++) {
			struct chunk *c = &v->slots[k % SLOTS];

			if (c->state != 0)
				finish_chunk(v, c);
		}
	}
	pthread_mutex_unlock(&v->mu);
stop:
	pthread_mutex_lock(&v->mu);
	v->stop = 1;
	pthread_cond_broadcast(&v->cv_work);
	pthread_mutex_unlock(&v->mu);
	for (i = 0; i < started; i++)
		pthread_join(v->threads[i].th, NULL);
	if (v->walking) {
		if (v->failed || rc)
			__atomic_store_n(&v->walk_stop, 1, __ATOMIC_RELAXED);
		pthread_join(v->walk_th, NULL);
	}
	if (rc)
		goto out;

	if (v->failed) {
		diagnose(v, v->fail_at);
		r->entries = v->consumed;
	} else {
		r->entries = v->consumed;
		sl_merkle_range_root(r->root, &v->range, v->hash);
		if (r->entries == 0)
			problem(v, 0, 0, "the log has no entries, not even its "
			    "genesis entry");
		else if (!v->genesis_ok)
			problem(v, 0, 0, "%s", v->genesis_problem[0] ?
			    v->genesis_problem : "the genesis entry is "
			    "malformed");
		if (!v->is_store) {
			rc = check_bundle_vkey(v);
			if (rc)
				goto out;
		}
		rc = check_cps(v, r->entries);
		if (rc)
			goto out;
		/* the reports' summaries, then the trails' refs */
		if (v->is_store && !r->problem[0])
			check_derived(v, v->slots[0].sums != NULL, v->sum_bad,
			    "the summary the store keeps for the board reports "
			    "is missing or does not match the entry (the "
			    "reports would count it wrongly)", &r->summaries);
		if (v->is_store && !r->problem[0])
			check_derived(v, v->keeper != NULL, v->j_bad,
			    "the judgement the store keeps of it (what the "
			    "recording rules find in it, which report packs "
			    "count completeness from) is missing or does not "
			    "match the entry", &r->judgements);
		if (v->is_store && !r->problem[0])
			check_derived(v, v->slots[0].ref_buf != NULL,
			    v->ref_bad, "the store's refs row, by which trails "
			    "find a child's or a case's entries, is missing or "
			    "does not match the entry (a trail could leave it "
			    "out)", &r->refs);
		if (v->is_store && !r->problem[0] && v->lk.on) {
			rc = check_lookups(v);
			if (rc)
				goto out;
		}
		if (v->is_store && !r->problem[0] && v->lk.on) {
			rc = check_tree_end(v);
			if (rc)
				goto out;
			check_derived(v, 1, v->tree_bad, v->tree_bad >=
			    r->entries ? "the store's tree table, from which "
			    "the service serves proofs, has a node for it, but "
			    "the log has no such entry (the service would sign "
			    "checkpoints that do not match the log)" : "the "
			    "store's tree table, from which the service serves "
			    "proofs and takes the Merkle state it signs "
			    "checkpoints with, has a node for it missing, wrong "
			    "or one too many (proofs would fail; new "
			    "checkpoints would not match the log)", &r->nodes);
		}
	}
	r->verified = r->problem[0] == '\0';
out:
	r->seconds = now_s() - t0;
	for (i = 0; i < SLOTS; i++) {
		free(v->slots[i].nodes);
		free(v->slots[i].sums);
		free(v->slots[i].jbuf);
		free(v->slots[i].ref_buf);
		free(v->slots[i].tn);
	}
	if (v->map)
		munmap((void *)v->map, v->maplen);
	for (size_t k = 0; k < v->ncps; k++)
		free(v->cps[k].note);
	free(v->cps);
	for (size_t k = 0; k < v->nkeys; k++)
		sl_note_verifier_free(v->keys[k]);
	for (size_t k = 0; k < v->nrot; k++)
		sl_note_verifier_free(v->rot[k]);
	for (i = 0; v->threads && i < v->nthreads; i++) {
		sl_hash_free(v->threads[i].h);
		free(v->threads[i].rv);
		free(v->threads[i].kbuf);
		sl_buf_free(&v->threads[i].idp.msg[0]);
		sl_buf_free(&v->threads[i].idp.msg[1]);
	}
	free(v->threads);
	sl_comp_keeper_free(v->keeper);
	sl_policy_free(v->kpol);
	free(v->exp);
	free(v->got);
	sl_store_read_end(v->twin);
	sl_store_read_end(v->txn);
	sl_store_close(v->store);
	sl_hash_free(v->hash);
	pthread_mutex_destroy(&v->mu);
	pthread_cond_destroy(&v->cv_work);
	pthread_cond_destroy(&v->cv_done);
	free(v);
	if (rc)
		return rc;
	return r->verified ? 0 : SL_EINTEGRITY;
}
