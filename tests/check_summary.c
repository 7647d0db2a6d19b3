#include "tests/testutil.h"
#include "formats/summary.h"
#include "formats/jcs.h"
#include "formats/buf.h"
#include "formats/entry.h"
#include "formats/schema.h"

#include <string.h>

static const char *value_name(enum sl_summary_code c, uint8_t j)
{
	size_t nf;
	const struct sl_field *f = sl_schema_fields(&nf);

	return f[sl_summary_field(c)].values[j];
}

START_TEST(test_summary_from_a_record)
{
	json_t *rec = tu_record(7);
	struct sl_buf b;
	struct sl_err e;
	struct sl_record_view v;
	struct sl_summary s;

	/* a refused request, shared on with two agencies */
	json_object_set_new(rec, "trigger", json_string("request_received"));
	json_object_set_new(rec, "requester_agency_type",
	    json_string("police"));
	json_object_set_new(rec, "request_received_at",
	    json_string("2026-03-01T08:30:00Z"));
	json_object_set_new(rec, "recipients", json_pack("[{s:s,s:s,s:s},"
	    "{s:s,s:s,s:s}]", "agency_type", "mash", "org", "LA-881",
	    "role", "x", "agency_type", "health_gp", "org", "GP-1", "role",
	    "y"));
	json_object_set_new(rec, "lawful_basis", json_string("no_such_basis"));
	sl_buf_init(&b, 1 << 20);
	ck_assert_int_eq(sl_jcs_write(&b, rec, &e), 0);
	ck_assert_int_eq(sl_record_view_scan(&v, b.data, b.len, &e), 0);
	struct sl_hash *h;
	struct sl_summary back;
	uint8_t kept[SL_SUMMARY_LEN];

	ck_assert_int_eq(sl_hash_new(&h), 0);
	sl_summary_derive(&s, &v, SL_ET_DECISION, 1772357400123, h);
	ck_assert_int_eq(s.type, SL_ET_DECISION);
	ck_assert_int_eq(s.recorded_ms, 1772357400123);
	ck_assert_int_eq(s.decided_ms, 1772357400000);     /* 09:30 */
	ck_assert_int_eq(s.request_ms, 1772353800000);     /* 08:30 */
	ck_assert_int_eq(s.refusal_ms, INT64_MIN);
	ck_assert_str_eq(value_name(SL_SC_AGENCY, s.code[SL_SC_AGENCY]),
	    "school");
	ck_assert_str_eq(value_name(SL_SC_TRIGGER, s.code[SL_SC_TRIGGER]),
	    "request_received");
	ck_assert_str_eq(value_name(SL_SC_REQUESTER,
	    s.code[SL_SC_REQUESTER]), "police");
	ck_assert_str_eq(value_name(SL_SC_DECISION, s.code[SL_SC_DECISION]),
	    "share");
	ck_assert_int_eq(s.code[SL_SC_LAWFUL_BASIS], SL_SUMMARY_BAD);
	ck_assert_int_eq(s.code[SL_SC_OUTCOME], SL_SUMMARY_ABSENT);
	ck_assert_uint_eq(s.to_agencies,
	    (1u << sl_record_enum_code(sl_summary_field(SL_SC_AGENCY),
	    "mash", 4)) | (1u << sl_record_enum_code(
	    sl_summary_field(SL_SC_AGENCY), "health_gp", 9)));
	ck_assert_int_eq(s.advice_sought, 0);
	/* keys: the canonical string of decision_id and organisation_id */
	ck_assert_uint_eq(s.thread, sl_summary_key(h,
	    (const uint8_t *)"\"D-000007\"", 10));
	ck_assert_uint_ne(s.org, 0);
	ck_assert_uint_ne(s.org, s.thread);
	/* the kept form reads back field for field */
	sl_summary_encode(kept, &s);
	memset(&back, 0x55, sizeof(back));
	ck_assert_int_eq(sl_summary_decode(&back, kept, sizeof(kept)), 0);
	ck_assert_int_eq(back.decided_ms, s.decided_ms);
	ck_assert_int_eq(back.recorded_ms, s.recorded_ms);
	ck_assert_int_eq(back.shared_ms, s.shared_ms);
	ck_assert_int_eq(back.request_ms, s.request_ms);
	ck_assert_int_eq(back.refusal_ms, s.refusal_ms);
	ck_assert_int_eq(back.inform_due_ms, s.inform_due_ms);
	ck_assert_int_eq(back.review_due_ms, s.review_due_ms);
	ck_assert_uint_eq(back.thread, s.thread);
	ck_assert_uint_eq(back.org, s.org);
	ck_assert_uint_eq(back.advice_from, s.advice_from);
	ck_assert_uint_eq(back.to_agencies, s.to_agencies);
	ck_assert_int_eq(back.type, s.type);
	ck_assert_int_eq(back.advice_sought, s.advice_sought);
	ck_assert_int_eq(memcmp(back.code, s.code, SL_SC_COUNT), 0);
	ck_assert_int_eq(s.flags, 0);
	ck_assert_int_eq(back.flags, 0);
	/* little-endian, as docs/FORMAT.md says: decided_at first */
	ck_assert_int_eq(kept[0], (uint8_t)(s.decided_ms & 0xff));
	ck_assert_int_eq(kept[7], (uint8_t)((uint64_t)s.decided_ms >> 56));
	/* a wrong length or version is refused */
	ck_assert_int_eq(sl_summary_decode(&back, kept, 96), SL_EINVAL);
	kept[SL_SUMMARY_LEN - 6] ^= 0xff;
	ck_assert_int_eq(sl_summary_decode(&back, kept, sizeof(kept)),
	    SL_EINVAL);
	/* a record from sharelogd import is flagged, and reads back so */
	json_object_set_new(rec, "imported_from", json_string("sheet-2024"));
	sl_buf_reset(&b);
	ck_assert_int_eq(sl_jcs_write(&b, rec, &e), 0);
	ck_assert_int_eq(sl_record_view_scan(&v, b.data, b.len, &e), 0);
	sl_summary_derive(&s, &v, SL_ET_DECISION, 1772357400123, h);
	ck_assert_int_eq(s.flags, SL_SUMMARY_F_IMPORTED);
	sl_summary_encode(kept, &s);
	ck_assert_int_eq(sl_summary_decode(&back, kept, sizeof(kept)), 0);
	ck_assert_int_eq(back.flags, SL_SUMMARY_F_IMPORTED);
	ck_assert_int_eq(kept[99], SL_SUMMARY_F_IMPORTED);
	sl_hash_free(h);
	sl_buf_free(&b);
	json_decref(rec);
}
END_TEST

Suite *sl_summary_suite(void)
{
	Suite *s = suite_create("summary");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_summary_from_a_record);
	suite_add_tcase(s, tc);
	return s;
}
