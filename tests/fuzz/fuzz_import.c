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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	struct sl_ingest_stats st;
	struct sl_err e = { 0, "" };
	char *msgs = NULL;
	size_t mlen = 0;
	FILE *in, *errs;
	uint64_t lines = 0;
	size_t i;
	int rc;

	if (size == 0)
		return 0;       /* fmemopen wants a buffer */
	in = fmemopen((void *)data, size, "rb");
	errs = open_memstream(&msgs, &mlen);
	fuzz_assert(in && errs, "fmemopen/open_memstream failed");
	rc = sl_import_csv(&st, in, map, NULL, key, NULL, errs, &e);
	fclose(in);
	fclose(errs);
	for (i = 0; i < mlen; i++)
		if (msgs[i] == '\n') {
			lines++;
			fuzz_assert(i + 1 >= mlen || !strncmp(msgs + i + 1,
			    "row ", 4), "a refusal that names no row: %.80s",
			    msgs + i + 1);
		}
	if (rc == 0) {
		fuzz_assert(st.bad == 0 && mlen == 0, "accepted with %llu bad "
		    "rows", (unsigned long long)st.bad);
	} else {
		fuzz_assert(e.msg[0] != '\0', "refused without a sentence");
		fuzz_assert(rc == SL_EINVAL, "check-only import failed with "
		    "%d: %s", rc, e.msg);
		fuzz_assert(lines >= st.bad, "%llu bad rows but %llu lines "
		    "listed", (unsigned long long)st.bad,
		    (unsigned long long)lines);
		fuzz_assert(mlen == 0 || !strncmp(msgs, "row ", 4),
		    "a refusal that names no row: %.80s", msgs);
	}
	free(msgs);
	return 0;
}
