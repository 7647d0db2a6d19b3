#include "tests/testutil.h"
#include "formats/pseudo.h"
#include "formats/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_record_pseudonymises_child_id)
{
	char dir[256];
	char path[300];
	struct sl_pseudo *p;
	struct sl_err e;
	json_t *out = tu_record(5);
	char ref[65];
	char *id = strdup(json_string_value(json_object_get(out, "child_id")));

	tu_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/p.key", dir);
	ck_assert_int_eq(sl_pseudo_generate(path, &e), 0);
	ck_assert_int_eq(sl_pseudo_generate(path, &e), SL_EEXIST);
	ck_assert_int_eq(sl_pseudo_load(&p, path, &e), 0);
	ck_assert_uint_eq(strlen(sl_pseudo_key_id(p)), 8);
	ck_assert_int_eq(sl_record_prepare(out, p, "", &e), 0);
	ck_assert_ptr_null(json_object_get(out, "child_id"));
	sl_pseudo_child(ref, p, id, strlen(id));
	ck_assert_str_eq(json_string_value(json_object_get(out, "child_ref")),
	    ref);
	/* the raw id appears nowhere in the stored record */
	{
		char *s = json_dumps(out, 0);

		ck_assert_ptr_null(strstr(s, id));
		free(s);
	}
	json_decref(out);
	free(id);
	sl_pseudo_free(p);
	tu_rmdir(dir);
}
END_TEST

Suite *sl_record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_record_pseudonymises_child_id);
	suite_add_tcase(s, tc);
	return s;
}
