#include "tests/testutil.h"
#include "formats/enc.h"
#include "formats/hash.h"
#include "formats/pseudo.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

START_TEST(test_pseudo_is_keyed)
{
	char dir[256];
	char a[300];
	char b[300];
	struct sl_pseudo *pa;
	struct sl_pseudo *pb;
	struct sl_err e;
	char ra[65];
	char rb[65];
	char ra2[65];

	tu_tmpdir(dir, sizeof(dir));
	snprintf(a, sizeof(a), "%s/a.key", dir);
	snprintf(b, sizeof(b), "%s/b.key", dir);
	ck_assert_int_eq(sl_pseudo_generate(a, &e), 0);
	ck_assert_int_eq(sl_pseudo_generate(b, &e), 0);
	ck_assert_int_eq(sl_pseudo_load(&pa, a, &e), 0);
	ck_assert_int_eq(sl_pseudo_load(&pb, b, &e), 0);
	sl_pseudo_child(ra, pa, "LA-42", 5);
	sl_pseudo_child(ra2, pa, "LA-42", 5);
	sl_pseudo_child(rb, pb, "LA-42", 5);
	ck_assert_str_eq(ra, ra2);
	ck_assert_str_ne(ra, rb);
	sl_pseudo_free(pa);
	sl_pseudo_free(pb);
	tu_rmdir(dir);
}
END_TEST

/* The pseudonym is exactly HMAC-SHA-256(key, "child:" || id), as
 * docs/FORMAT.md says: checked against OpenSSL's HMAC. */
START_TEST(test_pseudo_is_documented_hmac)
{
	char dir[256];
	char path[300];
	char hex[80];
	uint8_t key[32];
	uint8_t mac[32];
	size_t len;
	char want[65];
	char got[65];
	struct sl_pseudo *p;
	struct sl_err e;
	FILE *f;

	tu_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	ck_assert_int_eq(sl_pseudo_generate(path, &e), 0);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(hex, sizeof(hex), f));
	fclose(f);
	ck_assert_int_eq(sl_enc_unhex(key, 32, hex, 64), 0);
	/* OpenSSL's HMAC, not ours, is the reference */
	ck_assert_ptr_nonnull(EVP_Q_mac(NULL, "HMAC", NULL, "SHA2-256", NULL,
	    key, 32, (const unsigned char *)"child:LA881-000042", 18, mac,
	    sizeof(mac), &len));
	sl_enc_hex(want, mac, 32);
	ck_assert_int_eq(sl_pseudo_load(&p, path, &e), 0);
	ck_assert_int_eq(sl_pseudo_child(got, p, "LA881-000042", 12), 0);
	ck_assert_str_eq(got, want);
	sl_pseudo_free(p);
	tu_rmdir(dir);
}
END_TEST

Suite *sl_pseudo_suite(void)
{
	Suite *s = suite_create("pseudo");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_pseudo_is_keyed);
	tcase_add_test(tc, test_pseudo_is_documented_hmac);
	suite_add_tcase(s, tc);
	return s;
}
