#include "tests/testutil.h"
#include "formats/hash.h"
#include "formats/sha2x.h"

#include <stdlib.h>
#include <string.h>

static void reference(uint8_t out[32], uint8_t pfx, const uint8_t *m,
    size_t n)
{
	struct sl_hash *h;
	const struct sl_hash_part parts[2] = { { &pfx, 1 }, { m, n } };

	ck_assert_int_eq(sl_hash_new(&h), 0);
	sl_hash_sha256v(out, h, parts, 2);
	sl_hash_free(h);
}

START_TEST(test_sha2x_matches_openssl_every_length)
{
	uint8_t buf[600];
	size_t i;
	size_t a;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	/* every pair of lengths around the block and padding boundaries */
	for (a = 0; a <= 200; a++) {
		size_t b = (a * 37) % 300;
		uint8_t x[32];
		uint8_t y[32];
		uint8_t rx[32];
		uint8_t ry[32];

		sl_sha2x_prefixed(x, y, 0x00, buf, a, buf + 7, b);
		reference(rx, 0x00, buf, a);
		reference(ry, 0x00, buf + 7, b);
		ck_assert_msg(!memcmp(x, rx, 32), "lane 0, length %zu", a);
		ck_assert_msg(!memcmp(y, ry, 32), "lane 1, length %zu", b);
		sl_sha2x_prefixed(x, y, 0x01, buf + 3, b, buf, a);
		reference(rx, 0x01, buf + 3, b);
		reference(ry, 0x01, buf, a);
		ck_assert(!memcmp(x, rx, 32) && !memcmp(y, ry, 32));
		/* a prefix of its own for each (the store's leaf and content
		 * hashes) */
		sl_sha2x_pair(x, y, 0x00, buf + 1, a, (uint8_t)('a' + a % 26),
		    buf + 5, b);
		reference(rx, 0x00, buf + 1, a);
		reference(ry, (uint8_t)('a' + a % 26), buf + 5, b);
		ck_assert_msg(!memcmp(x, rx, 32) && !memcmp(y, ry, 32),
		    "pair, lengths %zu and %zu", a, b);
	}
}
END_TEST

START_TEST(test_sha2x_random_large)
{
	size_t n = 200000;
	uint8_t *m = malloc(n);
	size_t i;
	unsigned seed = 12345;

	for (i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		m[i] = (uint8_t)(seed >> 16);
	}
	for (i = 0; i < 50; i++) {
		size_t a = (i * 7919) % n;
		size_t b = (i * 104729) % (n / 3);
		uint8_t x[32];
		uint8_t y[32];
		uint8_t rx[32];
		uint8_t ry[32];

		sl_sha2x_prefixed(x, y, 0x00, m, a, m + 1, b);
		reference(rx, 0x00, m, a);
		reference(ry, 0x00, m + 1, b);
		ck_assert(!memcmp(x, rx, 32) && !memcmp(y, ry, 32));
	}
	free(m);
}
END_TEST

Suite *sl_sha2x_suite(void)
{
	Suite *s = suite_create("sha2x");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sha2x_matches_openssl_every_length);
	tcase_add_test(tc, test_sha2x_random_large);
	suite_add_tcase(s, tc);
	return s;
}
