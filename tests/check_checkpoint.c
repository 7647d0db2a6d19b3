#include "tests/testutil.h"
#include "formats/buf.h"
#include "formats/checkpoint.h"

#include <string.h>

START_TEST(test_checkpoint_body_and_parse)
{
	struct sl_checkpoint c = { "example.org/log", 20852163, { 0 } };
	struct sl_checkpoint d;
	struct sl_buf b;
	struct sl_err e;

	memset(c.root, 0x11, 32);
	sl_buf_init(&b, 1024);
	ck_assert_int_eq(sl_checkpoint_body(&b, &c), 0);
	ck_assert_str_eq((char *)b.data, "example.org/log\n20852163\n"
	    "ERERERERERERERERERERERERERERERERERERERERERE=\n");
	ck_assert_int_eq(sl_checkpoint_parse(&d, (char *)b.data, b.len, &e), 0);
	ck_assert_str_eq(d.origin, c.origin);
	ck_assert_uint_eq(d.size, c.size);
	ck_assert_mem_eq(d.root, c.root, 32);
	ck_assert_int_eq(sl_checkpoint_parse(&d, "o\n01\nAAAA\n", 10, &e),
	    SL_EINVAL);
	ck_assert_int_eq(sl_checkpoint_parse(&d, "o x\n1\nAAAA\n", 11, &e),
	    SL_EINVAL);
	ck_assert_int_eq(sl_checkpoint_parse(&d, "o\n1\nAAAA\n", 9, &e),
	    SL_EINVAL);  /* root is not 32 bytes */
	/* an origin with a NUL inside, valid otherwise (found by fuzzing:
	 * it was read as the origin before the NUL) */
	{
		char t[128];
		size_t tl = b.len;

		memcpy(t, b.data, tl);
		t[2] = '\0';
		ck_assert_int_eq(sl_checkpoint_parse(&d, t, tl, &e),
		    SL_EINVAL);
		ck_assert_ptr_nonnull(strstr(e.msg, "origin"));
	}
	sl_buf_free(&b);
}
END_TEST

Suite *sl_checkpoint_suite(void)
{
	Suite *s = suite_create("checkpoint");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_checkpoint_body_and_parse);
	suite_add_tcase(s, tc);
	return s;
}
