/*
 * mkdict: print a libFuzzer dictionary of the record schema (every field
 * name as a key, every enumeration value, the recipients' keys and JSON's
 * own tokens), so that mutations speak the record's words: a duplicate
 * enumeration value or a companion "_text" field is then one insertion
 * away, not a lucky run of bytes. tests/fuzz_test.sh writes it beside
 * the targets whose name it is given.
 */
#include <stdio.h>
#include <string.h>

#include "formats/schema.h"

/* One entry: quotes and backslashes escaped, other bytes outside
 * printable ASCII as \xNN, as libFuzzer's dictionary syntax asks. */
static void put(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			printf("\\x%02X", *p);
		else
			putchar(*p);
	}
}

static void token(const char *pre, const char *s, const char *post)
{
	putchar('"');
	put(pre);
	put(s);
	put(post);
	fputs("\"\n", stdout);
}

int main(void)
{
	static const char *const json[] = { "true", "false", "null", "[]",
		"{}", ",", ":", "\\u0000", "\\u001f", "\\ud800", "\\\"",
		"\\/", "-0", "1e3", "9007199254740992", "\xc3\xa9",
		"\xf0\x9f\x98\x80", "\xed\xa0\x80", "Z", "+01:00",
		"2026-02-29T24:00:00Z", NULL };
	static const char *const recip[] = { "agency_type",
		"agency_type_text", "org", "role", NULL };
	const struct sl_field *f;
	size_t n, i, j;
	char buf[160];

	f = sl_schema_fields(&n);
	for (i = 0; i < n; i++) {
		token("\"", f[i].name, "\":");
		snprintf(buf, sizeof(buf), "%s_text", f[i].name);
		if (f[i].flags & SL_F_OTHER_TEXT)
			token("\"", buf, "\":");
		for (j = 0; f[i].values && f[i].values[j]; j++) {
			token("\"", f[i].values[j], "\"");
			token("\"", f[i].values[j], "\",");
		}
	}
	for (i = 0; recip[i]; i++)
		token("\"", recip[i], "\":");
	for (i = 0; json[i]; i++)
		token("", json[i], "");
	return 0;
}
