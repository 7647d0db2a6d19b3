#include "tests/testutil.h"
#include "formats/enc.h"
#include "formats/err.h"

#include <string.h>

START_TEST(test_enc_hex_roundtrip)
{
	uint8_t in[4] = { 0x00, 0xab, 0x10, 0xff };
	uint8_t out[4];
	char hex[9];

	sl_enc_hex(hex, in, 4);
	ck_assert_str_eq(hex, "00ab10ff");
	ck_assert_int_eq(sl_enc_unhex(out, 4, hex, 8), 0);
	ck_assert_mem_eq(in, out, 4);
	ck_assert_int_eq(sl_enc_unhex(out, 4, "00AB10FF", 8), SL_EINVAL);
	ck_assert_int_eq(sl_enc_unhex(out, 4, "00ab10f", 7), SL_EINVAL);
	ck_assert_int_eq(sl_enc_unhex(out, 4, "00ab10fg", 8), SL_EINVAL);
}
END_TEST

START_TEST(test_enc_base64_rfc4648_vectors)
{
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char b[16];
		uint8_t d[16];
		size_t n = 99;

		sl_enc_b64(b, (const uint8_t *)v[i][0], strlen(v[i][0]));
		ck_assert_str_eq(b, v[i][1]);
		ck_assert_int_eq(sl_enc_unb64(d, sizeof(d), &n, b,
		    strlen(b)), 0);
		ck_assert_uint_eq(n, strlen(v[i][0]));
		ck_assert_mem_eq(d, v[i][0], n);
	}
}
END_TEST

START_TEST(test_enc_base64_rejects_malformed)
{
	uint8_t d[16];
	size_t n;

	ck_assert_int_eq(sl_enc_unb64(d, 16, &n, "Zg=", 3), SL_EINVAL);
	ck_assert_int_eq(sl_enc_unb64(d, 16, &n, "Zh==", 4), SL_EINVAL);
	ck_assert_int_eq(sl_enc_unb64(d, 16, &n, "Z===", 4), SL_EINVAL);
	ck_assert_int_eq(sl_enc_unb64(d, 16, &n, "Zm9v\n", 5), SL_EINVAL);
	ck_assert_int_eq(sl_enc_unb64(d, 16, &n, "Zg==Zg==", 8), SL_EINVAL);
	ck_assert_int_eq(sl_enc_unb64(d, 2, &n, "Zm9v", 4), SL_ETOOBIG);
}
END_TEST

START_TEST(test_enc_decimal)
{
	static const char *const bad[] = { "", "-1", "+1", " 1", "1 ", "1x",
		"0x10", "1e3", "18446744073709551616", "99999999999999999999",
		"184467440737095516150" };
	uint64_t v;
	size_t i;

	ck_assert_int_eq(sl_enc_decimal(&v, "0", 1), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(sl_enc_decimal(&v, "007", 3), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(sl_enc_decimal(&v, "18446744073709551615", 20), 0);
	ck_assert(v == UINT64_MAX);
	ck_assert_int_eq(sl_enc_decimal(&v, "12345", 3), 0);  /* n bytes */
	ck_assert_uint_eq(v, 123);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 1;
		ck_assert_msg(sl_enc_decimal(&v, bad[i], strlen(bad[i])) ==
		    SL_EINVAL && v == 0, "\"%s\" taken", bad[i]);
	}
}
END_TEST

Suite *sl_enc_suite(void)
{
	Suite *s = suite_create("enc");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_enc_hex_roundtrip);
	tcase_add_test(tc, test_enc_base64_rfc4648_vectors);
	tcase_add_test(tc, test_enc_base64_rejects_malformed);
	tcase_add_test(tc, test_enc_decimal);
	suite_add_tcase(s, tc);
	return s;
}
