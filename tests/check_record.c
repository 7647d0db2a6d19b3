#include "tests/testutil.h"
#include "formats/pseudo.h"
#include "formats/record.h"
#include "formats/schema.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_record_pseudonymises_child_id)
{
	char dir[256];
	char path[300];
	struct sl_pseudo *p;
	struct sl_err e;
	json_t *out = tu_record(5);
	char ref[65];
	char *id = strdup(json_string_value(json_object_get(out, "child_id")));

	tu_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/p.key", dir);
	ck_assert_int_eq(sl_pseudo_generate(path, &e), 0);
	ck_assert_int_eq(sl_pseudo_generate(path, &e), SL_EEXIST);
	ck_assert_int_eq(sl_pseudo_load(&p, path, &e), 0);
	ck_assert_uint_eq(strlen(sl_pseudo_key_id(p)), 8);
	ck_assert_int_eq(sl_record_prepare(out, p, "", &e), 0);
	ck_assert_ptr_null(json_object_get(out, "child_id"));
	sl_pseudo_child(ref, p, id, strlen(id));
	ck_assert_str_eq(json_string_value(json_object_get(out, "child_ref")),
	    ref);
	/* the raw id appears nowhere in the stored record */
	{
		char *s = json_dumps(out, 0);

		ck_assert_ptr_null(strstr(s, id));
		free(s);
	}
	json_decref(out);
	free(id);
	sl_pseudo_free(p);
	tu_rmdir(dir);
}
END_TEST

static int fi(const char *name)
{
	int i = sl_record_field_index(name, strlen(name));

	ck_assert_int_ge(i, 0);
	return i;
}

static void assert_slice(const struct sl_record_view *v, const char *name,
    const char *want)
{
	int i = fi(name);

	ck_assert_ptr_nonnull(v->val[i]);
	ck_assert_uint_eq(v->len[i], strlen(want));
	ck_assert(!memcmp(v->val[i], want, strlen(want)));
}

/* Views walk strings sixteen bytes at a time: quotes and backslashes at
 * every offset of a chunk, escaped quotes, a backslash before a closing
 * quote, and coded values (enumerations, sets, booleans). */
START_TEST(test_record_view_slices_and_codes)
{
	char rec[4096];
	char rationale[200];
	struct sl_record_view v;
	struct sl_err e;
	int pad;

	for (pad = 0; pad < 40; pad++) {
		char *r = rationale;
		int k;

		for (k = 0; k < pad; k++)
			*r++ = 'a';
		/* an escaped quote, then an escaped backslash just before
		 * the closing quote */
		strcpy(r, "\\\"q\\\\");
		snprintf(rec, sizeof(rec), "{\"advice_from\":[\"dsl\","
		    "\"manager_supervisor\"],\"advice_sought\":true,"
		    "\"consent_status\":\"refused\",\"decision\":"
		    "\"not_share\",\"legal_gateway\":[\"ca1989_s47\","
		    "\"no_such_gateway\"],\"rationale\":\"%s\","
		    "\"record_type\":\"decision\",\"special_category\":"
		    "false,\"trigger\":\"other\",\"trigger_text\":"
		    "\"a \\\"quoted\\\" reason that runs past sixteen "
		    "bytes\",\"zz_newer_field\":{\"a\":[1,\"}\"]}}",
		    rationale);
		ck_assert_int_eq(sl_record_view_scan(&v, (const uint8_t *)rec,
		    strlen(rec), &e), 0);
		{
			char want[220];

			snprintf(want, sizeof(want), "\"%s\"", rationale);
			assert_slice(&v, "rationale", want);
		}
		assert_slice(&v, "decision", "\"not_share\"");
		assert_slice(&v, "special_category", "false");
		ck_assert_ptr_nonnull(v.text[fi("trigger")]);
		ck_assert_uint_eq(v.type, SL_RT_DECISION);
		/* codes: the position in the enumeration, sets OR'ed */
		ck_assert_uint_eq(v.code[fi("decision")], UINT32_C(1) <<
		    sl_record_enum_code(fi("decision"), "not_share", 9));
		ck_assert_uint_eq(v.code[fi("advice_from")],
		    (UINT32_C(1) << sl_record_enum_code(fi("advice_from"),
		    "dsl", 3)) | (UINT32_C(1) << sl_record_enum_code(
		    fi("advice_from"), "manager_supervisor", 18)));
		ck_assert_uint_eq(v.code[fi("advice_sought")], 2);
		ck_assert_uint_eq(v.code[fi("special_category")], 1);
		ck_assert(v.code[fi("legal_gateway")] & SL_RECORD_CODE_BAD);
		ck_assert(!(v.code[fi("consent_status")] & SL_RECORD_CODE_BAD));
		ck_assert_uint_eq(v.code[fi("rationale")], 0);   /* not coded */
		ck_assert_uint_eq(v.code[fi("method")], 0);      /* absent */
	}
	ck_assert_int_eq(sl_record_enum_code(fi("decision"), "nope", 4), -1);
	/* a record cut short is refused, not over-read */
	{
		const char *cut = "{\"rationale\":\"abc}";

		ck_assert_int_ne(sl_record_view_scan(&v, (const uint8_t *)cut,
		    strlen(cut), &e), 0);
	}
}
END_TEST

/* A view scanned where earlier records have been scanned (the walk then
 * tries the keys and values it saw before) against the same record
 * scanned on a fresh thread (nothing seen): they must be the same. */
struct fresh {
	const char *rec;
	struct sl_record_view v;
	int rc;
};

static void *scan_fresh(void *arg)
{
	struct fresh *f = arg;
	struct sl_err e;

	f->rc = sl_record_view_scan(&f->v, (const uint8_t *)f->rec,
	    strlen(f->rec), &e);
	return NULL;
}

static void assert_same_as_fresh(const char *rec)
{
	struct fresh *f = calloc(1, sizeof(*f));
	struct sl_record_view v;
	struct sl_err e;
	pthread_t th;
	int rc, i;

	ck_assert_ptr_nonnull(f);
	f->rec = rec;
	ck_assert_int_eq(pthread_create(&th, NULL, scan_fresh, f), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	rc = sl_record_view_scan(&v, (const uint8_t *)rec, strlen(rec), &e);
	ck_assert_msg(rc == f->rc, "%s: %d here, %d fresh", rec, rc, f->rc);
	if (!rc) {
		for (i = 0; i < SL_RECORD_VIEW_FIELDS; i++) {
			ck_assert_msg(v.val[i] == f->v.val[i] &&
			    v.len[i] == f->v.len[i] &&
			    v.code[i] == f->v.code[i] &&
			    v.text[i] == f->v.text[i] &&
			    v.tlen[i] == f->v.tlen[i],
			    "%s: field %d differs", rec, i);
		}
		ck_assert_uint_eq(v.type, f->v.type);
	}
	free(f);
}

START_TEST(test_record_view_guesses_checked)
{
	static const char *const seen =
	    "{\"consent_status\":\"given\",\"decision\":\"share\","
	    "\"record_type\":\"decision\",\"trigger\":\"other\","
	    "\"zz_newer_field\":1}";
	static const char *const next[] = {
		/* the key seen next is a prefix of this one */
		"{\"consent_status\":\"given\",\"decision_id\":\"D-1\","
		"\"record_type\":\"decision\"}",
		/* the value seen is a prefix of this one, and the other way */
		"{\"decision\":\"share_more\"}",
		"{\"decision\":\"shar\"}",
		"{\"decision\":\"not_share\",\"trigger\":\"other\","
		"\"trigger_text\":\"why\"}",
		/* escapes where the seen value was */
		"{\"decision\":\"sh\\\"re\"}",
		/* cut where a seen key or value would run past the end */
		"{\"consent_status\":\"given\",\"decisio",
		"{\"consent_status\":\"given\",\"decision\":\"share",
		"{\"consent_status\":\"given\",\"decision\":\"shar}",
		"{\"decision\"}",
		/* a key we do not know, then one we do */
		"{\"aa_unknown\":\"x\",\"consent_status\":\"given\"}",
		seen,
	};
	struct sl_record_view v;
	struct sl_err e;
	size_t i, k;

	for (k = 0; k < 3; k++)
		ck_assert_int_eq(sl_record_view_scan(&v, (const uint8_t *)seen,
		    strlen(seen), &e), 0);
	for (i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
		assert_same_as_fresh(next[i]);
		/* and straight after the record it differs from */
		ck_assert_int_eq(sl_record_view_scan(&v, (const uint8_t *)seen,
		    strlen(seen), &e), 0);
	}
	/* the prefix key is found as itself */
	ck_assert_int_eq(sl_record_view_scan(&v, (const uint8_t *)next[0],
	    strlen(next[0]), &e), 0);
	ck_assert_ptr_null(v.val[fi("decision")]);
	assert_slice(&v, "decision_id", "\"D-1\"");
	ck_assert_int_eq(sl_record_view_scan(&v, (const uint8_t *)next[1],
	    strlen(next[1]), &e), 0);
	ck_assert(v.code[fi("decision")] & SL_RECORD_CODE_BAD);
}
END_TEST

Suite *sl_record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_record_pseudonymises_child_id);
	tcase_add_test(tc, test_record_view_slices_and_codes);
	tcase_add_test(tc, test_record_view_guesses_checked);
	suite_add_tcase(s, tc);
	return s;
}
