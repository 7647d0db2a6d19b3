#include "tests/testutil.h"
#include "formats/entry.h"
#include "formats/merkle.h"
#include "formats/pseudo.h"
#include "formats/record.h"
#include "formats/store.h"
#include "formats/summary.h"

#include <lmdb.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];
static char sdir[300];
static struct sl_pseudo *pk;

static void setup(void)
{
	char kp[320];
	struct sl_err e;

	tu_tmpdir(dir, sizeof(dir));
	snprintf(sdir, sizeof(sdir), "%s/store", dir);
	snprintf(kp, sizeof(kp), "%s/p.key", dir);
	ck_assert_int_eq(sl_pseudo_generate(kp, &e), 0);
	ck_assert_int_eq(sl_pseudo_load(&pk, kp, &e), 0);
}

static void teardown(void)
{
	sl_pseudo_free(pk);
	tu_rmdir(dir);
}

static struct sl_store *new_store(void)
{
	struct sl_store *s;
	struct sl_err e;
	json_t *g = json_pack("{s:s}", "origin", "test.example/log");

	ck_assert_int_eq(sl_store_open(&s, sdir, SL_STORE_CREATE, &e), 0);
	ck_assert_int_eq(sl_store_genesis(s, "test.example/log", g, &e), 0);
	json_decref(g);
	return s;
}

static json_t *prepared(unsigned i)
{
	json_t *out = tu_record(i);
	struct sl_err e;

	ck_assert_msg(sl_record_prepare(out, pk, "", &e) == 0, "%s", e.msg);
	return out;
}

static int append_range(struct sl_store *s, unsigned from, unsigned n,
    struct sl_err *e)
{
	struct sl_store_item *it = calloc(n, sizeof(*it));
	unsigned i;
	int rc;

	for (i = 0; i < n; i++) {
		it[i].record = prepared(from + i);
		it[i].type = SL_ET_DECISION;
		it[i].submitted_by = "URN-118832";
	}
	rc = sl_store_append(s, it, n, e);
	for (i = 0; i < n; i++)
		json_decref((json_t *)it[i].record);
	free(it);
	return rc;
}

START_TEST(test_store_append_read_contiguous)
{
	struct sl_store *s = new_store();
	struct sl_store_txn *t;
	struct sl_err e;
	uint64_t i;

	ck_assert_int_eq(append_range(s, 0, 50, &e), 0);
	ck_assert_int_eq(append_range(s, 50, 50, &e), 0);
	ck_assert_uint_eq(sl_store_size(s), 101);
	ck_assert_int_eq(sl_store_read_begin(&t, s, &e), 0);
	ck_assert_uint_eq(sl_store_txn_size(t), 101);
	for (i = 0; i < 101; i++) {
		const uint8_t *p;
		size_t n;
		struct sl_entry_view ev;

		ck_assert_int_eq(sl_store_get(&p, &n, t, i), 0);
		ck_assert_int_eq(sl_entry_scan(&ev, p, n, &e), 0);
		ck_assert_uint_eq(ev.seq, i);
		ck_assert_int_eq(ev.type, i ? SL_ET_DECISION : SL_ET_GENESIS);
	}
	ck_assert_int_eq(sl_store_get(NULL, NULL, t, 101) == SL_ENOTFOUND, 1);
	sl_store_read_end(t);
	sl_store_close(s);
	/* reopening recovers size and root */
	{
		uint8_t r1[32];
		uint8_t r2[32];
		uint64_t n;

		ck_assert_int_eq(sl_store_open(&s, sdir, 0, &e), 0);
		ck_assert_uint_eq(sl_store_size(s), 101);
		sl_store_root(r1, s, &n);
		ck_assert_int_eq(append_range(s, 100, 1, &e), 0);
		sl_store_root(r2, s, &n);
		ck_assert_uint_eq(n, 102);
		ck_assert_int_ne(memcmp(r1, r2, 32), 0);
		sl_store_close(s);
	}
}
END_TEST

START_TEST(test_store_idempotent_retry_and_conflict)
{
	struct sl_store *s = new_store();
	struct sl_store_item it[2];
	struct sl_err e;
	json_t *a = prepared(7);
	json_t *b = prepared(8);
	uint64_t seq;

	memset(it, 0, sizeof(it));
	it[0].record = a;
	it[0].type = SL_ET_DECISION;
	it[0].submitted_by = "URN-118832";
	ck_assert_int_eq(sl_store_append(s, it, 1, &e), 0);
	seq = it[0].seq;
	ck_assert_int_eq(it[0].duplicate, 0);
	/* identical retry: same answer, nothing new */
	ck_assert_int_eq(sl_store_append(s, it, 1, &e), 0);
	ck_assert_int_eq(it[0].duplicate, 1);
	ck_assert_uint_eq(it[0].seq, seq);
	ck_assert_uint_eq(sl_store_size(s), 2);
	/* same record_id, other content, in a batch with a good record:
	 * the whole batch is refused */
	json_object_set_new(a, "rationale", json_string("Changed afterwards "
	    "to look better than it was at the time."));
	it[0].record = b;
	it[1] = it[0];
	it[1].record = a;
	ck_assert_int_eq(sl_store_append(s, it, 2, &e), SL_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(e.msg, "record_id"));
	ck_assert_int_eq(it[1].duplicate, -1);
	ck_assert_uint_eq(sl_store_size(s), 2);
	/* a second decision record in a thread is a conflict */
	json_object_set_new(b, "decision_id", json_string("D-000007"));
	it[0].record = b;
	ck_assert_int_eq(sl_store_append(s, it, 1, &e), SL_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(e.msg, "reconsideration"));
	json_decref(a);
	json_decref(b);
	sl_store_close(s);
}
END_TEST

/* A keeper that keeps the entry's type, time and record_id's length. */
static size_t fake_keep(const void *ctx, uint8_t *out, int type,
    int64_t recorded_ms, const struct sl_record_view *v)
{
	int f = sl_record_field_index("record_id", 9);

	(void)ctx;
	out[0] = (uint8_t)type;
	memcpy(out + 1, &recorded_ms, 8);
	out[9] = v && f >= 0 ? (uint8_t)v->len[f] : 0;
	return 10;
}

struct kept_got {
	uint64_t seq[4];
	uint8_t b[4][10];
	size_t n;
};

static int kept_cb(void *ctx, uint64_t seq, const uint8_t *p, size_t n)
{
	struct kept_got *g = ctx;

	ck_assert_uint_eq(n, 10);
	ck_assert_uint_lt(g->n, 4);
	g->seq[g->n] = seq;
	memcpy(g->b[g->n++], p, 10);
	return 0;
}

/* the judgement kept of each new entry comes back to the caller that
 * gave room for it, the same bytes as stored; none for a duplicate or
 * when the room is too small */
START_TEST(test_store_hands_back_kept)
{
	struct sl_store_keeper k = { { 7 }, fake_keep, NULL, 64 };
	struct sl_store *s;
	struct sl_store_txn *t;
	struct sl_store_item it[2];
	struct kept_got g = { { 0 }, { { 0 } }, 0 };
	uint8_t room[2][16];
	struct sl_err e;
	json_t *a = prepared(1);
	json_t *b = prepared(2);

	sl_store_set_keeper(&k);
	s = new_store();
	sl_store_set_keeper(NULL);
	memset(it, 0, sizeof(it));
	it[0].record = a;
	it[1].record = b;
	it[0].type = it[1].type = SL_ET_DECISION;
	it[0].submitted_by = it[1].submitted_by = "URN-118832";
	it[0].kept = room[0];
	it[0].kept_cap = sizeof(room[0]);
	it[1].kept = room[1];
	it[1].kept_cap = 9;          /* too small */
	ck_assert_int_eq(sl_store_append(s, it, 2, &e), 0);
	ck_assert_uint_eq(it[0].kept_len, 10);
	ck_assert_ptr_eq(it[0].kept_by, k.id);
	ck_assert_uint_eq(it[1].kept_len, 0);
	ck_assert_ptr_null(it[1].kept_by);
	ck_assert_int_eq(sl_store_read_begin(&t, s, &e), 0);
	ck_assert_int_eq(sl_store_judgements(t, 1, kept_cb, &g), 0);
	sl_store_read_end(t);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_uint_eq(g.seq[0], it[0].seq);
	ck_assert_mem_eq(g.b[0], room[0], 10);
	ck_assert_int_eq(room[0][0], SL_ET_DECISION);
	ck_assert_int_eq(room[0][9], 26 + 2);   /* a ULID, quoted */
	/* a retry: the original's answer, no judgement made */
	it[1].kept_cap = sizeof(room[1]);
	ck_assert_int_eq(sl_store_append(s, it, 2, &e), 0);
	ck_assert_int_eq(it[0].duplicate, 1);
	ck_assert_uint_eq(it[0].kept_len, 0);
	ck_assert_ptr_null(it[0].kept_by);
	json_decref(a);
	json_decref(b);
	sl_store_close(s);
}
END_TEST

struct items_src {
	struct sl_store_item *it;
	size_t n, i;
};

static int items_next(void *ctx, struct sl_store_item **it, struct sl_err *e)
{
	struct items_src *a = ctx;

	(void)e;
	if (a->i >= a->n)
		return 0;
	*it = &a->it[a->i++];
	return 1;
}

static int items_rewind(void *ctx, struct sl_err *e)
{
	(void)e;
	((struct items_src *)ctx)->i = 0;
	return 0;
}

/* a dry run sees what the append would (retries, conflicts with the log
 * and within the batch) and leaves the store as it was */
START_TEST(test_store_append_check_stores_nothing)
{
	struct sl_store *s = new_store();
	struct sl_store_item it[3];
	struct items_src src = { it, 3, 0 };
	struct sl_store_source ss = { items_next, items_rewind, &src };
	json_t *r[3];
	struct sl_err e;
	uint64_t count = 9, fresh = 9;
	unsigned i;

	ck_assert_int_eq(append_range(s, 1, 3, &e), 0);
	ck_assert_uint_eq(sl_store_size(s), 4);
	memset(it, 0, sizeof(it));
	for (i = 0; i < 3; i++) {
		r[i] = prepared(3 + i);         /* 3 is in the log already */
		it[i].record = r[i];
		it[i].type = SL_ET_DECISION;
		it[i].submitted_by = "URN-118832";
	}
	ck_assert_int_eq(sl_store_append_check(s, &ss, &count, &fresh, &e),
	    0);
	ck_assert_uint_eq(count, 3);
	ck_assert_uint_eq(fresh, 2);
	ck_assert_int_eq(it[0].duplicate, 1);
	ck_assert_uint_eq(sl_store_size(s), 4);
	/* a record of the log changed: the conflict, and still nothing */
	json_object_set_new(r[0], "rationale", json_string("Changed "
	    "afterwards to look better than it was at the time."));
	src.i = 0;
	ck_assert_int_eq(sl_store_append_check(s, &ss, &count, &fresh, &e),
	    SL_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(e.msg, "record_id"));
	ck_assert_uint_eq(sl_store_size(s), 4);
	/* the real append after the dry runs takes the next seqs */
	json_decref(r[0]);
	r[0] = prepared(3);
	it[0].record = r[0];
	src.i = 0;
	ck_assert_int_eq(sl_store_append_from(s, &ss, &count, &e), 0);
	ck_assert_uint_eq(sl_store_size(s), 6);
	ck_assert_uint_eq(it[1].seq, 4);
	ck_assert_uint_eq(it[2].seq, 5);
	for (i = 0; i < 3; i++)
		json_decref(r[i]);
	sl_store_close(s);
}
END_TEST

static int collect(void *ctx, uint64_t seq)
{
	uint64_t *v = ctx;

	v[++v[0]] = seq;
	return 0;
}

START_TEST(test_store_subject_and_thread_index)
{
	struct sl_store *s = new_store();
	struct sl_store_txn *t;
	struct sl_err e;
	uint64_t got[64] = { 0 };
	char ref[65];
	uint64_t seq;

	ck_assert_int_eq(append_range(s, 0, 200, &e), 0);
	ck_assert_int_eq(sl_store_read_begin(&t, s, &e), 0);
	/* tu_record(i) uses child LA881-<i % 97>: i = 3, 100, 197 */
	sl_pseudo_child(ref, pk, "LA881-000003", 12);
	ck_assert_int_eq(sl_store_subject(t, ref, collect, got), 0);
	ck_assert_uint_eq(got[0], 3);
	ck_assert_uint_eq(got[1], 4);
	ck_assert_uint_eq(got[2], 101);
	ck_assert_uint_eq(got[3], 198);
	got[0] = 0;
	ck_assert_int_eq(sl_store_thread(t, "D-000150", collect, got), 0);
	ck_assert_uint_eq(got[0], 1);
	ck_assert_uint_eq(got[1], 151);
	{
		json_t *r42 = tu_record(42);

		ck_assert_int_eq(sl_store_find_record(&seq, t,
		    json_string_value(json_object_get(r42, "record_id"))), 0);
		json_decref(r42);
	}
	ck_assert_uint_eq(seq, 43);
	sl_store_read_end(t);
	sl_store_close(s);
}
END_TEST

struct kept {
	uint8_t (*b)[SL_SUMMARY_LEN];
	uint64_t n;
};

static int keep_summary(void *ctx, uint64_t seq, const uint8_t *p,
    size_t n)
{
	struct kept *k = ctx;

	ck_assert_uint_eq(seq, k->n);
	ck_assert_uint_eq(n, SL_SUMMARY_LEN);
	memcpy(k->b[k->n++], p, n);
	return 0;
}

/* Every entry's kept summary is the one derived from the entry itself. */
static void check_summaries(struct sl_store *s, struct kept *k)
{
	struct sl_store_txn *t;
	struct sl_hash *h;
	struct sl_err e;
	uint64_t i;

	ck_assert_int_eq(sl_hash_new(&h), 0);
	ck_assert_int_eq(sl_store_read_begin(&t, s, &e), 0);
	k->n = 0;
	ck_assert_int_eq(sl_store_summaries(t, 0, keep_summary, k), 0);
	ck_assert_uint_eq(k->n, sl_store_txn_size(t));
	ck_assert_uint_eq(sl_store_summary_count(t), k->n);
	for (i = 0; i < k->n; i++) {
		const uint8_t *p;
		size_t n;
		struct sl_entry_view ev;
		struct sl_record_view v;
		struct sl_summary want;
		uint8_t wb[SL_SUMMARY_LEN];

		ck_assert_int_eq(sl_store_get(&p, &n, t, i), 0);
		ck_assert_int_eq(sl_entry_scan(&ev, p, n, &e), 0);
		ck_assert_int_eq(sl_record_view_scan(&v, ev.record,
		    ev.record_len, &e), 0);
		sl_summary_derive(&want, &v, ev.type, ev.recorded_ms, h);
		sl_summary_encode(wb, &want);
		ck_assert_msg(!memcmp(wb, k->b[i], SL_SUMMARY_LEN),
		    "summary of entry %llu", (unsigned long long)i);
	}
	sl_store_read_end(t);
	sl_hash_free(h);
}

/* Turn the store in @d into one of format 1, the layout before
 * store/derived: its derived tables copied into the log's environment,
 * store/derived removed. */
static void make_v1(const char *d)
{
	static const struct { const char *name; unsigned flags; } t[] = {
		{ "tree", 0 }, { "ids", 0 },
		{ "threads", MDB_DUPSORT | MDB_DUPFIXED },
		{ "summaries", 0 }, { "refs", 0 },
	};
	char dp[400];
	MDB_env *me;
	MDB_env *de;
	MDB_txn *mt;
	MDB_txn *dt;
	size_t i;

	snprintf(dp, sizeof(dp), "%s/derived", d);
	ck_assert_int_eq(mdb_env_create(&me), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(me, 16), 0);
	ck_assert_int_eq(mdb_env_set_mapsize(me, (size_t)1 << 30), 0);
	ck_assert_int_eq(mdb_env_open(me, d, 0, 0600), 0);
	ck_assert_int_eq(mdb_env_create(&de), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(de, 16), 0);
	ck_assert_int_eq(mdb_env_set_mapsize(de, (size_t)1 << 30), 0);
	ck_assert_int_eq(mdb_env_open(de, dp, MDB_RDONLY, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(me, NULL, 0, &mt), 0);
	ck_assert_int_eq(mdb_txn_begin(de, NULL, MDB_RDONLY, &dt), 0);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		MDB_dbi from;
		MDB_dbi to;
		MDB_cursor *c;
		MDB_val k;
		MDB_val v;

		ck_assert_int_eq(mdb_dbi_open(dt, t[i].name, 0, &from), 0);
		ck_assert_int_eq(mdb_dbi_open(mt, t[i].name, MDB_CREATE |
		    t[i].flags, &to), 0);
		ck_assert_int_eq(mdb_cursor_open(dt, from, &c), 0);
		while (!mdb_cursor_get(c, &k, &v, MDB_NEXT))
			ck_assert_int_eq(mdb_put(mt, to, &k, &v, 0), 0);
		mdb_cursor_close(c);
	}
	{
		MDB_dbi meta;
		MDB_val k = { 6, "format" };
		MDB_val v = { strlen(SL_STORE_FORMAT_1),
		    (void *)SL_STORE_FORMAT_1 };

		ck_assert_int_eq(mdb_dbi_open(mt, "meta", 0, &meta), 0);
		ck_assert_int_eq(mdb_put(mt, meta, &k, &v, 0), 0);
	}
	mdb_txn_abort(dt);
	ck_assert_int_eq(mdb_txn_commit(mt), 0);
	mdb_env_close(de);
	mdb_env_close(me);
	tu_rmdir(dp);
}

START_TEST(test_store_keeps_summaries_and_cases)
{
	struct sl_store *s = new_store();
	struct sl_store_txn *t;
	struct sl_err e;
	struct kept k1 = { calloc(300, SL_SUMMARY_LEN), 0 };
	struct kept k2 = { calloc(300, SL_SUMMARY_LEN), 0 };
	uint64_t got[256] = { 0 };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	ck_assert_int_eq(append_range(s, 0, 200, &e), 0);
	check_summaries(s, &k1);
	ck_assert_uint_eq(k1.n, 201);
	/* every tu_record is about case C-000123 */
	ck_assert_int_eq(sl_store_read_begin(&t, s, &e), 0);
	ck_assert_int_eq(sl_store_case(t, (const uint8_t *)"\"C-000123\"", 10,
	    collect, got), 0);
	ck_assert_uint_eq(got[0], 200);
	ck_assert_uint_eq(got[1], 1);
	ck_assert_uint_eq(got[200], 200);
	got[0] = 0;
	ck_assert_int_eq(sl_store_case(t, (const uint8_t *)"\"C-9\"", 5,
	    collect, got), 0);
	ck_assert_uint_eq(got[0], 0);
	sl_store_read_end(t);
	sl_store_close(s);

	/* a store made before summaries and refs were kept (format 1, no
	 * store/derived): no summaries, no refs, no index environment, and
	 * its own cases index */
	make_v1(sdir);
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 16), 0);
	ck_assert_int_eq(mdb_env_open(env, sdir, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "summaries", 0, &dbi), 0);
	ck_assert_int_eq(mdb_drop(txn, dbi, 1), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "refs", 0, &dbi), 0);
	ck_assert_int_eq(mdb_drop(txn, dbi, 1), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	{
		MDB_val k = { 4, "refs" };
		uint8_t vb[8] = { 0 };
		MDB_val v = { 8, vb };
		uint64_t i;

		ck_assert_int_eq(mdb_del(txn, dbi, &k, NULL), 0);
		ck_assert_int_eq(mdb_dbi_open(txn, "cases", MDB_CREATE |
		    MDB_DUPSORT | MDB_DUPFIXED, &dbi), 0);
		/* the old layout: seqs 1..200, but only 1..150 here, so
		 * the read below shows where its answer came from */
		k.mv_size = 10;
		k.mv_data = "\"C-000123\"";
		for (i = 1; i <= 150; i++) {
			vb[7] = (uint8_t)i;
			ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
		}
	}
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	{
		char ix[400];

		snprintf(ix, sizeof(ix), "%s/index", sdir);
		tu_rmdir(ix);
	}
	/* a compacted copy of it, its map full to the last page, opens
	 * for writing all the same (and gets refs) */
	{
		char bdir[400];

		snprintf(bdir, sizeof(bdir), "%s/copy", dir);
		ck_assert_int_eq(sl_store_open(&s, sdir, SL_STORE_RDONLY, &e),
		    0);
		ck_assert_int_eq(sl_store_backup(s, bdir, &e), 0);
		sl_store_close(s);
		ck_assert_msg(sl_store_open(&s, bdir, 0, &e) == 0, "%s",
		    e.msg);
		ck_assert_int_eq(sl_store_read_begin(&t, s, &e), 0);
		got[0] = 0;
		ck_assert_int_eq(sl_store_case(t,
		    (const uint8_t *)"\"C-000123\"", 10, collect, got), 0);
		ck_assert_uint_eq(got[0], 200);
		sl_store_read_end(t);
		sl_store_close(s);
	}
	/* read-only: it says it keeps none */
	ck_assert_int_eq(sl_store_open(&s, sdir, SL_STORE_RDONLY, &e), 0);
	ck_assert_int_eq(sl_store_read_begin(&t, s, &e), 0);
	ck_assert_int_eq(sl_store_summaries(t, 0, keep_summary, &k2),
	    SL_ENOTFOUND);
	/* and reads its own cases index; it has no subjects index */
	got[0] = 0;
	ck_assert_int_eq(sl_store_case(t, (const uint8_t *)"\"C-000123\"", 10,
	    collect, got), 0);
	ck_assert_uint_eq(got[0], 150);
	ck_assert_uint_eq(got[150], 150);
	ck_assert_int_eq(sl_store_subject(t, "00000000000000000000000000000000"
	    "00000000000000000000000000000000", collect, got), SL_ENOTFOUND);
	sl_store_read_end(t);
	sl_store_close(s);
	/* the first writable open summarises every entry, the same way, and
	 * moves the lookups to refs and the index environment */
	ck_assert_int_eq(sl_store_open(&s, sdir, 0, &e), 0);
	check_summaries(s, &k2);
	ck_assert_uint_eq(k2.n, 201);
	ck_assert_int_eq(memcmp(k1.b, k2.b, 201 * SL_SUMMARY_LEN), 0);
	ck_assert_int_eq(sl_store_read_begin(&t, s, &e), 0);
	got[0] = 0;
	ck_assert_int_eq(sl_store_case(t, (const uint8_t *)"\"C-000123\"", 10,
	    collect, got), 0);
	ck_assert_uint_eq(got[0], 200);
	ck_assert_uint_eq(got[200], 200);
	sl_store_read_end(t);
	/* the old table is gone */
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 16), 0);
	ck_assert_int_eq(mdb_env_open(env, sdir, MDB_RDONLY, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "cases", 0, &dbi), MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	/* and keeps them for what comes next */
	ck_assert_int_eq(append_range(s, 200, 5, &e), 0);
	check_summaries(s, &k2);
	ck_assert_uint_eq(k2.n, 206);
	sl_store_close(s);
	free(k1.b);
	free(k2.b);
}
END_TEST

/* Like append_range, with case_ref C-<i % 5>, and none when i % 11 == 0. */
static void append_cases(struct sl_store *s, unsigned from, unsigned n)
{
	struct sl_store_item *it = calloc(n, sizeof(*it));
	struct sl_err e;
	unsigned i;

	for (i = 0; i < n; i++) {
		json_t *r = prepared(from + i);
		char c[16];

		snprintf(c, sizeof(c), "C-%u", (from + i) % 5);
		if ((from + i) % 11)
			json_object_set_new(r, "case_ref", json_string(c));
		else
			json_object_del(r, "case_ref");
		it[i].record = r;
		it[i].type = SL_ET_DECISION;
		it[i].submitted_by = "URN-118832";
	}
	ck_assert_msg(sl_store_append(s, it, n, &e) == 0, "%s", e.msg);
	for (i = 0; i < n; i++)
		json_decref((json_t *)it[i].record);
	free(it);
}

static int holds(const uint8_t *p, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	size_t i;

	for (i = 0; i + k <= n; i++)
		if (!memcmp(p + i, needle, k))
			return 1;
	return 0;
}

/*
 * What a lookup must find, from the entries' bytes alone: every seq below
 * the snapshot's size whose record holds @needle.
 */
static void expect(struct sl_store_txn *t, const char *needle, uint64_t *want)
{
	uint64_t i;

	want[0] = 0;
	for (i = 0; i < sl_store_txn_size(t); i++) {
		const uint8_t *p;
		size_t n;
		struct sl_entry_view ev;
		struct sl_err e;

		ck_assert_int_eq(sl_store_get(&p, &n, t, i), 0);
		ck_assert_int_eq(sl_entry_scan(&ev, p, n, &e), 0);
		if (holds(ev.record, ev.record_len, needle))
			want[++want[0]] = i;
	}
}

/* Every child's and case's lookup in @t equals what the entries say. */
static void check_lookups(struct sl_store_txn *t)
{
	uint64_t got[1024];
	uint64_t want[1024];
	unsigned i;

	for (i = 0; i < 97; i += 8) {
		char id[40];
		char ref[65];
		char needle[100];

		snprintf(id, sizeof(id), "LA881-%06u", i);
		sl_pseudo_child(ref, pk, id, strlen(id));
		snprintf(needle, sizeof(needle), "\"child_ref\":\"%s\"", ref);
		expect(t, needle, want);
		got[0] = 0;
		ck_assert_int_eq(sl_store_subject(t, ref, collect, got), 0);
		ck_assert_uint_ge(want[0], 1);
		ck_assert_uint_eq(got[0], want[0]);
		ck_assert_int_eq(memcmp(got, want, (want[0] + 1) * 8), 0);
	}
	for (i = 0; i < 6; i++) {
		char key[16];
		char needle[40];

		snprintf(key, sizeof(key), "\"C-%u\"", i);
		snprintf(needle, sizeof(needle), "\"case_ref\":%s", key);
		expect(t, needle, want);
		got[0] = 0;
		ck_assert_int_eq(sl_store_case(t, (const uint8_t *)key,
		    strlen(key), collect, got), 0);
		ck_assert_uint_eq(got[0], want[0]);
		ck_assert_int_eq(memcmp(got, want, (want[0] + 1) * 8), 0);
	}
}

/* The same from a read-only open in another process (LMDB allows one
 * open of an environment per process). */
static void check_store_lookups(const char *path)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sl_store *s;
		struct sl_store_txn *t;
		struct sl_err e;

		if (sl_store_open(&s, path, SL_STORE_RDONLY, &e) ||
		    sl_store_read_begin(&t, s, &e))
			_exit(2);
		check_lookups(t);
		sl_store_read_end(t);
		sl_store_close(s);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "the lookups of a read-only open in another process fail");
}

START_TEST(test_store_index_off_the_commit_path)
{
	struct sl_store *s = new_store();
	struct sl_store *other;
	struct sl_store_txn *t;
	struct sl_store_txn *old;
	struct sl_err e;
	uint64_t left;
	char odir[400];
	char from[500];
	char to[500];

	append_cases(s, 0, 300);
	sl_store_close(s);              /* indexes everything */
	ck_assert_int_eq(sl_store_open(&s, sdir, 0, &e), 0);
	append_cases(s, 300, 200);      /* refs only, so far */
	ck_assert_int_eq(sl_store_read_begin(&t, s, &e), 0);
	check_lookups(t);               /* index below 301, refs above */
	check_store_lookups(sdir);      /* a reader of its own */
	/* index part of the tail: 10 refs rows (seqs 301..310 all have a
	 * child_ref) */
	ck_assert_int_eq(sl_store_index(s, 10, &left, &e), 0);
	ck_assert_uint_eq(left, 501 - 311);
	check_lookups(t);
	sl_store_read_end(t);
	/* a snapshot older than the index: it finds nothing newer */
	ck_assert_int_eq(sl_store_read_begin(&old, s, &e), 0);
	append_cases(s, 500, 40);
	ck_assert_int_eq(sl_store_index(s, 0, &left, &e), 0);
	ck_assert_uint_eq(left, 0);
	ck_assert_int_eq(sl_store_index(s, 0, &left, &e), 0);
	check_lookups(old);
	ck_assert_uint_eq(sl_store_txn_size(old), 501);
	sl_store_read_end(old);
	sl_store_close(s);
	check_store_lookups(sdir);

	/* an index built from another history is recognised: copy another
	 * store's over this one's */
	snprintf(odir, sizeof(odir), "%s/other", dir);
	ck_assert_int_eq(sl_store_open(&other, odir, SL_STORE_CREATE, &e), 0);
	{
		json_t *g = json_pack("{s:s}", "origin", "test.example/log");

		ck_assert_int_eq(sl_store_genesis(other, "test.example/log", g,
		    &e), 0);
		json_decref(g);
	}
	append_cases(other, 1000, 600);
	sl_store_close(other);
	snprintf(from, sizeof(from), "%s/index/data.mdb", odir);
	snprintf(to, sizeof(to), "%s/index/data.mdb", sdir);
	ck_assert_int_eq(tu_sh("cp %s %s", from, to), 0);
	check_store_lookups(sdir);      /* read-only: refs only */
	ck_assert_int_eq(sl_store_open(&s, sdir, 0, &e), 0);  /* rebuilds */
	sl_store_close(s);
	check_store_lookups(sdir);
	/* the index is derived: gone or damaged, it is built again */
	ck_assert_int_eq(unlink(to), 0);
	check_store_lookups(sdir);
	{
		FILE *f = fopen(to, "w");

		ck_assert_ptr_nonnull(f);
		fputs("not an LMDB file", f);
		fclose(f);
	}
	check_store_lookups(sdir);
	ck_assert_int_eq(sl_store_open(&s, sdir, 0, &e), 0);
	sl_store_close(s);
	check_store_lookups(sdir);
}
END_TEST

/* The derived tables and one item's retry answer, as a writer sees them:
 * *derived, and the seq the retry of record @i (appended before) gets. */
static uint64_t retry_seq(struct sl_store *s, unsigned i)
{
	struct sl_store_item it;
	struct sl_err e;
	uint64_t size = sl_store_size(s);

	memset(&it, 0, sizeof(it));
	it.record = prepared(i);
	it.type = SL_ET_DECISION;
	it.submitted_by = "URN-118832";
	ck_assert_msg(sl_store_append(s, &it, 1, &e) == 0, "%s", e.msg);
	ck_assert_int_eq(it.duplicate, 1);
	ck_assert_uint_eq(sl_store_size(s), size);
	json_decref((json_t *)it.record);
	return it.seq;
}

static uint64_t derived_of(struct sl_store *s, uint64_t *size)
{
	struct sl_store_txn *t;
	struct sl_err e;
	uint64_t n;

	ck_assert_int_eq(sl_store_read_begin(&t, s, &e), 0);
	n = sl_store_txn_derived(t);
	*size = sl_store_txn_size(t);
	sl_store_read_end(t);
	return n;
}

static void copy_file(const char *from, const char *to)
{
	char cmd[1000];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	ck_assert_int_eq(system(cmd), 0);
}

/* The 401-entry store read-only (its derived tables reach @ro), then
 * writable: they reach 401 again, record @i's retry gets its seq, and the
 * summaries are those of @k1. */
static void reopen_401(uint64_t ro, unsigned i, const struct kept *k1)
{
	struct sl_store *s;
	struct kept k2 = { calloc(500, SL_SUMMARY_LEN), 0 };
	struct sl_err e;
	uint64_t size;

	ck_assert_int_eq(sl_store_open(&s, sdir, SL_STORE_RDONLY, &e), 0);
	ck_assert_uint_eq(derived_of(s, &size), ro);
	ck_assert_uint_eq(size, 401);
	sl_store_close(s);
	ck_assert_msg(sl_store_open(&s, sdir, 0, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(derived_of(s, &size), 401);
	ck_assert_uint_eq(retry_seq(s, i), i + 1);
	check_summaries(s, &k2);
	ck_assert_int_eq(memcmp(k1->b, k2.b, 401 * SL_SUMMARY_LEN), 0);
	sl_store_close(s);
	free(k2.b);
}

/* store/derived is not synced: behind after a writer stopped between its
 * two commits, untrusted after a restart of the machine, another log's
 * when copied over. Readers see how far it reaches; the next writable
 * open brings it up to the log, and retries find their originals. */
START_TEST(test_store_derived_behind_restart_other)
{
	struct sl_store *s = new_store();
	struct kept k1 = { calloc(500, SL_SUMMARY_LEN), 0 };
	struct kept k2 = { calloc(500, SL_SUMMARY_LEN), 0 };
	char dfile[400];
	char saved[400];
	uint64_t size;
	struct sl_err e;

	snprintf(dfile, sizeof(dfile), "%s/derived/data.mdb", sdir);
	snprintf(saved, sizeof(saved), "%s/derived-301.mdb", dir);
	ck_assert_int_eq(append_range(s, 0, 300, &e), 0);
	sl_store_close(s);
	copy_file(dfile, saved);
	ck_assert_int_eq(sl_store_open(&s, sdir, 0, &e), 0);
	ck_assert_int_eq(append_range(s, 300, 100, &e), 0);
	check_summaries(s, &k1);
	ck_assert_uint_eq(k1.n, 401);
	sl_store_close(s);

	/* behind: as if the writer had stopped after the log's commit */
	copy_file(saved, dfile);
	reopen_401(301, 350, &k1);

	/* after a restart of the machine: not read, then built again (a
	 * summary row lost, as unsynced pages may be, comes back) */
	{
		char dp[400];
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi;
		uint8_t kb[8] = { 0, 0, 0, 0, 0, 0, 0, 5 };
		MDB_val k = { 8, kb };

		snprintf(dp, sizeof(dp), "%s/derived", sdir);
		ck_assert_int_eq(mdb_env_create(&env), 0);
		ck_assert_int_eq(mdb_env_set_maxdbs(env, 16), 0);
		ck_assert_int_eq(mdb_env_open(env, dp, 0, 0600), 0);
		ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
		ck_assert_int_eq(mdb_dbi_open(txn, "summaries", 0, &dbi), 0);
		ck_assert_int_eq(mdb_del(txn, dbi, &k, NULL), 0);
		ck_assert_int_eq(mdb_txn_commit(txn), 0);
		mdb_env_close(env);
	}
	sl_store__set_boot_id("another boot");
	reopen_401(0, 10, &k1);
	ck_assert_int_eq(sl_store_open(&s, sdir, SL_STORE_RDONLY, &e), 0);
	ck_assert_uint_eq(derived_of(s, &size), 401);
	sl_store_close(s);

	/* another log's (ahead of this one): built again */
	ck_assert_int_eq(sl_store_open(&s, sdir, 0, &e), 0);
	ck_assert_int_eq(append_range(s, 400, 50, &e), 0);
	sl_store_close(s);
	copy_file(dfile, saved);
	tu_rmdir(sdir);
	s = new_store();
	ck_assert_int_eq(append_range(s, 0, 400, &e), 0);
	sl_store_close(s);
	copy_file(saved, dfile);
	ck_assert_int_eq(sl_store_open(&s, sdir, SL_STORE_RDONLY, &e), 0);
	ck_assert_uint_eq(derived_of(s, &size), 0);
	sl_store_close(s);
	ck_assert_msg(sl_store_open(&s, sdir, 0, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(derived_of(s, &size), 401);
	check_summaries(s, &k2);
	ck_assert_uint_eq(k2.n, 401);
	ck_assert_int_eq(append_range(s, 400, 50, &e), 0);
	ck_assert_uint_eq(retry_seq(s, 420), 421);
	sl_store_close(s);
	sl_store__set_boot_id(NULL);
	free(k1.b);
	free(k2.b);
}
END_TEST

/* store/derived's commit fails after the log's (a full disk): the append
 * still succeeds, the failure is counted with its reason, readers see the
 * tables reach only as far as before, and the next append derives what
 * they lack first, so a retry finds its original and the summaries are
 * those a rebuild from the entries gives. */
START_TEST(test_store_derived_commit_fails)
{
	struct sl_store *s = new_store();
	struct kept k1 = { calloc(200, SL_SUMMARY_LEN), 0 };
	struct kept k2 = { calloc(200, SL_SUMMARY_LEN), 0 };
	const char *why = NULL;
	uint64_t size;
	struct sl_err e;

	ck_assert_int_eq(append_range(s, 0, 100, &e), 0);
	ck_assert_uint_eq(sl_store_derived_failures(s, &why), 0);
	ck_assert_ptr_null(why);
	sl_store__fail_derived_commit(1);
	ck_assert_msg(append_range(s, 100, 20, &e) == 0, "%s", e.msg);
	sl_store__fail_derived_commit(0);
	ck_assert_uint_eq(sl_store_derived_failures(s, &why), 1);
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_eq(derived_of(s, &size), 101);
	ck_assert_uint_eq(size, 121);
	/* the next append catches up first: the retry of a record whose
	 * ids row was in the lost commit gets its original seq */
	ck_assert_uint_eq(retry_seq(s, 110), 111);
	ck_assert_uint_eq(derived_of(s, &size), 121);
	ck_assert_uint_eq(sl_store_derived_failures(s, NULL), 1);
	check_summaries(s, &k1);
	ck_assert_uint_eq(k1.n, 121);
	sl_store_close(s);
	/* the same as all of them derived again from the entries (the open
	 * after "another boot" rebuilds store/derived) */
	sl_store__set_boot_id("another boot");
	ck_assert_msg(sl_store_open(&s, sdir, 0, &e) == 0, "%s", e.msg);
	sl_store__set_boot_id(NULL);
	check_summaries(s, &k2);
	ck_assert_uint_eq(k2.n, 121);
	ck_assert_int_eq(memcmp(k1.b, k2.b, 121 * SL_SUMMARY_LEN), 0);
	sl_store_close(s);
	free(k1.b);
	free(k2.b);
}
END_TEST

START_TEST(test_store_proofs_from_stored_nodes)
{
	struct sl_store *s = new_store();
	struct sl_store_txn *t;
	struct sl_err e;
	struct sl_hash *h;
	uint8_t path[64][32];
	uint8_t root[32];
	uint8_t old[32];
	uint64_t n;
	uint64_t i;
	size_t np;

	ck_assert_int_eq(sl_hash_new(&h), 0);
	ck_assert_int_eq(append_range(s, 0, 36, &e), 0);
	sl_store_root(old, s, &n);
	ck_assert_uint_eq(n, 37);
	ck_assert_int_eq(append_range(s, 36, 100, &e), 0);
	sl_store_root(root, s, &n);
	ck_assert_int_eq(sl_store_read_begin(&t, s, &e), 0);
	for (i = 0; i < n; i++) {
		const uint8_t *p;
		size_t len;
		uint8_t leaf[32];

		sl_store_get(&p, &len, t, i);
		sl_hash_leaf(leaf, h, p, len);
		ck_assert_int_eq(sl_merkle_inclusion(path, &np, h,
		    sl_store_node, t, i, n), 0);
		ck_assert_int_eq(sl_merkle_verify_inclusion(h, i, n, leaf,
		    (const uint8_t (*)[32])path, np, root), 0);
	}
	ck_assert_int_eq(sl_merkle_consistency(path, &np, h, sl_store_node, t,
	    37, n), 0);
	ck_assert_int_eq(sl_merkle_verify_consistency(h, 37, n, old, root,
	    (const uint8_t (*)[32])path, np), 0);
	sl_store_read_end(t);
	sl_store_close(s);
	sl_hash_free(h);
}
END_TEST

START_TEST(test_store_map_grows)
{
	struct sl_store *s;
	struct sl_err e;
	unsigned i;

	sl_store__set_initial_map(256 * 1024);
	s = new_store();
	for (i = 0; i < 10; i++)
		ck_assert_msg(append_range(s, i * 200, 200, &e) == 0, "%s",
		    e.msg);
	ck_assert_uint_eq(sl_store_size(s), 2001);
	sl_store_close(s);
	sl_store__set_initial_map((size_t)1 << 30);
}
END_TEST

START_TEST(test_store_reader_in_other_process)
{
	struct sl_store *s;
	struct sl_err e;
	pid_t pid;
	int st;
	unsigned i;

	sl_store__set_initial_map(256 * 1024);
	s = new_store();
	sl_store_close(s);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		/* A reader process with its own environment: it must see
		 * whole batches only, and follow the map as it grows. */
		struct sl_store *r;
		uint64_t last = 0;
		int rounds = 0;

		if (sl_store_open(&r, sdir, SL_STORE_RDONLY, &e))
			_exit(10);
		while (last < 1201 && rounds++ < 20000) {
			struct sl_store_txn *t;
			uint64_t n;
			uint64_t k;

			if (sl_store_read_begin(&t, r, &e))
				_exit(11);
			n = sl_store_txn_size(t);
			if (n < last || (n - 1) % 100 != 0)
				_exit(12);
			for (k = 0; k < n; k += 37) {
				const uint8_t *p;
				size_t len;
				struct sl_entry_view ev;

				if (sl_store_get(&p, &len, t, k) ||
				    sl_entry_scan(&ev, p, len, NULL) ||
				    ev.seq != k)
					_exit(13);
			}
			last = n;
			sl_store_read_end(t);
			usleep(500);
		}
		sl_store_close(r);
		_exit(last == 1201 ? 0 : 14);
	}
	ck_assert_int_eq(sl_store_open(&s, sdir, 0, &e), 0);
	for (i = 0; i < 12; i++)
		ck_assert_int_eq(append_range(s, i * 100, 100, &e), 0);
	sl_store_close(s);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "reader process failed with %d", WEXITSTATUS(st));
	sl_store__set_initial_map((size_t)1 << 30);
}
END_TEST

/* Readers of @path's log registered by process @pid, as another process
 * sees them in the lock file. */
static int readers_cb(const char *msg, void *ctx)
{
	int *n = ctx;
	long pid;

	if (sscanf(msg, "%ld", &pid) == 1 && pid == (long)getppid())
		(*n)++;
	return 0;
}

static int readers_seen(const char *path)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		MDB_env *env;
		int n = 0;

		if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 16) ||
		    mdb_env_open(env, path, MDB_RDONLY | MDB_NOTLS, 0600))
			_exit(100);
		mdb_reader_list(env, readers_cb, &n);
		_exit(n);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) != 100);
	return WEXITSTATUS(st);
}

/* A second read-only open in the process must not reset the lock file
 * (LMDB allows one open an environment per process): the first open's
 * reader stays registered, whichever open is closed first, so a writer
 * elsewhere never reuses the pages it reads. */
START_TEST(test_store_readonly_opens_share_one_environment)
{
	struct sl_store *s = new_store();
	struct sl_store *a, *b;
	struct sl_store_txn *t;
	struct sl_err e;
	const uint8_t *p;
	size_t n;

	ck_assert_int_eq(append_range(s, 0, 10, &e), 0);
	sl_store_close(s);
	ck_assert_int_eq(sl_store_open(&a, sdir, SL_STORE_RDONLY, &e), 0);
	ck_assert_int_eq(sl_store_read_begin(&t, a, &e), 0);
	ck_assert_int_eq(readers_seen(sdir), 1);
	ck_assert_int_eq(sl_store_open(&b, sdir, SL_STORE_RDONLY, &e), 0);
	ck_assert_int_eq(readers_seen(sdir), 1);
	sl_store_close(a);
	ck_assert_int_eq(readers_seen(sdir), 1);
	ck_assert_int_eq(sl_store_get(&p, &n, t, 9), 0);
	ck_assert_uint_gt(n, 0);
	sl_store_read_end(t);
	ck_assert_int_eq(readers_seen(sdir), 0);
	sl_store_close(b);
	/* closed with its last open: a new one reads afresh */
	ck_assert_int_eq(sl_store_open(&a, sdir, SL_STORE_RDONLY, &e), 0);
	ck_assert_int_eq(sl_store_read_begin(&t, a, &e), 0);
	ck_assert_uint_eq(sl_store_txn_size(t), 11);
	sl_store_read_end(t);
	sl_store_close(a);
}
END_TEST

START_TEST(test_store_two_writers_stay_contiguous)
{
	struct sl_store *a = new_store();
	struct sl_store *b;
	struct sl_err e;

	ck_assert_int_eq(sl_store_open(&b, sdir, 0, &e), 0);
	ck_assert_int_eq(append_range(a, 0, 10, &e), 0);
	/* b's view is stale; its write re-reads the tip first */
	ck_assert_int_eq(append_range(b, 10, 10, &e), 0);
	ck_assert_uint_eq(sl_store_size(b), 21);
	ck_assert_int_eq(append_range(a, 20, 1, &e), 0);
	ck_assert_uint_eq(sl_store_size(a), 22);
	sl_store_close(b);
	sl_store_close(a);
}
END_TEST

Suite *sl_store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_store_append_read_contiguous);
	tcase_add_test(tc, test_store_idempotent_retry_and_conflict);
	tcase_add_test(tc, test_store_hands_back_kept);
	tcase_add_test(tc, test_store_append_check_stores_nothing);
	tcase_add_test(tc, test_store_subject_and_thread_index);
	tcase_add_test(tc, test_store_keeps_summaries_and_cases);
	tcase_add_test(tc, test_store_index_off_the_commit_path);
	tcase_add_test(tc, test_store_proofs_from_stored_nodes);
	tcase_add_test(tc, test_store_map_grows);
	tcase_add_test(tc, test_store_reader_in_other_process);
	tcase_add_test(tc, test_store_readonly_opens_share_one_environment);
	tcase_add_test(tc, test_store_two_writers_stay_contiguous);
	tcase_add_test(tc, test_store_derived_behind_restart_other);
	tcase_add_test(tc, test_store_derived_commit_fails);
	suite_add_tcase(s, tc);
	return s;
}
