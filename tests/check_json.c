#include "tests/testutil.h"
#include "formats/json.h"

#include <string.h>

static int parse(const char *s, struct sl_err *e)
{
	json_t *v = NULL;
	int rc = sl_json_parse(&v, s, strlen(s), 4096, e);

	json_decref(v);
	return rc;
}

START_TEST(test_json_duplicate_key_names_line_and_column)
{
	struct sl_err e;

	ck_assert_int_eq(parse("{\"b\":1,\n \"a\":2,\n \"b\":3}", &e),
	    SL_ESYNTAX);
	ck_assert_ptr_nonnull(strstr(e.msg, "line 3"));
	ck_assert_ptr_nonnull(strstr(e.msg, "duplicate"));
}
END_TEST

START_TEST(test_json_syntax_error_position)
{
	struct sl_err e;

	ck_assert_int_eq(parse("{\"a\":1,\n\"b\":}", &e), SL_ESYNTAX);
	ck_assert_ptr_nonnull(strstr(e.msg, "line 2"));
	ck_assert_ptr_nonnull(strstr(e.msg, "column"));
}
END_TEST

START_TEST(test_json_float_names_pointer)
{
	struct sl_err e;

	ck_assert_int_eq(parse("{\"x\":{\"a/b\":[1,2.5]}}", &e), SL_EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "/x/a~1b/1"));
}
END_TEST

START_TEST(test_json_integer_bounds)
{
	struct sl_err e;

	ck_assert_int_eq(parse("{\"n\":9007199254740991}", &e), 0);
	ck_assert_int_eq(parse("{\"n\":-9007199254740991}", &e), 0);
	ck_assert_int_eq(parse("{\"n\":-9007199254740992}", &e), SL_EINVAL);
	ck_assert_int_eq(parse("{\"n\":99999999999999999999}", &e),
	    SL_ESYNTAX);
}
END_TEST

START_TEST(test_json_depth_limit)
{
	char buf[128];
	struct sl_err e;
	int depth;

	for (depth = 16; depth <= 17; depth++) {
		int i;
		size_t o = 0;

		for (i = 0; i < depth; i++)
			buf[o++] = '[';
		for (i = 0; i < depth; i++)
			buf[o++] = ']';
		buf[o] = '\0';
		ck_assert_int_eq(parse(buf, &e), depth == 16 ? 0 : SL_EINVAL);
	}
	ck_assert_ptr_nonnull(strstr(e.msg, "deeper than 16"));
}
END_TEST

START_TEST(test_json_utf8_nul_and_size)
{
	struct sl_err e;
	char big[5000];

	ck_assert_int_eq(parse("{\"a\":\"\xff\"}", &e), SL_ESYNTAX);
	ck_assert_int_eq(parse("{\"a\":\"\\ud800\"}", &e), SL_ESYNTAX);
	ck_assert_int_eq(parse("{\"a\":\"\\u0000\"}", &e), SL_ESYNTAX);
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(parse(big, &e), SL_ETOOBIG);
	ck_assert_int_eq(parse("", &e), SL_EINVAL);  /* empty: no text */
}
END_TEST

Suite *sl_json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_json_duplicate_key_names_line_and_column);
	tcase_add_test(tc, test_json_syntax_error_position);
	tcase_add_test(tc, test_json_float_names_pointer);
	tcase_add_test(tc, test_json_integer_bounds);
	tcase_add_test(tc, test_json_depth_limit);
	tcase_add_test(tc, test_json_utf8_nul_and_size);
	suite_add_tcase(s, tc);
	return s;
}
