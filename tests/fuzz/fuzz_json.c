/*
 * fuzz_json: the strict JSON reader and the canonical form.
 *
 * formats/json.c is our own JSON reader, so jansson's (json_loadb) is its
 * oracle: whatever ours accepts, jansson accepts as the same tree, and
 * whatever jansson accepts that keeps our rules (sl_json_check: depth,
 * integers only and in range; jansson refuses duplicate keys, bad UTF-8
 * and U+0000 itself) ours accepts too. Then RFC 8785: the canonical form
 * of anything accepted passes sl_jcs_scan and is a fixed point, and any
 * bytes sl_jcs_scan calls canonical are exactly what sl_jcs_write makes
 * of them (read by jansson here: the canonical form, unlike a client's
 * submission, may hold U+0000, as DESIGN.md's entry rules allow it). A
 * record view walks any canonical object without harm.
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "formats/buf.h"
#include "formats/jcs.h"
#include "formats/json.h"
#include "formats/record.h"
#include "tests/fuzz/fuzz.h"

#define MAX (1u << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static int has_nul_escape(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 6 <= n; i++)
		if (!memcmp(p + i, "\\u0000", 6))
			return 1;
	return 0;
}

/* Canonical bytes p[0..n) are what sl_jcs_write makes of their tree. */
static void check_canonical(const uint8_t *p, size_t n)
{
	struct sl_err e = { 0, "" };
	struct sl_buf again;
	json_error_t je;
	json_t *v = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES |
	    JSON_ALLOW_NUL, &je);

	if (!v && has_nul_escape(p, n))
		return;         /* jansson takes U+0000 in values only */
	fuzz_assert(v != NULL, "canonical bytes jansson refuses: %s",
	    je.text);
	sl_buf_init(&again, 4 * MAX);
	fuzz_assert(sl_jcs_write(&again, v, &e) == 0 && again.len == n &&
	    memcmp(again.data, p, n) == 0, "canonical bytes are not what "
	    "sl_jcs_write makes of them");
	sl_buf_free(&again);
	json_decref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_jcs_member top[256];
	struct sl_record_view view;
	struct sl_err e = { 0, "" };
	json_error_t je;
	json_t *ours = NULL;
	json_t *theirs;
	size_t ntop = 0;
	int rc;

	if (size > MAX)
		return 0;
	rc = sl_json_parse(&ours, (const char *)data, size, MAX, &e);
	theirs = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    &je);
	if (rc == 0) {
		fuzz_assert(theirs != NULL, "accepted what jansson refuses "
		    "(%s)", je.text);
		fuzz_assert(json_equal(ours, theirs), "a tree unlike "
		    "jansson's");
	} else {
		fuzz_assert(e.msg[0] != '\0', "refused without a sentence");
		/* jansson's reader passes over a raw NUL byte between
		 * tokens; JSON has none there, and ours says so */
		fuzz_assert(!theirs || memchr(data, 0, size) ||
		    sl_json_check(theirs, "", &e) != 0,
		    "refused JSON that keeps the rules: %s", e.msg);
	}
	json_decref(theirs);
	if (rc == 0 && json_is_object(ours)) {
		struct sl_buf canon;

		sl_buf_init(&canon, 4 * MAX);
		fuzz_assert(sl_jcs_write(&canon, ours, &e) == 0,
		    "no canonical form: %s", e.msg);
		fuzz_assert(sl_jcs_scan(top, 256, &ntop, canon.data,
		    canon.len, &e) == 0 || json_object_size(ours) > 256,
		    "sl_jcs_scan refuses sl_jcs_write's bytes: %s", e.msg);
		check_canonical(canon.data, canon.len);
		sl_buf_free(&canon);
	}
	json_decref(ours);
	if (sl_jcs_scan(top, 256, &ntop, data, size, &e) == 0) {
		check_canonical(data, size);
		(void)sl_record_view_scan(&view, data, size, &e);
	} else {
		fuzz_assert(e.msg[0] != '\0', "scan refused without a "
		    "sentence");
	}
	return 0;
}
