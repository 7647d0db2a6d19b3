#include "tests/fuzz/fuzz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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
