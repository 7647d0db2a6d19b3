#include "tests/testutil.h"
#include "formats/schema.h"
#include "formats/record.h"
#include "formats/pseudo.h"

#include <string.h>

static int validate(json_t *r, struct sl_err *e)
{
	return sl_schema_validate(r, "", e);
}

START_TEST(test_schema_valid_record_passes)
{
	json_t *r = tu_record(1);
	struct sl_err e;

	ck_assert_msg(validate(r, &e) == 0, "%s", e.msg);
	json_decref(r);
}
END_TEST

START_TEST(test_schema_table_is_one_table)
{
	size_t n;
	size_t i;
	const struct sl_field *f = sl_schema_fields(&n);
	int conds = 0;

	ck_assert_uint_gt(n, 60);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_eq(sl_schema_find(f[i].name), &f[i]);
		if (f[i].req == SL_REQ_COND) {
			ck_assert_msg(f[i].rules[0] == 'V', "%s has no rule",
			    f[i].name);
			conds++;
		}
		if (f[i].type == SL_FT_ENUM || f[i].type == SL_FT_ENUMSET)
			ck_assert_ptr_nonnull(f[i].values);
	}
	ck_assert_int_gt(conds, 30);
	ck_assert_str_eq(sl_schema_find("information_withheld")->rules, "V12");
}
END_TEST

START_TEST(test_schema_unknown_field_named)
{
	json_t *r = tu_record(1);
	struct sl_err e;

	json_object_set_new(r, "colour", json_string("red"));
	ck_assert_int_eq(validate(r, &e), SL_EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "field /colour"));
	ck_assert_ptr_nonnull(strstr(e.msg, "unknown"));
	json_decref(r);
}
END_TEST

START_TEST(test_schema_wrong_enum_lists_values_not_input)
{
	json_t *r = tu_record(1);
	struct sl_err e;

	json_object_set_new(r, "decision", json_string("maybe-secret"));
	ck_assert_int_eq(validate(r, &e), SL_EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "field /decision"));
	ck_assert_ptr_nonnull(strstr(e.msg, "share, not_share, partial"));
	ck_assert_ptr_null(strstr(e.msg, "maybe-secret"));
	json_decref(r);
}
END_TEST

START_TEST(test_schema_types)
{
	static const struct { const char *f; const char *bad; } cases[] = {
		{ "decided_at", "\"yesterday\"" },
		{ "advice_sought", "\"yes\"" },
		{ "record_id", "\"not-a-ulid\"" },
		{ "schema_version", "\"2\"" },
		{ "info_categories", "[\"health\",\"health\"]" },
		{ "recipients", "[{\"org\":\"X\"}]" },
		{ "recipients", "[{\"agency_type\":\"police\",\"x\":1}]" },
		{ "rationale", "null" },
		{ "signature", "\"AAAA\"" },
		{ "practitioner_id", "\"\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r = tu_record(1);
		struct sl_err e = { 0, "" };
		char want[64];

		json_object_set_new(r, cases[i].f, json_loads(cases[i].bad,
		    JSON_DECODE_ANY, NULL));
		ck_assert_msg(validate(r, &e) == SL_EINVAL, "accepted %s=%s",
		    cases[i].f, cases[i].bad);
		snprintf(want, sizeof(want), "/%s", cases[i].f);
		ck_assert_msg(strstr(e.msg, want), "%s: %s", cases[i].f, e.msg);
		json_decref(r);
	}
}
END_TEST

START_TEST(test_schema_required_and_service_fields)
{
	json_t *r = tu_record(1);
	struct sl_err e;

	json_object_del(r, "child_id");
	ck_assert_int_eq(validate(r, &e), SL_EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "/child_id"));
	ck_assert_ptr_nonnull(strstr(e.msg, "required"));
	json_object_set_new(r, "child_id", json_string("LA-1"));
	json_object_set_new(r, "child_ref", json_string("abc"));
	ck_assert_int_eq(validate(r, &e), SL_EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "set by the service"));
	json_decref(r);
	/* Rationale is for the completeness rules, not a refusal. */
	r = tu_record(2);
	json_object_del(r, "rationale");
	ck_assert_int_eq(validate(r, &e), 0);
	json_decref(r);
}
END_TEST

START_TEST(test_schema_other_text_companion)
{
	json_t *r = tu_record(1);
	struct sl_err e;

	json_object_set_new(r, "purpose", json_string("other"));
	json_object_set_new(r, "purpose_text", json_string("Court order"));
	ck_assert_int_eq(validate(r, &e), 0);
	json_object_set_new(r, "decision_text", json_string("x"));
	ck_assert_int_eq(validate(r, &e), SL_EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "/decision_text"));
	json_decref(r);
}
END_TEST

START_TEST(test_schema_amendment_needs_less)
{
	json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
	    "schema_version", "1", "record_id", "01JGFJJZ00000000000000000A",
	    "record_type", "amendment", "decision_id", "D-1",
	    "decided_at", "2026-03-02T09:00:00Z", "organisation_id", "URN-1",
	    "practitioner_id", "P-1", "case_ref", "C-1", "child_id", "LA-1",
	    "refers_to_record_id", "01JGFJJZ00000000000000000B",
	    "amendment_reason", "Lawful basis omitted");
	struct sl_err e;

	ck_assert_msg(validate(r, &e) == 0, "%s", e.msg);
	json_object_set_new(r, "record_type", json_string("decision"));
	ck_assert_int_eq(validate(r, &e), SL_EINVAL); /* needs decision */
	json_decref(r);
}
END_TEST

Suite *sl_schema_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_schema_valid_record_passes);
	tcase_add_test(tc, test_schema_table_is_one_table);
	tcase_add_test(tc, test_schema_unknown_field_named);
	tcase_add_test(tc, test_schema_wrong_enum_lists_values_not_input);
	tcase_add_test(tc, test_schema_types);
	tcase_add_test(tc, test_schema_required_and_service_fields);
	tcase_add_test(tc, test_schema_other_text_companion);
	tcase_add_test(tc, test_schema_amendment_needs_less);
	suite_add_tcase(s, tc);
	return s;
}

