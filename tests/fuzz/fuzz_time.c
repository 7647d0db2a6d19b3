/*
 * fuzz_time: RFC 3339 date-times, the dates of the completeness rules and
 * a spreadsheet's local date-times.
 *
 * For any bytes: a date-time sl_rfc3339_parse takes means the instant
 * glibc's timegm() gives for the same fields less the zone's offset (our
 * calendar arithmetic against the C library's), written back by
 * sl_rfc3339_format it is read as the same instant, and that form is the
 * one sl_rfc3339_is_recorded takes; a date likewise. A spreadsheet cell
 * sl_import_datetime turns into RFC 3339 is one sl_rfc3339_parse takes.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auditd/import.h"
#include "formats/rfc3339.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* The instant by timegm(): s is known well-formed (the parser took it). */
static int64_t oracle(const char *s, size_t n)
{
	struct tm tm;
	int64_t secs, ms = 0, off = 0;
	size_t i = 19;
	char head[20];

	/* the fuzzer's bytes end without a NUL: sscanf reads a copy */
	fuzz_assert(n >= 19, "taken but shorter than a date-time");
	memcpy(head, s, 19);
	head[19] = '\0';
	memset(&tm, 0, sizeof(tm));
	fuzz_assert(sscanf(head, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year,
	    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	    &tm.tm_sec) == 6, "taken but not YYYY-MM-DDThh:mm:ss: %.*s",
	    (int)n, s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	secs = (int64_t)timegm(&tm);
	if (i < n && s[i] == '.') {
		size_t d = 0;

		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, d++)
			if (d < 3)
				ms = ms * 10 + (s[i] - '0');
		for (; d < 3; d++)      /* .5 is 500 ms */
			ms *= 10;
	}
	if (s[n - 1] != 'Z') {
		int hh = (s[n - 5] - '0') * 10 + (s[n - 4] - '0');
		int mm = (s[n - 2] - '0') * 10 + (s[n - 1] - '0');

		off = (hh * 60 + mm) * 60;
		if (s[n - 6] == '-')
			off = -off;
	}
	return (secs - off) * 1000 + ms;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fmts[] = { "DD/MM/YYYY hh:mm",
		"YYYY-MM-DD hh:mm:ss", "DD.MM.YYYY", "rfc3339" };
	const char *s = (const char *)data;
	char out[SL_RFC3339_MS_LEN + 1];
	char cell[128];
	char when[40];
	int64_t ms, again;
	size_t i;

	if (sl_rfc3339_parse(&ms, s, size) == 0) {
		fuzz_assert(oracle(s, size) == ms, "%.*s: %lld ms, timegm "
		    "says %lld", (int)size, s, (long long)ms,
		    (long long)oracle(s, size));
		sl_rfc3339_format(out, ms);
		fuzz_assert(sl_rfc3339_parse(&again, out, strlen(out)) == 0 &&
		    again == ms, "%s does not read back as %lld", out,
		    (long long)ms);
		fuzz_assert(sl_rfc3339_is_recorded(out, strlen(out), &again) &&
		    again == ms, "%s is not the recorded form", out);
	}
	if (sl_rfc3339_parse_date(&ms, s, size) == 0) {
		char t[32];

		fuzz_assert(size == 10, "a date of %zu bytes taken", size);
		snprintf(t, sizeof(t), "%.10sT00:00:00Z", s);
		fuzz_assert(oracle(t, strlen(t)) == ms, "date %.10s: %lld ms",
		    s, (long long)ms);
	}
	if (size < sizeof(cell)) {
		memcpy(cell, s, size);
		cell[size] = '\0';
		for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
			if (strlen(cell) == size && sl_import_datetime(when,
			    fmts[i], cell, (int)(size & 1)) == 0)
				fuzz_assert(sl_rfc3339_parse(&ms, when,
				    strlen(when)) == 0, "\"%s\" in %s made "
				    "\"%s\", not RFC 3339", cell, fmts[i],
				    when);
	}
	return 0;
}
