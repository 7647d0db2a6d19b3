#include "tests/testutil.h"
#include "formats/rfc3339.h"
#include "formats/err.h"

#include <string.h>

static int64_t p(const char *s)
{
	int64_t ms = -1;

	ck_assert_msg(sl_rfc3339_parse(&ms, s, strlen(s)) == 0, "%s", s);
	return ms;
}

START_TEST(test_rfc3339_parse_zones_and_fractions)
{
	ck_assert_int_eq(p("1970-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(p("2026-03-01T09:30:00Z"), 1772357400000LL);
	ck_assert_int_eq(p("2026-03-01T10:30:00+01:00"), 1772357400000LL);
	ck_assert_int_eq(p("2026-03-01T09:30:00.123456Z"), 1772357400123LL);
	ck_assert_int_eq(p("2024-02-29T00:00:00Z") + 86400000LL,
	    p("2024-03-01T00:00:00Z"));
	/* the ends of the range */
	ck_assert(p("0000-01-01T00:00:00Z") == SL_RFC3339_MIN_MS);
	ck_assert(p("0000-01-01T01:00:00+01:00") == SL_RFC3339_MIN_MS);
	ck_assert(p("9999-12-31T23:59:59.999Z") == SL_RFC3339_MAX_MS);
}
END_TEST

START_TEST(test_rfc3339_rejects_out_of_range)
{
	static const char *const bad[] = {
		"2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z",
		"2025-02-29T00:00:00Z", "2026-03-01T24:00:00Z",
		"2026-03-01T23:60:00Z", "2026-03-01T23:59:60Z",
		"2026-03-01 23:59:00Z", "2026-03-01T23:59:00",
		"2026-03-01t23:59:00z", "2026-03-01T23:59:00.Z",
		"2026-03-01T23:59:00+0100", "26-03-01T23:59:00Z",
		/* instants outside the years 0000-9999 in UTC, which no
		 * recorded form could write (found by fuzzing) */
		"0000-01-01T10:30:56+21:00", "9999-12-31T23:59:59-00:01",
	};
	size_t i;
	int64_t ms;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sl_rfc3339_parse(&ms, bad[i], strlen(bad[i])) ==
		    SL_EINVAL, "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_rfc3339_recorded_form_roundtrip)
{
	char out[25];
	int64_t ms;

	sl_rfc3339_format(out, 1772357400123LL);
	ck_assert_str_eq(out, "2026-03-01T09:30:00.123Z");
	ck_assert(sl_rfc3339_is_recorded(out, 24, &ms));
	ck_assert_int_eq(ms, 1772357400123LL);
	ck_assert(!sl_rfc3339_is_recorded("2026-03-01T09:30:00Z", 20, NULL));
	ck_assert(!sl_rfc3339_is_recorded("2026-03-01T09:30:00.12Z", 23,
	    NULL));
	ck_assert(!sl_rfc3339_is_recorded("2026-02-30T09:30:00.123Z", 24,
	    NULL));
}
END_TEST

Suite *sl_rfc3339_suite(void)
{
	Suite *s = suite_create("rfc3339");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rfc3339_parse_zones_and_fractions);
	tcase_add_test(tc, test_rfc3339_rejects_out_of_range);
	tcase_add_test(tc, test_rfc3339_recorded_form_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
