#include "tests/testutil.h"
#include "formats/csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_csv_quotes_every_field_and_neutralises_text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *row[] = { "-5", "=SUM(A1:A9)", "+1", "@cmd", "\tx",
		"plain \"quoted\"", "-3" };
	static const char want[] =
	    "\"-5\",\"'=SUM(A1:A9)\",\"'+1\",\"'@cmd\",\"'\tx\","
	    "\"plain \"\"quoted\"\"\",\"-3\"\r\n"
	    "\"'\r\nnext\",\"'\0\",\"\"\r\n";

	ck_assert_ptr_nonnull(f);
	/* cells 1..5 are text; 0 and 6 are numbers sharelog made */
	ck_assert_int_eq(sl_csv_row(f, row, 7, 0x3e), 0);
	sl_csv_field(f, 1, "\r\nnext", 6, 1);
	sl_csv_field(f, 0, "\0", 1, 1);    /* a NUL first: prefixed too */
	sl_csv_field(f, 0, "", 0, 1);
	fputs("\r\n", f);
	fclose(f);
	/* the NUL is written as itself after the prefix */
	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert(!memcmp(buf, want, len));
	free(buf);
}
END_TEST

START_TEST(test_csv_long_cell)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char cell[1000];

	memset(cell, 'a', sizeof(cell));
	cell[0] = '=';
	sl_csv_field(f, 1, cell, sizeof(cell), 1);
	fclose(f);
	ck_assert_uint_eq(len, sizeof(cell) + 3);
	ck_assert(!memcmp(buf, "\"'=aaa", 6));
	ck_assert_int_eq(buf[len - 1], '"');
	ck_assert_int_eq(sl_csv_needs_prefix("a=", 2), 0);
	ck_assert_int_eq(sl_csv_needs_prefix("", 0), 0);
	free(buf);
}
END_TEST

Suite *sl_csv_suite(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_csv_quotes_every_field_and_neutralises_text);
	tcase_add_test(tc, test_csv_long_cell);
	suite_add_tcase(s, tc);
	return s;
}
