/* The one Check runner: every unit and integration suite. */
#include "tests/testutil.h"

#include <stdlib.h>

int main(void)
{
	SRunner *sr = srunner_create(sl_enc_suite());
	int failed;

	srunner_add_suite(sr, sl_buf_suite());
	srunner_add_suite(sr, sl_mem_suite());
	srunner_add_suite(sr, sl_hash_suite());
	srunner_add_suite(sr, sl_sha2x_suite());
	srunner_add_suite(sr, sl_jcs_suite());
	srunner_add_suite(sr, sl_json_suite());
	srunner_add_suite(sr, sl_rfc3339_suite());
	srunner_add_suite(sr, sl_schema_suite());
	srunner_add_suite(sr, sl_record_suite());
	srunner_add_suite(sr, sl_entry_suite());
	srunner_add_suite(sr, sl_merkle_suite());
	srunner_add_suite(sr, sl_note_suite());
	srunner_add_suite(sr, sl_checkpoint_suite());
	srunner_add_suite(sr, sl_pseudo_suite());
	srunner_add_suite(sr, sl_store_suite());
	srunner_add_suite(sr, sl_bundle_suite());
	srunner_add_suite(sr, sl_ingest_suite());
	srunner_add_suite(sr, sl_integrity_suite());
	srunner_add_suite(sr, sl_completeness_suite());
	srunner_add_suite(sr, sl_csv_suite());
	srunner_add_suite(sr, sl_summary_suite());
	srunner_add_suite(sr, sl_disclose_suite());
	srunner_add_suite(sr, sl_import_suite());
	srunner_add_suite(sr, sl_writer_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
