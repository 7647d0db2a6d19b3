#include "formats/store.h"
#include "formats/buf.h"
#include "formats/checkpoint.h"
#include "formats/enc.h"
#include "formats/entry.h"
#include "formats/jcs.h"
#include "formats/mem.h"
#include "formats/record.h"
#include "formats/rfc3339.h"
#include "formats/schema.h"
#include "formats/sha2x.h"
#include "formats/summary.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Sparse on Linux, so a large start costs nothing and growth is rare. */
static size_t initial_map = (size_t)1 << 30;

void sl_store__set_initial_map(size_t bytes)
{
	initial_map = bytes;
}

/* Where the tables the log can rebuild are (sl_store.dv_at). */
enum { DV_OWN, DV_MAIN, DV_NONE };

struct sl_store {
	MDB_env *env;
	/* the derived environment (store/derived): tree, ids, threads,
	 * summaries and refs, written with every commit but not synced
	 * (every one of them can be rebuilt from the entries) */
	MDB_env *dv;
	MDB_dbi dmeta;
	int dv_at;                /* DV_OWN: in dv; DV_MAIN: a format 1
				     store read as it is, in env; DV_NONE:
				     none usable (a read-only open) */
	MDB_dbi entries;
	MDB_dbi tree;
	MDB_dbi ids;
	MDB_dbi threads;
	MDB_dbi checkpoints;
	MDB_dbi meta;
	MDB_dbi summaries;
	MDB_dbi judgements;       /* the keeper's, when one was set */
	MDB_dbi refs;
	MDB_dbi subjects;         /* legacy: an older store's own indexes */
	MDB_dbi cases;
	int has_summaries;        /* a read-only open of an older store may
				     lack the summaries table */
	int has_judgements;
	/* what derive() keeps with each entry beside its summary (the
	 * process's keeper at open, sl_store_set_keeper); NULL: none */
	const struct sl_store_keeper *keeper;
	uint8_t *kbuf;
	size_t klen;                /* of the last judgement kept in kbuf */
	struct sl_record_view *dview;   /* derive()'s, kept between entries */
	/* checkpoints signed inside appends (sl_store_set_sealer) */
	struct sl_signer *sealer;
	uint64_t seal_every;
	uint64_t sealed;
	struct sl_buf note;
	int has_refs;             /* refs is complete: lookups use the
				     index environment and refs' tail */
	int has_subjects;         /* the legacy tables are there */
	int has_cases;
	/* the index environment (store/index): subjects and cases, written
	 * by sl_store_index() off the commit path; NULL when a read-only
	 * open finds none */
	MDB_env *ix;
	MDB_dbi ix_subjects;
	MDB_dbi ix_cases;
	MDB_dbi ix_meta;
	unsigned flags;
	char origin[256];
	/* the writer's view */
	uint64_t size;
	uint8_t last_leaf[SL_HASH_LEN];
	int64_t last_ms;
	struct sl_merkle_range range;
	/* store/derived commits that failed after the log's (each caught up
	 * by the next write), and LMDB's code for the last */
	uint64_t dfail;
	int dfail_rc;
	struct sl_hash *hash;
	struct sl_buf rec;
	struct sl_buf ent;
	struct sl_buf chm;       /* a content hash's message, contiguous */
	char *raw_sub;           /* a copied entry's submitted_by, decoded */
	/* LMDB grows its map only when no transaction of this process is
	 * active: read snapshots hold this shared, growth holds it alone. */
	pthread_rwlock_t resize;
	/* data.mdb's mapping in this process, and the index's, found on
	 * first use (under map_mu: a shared open is read on many threads) */
	struct mapping {
		uintptr_t lo;
		uintptr_t hi;
	} map, ixmap, dvmap;
	pthread_mutex_t map_mu;
	/* a read-only open shared in the process (see shared_head) */
	unsigned opens;
	dev_t dev;
	ino_t ino;
	struct sl_store *next_shared;
	char path[4096];
};

/*
 * LMDB allows an environment one open per process: a second open takes
 * the lock file's exclusive lock from under the first (POSIX locks never
 * conflict within a process) and resets its reader table, and closing
 * either drops all the process's locks on the file. A writer starting in
 * another process could then reuse pages a reader here still reads. So
 * the read-only opens of one store in a process share one sl_store (a
 * report pack reads a store on several threads at once), closed with its
 * last sl_store_close(). Writable opens are one per process by use: the
 * service lends its own to what it serves.
 */
static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sl_store *shared_head;

struct sl_store_txn {
	struct sl_store *s;
	MDB_txn *txn;
	MDB_txn *ixt;           /* the index environment's, begun first */
	MDB_txn *dtxn;          /* the derived tables' (txn for DV_MAIN),
				   begun before txn */
	uint64_t size;
	uint64_t dsize;         /* the derived tables hold entries below */
};

/* Which of a snapshot's environments a table is read from. */
enum { WHERE_LOG, WHERE_INDEX, WHERE_DERIVED };

static MDB_txn *txn_at(const struct sl_store_txn *t, int at)
{
	return at == WHERE_LOG ? t->txn : at == WHERE_INDEX ? t->ixt : t->dtxn;
}

/* The longest case_ref kept in refs and the cases index. */
#define CASE_MAX (SL_STORE_REFS_MAX - SL_HASH_LEN)

/* Record fields derive() reads (sl_record_field_index), set once. */
static int f_case_ref = -1;
static int f_child_ref = -1;
static pthread_once_t fields_once = PTHREAD_ONCE_INIT;

static void fields_init(void)
{
	f_case_ref = sl_record_field_index("case_ref", 8);
	f_child_ref = sl_record_field_index("child_ref", 9);
}

static int open_index(struct sl_store *s, const char *dir, struct sl_err *e);
static int index_all(struct sl_store *s, struct sl_err *e);

static int lmdb_err(struct sl_err *e, int rc, const char *what)
{
	if (rc == MDB_MAP_FULL)
		return sl_err_set(e, SL_ESTORE, "%s: the store's map is full",
		    what);
	return sl_err_set(e, rc == ENOMEM ? SL_ENOMEM : SL_ESTORE, "%s: %s",
	    what, mdb_strerror(rc));
}

static int free_bytes_at(const char *dir, uint64_t *out)
{
	struct statvfs v;

	*out = 0;
	if (!dir || statvfs(dir, &v))
		return SL_EIO;
	*out = (uint64_t)v.f_bavail * (uint64_t)v.f_frsize;
	return 0;
}

/* lmdb_err() for a write of @env that failed: LMDB reports a write cut
 * short by a full disk as an I/O error, so the room left on the store's
 * file system is said too, which tells a full disk from a failing one. */
static int write_err(MDB_env *env, struct sl_err *e, int rc, const char *what)
{
	const char *dir = NULL;
	uint64_t room;
	size_t n;
	int code = lmdb_err(e, rc, what);

	if (!e)
		return code;
	if ((rc == EIO || rc == ENOSPC || rc == EFBIG || rc == EDQUOT) &&
	    !mdb_env_get_path(env, &dir) && !free_bytes_at(dir, &room)) {
		n = strlen(e->msg);
		snprintf(e->msg + n, sizeof(e->msg) - n, " (%.1f MiB free on "
		    "the store's file system)", (double)room / 1048576.0);
	}
	return code;
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

/* How open_set treats a table that is not there. */
enum { T_CORE, T_LATER, T_LEGACY };

struct dbdef {
	const char *name;
	size_t off;
	unsigned flags;
	int kind;
	size_t has;     /* offset of the flag saying it is there */
};

/* The log: synced with every commit. */
static const struct dbdef main_dbs[] = {
	{ "entries", offsetof(struct sl_store, entries), 0, T_CORE, 0 },
	{ "checkpoints", offsetof(struct sl_store, checkpoints), 0, T_CORE,
	    0 },
	{ "meta", offsetof(struct sl_store, meta), 0, T_CORE, 0 },
};

/* What the log rebuilds: store/derived's tables, or a format 1 store's
 * own (T_LATER and T_LEGACY only there). */
static const struct dbdef derived_dbs[] = {
	{ "tree", offsetof(struct sl_store, tree), 0, T_CORE, 0 },
	{ "ids", offsetof(struct sl_store, ids), 0, T_CORE, 0 },
	{ "threads", offsetof(struct sl_store, threads),
	    MDB_DUPSORT | MDB_DUPFIXED, T_CORE, 0 },
	{ "summaries", offsetof(struct sl_store, summaries), 0, T_LATER,
	    offsetof(struct sl_store, has_summaries) },
	{ "refs", offsetof(struct sl_store, refs), 0, T_LATER, 0 },
	{ "judgements", offsetof(struct sl_store, judgements), 0, T_LATER,
	    offsetof(struct sl_store, has_judgements) },
	{ "subjects", offsetof(struct sl_store, subjects),
	    MDB_DUPSORT | MDB_DUPFIXED, T_LEGACY,
	    offsetof(struct sl_store, has_subjects) },
	{ "cases", offsetof(struct sl_store, cases),
	    MDB_DUPSORT | MDB_DUPFIXED, T_LEGACY,
	    offsetof(struct sl_store, has_cases) },
};

#define NDBS(a) (sizeof(a) / sizeof((a)[0]))

static int open_set(struct sl_store *s, MDB_txn *txn, const struct dbdef *d,
    size_t n, unsigned create, struct sl_err *e)
{
	size_t i;

	for (i = 0; i < n; i++) {
		MDB_dbi *dbi = (MDB_dbi *)((char *)s + d[i].off);
		unsigned fl = d[i].flags;
		int rc;

		if (create && d[i].kind != T_LEGACY)
			fl |= MDB_CREATE;
		rc = mdb_dbi_open(txn, d[i].name, fl, dbi);
		if (d[i].has)
			*(int *)((char *)s + d[i].has) = rc == 0;
		if (rc == MDB_NOTFOUND && d[i].kind != T_CORE)
			continue;
		if (rc == MDB_NOTFOUND)
			return sl_err_set(e, SL_EINVAL, "not a sharelog store "
			    "(no \"%s\" table)", d[i].name);
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

/* The compact range of the first @size leaves, and leaf @size-1 (zero
 * when none), from the tree table in @dt. */
static int load_range(struct sl_store *s, MDB_txn *dt, uint64_t size,
    struct sl_merkle_range *range, uint8_t last[SL_HASH_LEN])
{
	uint64_t off = 0;
	int bit;
	int rc = 0;

	sl_merkle_range_init(range);
	memset(last, 0, SL_HASH_LEN);
	if (size == 0)
		return 0;
	rc = node_key_get(dt, s->tree, 0, size - 1, last);
	for (bit = 63; !rc && bit >= 0; bit--) {
		uint8_t h[SL_HASH_LEN];
		uint64_t w = UINT64_C(1) << bit;

		if (!(size & w))
			continue;
		rc = node_key_get(dt, s->tree, (unsigned)bit, off >> bit, h);
		if (!rc)
			rc = sl_merkle_range_push_node(range, s->hash, h,
			    (unsigned)bit);
		off += w;
	}
	return rc;
}

/* Rebuild the writer's view (size, last leaf, compact range, last time)
 * from the log in @txn and the tree in @dt. */
static int load_state(struct sl_store *s, MDB_txn *txn, MDB_txn *dt,
    struct sl_err *e)
{
	MDB_cursor *c = NULL;
	MDB_val k;
	MDB_val v;
	int rc;

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
	rc = load_range(s, dt, s->size, &s->range, s->last_leaf);
	if (rc)
		return sl_err_set(e, SL_ESTORE, "the store's Merkle nodes are "
		    "missing or damaged (size %llu); run sharelog-verify",
		    (unsigned long long)s->size);
	return 0;
}

struct wstate;
static int derive(struct wstate *w, uint64_t seq, int type,
    int64_t recorded_ms, const uint8_t *rec, size_t reclen);

static int open_derived(struct sl_store *s, const char *dir, int v1,
    int trusted, struct sl_err *e);
static void boot_id(char out[64]);
static int get_through(MDB_txn *txn, MDB_dbi meta, uint64_t *n,
    uint8_t leaf[SL_HASH_LEN]);

/* The process's keeper (sl_store_set_keeper), taken by writable opens. */
static const struct sl_store_keeper *keeper_set;

void sl_store_set_keeper(const struct sl_store_keeper *k)
{
	keeper_set = k;
}

static int open_new(struct sl_store **out, const char *dir, const char *path,
    unsigned flags, const struct stat *stp, struct sl_err *e);

int sl_store_open(struct sl_store **out, const char *dir, unsigned flags,
    struct sl_err *e)
{
	struct sl_store *s;
	char path[4096];
	struct stat st;
	int rc;

	*out = NULL;
	memset(&st, 0, sizeof(st));
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
	if (flags == SL_STORE_RDONLY) {
		pthread_mutex_lock(&shared_mu);
		for (s = shared_head; s; s = s->next_shared)
			if (s->dev == st.st_dev && s->ino == st.st_ino)
				break;
		if (s) {
			s->opens++;
			pthread_mutex_unlock(&shared_mu);
			*out = s;
			return 0;
		}
		/* held while opening: a second thread waits for this open
		 * instead of making one of its own */
		rc = open_new(out, dir, path, flags, &st, e);
		if (!rc) {
			(*out)->opens = 1;
			(*out)->dev = st.st_dev;
			(*out)->ino = st.st_ino;
			(*out)->next_shared = shared_head;
			shared_head = *out;
		}
		pthread_mutex_unlock(&shared_mu);
		return rc;
	}
	return open_new(out, dir, path, flags, &st, e);
}

/* sl_store_open() of a store not open in the process; @stp is @path's
 * (zero when it is to be created). */
static int open_new(struct sl_store **out, const char *dir, const char *path,
    unsigned flags, const struct stat *stp, struct sl_err *e)
{
	struct sl_store *s;
	char fmt[64];
	MDB_txn *txn = NULL;
	int v1 = 0;
	int trusted = 0;
	int rc;
	int mrc;

	s = calloc(1, sizeof(*s));
	if (!s)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	s->flags = flags;
	if (!(flags & SL_STORE_RDONLY) && keeper_set) {
		s->keeper = keeper_set;
		s->kbuf = malloc(keeper_set->max);
		if (!s->kbuf) {
			free(s);
			return sl_err_set(e, SL_ENOMEM, "out of memory");
		}
	}
	pthread_once(&fields_once, fields_init);
	pthread_rwlock_init(&s->resize, NULL);
	pthread_mutex_init(&s->map_mu, NULL);
	snprintf(s->path, sizeof(s->path), "%s", path);
	sl_buf_init(&s->rec, SL_ENTRY_MAX);
	sl_buf_init(&s->ent, SL_ENTRY_MAX);
	sl_buf_init(&s->chm, SL_ENTRY_MAX + 512);
	sl_buf_init(&s->note, 64 * 1024);
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
		MDB_envinfo info;
		int dead;

		mdb_reader_check(s->env, &dead);
		/* A compacted copy (sharelogd backup) fills its map to the
		 * last page, and an open may have tables to create and fill:
		 * room first, while no transaction is active. */
		mdb_env_info(s->env, &info);
		if (!(flags & SL_STORE_CREATE)) {
			size_t want = (size_t)stp->st_size +
			    (size_t)stp->st_size / 2 + ((size_t)64 << 20);

			if (info.me_mapsize < want)
				mdb_env_set_mapsize(s->env, want);
		}
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
	rc = open_set(s, txn, main_dbs, NDBS(main_dbs),
	    !(flags & SL_STORE_RDONLY), e);
	if (rc)
		goto fail;
	if (flags & SL_STORE_CREATE) {
		mrc = put_meta(s, txn, "format", SL_STORE_FORMAT);
		if (!mrc)
			mrc = put_meta(s, txn, "refs", "complete");
		s->has_refs = 1;
		if (mrc) {
			rc = lmdb_err(e, mrc, "cannot initialise the store");
			goto fail;
		}
	} else {
		char boot[64];
		char got[64];

		mrc = get_meta(s, txn, "format", fmt, sizeof(fmt));
		v1 = !mrc && !strcmp(fmt, SL_STORE_FORMAT_1);
		if (mrc || (!v1 && strcmp(fmt, SL_STORE_FORMAT))) {
			rc = sl_err_set(e, SL_EINVAL, "%s is not a store of "
			    "format \"%s\"", dir, SL_STORE_FORMAT);
			goto fail;
		}
		get_meta(s, txn, "origin", s->origin, sizeof(s->origin));
		s->has_refs = !get_meta(s, txn, "refs", fmt, sizeof(fmt)) &&
		    !strcmp(fmt, "complete");
		/* store/derived was last written, unsynced, in this boot:
		 * the page cache still holds all of it. After a restart of
		 * the machine, some of it may never have reached the disk. */
		boot_id(boot);
		trusted = !v1 && !get_meta(s, txn, "derived_boot", got,
		    sizeof(got)) && !strcmp(got, boot);
	}
	if (v1) {
		/* a format 1 store keeps them in the log's environment: read
		 * there, or moved out by a writable open */
		rc = open_set(s, txn, derived_dbs, NDBS(derived_dbs), 0, e);
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
	rc = open_derived(s, dir, v1, trusted, e);
	if (rc)
		goto fail;
	/* Only a writer needs the tip and the compact range; a reader (the
	 * verifier above all) must open even a damaged store. */
	if (!(flags & SL_STORE_RDONLY)) {
		MDB_txn *dt = NULL;

		mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
		if (!mrc)
			mrc = mdb_txn_begin(s->dv, NULL, MDB_RDONLY, &dt);
		if (mrc) {
			rc = lmdb_err(e, mrc, "cannot open the store");
			goto fail;
		}
		rc = load_state(s, txn, dt, e);
		mdb_txn_abort(dt);
		mdb_txn_abort(txn);
		txn = NULL;
		if (rc)
			goto fail;
	}
	rc = open_index(s, dir, e);
	if (!rc && s->ix && !(flags & SL_STORE_RDONLY))
		rc = index_all(s, e);
	if (rc)
		goto fail;
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
	if (s->opens) {
		struct sl_store **pp;

		pthread_mutex_lock(&shared_mu);
		if (--s->opens) {
			pthread_mutex_unlock(&shared_mu);
			return;
		}
		for (pp = &shared_head; *pp; pp = &(*pp)->next_shared)
			if (*pp == s) {
				*pp = s->next_shared;
				break;
			}
		pthread_mutex_unlock(&shared_mu);
	}
	/* What the service's indexer had not reached yet; a failure only
	 * leaves a longer tail for lookups to scan. */
	if (s->ix && !(s->flags & SL_STORE_RDONLY) && s->size)
		(void)index_all(s, NULL);
	if (s->ix)
		mdb_env_close(s->ix);
	if (s->dv)
		mdb_env_close(s->dv);
	if (s->env)
		mdb_env_close(s->env);
	sl_hash_free(s->hash);
	sl_buf_free(&s->rec);
	sl_buf_free(&s->ent);
	sl_buf_free(&s->chm);
	sl_buf_free(&s->note);
	free(s->raw_sub);
	free(s->kbuf);
	free(s->dview);
	pthread_rwlock_destroy(&s->resize);
	pthread_mutex_destroy(&s->map_mu);
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

int sl_store_free_bytes(const struct sl_store *s, uint64_t *out)
{
	const char *dir = NULL;

	*out = 0;
	if (mdb_env_get_path(s->env, &dir))
		return SL_EIO;
	return free_bytes_at(dir, out);
}

/* The last u64be key of table @dbi in @txn into *@key (0 when the table
 * is empty; *@found, when given, says which). 0 or an LMDB code. */
static int last_u64(MDB_txn *txn, MDB_dbi dbi, uint64_t *key, int *found)
{
	MDB_cursor *c;
	MDB_val k;
	MDB_val v;
	int mrc;

	*key = 0;
	if (found)
		*found = 0;
	mrc = mdb_cursor_open(txn, dbi, &c);
	if (mrc)
		return mrc;
	mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	mdb_cursor_close(c);
	if (mrc == MDB_NOTFOUND)
		return 0;
	if (!mrc && k.mv_size != 8)
		mrc = MDB_CORRUPTED;
	if (!mrc) {
		*key = rd64(k.mv_data);
		if (found)
			*found = 1;
	}
	return mrc;
}

void sl_store_set_sealer(struct sl_store *s, struct sl_signer *signer,
    uint64_t every)
{
	s->sealer = signer;
	s->seal_every = every ? every : 1;
}

uint64_t sl_store_sealed_size(const struct sl_store *s)
{
	return s->sealed;
}

/*
 * The checkpoint of the log at @size (root from @range) into @txn when
 * the sealer's interval has passed since the newest one there; *@sealed
 * gets its size. 0 or an LMDB code; a signature that cannot be made is
 * not an error of the append (see store.h).
 */
static int seal_in(struct sl_store *s, MDB_txn *txn, uint64_t size,
    const struct sl_merkle_range *range, uint64_t *sealed)
{
	struct sl_checkpoint c;
	struct sl_err e;
	MDB_val k, v;
	uint64_t newest;
	uint8_t kb[8];
	int mrc;

	/* read in the transaction: another process may have signed one */
	mrc = last_u64(txn, s->checkpoints, &newest, NULL);
	if (mrc || size <= newest || size - newest < s->seal_every)
		return mrc;
	snprintf(c.origin, sizeof(c.origin), "%s", s->origin);
	c.size = size;
	sl_buf_reset(&s->note);
	if (sl_merkle_range_root(c.root, range, s->hash) ||
	    sl_checkpoint_sign(&s->note, &c, &s->sealer, 1, &e))
		return 0;
	be64(kb, size);
	k.mv_size = 8;
	k.mv_data = kb;
	v.mv_size = s->note.len;
	v.mv_data = s->note.data;
	mrc = mdb_put(txn, s->checkpoints, &k, &v, MDB_APPEND);
	if (!mrc)
		*sealed = size;
	return mrc;
}

int sl_store_root(uint8_t out[SL_HASH_LEN], struct sl_store *s,
    uint64_t *size)
{
	*size = s->size;
	return sl_merkle_range_root(out, &s->range, s->hash);
}

/* ---- append --------------------------------------------------------- */

/* The tables a writer appends to, each through a cursor of its own. */
enum { WC_ENTRIES, WC_TREE, WC_SUMMARIES, WC_JUDGEMENTS, WC_REFS, WC_N };

struct wstate {
	struct sl_store *s;
	MDB_txn *txn;           /* the log's */
	MDB_txn *dtxn;          /* store/derived's */
	uint64_t seq;           /* the leaf being appended */
	int mrc;                /* LMDB error inside a callback */
	MDB_cursor *cur[WC_N];  /* opened at first use, freed with their
				   transaction */
};

/*
 * Append k -> v to table @which (keys only grow) in @txn. One cursor a
 * table for the whole transaction: it stays on the table's last page, so
 * an append need not search the tree from its root, as mdb_put() does
 * each time with a cursor of its own.
 */
static int wput(struct wstate *w, int which, MDB_txn *txn, MDB_dbi dbi,
    MDB_val *k, MDB_val *v)
{
	if (!w->cur[which]) {
		int mrc = mdb_cursor_open(txn, dbi, &w->cur[which]);

		if (mrc)
			return mrc;
	}
	return mdb_cursor_put(w->cur[which], k, v, MDB_APPEND);
}

static int put_node(void *ctx, unsigned level, const uint8_t h[SL_HASH_LEN])
{
	struct wstate *w = ctx;
	uint8_t kb[9];
	MDB_val k = { 9, kb };
	MDB_val v = { SL_HASH_LEN, (void *)h };

	be64(kb, w->seq);
	kb[8] = (uint8_t)level;
	w->mrc = wput(w, WC_TREE, w->dtxn, w->s->tree, &k, &v);
	return w->mrc ? SL_ESTORE : 0;
}

static int is_client_type(int type)
{
	return type >= SL_ET_DECISION && type <= SL_ET_INFORM_UPDATE;
}

/* The idempotency key prefix + id into kb (ids are at most 128 bytes; a
 * longer one is cut, as it never reaches here). */
static size_t id_key(char kb[300], const char *prefix, const char *id)
{
	size_t p = strlen(prefix);
	size_t n = strlen(id);

	if (p > 32)
		p = 32;
	if (n > 300 - 32)
		n = 300 - 32;
	memcpy(kb, prefix, p);
	memcpy(kb + p, id, n);
	return p + n;
}

/* Look up an idempotency key; 1 found (seq, hash filled), 0 not, <0 err */
static int id_get(MDB_txn *txn, MDB_dbi dbi, const char *prefix,
    const char *id, uint64_t *seq, uint8_t hash[SL_HASH_LEN], int *mrc)
{
	char kb[300];
	MDB_val k;
	MDB_val v;

	k.mv_size = id_key(kb, prefix, id);
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

	k.mv_size = id_key(kb, prefix, id);
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

/* The content hash's message, for idempotency, into s->chm: the type
 * and the submitter, each with its NUL, then the canonical record. */
static int content_msg(struct sl_store *s, const struct sl_store_item *it,
    const uint8_t *rec, size_t reclen, struct sl_err *e)
{
	const char *tn = sl_entry_type_name(it->type);

	sl_buf_reset(&s->chm);
	if (sl_buf_add(&s->chm, tn, strlen(tn) + 1) ||
	    sl_buf_add(&s->chm, it->submitted_by,
	    strlen(it->submitted_by) + 1) ||
	    sl_buf_add(&s->chm, rec, reclen))
		return sl_err_set(e, SL_ENOMEM, "out of memory hashing a "
		    "record");
	return 0;
}

static int content_hash(uint8_t out[SL_HASH_LEN], struct sl_store *s,
    const struct sl_store_item *it, const uint8_t *rec, size_t reclen,
    struct sl_err *e)
{
	struct sl_hash_part part;
	int rc = content_msg(s, it, rec, reclen, e);

	if (rc)
		return rc;
	part.p = s->chm.data;
	part.n = s->chm.len;
	return sl_hash_sha256v(out, s->hash, &part, 1) ?
	    sl_err_set(e, SL_ECRYPTO, "cannot hash a record") : 0;
}

/*
 * An item's content hash and its entry's leaf hash at once (sl_sha2x:
 * two SHA-256 streams interleave on the one core, the writer's two
 * largest hashes of every append). The entry is built first, as it
 * will be stored if the item is new; a retry's is simply not stored.
 */
static int hash_pair(struct sl_store *s, struct sl_store_item *it,
    const uint8_t *rec, size_t reclen, const uint8_t prev[SL_HASH_LEN],
    uint8_t chash[SL_HASH_LEN], struct sl_err *e)
{
	int rc;

	sl_buf_reset(&s->ent);
	rc = sl_entry_build(&s->ent, prev, rec, reclen, it->recorded_ms,
	    it->seq, it->submitted_by, it->type, e);
	if (!rc)
		rc = content_msg(s, it, rec, reclen, e);
	if (rc)
		return rc;
	/* the leaf's prefix is 0x00; the content message's is its own
	 * first byte */
	sl_sha2x_pair(it->leaf, chash, 0x00, s->ent.data, s->ent.len,
	    s->chm.data[0], s->chm.data + 1, s->chm.len - 1);
	return 0;
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

static int derive_span(struct sl_store *s, MDB_txn *mt, struct wstate *w,
    uint64_t from, uint64_t to, struct sl_err *e);
static int log_size(struct sl_store *s, MDB_txn *mt, uint64_t *size);

/*
 * With the write locks held: derive what store/derived lacks (a writer
 * that stopped between its two commits, or whose second one failed), and
 * re-read the tip if another process appended since we last looked.
 */
static int refresh_state(struct sl_store *s, struct wstate *w,
    struct sl_err *e)
{
	uint8_t leaf[SL_HASH_LEN];
	uint64_t tip = 0;
	uint64_t n = 0;
	int rc;
	int mrc;

	mrc = log_size(s, w->txn, &tip);
	if (mrc)
		return lmdb_err(e, mrc, "cannot read the store");
	if (get_through(w->dtxn, s->dmeta, &n, leaf) < 0 || n > tip)
		return sl_err_set(e, SL_ESTORE, "the store's derived tables "
		    "are not this log's; restart sharelogd, which builds them "
		    "again from the entries");
	if (n < tip) {
		rc = derive_span(s, w->txn, w, n, tip, e);
		if (rc)
			return rc;
	}
	if (tip == s->size)
		return 0;
	return load_state(s, w->txn, w->dtxn, e);
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
	/* the content hash a retry is matched by names the submitter, as
	 * when the record was first taken (the envelope's quotes around it
	 * make it a JSON string to decode) */
	free(s->raw_sub);
	s->raw_sub = NULL;
	if (sl_record_value_dup(&s->raw_sub, ev.submitted_by - 1,
	    ev.submitted_by_len + 2))
		return sl_err_set(e, SL_ENOMEM, "entry %llu: out of memory",
		    (unsigned long long)size);
	it->submitted_by = s->raw_sub;
	return sl_hash_leaf(it->leaf, s->hash, it->raw, it->raw_len);
}

size_t sl_store_refs_of(uint8_t out[SL_STORE_REFS_MAX],
    const struct sl_record_view *v)
{
	const uint8_t *c;
	const uint8_t *cs;
	size_t cl;
	int child;

	pthread_once(&fields_once, fields_init);
	c = f_child_ref >= 0 ? v->val[f_child_ref] : NULL;
	cs = f_case_ref >= 0 ? v->val[f_case_ref] : NULL;
	cl = cs ? v->len[f_case_ref] : 0;
	child = c && v->len[f_child_ref] == 2 * SL_HASH_LEN + 2 &&
	    c[0] == '"' && !sl_enc_unhex(out, SL_HASH_LEN, (const char *)c + 1,
	    2 * SL_HASH_LEN);
	if (!child)
		memset(out, 0, SL_HASH_LEN);
	if (!cs || cl <= 2 || cl > CASE_MAX || cs[0] != '"')
		cl = 0;
	if (cl)
		memcpy(out + SL_HASH_LEN, cs, cl);
	return child || cl ? SL_HASH_LEN + cl : 0;
}

/*
 * Write what the readers derive from one entry, at append time: its
 * summary for the reports (seq -> the kept form) and its refs (seq -> the
 * child_ref's 32 bytes, zero when it has none, then case_ref's canonical
 * JSON string when it has one), which the index environment is built from
 * and which lookups scan beyond the index. @rec is the entry's record in
 * canonical form. Writes are appends: seqs come in order.
 */
static int derive(struct wstate *w, uint64_t seq, int type,
    int64_t recorded_ms, const uint8_t *rec, size_t reclen)
{
	struct sl_store *s = w->s;
	MDB_txn *txn = w->dtxn;
	struct sl_record_view *v;
	uint8_t kb[8];
	uint8_t rb[SL_STORE_REFS_MAX];
	MDB_val k = { 8, kb };
	MDB_val val;
	int walked;
	int mrc = 0;

	/* the view is ~3 KB: off the writer's stack, and made once (derive
	 * runs under the store's write lock, one entry at a time) */
	if (!s->dview)
		s->dview = malloc(sizeof(*s->dview));
	v = s->dview;
	if (!v)
		return ENOMEM;
	be64(kb, seq);
	{
		struct sl_summary sum;
		uint8_t sb[SL_SUMMARY_LEN];

		walked = !sl_summary_of_record(&sum, v, rec, reclen, type,
		    recorded_ms, s->hash);
		sl_summary_encode(sb, &sum);
		val.mv_size = SL_SUMMARY_LEN;
		val.mv_data = sb;
		mrc = wput(w, WC_SUMMARIES, txn, s->summaries, &k, &val);
	}
	s->klen = 0;
	if (!mrc && s->keeper) {
		val.mv_size = s->keeper->keep(s->keeper->ctx, s->kbuf, type,
		    recorded_ms, walked ? v : NULL);
		val.mv_data = s->kbuf;
		mrc = wput(w, WC_JUDGEMENTS, txn, s->judgements, &k, &val);
		s->klen = val.mv_size;
	}
	if (!mrc) {
		val.mv_size = sl_store_refs_of(rb, v);
		val.mv_data = rb;
		if (val.mv_size)
			mrc = wput(w, WC_REFS, txn, s->refs, &k, &val);
	}
	return mrc;
}

/* ---- the derived environment ---------------------------------------- */

/*
 * Every table but the entries, the checkpoints and meta holds what the
 * entries give: the Merkle nodes, the ids a retry is matched by, the
 * threads, the summaries and the refs. Written into the log's environment
 * they were most of a commit's pages, scattered over the file, and this
 * disk's fdatasync costs about 45 us per run of pages it writes: the
 * commit, not the CPU, held the service back. They live in store/derived,
 * written in the same commit window (the log's transaction is committed,
 * and synced, first) but never synced: the log is what a 201 promises.
 * Its meta "through" holds how far it reaches (u64be n || the leaf hash
 * of entry n-1), in the same transaction as its rows, so a crash between
 * the two commits leaves it behind, never ahead, and the next writer
 * derives the gap first. LMDB survives a process crash unsynced (the page
 * cache keeps every write); a machine restart may leave a torn file. So
 * the log's meta "derived_boot" names the boot the derived tables were
 * last written in: any other boot, and the next writable open builds them
 * again from the entries, and readers do not use them meanwhile.
 */

/* Address space for store/derived: fixed, like the index's, so no
 * reader ever adopts a grown map; the file grows only as it fills. */
#define DV_MAP ((size_t)1 << 37)

/* Entries derived per transaction when store/derived is built again. */
#define DV_STEP 65536

/* Where a side environment (store/derived, store/index) reaches: its meta
 * "through" = u64be n || the leaf hash of entry n-1. */
static const MDB_val through_key = { 7, (void *)"through" };

static char boot_override[64];
static int fail_dcommit;
static int fail_cp;

/* Meta of store/derived naming who made its kept judgements. */
static const MDB_val judged_key = { 9, (void *)"judged_by" };

void sl_store__fail_derived_commit(int on)
{
	fail_dcommit = on;
}

void sl_store__fail_checkpoint(int on)
{
	fail_cp = on;
}

uint64_t sl_store_derived_failures(const struct sl_store *s,
    const char **last)
{
	if (last)
		*last = s->dfail ? mdb_strerror(s->dfail_rc) : NULL;
	return s->dfail;
}

void sl_store__set_boot_id(const char *id)
{
	snprintf(boot_override, sizeof(boot_override), "%s", id ? id : "");
}

/* This boot's id; one that can never match when it cannot be read, so
 * that store/derived is then built again rather than trusted. */
static void boot_id(char out[64])
{
	FILE *f;
	size_t n = 0;

	if (*boot_override) {
		snprintf(out, 64, "%s", boot_override);
		return;
	}
	f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (f) {
		n = fread(out, 1, 63, f);
		fclose(f);
	}
	while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
		n--;
	out[n] = '\0';
	if (n == 0)
		snprintf(out, 64, "unknown-%ld-%ld", (long)getpid(),
		    (long)sl_rfc3339_now_ms());
}

/*
 * Open a side environment (store/derived, store/index) at @path into
 * *@env: a fixed @map, @flags for mdb_env_open, its tables @d[0..n) and
 * its "meta" into *@meta, created unless read-only. *@env is NULL on
 * failure (an LMDB code).
 */
static int open_side(struct sl_store *s, MDB_env **env, const char *path,
    size_t map, unsigned flags, const struct dbdef *d, size_t n,
    MDB_dbi *meta)
{
	int ro = s->flags & SL_STORE_RDONLY;
	MDB_txn *txn = NULL;
	struct sl_err e;
	int mrc;

	mrc = mdb_env_create(env);
	if (!mrc)
		mrc = mdb_env_set_maxdbs(*env, 8);
	if (!mrc)
		mrc = mdb_env_set_mapsize(*env, map);
	if (!mrc)
		mrc = mdb_env_open(*env, path, MDB_NOTLS | flags |
		    (ro ? MDB_RDONLY : 0), 0600);
	if (!mrc)
		mrc = mdb_txn_begin(*env, NULL, ro ? MDB_RDONLY : 0, &txn);
	if (!mrc && open_set(s, txn, d, n, !ro, &e))
		mrc = MDB_INCOMPATIBLE;
	if (!mrc)
		mrc = mdb_dbi_open(txn, "meta", ro ? 0 : MDB_CREATE, meta);
	if (!mrc) {
		mrc = mdb_txn_commit(txn);
		txn = NULL;
	}
	if (txn)
		mdb_txn_abort(txn);
	if (mrc) {
		mdb_env_close(*env);
		*env = NULL;
	}
	return mrc;
}

static int open_derived_env(struct sl_store *s, const char *path)
{
	return open_side(s, &s->dv, path, DV_MAP, MDB_NOSYNC, derived_dbs,
	    NDBS(derived_dbs), &s->dmeta);
}

/* A side environment's "through" from @meta in @txn: *n and the leaf
 * recorded for entry n-1. 0 read, 1 none recorded (an empty one), -1
 * unreadable. */
static int get_through(MDB_txn *txn, MDB_dbi meta, uint64_t *n,
    uint8_t leaf[SL_HASH_LEN])
{
	MDB_val k = through_key;
	MDB_val v;
	int mrc = mdb_get(txn, meta, &k, &v);

	*n = 0;
	memset(leaf, 0, SL_HASH_LEN);
	if (mrc == MDB_NOTFOUND)
		return 1;
	if (mrc || v.mv_size != 8 + SL_HASH_LEN)
		return -1;
	*n = rd64(v.mv_data);
	memcpy(leaf, (uint8_t *)v.mv_data + 8, SL_HASH_LEN);
	return 0;
}

static int put_through(MDB_txn *txn, MDB_dbi meta, uint64_t n,
    const uint8_t leaf[SL_HASH_LEN])
{
	uint8_t vb[8 + SL_HASH_LEN];
	MDB_val k = through_key;
	MDB_val v = { sizeof(vb), vb };

	be64(vb, n);
	memcpy(vb + 8, leaf, SL_HASH_LEN);
	return mdb_put(txn, meta, &k, &v, 0);
}

/* The leaf hash of entry @seq of the log in @mt. */
static int leaf_of(struct sl_store *s, MDB_txn *mt, uint64_t seq,
    uint8_t out[SL_HASH_LEN])
{
	uint8_t kb[8];
	MDB_val k = { 8, kb };
	MDB_val v;
	int mrc;

	be64(kb, seq);
	mrc = mdb_get(mt, s->entries, &k, &v);
	if (mrc)
		return mrc;
	return sl_hash_leaf(out, s->hash, v.mv_data, v.mv_size) ?
	    MDB_CORRUPTED : 0;
}

/* The log's size in @mt. */
static int log_size(struct sl_store *s, MDB_txn *mt, uint64_t *size)
{
	int found = 0;
	int mrc = last_u64(mt, s->entries, size, &found);

	if (found)
		(*size)++;
	return mrc;
}

/* Every derived row of one entry (@it: its seq, type, time and leaf; @rb
 * its canonical record; @chash its content hash), into w->dtxn. */
static int derive_rows(struct wstate *w, struct sl_merkle_range *range,
    const struct sl_store_item *it, const uint8_t *rb, size_t rl,
    const char *rid, const char *did, const uint8_t chash[SL_HASH_LEN])
{
	struct sl_store *s = w->s;
	MDB_txn *dt = w->dtxn;
	int mrc;

	mrc = derive(w, it->seq, it->type, it->recorded_ms, rb, rl);
	if (mrc)
		return mrc;
	w->seq = it->seq;
	if (put_node(w, 0, it->leaf) ||
	    sl_merkle_range_push_cb(range, s->hash, it->leaf, 0, put_node, w))
		return w->mrc ? w->mrc : MDB_PANIC;
	if (is_client_type(it->type) && rid) {
		mrc = id_put(dt, s->ids, "r:", rid, it->seq, chash);
		if (mrc)
			return mrc;
	}
	if (it->type == SL_ET_DECISION && did) {
		mrc = id_put(dt, s->ids, "d:", did, it->seq, chash);
		if (mrc)
			return mrc;
	}
	if (did)
		mrc = put_dup(dt, s->threads, did, strlen(did), it->seq);
	return mrc;
}

/* Derive entries [@from, @to) of the log in @mt into w->dtxn, which
 * reaches @from; then record that it reaches @to. */
static int derive_span(struct sl_store *s, MDB_txn *mt, struct wstate *w,
    uint64_t from, uint64_t to, struct sl_err *e)
{
	struct sl_merkle_range range;
	uint8_t last[SL_HASH_LEN];
	uint8_t kb[8];
	MDB_cursor *c = NULL;
	MDB_val k = { 8, kb };
	MDB_val v;
	json_t *parsed = NULL;
	uint64_t seq = from;
	int rc = 0;
	int mrc;

	if (load_range(s, w->dtxn, from, &range, last))
		return sl_err_set(e, SL_ESTORE, "the derived tables' Merkle "
		    "nodes below entry %llu are missing or damaged",
		    (unsigned long long)from);
	be64(kb, from);
	mrc = mdb_cursor_open(mt, s->entries, &c);
	if (!mrc && from < to)
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (!mrc && seq < to) {
		struct sl_store_item it;
		uint8_t chash[SL_HASH_LEN];

		memset(&it, 0, sizeof(it));
		if (k.mv_size != 8 || rd64(k.mv_data) != seq) {
			mrc = MDB_CORRUPTED;
			break;
		}
		it.raw = v.mv_data;
		it.raw_len = v.mv_size;
		json_decref(parsed);
		parsed = NULL;
		rc = raw_item(&it, s, seq, last, &parsed, e);
		if (!rc) {
			sl_buf_reset(&s->rec);
			rc = sl_jcs_write(&s->rec, parsed, e);
		}
		if (!rc)
			rc = content_hash(chash, s, &it, s->rec.data,
			    s->rec.len, e);
		if (rc)
			break;
		mrc = derive_rows(w, &range, &it, s->rec.data, s->rec.len,
		    str_field(parsed, "record_id"),
		    str_field(parsed, "decision_id"), chash);
		memcpy(last, it.leaf, SL_HASH_LEN);
		if (!mrc && ++seq < to)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (c)
		mdb_cursor_close(c);
	json_decref(parsed);
	if (!rc && !mrc)
		mrc = put_through(w->dtxn, s->dmeta, to, last);
	if (!rc && mrc)
		rc = mrc == MDB_NOTFOUND || mrc == MDB_CORRUPTED ?
		    sl_err_set(e, SL_ESTORE, "cannot derive entry %llu: it is "
		    "missing or damaged; run sharelog-verify",
		    (unsigned long long)seq) :
		    write_err(s->dv, e, mrc, "cannot derive the store's tables");
	return rc;
}

/*
 * Bring store/derived up to the log, DV_STEP entries per transaction.
 * SL_ESTORE when it cannot be read or was built from another history
 * (it reaches past the log, or its last leaf is not the log's).
 */
static int derived_catch_up(struct sl_store *s, struct sl_err *e)
{
	for (;;) {
		struct wstate w = { s, NULL, NULL, 0, 0, { NULL } };
		MDB_txn *mt = NULL;
		uint8_t leaf[SL_HASH_LEN];
		uint8_t want[SL_HASH_LEN];
		uint64_t n = 0;
		uint64_t size = 0;
		int rc = 0;
		int mrc;

		mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &mt);
		if (!mrc)
			mrc = mdb_txn_begin(s->dv, NULL, 0, &w.dtxn);
		if (!mrc)
			mrc = log_size(s, mt, &size);
		if (mrc) {
			rc = lmdb_err(e, mrc, "cannot derive the store's "
			    "tables");
		} else if (get_through(w.dtxn, s->dmeta, &n, leaf) < 0 ||
		    n > size || (n && (leaf_of(s, mt, n - 1, want) ||
		    memcmp(want, leaf, SL_HASH_LEN)))) {
			rc = sl_err_set(e, SL_ESTORE, "the derived tables are "
			    "not this log's");
		} else if (n < size) {
			rc = derive_span(s, mt, &w, n, size - n > DV_STEP ?
			    n + DV_STEP : size, e);
			if (!rc) {
				mrc = mdb_txn_commit(w.dtxn);
				w.dtxn = NULL;
				if (mrc)
					rc = write_err(s->dv, e, mrc, "cannot "
					    "derive the store's tables");
			}
		}
		if (w.dtxn)
			mdb_txn_abort(w.dtxn);
		if (mt)
			mdb_txn_abort(mt);
		if (rc || n >= size)
			return rc;
	}
}

/*
 * 1 when store/derived's kept judgements are this store's keeper's and
 * are there for every entry it reaches (or there is no keeper: the mark
 * is then dropped, below). A writer without the keeper leaves entries
 * without one, and a reader could not tell them from a missing row.
 */
static int keeper_agrees(struct sl_store *s)
{
	MDB_txn *t = NULL;
	MDB_val k = judged_key;
	MDB_val v;
	MDB_stat st;
	uint8_t leaf[SL_HASH_LEN];
	uint64_t n = 0;
	int ok = 0;

	if (!s->keeper)
		return 1;
	if (mdb_txn_begin(s->dv, NULL, MDB_RDONLY, &t))
		return 0;
	if (get_through(t, s->dmeta, &n, leaf) < 0)
		ok = 0;
	else if (!n)
		ok = 1;      /* nothing derived yet */
	else
		ok = !mdb_get(t, s->dmeta, &k, &v) &&
		    v.mv_size == SL_HASH_LEN &&
		    !memcmp(v.mv_data, s->keeper->id, SL_HASH_LEN) &&
		    !mdb_stat(t, s->judgements, &st) && st.ms_entries == n;
	mdb_txn_abort(t);
	return ok;
}

/* Record who kept the judgements (or that nobody does, any more). */
static int mark_keeper(struct sl_store *s)
{
	MDB_txn *t = NULL;
	MDB_val k = judged_key;
	MDB_val v = { SL_HASH_LEN, NULL };
	int mrc = mdb_txn_begin(s->dv, NULL, 0, &t);

	if (!mrc && s->keeper) {
		v.mv_data = (void *)s->keeper->id;
		mrc = mdb_put(t, s->dmeta, &k, &v, 0);
	} else if (!mrc) {
		mrc = mdb_del(t, s->dmeta, &k, NULL);
		if (mrc == MDB_NOTFOUND)
			mrc = 0;
		if (!mrc)
			mrc = mdb_drop(t, s->judgements, 0);
	}
	if (!mrc)
		return mdb_txn_commit(t);
	if (t)
		mdb_txn_abort(t);
	return mrc;
}

/* Remove store/derived's files (it is built again from the log). */
static void derived_remove(const char *path)
{
	char file[4200];

	snprintf(file, sizeof(file), "%s/data.mdb", path);
	unlink(file);
	snprintf(file, sizeof(file), "%s/lock.mdb", path);
	unlink(file);
}

/*
 * Open store/derived. Read-only: use it when @trusted (else DV_NONE), or
 * a format 1 store's own tables (@v1). Writable: trust it only when
 * @trusted, bring it up to the log (building it again when it cannot be
 * read or is another log's), then record this boot in the log's meta and,
 * for a format 1 store, drop its own tables and mark it format 2.
 */
static int open_derived(struct sl_store *s, const char *dir, int v1,
    int trusted, struct sl_err *e)
{
	static const char *const old[] = { "tree", "ids", "threads",
	    "summaries", "refs", "subjects", "cases" };
	char path[4096];
	char file[4200];
	char boot[64];
	MDB_txn *txn = NULL;
	size_t i;
	int attempt;
	int rc = 0;
	int mrc;

	snprintf(path, sizeof(path), "%s/derived", dir);
	snprintf(file, sizeof(file), "%s/data.mdb", path);
	if (s->flags & SL_STORE_RDONLY) {
		if (v1)
			s->dv_at = DV_MAIN;
		else if (trusted && !access(file, R_OK) &&
		    !open_derived_env(s, path))
			s->dv_at = DV_OWN;
		else
			s->dv_at = DV_NONE;
		return 0;
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return sl_err_set(e, SL_EIO, "cannot create %s: %s", path,
		    strerror(errno));
	for (attempt = 0; attempt < 2; attempt++) {
		if (!trusted || attempt)
			derived_remove(path);
		mrc = open_derived_env(s, path);
		if (!mrc && !attempt && trusted && !keeper_agrees(s)) {
			/* judged by another keeper, or not every entry:
			 * all built again, with this one */
			mdb_env_close(s->dv);
			s->dv = NULL;
			derived_remove(path);
			mrc = open_derived_env(s, path);
		}
		if (mrc) {
			rc = lmdb_err(e, mrc, "cannot open the store's "
			    "derived tables");
			continue;
		}
		rc = derived_catch_up(s, e);
		if (!rc && (mrc = mark_keeper(s)) != 0)
			rc = lmdb_err(e, mrc, "cannot open the store's "
			    "derived tables");
		if (!rc)
			break;
		mdb_env_close(s->dv);
		s->dv = NULL;
	}
	if (rc)
		return rc;
	s->dv_at = DV_OWN;
	boot_id(boot);
	mrc = mdb_txn_begin(s->env, NULL, 0, &txn);
	for (i = 0; v1 && !mrc && i < sizeof(old) / sizeof(old[0]); i++) {
		MDB_dbi d;

		mrc = mdb_dbi_open(txn, old[i], 0, &d);
		if (!mrc)
			mrc = mdb_drop(txn, d, 1);
		else if (mrc == MDB_NOTFOUND)
			mrc = 0;
	}
	if (!mrc && v1)
		mrc = put_meta(s, txn, "format", SL_STORE_FORMAT);
	if (!mrc && v1)
		mrc = put_meta(s, txn, "refs", "complete");
	if (!mrc)
		mrc = put_meta(s, txn, "derived_boot", boot);
	if (!mrc) {
		mrc = mdb_txn_commit(txn);
		txn = NULL;
	}
	if (txn)
		mdb_txn_abort(txn);
	if (mrc)
		return lmdb_err(e, mrc, "cannot open the store");
	s->has_refs = 1;
	return 0;
}

/*
 * One attempt at the whole batch in one write transaction. Returns 0, a
 * negative SL_E* code (e filled), or a positive LMDB code (MDB_MAP_FULL is
 * retried by the caller after the map has grown). @dry not NULL: a check
 * only, everything up to the commit, then the transactions are abandoned
 * and *dry gets how many new entries the batch would have made.
 */
static int append_once(struct sl_store *s, struct sl_store_source *src,
    uint64_t *count, const char *origin, uint64_t *dry, struct sl_err *e)
{
	struct wstate w = { s, NULL, NULL, 0, 0, { NULL } };
	struct sl_merkle_range range = s->range;
	uint64_t sealed = 0;
	uint8_t last[SL_HASH_LEN];
	uint64_t size = s->size;
	int64_t last_ms = s->last_ms;
	int64_t now = sl_rfc3339_now_ms();
	json_t *parsed = NULL;
	int rc = 0;
	int mrc;

	*count = 0;
	/* the log's write lock, then store/derived's: in that order in
	 * every process */
	mrc = mdb_txn_begin(s->env, NULL, 0, &w.txn);
	if (mrc)
		return lmdb_err(e, mrc, "cannot begin a write");
	mrc = mdb_txn_begin(s->dv, NULL, 0, &w.dtxn);
	if (mrc) {
		mdb_txn_abort(w.txn);
		return lmdb_err(e, mrc, "cannot begin a write");
	}
	rc = refresh_state(s, &w, e);
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
		it->kept_len = 0;
		it->kept_by = NULL;
		if (it->raw) {
			rc = raw_item(it, s, size, last, &parsed, e);
			if (rc)
				goto out;
			rec = parsed;
		}
		if (rec) {
			rid = str_field(rec, "record_id");
			did = str_field(rec, "decision_id");
			sl_buf_reset(&s->rec);
			rc = sl_jcs_write(&s->rec, rec, e);
			rb = s->rec.data;
			rl = s->rec.len;
		} else {
			rid = it->record_id;
			did = it->decision_id;
			rb = it->canon;
			rl = it->canon_len;
		}
		if (!rc && it->raw) {
			rc = content_hash(chash, s, it, rb, rl, e);
		} else if (!rc) {
			/* its place if it is new; a retry gets the original's */
			it->seq = size;
			it->recorded_ms = now > last_ms ? now : last_ms;
			rc = hash_pair(s, it, rb, rl, last, chash, e);
		}
		if (rc)
			goto out;
		if (!it->raw && is_client_type(it->type) && rid) {
			found = id_get(w.dtxn, s->ids, "r:", rid, &oseq, ohash,
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
			found = id_get(w.dtxn, s->ids, "d:", did, &oseq, ohash,
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
		be64(kb, it->seq);
		v.mv_size = it->raw ? it->raw_len : s->ent.len;
		v.mv_data = it->raw ? (void *)it->raw : s->ent.data;
		mrc = wput(&w, WC_ENTRIES, w.txn, s->entries, &k, &v);
		if (mrc)
			goto lmdb;
		mrc = derive_rows(&w, &range, it, rb, rl, rid, did, chash);
		if (mrc == MDB_MAP_FULL) {
			rc = sl_err_set(e, SL_ESTORE, "cannot append: the "
			    "store's derived tables are full (%zu GiB)",
			    DV_MAP >> 30);
			goto out;
		}
		if (mrc)
			goto lmdb;
		/* the caller's copy of the judgement just kept (a bundle's
		 * entry is not the caller's to judge: it came whole) */
		if (!it->raw && it->kept && s->klen && s->klen <= it->kept_cap) {
			memcpy(it->kept, s->kbuf, s->klen);
			it->kept_len = s->klen;
			it->kept_by = s->keeper->id;
		}
		size++;
		last_ms = it->recorded_ms;
		memcpy(last, it->leaf, SL_HASH_LEN);
	}
	json_decref(parsed);
	parsed = NULL;
	if (dry) {
		*dry = size - s->size;
		rc = 0;
		goto out;
	}
	mrc = put_through(w.dtxn, s->dmeta, size, last);
	if (!mrc && s->sealer && size > s->size)
		mrc = seal_in(s, w.txn, size, &range, &sealed);
	if (mrc)
		goto lmdb;
	/* The log first: synced, it is what the caller is told. Should
	 * store/derived's commit fail, it is behind, and the next write
	 * derives what it lacks before anything else. */
	mrc = mdb_txn_commit(w.txn);
	w.txn = NULL;
	if (mrc)
		goto lmdb;
	mrc = fail_dcommit ? (mdb_txn_abort(w.dtxn), EIO) :
	    mdb_txn_commit(w.dtxn);
	w.dtxn = NULL;
	if (mrc) {
		s->dfail++;
		s->dfail_rc = mrc;
	}
	s->size = size;
	s->last_ms = last_ms;
	s->range = range;
	if (sealed)
		s->sealed = sealed;
	memcpy(s->last_leaf, last, SL_HASH_LEN);
	if (origin)
		snprintf(s->origin, sizeof(s->origin), "%s", origin);
	return 0;
lmdb:
	json_decref(parsed);
	if (w.dtxn)
		mdb_txn_abort(w.dtxn);
	if (w.txn)
		mdb_txn_abort(w.txn);
	if (mrc == MDB_MAP_FULL)
		return MDB_MAP_FULL;
	return write_err(s->env, e, mrc, "cannot append to the store");
out:
	json_decref(parsed);
	if (w.dtxn)
		mdb_txn_abort(w.dtxn);
	if (w.txn)
		mdb_txn_abort(w.txn);
	return rc;
}

static int append(struct sl_store *s, struct sl_store_source *src,
    uint64_t *count, const char *origin, uint64_t *dry, struct sl_err *e)
{
	int rc;

	if (s->flags & SL_STORE_RDONLY)
		return sl_err_set(e, SL_EUSAGE, "the store is open read-only");
	for (;;) {
		MDB_envinfo info;

		rc = append_once(s, src, count, origin, dry, e);
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

	return append(s, &src, &count, origin, NULL, e);
}

int sl_store_append_from(struct sl_store *s, struct sl_store_source *src,
    uint64_t *count, struct sl_err *e)
{
	if (s->size == 0)
		return sl_err_set(e, SL_EUSAGE, "the store has no genesis "
		    "entry (run sharelogd init)");
	return append(s, src, count, NULL, NULL, e);
}

int sl_store_append_check(struct sl_store *s, struct sl_store_source *src,
    uint64_t *count, uint64_t *fresh, struct sl_err *e)
{
	if (s->size == 0)
		return sl_err_set(e, SL_EUSAGE, "the store has no genesis "
		    "entry (run sharelogd init)");
	*fresh = 0;
	return append(s, src, count, NULL, fresh, e);
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
		mrc = fail_cp ? EIO : mdb_put(txn, s->checkpoints, &k, &v,
		    MDB_APPEND);
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
	return mrc ? write_err(s->env, e, mrc, "cannot store the checkpoint") :
	    0;
}

/* ---- reading -------------------------------------------------------- */

/*
 * Begin a snapshot; with @ix, one of the index environment too, begun
 * first: the index then never reaches past the snapshot, so one that does
 * was built from another history.
 */
static int read_begin(struct sl_store_txn **out, struct sl_store *s, int ix,
    struct sl_err *e)
{
	struct sl_store_txn *t;
	int mrc;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	t->s = s;
	/* without it, lookups scan refs: slower, never wrong */
	if (ix && s->ix && mdb_txn_begin(s->ix, NULL, MDB_RDONLY, &t->ixt))
		t->ixt = NULL;
	/* store/derived before the log: its commit follows the log's, so
	 * it never reaches past the log's snapshot */
	if (s->dv_at == DV_OWN && mdb_txn_begin(s->dv, NULL, MDB_RDONLY,
	    &t->dtxn)) {
		if (t->ixt)
			mdb_txn_abort(t->ixt);
		free(t);
		return sl_err_set(e, SL_ESTORE, "cannot read the store's "
		    "derived tables");
	}
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
		if (t->ixt)
			mdb_txn_abort(t->ixt);
		if (t->dtxn)
			mdb_txn_abort(t->dtxn);
		free(t);
		return lmdb_err(e, mrc, "cannot read the store");
	}
	/* a damaged tip reads as an empty log: the verifier says so */
	(void)log_size(s, t->txn, &t->size);
	if (s->dv_at == DV_MAIN) {
		t->dtxn = t->txn;
		t->dsize = t->size;
	} else if (t->dtxn) {
		uint8_t leaf[SL_HASH_LEN];

		if (get_through(t->dtxn, s->dmeta, &t->dsize, leaf) < 0 ||
		    t->dsize > t->size)
			t->dsize = 0;
	}
	*out = t;
	return 0;
}

int sl_store_read_begin(struct sl_store_txn **out, struct sl_store *s,
    struct sl_err *e)
{
	return read_begin(out, s, 1, e);
}

int sl_store_read_twin(struct sl_store_txn **out, struct sl_store_txn *t,
    struct sl_err *e)
{
	int rc = read_begin(out, t->s, t->ixt != NULL, e);

	if (rc)
		return rc;
	if (mdb_txn_id((*out)->txn) != mdb_txn_id(t->txn) ||
	    (*out)->size != t->size || !(*out)->ixt != !t->ixt ||
	    (*out)->dsize != t->dsize ||
	    (t->dtxn && t->dtxn != t->txn &&
	    mdb_txn_id((*out)->dtxn) != mdb_txn_id(t->dtxn)) ||
	    (t->ixt && mdb_txn_id((*out)->ixt) != mdb_txn_id(t->ixt))) {
		sl_store_read_end(*out);
		*out = NULL;
		return sl_err_set(e, SL_EBUSY, "the store was written to "
		    "between two reads");
	}
	return 0;
}

void sl_store_read_end(struct sl_store_txn *t)
{
	if (!t)
		return;
	if (t->dtxn && t->dtxn != t->txn)
		mdb_txn_abort(t->dtxn);
	mdb_txn_abort(t->txn);
	if (t->ixt)
		mdb_txn_abort(t->ixt);
	pthread_rwlock_unlock(&t->s->resize);
	free(t);
}

uint64_t sl_store_txn_size(const struct sl_store_txn *t)
{
	return t->size;
}

uint64_t sl_store_txn_derived(const struct sl_store_txn *t)
{
	return t->dsize;
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
	int mrc = t->dtxn ? node_key_get(t->dtxn, t->s->tree, level, index,
	    out) : MDB_NOTFOUND;

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

/* Find file @path's mapping in /proc/self/maps (by device and inode). */
static int find_map(struct mapping *m, const char *path)
{
	struct stat st;
	char line[4608];
	FILE *f;

	if (stat(path, &st))
		return -1;
	f = fopen("/proc/self/maps", "r");
	if (!f)
		return -1;
	m->lo = m->hi = 0;
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
		    makedev(maj, min) == st.st_dev && hi - lo > m->hi - m->lo) {
			m->lo = lo;
			m->hi = hi;
		}
	}
	fclose(f);
	return m->hi ? 0 : -1;
}

static void drop_map(struct mapping *m, const char *path)
{
	if (!m->hi && find_map(m, path))
		return;
	/* A read-only MAP_SHARED file mapping: dropping pages only forgets
	 * them here; the next touch reads the page cache again. */
	if (madvise((void *)m->lo, m->hi - m->lo, MADV_DONTNEED))
		m->hi = 0;  /* the map moved (it grew): look again */
}

void sl_store_drop_range(struct sl_store *s, uintptr_t lo, uintptr_t hi)
{
	pthread_mutex_lock(&s->map_mu);
	if (s->map.hi || !find_map(&s->map, s->path))
		sl_mem_forget(lo, hi, s->map.lo, s->map.hi);
	pthread_mutex_unlock(&s->map_mu);
}

/* Let go of the pages of the environment @at (WHERE_*) that hold them. */
static void drop_at(struct sl_store *s, int at)
{
	char path[4200];
	size_t n = strlen(s->path);

	pthread_mutex_lock(&s->map_mu);
	if (at == WHERE_LOG || (at == WHERE_DERIVED && s->dv_at == DV_MAIN)) {
		drop_map(&s->map, s->path);
		pthread_mutex_unlock(&s->map_mu);
		return;
	}
	n -= n >= 9 ? 9 : n;    /* s->path ends in "/data.mdb" */
	snprintf(path, sizeof(path), "%.*s/%s/data.mdb", (int)n, s->path,
	    at == WHERE_INDEX ? "index" : "derived");
	drop_map(at == WHERE_INDEX ? &s->ixmap : &s->dvmap, path);
	pthread_mutex_unlock(&s->map_mu);
}

/* Resident pages released per step when scanning with RELEASE. */
#define RELEASE_STEP ((size_t)8 << 20)
/* Rows of a lookup table walked between releases. */
#define RELEASE_ROWS 2048

/* Every value of the seq-keyed table @dbi from @start on, in order. */
static int seq_scan(struct sl_store_txn *t, int at, MDB_dbi dbi,
    uint64_t start, sl_store_entry_fn fn, void *ctx, unsigned flags)
{
	MDB_cursor *c;
	uint8_t kb[8];
	MDB_val k = { 8, kb };
	MDB_val v;
	size_t since = 0;
	int mrc;
	int rc = 0;

	if (!txn_at(t, at))
		return SL_ENOTFOUND;
	mrc = mdb_cursor_open(txn_at(t, at), dbi, &c);
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
			drop_at(t->s, at);
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
	return seq_scan(t, WHERE_LOG, t->s->entries, start, fn, ctx, flags);
}

/* One row of a walk; a non-zero return stops it (WALK_END: done, no
 * error). */
typedef int (*row_fn)(void *ctx, const MDB_val *k, const MDB_val *v);
#define WALK_END 0x7fff

/*
 * The rows of @dbi in snapshot @t's environment @at (WHERE_*)
 * from key @from on (the first when NULL), in key order, to @fn; its
 * non-zero return stops the walk and is returned. With @drop, the map's
 * pages are let go every RELEASE_ROWS rows: tables whose pages lie
 * scattered through the file, where each touch maps the (large) folio
 * around it. SL_ESTORE on a read error.
 */
static int walk_rows(struct sl_store_txn *t, int at, MDB_dbi dbi,
    const MDB_val *from, row_fn fn, void *ctx, int drop)
{
	MDB_cursor *c;
	MDB_val k = from ? *from : (MDB_val){ 0, NULL };
	MDB_val v;
	size_t rows = 0;
	int mrc;
	int rc = 0;

	if (!txn_at(t, at))
		return SL_ENOTFOUND;
	mrc = mdb_cursor_open(txn_at(t, at), dbi, &c);
	if (mrc)
		return SL_ESTORE;
	mrc = mdb_cursor_get(c, &k, &v, from ? MDB_SET_RANGE : MDB_FIRST);
	while (!mrc) {
		rc = fn(ctx, &k, &v);
		if (rc)
			break;
		if (drop && ++rows % RELEASE_ROWS == 0)
			drop_at(t->s, at);
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc)
		return rc == WALK_END ? 0 : rc;
	return mrc == MDB_NOTFOUND ? 0 : SL_ESTORE;
}

struct note_walk {
	sl_store_note_fn fn;
	void *ctx;
};

static int note_row(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct note_walk *w = ctx;

	return k->mv_size == 8 ? w->fn(w->ctx, rd64(k->mv_data), v->mv_data,
	    v->mv_size) : 0;
}

int sl_store_checkpoints(struct sl_store_txn *t, sl_store_note_fn fn,
    void *ctx)
{
	struct note_walk w = { fn, ctx };

	return walk_rows(t, WHERE_LOG, t->s->checkpoints, NULL, note_row, &w,
	    0);
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
	int found = t->dtxn ? id_get(t->dtxn, t->s->ids, "r:", record_id, seq,
	    h, &mrc) : 0;

	if (found < 0)
		return SL_ESTORE;
	return found ? 0 : SL_ENOTFOUND;
}

/* Every value below @below of key @key in DUPSORT table @dbi, in order. */
static int dup_scan(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
    uint64_t below, sl_store_seq_fn fn, void *ctx)
{
	MDB_cursor *c;
	MDB_val k = { klen, (void *)key };
	MDB_val v;
	int mrc;
	int rc = 0;

	mrc = mdb_cursor_open(txn, dbi, &c);
	if (mrc)
		return SL_ESTORE;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	while (!mrc) {
		if (v.mv_size == 8) {
			uint64_t seq = rd64(v.mv_data);

			if (seq >= below)
				break;
			rc = fn(ctx, seq);
			if (rc)
				break;
		}
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
	}
	mdb_cursor_close(c);
	if (rc)
		return rc;
	return !mrc || mrc == MDB_NOTFOUND ? 0 : SL_ESTORE;
}

/* ---- the index environment ------------------------------------------ */

/*
 * The subjects and cases indexes have keys that are random by nature (a
 * child's pseudonym, a case reference): written at commit time they
 * dirtied a page each per record, most of a commit's writes on a large
 * store. They live in an LMDB environment of their own (store/index),
 * which sl_store_index() fills from refs in large sorted runs, off the
 * commit path and without holding the store's write lock. Meta "through"
 * holds how far it reaches: u64be n || the leaf hash of entry n-1, so an
 * index built from another history is recognised. Lookups read the index
 * below n and scan refs from n on, so a record is found the moment its
 * commit returns, and a crash between the two environments loses
 * nothing.
 */

/* Address space for the index environment: no file is this big, and a
 * fixed size means no reader ever has to adopt a grown map. */
#define IX_MAP ((size_t)1 << 35)

/* Refs rows per index transaction. */
#define IX_RUN 262144

static const struct dbdef ix_dbs[] = {
	{ "subjects", offsetof(struct sl_store, ix_subjects),
	    MDB_DUPSORT | MDB_DUPFIXED, T_CORE, 0 },
	{ "cases", offsetof(struct sl_store, ix_cases),
	    MDB_DUPSORT | MDB_DUPFIXED, T_CORE, 0 },
};

static int open_index_env(struct sl_store *s, const char *path)
{
	return open_side(s, &s->ix, path, IX_MAP, 0, ix_dbs, NDBS(ix_dbs),
	    &s->ix_meta);
}

/*
 * Open store/index. A read-only open without a usable one goes on
 * without (lookups scan refs); a writable open makes one, and replaces
 * one it cannot open: it only holds what refs can rebuild.
 */
static int open_index(struct sl_store *s, const char *dir, struct sl_err *e)
{
	char path[4096];
	char file[4200];
	int mrc;

	if (!s->has_refs)
		return 0;       /* an older store, read with its own tables */
	snprintf(path, sizeof(path), "%s/index", dir);
	snprintf(file, sizeof(file), "%s/data.mdb", path);
	if (s->flags & SL_STORE_RDONLY) {
		if (!access(file, R_OK))
			(void)open_index_env(s, path);
		return 0;
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return sl_err_set(e, SL_EIO, "cannot create %s: %s", path,
		    strerror(errno));
	mrc = open_index_env(s, path);
	if (mrc && mrc != ENOMEM && mrc != EACCES) {
		unlink(file);
		snprintf(file, sizeof(file), "%s/lock.mdb", path);
		unlink(file);
		mrc = open_index_env(s, path);
	}
	return mrc ? lmdb_err(e, mrc, "cannot open the store's index") : 0;
}

/*
 * How far the index environment reaches into the snapshot @main of @size
 * entries, read from "through" in @ixt into *n: 0 when it is usable, -1
 * when it was built from another history (it reaches past the snapshot,
 * which its own is never older than, or entry n-1's leaf is not the one
 * it recorded).
 */
static int ix_reach(struct sl_store *s, MDB_txn *ixt, MDB_txn *dt,
    uint64_t size, uint64_t *n)
{
	uint8_t got[SL_HASH_LEN];
	uint8_t leaf[SL_HASH_LEN];
	int r = get_through(ixt, s->ix_meta, n, got);

	if (r > 0 || (r == 0 && *n == 0))
		return 0;
	if (r < 0 || *n > size || !dt ||
	    node_key_get(dt, s->tree, 0, *n - 1, leaf) ||
	    memcmp(leaf, got, SL_HASH_LEN)) {
		*n = 0;
		return -1;
	}
	return 0;
}

/* What refs_scan() looks for: the child (@which 0, 32 bytes) or the
 * case_ref (1, its canonical string). */
struct refs_match {
	int which;
	const void *key;
	size_t klen;
	sl_store_seq_fn fn;
	void *ctx;
};

static int refs_match_cb(void *ctx, uint64_t seq, const uint8_t *p,
    size_t n)
{
	struct refs_match *m = ctx;

	if (m->which == 0 ? n >= SL_HASH_LEN &&
	    !memcmp(p, m->key, SL_HASH_LEN) :
	    n == SL_HASH_LEN + m->klen &&
	    !memcmp(p + SL_HASH_LEN, m->key, m->klen))
		return m->fn(m->ctx, seq);
	return 0;
}

/* Every seq from @from on in snapshot @t whose refs hold @key. */
static int refs_scan(struct sl_store_txn *t, uint64_t from, int which,
    const void *key, size_t klen, sl_store_seq_fn fn, void *ctx)
{
	struct refs_match m = { which, key, klen, fn, ctx };

	return seq_scan(t, WHERE_DERIVED, t->s->refs, from, refs_match_cb, &m,
	    0);
}

/* Lookup by child (@which 0) or case_ref (1): the index, then refs. */
static int ref_lookup(struct sl_store_txn *t, int which, const void *key,
    size_t klen, sl_store_seq_fn fn, void *ctx)
{
	struct sl_store *s = t->s;
	uint64_t from = 0;
	int rc;

	if (t->ixt && !ix_reach(s, t->ixt, t->dtxn, t->dsize, &from) && from) {
		rc = dup_scan(t->ixt, which ? s->ix_cases : s->ix_subjects, key,
		    klen, from, fn, ctx);
		if (rc)
			return rc;
	}
	return refs_scan(t, from, which, key, klen, fn, ctx);
}

struct ixrow {
	const uint8_t *p;       /* refs value, in the snapshot */
	size_t n;
	uint64_t seq;
};

static int by_child(const void *a, const void *b)
{
	const struct ixrow *x = a;
	const struct ixrow *y = b;
	/* the refs are hashes: their first eight bytes almost always
	 * decide, compared as one number (big-endian, so in memcmp's order) */
	uint64_t xh = rd64(x->p);
	uint64_t yh = rd64(y->p);
	int c = xh != yh ? (xh > yh) - (xh < yh) :
	    memcmp(x->p + 8, y->p + 8, SL_HASH_LEN - 8);

	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* LMDB's default key order: bytes, then the shorter first. */
static int by_case(const void *a, const void *b)
{
	const struct ixrow *x = a;
	const struct ixrow *y = b;
	size_t xn = x->n - SL_HASH_LEN;
	size_t yn = y->n - SL_HASH_LEN;
	int c = memcmp(x->p + SL_HASH_LEN, y->p + SL_HASH_LEN,
	    xn < yn ? xn : yn);

	if (!c)
		c = (xn > yn) - (xn < yn);
	return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* Put rows[0..n) into @dbi under the child (@which 0) or case key. */
static int ix_put(MDB_txn *ixt, MDB_dbi dbi, int which, struct ixrow *rows,
    size_t n)
{
	static const uint8_t zero[SL_HASH_LEN];
	MDB_cursor *c;
	size_t i;
	int mrc = 0;

	if (n == 0)
		return 0;
	qsort(rows, n, sizeof(*rows), which ? by_case : by_child);
	/* one cursor for the run: the keys come in order, and LMDB puts
	 * one that falls on the cursor's leaf page without searching the
	 * tree from its root again */
	mrc = mdb_cursor_open(ixt, dbi, &c);
	if (mrc)
		return mrc;
	for (i = 0; i < n && !mrc; i++) {
		uint8_t vb[8];
		MDB_val k;
		MDB_val v = { 8, vb };

		if (which == 0) {
			if (!memcmp(rows[i].p, zero, SL_HASH_LEN))
				continue;
			k.mv_size = SL_HASH_LEN;
			k.mv_data = (void *)rows[i].p;
		} else {
			if (rows[i].n == SL_HASH_LEN)
				continue;
			k.mv_size = rows[i].n - SL_HASH_LEN;
			k.mv_data = (void *)(rows[i].p + SL_HASH_LEN);
		}
		be64(vb, rows[i].seq);
		mrc = mdb_cursor_put(c, &k, &v, 0);
	}
	mdb_cursor_close(c);
	return mrc;
}

/* The refs rows of one index run: up to @max, all below @size. */
struct ixrun {
	struct ixrow *rows;
	size_t n;
	size_t cap;
	size_t max;
	uint64_t size;
};

static int run_add(void *ctx, uint64_t seq, const uint8_t *p, size_t n)
{
	struct ixrun *r = ctx;

	if (r->n >= r->max || seq >= r->size)
		return 1;
	if (n < SL_HASH_LEN || n > SL_STORE_REFS_MAX)
		return 0;       /* not a row the store writes */
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 4096;
		struct ixrow *nr = realloc(r->rows, nc * sizeof(*nr));

		if (!nr)
			return SL_ENOMEM;
		r->rows = nr;
		r->cap = nc;
	}
	r->rows[r->n].p = p;
	r->rows[r->n].n = n;
	r->rows[r->n].seq = seq;
	r->n++;
	return 0;
}

int sl_store_index(struct sl_store *s, uint64_t max, uint64_t *left,
    struct sl_err *e)
{
	struct sl_store_txn *t = NULL;
	MDB_txn *ixt = NULL;
	struct ixrun run = { NULL, 0, 0, 0, 0 };
	uint64_t from = 0;
	uint64_t to;
	uint8_t leaf[SL_HASH_LEN];
	int dropped = 0;
	int rc = 0;
	int mrc;

	*left = 0;
	if (!s->ix || (s->flags & SL_STORE_RDONLY))
		return 0;
	if (max == 0 || max > IX_RUN)
		max = IX_RUN;
	/* The index's write lock first: one indexer at a time, in any
	 * process; the snapshot after it is at least as new as the one the
	 * last indexer read. */
	mrc = mdb_txn_begin(s->ix, NULL, 0, &ixt);
	if (mrc)
		goto lmdb;
	rc = read_begin(&t, s, 0, e);
	if (rc)
		goto out;
	if (ix_reach(s, ixt, t->dtxn, t->dsize, &from)) {
		/* another history (a store copied over this one): start
		 * again from the first entry */
		mrc = mdb_drop(ixt, s->ix_subjects, 0);
		if (!mrc)
			mrc = mdb_drop(ixt, s->ix_cases, 0);
		if (mrc)
			goto lmdb;
		from = 0;
		dropped = 1;
	}
	run.max = max;
	run.size = t->dsize;
	rc = seq_scan(t, WHERE_DERIVED, s->refs, from, run_add, &run, 0);
	if (rc == 1)
		rc = 0;         /* the run is full, or past the snapshot */
	if (rc) {
		rc = sl_err_set(e, rc, "cannot index the store: %s", rc ==
		    SL_ENOMEM ? "out of memory" : "its refs cannot be read; "
		    "run sharelog-verify");
		goto out;
	}
	to = run.n == max ? run.rows[run.n - 1].seq + 1 : t->dsize;
	*left = t->size - to;
	if (to == from && !dropped)
		goto out;       /* nothing new: no commit, no sync */
	mrc = ix_put(ixt, s->ix_subjects, 0, run.rows, run.n);
	if (!mrc)
		mrc = ix_put(ixt, s->ix_cases, 1, run.rows, run.n);
	if (mrc)
		goto lmdb;
	memset(leaf, 0, SL_HASH_LEN);
	if (to && node_key_get(t->dtxn, s->tree, 0, to - 1, leaf)) {
		rc = sl_err_set(e, SL_ESTORE, "cannot index the store: entry "
		    "%llu has no leaf hash; run sharelog-verify",
		    (unsigned long long)(to - 1));
		goto out;
	}
	mrc = put_through(ixt, s->ix_meta, to, leaf);
	if (!mrc)
		mrc = mdb_txn_commit(ixt);
	ixt = NULL;
	if (mrc)
		goto lmdb;
	goto out;
lmdb:
	rc = write_err(s->ix, e, mrc, "cannot index the store");
out:
	if (ixt)
		mdb_txn_abort(ixt);
	sl_store_read_end(t);
	free(run.rows);
	return rc;
}

static int index_all(struct sl_store *s, struct sl_err *e)
{
	uint64_t left;
	int rc;

	do
		rc = sl_store_index(s, IX_RUN, &left, e);
	while (!rc && left);
	return rc;
}

int sl_store_subject(struct sl_store_txn *t, const char *ref,
    sl_store_seq_fn fn, void *ctx)
{
	uint8_t raw[SL_HASH_LEN];

	if (sl_enc_unhex(raw, SL_HASH_LEN, ref, strlen(ref)))
		return SL_EINVAL;
	if (t->s->has_refs)
		return ref_lookup(t, 0, raw, SL_HASH_LEN, fn, ctx);
	if (!t->s->has_subjects)
		return SL_ENOTFOUND;
	return dup_scan(t->dtxn, t->s->subjects, raw, SL_HASH_LEN, UINT64_MAX,
	    fn, ctx);
}

int sl_store_thread(struct sl_store_txn *t, const char *decision_id,
    sl_store_seq_fn fn, void *ctx)
{
	size_t n = strlen(decision_id);

	if (n == 0 || n > 400)
		return SL_EINVAL;
	if (!t->dtxn)
		return SL_ENOTFOUND;
	return dup_scan(t->dtxn, t->s->threads, decision_id, n, UINT64_MAX, fn,
	    ctx);
}

int sl_store_summaries(struct sl_store_txn *t, uint64_t start,
    sl_store_entry_fn fn, void *ctx)
{
	if (!t->s->has_summaries)
		return SL_ENOTFOUND;
	return seq_scan(t, WHERE_DERIVED, t->s->summaries, start, fn, ctx, 0);
}

int sl_store_refs(struct sl_store_txn *t, uint64_t start,
    sl_store_entry_fn fn, void *ctx)
{
	if (!t->s->has_refs)
		return SL_ENOTFOUND;
	return seq_scan(t, WHERE_DERIVED, t->s->refs, start, fn, ctx, 0);
}

int sl_store_has_refs(const struct sl_store *s)
{
	return s->has_refs;
}

int sl_store_has_summaries(const struct sl_store *s)
{
	return s->has_summaries;
}

int sl_store_judgements(struct sl_store_txn *t, uint64_t start,
    sl_store_entry_fn fn, void *ctx)
{
	if (!t->s->has_judgements)
		return SL_ENOTFOUND;
	return seq_scan(t, WHERE_DERIVED, t->s->judgements, start, fn, ctx, 0);
}

int sl_store_judged_by(struct sl_store_txn *t, uint8_t id[SL_HASH_LEN],
    uint64_t *count)
{
	MDB_val k = judged_key;
	MDB_val v;
	MDB_stat st;

	*count = 0;
	if (!t->s->has_judgements || !t->dtxn || t->s->dv_at != DV_OWN ||
	    mdb_get(t->dtxn, t->s->dmeta, &k, &v) ||
	    v.mv_size != SL_HASH_LEN ||
	    mdb_stat(t->dtxn, t->s->judgements, &st))
		return SL_ENOTFOUND;
	memcpy(id, v.mv_data, SL_HASH_LEN);
	*count = st.ms_entries;
	return 0;
}

uint64_t sl_store_summary_count(struct sl_store_txn *t)
{
	MDB_stat st;

	if (!t->s->has_summaries || !t->dtxn ||
	    mdb_stat(t->dtxn, t->s->summaries, &st))
		return 0;
	return st.ms_entries;
}

int sl_store_case(struct sl_store_txn *t, const uint8_t *ref, size_t n,
    sl_store_seq_fn fn, void *ctx)
{
	if (n < 3 || n > CASE_MAX)
		return SL_EINVAL;
	if (t->s->has_refs)
		return ref_lookup(t, 1, ref, n, fn, ctx);
	if (!t->s->has_cases)
		return SL_ENOTFOUND;
	return dup_scan(t->dtxn, t->s->cases, ref, n, UINT64_MAX, fn, ctx);
}

int sl_store_index_reach(struct sl_store_txn *t, uint64_t *n,
    uint8_t leaf[SL_HASH_LEN])
{
	uint64_t from = 0;

	*n = 0;
	/* what ref_lookup() goes by: an index it refuses is never read */
	if (!t->s->has_refs || !t->ixt ||
	    ix_reach(t->s, t->ixt, t->dtxn, t->dsize, &from) || !from)
		return 0;
	if (get_through(t->ixt, t->s->ix_meta, n, leaf))
		return SL_ESTORE;
	return 0;
}

/* The ids rows of one prefix ("r:" or "d:"), each as its key followed by
 * the value's content hash, with the value's seq. The table is keyed by
 * the ids themselves, so its pages are let go as the walk goes. */
struct ids_walk {
	uint8_t want[2];
	sl_store_row_fn fn;
	void *ctx;
	uint8_t row[512 + SL_HASH_LEN];
};

static int ids_row(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct ids_walk *w = ctx;
	uint64_t seq = 0;
	size_t kn = k->mv_size < 512 ? k->mv_size : 512;

	if (k->mv_size < 2 || memcmp(k->mv_data, w->want, 2))
		return WALK_END;
	memcpy(w->row, k->mv_data, kn);
	if (v->mv_size == 8 + SL_HASH_LEN) {
		seq = rd64(v->mv_data);
		memcpy(w->row + kn, (uint8_t *)v->mv_data + 8, SL_HASH_LEN);
	} else {
		memset(w->row + kn, 0, SL_HASH_LEN);
	}
	return w->fn(w->ctx, w->row, kn + SL_HASH_LEN, seq);
}

static int ids_rows(struct sl_store_txn *t, char prefix, sl_store_row_fn fn,
    void *ctx)
{
	struct ids_walk w = { { (uint8_t)prefix, ':' }, fn, ctx, { 0 } };
	MDB_val from = { 2, w.want };

	return walk_rows(t, WHERE_DERIVED, t->s->ids, &from, ids_row, &w, 1);
}

struct node_walk {
	sl_store_node_fn fn;
	void *ctx;
};

static int node_row(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct node_walk *w = ctx;

	return k->mv_size == 9 ? w->fn(w->ctx, rd64(k->mv_data),
	    ((const uint8_t *)k->mv_data)[8], v->mv_data, v->mv_size) : 0;
}

int sl_store_tree_rows(struct sl_store_txn *t, uint64_t start,
    sl_store_node_fn fn, void *ctx)
{
	struct node_walk w = { fn, ctx };
	uint8_t kb[9];
	MDB_val from = { 9, kb };

	be64(kb, start);
	kb[8] = 0;
	return walk_rows(t, WHERE_DERIVED, t->s->tree, &from, node_row, &w, 0);
}

/* A dupsort lookup table's rows, as dup_scan() reads them: a value that
 * is not a seq, or a seq past the index's reach, is never looked at. */
struct dup_walk {
	sl_store_row_fn fn;
	void *ctx;
	uint64_t below;
};

static int dup_row(void *ctx, const MDB_val *k, const MDB_val *v)
{
	struct dup_walk *w = ctx;
	uint64_t seq = v->mv_size == 8 ? rd64(v->mv_data) : UINT64_MAX;

	return seq < w->below ? w->fn(w->ctx, k->mv_data, k->mv_size, seq) :
	    0;
}

int sl_store_lookup_rows(struct sl_store_txn *t, enum sl_store_lookup which,
    sl_store_row_fn fn, void *ctx)
{
	struct sl_store *s = t->s;
	struct dup_walk w = { fn, ctx, UINT64_MAX };
	uint8_t leaf[SL_HASH_LEN];
	int rc;

	if (which == SL_STORE_LK_RECORD_IDS ||
	    which == SL_STORE_LK_DECISION_IDS)
		return ids_rows(t, which == SL_STORE_LK_RECORD_IDS ? 'r' : 'd',
		    fn, ctx);
	if (which == SL_STORE_LK_THREADS)
		return walk_rows(t, WHERE_DERIVED, s->threads, NULL, dup_row,
		    &w, 1);
	rc = sl_store_index_reach(t, &w.below, leaf);
	if (rc || w.below == 0)
		return rc;
	return walk_rows(t, WHERE_INDEX, which == SL_STORE_LK_SUBJECTS ?
	    s->ix_subjects : s->ix_cases, NULL, dup_row, &w, 1);
}
