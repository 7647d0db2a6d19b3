#include "tests/testutil.h"
#include "formats/buf.h"
#include "formats/err.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_buf_grows_up_to_its_maximum)
{
	struct sl_buf b;
	char *p;
	size_t n;
	int i;

	sl_buf_init(&b, 1000);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(sl_buf_adds(&b, "0123456789"), 0);
	ck_assert_uint_eq(b.len, 1000);
	ck_assert_int_eq(sl_buf_addc(&b, 'x'), SL_ETOOBIG);
	ck_assert_int_eq(sl_buf_add(&b, "y", 1), SL_ETOOBIG);
	ck_assert_uint_eq(b.len, 1000);  /* a refused append changes nothing */
	ck_assert_int_eq(b.data[1000], '\0');
	p = sl_buf_take(&b, &n);
	ck_assert_uint_eq(n, 1000);
	ck_assert_ptr_null(b.data);
	ck_assert_int_eq(memcmp(p + 990, "0123456789", 10), 0);
	free(p);
}
END_TEST

START_TEST(test_buf_addf_and_reset)
{
	struct sl_buf b;

	sl_buf_init(&b, 64);
	ck_assert_int_eq(sl_buf_addf(&b, "seq %d of %s", 7, "log"), 0);
	ck_assert_str_eq((char *)b.data, "seq 7 of log");
	sl_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(sl_buf_addf(&b, "%0100d", 1), SL_ETOOBIG);
	sl_buf_free(&b);
}
END_TEST

/* sl_buf_addi against printf over the edges and random values */
START_TEST(test_buf_addi_matches_printf)
{
	static const long long edge[] = { 0, 1, -1, 9, 10, -10, 99, 100,
		9007199254740991LL, -9007199254740991LL, LLONG_MAX, LLONG_MIN,
		LLONG_MIN + 1 };
	char want[32];
	struct sl_buf b;
	size_t i;

	sl_buf_init(&b, 64);
	for (i = 0; i < sizeof(edge) / sizeof(edge[0]) + 10000; i++) {
		long long v = i < sizeof(edge) / sizeof(edge[0]) ? edge[i] :
		    (long long)(((uint64_t)rand() << 40) ^ ((uint64_t)rand() <<
		    20) ^ (uint64_t)rand()) >> (rand() % 60);

		sl_buf_reset(&b);
		ck_assert_int_eq(sl_buf_addi(&b, v), 0);
		snprintf(want, sizeof(want), "%lld", v);
		ck_assert_uint_eq(b.len, strlen(want));
		ck_assert_int_eq(memcmp(b.data, want, b.len), 0);
	}
	sl_buf_free(&b);
	sl_buf_init(&b, 3);                  /* "-100" does not fit */
	ck_assert_int_eq(sl_buf_addi(&b, -100), SL_ETOOBIG);
	ck_assert_uint_eq(b.len, 0);
	sl_buf_free(&b);
}
END_TEST

Suite *sl_buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_buf_grows_up_to_its_maximum);
	tcase_add_test(tc, test_buf_addf_and_reset);
	tcase_add_test(tc, test_buf_addi_matches_printf);
	suite_add_tcase(s, tc);
	return s;
}
