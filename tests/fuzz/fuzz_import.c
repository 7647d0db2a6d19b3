/*
 * fuzz_import: a spreadsheet's CSV through the test mapping
 * (tests/data/import/mapping.json), in check-only mode (nothing stored).
 *
 * For any bytes: no crash, leak or undefined behaviour in libcsv's
 * callbacks, the cell conversions (dates in the UK clock, yes/no, lists,
 * recipients) or the record validation behind them; a file is refused
 * with a sentence, or accepted with no bad row; every bad row counted is
 * listed, one line each that names its row.
 */
#include <stdint.h>

#include "auditd/import.h"
#include "tests/fuzz/fuzz.h"

static struct sl_import_map *map;
static struct sl_pseudo *key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sl_err e = { 0, "" };

	(void)argc;
	(void)argv;
	key = fuzz_pseudo();
	if (sl_import_map_load(&map, "tests/data/import/mapping.json", &e)) {
		fprintf(stderr, "fuzz_import: %s (run from the repository)\n",
		    e.msg);
		exit(2);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;       /* fmemopen wants a buffer */
	(void)fuzz_import_check(map, key, data, size);
	return 0;
}
