#include "tests/testutil.h"
#include "formats/pseudo.h"
#include "formats/record.h"
#include "formats/schema.h"

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

Suite *sl_record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_record_pseudonymises_child_id);
	tcase_add_test(tc, test_record_view_slices_and_codes);
	suite_add_tcase(s, tc);
	return s;
}
