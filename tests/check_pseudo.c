#include "tests/testutil.h"
#include "formats/pseudo.h"

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

Suite *sl_pseudo_suite(void)
{
	Suite *s = suite_create("pseudo");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_pseudo_is_keyed);
	suite_add_tcase(s, tc);
	return s;
}
