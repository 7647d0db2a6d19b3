#include "tests/testutil.h"
#include "auditd/ingest.h"
#include "auditd/keys.h"
#include "formats/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[256];
static struct sl_store *st;
static struct sl_keys *kk;

static void setup(void)
{
	tu_log_open(dir, "ingest.test/log", &st, &kk);
}

static void teardown(void)
{
	tu_log_close(dir, st, kk);
}

static FILE *lines(const char *const *l, size_t n)
{
	FILE *f = tmpfile();
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%s\n", l[i]);
	rewind(f);
	return f;
}

static char *rec(unsigned i)
{
	json_t *r = tu_record(i);
	char *s = json_dumps(r, JSON_COMPACT);

	json_decref(r);
	return s;
}

START_TEST(test_ingest_bad_lines_all_reported_nothing_stored)
{
	char *good = rec(1);
	char *good2 = rec(2);
	const char *l[] = {
		good,
		"{\"a\":1,\"a\":2}",
		good2,
		"{\"schema_version\":\"1\",\"record_type\":\"decision\","
		"\"rate\":1.5}",
		"[1,2]",
	};
	struct sl_ingest_stats s;
	struct sl_err e;
	FILE *in = lines(l, 5);
	FILE *errs = tmpfile();
	char buf[4096];
	size_t n;

	ck_assert_int_eq(sl_ingest_jsonl(&s, in, st, kk->pseudo, NULL, 0, 0,
	    errs, &e), SL_EINVAL);
	ck_assert_uint_eq(s.bad, 3);
	ck_assert_uint_eq(s.lines, 5);
	ck_assert_uint_eq(sl_store_size(st), 1);
	rewind(errs);
	n = fread(buf, 1, sizeof(buf) - 1, errs);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "line 2: JSON syntax error at line 1"));
	ck_assert_ptr_nonnull(strstr(buf, "duplicate"));
	ck_assert_ptr_nonnull(strstr(buf, "line 4: field /rate"));
	ck_assert_ptr_nonnull(strstr(buf, "line 5: "));
	ck_assert_ptr_null(strstr(buf, "line 1:"));
	ck_assert_ptr_null(strstr(buf, "line 3:"));
	fclose(in);
	fclose(errs);
	free(good);
	free(good2);
}
END_TEST

START_TEST(test_ingest_appends_and_retries_idempotently)
{
	char *a = rec(1);
	char *b = rec(2);
	const char *l[] = { a, b };
	struct sl_ingest_stats s;
	struct sl_err e;
	FILE *in = lines(l, 2);

	ck_assert_int_eq(sl_ingest_jsonl(&s, in, st, kk->pseudo, NULL, 0, 0,
	    stderr, &e), 0);
	ck_assert_uint_eq(s.appended, 2);
	ck_assert_uint_eq(sl_store_size(st), 3);
	rewind(in);
	ck_assert_int_eq(sl_ingest_jsonl(&s, in, st, kk->pseudo, NULL, 0, 0,
	    stderr, &e), 0);
	ck_assert_uint_eq(s.appended, 0);
	ck_assert_uint_eq(s.duplicates, 2);
	ck_assert_uint_eq(sl_store_size(st), 3);
	fclose(in);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_ingest_conflict_names_line)
{
	char *a = rec(1);
	json_t *r = tu_record(1);
	char *changed;
	const char *l1[] = { a };
	const char *l2[2];
	struct sl_ingest_stats s;
	struct sl_err e;
	FILE *in;
	char *b = rec(9);

	json_object_set_new(r, "decision", json_string("not_share"));
	changed = json_dumps(r, JSON_COMPACT);
	in = lines(l1, 1);
	ck_assert_int_eq(sl_ingest_jsonl(&s, in, st, kk->pseudo, NULL, 0, 0,
	    stderr, &e), 0);
	fclose(in);
	l2[0] = b;
	l2[1] = changed;
	in = lines(l2, 2);
	ck_assert_int_eq(sl_ingest_jsonl(&s, in, st, kk->pseudo, NULL, 0, 0,
	    stderr, &e), SL_ECONFLICT);
	ck_assert_ptr_nonnull(strstr(e.msg, "line 2"));
	ck_assert_uint_eq(sl_store_size(st), 2);  /* b was not kept either */
	fclose(in);
	free(a);
	free(b);
	free(changed);
	json_decref(r);
}
END_TEST

START_TEST(test_ingest_as_refuses_other_organisation)
{
	char *a = rec(1);
	const char *l[] = { a };
	struct sl_ingest_stats s;
	struct sl_err e;
	FILE *in = lines(l, 1);
	FILE *errs = tmpfile();
	char buf[1024];
	size_t n;

	ck_assert_int_eq(sl_ingest_jsonl(&s, in, st, kk->pseudo, "POL-ESX", 0, 0,
	    errs, &e), SL_EINVAL);
	rewind(errs);
	n = fread(buf, 1, sizeof(buf) - 1, errs);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "line 1: field /organisation_id"));
	ck_assert_uint_eq(sl_store_size(st), 1);
	rewind(in);
	ck_assert_int_eq(sl_ingest_jsonl(&s, in, st, kk->pseudo, "URN-118832",
	    0, 0, errs, &e), 0);
	ck_assert_uint_eq(sl_store_size(st), 2);
	fclose(in);
	fclose(errs);
	free(a);
}
END_TEST

START_TEST(test_ingest_commit_every_and_long_lines)
{
	FILE *in = tmpfile();
	struct sl_ingest_stats s;
	struct sl_err e;
	unsigned i;
	char *big = malloc(SL_INGEST_LINE_MAX + 10);
	FILE *errs = tmpfile();
	char buf[512];
	size_t n;

	for (i = 0; i < 250; i++) {
		char *r = rec(100 + i);

		fprintf(in, "%s\n", r);
		free(r);
	}
	rewind(in);
	ck_assert_int_eq(sl_ingest_jsonl(&s, in, st, kk->pseudo, NULL, 100, 0,
	    stderr, &e), 0);
	ck_assert_uint_eq(s.appended, 250);
	ck_assert_uint_eq(sl_store_size(st), 251);
	fclose(in);
	memset(big, 'x', SL_INGEST_LINE_MAX + 9);
	big[SL_INGEST_LINE_MAX + 9] = '\0';
	in = tmpfile();
	fprintf(in, "%s\n", big);
	rewind(in);
	ck_assert_int_eq(sl_ingest_jsonl(&s, in, st, kk->pseudo, NULL, 0, 0,
	    errs, &e), SL_EINVAL);
	rewind(errs);
	n = fread(buf, 1, sizeof(buf) - 1, errs);
	buf[n] = '\0';
	ck_assert_ptr_nonnull(strstr(buf, "line 1: longer than"));
	fclose(in);
	fclose(errs);
	free(big);
}
END_TEST

Suite *sl_ingest_suite(void)
{
	Suite *s = suite_create("ingest");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ingest_bad_lines_all_reported_nothing_stored);
	tcase_add_test(tc, test_ingest_appends_and_retries_idempotently);
	tcase_add_test(tc, test_ingest_conflict_names_line);
	tcase_add_test(tc, test_ingest_as_refuses_other_organisation);
	tcase_add_test(tc, test_ingest_commit_every_and_long_lines);
	suite_add_tcase(s, tc);
	return s;
}
