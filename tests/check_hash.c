#include "tests/testutil.h"
#include "formats/hash.h"

#include <openssl/evp.h>
#include <stdlib.h>
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

/* RFC 4231 cases 1 (short key), 6 and 7 (keys longer than a block, which
 * are hashed first) */
START_TEST(test_hash_hmac_rfc4231_long_and_short_keys)
{
	static const char c6[] = "Test Using Larger Than Block-Size Key - "
	    "Hash Key First";
	static const char c7[] = "This is a test using a larger than "
	    "block-size key and a larger than block-size data. The key needs "
	    "to be hashed before being used by the HMAC algorithm.";
	uint8_t key[131];
	uint8_t mac[32];
	char hex[65];

	memset(key, 0x0b, 20);
	ck_assert_int_eq(sl_hash_hmac(mac, key, 20, "Hi There", 8), 0);
	tu_hex(hex, mac);
	ck_assert_str_eq(hex, "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7");
	memset(key, 0xaa, sizeof(key));
	ck_assert_int_eq(sl_hash_hmac(mac, key, sizeof(key), c6,
	    sizeof(c6) - 1), 0);
	tu_hex(hex, mac);
	ck_assert_str_eq(hex, "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
	ck_assert_int_eq(sl_hash_hmac(mac, key, sizeof(key), c7,
	    sizeof(c7) - 1), 0);
	tu_hex(hex, mac);
	ck_assert_str_eq(hex, "9b09ffa71b942fcb27635fbcd5b0e944"
	    "bfdc63644f0713938a7f51535c3a35e2");
}
END_TEST

/* The kept key gives OpenSSL's own HMAC for every key and message length
 * around the block boundaries, used again and again. */
START_TEST(test_hash_mac_matches_openssl)
{
	uint8_t key[150];
	uint8_t msg[300];
	uint8_t got[32];
	uint8_t want[32];
	size_t kl, ml, len;
	unsigned x = 12345;
	size_t i;

	for (i = 0; i < sizeof(msg); i++) {
		x = x * 1103515245u + 12345u;
		msg[i] = (uint8_t)(x >> 16);
		if (i < sizeof(key))
			key[i] = (uint8_t)(x >> 8);
	}
	for (kl = 0; kl <= sizeof(key); kl += kl < 70 ? 1 : 40) {
		struct sl_hash_mac *m;

		ck_assert_int_eq(sl_hash_mac_new(&m, key, kl), 0);
		for (ml = 0; ml <= sizeof(msg); ml += ml < 130 ? 1 : 85) {
			ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL,
			    "SHA2-256", NULL, key, kl, msg, ml, want,
			    sizeof(want), &len));
			ck_assert_int_eq(sl_hash_mac_run(got, m, msg, ml), 0);
			ck_assert_mem_eq(got, want, 32);
			ck_assert_int_eq(sl_hash_hmac(got, key, kl, msg, ml),
			    0);
			ck_assert_mem_eq(got, want, 32);
		}
		sl_hash_mac_free(m);
	}
}
END_TEST

Suite *sl_hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_hash_sha256_and_parts);
	tcase_add_test(tc, test_hash_leaf_and_node_domain_separation);
	tcase_add_test(tc, test_hash_hmac_rfc4231_case2);
	tcase_add_test(tc, test_hash_hmac_rfc4231_long_and_short_keys);
	tcase_add_test(tc, test_hash_mac_matches_openssl);
	suite_add_tcase(s, tc);
	return s;
}
