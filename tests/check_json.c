#include "tests/testutil.h"
#include "formats/json.h"

#include <stdint.h>
#include <string.h>

static int parse_max(const char *s, size_t max, struct sl_err *e)
{
	json_t *v = NULL;
	int rc = sl_json_parse(&v, s, strlen(s), max, e);

	json_decref(v);
	return rc;
}

static int parse(const char *s, struct sl_err *e)
{
	return parse_max(s, 4096, e);
}

START_TEST(test_json_duplicate_key_names_line_and_column)
{
	struct sl_err e;

	ck_assert_int_eq(parse("{\"b\":1,\n \"a\":2,\n \"b\":3}", &e),
	    SL_ESYNTAX);
	ck_assert_ptr_nonnull(strstr(e.msg, "line 3"));
	ck_assert_ptr_nonnull(strstr(e.msg, "duplicate"));
}
END_TEST

START_TEST(test_json_syntax_error_position)
{
	struct sl_err e;

	ck_assert_int_eq(parse("{\"a\":1,\n\"b\":}", &e), SL_ESYNTAX);
	ck_assert_ptr_nonnull(strstr(e.msg, "line 2"));
	ck_assert_ptr_nonnull(strstr(e.msg, "column"));
}
END_TEST

START_TEST(test_json_float_names_pointer)
{
	struct sl_err e;

	ck_assert_int_eq(parse("{\"x\":{\"a/b\":[1,2.5]}}", &e), SL_EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "/x/a~1b/1"));
}
END_TEST

START_TEST(test_json_integer_bounds)
{
	struct sl_err e;

	ck_assert_int_eq(parse("{\"n\":9007199254740991}", &e), 0);
	ck_assert_int_eq(parse("{\"n\":-9007199254740991}", &e), 0);
	ck_assert_int_eq(parse("{\"n\":-9007199254740992}", &e), SL_EINVAL);
	ck_assert_int_eq(parse("{\"n\":99999999999999999999}", &e),
	    SL_ESYNTAX);
}
END_TEST

START_TEST(test_json_depth_limit)
{
	char buf[128];
	struct sl_err e;
	int depth;

	for (depth = 16; depth <= 17; depth++) {
		int i;
		size_t o = 0;

		for (i = 0; i < depth; i++)
			buf[o++] = '[';
		for (i = 0; i < depth; i++)
			buf[o++] = ']';
		buf[o] = '\0';
		ck_assert_int_eq(parse(buf, &e), depth == 16 ? 0 : SL_EINVAL);
	}
	ck_assert_ptr_nonnull(strstr(e.msg, "deeper than 16"));
	/* far deeper: the reader stops before its stack grows with it */
	{
		char deep[2 * 5000 + 1];

		memset(deep, '[', 5000);
		memset(deep + 5000, ']', 5000);
		deep[10000] = '\0';
		ck_assert_int_eq(parse_max(deep, 20000, &e), SL_ESYNTAX);
		ck_assert_ptr_nonnull(strstr(e.msg, "16 levels"));
	}
}
END_TEST

START_TEST(test_json_utf8_nul_and_size)
{
	struct sl_err e;
	char big[5000];

	ck_assert_int_eq(parse("{\"a\":\"\xff\"}", &e), SL_ESYNTAX);
	ck_assert_int_eq(parse("{\"a\":\"\\ud800\"}", &e), SL_ESYNTAX);
	ck_assert_int_eq(parse("{\"a\":\"\\u0000\"}", &e), SL_ESYNTAX);
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(parse(big, &e), SL_ETOOBIG);
	ck_assert_int_eq(parse("", &e), SL_EINVAL);  /* empty: no text */
}
END_TEST

/*
 * sl_json_parse has its own reader; jansson's json_loadb with the same
 * rules is the reference. Both must accept the same texts and, when they
 * do, build equal values.
 */
static int reference(json_t **out, const char *s, size_t n)
{
	json_t *v = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);

	*out = NULL;
	if (!v)
		return -1;
	if (sl_json_check(v, "", NULL)) {
		json_decref(v);
		return -1;
	}
	*out = v;
	return 0;
}

static void same_as_jansson(const char *s, size_t n)
{
	struct sl_err e = { 0, "" };
	json_t *a = NULL;
	json_t *b = NULL;
	int ra = sl_json_parse(&a, s, n, 1 << 20, &e);
	int rb = reference(&b, s, n);

	if ((ra == 0) != (rb == 0) || (ra == 0 && !json_equal(a, b)))
		ck_abort_msg("parsers disagree on %zu bytes \"%.*s\": ours %d "
		    "(%s), jansson %d", n, (int)n, s, ra, e.msg, rb);
	json_decref(a);
	json_decref(b);
}

START_TEST(test_json_agrees_with_jansson_on_edge_cases)
{
	static const char *cases[] = {
		"{}", "[]", " {\"a\" : [ 1 , -2 , 0 ] }\r\n\t", "{\"\":\"\"}",
		"{\"a\":\"\\u00e9\\u20ac\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\"}",
		"{\"a\":\"\\ud83d\"}", "{\"a\":\"\\ude00\"}",
		"{\"a\":\"\\ud83dx\"}", "{\"a\":\"\\ud83d\\u0041\"}",
		"{\"a\":\"\\u00\"}", "{\"a\":\"\\uZZZZ\"}", "{\"a\":\"\\x\"}",
		"{\"a\":1,\"\\u0061\":2}", "{\"a\\u0000\":1}", "{\"\\\"\":1}",
		"{\"a\":-0}", "{\"a\":01}", "{\"a\":-}", "{\"a\":1.}",
		"{\"a\":.5}", "{\"a\":+1}", "{\"a\":1e5}", "{\"a\":1E+5}",
		"{\"a\":1e400}", "{\"a\":9223372036854775807}",
		"{\"a\":9223372036854775808}", "{\"a\":-9223372036854775808}",
		"{\"a\":-9223372036854775809}", "{\"a\":tru}", "{\"a\":nul}",
		"{\"a\":true,\"b\":false,\"c\":null}", "{\"a\":[true]x}",
		"{\"a\":1,}", "[1,]", "[,1]", "{,}", "{\"a\" 1}", "{a:1}",
		"{\"a\":1}{}", "{\"a\":1} x", "1", "\"a\"", "true", "null",
		"\xef\xbb\xbf{}", "{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
		"{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xe0\x80\xaf\"}",
		"{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
		"{\"a\":\"\xf0\x9f\x98\"}", "{\"a\":\"\x7f\"}",
		"{\"a\":\"\x01\"}", "{\"a\":\"\t\"}", "{\"a\":\"abc", "{\"a\"",
		"{\"a\":", "{", "[", "[[[]]]", "{\"a\":{\"b\":{\"c\":[]}}}",
		"{\"a\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\\"bbbbbbbb\"}",
		"{\"k\":1,\"k\":1}", "{\"x\":{\"k\":1},\"y\":{\"k\":1}}",
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		same_as_jansson(cases[i], strlen(cases[i]));
	same_as_jansson("{\"a\":\"x\0y\"}", 11);  /* a raw NUL */
	same_as_jansson("{\"a\":1}\0", 8);
}
END_TEST

/* Random edits of a realistic record: every one judged alike. */
START_TEST(test_json_agrees_with_jansson_on_mutations)
{
	static const char rec[] =
	    "{\"record_type\":\"decision\",\"decision_id\":\"D-1\","
	    "\"rationale\":\"Mother said \\\"no\\\"; we shared\\nanyway \\u2014 "
	    "risk \xc3\xa9lev\xc3\xa9\",\"recipients\":[{\"agency_type\":"
	    "\"police\",\"role\":\"dsl\"}],\"n\":-12,\"ok\":true,\"z\":null,"
	    "\"emoji\":\"\\ud83d\\ude00\",\"info_categories\":[\"a\",\"b\"]}";
	static const char alphabet[] = "{}[]\",:\\ 019-+.eEutrfnl\x80\xc3\xed"
	    "\xf0\xff\n\t";
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char buf[sizeof(rec) + 8];
	int round;

	same_as_jansson(rec, strlen(rec));
	for (round = 0; round < 20000; round++) {
		size_t n = strlen(rec);
		int edits = 1 + (int)(round % 3);
		int k;

		memcpy(buf, rec, n);
		for (k = 0; k < edits; k++) {
			size_t at;
			char c;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			at = (size_t)(x % n);
			c = alphabet[(x >> 32) % (sizeof(alphabet) - 1)];
			switch ((x >> 48) % 3) {
			case 0:
				buf[at] = c;
				break;
			case 1:
				if (n + 1 < sizeof(buf)) {
					memmove(buf + at + 1, buf + at, n - at);
					buf[at] = c;
					n++;
				}
				break;
			default:
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
			}
		}
		same_as_jansson(buf, n);
	}
}
END_TEST

Suite *sl_json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_json_duplicate_key_names_line_and_column);
	tcase_add_test(tc, test_json_syntax_error_position);
	tcase_add_test(tc, test_json_float_names_pointer);
	tcase_add_test(tc, test_json_integer_bounds);
	tcase_add_test(tc, test_json_depth_limit);
	tcase_add_test(tc, test_json_utf8_nul_and_size);
	tcase_add_test(tc, test_json_agrees_with_jansson_on_edge_cases);
	tcase_add_test(tc, test_json_agrees_with_jansson_on_mutations);
	suite_add_tcase(s, tc);
	return s;
}
