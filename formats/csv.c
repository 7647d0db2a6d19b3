#include "formats/csv.h"
#include "formats/err.h"

#include <csv.h>
#include <stdlib.h>
#include <string.h>

int sl_csv_needs_prefix(const char *p, size_t n)
{
	if (!n)
		return 0;
	return p[0] == '=' || p[0] == '+' || p[0] == '-' || p[0] == '@' ||
	    p[0] == '\t' || p[0] == '\r' || p[0] == '\n' || p[0] == '\0';
}

void sl_csv_field(FILE *f, int first, const char *p, size_t n, int text)
{
	char small[256];
	char *b;

	if (!first)
		fputc(',', f);
	if (!text || !sl_csv_needs_prefix(p, n)) {
		csv_fwrite(f, p, n);
		return;
	}
	/* the prefix goes inside the quotes: libcsv quotes one buffer */
	b = n + 1 <= sizeof(small) ? small : malloc(n + 1);
	if (!b) {
		csv_fwrite(f, "'", 1);    /* out of memory: never unguarded */
		return;
	}
	b[0] = '\'';
	memcpy(b + 1, p, n);
	csv_fwrite(f, b, n + 1);
	if (b != small)
		free(b);
}

int sl_csv_row(FILE *f, const char *const *cells, size_t n, uint64_t text)
{
	size_t i;

	for (i = 0; i < n; i++)
		sl_csv_field(f, i == 0, cells[i], strlen(cells[i]),
		    i < 64 && (text >> i & 1));
	fputs("\r\n", f);
	return ferror(f) ? SL_EIO : 0;
}
