#include "tests/testutil.h"
#include "auditd/import.h"

#include <string.h>

/* One cell in @fmt, read in London (@london) or UTC, must give @want
 * (NULL: refused). */
static void dt(const char *fmt, const char *cell, int london,
    const char *want)
{
	char out[40];
	int rc = sl_import_datetime(out, fmt, cell, london);

	if (!want) {
		ck_assert_msg(rc != 0, "%s as %s accepted: %s", cell, fmt, out);
		return;
	}
	ck_assert_msg(rc == 0, "%s as %s refused", cell, fmt);
	ck_assert_str_eq(out, want);
}

START_TEST(test_import_uk_clock_changes)
{
	const char *f = "DD/MM/YYYY hh:mm";

	/* 2024: BST from 01:00 UTC 31 March to 01:00 UTC 27 October */
	dt(f, "31/03/2024 00:59", 1, "2024-03-31T00:59:00+00:00");
	dt(f, "31/03/2024 02:00", 1, "2024-03-31T02:00:00+01:00");
	dt(f, "01/07/2024 09:30", 1, "2024-07-01T09:30:00+01:00");
	dt(f, "27/10/2024 00:30", 1, "2024-10-27T00:30:00+01:00");
	/* the repeated hour: its first (BST) occurrence */
	dt(f, "27/10/2024 01:30", 1, "2024-10-27T01:30:00+01:00");
	dt(f, "27/10/2024 02:00", 1, "2024-10-27T02:00:00+00:00");
	dt(f, "12/01/2024 14:05", 1, "2024-01-12T14:05:00+00:00");
	/* 2023: last Sundays 26 March and 29 October */
	dt(f, "25/03/2023 12:00", 1, "2023-03-25T12:00:00+00:00");
	dt(f, "26/03/2023 12:00", 1, "2023-03-26T12:00:00+01:00");
	dt(f, "29/10/2023 12:00", 1, "2023-10-29T12:00:00+00:00");
	/* UTC leaves the time alone */
	dt(f, "01/07/2024 09:30", 0, "2024-07-01T09:30:00Z");
}
END_TEST

START_TEST(test_import_date_shapes)
{
	dt("DD/MM/YYYY", "1/3/2024", 1, "2024-03-01T00:00:00+00:00");
	dt("DD/MM/YYYY hh:mm", "12/1/2024 9:05", 0, "2024-01-12T09:05:00Z");
	dt("YYYY-MM-DD hh:mm:ss", "2024-07-01 10:00:59", 0,
	    "2024-07-01T10:00:59Z");
	dt("YYYY-MM-DDThh:mm", "2024-07-01T10:00", 0, "2024-07-01T10:00:00Z");
	dt("rfc3339", "2024-07-01T10:00:00.5+02:00", 1,
	    "2024-07-01T10:00:00.5+02:00");
	/* refused: impossible dates, wrong shapes, trailing text */
	dt("DD/MM/YYYY", "29/02/2023", 1, NULL);
	dt("DD/MM/YYYY", "31/04/2024", 1, NULL);
	dt("DD/MM/YYYY hh:mm", "31/12/2024 24:00", 1, NULL);
	dt("DD/MM/YYYY hh:mm", "31/12/2024 23:60", 1, NULL);
	dt("DD/MM/YYYY", "01/01/24", 1, NULL);
	dt("DD/MM/YYYY", "01/01/2024 10:00", 1, NULL);
	dt("DD/MM/YYYY", "01-01-2024", 1, NULL);
	dt("DD/MM/YYYY", "", 1, NULL);
	dt("rfc3339", "2024-07-01 10:00", 1, NULL);
	dt("rfc3339", "2024-07-01T10:00:00", 1, NULL);
}
END_TEST

Suite *sl_import_suite(void)
{
	Suite *s = suite_create("import");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_import_uk_clock_changes);
	tcase_add_test(tc, test_import_date_shapes);
	suite_add_tcase(s, tc);
	return s;
}
