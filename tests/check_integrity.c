/*
 * The tamper suite: a 10,000-entry log, as a store and as a bundle, is
 * altered the ways an insider could, and the verifier must catch each one
 * and name the entry.
 */
#include "tests/testutil.h"
#include "auditd/admin.h"
#include "auditd/ingest.h"
#include "auditd/keys.h"
#include "auditd/seal.h"
#include "formats/bundle.h"
#include "formats/buf.h"
#include "formats/checkpoint.h"
#include "formats/enc.h"
#include "formats/entry.h"
#include "formats/hash.h"
#include "formats/note.h"
#include "formats/store.h"
#include "formats/summary.h"
#include "verify/completeness.h"
#include "verify/policy.h"
#include "verify/integrity.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_ENTRIES 10000
#define EVERY 100

static char base[256];      /* pristine log */
static char work[256];      /* per-test copy */
static char vkey[SL_NOTE_VKEY_MAX];

static void build_pristine(void)
{
	char store[300];
	char keys[300];
	char bundle[300];
	char lines[300];
	struct sl_err e = { 0, "" };
	struct sl_store *s;
	struct sl_keys *k;
	struct sl_policy *pol;
	struct sl_comp_keeper *kp;
	struct sl_store_keeper sk;
	unsigned done = 1;
	uint64_t size;

	/* written as sharelogd writes: each entry's judgement kept */
	ck_assert_int_eq(sl_policy_load(&pol, NULL, &e), 0);
	ck_assert_int_eq(sl_comp_keeper_new(&kp, pol, &e), 0);
	ck_assert_int_eq(sl_comp_store_keeper(&sk, kp), 0);
	tu_tmpdir(base, sizeof(base));
	snprintf(store, sizeof(store), "%s/store", base);
	snprintf(keys, sizeof(keys), "%s/keys", base);
	snprintf(bundle, sizeof(bundle), "%s/bundle", base);
	snprintf(lines, sizeof(lines), "%s/batch.jsonl", base);
	ck_assert_msg(sl_admin_init(store, keys, "tamper.test/log", &e) == 0,
	    "%s", e.msg);
	sl_store_set_keeper(&sk);
	ck_assert_int_eq(sl_store_open(&s, store, 0, &e), 0);
	ck_assert_int_eq(sl_keys_open(&k, keys, "tamper.test/log", &e), 0);
	snprintf(vkey, sizeof(vkey), "%s", k->vkey);
	while (done < N_ENTRIES) {
		struct sl_ingest_stats st;
		unsigned n = N_ENTRIES - done < EVERY ? N_ENTRIES - done : EVERY;
		FILE *f = fopen(lines, "w+");
		unsigned i;

		for (i = 0; i < n; i++) {
			json_t *r = tu_record(done + i);
			char *t = json_dumps(r, JSON_COMPACT);

			fprintf(f, "%s\n", t);
			free(t);
			json_decref(r);
		}
		rewind(f);
		ck_assert_msg(sl_ingest_jsonl(&st, f, s, k->pseudo, NULL, 0, 0,
		    stderr, &e) == 0, "%s", e.msg);
		fclose(f);
		ck_assert_int_eq(sl_seal_checkpoint(&size, s, k->signer, &e),
		    0);
		done += n;
	}
	sl_keys_close(k);
	sl_store_close(s);
	ck_assert_msg(sl_admin_export(&size, store, keys, bundle, &e) == 0,
	    "%s", e.msg);
	sl_store_set_keeper(NULL);
	sl_comp_keeper_free(kp);
	sl_policy_free(pol);
	ck_assert_uint_eq(size, N_ENTRIES);
}

static void unbuild(void)
{
	tu_rmdir(base);
}

static void copy_log(void)
{
	tu_tmpdir(work, sizeof(work));
	ck_assert_int_eq(tu_sh("cp -a '%s/store' '%s/bundle' '%s/keys' '%s/'",
	    base, base, base, work), 0);
}

static void drop_copy(void)
{
	tu_rmdir(work);
}

/* ---- the log as a list of entries ---------------------------------- */

struct list {
	char **e;
	size_t *len;
	size_t n;
};

static void list_load(struct list *l)
{
	char path[400];
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/bundle/entries.jsonl", work);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	l->e = calloc(N_ENTRIES + 10, sizeof(*l->e));
	l->len = calloc(N_ENTRIES + 10, sizeof(*l->len));
	l->n = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		l->e[l->n] = strndup(line, (size_t)len - 1);
		l->len[l->n] = (size_t)len - 1;
		l->n++;
	}
	free(line);
	fclose(f);
	ck_assert_uint_eq(l->n, N_ENTRIES);
}

static void list_free(struct list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->e[i]);
	free(l->e);
	free(l->len);
}

/* The copied store's table @name, opened with LMDB directly, as an
 * insider editing the files would. Commit with raw_close(). */
static MDB_txn *raw_open_in(MDB_env **env, MDB_dbi *dbi, const char *sub,
    const char *name)
{
	char path[400];
	MDB_txn *txn;

	snprintf(path, sizeof(path), "%s/store%s", work, sub);
	ck_assert_int_eq(mdb_env_create(env), 0);
	mdb_env_set_maxdbs(*env, 8);
	mdb_env_set_mapsize(*env, (size_t)1 << 30);
	ck_assert_int_eq(mdb_env_open(*env, path, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(*env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, name, 0, dbi), 0);
	return txn;
}

/* The log's tables are in the store's own environment, the rest in
 * store/derived. */
static MDB_txn *raw_open(MDB_env **env, MDB_dbi *dbi, const char *name)
{
	int log = !strcmp(name, "entries") || !strcmp(name, "checkpoints") ||
	    !strcmp(name, "meta");

	return raw_open_in(env, dbi, log ? "" : "/derived", name);
}

static void raw_close(MDB_env *env, MDB_txn *txn)
{
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void be64(uint8_t kb[8], uint64_t v)
{
	int b;

	for (b = 0; b < 8; b++)
		kb[b] = (uint8_t)(v >> (56 - 8 * b));
}

/* Write the list back: as the bundle's entries and as the store's. */
static void list_save(struct list *l)
{
	char path[400];
	FILE *f;
	size_t i;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	snprintf(path, sizeof(path), "%s/bundle/entries.jsonl", work);
	f = fopen(path, "w");
	for (i = 0; i < l->n; i++)
		fprintf(f, "%s\n", l->e[i]);
	fclose(f);
	txn = raw_open(&env, &dbi, "entries");
	ck_assert_int_eq(mdb_drop(txn, dbi, 0), 0);
	for (i = 0; i < l->n; i++) {
		uint8_t kb[8];
		MDB_val k = { 8, kb };
		MDB_val v = { l->len[i], l->e[i] };

		be64(kb, i);
		ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, MDB_APPEND), 0);
	}
	raw_close(env, txn);
}

/* Keep only checkpoints of size <= @keep, in store and bundle (what a
 * forger who cannot sign must do to hide a shorter or rewritten log). */
static void drop_checkpoints_above(uint64_t keep)
{
	char path[400];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k;
	MDB_val v;
	uint64_t s;

	txn = raw_open(&env, &dbi, "checkpoints");
	mdb_cursor_open(txn, dbi, &c);
	while (!mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *p = k.mv_data;
		int b;

		for (s = 0, b = 0; b < 8; b++)
			s = s << 8 | p[b];
		if (s > keep)
			mdb_cursor_del(c, 0);
	}
	mdb_cursor_close(c);
	raw_close(env, txn);
	for (s = keep + 1; s <= N_ENTRIES; s++) {
		snprintf(path, sizeof(path), "%s/bundle/checkpoints/%llu", work,
		    (unsigned long long)s);
		remove(path);
	}
	ck_assert_int_eq(tu_sh("cp '%s/bundle/checkpoints/%llu' "
	    "'%s/bundle/checkpoint'", work, (unsigned long long)keep, work), 0);
}

static void leaf(uint8_t out[32], const char *p, size_t n)
{
	struct sl_hash *h;

	sl_hash_new(&h);
	sl_hash_leaf(out, h, p, n);
	sl_hash_free(h);
}

/* Replace the text @from by @to (same length) in entry @i. */
static void edit(struct list *l, size_t i, const char *from, const char *to)
{
	char *p = strstr(l->e[i], from);

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
}

/* Re-link every entry after @from: what a forger with write access does. */
static void relink(struct list *l, size_t from)
{
	size_t i;

	for (i = from + 1; i < l->n; i++) {
		uint8_t h[32];
		char hex[65];

		leaf(h, l->e[i - 1], l->len[i - 1]);
		sl_enc_hex(hex, h, 32);
		ck_assert_int_eq(memcmp(l->e[i], "{\"prev\":\"", 9), 0);
		memcpy(l->e[i] + 9, hex, 64);
	}
}

/* ---- running the verifier ------------------------------------------- */

static struct sl_verify_result res;

static int verify(const char *which, const char *held, int with_key)
{
	char path[400];
	const char *h[1] = { held };
	const char *k[1] = { vkey };
	struct sl_verify_opts o = { h, held ? 1 : 0, k, with_key ? 1 : 0, 0, 0,
		NULL, NULL, 0, 0 };
	struct sl_err e = { 0, "" };
	int rc;

	snprintf(path, sizeof(path), "%s/%s", work, which);
	rc = sl_verify_log(&res, path, &o, &e);
	ck_assert_msg(rc == 0 || rc == SL_EINTEGRITY, "verify %s: %s", which,
	    e.msg);
	return rc;
}

static void expect_bad(const char *which, const char *held,
    uint64_t from, uint64_t to, const char *words)
{
	ck_assert_msg(verify(which, held, 0) == SL_EINTEGRITY,
	    "%s: tampering not detected", which);
	ck_assert_msg(res.bad_from == from && res.bad_to == to,
	    "%s: named entries %llu..%llu, expected %llu..%llu: %s", which,
	    (unsigned long long)res.bad_from, (unsigned long long)res.bad_to,
	    (unsigned long long)from, (unsigned long long)to, res.problem);
	ck_assert_msg(strstr(res.problem, words), "%s: \"%s\" lacks \"%s\"",
	    which, res.problem, words);
}

static const char *held_copy(void)
{
	static char path[400];

	/* The inspector kept the bundle's checkpoint from an earlier visit. */
	snprintf(path, sizeof(path), "%s/held-checkpoint", work);
	ck_assert_int_eq(tu_sh("cp '%s/bundle/checkpoint' '%s'", work, path),
	    0);
	return path;
}

START_TEST(test_integrity_pristine_verifies)
{
	const char *held = held_copy();

	ck_assert_int_eq(verify("store", held, 1), 0);
	ck_assert_uint_eq(res.entries, N_ENTRIES);
	ck_assert_uint_eq(res.newest.size, N_ENTRIES);
	ck_assert_uint_eq(res.nheld, 1);
	ck_assert_uint_ge(res.checkpoints, N_ENTRIES / EVERY);
	ck_assert_uint_eq(res.summaries, N_ENTRIES);
	ck_assert_uint_eq(res.judgements, N_ENTRIES);
	ck_assert_int_eq(verify("bundle", held, 1), 0);
	ck_assert_int_eq(res.trust_from_log, 0);
	ck_assert_int_eq(verify("bundle", NULL, 0), 0);
	ck_assert_int_eq(res.trust_from_log, 1);
}
END_TEST

/* The summaries kept for the reports sit outside the chain: an edited or
 * removed one must still be caught, and named. */
START_TEST(test_integrity_summary_edited_or_removed)
{
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	uint8_t kb[8];
	uint8_t nb[SL_SUMMARY_LEN];
	MDB_val k = { 8, kb };
	MDB_val v;

	txn = raw_open(&env, &dbi, "summaries");
	be64(kb, 777);
	ck_assert_int_eq(mdb_get(txn, dbi, &k, &v), 0);
	ck_assert_uint_eq(v.mv_size, SL_SUMMARY_LEN);
	memcpy(nb, v.mv_data, SL_SUMMARY_LEN);
	nb[82 + SL_SC_DECISION] ^= 1;        /* share <-> not_share */
	v.mv_data = nb;
	ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	raw_close(env, txn);
	expect_bad("store", NULL, 777, 777, "summary");

	txn = raw_open(&env, &dbi, "summaries");
	nb[82 + SL_SC_DECISION] ^= 1;        /* put it back */
	v.mv_data = nb;
	v.mv_size = SL_SUMMARY_LEN;
	ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	raw_close(env, txn);
	ck_assert_int_eq(verify("store", NULL, 0), 0);

	/* the table ends early: the last entry has none */
	txn = raw_open(&env, &dbi, "summaries");
	be64(kb, N_ENTRIES - 1);
	ck_assert_int_eq(mdb_del(txn, dbi, &k, NULL), 0);
	raw_close(env, txn);
	expect_bad("store", NULL, N_ENTRIES - 1, N_ENTRIES - 1, "missing");

	/* a gap at the start of a chunk of the verifier's, and one inside */
	txn = raw_open(&env, &dbi, "summaries");
	be64(kb, 4096);
	ck_assert_int_eq(mdb_del(txn, dbi, &k, NULL), 0);
	raw_close(env, txn);
	expect_bad("store", NULL, 4096, 4096, "missing");
	txn = raw_open(&env, &dbi, "summaries");
	be64(kb, 4000);
	ck_assert_int_eq(mdb_del(txn, dbi, &k, NULL), 0);
	raw_close(env, txn);
	expect_bad("store", NULL, 4000, 4000, "missing");
}
END_TEST

/* So are the recording rules' judgements packs count completeness from:
 * one edited (a finding dropped) or removed is caught and named. */
START_TEST(test_integrity_judgement_edited_or_removed)
{
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	uint8_t kb[8];
	uint8_t nb[SL_COMP_KEPT_MAX];
	MDB_val k = { 8, kb };
	MDB_val v;

	txn = raw_open(&env, &dbi, "judgements");
	be64(kb, 777);
	ck_assert_int_eq(mdb_get(txn, dbi, &k, &v), 0);
	ck_assert_uint_gt(v.mv_size, 92);
	memcpy(nb, v.mv_data, v.mv_size);
	nb[12] ^= 1;                         /* decided_at, 1 ms later */
	v.mv_data = nb;
	ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	raw_close(env, txn);
	expect_bad("store", NULL, 777, 777, "judgement");

	txn = raw_open(&env, &dbi, "judgements");
	nb[12] ^= 1;                         /* put it back */
	ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	raw_close(env, txn);
	ck_assert_int_eq(verify("store", NULL, 0), 0);

	/* one missing, inside a chunk of the verifier's */
	txn = raw_open(&env, &dbi, "judgements");
	be64(kb, 4000);
	ck_assert_int_eq(mdb_del(txn, dbi, &k, NULL), 0);
	raw_close(env, txn);
	expect_bad("store", NULL, 4000, 4000, "judgement");
}
END_TEST

/* So are the refs trails find a child's entries by: a row edited,
 * removed or added is caught and named. */
START_TEST(test_integrity_refs_edited_removed_or_added)
{
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	uint8_t kb[8];
	uint8_t nb[SL_STORE_REFS_MAX];
	size_t n;
	MDB_val k = { 8, kb };
	MDB_val v;

	ck_assert_int_eq(verify("store", NULL, 0), 0);
	txn = raw_open(&env, &dbi, "refs");
	be64(kb, 777);
	ck_assert_int_eq(mdb_get(txn, dbi, &k, &v), 0);
	n = v.mv_size;
	ck_assert_uint_gt(n, SL_HASH_LEN);  /* a child and a case */
	memcpy(nb, v.mv_data, n);
	nb[5] ^= 1;                          /* another child */
	v.mv_data = nb;
	ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	raw_close(env, txn);
	expect_bad("store", NULL, 777, 777, "refs");

	txn = raw_open(&env, &dbi, "refs");
	nb[5] ^= 1;                          /* put it back */
	v.mv_data = nb;
	v.mv_size = n;
	ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	raw_close(env, txn);
	ck_assert_int_eq(verify("store", NULL, 0), 0);

	/* removed, at the start of a chunk of the verifier's */
	txn = raw_open(&env, &dbi, "refs");
	be64(kb, 4096);
	ck_assert_int_eq(mdb_del(txn, dbi, &k, NULL), 0);
	raw_close(env, txn);
	expect_bad("store", NULL, 4096, 4096, "refs");

	/* added, for the genesis entry, which has neither */
	txn = raw_open(&env, &dbi, "refs");
	be64(kb, 0);
	v.mv_data = nb;
	v.mv_size = n;
	ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	raw_close(env, txn);
	expect_bad("store", NULL, 0, 0, "refs");
}
END_TEST

/* A row of a dupsort lookup table, added (@add 1) or removed (0). */
static void lk_row(const char *sub, const char *table, const void *key,
    size_t klen, uint64_t seq, int add)
{
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn = raw_open_in(&env, &dbi, sub, table);
	uint8_t vb[8];
	MDB_val k = { klen, (void *)key };
	MDB_val v = { 8, vb };

	be64(vb, seq);
	if (add)
		ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	else
		ck_assert_int_eq(mdb_del(txn, dbi, &k, &v), 0);
	raw_close(env, txn);
}

/* The threads table trails and findings gather a decision's records by:
 * a row removed, one moved to another entry, one for an entry the log
 * does not have, each caught and named. */
START_TEST(test_integrity_threads_table)
{
	char did[40];

	ck_assert_int_eq(verify("store", NULL, 0), 0);
	ck_assert_uint_eq(res.lookups, N_ENTRIES);
	ck_assert_uint_eq(res.index_reach, N_ENTRIES);
	snprintf(did, sizeof(did), "D-%06u", 777);
	lk_row("/derived", "threads", did, strlen(did), 777, 0);
	expect_bad("store", NULL, 777, 777, "threads table");
	ck_assert_ptr_nonnull(strstr(res.problem, "no row"));
	lk_row("/derived", "threads", did, strlen(did), 777, 1);
	ck_assert_int_eq(verify("store", NULL, 0), 0);

	/* entry 4100's seq listed under entry 777's decision as well */
	lk_row("/derived", "threads", did, strlen(did), 4100, 1);
	expect_bad("store", NULL, 4100, 4100, "threads table");
	ck_assert_ptr_nonnull(strstr(res.problem, "does not call for"));
	lk_row("/derived", "threads", did, strlen(did), 4100, 0);

	/* a row for an entry past the log's end */
	lk_row("/derived", "threads", did, strlen(did), N_ENTRIES + 5, 1);
	expect_bad("store", NULL, N_ENTRIES + 5, N_ENTRIES + 5,
	    "no such entry");
}
END_TEST

/* Row @key of @table: its value read into @old (when not NULL; it must
 * be @olen bytes), then written back as @nv (NULL: the row removed). */
static void row_edit(const char *table, const void *key, size_t klen,
    void *old, size_t olen, const void *nv, size_t nlen)
{
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn = raw_open(&env, &dbi, table);
	MDB_val k = { klen, (void *)key };
	MDB_val val;

	if (old) {
		ck_assert_int_eq(mdb_get(txn, dbi, &k, &val), 0);
		ck_assert_uint_eq(val.mv_size, olen);
		memcpy(old, val.mv_data, olen);
	}
	if (nv) {
		val.mv_data = (void *)nv;
		val.mv_size = nlen;
		ck_assert_int_eq(mdb_put(txn, dbi, &k, &val, 0), 0);
	} else {
		ck_assert_int_eq(mdb_del(txn, dbi, &k, NULL), 0);
	}
	raw_close(env, txn);
}

/* The ids table a retry finds its original by: row @key's value (seq and
 * content hash) read into v, then written back as @nv (NULL: removed). */
static void id_row_edit(const char *key, uint8_t v[8 + SL_HASH_LEN],
    const uint8_t *nv, size_t nlen)
{
	row_edit("ids", key, strlen(key), v, 8 + SL_HASH_LEN, nv, nlen);
}

/* Its record_id row removed, another entry's seq in a decision_id row,
 * a content hash altered, a row for an entry the log does not have:
 * each caught and named, with what it would do to a retry. */
START_TEST(test_integrity_ids_table)
{
	uint8_t v[8 + SL_HASH_LEN];
	uint8_t w[8 + SL_HASH_LEN];
	char rkey[64];
	json_t *r = tu_record(777);

	snprintf(rkey, sizeof(rkey), "r:%s",
	    json_string_value(json_object_get(r, "record_id")));
	json_decref(r);
	ck_assert_int_eq(verify("store", NULL, 0), 0);

	id_row_edit(rkey, v, NULL, 0);
	expect_bad("store", NULL, 777, 777, "record_id row");
	ck_assert_ptr_nonnull(strstr(res.problem, "no row"));
	ck_assert_ptr_nonnull(strstr(res.problem, "second time"));
	id_row_edit(rkey, NULL, v, sizeof(v));
	ck_assert_int_eq(verify("store", NULL, 0), 0);

	/* the decision_id row of entry 777 pointing at entry 4100 */
	id_row_edit("d:D-000777", v, NULL, 0);
	memcpy(w, v, sizeof(w));
	be64(w, 4100);
	id_row_edit("d:D-000777", NULL, w, sizeof(w));
	expect_bad("store", NULL, 777, 777, "decision_id row");
	id_row_edit("d:D-000777", NULL, v, sizeof(v));
	ck_assert_int_eq(verify("store", NULL, 0), 0);

	/* a content hash altered: a retry of the record would be refused,
	 * and one with other content answered as this one */
	id_row_edit(rkey, v, NULL, 0);
	memcpy(w, v, sizeof(w));
	w[8 + 31] ^= 1;
	id_row_edit(rkey, NULL, w, sizeof(w));
	expect_bad("store", NULL, 777, 777, "record_id row");
	ck_assert_ptr_nonnull(strstr(res.problem, "does not call for"));
	id_row_edit(rkey, NULL, v, sizeof(v));

	/* a row for an entry past the log's end */
	be64(w, N_ENTRIES + 5);
	id_row_edit("r:01JGFJJZ00ZZZZZZZZZZZZZZZZ", NULL, w, sizeof(w));
	expect_bad("store", NULL, N_ENTRIES + 5, N_ENTRIES + 5,
	    "no such entry");
}
END_TEST

/* Tree row (@last, @level): read into old (when not NULL), then written
 * as @nv (NULL: removed). */
static void tree_row_edit(uint64_t last, unsigned level, uint8_t *old,
    const uint8_t *nv)
{
	uint8_t kb[9];

	be64(kb, last);
	kb[8] = (uint8_t)level;
	row_edit("tree", kb, sizeof(kb), old, SL_HASH_LEN, nv, SL_HASH_LEN);
}

/* The Merkle nodes the service serves proofs from and rebuilds its state
 * from: a leaf, a node inside a chunk of the verifier's, one above the
 * chunks (where they join), each altered; one removed; one past the end:
 * each caught and named. */
START_TEST(test_integrity_tree_table)
{
	static const struct { uint64_t last; unsigned level; } at[] = {
		{ 777, 0 },          /* a leaf hash */
		{ 1023, 10 },        /* inside the first chunk */
		{ 4095, 12 },        /* above the chunks */
		{ 8191, 13 },
	};
	uint8_t h[SL_HASH_LEN];
	uint8_t w[SL_HASH_LEN];
	size_t i;

	ck_assert_int_eq(verify("store", NULL, 0), 0);
	ck_assert_uint_eq(res.nodes, N_ENTRIES);
	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		tree_row_edit(at[i].last, at[i].level, h, NULL);
		memcpy(w, h, sizeof(w));
		w[3] ^= 0x40;
		tree_row_edit(at[i].last, at[i].level, NULL, w);
		expect_bad("store", NULL, at[i].last, at[i].last,
		    "tree table");
		ck_assert_ptr_nonnull(strstr(res.problem, "the entries "
		    "themselves verify"));
		tree_row_edit(at[i].last, at[i].level, NULL, h);
	}
	ck_assert_int_eq(verify("store", NULL, 0), 0);

	tree_row_edit(6143, 11, h, NULL);
	expect_bad("store", NULL, 6143, 6143, "tree table");
	tree_row_edit(6143, 11, NULL, h);

	/* a node for a leaf the log does not have */
	tree_row_edit(N_ENTRIES + 2, 0, NULL, h);
	expect_bad("store", NULL, N_ENTRIES + 2, N_ENTRIES + 2,
	    "tree table");
	ck_assert_ptr_nonnull(strstr(res.problem, "no such entry"));
}
END_TEST

/* Likewise the child and case index (the folder index) trails read. */
START_TEST(test_integrity_child_case_index)
{
	static const char kase[] = "\"C-000123\"";
	static const char other[] = "\"C-999999\"";
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
	uint8_t kb[8];
	uint8_t child[SL_HASH_LEN];
	uint8_t leaf[8 + SL_HASH_LEN];
	MDB_val k = { 8, kb };
	MDB_val v;

	txn = raw_open(&env, &dbi, "refs");
	be64(kb, 777);
	ck_assert_int_eq(mdb_get(txn, dbi, &k, &v), 0);
	memcpy(child, v.mv_data, SL_HASH_LEN);
	raw_close(env, txn);

	lk_row("/index", "subjects", child, SL_HASH_LEN, 777, 0);
	expect_bad("store", NULL, 777, 777, "child index");
	ck_assert_ptr_nonnull(strstr(res.problem, "no row"));
	lk_row("/index", "subjects", child, SL_HASH_LEN, 777, 1);
	ck_assert_int_eq(verify("store", NULL, 0), 0);

	/* entry 4096's case row moved to another case */
	lk_row("/index", "cases", kase, strlen(kase), 4096, 0);
	lk_row("/index", "cases", other, strlen(other), 4096, 1);
	expect_bad("store", NULL, 4096, 4096, "case index");
	lk_row("/index", "cases", other, strlen(other), 4096, 0);
	lk_row("/index", "cases", kase, strlen(kase), 4096, 1);
	ck_assert_int_eq(verify("store", NULL, 0), 0);

	/* an index that claims to end on this log's last entry, with the
	 * tree node lookups compare it with rewritten to agree: only the
	 * verifier's own leaf hash tells */
	txn = raw_open_in(&env, &dbi, "/index", "meta");
	k.mv_size = 7;
	k.mv_data = "through";
	ck_assert_int_eq(mdb_get(txn, dbi, &k, &v), 0);
	ck_assert_uint_eq(v.mv_size, sizeof(leaf));
	memcpy(leaf, v.mv_data, sizeof(leaf));
	leaf[8] ^= 1;
	v.mv_data = leaf;
	ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	raw_close(env, txn);
	ck_assert_int_eq(verify("store", NULL, 0), 0);  /* lookups skip it */
	ck_assert_uint_eq(res.index_reach, 0);
	txn = raw_open(&env, &dbi, "tree");
	be64(kb, N_ENTRIES - 1);
	{
		uint8_t tk[9];
		MDB_val t9 = { 9, tk };
		MDB_val nv = { SL_HASH_LEN, leaf + 8 };

		memcpy(tk, kb, 8);
		tk[8] = 0;
		ck_assert_int_eq(mdb_get(txn, dbi, &t9, &v), 0);
		ck_assert_int_eq(mdb_put(txn, dbi, &t9, &nv, 0), 0);
	}
	raw_close(env, txn);
	expect_bad("store", NULL, N_ENTRIES - 1, N_ENTRIES - 1,
	    "not this log's");
}
END_TEST

START_TEST(test_integrity_flipped_byte)
{
	struct list l;

	list_load(&l);
	edit(&l, 5000, "disclosed", "disclosad");
	list_save(&l);
	expect_bad("store", NULL, 5000, 5000, "altered");
	expect_bad("bundle", NULL, 5000, 5000, "altered");
	list_free(&l);
}
END_TEST

START_TEST(test_integrity_flipped_byte_in_link)
{
	struct list l;

	list_load(&l);
	/* one hex digit of "prev" changed to another hex digit */
	l.e[4321][20] = l.e[4321][20] == '0' ? '1' : '0';
	list_save(&l);
	expect_bad("store", NULL, 4321, 4321, "altered");
	expect_bad("bundle", NULL, 4321, 4321, "altered");
	list_free(&l);
}
END_TEST

START_TEST(test_integrity_deleted_entry)
{
	struct list l;

	list_load(&l);
	free(l.e[777]);
	memmove(&l.e[777], &l.e[778], (l.n - 778) * sizeof(*l.e));
	memmove(&l.len[777], &l.len[778], (l.n - 778) * sizeof(*l.len));
	l.n--;
	list_save(&l);
	expect_bad("store", NULL, 777, 777, "missing");
	expect_bad("bundle", NULL, 777, 777, "missing");
	list_free(&l);
}
END_TEST

START_TEST(test_integrity_inserted_entry)
{
	struct list l;
	char *forged;

	list_load(&l);
	/* A forged entry with the right seq and a valid link to the one
	 * before, slipped in ahead of the real entry 6000. */
	forged = strdup(l.e[6000]);
	memmove(&l.e[6001], &l.e[6000], (l.n - 6000) * sizeof(*l.e));
	memmove(&l.len[6001], &l.len[6000], (l.n - 6000) * sizeof(*l.len));
	l.e[6000] = forged;
	l.n++;
	edit(&l, 6000, "disclosed", "confided.");
	l.len[6000] = strlen(l.e[6000]);
	list_save(&l);
	expect_bad("store", NULL, 6000, 6000, "inserted");
	expect_bad("bundle", NULL, 6000, 6000, "inserted");
	list_free(&l);
}
END_TEST

START_TEST(test_integrity_swapped_entries)
{
	struct list l;
	char *t;
	size_t n;

	list_load(&l);
	t = l.e[2500];
	l.e[2500] = l.e[2501];
	l.e[2501] = t;
	n = l.len[2500];
	l.len[2500] = l.len[2501];
	l.len[2501] = n;
	list_save(&l);
	expect_bad("store", NULL, 2500, 2501, "swapped");
	expect_bad("bundle", NULL, 2500, 2501, "swapped");
	list_free(&l);
}
END_TEST

START_TEST(test_integrity_truncated_tail)
{
	const char *held = held_copy();
	struct list l;
	size_t i;

	list_load(&l);
	for (i = 9501; i < l.n; i++)
		free(l.e[i]);
	l.n = 9501;
	list_save(&l);
	drop_checkpoints_above(9501);
	/* Without outside evidence the shorter log is self-consistent ... */
	ck_assert_int_eq(verify("bundle", NULL, 0), 0);
	ck_assert_uint_eq(res.entries, 9501);
	/* ... the checkpoint the inspector kept exposes it. */
	expect_bad("store", held, 9501, 9999, "removed");
	expect_bad("bundle", held, 9501, 9999, "removed");
	list_free(&l);
}
END_TEST

START_TEST(test_integrity_checkpoint_resigned_other_key)
{
	char kp[400];
	struct sl_signer *other;
	struct sl_err e;
	struct sl_checkpoint c;
	struct sl_buf body;
	struct sl_buf note;
	char *old;
	size_t n;
	struct sl_note_verdict nv;
	FILE *f;
	char path[400];

	snprintf(kp, sizeof(kp), "%s/other.key", work);
	ck_assert_int_eq(sl_note_keygen(kp, &e), 0);
	ck_assert_int_eq(sl_note_signer_load(&other, kp, "tamper.test/log",
	    &e), 0);
	snprintf(path, sizeof(path), "%s/bundle/checkpoint", work);
	ck_assert_int_eq(sl_bundle_slurp(&old, &n, path, 65536, &e), 0);
	sl_note_open(&nv, old, n, NULL, 0, &e);
	ck_assert_int_eq(sl_checkpoint_parse(&c, old, nv.text_len, &e), 0);
	sl_buf_init(&body, 4096);
	sl_buf_init(&note, 4096);
	sl_checkpoint_body(&body, &c);
	ck_assert_int_eq(sl_note_sign(&note, (char *)body.data, body.len,
	    &other, 1, &e), 0);
	f = fopen(path, "w");
	fwrite(note.data, 1, note.len, f);
	fclose(f);
	/* the same forgery in the store: its newest checkpoint replaced */
	{
		MDB_env *env;
		MDB_dbi dbi;
		MDB_txn *txn = raw_open(&env, &dbi, "checkpoints");
		uint8_t kb[8];
		MDB_val k = { 8, kb };
		MDB_val val = { note.len, note.data };

		be64(kb, N_ENTRIES);
		ck_assert_int_eq(mdb_put(txn, dbi, &k, &val, 0), 0);
		raw_close(env, txn);
	}
	ck_assert_int_eq(verify("store", NULL, 0), SL_EINTEGRITY);
	ck_assert_uint_eq(res.bad_from, N_ENTRIES - 1);
	ck_assert_ptr_nonnull(strstr(res.problem, "not signed by"));
	ck_assert_int_eq(verify("bundle", NULL, 0), SL_EINTEGRITY);
	ck_assert_uint_eq(res.bad_from, N_ENTRIES - 1);
	ck_assert_ptr_nonnull(strstr(res.problem, "checkpoint"));
	ck_assert_ptr_nonnull(strstr(res.problem, "not signed by"));
	/* Replacing log.vkey too does not help: genesis names the key. */
	{
		char v2[SL_NOTE_VKEY_MAX];

		sl_note_signer_vkey(v2, sizeof(v2), other);
		snprintf(path, sizeof(path), "%s/bundle/log.vkey", work);
		f = fopen(path, "w");
		fprintf(f, "%s\n", v2);
		fclose(f);
	}
	ck_assert_int_eq(verify("bundle", NULL, 0), SL_EINTEGRITY);
	ck_assert_ptr_nonnull(strstr(res.problem, "genesis"));
	ck_assert_int_eq(verify("bundle", NULL, 1), SL_EINTEGRITY);
	free(old);
	sl_buf_free(&body);
	sl_buf_free(&note);
	sl_note_signer_free(other);
}
END_TEST

START_TEST(test_integrity_non_canonical_reencoding)
{
	struct list l;
	json_t *v;
	char *s;

	list_load(&l);
	/* Same content, other bytes: what a careless rewrite produces. */
	v = json_loads(l.e[3333], 0, NULL);
	s = json_dumps(v, JSON_PRESERVE_ORDER);
	free(l.e[3333]);
	l.e[3333] = s;
	l.len[3333] = strlen(s);
	json_decref(v);
	list_save(&l);
	expect_bad("store", NULL, 3333, 3333, "re-encoded");
	expect_bad("bundle", NULL, 3333, 3333, "re-encoded");
	list_free(&l);
}
END_TEST

START_TEST(test_integrity_forged_with_recomputed_chain)
{
	const char *held = held_copy();
	struct list l;

	list_load(&l);
	edit(&l, 7123, "disclosed", "disclosad");
	relink(&l, 7123);
	list_save(&l);
	/* The forger cannot sign, so drops every checkpoint after 7123. */
	drop_checkpoints_above(7101);
	/* The chain itself is now perfect; the held checkpoint says the
	 * first 10,000 entries were something else. */
	expect_bad("store", held, 7101, 9999, "changed");
	expect_bad("bundle", held, 7101, 9999, "changed");
	ck_assert_uint_le(res.bad_from, 7123);
	ck_assert_uint_ge(res.bad_to, 7123);
	list_free(&l);
}
END_TEST

START_TEST(test_integrity_forged_caught_by_own_checkpoints)
{
	struct list l;

	list_load(&l);
	edit(&l, 7123, "disclosed", "disclosad");
	relink(&l, 7123);
	list_save(&l);
	/* Left in place, the log's own signed checkpoints narrow it down
	 * to one interval of 100 entries. */
	expect_bad("store", NULL, 7101, 7200, "changed");
	expect_bad("bundle", NULL, 7101, 7200, "changed");
	list_free(&l);
}
END_TEST

START_TEST(test_integrity_key_rotation_bridged)
{
	char store[400];
	char keys[400];
	struct sl_err e;
	uint64_t size;

	snprintf(store, sizeof(store), "%s/store", work);
	snprintf(keys, sizeof(keys), "%s/keys", work);
	ck_assert_msg(sl_admin_rotate_key(&size, store, keys, "test", &e) == 0,
	    "%s", e.msg);
	ck_assert_uint_eq(size, N_ENTRIES + 1);
	/* after the rotation, a checkpoint signed by the new key only */
	ck_assert_int_eq(sl_admin_checkpoint(&size, store, keys, &e), 0);
	ck_assert_int_eq(verify("store", NULL, 0), 0);
	/* the inspector holds only the old key: the bridge carries trust */
	ck_assert_int_eq(verify("store", NULL, 1), 0);
	ck_assert_str_ne(res.trusted_key, "");
}
END_TEST

START_TEST(test_integrity_forged_key_rotation)
{
	char store[400];
	char kp[400];
	struct sl_store *s;
	struct sl_signer *forger;
	struct sl_store_item it;
	struct sl_err e;
	char v[SL_NOTE_VKEY_MAX];
	json_t *rec;
	uint64_t size;

	/* An insider with write access to the store, not the signing key,
	 * names a key of their own in a key_rotation entry and signs with
	 * it. */
	snprintf(store, sizeof(store), "%s/store", work);
	snprintf(kp, sizeof(kp), "%s/forger.key", work);
	ck_assert_int_eq(sl_note_keygen(kp, &e), 0);
	ck_assert_int_eq(sl_note_signer_load(&forger, kp, "tamper.test/log",
	    &e), 0);
	sl_note_signer_vkey(v, sizeof(v), forger);
	ck_assert_int_eq(sl_store_open(&s, store, 0, &e), 0);
	rec = json_pack("{s:s,s:s}", "new_key", v, "reason", "forged");
	memset(&it, 0, sizeof(it));
	it.record = rec;
	it.type = SL_ET_KEY_ROTATION;
	it.submitted_by = "sharelog";
	ck_assert_int_eq(sl_store_append(s, &it, 1, &e), 0);
	ck_assert_int_eq(sl_seal_checkpoint(&size, s, forger, &e), 0);
	sl_store_close(s);
	json_decref(rec);
	sl_note_signer_free(forger);
	ck_assert_int_eq(verify("store", NULL, 0), SL_EINTEGRITY);
	ck_assert_ptr_nonnull(strstr(res.problem, "not signed by"));
	ck_assert_uint_eq(res.bad_from, N_ENTRIES);
	ck_assert_int_eq(verify("store", NULL, 1), SL_EINTEGRITY);
}
END_TEST

Suite *sl_integrity_suite(void)
{
	Suite *s = suite_create("integrity");
	TCase *tc = tcase_create("tamper");

	tcase_set_timeout(tc, 300);
	/* the longest suite by far (under the sanitizers): make test runs
	 * the tests tagged slow beside the others, a core each */
	tcase_set_tags(tc, "slow");
	tcase_add_unchecked_fixture(tc, build_pristine, unbuild);
	tcase_add_checked_fixture(tc, copy_log, drop_copy);
	tcase_add_test(tc, test_integrity_pristine_verifies);
	tcase_add_test(tc, test_integrity_summary_edited_or_removed);
	tcase_add_test(tc, test_integrity_judgement_edited_or_removed);
	tcase_add_test(tc, test_integrity_refs_edited_removed_or_added);
	tcase_add_test(tc, test_integrity_threads_table);
	tcase_add_test(tc, test_integrity_ids_table);
	tcase_add_test(tc, test_integrity_tree_table);
	tcase_add_test(tc, test_integrity_child_case_index);
	tcase_add_test(tc, test_integrity_flipped_byte);
	tcase_add_test(tc, test_integrity_flipped_byte_in_link);
	tcase_add_test(tc, test_integrity_deleted_entry);
	tcase_add_test(tc, test_integrity_inserted_entry);
	tcase_add_test(tc, test_integrity_swapped_entries);
	tcase_add_test(tc, test_integrity_truncated_tail);
	tcase_add_test(tc, test_integrity_checkpoint_resigned_other_key);
	tcase_add_test(tc, test_integrity_non_canonical_reencoding);
	tcase_add_test(tc, test_integrity_forged_with_recomputed_chain);
	tcase_add_test(tc, test_integrity_forged_caught_by_own_checkpoints);
	tcase_add_test(tc, test_integrity_key_rotation_bridged);
	tcase_add_test(tc, test_integrity_forged_key_rotation);
	suite_add_tcase(s, tc);
	return s;
}
