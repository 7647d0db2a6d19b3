#include "formats/json.h"
#include "formats/buf.h"
#include "formats/jcs.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define NO_ARENA 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_ARENA 1
#endif
#endif

/*
 * jansson makes a small allocation for every value and key; for a record
 * that is about 40 malloc/free pairs, a quarter of the service's time.
 * The arena hands out memory from one block per thread instead.
 */
#define ARENA_SIZE ((size_t)8 << 20)

#ifndef NO_ARENA
static _Thread_local uint8_t *arena;     /* this thread's block */
static _Thread_local size_t arena_used;
static _Thread_local int arena_on;
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;

static void *arena_malloc(size_t n)
{
	if (arena_on && arena && arena_used + n + 16 <= ARENA_SIZE) {
		void *p = arena + arena_used;

		arena_used += (n + 15) & ~(size_t)15;
		return p;
	}
	return malloc(n);
}

static void arena_free(void *p)
{
	if (arena && (uint8_t *)p >= arena && (uint8_t *)p < arena + ARENA_SIZE)
		return;  /* released with the arena */
	free(p);
}

static void arena_install(void)
{
	json_set_alloc_funcs(arena_malloc, arena_free);
}

void sl_json_arena_begin(void)
{
	pthread_once(&arena_once, arena_install);
	if (!arena)
		arena = malloc(ARENA_SIZE);
	arena_used = 0;
	arena_on = 1;
}

void sl_json_arena_end(void)
{
	arena_on = 0;
	arena_used = 0;
}
#else
/* Sanitizer builds: every jansson block stays a malloc ASan can watch. */
void sl_json_arena_begin(void)
{
}

void sl_json_arena_end(void)
{
}
#endif

void sl_json_pointer_add(char *out, size_t cap, const char *key)
{
	size_t o = strlen(out);
	const char *k;

	if (o + 1 >= cap)
		return;
	out[o++] = '/';
	for (k = key; *k && o + 2 < cap; k++) {
		if (*k == '~' || *k == '/') {
			out[o++] = '~';
			out[o++] = *k == '~' ? '0' : '1';
		} else {
			out[o++] = *k;
		}
	}
	out[o] = '\0';
}

#define PTR_MAX 256

/*
 * Walk v against the rules. With e NULL nothing is formatted (the quick
 * pass every good document takes); with e, ptr carries the JSON pointer
 * of v and the first problem is described.
 */
static int check_value(const json_t *v, char *ptr, int depth,
    struct sl_err *e)
{
	size_t plen = e ? strlen(ptr) : 0;
	const char *where = e && *ptr ? ptr : "/";

	switch (json_typeof(v)) {
	case JSON_REAL:
		return sl_err_set(e, SL_EINVAL, "field %s: numbers must be "
		    "integers (no fraction or exponent)", where);
	case JSON_INTEGER: {
		json_int_t n = json_integer_value(v);

		if (n > SL_JSON_MAX_INT || n < -SL_JSON_MAX_INT)
			return sl_err_set(e, SL_EINVAL, "field %s: integer %lld "
			    "is outside +/-(2^53-1)", where, (long long)n);
		return 0;
	}
	case JSON_OBJECT:
	case JSON_ARRAY: {
		const char *key;
		json_t *m;
		size_t i;
		int rc = 0;

		if (depth >= SL_JSON_MAX_DEPTH)
			return sl_err_set(e, SL_EINVAL, "field %s: nested deeper "
			    "than %d levels", where, SL_JSON_MAX_DEPTH);
		if (json_is_object(v)) {
			json_object_foreach((json_t *)v, key, m) {
				if (e)
					sl_json_pointer_add(ptr, PTR_MAX, key);
				rc = check_value(m, ptr, depth + 1, e);
				if (e)
					ptr[plen] = '\0';
				if (rc)
					return rc;
			}
		} else {
			json_array_foreach((json_t *)v, i, m) {
				if (e)
					snprintf(ptr + plen, PTR_MAX - plen,
					    "/%zu", i);
				rc = check_value(m, ptr, depth + 1, e);
				if (e)
					ptr[plen] = '\0';
				if (rc)
					return rc;
			}
		}
		return 0;
	}
	default:
		return 0;
	}
}

int sl_json_check(const json_t *v, const char *base, struct sl_err *e)
{
	char ptr[PTR_MAX];

	if (!check_value(v, NULL, 0, NULL))
		return 0;
	/* Something is wrong: walk again, naming where. */
	snprintf(ptr, sizeof(ptr), "%s", base);
	return check_value(v, ptr, 0, e ? e : &(struct sl_err){ 0, "" });
}

/*
 * The parser. jansson's own reader takes a character at a time through a
 * stream and a growing string buffer: about 14 us of a record's 17 us in
 * json_loadb, the largest single cost of an append. This one skips plain
 * string text 16 bytes at a time and builds the same jansson values, so
 * everything after it is unchanged. It accepts what json_loadb accepts
 * with JSON_REJECT_DUPLICATES (an object or an array at the top, RFC 8259
 * grammar, valid UTF-8, no \u0000, paired surrogates); tests/check_json.c
 * holds the two side by side. It recurses, so it stops at 64 levels, well
 * past the 16 that sl_json_check() then allows with the field's pointer.
 */
#define PARSE_MAX_DEPTH 64

struct parser {
	const uint8_t *base;
	const uint8_t *p;
	const uint8_t *end;
	struct sl_buf text;     /* a string with escapes, decoded */
	const uint8_t *err_at;  /* where the first error is */
	const char *err;        /* what it is (a static sentence) */
	char detail[96];        /* or, when err is NULL, this */
};

static const char oom[] = "out of memory";

/* Note the first error; returns -1 for the int readers' convenience. */
static int fail(struct parser *ps, const uint8_t *at, const char *why)
{
	if (!ps->err_at) {
		ps->err_at = at;
		ps->err = why;
	}
	return -1;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' ||
	    *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

static int hex4(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		uint8_t c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int put_utf8(struct sl_buf *b, uint32_t cp)
{
	uint8_t u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (uint8_t)(0xc0 | cp >> 6);
		u[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (uint8_t)(0xe0 | cp >> 12);
		u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (uint8_t)(0xf0 | cp >> 18);
		u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return sl_buf_add(b, u, n);
}

/*
 * One escape at ps->p (the backslash), decoded into ps->text. A high
 * surrogate must be followed by an escaped low one; the pair is one
 * character.
 */
static int unescape(struct parser *ps)
{
	const uint8_t *at = ps->p;
	uint32_t cp;
	uint32_t lo;
	uint8_t c;

	if (ps->end - ps->p < 2)
		return fail(ps, at, "unterminated string");
	c = ps->p[1];
	switch (c) {
	case '"': case '\\': case '/':
		break;
	case 'b': c = '\b'; break;
	case 'f': c = '\f'; break;
	case 'n': c = '\n'; break;
	case 'r': c = '\r'; break;
	case 't': c = '\t'; break;
	case 'u':
		if (ps->end - ps->p < 6 || hex4(ps->p + 2, &cp))
			return fail(ps, at, "\\u must be followed by four hex "
			    "digits");
		ps->p += 6;
		if (cp == 0)
			return fail(ps, at, "\\u0000 is not allowed (no NUL "
			    "characters)");
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return fail(ps, at, "a low surrogate escape without "
			    "a high one before it");
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (ps->end - ps->p < 6 || ps->p[0] != '\\' ||
			    ps->p[1] != 'u' || hex4(ps->p + 2, &lo) ||
			    lo < 0xdc00 || lo > 0xdfff)
				return fail(ps, at, "a high surrogate escape "
				    "without a low one after it");
			ps->p += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		if (put_utf8(&ps->text, cp))
			return fail(ps, at, oom);
		return 0;
	default:
		return fail(ps, at, "invalid escape (JSON has \\\" \\\\ \\/ "
		    "\\b \\f \\n \\r \\t \\uXXXX)");
	}
	ps->p += 2;
	if (sl_buf_addc(&ps->text, c))
		return fail(ps, at, oom);
	return 0;
}

/*
 * The string at ps->p (its opening quote). Without escapes *s points into
 * the input; with them, into ps->text. Leaves ps->p after the closing quote.
 */
static int read_string(struct parser *ps, const uint8_t **s, size_t *n)
{
	const uint8_t *start = ++ps->p;
	const uint8_t *run = start;
	int escaped = 0;

	for (;;) {
		uint8_t c;

		ps->p = sl_jcs_skip_plain(ps->p, ps->end);
		while (ps->p < ps->end && *ps->p >= 0x20 && *ps->p < 0x80 &&
		    *ps->p != '"' && *ps->p != '\\')
			ps->p++;
		if (ps->p >= ps->end)
			return fail(ps, start - 1, "unterminated string");
		c = *ps->p;
		if (c == '"')
			break;
		if (c >= 0x80) {
			size_t l = sl_jcs_utf8_len(ps->p,
			    (size_t)(ps->end - ps->p));

			if (!l)
				return fail(ps, ps->p, "invalid UTF-8");
			ps->p += l;
			continue;
		}
		if (c < 0x20)
			return fail(ps, ps->p, "control character in a string "
			    "(write it as an escape)");
		/* a backslash */
		if (!escaped) {
			sl_buf_reset(&ps->text);
			escaped = 1;
		}
		if (sl_buf_add(&ps->text, run, (size_t)(ps->p - run)))
			return fail(ps, start - 1, oom);
		if (unescape(ps))
			return -1;  /* unescape said what */
		run = ps->p;
	}
	if (escaped) {
		if (sl_buf_add(&ps->text, run, (size_t)(ps->p - run)))
			return fail(ps, start - 1, oom);
		*s = ps->text.data;
		*n = ps->text.len;
	} else {
		*s = start;
		*n = (size_t)(ps->p - start);
	}
	ps->p++;
	return 0;
}

static json_t *read_number(struct parser *ps)
{
	const uint8_t *start = ps->p;
	uint64_t mag = 0;
	int neg = 0;
	int real = 0;
	int over = 0;

	if (*ps->p == '-') {
		neg = 1;
		ps->p++;
	}
	if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
		fail(ps, start, "invalid number (a digit must follow "
		    "the minus sign)");
		return NULL;
	}
	if (*ps->p == '0') {
		ps->p++;
		if (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
			fail(ps, start, "a number with a leading zero");
			return NULL;
		}
	}
	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
		unsigned d = (unsigned)(*ps->p++ - '0');

		if (mag > (UINT64_MAX - d) / 10)
			over = 1;
		else
			mag = mag * 10 + d;
	}
	if (ps->p < ps->end && *ps->p == '.') {
		real = 1;
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
			fail(ps, start, "invalid number (a digit must follow "
			    "the decimal point)");
			return NULL;
		}
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		real = 1;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
			fail(ps, start, "invalid number (a digit must follow "
			    "the exponent)");
			return NULL;
		}
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (real) {
		/* Refused later with the field's JSON pointer; the value only
		 * has to be a real jansson accepts. */
		return json_real(1.0);
	}
	if (over || mag > (uint64_t)INT64_MAX + (uint64_t)neg) {
		fail(ps, start, "integer too large (integers must be "
		    "within +/-(2^53-1))");
		return NULL;
	}
	if (neg)
		return json_integer(mag == (uint64_t)INT64_MAX + 1 ?
		    INT64_MIN : -(json_int_t)mag);
	return json_integer((json_int_t)mag);
}

static json_t *read_value(struct parser *ps, int depth);

static void duplicate(struct parser *ps, const uint8_t *at, const char *k,
    size_t klen)
{
	size_t o;
	size_t i;

	ps->err_at = at;
	ps->err = NULL;
	o = (size_t)snprintf(ps->detail, sizeof(ps->detail),
	    "duplicate object key \"");
	for (i = 0; i < klen && o + 5 < sizeof(ps->detail); i++)
		ps->detail[o++] = (uint8_t)k[i] >= 0x20 ? k[i] : '?';
	if (i < klen)
		o += (size_t)snprintf(ps->detail + o, sizeof(ps->detail) - o,
		    "...");
	snprintf(ps->detail + o, sizeof(ps->detail) - o, "\"");
}

/* One "key": value member at ps->p into obj. */
static int read_member(struct parser *ps, json_t *obj, int depth)
{
	char kbuf[128];
	const uint8_t *at = ps->p;
	const uint8_t *k;
	char *copy = NULL;
	const char *key;
	size_t klen;
	size_t before;
	json_t *v;
	int rc = -1;

	if (ps->p >= ps->end || *ps->p != '"')
		return fail(ps, ps->p, "expected a string key");
	if (read_string(ps, &k, &klen))
		return -1;
	key = (const char *)k;
	if (k == ps->text.data) {
		/* decoded into ps->text, which the value may reuse */
		copy = klen < sizeof(kbuf) ? kbuf : malloc(klen);
		if (!copy)
			return fail(ps, at, oom);
		memcpy(copy, k, klen);
		key = copy;
	}
	skip_ws(ps);
	if (ps->p >= ps->end || *ps->p != ':') {
		fail(ps, ps->p, "expected ':' after an object key");
		goto out;
	}
	ps->p++;
	skip_ws(ps);
	v = read_value(ps, depth);
	if (!v)
		goto out;
	before = json_object_size(obj);
	/* A key seen before replaces the value without growing the object:
	 * cheaper than looking each key up first. */
	if (json_object_setn_new_nocheck(obj, key, klen, v)) {
		fail(ps, at, oom);
		goto out;
	}
	if (json_object_size(obj) == before) {
		duplicate(ps, at, key, klen);
		goto out;
	}
	rc = 0;
out:
	if (copy != kbuf)
		free(copy);
	return rc;
}

static int read_element(struct parser *ps, json_t *arr, int depth)
{
	json_t *v = read_value(ps, depth);

	if (!v)
		return -1;
	if (json_array_append_new(arr, v))
		return fail(ps, ps->p, oom);
	return 0;
}

/* An object or an array at ps->p (its opening bracket). */
static json_t *read_container(struct parser *ps, int depth, int object)
{
	json_t *c = object ? json_object() : json_array();
	uint8_t close = object ? '}' : ']';

	if (!c)
		return NULL;  /* out of memory, said by sl_json_parse */
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return c;
	}
	for (;;) {
		if (object ? read_member(ps, c, depth + 1) :
		    read_element(ps, c, depth + 1))
			break;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_ws(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return c;
		}
		fail(ps, ps->p, object ? "expected ',' or '}' after an object "
		    "member" : "expected ',' or ']' after an array element");
		break;
	}
	json_decref(c);
	return NULL;
}

static int word(struct parser *ps, const char *w, size_t n)
{
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, w, n))
		return 0;
	ps->p += n;
	return 1;
}

static json_t *read_value(struct parser *ps, int depth)
{
	const uint8_t *s;
	size_t n;

	if (depth > PARSE_MAX_DEPTH) {
		fail(ps, ps->p, "nested far deeper than the 16 levels "
		    "allowed");
		return NULL;
	}
	if (ps->p >= ps->end) {
		fail(ps, ps->p, "unexpected end of the text (a value is "
		    "missing)");
		return NULL;
	}
	switch (*ps->p) {
	case '{':
	case '[':
		return read_container(ps, depth, *ps->p == '{');
	case '"':
		if (read_string(ps, &s, &n))
			return NULL;
		return json_stringn_nocheck((const char *)s, n);
	case 't':
		if (word(ps, "true", 4))
			return json_true();
		break;
	case 'f':
		if (word(ps, "false", 5))
			return json_false();
		break;
	case 'n':
		if (word(ps, "null", 4))
			return json_null();
		break;
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return read_number(ps);
		break;
	}
	fail(ps, ps->p, "not a JSON value (expected an object, array, "
	    "string, number, true, false or null)");
	return NULL;
}

/* Line and column (in characters) of at, both from 1, for the message. */
static void position(const uint8_t *base, const uint8_t *at, int *line,
    int *col)
{
	const uint8_t *p;

	*line = 1;
	*col = 1;
	for (p = base; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else if ((*p & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

int sl_json_parse(json_t **out, const char *buf, size_t len, size_t max,
    struct sl_err *e)
{
	struct parser ps;
	json_t *v = NULL;
	int line;
	int col;
	int rc;

	*out = NULL;
	if (len > max)
		return sl_err_set(e, SL_ETOOBIG,
		    "body is %zu bytes, more than the limit of %zu", len, max);
	if (len == 0)
		return sl_err_set(e, SL_EINVAL, "empty input: expected a "
		    "JSON object");
	memset(&ps, 0, sizeof(ps));
	ps.base = (const uint8_t *)buf;
	ps.p = ps.base;
	ps.end = ps.base + len;
	sl_buf_init(&ps.text, len);
	skip_ws(&ps);
	if (ps.p < ps.end && *ps.p != '{' && *ps.p != '[')
		fail(&ps, ps.p, "expected '{' or '[' (a JSON object or "
		    "array)");
	else
		v = read_value(&ps, 1);
	if (v) {
		skip_ws(&ps);
		if (ps.p < ps.end)
			fail(&ps, ps.p, "text after the end of the JSON value");
	}
	sl_buf_free(&ps.text);
	/* jansson's constructors return NULL only when out of memory (a
	 * number's, for one, is not checked where it is made) */
	if (!v && !ps.err_at)
		fail(&ps, ps.p, oom);
	if (ps.err_at) {
		json_decref(v);
		if (ps.err == oom)
			return sl_err_set(e, SL_ENOMEM, "out of memory");
		position(ps.base, ps.err_at, &line, &col);
		return sl_err_set(e, SL_ESYNTAX,
		    "JSON syntax error at line %d, column %d: %s", line, col,
		    ps.err ? ps.err : ps.detail);
	}
	rc = sl_json_check(v, "", e);
	if (rc) {
		json_decref(v);
		return rc;
	}
	*out = v;
	return 0;
}
