#include "tests/testutil.h"
#include "formats/entry.h"
#include "formats/jcs.h"
#include "formats/rfc3339.h"

#include <string.h>

static size_t build(struct sl_buf *b, uint64_t seq, int type,
    const char *by)
{
	uint8_t prev[32];
	struct sl_buf rec;
	struct sl_err e;
	json_t *r = json_pack("{s:s,s:i}", "z", "last", "a", 1);

	memset(prev, 0xab, sizeof(prev));
	sl_buf_init(&rec, 4096);
	ck_assert_int_eq(sl_jcs_write(&rec, r, &e), 0);
	sl_buf_init(b, SL_ENTRY_MAX);
	ck_assert_int_eq(sl_entry_build(b, prev, rec.data, rec.len,
	    1772357400123LL, seq, by, type, &e), 0);
	sl_buf_free(&rec);
	json_decref(r);
	return b->len;
}

START_TEST(test_entry_build_exact_bytes)
{
	struct sl_buf b;

	build(&b, 7, SL_ET_DECISION, "URN-1\"x");
	ck_assert_str_eq((char *)b.data, "{\"prev\":\"abababababababababababab"
	    "abababababababababababababababababababab\",\"record\":{\"a\":1,"
	    "\"z\":\"last\"},\"recorded_at\":\"2026-03-01T09:30:00.123Z\","
	    "\"seq\":7,\"submitted_by\":\"URN-1\\\"x\",\"type\":\"decision\"}");
	sl_buf_free(&b);
}
END_TEST

START_TEST(test_entry_scan_roundtrip)
{
	struct sl_buf b;
	struct sl_entry_view ev;
	struct sl_err e;

	build(&b, 123456789, SL_ET_INFORM_UPDATE, "ORG");
	ck_assert_int_eq(sl_entry_scan(&ev, b.data, b.len, &e), 0);
	ck_assert_uint_eq(ev.seq, 123456789);
	ck_assert_int_eq(ev.type, SL_ET_INFORM_UPDATE);
	ck_assert_int_eq(ev.recorded_ms, 1772357400123LL);
	ck_assert_uint_eq(ev.prev[5], 0xab);
	ck_assert_int_eq(memcmp(ev.record, "{\"a\":1,\"z\":\"last\"}",
	    ev.record_len), 0);
	ck_assert_int_eq(memcmp(ev.submitted_by, "ORG", 3), 0);
	sl_buf_free(&b);
}
END_TEST

START_TEST(test_entry_scan_rejects_bad_envelopes)
{
	static const char *const bad[] = {
		"{\"prev\":\"00\",\"record\":{},\"recorded_at\":"
		"\"2026-03-01T09:30:00.123Z\",\"seq\":1,\"submitted_by\":\"a\","
		"\"type\":\"decision\"}",
		"{\"prev\":\"0000000000000000000000000000000000000000000000000000"
		"000000000000\",\"record\":[],\"recorded_at\":"
		"\"2026-03-01T09:30:00.123Z\",\"seq\":1,\"submitted_by\":\"a\","
		"\"type\":\"decision\"}",
		"{\"prev\":\"0000000000000000000000000000000000000000000000000000"
		"000000000000\",\"record\":{},\"recorded_at\":"
		"\"2026-03-01T09:30:00Z\",\"seq\":1,\"submitted_by\":\"a\","
		"\"type\":\"decision\"}",
		"{\"prev\":\"0000000000000000000000000000000000000000000000000000"
		"000000000000\",\"record\":{},\"recorded_at\":"
		"\"2026-03-01T09:30:00.123Z\",\"seq\":-1,\"submitted_by\":\"a\","
		"\"type\":\"decision\"}",
		"{\"prev\":\"0000000000000000000000000000000000000000000000000000"
		"000000000000\",\"record\":{},\"recorded_at\":"
		"\"2026-03-01T09:30:00.123Z\",\"seq\":1,\"submitted_by\":\"a\","
		"\"type\":\"gossip\"}",
		"{\"prev\":\"0000000000000000000000000000000000000000000000000000"
		"000000000000\",\"record\":{},\"recorded_at\":"
		"\"2026-03-01T09:30:00.123Z\",\"seq\":1,\"type\":\"decision\"}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_entry_view ev;
		struct sl_err e = { 0, "" };

		ck_assert_msg(sl_entry_scan(&ev, (const uint8_t *)bad[i],
		    strlen(bad[i]), &e) == SL_EINVAL, "accepted #%zu", i);
		ck_assert(e.msg[0]);
	}
}
END_TEST

/* Whatever sl_entry_scan() accepts (fast envelope path or not) is
 * canonical: mutants it accepts must re-encode to the same bytes. */
START_TEST(test_entry_scan_accepts_only_canonical)
{
	static const uint8_t subst[] = {
		' ', '"', '\\', '0', '1', 'a', 'A', 'Z', ',', ':', '{', '}',
		'.', '-', 0x80, 'f',
	};
	struct sl_buf b;
	size_t pos;
	size_t k;
	long accepted = 0;

	build(&b, 90, SL_ET_DECISION, "ORG");
	for (pos = 0; pos < b.len; pos++) {
		for (k = 0; k < sizeof(subst); k++) {
			uint8_t m[512];
			struct sl_entry_view ev;
			struct sl_buf out;
			struct sl_err e;
			json_t *v;

			memcpy(m, b.data, b.len);
			if (m[pos] == subst[k])
				continue;
			m[pos] = subst[k];
			if (sl_entry_scan(&ev, m, b.len, NULL))
				continue;
			accepted++;
			v = json_loadb((const char *)m, b.len, 0, NULL);
			ck_assert_ptr_nonnull(v);
			sl_buf_init(&out, 4096);
			ck_assert_int_eq(sl_jcs_write(&out, v, &e), 0);
			ck_assert_msg(out.len == b.len && !memcmp(out.data, m,
			    b.len), "accepted non-canonical: %.*s",
			    (int)b.len, m);
			sl_buf_free(&out);
			json_decref(v);
		}
	}
	ck_assert_int_gt(accepted, 10);
	sl_buf_free(&b);
}
END_TEST

Suite *sl_entry_suite(void)
{
	Suite *s = suite_create("entry");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_entry_build_exact_bytes);
	tcase_add_test(tc, test_entry_scan_roundtrip);
	tcase_add_test(tc, test_entry_scan_rejects_bad_envelopes);
	tcase_add_test(tc, test_entry_scan_accepts_only_canonical);
	suite_add_tcase(s, tc);
	return s;
}
