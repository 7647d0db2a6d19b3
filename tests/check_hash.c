#include "tests/testutil.h"
#include "formats/hash.h"

#include <string.h>

START_TEST(test_hash_sha256_and_parts)
{
	struct sl_hash *h;
	uint8_t a[32];
	uint8_t b[32];
	char hex[65];
	const struct sl_hash_part parts[3] = {
		{ "a", 1 }, { "", 0 }, { "bc", 2 },
	};

	ck_assert_int_eq(sl_hash_new(&h), 0);
	sl_hash_sha256(a, h, "abc", 3);
	tu_hex(hex, a);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb4"
	    "10ff61f20015ad");
	sl_hash_sha256v(b, h, parts, 3);
	ck_assert_mem_eq(a, b, 32);
	sl_hash_sha256(a, h, "", 0);
	ck_assert_mem_eq(a, sl_hash_empty, 32);
	sl_hash_free(h);
}
END_TEST

START_TEST(test_hash_leaf_and_node_domain_separation)
{
	struct sl_hash *h;
	uint8_t l[32];
	uint8_t n[32];
	uint8_t want[32];
	uint8_t buf[65];

	ck_assert_int_eq(sl_hash_new(&h), 0);
	sl_hash_leaf(l, h, "x", 1);
	sl_hash_sha256(want, h, "\0x", 2);
	ck_assert_mem_eq(l, want, 32);
	sl_hash_node(n, h, l, want);
	buf[0] = 1;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, want, 32);
	sl_hash_sha256(want, h, buf, 65);
	ck_assert_mem_eq(n, want, 32);
	sl_hash_free(h);
}
END_TEST

START_TEST(test_hash_hmac_rfc4231_case2)
{
	uint8_t mac[32];
	char hex[65];

	ck_assert_int_eq(sl_hash_hmac(mac, "Jefe", 4,
	    "what do ya want for nothing?", 28), 0);
	tu_hex(hex, mac);
	ck_assert_str_eq(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839d"
	    "ec58b964ec3843");
}
END_TEST

Suite *sl_hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_hash_sha256_and_parts);
	tcase_add_test(tc, test_hash_leaf_and_node_domain_separation);
	tcase_add_test(tc, test_hash_hmac_rfc4231_case2);
	suite_add_tcase(s, tc);
	return s;
}
