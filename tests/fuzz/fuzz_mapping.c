/*
 * fuzz_mapping: an import's column mapping (docs/IMPORT.md), the file an
 * agency writes to describe its spreadsheet.
 *
 * For any bytes: sl_import_map_load refuses them with a sentence, or
 * gives a mapping that reads the test spreadsheet (tests/data/import)
 * in check-only mode without harm: a verdict with every refused row
 * listed on a line of its own.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditd/import.h"
#include "formats/bundle.h"
#include "tests/fuzz/fuzz.h"

static const char *path;
static struct sl_pseudo *key;
static char *csv;
static size_t csv_len;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sl_err e = { 0, "" };

	(void)argc;
	(void)argv;
	path = fuzz_scratch_file();
	key = fuzz_pseudo();
	fuzz_assert(sl_bundle_slurp(&csv, &csv_len,
	    "tests/data/import/good.csv", 1 << 20, &e) == 0,
	    "%s (run from the repository)", e.msg);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_import_map *m = NULL;
	struct sl_err e = { 0, "" };

	fuzz_write_file(path, data, size);
	if (sl_import_map_load(&m, path, &e)) {
		fuzz_assert(m == NULL && e.msg[0] != '\0', "a mapping refused "
		    "without a sentence");
		return 0;
	}
	(void)fuzz_import_check(m, key, csv, csv_len);
	sl_import_map_free(m);
	return 0;
}
