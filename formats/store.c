#include "formats/store.h"
#include "formats/buf.h"
#include "formats/enc.h"
#include "formats/entry.h"
#include "formats/jcs.h"
#include "formats/record.h"
#include "formats/rfc3339.h"
#include "formats/schema.h"
#include "formats/summary.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Sparse on Linux, so a large start costs nothing and growth is rare. */
static size_t initial_map = (size_t)1 << 30;

void sl_store__set_initial_map(size_t bytes)
{
	initial_map = bytes;
}

struct sl_store {
	MDB_env *env;
	MDB_dbi entries;
	MDB_dbi tree;
	MDB_dbi ids;
	MDB_dbi threads;
	MDB_dbi subjects;
	MDB_dbi checkpoints;
	MDB_dbi meta;
	MDB_dbi summaries;
	MDB_dbi cases;
	int has_summaries;        /* a read-only open of an older store may
				     lack the summaries and cases tables */
	unsigned flags;
	char origin[256];
	/* the writer's view */
	uint64_t size;
	uint8_t last_leaf[SL_HASH_LEN];
	int64_t last_ms;
	struct sl_merkle_range range;
	struct sl_hash *hash;
	struct sl_buf rec;
	struct sl_buf ent;
	/* LMDB grows its map only when no transaction of this process is
	 * active: read snapshots hold this shared, growth holds it alone. */
	pthread_rwlock_t resize;
	/* data.mdb's mapping in this process, found on first use */
	uintptr_t map_lo;
	uintptr_t map_hi;
	char path[4096];
};

struct sl_store_txn {
	struct sl_store *s;
	MDB_txn *txn;
	uint64_t size;
};

static int lmdb_err(struct sl_err *e, int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return sl_err_set(e, SL_ESTORE, "%s: the store's map is full",
		    what);
	return sl_err_set(e, rc == ENOMEM ? SL_ENOMEM : SL_ESTORE, "%s: %s",
	    what, mdb_strerror(rc));
}

static void be64(uint8_t out[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- open ----------------------------------------------------------- */

static int open_dbis(struct sl_store *s, MDB_txn *txn, unsigned create,
    struct sl_err *e)
{
	static const struct {
		const char *name;
		size_t off;
		unsigned flags;
	} dbs[] = {
		{ "entries", offsetof(struct sl_store, entries), 0 },
		{ "tree", offsetof(struct sl_store, tree), 0 },
		{ "ids", offsetof(struct sl_store, ids), 0 },
		{ "threads", offsetof(struct sl_store, threads),
		    MDB_DUPSORT | MDB_DUPFIXED },
		{ "subjects", offsetof(struct sl_store, subjects),
		    MDB_DUPSORT | MDB_DUPFIXED },
		{ "checkpoints", offsetof(struct sl_store, checkpoints), 0 },
		{ "meta", offsetof(struct sl_store, meta), 0 },
		/* added later: a writable open creates and fills them */
		{ "summaries", offsetof(struct sl_store, summaries), 0 },
		{ "cases", offsetof(struct sl_store, cases),
		    MDB_DUPSORT | MDB_DUPFIXED },
	};
	size_t i;

	s->has_summaries = 1;
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		MDB_dbi *d = (MDB_dbi *)((char *)s + dbs[i].off);
		int rc = mdb_dbi_open(txn, dbs[i].name,
		    dbs[i].flags | (create ? MDB_CREATE : 0), d);

		if (rc == MDB_NOTFOUND && dbs[i].off >=
		    offsetof(struct sl_store, summaries)) {
			s->has_summaries = 0;
			continue;
		}
		if (rc == MDB_NOTFOUND)
			return sl_err_set(e, SL_EINVAL, "not a sharelog store "
			    "(no \"%s\" table)", dbs[i].name);
		if (rc)
			return lmdb_err(e, rc, "cannot open the store's tables");
	}
	return 0;
}

static int get_meta(struct sl_store *s, MDB_txn *txn, const char *key,
    char *out, size_t cap)
{
	MDB_val k = { strlen(key), (void *)key };
	MDB_val v;
	int rc = mdb_get(txn, s->meta, &k, &v);

	if (rc)
		return rc;
	if (v.mv_size >= cap)
		return MDB_BAD_VALSIZE;
	memcpy(out, v.mv_data, v.mv_size);
	out[v.mv_size] = '\0';
	return 0;
}

static int put_meta(struct sl_store *s, MDB_txn *txn, const char *key,
    const char *val)
{
	MDB_val k = { strlen(key), (void *)key };
	MDB_val v = { strlen(val), (void *)val };

	return mdb_put(txn, s->meta, &k, &v, 0);
}

static int node_key_get(MDB_txn *txn, MDB_dbi dbi, unsigned level,
    uint64_t index, uint8_t out[SL_HASH_LEN])
{
	uint8_t kb[9];
	MDB_val k = { 9, kb };
	MDB_val v;
	int rc;

	if (level > 63 || index > (UINT64_MAX >> level) - 1)
		return MDB_NOTFOUND;
	be64(kb, ((index + 1) << level) - 1);
	kb[8] = (uint8_t)level;
	rc = mdb_get(txn, dbi, &k, &v);
	if (rc)
		return rc;
	if (v.mv_size != SL_HASH_LEN)
		return MDB_CORRUPTED;
	memcpy(out, v.mv_data, SL_HASH_LEN);
	return 0;
}

/* Rebuild the writer's view (size, last leaf, compact range, last time). */
static int load_state(struct sl_store *s, MDB_txn *txn, struct sl_err *e)
{
	MDB_cursor *c = NULL;
	MDB_val k;
	MDB_val v;
	int rc;
	int bit;
	uint64_t off = 0;

	s->size = 0;
	s->last_ms = 0;
	memset(s->last_leaf, 0, SL_HASH_LEN);
	sl_merkle_range_init(&s->range);
	rc = mdb_cursor_open(txn, s->entries, &c);
	if (rc)
		return lmdb_err(e, rc, "cannot read the store");
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == MDB_NOTFOUND) {
		mdb_cursor_close(c);
		return 0;
	}
	if (rc || k.mv_size != 8) {
		mdb_cursor_close(c);
		return lmdb_err(e, rc ? rc : MDB_CORRUPTED,
		    "cannot read the store's last entry");
	}
	s->size = rd64(k.mv_data) + 1;
	{
		struct sl_entry_view ev;
		struct sl_err se;

		if (!sl_entry_scan(&ev, v.mv_data, v.mv_size, &se))
			s->last_ms = ev.recorded_ms;
	}
	mdb_cursor_close(c);
	rc = node_key_get(txn, s->tree, 0, s->size - 1, s->last_leaf);
	for (bit = 63; !rc && bit >= 0; bit--) {
		uint8_t h[SL_HASH_LEN];
		uint64_t w = UINT64_C(1) << bit;

		if (!(s->size & w))
			continue;
		rc = node_key_get(txn, s->tree, (unsigned)bit, off >> bit, h);
		if (!rc)
			rc = sl_merkle_range_push_node(&s->range, s->hash, h,
			    (unsigned)bit);
		off += w;
	}
	if (rc)
		return sl_err_set(e, SL_ESTORE, "the store's Merkle nodes are "
		    "missing or damaged (size %llu); run sharelog-verify",
		    (unsigned long long)s->size);
	return 0;
}

static int put_summary(struct sl_store *s, MDB_txn *txn, uint64_t seq,
    int type, int64_t recorded_ms, const uint8_t *rec, size_t reclen,
    unsigned flags);

/* Up to this many entries' summaries per transaction of a backfill. */
#define BACKFILL_STEP 65536

/*
 * A store made before summaries were kept gets them on its first
 * writable open: the entries that have none are summarised, a bounded
 * number per transaction, growing the map when it fills.
 */
static int backfill(struct sl_store *s, struct sl_err *e)
{
	for (;;) {
		MDB_txn *txn;
		MDB_cursor *c = NULL;
		MDB_stat st;
		MDB_val k;
		MDB_val v;
		uint8_t kb[8];
		uint64_t from;
		size_t done = 0;
		int mrc;

		mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
		if (mrc)
			return lmdb_err(e, mrc, "cannot summarise the store");
		mrc = mdb_stat(txn, s->summaries, &st);
		from = st.ms_entries;
		if (!mrc)
			mrc = mdb_cursor_open(txn, s->entries, &c);
		if (!mrc) {
			be64(kb, from);
			k.mv_size = 8;
			k.mv_data = kb;
			mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		}
		while (!mrc && done < BACKFILL_STEP) {
			struct sl_entry_view ev;

			if (k.mv_size != 8 || sl_entry_scan(&ev, v.mv_data,
			    v.mv_size, NULL)) {
				mrc = MDB_CORRUPTED;
				break;
			}
			mrc = put_summary(s, txn, rd64(k.mv_data), ev.type,
			    ev.recorded_ms, ev.record, ev.record_len,
			    MDB_APPEND);
			if (!mrc)
				mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			done++;
		}
		if (c)
			mdb_cursor_close(c);
		if (mrc == MDB_NOTFOUND)
			mrc = 0;
		if (!mrc && done) {
			mrc = mdb_txn_commit(txn);
			txn = NULL;
		}
		if (txn)
			mdb_txn_abort(txn);
		if (mrc == MDB_MAP_FULL) {
			MDB_envinfo info;

			mdb_env_info(s->env, &info);
			mrc = mdb_env_set_mapsize(s->env, info.me_mapsize * 2);
			if (mrc)
				return lmdb_err(e, mrc, "cannot grow the map");
			continue;
		}
		if (mrc == MDB_CORRUPTED)
			return sl_err_set(e, SL_ESTORE, "cannot summarise entry "
			    "%llu: it is damaged; run sharelog-verify",
			    (unsigned long long)(from + done));
		if (mrc)
			return lmdb_err(e, mrc, "cannot summarise the store");
		if (!done)
			return 0;
	}
}

int sl_store_open(struct sl_store **out, const char *dir, unsigned flags,
    struct sl_err *e)
{
	struct sl_store *s;
	char path[4096];
	char fmt[64];
	struct stat st;
	MDB_txn *txn = NULL;
	int rc;
	int mrc;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (flags & SL_STORE_CREATE) {
		if (mkdir(dir, 0700) && errno != EEXIST)
			return sl_err_set(e, SL_EIO, "cannot create %s: %s", dir,
			    strerror(errno));
		if (!stat(path, &st))
			return sl_err_set(e, SL_EEXIST, "%s already holds a "
			    "store", dir);
	} else if (stat(path, &st)) {
		return sl_err_set(e, SL_ENOTFOUND, "no store in %s (create "
		    "one with: sharelogd init)", dir);
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	s->flags = flags;
	pthread_rwlock_init(&s->resize, NULL);
	snprintf(s->path, sizeof(s->path), "%s", path);
	sl_buf_init(&s->rec, SL_ENTRY_MAX);
	sl_buf_init(&s->ent, SL_ENTRY_MAX);
	rc = sl_hash_new(&s->hash);
	if (rc) {
		sl_err_set(e, rc, "cannot set up SHA-256");
		goto fail;
	}
	mrc = mdb_env_create(&s->env);
	if (!mrc)
		mrc = mdb_env_set_maxdbs(s->env, 16);
	if (!mrc)
		mrc = mdb_env_set_mapsize(s->env, initial_map);
	if (!mrc)
		mrc = mdb_env_open(s->env, dir, MDB_NOTLS |
		    ((flags & SL_STORE_RDONLY) ? MDB_RDONLY : 0), 0600);
	if (mrc) {
		rc = lmdb_err(e, mrc, "cannot open the store");
		goto fail;
	}
	if (!(flags & SL_STORE_RDONLY)) {
		int dead;

		mdb_reader_check(s->env, &dead);
	}
	for (;;) {
		mrc = mdb_txn_begin(s->env, NULL,
		    (flags & SL_STORE_RDONLY) ? MDB_RDONLY : 0, &txn);
		if (mrc != MDB_MAP_RESIZED)
			break;
		mdb_env_set_mapsize(s->env, 0);
	}
	if (mrc) {
		rc = lmdb_err(e, mrc, "cannot open the store");
		goto fail;
	}
	rc = open_dbis(s, txn, !(flags & SL_STORE_RDONLY), e);
	if (rc)
		goto fail;
	if (flags & SL_STORE_CREATE) {
		mrc = put_meta(s, txn, "format", SL_STORE_FORMAT);
		if (mrc) {
			rc = lmdb_err(e, mrc, "cannot initialise the store");
			goto fail;
		}
	} else {
		mrc = get_meta(s, txn, "format", fmt, sizeof(fmt));
		if (mrc || strcmp(fmt, SL_STORE_FORMAT)) {
			rc = sl_err_set(e, SL_EINVAL, "%s is not a store of "
			    "format \"%s\"", dir, SL_STORE_FORMAT);
			goto fail;
		}
		get_meta(s, txn, "origin", s->origin, sizeof(s->origin));
	}
	/* Only a writer needs the tip and the compact range; a reader (the
	 * verifier above all) must open even a damaged store. */
	if (!(flags & SL_STORE_RDONLY)) {
		rc = load_state(s, txn, e);
		if (rc)
			goto fail;
	}
	/* Commit (even read-only) so the table handles stay open. */
	mrc = mdb_txn_commit(txn);
	txn = NULL;
	if (mrc) {
		rc = lmdb_err(e, mrc, "cannot open the store");
		goto fail;
	}
	if (!(flags & SL_STORE_RDONLY)) {
		rc = backfill(s, e);
		if (rc)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	sl_store_close(s);
	return rc ? rc : SL_ESTORE;
}

void sl_store_close(struct sl_store *s)
{
	if (!s)
		return;
	if (s->env)
		mdb_env_close(s->env);
	sl_hash_free(s->hash);
	sl_buf_free(&s->rec);
	sl_buf_free(&s->ent);
	pthread_rwlock_destroy(&s->resize);
	free(s);
}

uint64_t sl_store_size(const struct sl_store *s)
{
	return s->size;
}

const char *sl_store_origin(const struct sl_store *s)
{
	return s->origin;
}

int sl_store_root(uint8_t out[SL_HASH_LEN], struct sl_store *s,
    uint64_t *size)
{
	*size = s->size;
	return sl_merkle_range_root(out, &s->range, s->hash);
}

/* ---- append --------------------------------------------------------- */

struct wstate {
	struct sl_store *s;
	MDB_txn *txn;
	uint64_t seq;           /* the leaf being appended */
	int mrc;                /* LMDB error inside a callback */
};

static int put_node(void *ctx, unsigned level, const uint8_t h[SL_HASH_LEN])
{
	struct wstate *w = ctx;
	uint8_t kb[9];
	MDB_val k = { 9, kb };
	MDB_val v = { SL_HASH_LEN, (void *)h };

	be64(kb, w->seq);
	kb[8] = (uint8_t)level;
	w->mrc = mdb_put(w->txn, w->s->tree, &k, &v, MDB_APPEND);
	return w->mrc ? SL_ESTORE : 0;
}

static int is_client_type(int type)
{
	return type >= SL_ET_DECISION && type <= SL_ET_INFORM_UPDATE;
}

/* Look up an idempotency key; 1 found (seq, hash filled), 0 not, <0 err */
static int id_get(MDB_txn *txn, MDB_dbi dbi, const char *prefix,
    const char *id, uint64_t *seq, uint8_t hash[SL_HASH_LEN], int *mrc)
{
	char kb[300];
	MDB_val k;
	MDB_val v;
	int n = snprintf(kb, sizeof(kb), "%s%s", prefix, id);

	k.mv_size = (size_t)n;
	k.mv_data = kb;
	*mrc = mdb_get(txn, dbi, &k, &v);
	if (*mrc == MDB_NOTFOUND) {
		*mrc = 0;
		return 0;
	}
	if (*mrc)
		return -1;
	if (v.mv_size != 8 + SL_HASH_LEN) {
		*mrc = MDB_CORRUPTED;
		return -1;
	}
	*seq = rd64(v.mv_data);
	memcpy(hash, (uint8_t *)v.mv_data + 8, SL_HASH_LEN);
	return 1;
}

static int id_put(MDB_txn *txn, MDB_dbi dbi, const char *prefix,
    const char *id, uint64_t seq, const uint8_t hash[SL_HASH_LEN])
{
	char kb[300];
	uint8_t vb[8 + SL_HASH_LEN];
	MDB_val k;
	MDB_val v = { sizeof(vb), vb };
	int n = snprintf(kb, sizeof(kb), "%s%s", prefix, id);

	k.mv_size = (size_t)n;
	k.mv_data = kb;
	be64(vb, seq);
	memcpy(vb + 8, hash, SL_HASH_LEN);
	return mdb_put(txn, dbi, &k, &v, MDB_NOOVERWRITE);
}

static int put_dup(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
    uint64_t seq)
{
	uint8_t vb[8];
	MDB_val k = { klen, (void *)key };
	MDB_val v = { 8, vb };

	be64(vb, seq);
	return mdb_put(txn, dbi, &k, &v, 0);
}

static const char *str_field(const json_t *rec, const char *name)
{
	const json_t *v = json_object_get(rec, name);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Content hash for idempotency: type, submitter and canonical record. */
static int content_hash(uint8_t out[SL_HASH_LEN], struct sl_store *s,
    const struct sl_store_item *it, const uint8_t *rec, size_t reclen)
{
	const char *tn = sl_entry_type_name(it->type);
	const struct sl_hash_part parts[5] = {
		{ tn, strlen(tn) + 1 },              /* with its NUL */
		{ it->submitted_by, strlen(it->submitted_by) + 1 },
		{ rec, reclen },
		{ NULL, 0 }, { NULL, 0 },
	};

	return sl_hash_sha256v(out, s->hash, parts, 3);
}

static int read_existing(struct sl_store_item *it, struct sl_store *s,
    MDB_txn *txn, uint64_t seq)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb };
	MDB_val v;
	struct sl_entry_view ev;
	int mrc;

	be64(kb, seq);
	mrc = mdb_get(txn, s->entries, &k, &v);
	if (mrc)
		return mrc;
	if (sl_entry_scan(&ev, v.mv_data, v.mv_size, NULL))
		return MDB_CORRUPTED;
	it->seq = seq;
	it->recorded_ms = ev.recorded_ms;
	it->duplicate = 1;
	return sl_hash_leaf(it->leaf, s->hash, v.mv_data, v.mv_size) ?
	    MDB_CORRUPTED : 0;
}

static int refresh_state(struct sl_store *s, MDB_txn *txn, struct sl_err *e)
{
	MDB_cursor *c;
	MDB_val k;
	MDB_val v;
	uint64_t tip = 0;
	int mrc;

	mrc = mdb_cursor_open(txn, s->entries, &c);
	if (mrc)
		return lmdb_err(e, mrc, "cannot read the store");
	mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (!mrc && k.mv_size == 8)
		tip = rd64(k.mv_data) + 1;
	if (tip == s->size)
		return 0;
	return load_state(s, txn, e);
}

/* Check that raw entry bytes continue the chain; parse its record. */
static int raw_item(struct sl_store_item *it, struct sl_store *s,
    uint64_t size, const uint8_t last[SL_HASH_LEN], json_t **rec,
    struct sl_err *e)
{
	struct sl_entry_view ev;
	json_error_t je;
	int rc;

	rc = sl_entry_scan(&ev, it->raw, it->raw_len, e);
	if (rc)
		return sl_err_prefix(e, "entry %llu", (unsigned long long)size);
	if (ev.seq != size || memcmp(ev.prev, last, SL_HASH_LEN))
		return sl_err_set(e, SL_EINTEGRITY, "entry %llu does not "
		    "continue the chain (seq %llu)", (unsigned long long)size,
		    (unsigned long long)ev.seq);
	*rec = json_loadb((const char *)ev.record, ev.record_len, 0, &je);
	if (!*rec)
		return sl_err_set(e, SL_EINVAL, "entry %llu: record: %s",
		    (unsigned long long)size, je.text);
	it->type = ev.type;
	it->seq = size;
	it->recorded_ms = ev.recorded_ms;
	it->submitted_by = "";
	return sl_hash_leaf(it->leaf, s->hash, it->raw, it->raw_len);
}

static int f_case_ref = -2;

/*
 * Keep what the reports read of one entry: its summary (seq -> the kept
 * form) and, when the record has a case_ref, the cases index (the
 * canonical JSON string of case_ref -> seq). @rec is the entry's record
 * in canonical form.
 */
static int put_summary(struct sl_store *s, MDB_txn *txn, uint64_t seq,
    int type, int64_t recorded_ms, const uint8_t *rec, size_t reclen,
    unsigned flags)
{
	struct sl_record_view *v;
	struct sl_summary sum;
	uint8_t kb[8];
	uint8_t sb[SL_SUMMARY_LEN];
	MDB_val k = { 8, kb };
	MDB_val val = { SL_SUMMARY_LEN, sb };
	int mrc;

	if (f_case_ref == -2)
		f_case_ref = sl_record_field_index("case_ref", 8);
	/* the view is ~2 KB: keep it off the writer's stack */
	v = malloc(sizeof(*v));
	if (!v)
		return ENOMEM;
	sl_summary_of_record(&sum, v, rec, reclen, type, recorded_ms, s->hash);
	sl_summary_encode(sb, &sum);
	be64(kb, seq);
	mrc = mdb_put(txn, s->summaries, &k, &val, flags);
	if (!mrc && f_case_ref >= 0 && v->val[f_case_ref] &&
	    v->len[f_case_ref] > 2 && v->len[f_case_ref] <= 400 &&
	    v->val[f_case_ref][0] == '"')
		mrc = put_dup(txn, s->cases, v->val[f_case_ref],
		    v->len[f_case_ref], seq);
	free(v);
	return mrc;
}

/*
 * One attempt at the whole batch in one write transaction. Returns 0, a
 * negative SL_E* code (e filled), or a positive LMDB code (MDB_MAP_FULL is
 * retried by the caller after the map has grown).
 */
static int append_once(struct sl_store *s, struct sl_store_source *src,
    uint64_t *count, const char *origin, struct sl_err *e)
{
	struct wstate w = { s, NULL, 0, 0 };
	struct sl_merkle_range range = s->range;
	uint8_t last[SL_HASH_LEN];
	uint64_t size = s->size;
	int64_t last_ms = s->last_ms;
	int64_t now = sl_rfc3339_now_ms();
	json_t *parsed = NULL;
	int rc = 0;
	int mrc;

	*count = 0;
	mrc = mdb_txn_begin(s->env, NULL, 0, &w.txn);
	if (mrc)
		return lmdb_err(e, mrc, "cannot begin a write");
	/* Another process may have appended since we last looked: the
	 * write lock is ours now, so re-read the tip if it moved. */
	rc = refresh_state(s, w.txn, e);
	if (rc)
		goto out;
	range = s->range;
	size = s->size;
	last_ms = s->last_ms;
	memcpy(last, s->last_leaf, SL_HASH_LEN);
	if (origin) {
		mrc = put_meta(s, w.txn, "origin", origin);
		if (mrc)
			goto lmdb;
	}
	for (;;) {
		struct sl_store_item *it = NULL;
		const json_t *rec;
		const uint8_t *rb;
		size_t rl;
		const char *rid;
		const char *did;
		const char *cref;
		uint8_t chash[SL_HASH_LEN];
		uint8_t ohash[SL_HASH_LEN];
		uint64_t oseq;
		uint8_t kb[8];
		MDB_val k = { 8, kb };
		MDB_val v;
		int found;

		json_decref(parsed);
		parsed = NULL;
		rc = src->next(src->ctx, &it, e);
		if (rc < 0)
			goto out;
		if (rc == 0)
			break;
		rc = 0;
		(*count)++;
		rec = it->record;
		it->duplicate = 0;
		if (it->raw) {
			rc = raw_item(it, s, size, last, &parsed, e);
			if (rc)
				goto out;
			rec = parsed;
		}
		if (rec) {
			rid = str_field(rec, "record_id");
			did = str_field(rec, "decision_id");
			cref = str_field(rec, "child_ref");
			sl_buf_reset(&s->rec);
			rc = sl_jcs_write(&s->rec, rec, e);
			rb = s->rec.data;
			rl = s->rec.len;
		} else {
			rid = it->record_id;
			did = it->decision_id;
			cref = it->child_ref;
			rb = it->canon;
			rl = it->canon_len;
		}
		if (!rc)
			rc = content_hash(chash, s, it, rb, rl);
		if (rc)
			goto out;
		if (!it->raw && is_client_type(it->type) && rid) {
			found = id_get(w.txn, s->ids, "r:", rid, &oseq, ohash,
			    &mrc);
			if (found < 0)
				goto lmdb;
			if (found && !memcmp(ohash, chash, SL_HASH_LEN)) {
				mrc = read_existing(it, s, w.txn, oseq);
				if (mrc)
					goto lmdb;
				continue;
			}
			if (found) {
				it->duplicate = -1;
				rc = sl_err_set(e, SL_ECONFLICT, "record_id %s "
				    "is already recorded (seq %llu) with "
				    "different content; correct a record by "
				    "sending an amendment with a new record_id",
				    rid, (unsigned long long)oseq);
				goto out;
			}
		}
		if (!it->raw && it->type == SL_ET_DECISION && did) {
			found = id_get(w.txn, s->ids, "d:", did, &oseq, ohash,
			    &mrc);
			if (found < 0)
				goto lmdb;
			if (found) {
				it->duplicate = -1;
				rc = sl_err_set(e, SL_ECONFLICT, "decision_id %s "
				    "already has its decision record (seq "
				    "%llu); a new decision on the same thread "
				    "is sent as a reconsideration", did,
				    (unsigned long long)oseq);
				goto out;
			}
		}
		if (!it->raw) {
			it->seq = size;
			it->recorded_ms = now > last_ms ? now : last_ms;
			sl_buf_reset(&s->ent);
			rc = sl_entry_build(&s->ent, last, rb, rl,
			    it->recorded_ms, it->seq,
			    it->submitted_by, it->type, e);
			if (!rc)
				rc = sl_hash_leaf(it->leaf, s->hash,
				    s->ent.data, s->ent.len);
			if (rc)
				goto out;
		}
		be64(kb, it->seq);
		v.mv_size = it->raw ? it->raw_len : s->ent.len;
		v.mv_data = it->raw ? (void *)it->raw : s->ent.data;
		mrc = mdb_put(w.txn, s->entries, &k, &v, MDB_APPEND);
		if (mrc)
			goto lmdb;
		mrc = put_summary(s, w.txn, it->seq, it->type,
		    it->recorded_ms, rb, rl, MDB_APPEND);
		if (mrc)
			goto lmdb;
		w.seq = it->seq;
		if (put_node(&w, 0, it->leaf) ||
		    sl_merkle_range_push_cb(&range, s->hash, it->leaf, 0,
		    put_node, &w)) {
			mrc = w.mrc ? w.mrc : MDB_PANIC;
			goto lmdb;
		}
		if (is_client_type(it->type) && rid) {
			mrc = id_put(w.txn, s->ids, "r:", rid, it->seq, chash);
			if (mrc)
				goto lmdb;
		}
		if (it->type == SL_ET_DECISION && did) {
			mrc = id_put(w.txn, s->ids, "d:", did, it->seq, chash);
			if (mrc)
				goto lmdb;
		}
		if (did) {
			mrc = put_dup(w.txn, s->threads, did, strlen(did),
			    it->seq);
			if (mrc)
				goto lmdb;
		}
		if (cref) {
			uint8_t raw[SL_HASH_LEN];

			if (!sl_enc_unhex(raw, SL_HASH_LEN, cref,
			    strlen(cref))) {
				mrc = put_dup(w.txn, s->subjects, raw,
				    SL_HASH_LEN, it->seq);
				if (mrc)
					goto lmdb;
			}
		}
		size++;
		last_ms = it->recorded_ms;
		memcpy(last, it->leaf, SL_HASH_LEN);
	}
	json_decref(parsed);
	parsed = NULL;
	mrc = mdb_txn_commit(w.txn);
	w.txn = NULL;
	if (mrc)
		goto lmdb;
	s->size = size;
	s->last_ms = last_ms;
	s->range = range;
	memcpy(s->last_leaf, last, SL_HASH_LEN);
	if (origin)
		snprintf(s->origin, sizeof(s->origin), "%s", origin);
	return 0;
lmdb:
	json_decref(parsed);
	if (w.txn)
		mdb_txn_abort(w.txn);
	if (mrc == MDB_MAP_FULL)
		return MDB_MAP_FULL;
	return lmdb_err(e, mrc, "cannot append to the store");
out:
	json_decref(parsed);
	if (w.txn)
		mdb_txn_abort(w.txn);
	return rc;
}

static int append(struct sl_store *s, struct sl_store_source *src,
    uint64_t *count, const char *origin, struct sl_err *e)
{
	int rc;

	if (s->flags & SL_STORE_RDONLY)
		return sl_err_set(e, SL_EUSAGE, "the store is open read-only");
	for (;;) {
		MDB_envinfo info;

		rc = append_once(s, src, count, origin, e);
		if (rc != MDB_MAP_FULL)
			return rc;
		/* No transaction may be active in the process, as LMDB
		 * requires: wait for the readers of other threads. */
		pthread_rwlock_wrlock(&s->resize);
		mdb_env_info(s->env, &info);
		rc = mdb_env_set_mapsize(s->env, info.me_mapsize * 2);
		pthread_rwlock_unlock(&s->resize);
		if (rc)
			return lmdb_err(e, rc, "cannot grow the store's map");
		rc = src->rewind(src->ctx, e);
		if (rc)
			return rc;
	}
}

struct array_src {
	struct sl_store_item *items;
	size_t n;
	size_t i;
};

static int array_next(void *ctx, struct sl_store_item **it, struct sl_err *e)
{
	struct array_src *a = ctx;

	(void)e;
	if (a->i >= a->n)
		return 0;
	*it = &a->items[a->i++];
	return 1;
}

static int array_rewind(void *ctx, struct sl_err *e)
{
	struct array_src *a = ctx;

	(void)e;
	a->i = 0;
	return 0;
}

static int append_array(struct sl_store *s, struct sl_store_item *items,
    size_t n, const char *origin, struct sl_err *e)
{
	struct array_src a = { items, n, 0 };
	struct sl_store_source src = { array_next, array_rewind, &a };
	uint64_t count;

	return append(s, &src, &count, origin, e);
}

int sl_store_append_from(struct sl_store *s, struct sl_store_source *src,
    uint64_t *count, struct sl_err *e)
{
	if (s->size == 0)
		return sl_err_set(e, SL_EUSAGE, "the store has no genesis "
		    "entry (run sharelogd init)");
	return append(s, src, count, NULL, e);
}

int sl_store_append_raw(struct sl_store *s, struct sl_store_item *items,
    size_t n, const char *origin, struct sl_err *e)
{
	return append_array(s, items, n, origin, e);
}

int sl_store_append(struct sl_store *s, struct sl_store_item *items,
    size_t n, struct sl_err *e)
{
	if (s->size == 0)
		return sl_err_set(e, SL_EUSAGE, "the store has no genesis "
		    "entry (run sharelogd init)");
	return append_array(s, items, n, NULL, e);
}

int sl_store_genesis(struct sl_store *s, const char *origin,
    const json_t *record, struct sl_err *e)
{
	struct sl_store_item it;

	memset(&it, 0, sizeof(it));
	it.record = record;
	it.type = SL_ET_GENESIS;
	it.submitted_by = "sharelog";

	if (s->size != 0)
		return sl_err_set(e, SL_EEXIST, "the store already has a "
		    "genesis entry");
	return append_array(s, &it, 1, origin, e);
}

int sl_store_put_checkpoint(struct sl_store *s, uint64_t size,
    const char *note, size_t n, struct sl_err *e)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb };
	MDB_val v = { n, (void *)note };
	MDB_txn *txn;
	int mrc;

	be64(kb, size);
	for (;;) {
		mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
		if (mrc)
			return lmdb_err(e, mrc, "cannot store the checkpoint");
		mrc = mdb_put(txn, s->checkpoints, &k, &v, MDB_APPEND);
		if (mrc == MDB_KEYEXIST) {
			/* Already signed at this size (or an older size):
			 * one checkpoint per size is enough. */
			mdb_txn_abort(txn);
			return 0;
		}
		if (!mrc) {
			mrc = mdb_txn_commit(txn);
			txn = NULL;
		}
		if (txn)
			mdb_txn_abort(txn);
		if (mrc != MDB_MAP_FULL)
			break;
		{
			MDB_envinfo info;

			pthread_rwlock_wrlock(&s->resize);
			mdb_env_info(s->env, &info);
			mdb_env_set_mapsize(s->env, info.me_mapsize * 2);
			pthread_rwlock_unlock(&s->resize);
		}
	}
	return mrc ? lmdb_err(e, mrc, "cannot store the checkpoint") : 0;
}

/* ---- reading -------------------------------------------------------- */

int sl_store_read_begin(struct sl_store_txn **out, struct sl_store *s,
    struct sl_err *e)
{
	struct sl_store_txn *t;
	MDB_cursor *c;
	MDB_val k;
	MDB_val v;
	int mrc;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	t->s = s;
	for (;;) {
		pthread_rwlock_rdlock(&s->resize);
		mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &t->txn);
		if (mrc != MDB_MAP_RESIZED)
			break;
		/* Another process grew the map: adopt its size (with no
		 * transaction of ours active), retry. */
		pthread_rwlock_unlock(&s->resize);
		pthread_rwlock_wrlock(&s->resize);
		mdb_env_set_mapsize(s->env, 0);
		pthread_rwlock_unlock(&s->resize);
	}
	if (mrc) {
		pthread_rwlock_unlock(&s->resize);
		free(t);
		return lmdb_err(e, mrc, "cannot read the store");
	}
	mrc = mdb_cursor_open(t->txn, s->entries, &c);
	if (!mrc) {
		int g = mdb_cursor_get(c, &k, &v, MDB_LAST);

		if (!g && k.mv_size == 8)
			t->size = rd64(k.mv_data) + 1;
		mdb_cursor_close(c);
	}
	*out = t;
	return 0;
}

void sl_store_read_end(struct sl_store_txn *t)
{
	if (!t)
		return;
	mdb_txn_abort(t->txn);
	pthread_rwlock_unlock(&t->s->resize);
	free(t);
}

uint64_t sl_store_txn_size(const struct sl_store_txn *t)
{
	return t->size;
}

int sl_store_get(const uint8_t **p, size_t *n, struct sl_store_txn *t,
    uint64_t seq)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb };
	MDB_val v;
	int mrc;

	be64(kb, seq);
	mrc = mdb_get(t->txn, t->s->entries, &k, &v);
	if (mrc == MDB_NOTFOUND)
		return SL_ENOTFOUND;
	if (mrc)
		return SL_ESTORE;
	*p = v.mv_data;
	*n = v.mv_size;
	return 0;
}

int sl_store_node(uint8_t out[SL_HASH_LEN], void *txn, unsigned level,
    uint64_t index)
{
	struct sl_store_txn *t = txn;
	int mrc = node_key_get(t->txn, t->s->tree, level, index, out);

	if (mrc == MDB_NOTFOUND)
		return SL_ENOTFOUND;
	return mrc ? SL_ESTORE : 0;
}

int sl_store_backup(struct sl_store *s, const char *dir, struct sl_err *e)
{
	struct stat st;
	int mrc;

	if (!stat(dir, &st))
		return sl_err_set(e, SL_EEXIST, "%s already exists; back up into "
		    "a new folder", dir);
	if (mkdir(dir, 0700))
		return sl_err_set(e, SL_EIO, "cannot create %s: %s", dir,
		    strerror(errno));
	/* mdb_env_copy2 runs in one read transaction of its own: a
	 * consistent copy while the service keeps appending. */
	pthread_rwlock_rdlock(&s->resize);
	mrc = mdb_env_copy2(s->env, dir, MDB_CP_COMPACT);
	pthread_rwlock_unlock(&s->resize);
	if (mrc) {
		rmdir(dir);
		return lmdb_err(e, mrc, "cannot copy the store");
	}
	return 0;
}

/* Find data.mdb's mapping in /proc/self/maps (by device and inode). */
static int find_map(struct sl_store *s)
{
	struct stat st;
	char line[4608];
	FILE *f;

	if (stat(s->path, &st))
		return -1;
	f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	s->map_lo = s->map_hi = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo;
		unsigned long hi;
		unsigned long off;
		unsigned int maj;
		unsigned int min;
		unsigned long ino;
		char perm[8];

		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu", &lo, &hi, perm,
		    &off, &maj, &min, &ino) != 7)
			continue;
		if (ino == (unsigned long)st.st_ino &&
		    makedev(maj, min) == st.st_dev && hi - lo > s->map_hi -
		    s->map_lo) {
			s->map_lo = lo;
			s->map_hi = hi;
		}
	}
	fclose(f);
	return s->map_hi ? 0 : -1;
}

void sl_store_drop_pages(struct sl_store *s)
{
	if (!s->map_hi && find_map(s))
		return;
	/* A read-only MAP_SHARED file mapping: dropping pages only forgets
	 * them here; the next touch reads the page cache again. */
	if (madvise((void *)s->map_lo, s->map_hi - s->map_lo, MADV_DONTNEED))
		s->map_hi = 0;  /* the map moved (it grew): look again */
}

/* Resident pages released per step when scanning with RELEASE. */
#define RELEASE_STEP ((size_t)8 << 20)

/* Every value of the seq-keyed table @dbi from @start on, in order. */
static int seq_scan(struct sl_store_txn *t, MDB_dbi dbi, uint64_t start,
    sl_store_entry_fn fn, void *ctx, unsigned flags)
{
	MDB_cursor *c;
	uint8_t kb[8];
	MDB_val k = { 8, kb };
	MDB_val v;
	size_t since = 0;
	int mrc;
	int rc = 0;

	mrc = mdb_cursor_open(t->txn, dbi, &c);
	if (mrc)
		return SL_ESTORE;
	be64(kb, start);
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (!mrc) {
		uint64_t seq = k.mv_size == 8 ? rd64(k.mv_data) : UINT64_MAX;

		rc = fn(ctx, seq, v.mv_data, v.mv_size);
		if (rc)
			break;
		since += v.mv_size;
		if ((flags & SL_STORE_SCAN_RELEASE) && since >= RELEASE_STEP) {
			sl_store_drop_pages(t->s);
			since = 0;
		}
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc)
		return rc;
	return mrc == MDB_NOTFOUND ? 0 : SL_ESTORE;
}

int sl_store_scan(struct sl_store_txn *t, uint64_t start, sl_store_entry_fn fn,
    void *ctx, unsigned flags)
{
	return seq_scan(t, t->s->entries, start, fn, ctx, flags);
}

int sl_store_checkpoints(struct sl_store_txn *t, sl_store_note_fn fn,
    void *ctx)
{
	MDB_cursor *c;
	MDB_val k;
	MDB_val v;
	int mrc;
	int rc = 0;

	mrc = mdb_cursor_open(t->txn, t->s->checkpoints, &c);
	if (mrc)
		return SL_ESTORE;
	mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (!mrc) {
		if (k.mv_size == 8) {
			rc = fn(ctx, rd64(k.mv_data), v.mv_data, v.mv_size);
			if (rc)
				break;
		}
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc)
		return rc;
	return mrc == MDB_NOTFOUND ? 0 : SL_ESTORE;
}

int sl_store_latest_checkpoint(const char **note, size_t *n, uint64_t *size,
    struct sl_store_txn *t)
{
	MDB_cursor *c;
	MDB_val k;
	MDB_val v;
	int mrc;

	mrc = mdb_cursor_open(t->txn, t->s->checkpoints, &c);
	if (mrc)
		return SL_ESTORE;
	mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (mrc == MDB_NOTFOUND)
		return SL_ENOTFOUND;
	if (mrc || k.mv_size != 8)
		return SL_ESTORE;
	*size = rd64(k.mv_data);
	*note = v.mv_data;
	*n = v.mv_size;
	return 0;
}

int sl_store_find_record(uint64_t *seq, struct sl_store_txn *t,
    const char *record_id)
{
	uint8_t h[SL_HASH_LEN];
	int mrc;
	int found = id_get(t->txn, t->s->ids, "r:", record_id, seq, h, &mrc);

	if (found < 0)
		return SL_ESTORE;
	return found ? 0 : SL_ENOTFOUND;
}

static int dup_scan(struct sl_store_txn *t, MDB_dbi dbi, const void *key,
    size_t klen, sl_store_seq_fn fn, void *ctx)
{
	MDB_cursor *c;
	MDB_val k = { klen, (void *)key };
	MDB_val v;
	int mrc;
	int rc = 0;

	mrc = mdb_cursor_open(t->txn, dbi, &c);
	if (mrc)
		return SL_ESTORE;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (!mrc) {
		if (v.mv_size == 8) {
			rc = fn(ctx, rd64(v.mv_data));
			if (rc)
				break;
		}
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	if (rc)
		return rc;
	return mrc == MDB_NOTFOUND ? 0 : SL_ESTORE;
}

int sl_store_subject(struct sl_store_txn *t, const char *ref,
    sl_store_seq_fn fn, void *ctx)
{
	uint8_t raw[SL_HASH_LEN];

	if (sl_enc_unhex(raw, SL_HASH_LEN, ref, strlen(ref)))
		return SL_EINVAL;
	return dup_scan(t, t->s->subjects, raw, SL_HASH_LEN, fn, ctx);
}

int sl_store_thread(struct sl_store_txn *t, const char *decision_id,
    sl_store_seq_fn fn, void *ctx)
{
	size_t n = strlen(decision_id);

	if (n == 0 || n > 400)
		return SL_EINVAL;
	return dup_scan(t, t->s->threads, decision_id, n, fn, ctx);
}

int sl_store_summaries(struct sl_store_txn *t, uint64_t start,
    sl_store_entry_fn fn, void *ctx)
{
	if (!t->s->has_summaries)
		return SL_ENOTFOUND;
	return seq_scan(t, t->s->summaries, start, fn, ctx, 0);
}

int sl_store_has_summaries(const struct sl_store *s)
{
	return s->has_summaries;
}

uint64_t sl_store_summary_count(struct sl_store_txn *t)
{
	MDB_stat st;

	if (!t->s->has_summaries || mdb_stat(t->txn, t->s->summaries, &st))
		return 0;
	return st.ms_entries;
}

int sl_store_case(struct sl_store_txn *t, const uint8_t *ref, size_t n,
    sl_store_seq_fn fn, void *ctx)
{
	if (!t->s->has_summaries)
		return SL_ENOTFOUND;
	if (n < 3 || n > 400)
		return SL_EINVAL;
	return dup_scan(t, t->s->cases, ref, n, fn, ctx);
}
