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
#include <unistd.h>

#include "auditd/import.h"
#include "formats/bundle.h"
#include "tests/fuzz/fuzz.h"

static char path[] = "/tmp/sl-fuzz-mapping-XXXXXX";
static struct sl_pseudo *key;
static char *csv;
static size_t csv_len;

static void cleanup(void)
{
	unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sl_err e = { 0, "" };
	int fd = mkstemp(path);

	(void)argc;
	(void)argv;
	fuzz_assert(fd >= 0, "mkstemp failed");
	close(fd);
	atexit(cleanup);
	key = fuzz_pseudo();
	fuzz_assert(sl_bundle_slurp(&csv, &csv_len,
	    "tests/data/import/good.csv", 1 << 20, &e) == 0,
	    "%s (run from the repository)", e.msg);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_import_map *m = NULL;
	struct sl_ingest_stats st;
	struct sl_err e = { 0, "" };
	FILE *f = fopen(path, "wb");
	FILE *in, *errs;
	char *msgs = NULL;
	size_t mlen = 0, i;
	uint64_t lines = 0;
	int rc;

	fuzz_assert(f && fwrite(data, 1, size, f) == size && !fclose(f),
	    "cannot write %s", path);
	if (sl_import_map_load(&m, path, &e)) {
		fuzz_assert(m == NULL && e.msg[0] != '\0', "a mapping refused "
		    "without a sentence");
		return 0;
	}
	in = fmemopen(csv, csv_len, "rb");
	errs = open_memstream(&msgs, &mlen);
	fuzz_assert(in && errs, "fmemopen/open_memstream failed");
	rc = sl_import_csv(&st, in, m, NULL, key, NULL, errs, &e);
	fclose(in);
	fclose(errs);
	for (i = 0; i < mlen; i++)
		if (msgs[i] == '\n') {
			lines++;
			fuzz_assert(i + 1 >= mlen || !strncmp(msgs + i + 1,
			    "row ", 4), "a refusal that names no row");
		}
	fuzz_assert(rc == 0 ? st.bad == 0 && mlen == 0 : rc == SL_EINVAL &&
	    e.msg[0] != '\0' && lines >= st.bad, "verdict %d with %llu bad "
	    "rows and %llu lines", rc, (unsigned long long)st.bad,
	    (unsigned long long)lines);
	free(msgs);
	sl_import_map_free(m);
	return 0;
}
