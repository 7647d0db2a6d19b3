#include "formats/jcs.h"
#include "formats/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- UTF-16 code-unit order (RFC 8785 section 3.2.3) ---------------- */

struct u16it {
	const uint8_t *p;
	const uint8_t *end;
	int escaped;        /* input is raw JSON string content */
	int pending;        /* low surrogate still to deliver, or -1 */
};

static int hexv(uint8_t c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Next UTF-16 code unit, or -1 at the end. Input is known to be valid. */
static int u16_next(struct u16it *it)
{
	uint32_t cp;
	uint8_t c;

	if (it->pending >= 0) {
		int u = it->pending;

		it->pending = -1;
		return u;
	}
	if (it->p >= it->end)
		return -1;
	c = *it->p++;
	if (it->escaped && c == '\\') {
		c = *it->p++;
		switch (c) {
		case 'b': return 0x08;
		case 'f': return 0x0c;
		case 'n': return 0x0a;
		case 'r': return 0x0d;
		case 't': return 0x09;
		case 'u':
			cp = (uint32_t)(hexv(it->p[0]) << 12 |
			    hexv(it->p[1]) << 8 | hexv(it->p[2]) << 4 |
			    hexv(it->p[3]));
			it->p += 4;
			return (int)cp;
		default: return c;  /* '"', '\\' */
		}
	}
	if (c < 0x80)
		return c;
	if (c < 0xe0) {
		cp = (uint32_t)(c & 0x1f) << 6 | (it->p[0] & 0x3f);
		it->p += 1;
	} else if (c < 0xf0) {
		cp = (uint32_t)(c & 0x0f) << 12 |
		    (uint32_t)(it->p[0] & 0x3f) << 6 | (it->p[1] & 0x3f);
		it->p += 2;
	} else {
		cp = (uint32_t)(c & 0x07) << 18 |
		    (uint32_t)(it->p[0] & 0x3f) << 12 |
		    (uint32_t)(it->p[1] & 0x3f) << 6 | (it->p[2] & 0x3f);
		it->p += 3;
	}
	if (cp < 0x10000)
		return (int)cp;
	cp -= 0x10000;
	it->pending = (int)(0xdc00 | (cp & 0x3ff));
	return (int)(0xd800 | (cp >> 10));
}

static int u16cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
    int escaped)
{
	struct u16it x = { a, a + an, escaped, -1 };
	struct u16it y = { b, b + bn, escaped, -1 };

	for (;;) {
		int u = u16_next(&x);
		int v = u16_next(&y);

		if (u != v)
			return u < v ? -1 : 1; /* -1 (end) sorts first */
		if (u < 0)
			return 0;
	}
}

int sl_jcs_keycmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t i;
	size_t n = an < bn ? an : bn;

	/* Plain ASCII without escapes: byte order is UTF-16 order. */
	for (i = 0; i < n; i++) {
		if (a[i] >= 0x80 || b[i] >= 0x80 || a[i] == '\\' ||
		    b[i] == '\\')
			return u16cmp(a, an, b, bn, 1);
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	for (i = n; i < an; i++)
		if (a[i] >= 0x80 || a[i] == '\\')
			return u16cmp(a, an, b, bn, 1);
	for (i = n; i < bn; i++)
		if (b[i] >= 0x80 || b[i] == '\\')
			return u16cmp(a, an, b, bn, 1);
	return an == bn ? 0 : (an < bn ? -1 : 1);
}

/* ---- writer ---------------------------------------------------------- */

int sl_jcs_write_string(struct sl_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = (const uint8_t *)s;
	const uint8_t *end = p + n;
	const uint8_t *run = p;
	int rc;

	rc = sl_buf_addc(out, '"');
	while (!rc && p < end) {
		char esc[7];
		size_t elen = 2;
		uint8_t c;

		/* Text is valid UTF-8 here: bytes >= 0x80 are written as they
		 * are, and only '"', '\\' and control characters escaped. */
		p = sl_jcs_skip_plain(p, end);
		while (p < end && (*p >= 0x80 || (*p >= 0x20 && *p != '"' &&
		    *p != '\\')))
			p++;
		if (p >= end)
			break;
		c = *p;
		if (p > run)
			rc = sl_buf_add(out, run, (size_t)(p - run));
		run = ++p;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		if (!rc)
			rc = sl_buf_add(out, esc, elen);
	}
	if (!rc && end > run)
		rc = sl_buf_add(out, run, (size_t)(end - run));
	if (!rc)
		rc = sl_buf_addc(out, '"');
	return rc;
}

/* A member of an object being written: its key and value. */
struct member {
	const char *key;
	size_t len;
	const json_t *val;
};

static int keysort(const void *a, const void *b)
{
	const struct member *ma = a;
	const struct member *mb = b;
	const uint8_t *x = (const uint8_t *)ma->key;
	const uint8_t *y = (const uint8_t *)mb->key;
	size_t i = 0;

	/* Up to the first difference, ASCII is in UTF-16 order already. */
	while (x[i] && x[i] == y[i] && x[i] < 0x80)
		i++;
	if (x[i] < 0x80 && y[i] < 0x80)
		return (int)x[i] - (int)y[i];
	return u16cmp(x, ma->len, y, mb->len, 0);
}

/*
 * Binary insertion sort: objects have tens of members, often in order
 * already (n - 1 compares then), and the compare inlines here where
 * qsort calls it through a pointer. Keys are unique, so no ties.
 */
static void sort_members(struct member *m, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++) {
		struct member x = m[i];
		size_t lo = 0;
		size_t hi = i;

		if (keysort(&m[i - 1], &x) < 0)
			continue;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (keysort(&m[mid], &x) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		memmove(&m[lo + 1], &m[lo], (i - lo) * sizeof(*m));
		m[lo] = x;
	}
}

static int write_value(struct sl_buf *out, const json_t *v, int depth,
    struct sl_err *e);

static int write_object(struct sl_buf *out, const json_t *v, int depth,
    struct sl_err *e)
{
	struct member small[64];
	struct member *m = small;
	size_t n = json_object_size(v);
	size_t i = 0;
	const char *key;
	json_t *val;
	int rc;

	if (n > sizeof(small) / sizeof(small[0])) {
		m = malloc(n * sizeof(*m));
		if (!m)
			return SL_ENOMEM;
	}
	json_object_foreach((json_t *)v, key, val) {
		m[i].key = key;
		m[i].len = json_object_iter_key_len(
		    json_object_key_to_iter(key));
		m[i].val = val;
		i++;
	}
	if (n <= sizeof(small) / sizeof(small[0]))
		sort_members(m, n);
	else
		qsort(m, n, sizeof(*m), keysort);
	rc = sl_buf_addc(out, '{');
	for (i = 0; !rc && i < n; i++) {
		if (i)
			rc = sl_buf_addc(out, ',');
		if (!rc)
			rc = sl_jcs_write_string(out, m[i].key, m[i].len);
		if (!rc)
			rc = sl_buf_addc(out, ':');
		if (!rc)
			rc = write_value(out, m[i].val, depth + 1, e);
	}
	if (m != small)
		free(m);
	return rc ? rc : sl_buf_addc(out, '}');
}

static int write_value(struct sl_buf *out, const json_t *v, int depth,
    struct sl_err *e)
{
	int rc = 0;

	/* @depth counts containers, as the reader and sl_jcs_scan do: a
	 * scalar inside the 16th level is fine, a 17th container is not. */
	if ((json_is_object(v) || json_is_array(v)) &&
	    depth > SL_JSON_MAX_DEPTH)
		return sl_err_set(e, SL_EINVAL, "nested deeper than %d levels",
		    SL_JSON_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_NULL:
		return sl_buf_adds(out, "null");
	case JSON_TRUE:
		return sl_buf_adds(out, "true");
	case JSON_FALSE:
		return sl_buf_adds(out, "false");
	case JSON_INTEGER: {
		long long n = (long long)json_integer_value(v);

		if (n > SL_JSON_MAX_INT || n < -SL_JSON_MAX_INT)
			return sl_err_set(e, SL_EINVAL,
			    "integer %lld is outside +/-(2^53-1)", n);
		return sl_buf_addi(out, n);
	}
	case JSON_REAL:
		return sl_err_set(e, SL_EINVAL,
		    "numbers must be integers (no fraction or exponent)");
	case JSON_STRING:
		return sl_jcs_write_string(out, json_string_value(v),
		    json_string_length(v));
	case JSON_ARRAY: {
		size_t i;

		rc = sl_buf_addc(out, '[');
		for (i = 0; !rc && i < json_array_size(v); i++) {
			if (i)
				rc = sl_buf_addc(out, ',');
			if (!rc)
				rc = write_value(out, json_array_get(v, i),
				    depth + 1, e);
		}
		return rc ? rc : sl_buf_addc(out, ']');
	}
	case JSON_OBJECT:
		return write_object(out, v, depth, e);
	}
	return SL_EINVAL;
}

int sl_jcs_write(struct sl_buf *out, const json_t *v, struct sl_err *e)
{
	int rc = write_value(out, v, 1, e);

	if (rc == SL_ETOOBIG)
		sl_err_set(e, rc, "canonical form is larger than %zu bytes",
		    out->max);
	else if (rc == SL_ENOMEM)
		sl_err_set(e, rc, "out of memory");
	return rc;
}

/* ---- scanner --------------------------------------------------------- */

struct scan {
	const uint8_t *base;
	const uint8_t *p;
	const uint8_t *end;
	struct sl_err *e;
};

/* 0 plain, 1 quote, 2 backslash, 3 control, 4 non-ASCII */
static const uint8_t strclass[256] = {
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
};

static int bad(struct scan *s, const char *what)
{
	return sl_err_set(s->e, SL_EINVAL, "not canonical JSON at byte %zu: %s",
	    (size_t)(s->p - s->base), what);
}

static int cont(uint8_t c, uint8_t lo, uint8_t hi)
{
	return c >= lo && c <= hi;
}

size_t sl_jcs_utf8_len(const uint8_t *p, size_t left)
{
	uint8_t c = p[0];

	if (c >= 0xc2 && c <= 0xdf)
		return left >= 2 && cont(p[1], 0x80, 0xbf) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		uint8_t lo = c == 0xe0 ? 0xa0 : 0x80;
		uint8_t hi = c == 0xed ? 0x9f : 0xbf; /* no surrogates */

		return left >= 3 && cont(p[1], lo, hi) &&
		    cont(p[2], 0x80, 0xbf) ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		uint8_t lo = c == 0xf0 ? 0x90 : 0x80;
		uint8_t hi = c == 0xf4 ? 0x8f : 0xbf;

		return left >= 4 && cont(p[1], lo, hi) &&
		    cont(p[2], 0x80, 0xbf) && cont(p[3], 0x80, 0xbf) ? 4 : 0;
	}
	return 0;
}

/* Validate one UTF-8 sequence at s->p (a byte >= 0x80), RFC 3629. */
static int scan_utf8(struct scan *s)
{
	size_t n = sl_jcs_utf8_len(s->p, (size_t)(s->end - s->p));

	if (!n)
		return bad(s, "invalid UTF-8");
	s->p += n;
	return 0;
}

static int is_lhex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * Nonzero when one of the 8 bytes in w needs a closer look: a quote, a
 * backslash, a control character or a non-ASCII byte. Plain text is
 * then skipped 8 bytes at a time (the verifier spends most of its time
 * here).
 */
static uint64_t special8(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"');
	uint64_t b = w ^ (ONES * '\\');

	/* "some byte < 0x20", "some byte == 0" (after the xors) and the
	 * high bits: exact as a yes/no answer (Bit Twiddling Hacks). */
	return (((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) |
	    ((b - ONES) & ~b) | w) & HIGHS;
}

/* Advance p over plain string bytes, as far as it can cheaply. Static
 * so that the verifier's scanner has it inlined. */
static inline const uint8_t *skip_plain(const uint8_t *p, const uint8_t *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(0x20);

	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		/* signed compare: bytes >= 0x80 are negative, so "< 0x20"
		 * catches control characters and non-ASCII at once */
		__m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote),
		    _mm_cmpeq_epi8(v, bslash)), _mm_cmplt_epi8(v, space));
		int bits = _mm_movemask_epi8(m);

		if (bits)
			return p + __builtin_ctz((unsigned)bits);
		p += 16;
	}
#endif
	while (end - p >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		if (special8(w))
			break;
		p += 8;
	}
	return p;
}

const uint8_t *sl_jcs_skip_plain(const uint8_t *p, const uint8_t *end)
{
	return skip_plain(p, end);
}

/*
 * s->p is at the opening quote; leaves s->p after the closing quote.
 * *plain (if not NULL) is set when the string had no escape and no
 * non-ASCII byte, so its raw bytes compare like its UTF-16 units.
 */
static inline __attribute__((always_inline)) int scan_string_p(
    struct scan *s, int *plain)
{
	int pl = 1;

	s->p++;
	for (;;) {
		s->p = skip_plain(s->p, s->end);
		while (s->p < s->end && strclass[*s->p] == 0)
			s->p++;
		if (s->p >= s->end)
			return bad(s, "unterminated string");
		switch (strclass[*s->p]) {
		case 1:
			s->p++;
			if (plain)
				*plain = pl;
			return 0;
		case 3:
			return bad(s, "raw control character in a string");
		case 4:
			pl = 0;
			if (scan_utf8(s))
				return SL_EINVAL;
			break;
		case 2: {
			uint8_t c;

			pl = 0;
			if (s->end - s->p < 2)
				return bad(s, "unterminated escape");
			c = s->p[1];
			if (c == '"' || c == '\\' || c == 'b' || c == 'f' ||
			    c == 'n' || c == 'r' || c == 't') {
				s->p += 2;
				break;
			}
			if (c != 'u')
				return bad(s, "escape that RFC 8785 does not "
				    "use (only \\\" \\\\ \\b \\f \\n \\r \\t "
				    "\\u00xx)");
			if (s->end - s->p < 6 || s->p[2] != '0' ||
			    s->p[3] != '0' || !is_lhex(s->p[4]) ||
			    !is_lhex(s->p[5]) || s->p[4] > '1')
				return bad(s, "\\u escape of a character "
				    "that must be written as itself, or not "
				    "lowercase hex");
			c = (uint8_t)(hexv(s->p[4]) << 4 | hexv(s->p[5]));
			if (c == 0x08 || c == 0x09 || c == 0x0a || c == 0x0c ||
			    c == 0x0d)
				return bad(s, "\\u escape where RFC 8785 uses "
				    "the short form");
			s->p += 6;
			break;
		}
		}
	}
}

static int scan_string(struct scan *s)
{
	return scan_string_p(s, NULL);
}

/*
 * The common case: a plain ASCII string of fewer than 16 characters,
 * resolved with one 16-byte test. Returns 1 when it was that (s->p is
 * then after the closing quote), 0 to fall back to scan_string_p().
 */
static inline __attribute__((always_inline)) int short_plain(struct scan *s)
{
#ifdef __SSE2__
	if (s->end - s->p >= 17) {
		__m128i v = _mm_loadu_si128(
		    (const __m128i *)(const void *)(s->p + 1));
		__m128i m = _mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
		    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
		    _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
		int bits = _mm_movemask_epi8(m);

		if (bits) {
			int j = __builtin_ctz((unsigned)bits);

			if (s->p[1 + j] == '"') {
				s->p += j + 2;
				return 1;
			}
		}
	}
#else
	(void)s;
#endif
	return 0;
}

static int scan_number(struct scan *s)
{
	const uint8_t *start = s->p;
	uint64_t v = 0;
	int neg = 0;
	int digits = 0;

	if (*s->p == '-') {
		neg = 1;
		s->p++;
	}
	if (s->p >= s->end || *s->p < '0' || *s->p > '9')
		return bad(s, "malformed number");
	if (*s->p == '0') {
		s->p++;
		if (neg)
			return bad(s, "-0 is written 0");
		if (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			return bad(s, "leading zero");
	} else {
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
			if (++digits > 16)
				return bad(s, "integer beyond 2^53-1");
			v = v * 10 + (uint64_t)(*s->p - '0');
			s->p++;
		}
		if (v > (uint64_t)SL_JSON_MAX_INT)
			return bad(s, "integer beyond 2^53-1");
	}
	if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'))
		return bad(s, "fraction or exponent (integers only)");
	(void)start;
	return 0;
}

static int scan_value(struct scan *s, int depth, struct sl_jcs_member *top,
    size_t cap, size_t *ntop);

static int scan_object(struct scan *s, int depth, struct sl_jcs_member *top,
    size_t cap, size_t *ntop)
{
	const uint8_t *pk = NULL;
	size_t pklen = 0;
	size_t count = 0;
	int pkplain = 0;

	if (depth > SL_JSON_MAX_DEPTH)
		return bad(s, "nested deeper than 16 levels");
	s->p++;
	if (s->p < s->end && *s->p == '}') {
		s->p++;
		goto done;
	}
	for (;;) {
		const uint8_t *k;
		size_t klen;
		const uint8_t *val;
		int kplain = 0;

		if (s->p >= s->end || *s->p != '"')
			return bad(s, "expected a key");
		k = s->p + 1;
		if (short_plain(s))
			kplain = 1;
		else if (scan_string_p(s, &kplain))
			return SL_EINVAL;
		klen = (size_t)(s->p - 1 - k);
		if (pk) {
			int c;

			if (pkplain && kplain) {
				/* Keys are short and differ early: a loop
				 * beats a call to memcmp here. */
				size_t m = pklen < klen ? pklen : klen;
				size_t j = 0;

				/* 8 bytes at a time over the common prefix */
				while (j + 8 <= m) {
					uint64_t a;
					uint64_t b;

					memcpy(&a, pk + j, 8);
					memcpy(&b, k + j, 8);
					if (a != b)
						break;
					j += 8;
				}
				while (j < m && pk[j] == k[j])
					j++;
				if (j < m)
					c = pk[j] < k[j] ? -1 : 1;
				else
					c = pklen == klen ? 0 :
					    (pklen < klen ? -1 : 1);
			} else {
				c = sl_jcs_keycmp(pk, pklen, k, klen);
			}

			if (c == 0)
				return bad(s, "duplicate key");
			if (c > 0)
				return bad(s, "keys not in RFC 8785 order");
		}
		pk = k;
		pklen = klen;
		pkplain = kplain;
		if (s->p >= s->end || *s->p != ':')
			return bad(s, "expected ':' (no whitespace allowed)");
		s->p++;
		val = s->p;
		/* most values are strings: no detour through scan_value */
		if (s->p < s->end && *s->p == '"') {
			if (!short_plain(s) && scan_string_p(s, NULL))
				return SL_EINVAL;
		} else if (scan_value(s, depth, NULL, 0, NULL)) {
			return SL_EINVAL;
		}
		if (top) {
			if (count >= cap)
				return bad(s, "too many members");
			top[count].key = k;
			top[count].key_len = klen;
			top[count].val = val;
			top[count].val_len = (size_t)(s->p - val);
		}
		count++;
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			break;
		}
		return bad(s, "expected ',' or '}' (no whitespace allowed)");
	}
done:
	if (ntop)
		*ntop = count;
	return 0;
}

static int scan_value(struct scan *s, int depth, struct sl_jcs_member *top,
    size_t cap, size_t *ntop)
{
	if (s->p >= s->end)
		return bad(s, "unexpected end");
	switch (*s->p) {
	case '{':
		return scan_object(s, depth + 1, top, cap, ntop);
	case '[':
		if (depth + 1 > SL_JSON_MAX_DEPTH)
			return bad(s, "nested deeper than 16 levels");
		s->p++;
		if (s->p < s->end && *s->p == ']') {
			s->p++;
			return 0;
		}
		for (;;) {
			if (scan_value(s, depth + 1, NULL, 0, NULL))
				return SL_EINVAL;
			if (s->p < s->end && *s->p == ',') {
				s->p++;
				continue;
			}
			if (s->p < s->end && *s->p == ']') {
				s->p++;
				return 0;
			}
			return bad(s, "expected ',' or ']' (no whitespace "
			    "allowed)");
		}
	case '"':
		return scan_string(s);
	case 't':
		if (s->end - s->p >= 4 && !memcmp(s->p, "true", 4)) {
			s->p += 4;
			return 0;
		}
		break;
	case 'f':
		if (s->end - s->p >= 5 && !memcmp(s->p, "false", 5)) {
			s->p += 5;
			return 0;
		}
		break;
	case 'n':
		if (s->end - s->p >= 4 && !memcmp(s->p, "null", 4)) {
			s->p += 4;
			return 0;
		}
		break;
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return scan_number(s);
		break;
	}
	return bad(s, "unexpected character (whitespace or not JSON)");
}

int sl_jcs_scan(struct sl_jcs_member *top, size_t cap, size_t *ntop,
    const uint8_t *p, size_t n, struct sl_err *e)
{
	struct scan s = { p, p, p + n, e };

	*ntop = 0;
	if (n == 0 || *p != '{')
		return bad(&s, "an entry must be a JSON object");
	if (scan_object(&s, 1, top, cap, ntop))
		return SL_EINVAL;
	if (s.p != s.end)
		return bad(&s, "bytes after the end of the object");
	return 0;
}

int sl_jcs_scan_value(size_t *len, const uint8_t *p, size_t n, int depth,
    struct sl_err *e)
{
	struct scan s = { p, p, p + n, e };

	*len = 0;
	if (scan_value(&s, depth - 1, NULL, 0, NULL))
		return SL_EINVAL;
	*len = (size_t)(s.p - p);
	return 0;
}
