#include "tests/testutil.h"
#include "auditd/admin.h"
#include "auditd/ingest.h"
#include "auditd/keys.h"
#include "formats/bundle.h"
#include "formats/hash.h"
#include "formats/store.h"
#include "verify/integrity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[256];
static char store[300];
static char keys[300];
static char bundle[300];

static void setup(void)
{
	struct sl_err e;
	struct sl_store *s;
	struct sl_keys *k;
	struct sl_ingest_stats st;
	FILE *in = tmpfile();
	unsigned i;

	tu_tmpdir(dir, sizeof(dir));
	snprintf(store, sizeof(store), "%s/s", dir);
	snprintf(keys, sizeof(keys), "%s/k", dir);
	snprintf(bundle, sizeof(bundle), "%s/b", dir);
	ck_assert_int_eq(sl_admin_init(store, keys, "bundle.test/log", &e), 0);
	ck_assert_int_eq(sl_store_open(&s, store, 0, &e), 0);
	ck_assert_int_eq(sl_keys_open(&k, keys, "bundle.test/log", &e), 0);
	for (i = 0; i < 300; i++) {
		json_t *r = tu_record(i);
		char *t = json_dumps(r, JSON_COMPACT);

		fprintf(in, "%s\n", t);
		free(t);
		json_decref(r);
	}
	rewind(in);
	ck_assert_int_eq(sl_ingest_jsonl(&st, in, s, k->pseudo, NULL, 0, 0,
	    stderr, &e), 0);
	fclose(in);
	sl_keys_close(k);
	sl_store_close(s);
}

static void teardown(void)
{
	tu_rmdir(dir);
}

START_TEST(test_bundle_layout_and_bytes)
{
	struct sl_err e;
	uint64_t n;
	char path[400];
	struct stat sb;
	struct sl_store *s;
	struct sl_store_txn *t;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t i = 0;

	ck_assert_int_eq(sl_admin_export(&n, store, keys, bundle, &e), 0);
	ck_assert_uint_eq(n, 301);
	snprintf(path, sizeof(path), "%s/checkpoint", bundle);
	ck_assert_int_eq(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/log.vkey", bundle);
	ck_assert_int_eq(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/checkpoints/1", bundle);
	ck_assert_int_eq(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/checkpoints/301", bundle);
	ck_assert_int_eq(stat(path, &sb), 0);
	/* entries.jsonl holds exactly the stored bytes, one per line */
	ck_assert_int_eq(sl_store_open(&s, store, SL_STORE_RDONLY, &e), 0);
	ck_assert_int_eq(sl_store_read_begin(&t, s, &e), 0);
	snprintf(path, sizeof(path), "%s/entries.jsonl", bundle);
	f = fopen(path, "r");
	while ((len = getline(&line, &cap, f)) > 0) {
		const uint8_t *p;
		size_t pl;

		ck_assert_int_eq(sl_store_get(&p, &pl, t, i), 0);
		ck_assert_uint_eq(pl, (size_t)len - 1);
		ck_assert_int_eq(memcmp(p, line, pl), 0);
		ck_assert_int_eq(line[len - 1], '\n');
		i++;
	}
	ck_assert_uint_eq(i, 301);
	free(line);
	fclose(f);
	sl_store_read_end(t);
	sl_store_close(s);
	/* never over an existing folder */
	ck_assert_int_eq(sl_admin_export(&n, store, keys, bundle, &e),
	    SL_EEXIST);
}
END_TEST

START_TEST(test_bundle_restore_roundtrip)
{
	struct sl_err e;
	uint64_t n;
	char again[400];
	char restored[400];
	char vk[400];
	struct sl_verify_result *r = calloc(1, sizeof(*r));
	struct sl_verify_opts o = { NULL, 0, NULL, 0, 0, 0, NULL, NULL, 0, 0 };

	snprintf(restored, sizeof(restored), "%s/restored", dir);
	snprintf(again, sizeof(again), "%s/again", dir);
	snprintf(vk, sizeof(vk), "%s/log.vkey", keys);
	ck_assert_int_eq(sl_admin_export(&n, store, keys, bundle, &e), 0);
	ck_assert_msg(sl_admin_restore(&n, bundle, restored, NULL, &e) == 0,
	    "%s", e.msg);
	ck_assert_uint_eq(n, 301);
	ck_assert_int_eq(sl_verify_log(r, restored, &o, &e), 0);
	ck_assert_uint_eq(r->entries, 301);
	/* the restored store exports the same bytes */
	ck_assert_int_eq(sl_admin_export(&n, restored, keys, again, &e), 0);
	ck_assert_int_eq(tu_sh("cmp -s '%s/entries.jsonl' "
	    "'%s/entries.jsonl'", bundle, again), 0);
	free(r);
}
END_TEST

START_TEST(test_bundle_restore_refuses_tampered)
{
	struct sl_err e;
	uint64_t n;
	char restored[400];
	struct stat sb;

	snprintf(restored, sizeof(restored), "%s/restored", dir);
	ck_assert_int_eq(sl_admin_export(&n, store, keys, bundle, &e), 0);
	ck_assert_int_eq(tu_sh("sed -i '150s/disclosed/disclosad/' "
	    "'%s/entries.jsonl'", bundle), 0);
	ck_assert_int_eq(sl_admin_restore(&n, bundle, restored, NULL, &e),
	    SL_EINTEGRITY);
	ck_assert_ptr_nonnull(strstr(e.msg, "nothing restored"));
	ck_assert_ptr_nonnull(strstr(e.msg, "entry 149 (line 150"));
	ck_assert_int_ne(stat(restored, &sb), 0);
}
END_TEST

/* The vectors of docs/FORMAT.md, recomputed and verified. */
START_TEST(test_bundle_format_vectors)
{
	static const char *const want[3] = {
		"a7724fe09c95b938e17b88659142d68982351afdfb0f339bf6d39019f1b0c919",
		"903be3d3e75fdccdab948ab932abecee7d229f89835d7d38f0b4ce91eb8051ae",
		"12e2e23197981d2e460428bce93eefeb32ae00aa7908dc84f0a6f9e053eb4e0d",
	};
	const char *root =
	    "833f45d38d6f30d0a0a13ecd4049bb47384da06592f577650c12bd5a90621886";
	const char *vk = "example.lscp.gov.uk/sharelog+66be455d+AbF48birV9EPvF"
	    "SdSwZuy/2J/nh0M3af5vwc2fem+CaX";
	struct sl_verify_result *r = calloc(1, sizeof(*r));
	struct sl_verify_opts o = { NULL, 0, &vk, 1, 0, 0, NULL, NULL, 0, 0 };
	struct sl_err e;
	struct sl_hash *h;
	char hex[65];
	FILE *f = fopen("tests/data/vectors/bundle/entries.jsonl", "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int i = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(sl_hash_new(&h), 0);
	while ((len = getline(&line, &cap, f)) > 0) {
		uint8_t lh[32];

		ck_assert_int_lt(i, 3);
		sl_hash_leaf(lh, h, line, (size_t)len - 1);
		tu_hex(hex, lh);
		ck_assert_str_eq(hex, want[i]);
		i++;
	}
	ck_assert_int_eq(i, 3);
	ck_assert_int_eq(sl_verify_log(r, "tests/data/vectors/bundle", &o, &e),
	    0);
	tu_hex(hex, r->root);
	ck_assert_str_eq(hex, root);
	ck_assert_int_eq(r->trust_from_log, 0);
	free(line);
	fclose(f);
	sl_hash_free(h);
	free(r);
}
END_TEST

Suite *sl_bundle_suite(void)
{
	Suite *s = suite_create("bundle");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bundle_layout_and_bytes);
	tcase_add_test(tc, test_bundle_restore_roundtrip);
	tcase_add_test(tc, test_bundle_restore_refuses_tampered);
	tcase_add_test(tc, test_bundle_format_vectors);
	suite_add_tcase(s, tc);
	return s;
}
