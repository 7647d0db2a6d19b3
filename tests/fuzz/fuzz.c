#include "tests/fuzz/fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fuzz_assert(int ok, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	va_start(ap, fmt);
	fputs("property broken: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

struct sl_pseudo *fuzz_pseudo(void)
{
	char path[] = "/tmp/sl-fuzz-key-XXXXXX";
	struct sl_pseudo *p = NULL;
	struct sl_err e = { 0, "" };
	int fd = mkstemp(path);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	int i;

	if (!f) {
		perror("fuzz: key file");
		exit(2);
	}
	for (i = 0; i < 32; i++)
		fprintf(f, "%02x", (unsigned)(i * 7 + 1) & 0xff);
	fputc('\n', f);
	fclose(f);
	if (sl_pseudo_load(&p, path, &e)) {
		fprintf(stderr, "fuzz: %s\n", e.msg);
		exit(2);
	}
	unlink(path);
	return p;
}

static char scratch[] = "/tmp/sl-fuzz-file-XXXXXX";

static void scratch_remove(void)
{
	unlink(scratch);
}

const char *fuzz_scratch_file(void)
{
	int fd = mkstemp(scratch);

	fuzz_assert(fd >= 0, "mkstemp failed");
	close(fd);
	atexit(scratch_remove);
	return scratch;
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	fuzz_assert(f && fwrite(data, 1, size, f) == size && !fclose(f),
	    "cannot write %s", path);
}

int fuzz_import_check(const struct sl_import_map *m,
    const struct sl_pseudo *key, const void *csv, size_t n)
{
	struct sl_ingest_stats st;
	struct sl_err e = { 0, "" };
	char *msgs = NULL;
	size_t mlen = 0, i;
	uint64_t lines = 0;
	FILE *in, *errs;
	int rc;

	in = fmemopen((void *)csv, n, "rb");
	errs = open_memstream(&msgs, &mlen);
	fuzz_assert(in && errs, "fmemopen/open_memstream failed");
	rc = sl_import_csv(&st, in, m, NULL, 1, key, NULL, errs, &e);
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
		fuzz_assert(rc == SL_EINVAL && e.msg[0] != '\0', "check-only "
		    "import failed with %d: %s", rc, e.msg);
		fuzz_assert(lines >= st.bad, "%llu bad rows but %llu lines "
		    "listed", (unsigned long long)st.bad,
		    (unsigned long long)lines);
		fuzz_assert(mlen == 0 || !strncmp(msgs, "row ", 4),
		    "a refusal that names no row: %.80s", msgs);
	}
	free(msgs);
	return rc;
}
