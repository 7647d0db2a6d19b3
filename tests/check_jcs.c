#include "tests/testutil.h"
#include "formats/jcs.h"
#include "formats/json.h"

#include <stdint.h>
#include <string.h>

/* Canonical form of a JSON text (parsed strictly), as a new string. */
static char *canon(const char *text)
{
	struct sl_err e;
	struct sl_buf b;
	json_t *v = NULL;
	size_t n;

	ck_assert_msg(sl_json_parse(&v, text, strlen(text), 65536, &e) == 0,
	    "%s", e.msg);
	sl_buf_init(&b, 65536);
	ck_assert_int_eq(sl_jcs_write(&b, v, &e), 0);
	json_decref(v);
	return sl_buf_take(&b, &n);
}

static void expect_canon(const char *in, const char *want)
{
	char *got = canon(in);
	struct sl_jcs_member m[8];
	size_t nm;
	struct sl_err e;

	ck_assert_str_eq(got, want);
	if (got[0] == '{')
		ck_assert_msg(sl_jcs_scan(m, 8, &nm, (const uint8_t *)got,
		    strlen(got), &e) == 0, "scan of own output: %s", e.msg);
	free(got);
}

START_TEST(test_jcs_every_escape)
{
	/* Short forms for \b \t \n \f \r, lower-case \u00xx for the rest
	 * of the controls, \" and \\, and everything else (/, DEL,
	 * non-ASCII) written as itself. */
	expect_canon("{\"s\":\"x\\u0001\\u0007\\b\\t\\n\\u000b\\f\\r"
	    "\\u000e\\u001f \\\"\\\\\\/\\u007f\\u00e9\\u20ac\"}",
	    "{\"s\":\"x\\u0001\\u0007\\b\\t\\n\\u000b\\f\\r"
	    "\\u000e\\u001f \\\"\\\\/\x7f\xc3\xa9\xe2\x82\xac\"}");
}
END_TEST

START_TEST(test_jcs_rfc8785_escaping_example)
{
	/* RFC 8785 section 3.2.2.2 / the reference README sample. */
	expect_canon("{\"escaping\":\"\\u20ac\\u0024\\u000F\\u000aA'\\u0042"
	    "\\u0022\\u005c\\\\\\\"\\/\"}",
	    "{\"escaping\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}
END_TEST

START_TEST(test_jcs_key_order_utf16)
{
	/* RFC 8785 section 3.2.3: sorted by UTF-16 code units, so U+1F600
	 * (surrogates D83D DE00) sorts before U+FB33. */
	expect_canon("{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\","
	    "\"\\ufb33\":\"Hebrew Letter Dalet With Dagesh\",\"1\":\"One\","
	    "\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":"
	    "\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}",
	    "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":"
	    "\"Control\",\"\xc3\xb6\":\"Latin Small Letter O With "
	    "Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\",\"\xf0\x9f\x98\x80\":"
	    "\"Emoji: Grinning Face\",\"\xef\xac\xb3\":\"Hebrew Letter "
	    "Dalet With Dagesh\"}");
}
END_TEST

START_TEST(test_jcs_integers_and_literals)
{
	expect_canon("{ \"b\" : [ 0 , -0, -1, 9007199254740991, "
	    "-9007199254740991, true, false, null, {\"z\":1,\"a\":[]} ] ,"
	    "\"a\":{}}",
	    "{\"a\":{},\"b\":[0,0,-1,9007199254740991,-9007199254740991,true,"
	    "false,null,{\"a\":[],\"z\":1}]}");
}
END_TEST

START_TEST(test_jcs_rejects_beyond_2_53)
{
	struct sl_err e;
	json_t *v = NULL;

	ck_assert_int_eq(sl_json_parse(&v, "{\"n\":9007199254740992}", 22,
	    1000, &e), SL_EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "/n"));
	ck_assert_int_eq(sl_json_parse(&v, "{\"n\":1E30}", 10, 1000, &e),
	    SL_EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "integers"));
}
END_TEST

static int scan_str(const char *s, struct sl_err *e)
{
	struct sl_jcs_member m[8];
	size_t nm;

	return sl_jcs_scan(m, 8, &nm, (const uint8_t *)s, strlen(s), e);
}

START_TEST(test_jcs_scan_accepts_and_reports_members)
{
	const char *s = "{\"a\":1,\"b\":{\"x\":[1,\"y\"]},\"c\":\"\\u001f\"}";
	struct sl_jcs_member m[8];
	size_t nm;
	struct sl_err e;

	ck_assert_int_eq(sl_jcs_scan(m, 8, &nm, (const uint8_t *)s,
	    strlen(s), &e), 0);
	ck_assert_uint_eq(nm, 3);
	ck_assert_uint_eq(m[1].val_len, strlen("{\"x\":[1,\"y\"]}"));
	ck_assert_int_eq(memcmp(m[1].val, "{\"x\":[1,\"y\"]}", m[1].val_len),
	    0);
	ck_assert_int_eq(memcmp(m[2].key, "c", 1), 0);
}
END_TEST

START_TEST(test_jcs_scan_rejects_non_canonical)
{
	static const char *const bad[] = {
		"{\"a\": 1}",                 /* whitespace */
		" {\"a\":1}",
		"{\"b\":1,\"a\":2}",          /* order */
		"{\"a\":1,\"a\":2}",          /* duplicate */
		"{\"a\":\"\\/\"}",            /* needless escape */
		"{\"a\":\"\\u0041\"}",        /* escape of a printable */
		"{\"a\":\"\\u000A\"}",        /* upper-case hex */
		"{\"a\":\"\\u000a\"}",        /* short form exists */
		"{\"a\":-0}",
		"{\"a\":01}",
		"{\"a\":1.0}",
		"{\"a\":1e2}",
		"{\"a\":9007199254740992}",
		"{\"a\":\"\xc3\"}",           /* truncated UTF-8 */
		"{\"a\":\"\xed\xa0\x80\"}",   /* a surrogate in UTF-8 */
		"{\"a\":\"\xc0\xaf\"}",       /* overlong */
		"{\"a\":\"x\ty\"}",           /* raw control */
		"{\"a\":1}x",
		"[1]",
		"{\"a\":tru}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_err e = { 0, "" };

		ck_assert_msg(scan_str(bad[i], &e) == SL_EINVAL,
		    "accepted non-canonical #%zu: %s", i, bad[i]);
		ck_assert_ptr_nonnull(strstr(e.msg, "byte"));
	}
}
END_TEST

START_TEST(test_jcs_scan_depth_limit)
{
	char text[128];
	struct sl_err e;
	int depth;

	/* {"a":[[...]]} with the object counted as level 1 */
	for (depth = 15; depth <= 17; depth++) {
		size_t o = 0;
		int i;

		o += (size_t)snprintf(text, sizeof(text), "{\"a\":");
		for (i = 1; i < depth; i++)
			text[o++] = '[';
		for (i = 1; i < depth; i++)
			text[o++] = ']';
		text[o++] = '}';
		text[o] = '\0';
		if (depth <= 16)
			ck_assert_int_eq(scan_str(text, &e), 0);
		else
			ck_assert_int_eq(scan_str(text, &e), SL_EINVAL);
	}
	ck_assert_ptr_nonnull(strstr(e.msg, "16"));
}
END_TEST

/*
 * The reader, the writer and the scanner count the same levels: 16
 * containers with a value in the innermost are fine for all three, 17
 * for none (found by tests/fuzz/fuzz_json: the writer counted the value
 * as a level of its own and refused what the reader had taken).
 */
START_TEST(test_jcs_depth_limit_agrees_with_reader)
{
	char text[128];
	struct sl_err e;
	int depth;

	for (depth = 15; depth <= 17; depth++) {
		struct sl_jcs_member m[2];
		struct sl_buf b;
		json_t *v = NULL;
		size_t o = 0, nm;
		int i, ok = depth <= 16;

		o += (size_t)snprintf(text, sizeof(text), "{\"a\":");
		for (i = 1; i < depth; i++)
			text[o++] = '[';
		text[o++] = '7';
		for (i = 1; i < depth; i++)
			text[o++] = ']';
		text[o++] = '}';
		text[o] = '\0';
		ck_assert_int_eq(sl_json_parse(&v, text, o, 4096, &e),
		    ok ? 0 : SL_EINVAL);
		ck_assert_int_eq(sl_jcs_scan(m, 2, &nm, (const uint8_t *)text,
		    o, &e), ok ? 0 : SL_EINVAL);
		if (!ok) {
			/* the writer refuses a tree built some other way */
			v = json_loads(text, 0, NULL);
			ck_assert_ptr_nonnull(v);
		}
		sl_buf_init(&b, 4096);
		ck_assert_int_eq(sl_jcs_write(&b, v, &e), ok ? 0 : SL_EINVAL);
		if (ok)
			ck_assert(b.len == o && !memcmp(b.data, text, o));
		else
			ck_assert_ptr_nonnull(strstr(e.msg, "deeper than 16"));
		sl_buf_free(&b);
		json_decref(v);
	}
}
END_TEST

/*
 * Differential property: mutate canonical documents byte by byte; the
 * scanner may accept a mutant only if parsing it and writing it
 * canonically gives back exactly the same bytes.
 */
START_TEST(test_jcs_scan_accepts_only_canonical)
{
	static const char *const seeds[] = {
		"{\"a\":[1,-2,{\"b\":\"x\\u001fy\"}],\"c\":true,\"d\":null}",
		"{\"\xc3\xa9\":\"\xe2\x82\xac\",\"e\":\"\\\"\\\\\",\"z\":0}",
		"{\"k\":\"plain text that is longer than sixteen bytes\",\"n\":9007199254740991}",
	};
	static const uint8_t subst[] = {
		' ', '"', '\\', '/', 'u', '0', '1', '9', 'e', '.', '-', ',', ':',
		'{', '}', '[', ']', 'a', 'A', 0x7f, 0x80, 0xc3, 0xff, '\n', 't',
	};
	unsigned seed = 1;
	size_t si;
	long accepted = 0;

	for (si = 0; si < sizeof(seeds) / sizeof(seeds[0]); si++) {
		size_t n = strlen(seeds[si]);
		size_t pos;
		size_t k;

		for (pos = 0; pos < n; pos++) {
			for (k = 0; k < sizeof(subst); k++) {
				uint8_t buf[256];
				struct sl_jcs_member m[8];
				size_t nm;
				struct sl_err e;
				json_t *v;
				struct sl_buf out;
				size_t len = n;

				memcpy(buf, seeds[si], n);
				seed = seed * 1103515245u + 12345u;
				if ((seed >> 16) % 3 == 0) {
					/* insert instead of replace */
					memmove(buf + pos + 1, buf + pos, n - pos);
					len++;
				}
				buf[pos] = subst[k];
				if (sl_jcs_scan(m, 8, &nm, buf, len, &e))
					continue;
				accepted++;
				v = json_loadb((const char *)buf, len,
				    JSON_REJECT_DUPLICATES, NULL);
				ck_assert_msg(v != NULL, "scanner accepted "
				    "invalid JSON: %.*s", (int)len, buf);
				sl_buf_init(&out, 4096);
				ck_assert_int_eq(sl_jcs_write(&out, v, &e), 0);
				ck_assert_msg(out.len == len &&
				    !memcmp(out.data, buf, len), "scanner "
				    "accepted non-canonical: %.*s", (int)len,
				    buf);
				sl_buf_free(&out);
				json_decref(v);
			}
		}
	}
	ck_assert_int_gt(accepted, 10);  /* the property was exercised */
}
END_TEST

/*
 * Random objects, members added in random order, keys and strings drawn
 * from pieces that sort differently in bytes and in UTF-16 and strings
 * long enough to cross the writer's 16-byte steps: the canonical form
 * must pass the scanner (its own code) and read back as the same value.
 */
START_TEST(test_jcs_write_random_objects)
{
	static const char *const piece[] = {
		"a", "b", "Z", "_", "0", "\xc3\xa9", "\xe2\x82\xac",
		"\xef\xac\xb3", "\xf0\x9f\x98\x80", "\"", "\\", "\n", "\x01",
		"\x7f", "0123456789abcdef", " ", "/",
	};
	const size_t np = sizeof(piece) / sizeof(piece[0]);
	uint64_t x = 0x2545f4914f6cdd1dULL;
	int round;

	for (round = 0; round < 3000; round++) {
		json_t *obj = json_object();
		json_t *back = NULL;
		struct sl_jcs_member m[64];
		struct sl_buf b;
		struct sl_err e;
		size_t nm;
		int k;
		int members = 1 + round % 40;

		for (k = 0; k < members; k++) {
			char key[64] = "";
			char val[256] = "";
			int j;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			for (j = 0; j < 1 + (int)(x % 4); j++)
				strcat(key, piece[(x >> (8 + 4 * j)) % np]);
			for (j = 0; j < (int)((x >> 40) % 12); j++)
				strcat(val, piece[(x >> (2 * j)) % np]);
			if ((x >> 60) % 4 == 0)
				json_object_set_new(obj, key,
				    json_integer((json_int_t)(x % 2000001) -
				    1000000));
			else
				json_object_set_new(obj, key, json_string(val));
		}
		sl_buf_init(&b, 1 << 20);
		ck_assert_int_eq(sl_jcs_write(&b, obj, &e), 0);
		ck_assert_msg(sl_jcs_scan(m, 64, &nm, b.data, b.len, &e) == 0,
		    "%s in %.*s", e.msg, (int)b.len, (const char *)b.data);
		ck_assert_uint_eq(nm, json_object_size(obj));
		ck_assert_int_eq(sl_json_parse(&back, (const char *)b.data,
		    b.len, 1 << 20, &e), 0);
		ck_assert(json_equal(back, obj));
		json_decref(back);
		json_decref(obj);
		sl_buf_free(&b);
	}
}
END_TEST

Suite *sl_jcs_suite(void)
{
	Suite *s = suite_create("jcs");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_jcs_every_escape);
	tcase_add_test(tc, test_jcs_rfc8785_escaping_example);
	tcase_add_test(tc, test_jcs_key_order_utf16);
	tcase_add_test(tc, test_jcs_integers_and_literals);
	tcase_add_test(tc, test_jcs_rejects_beyond_2_53);
	tcase_add_test(tc, test_jcs_scan_accepts_and_reports_members);
	tcase_add_test(tc, test_jcs_scan_rejects_non_canonical);
	tcase_add_test(tc, test_jcs_scan_depth_limit);
	tcase_add_test(tc, test_jcs_depth_limit_agrees_with_reader);
	tcase_add_test(tc, test_jcs_scan_accepts_only_canonical);
	tcase_add_test(tc, test_jcs_write_random_objects);
	suite_add_tcase(s, tc);
	return s;
}
