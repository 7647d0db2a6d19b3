#include "formats/record.h"
#include "formats/json.h"
#include "formats/jcs.h"
#include "formats/rfc3339.h"
#include "formats/schema.h"

#include <pthread.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <string.h>

int sl_record_prepare(json_t *rec, const struct sl_pseudo *key,
    const char *base, struct sl_err *e)
{
	char ref[SL_PSEUDO_LEN + 1];
	const json_t *id;
	int rc;

	rc = sl_json_check(rec, base, e);
	if (!rc)
		rc = sl_schema_validate(rec, base, e);
	if (rc)
		return rc;
	id = json_object_get(rec, "child_id");
	rc = sl_pseudo_child(ref, key, json_string_value(id),
	    json_string_length(id));
	if (rc)
		return sl_err_set(e, rc, "cannot pseudonymise child_id");
	/* set first, so a failure leaves the record as it was */
	if (json_object_set_new(rec, "child_ref", json_string(ref)))
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	json_object_del(rec, "child_id");
	return 0;
}

/* ---- views ---------------------------------------------------------- */

/* Key -> schema index (bit 8 set for a "_text" companion), an open
 * addressing table built once: a million records times thirty keys is
 * too many binary searches. */
#define KEYS_SLOTS 512
static struct {
	const char *name;
	size_t len;
	int idx;
} keys[KEYS_SLOTS];
static char text_names[SL_RECORD_VIEW_FIELDS][140];
static pthread_once_t keys_once = PTHREAD_ONCE_INIT;

/* (field, enumeration value) -> the value's position, likewise: every
 * record carries a dozen coded values. */
#define VALS_SLOTS 4096
static struct {
	const char *s;
	uint32_t len;
	int field;
	int j;
} vals[VALS_SLOTS];
static uint8_t coded[SL_RECORD_VIEW_FIELDS];   /* 1 enum(set), 2 bool */
static int rt_field;                           /* record_type's index */

/*
 * The records of a log repeat one another's shape: the same keys in the
 * same (sorted) order, coded fields with few values. Each thread
 * remembers which key followed each key last time, and each coded
 * field's last single value; a record that repeats them is read by
 * comparing bytes, without finding the string's end or hashing. A guess
 * is only ever a candidate, checked in full (name, closing quote): a
 * wrong one costs a compare. Key ids: field i is i, its "_text"
 * companion SL_RECORD_VIEW_FIELDS + i; the last two ids are the record's
 * start and "a key we do not know".
 */
#define KEY_IDS (2 * SL_RECORD_VIEW_FIELDS + 2)
#define KEY_START (KEY_IDS - 2)
#define KEY_OTHER (KEY_IDS - 1)
static struct {
	const char *name;         /* NULL: no such field */
	uint32_t len;
	int idx;                  /* as key_find says */
} ids[2 * SL_RECORD_VIEW_FIELDS];
static _Thread_local int16_t next_key[KEY_IDS];     /* id + 1, 0 none */
static _Thread_local int16_t last_val[SL_RECORD_VIEW_FIELDS]; /* slot+1 */

/* Cheap and enough for the schema's ~100 names (collisions probe on):
 * length and three letters. */
static size_t key_hash(const uint8_t *p, size_t n)
{
	uint32_t h;

	if (!n)
		return 0;
	h = (uint32_t)n * 2654435761u ^ (uint32_t)p[0] * 40503u ^
	    (uint32_t)p[n - 1] * 9973u ^ (uint32_t)p[n / 2] * 131u ^
	    (uint32_t)p[n > 6 ? n - 6 : 0] * 7u;
	return (h ^ (h >> 9)) & (KEYS_SLOTS - 1);
}

/* Equality of short names: inline, eight bytes at a time, the last eight
 * (or four) overlapping the ones before rather than a byte loop (a call
 * to memcmp costs more than the compare, fifty times a record). */
static inline int same(const uint8_t *a, const char *b, size_t n)
{
	uint64_t x, y;
	uint32_t s, t;
	size_t i;

	if (n >= 8) {
		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				return 0;
		}
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		memcpy(&s, a, 4);
		memcpy(&t, b, 4);
		if (s != t)
			return 0;
		memcpy(&s, a + n - 4, 4);
		memcpy(&t, b + n - 4, 4);
		return s == t;
	}
	for (i = 0; i < n; i++)
		if (a[i] != (uint8_t)b[i])
			return 0;
	return 1;
}

static void key_put(const char *name, int idx)
{
	size_t n = strlen(name);
	size_t h = key_hash((const uint8_t *)name, n);

	while (keys[h].name)
		h = (h + 1) & (KEYS_SLOTS - 1);
	keys[h].name = name;
	keys[h].len = n;
	keys[h].idx = idx;
}

static size_t val_hash(int field, const uint8_t *p, size_t n)
{
	return (key_hash(p, n) * 4 + (size_t)field * 97) & (VALS_SLOTS - 1);
}

static void keys_build(void)
{
	size_t nf;
	const struct sl_field *f = sl_schema_fields(&nf);
	size_t i, j;

	for (i = 0; i < nf && i < SL_RECORD_VIEW_FIELDS; i++) {
		if (f[i].type == SL_FT_BOOL)
			coded[i] = 2;
		if (f[i].type == SL_FT_ENUM || f[i].type == SL_FT_ENUMSET)
			coded[i] = 1;
		for (j = 0; f[i].values && f[i].values[j] && j < 31; j++) {
			size_t n = strlen(f[i].values[j]);
			size_t h = val_hash((int)i,
			    (const uint8_t *)f[i].values[j], n);

			while (vals[h].s)
				h = (h + 1) & (VALS_SLOTS - 1);
			vals[h].s = f[i].values[j];
			vals[h].len = (uint32_t)n;
			vals[h].field = (int)i;
			vals[h].j = (int)j;
		}
		key_put(f[i].name, (int)i);
		if (!strcmp(f[i].name, "record_type"))
			rt_field = (int)i;
		if (f[i].flags & SL_F_OTHER_TEXT) {
			snprintf(text_names[i], sizeof(text_names[i]), "%s_text",
			    f[i].name);
			key_put(text_names[i], (int)i | 0x100);
		}
		ids[i].name = f[i].name;
		ids[i].len = (uint32_t)strlen(f[i].name);
		ids[i].idx = (int)i;
		ids[SL_RECORD_VIEW_FIELDS + i].name = text_names[i];
		ids[SL_RECORD_VIEW_FIELDS + i].len =
		    (uint32_t)strlen(text_names[i]);
		ids[SL_RECORD_VIEW_FIELDS + i].idx = (int)i | 0x100;
	}
}

static int key_find(const uint8_t *p, size_t n)
{
	size_t h = key_hash(p, n);

	while (keys[h].name) {
		if (keys[h].len == n && same(p, keys[h].name, n))
			return keys[h].idx;
		h = (h + 1) & (KEYS_SLOTS - 1);
	}
	return -1;
}

/* The slot of (field, p[0..n)) in vals, or -1. */
static int enum_slot(int field, const uint8_t *p, size_t n)
{
	size_t h = val_hash(field, p, n);

	while (vals[h].s) {
		if (vals[h].field == field && vals[h].len == n &&
		    same(p, vals[h].s, n))
			return (int)h;
		h = (h + 1) & (VALS_SLOTS - 1);
	}
	return -1;
}

static int enum_find(int field, const uint8_t *p, size_t n)
{
	int h = enum_slot(field, p, n);

	return h < 0 ? -1 : vals[h].j;
}

int sl_record_enum_code(int field, const char *s, size_t n)
{
	pthread_once(&keys_once, keys_build);
	return enum_find(field, (const uint8_t *)s, n);
}

/* The code of a coded field's value p[0..n) (see struct sl_record_view);
 * a single value's slot in vals also goes to *slot. */
static uint32_t code_of(int field, const uint8_t *p, size_t n, int *slot)
{
	uint32_t c = 0;
	size_t off;
	int j;

	if (coded[field] == 2)
		return n == 4 && !memcmp(p, "true", 4) ? 2 :
		    n == 5 && !memcmp(p, "false", 5) ? 1 : SL_RECORD_CODE_BAD;
	if (p[0] == '"') {
		*slot = n >= 2 ? enum_slot(field, p + 1, n - 2) : -1;
		return *slot < 0 ? SL_RECORD_CODE_BAD :
		    UINT32_C(1) << vals[*slot].j;
	}
	if (p[0] != '[' || n < 2)
		return SL_RECORD_CODE_BAD;
	/* an array of plain strings (enumeration values never need escapes;
	 * one that has them is not a value) */
	for (off = 1; off < n - 1;) {
		const uint8_t *q = p + off;
		const uint8_t *e;

		if (*q != '"' || !(e = memchr(q + 1, '"', n - 1 - off - 1)))
			return c | SL_RECORD_CODE_BAD;
		j = enum_find(field, q + 1, (size_t)(e - q - 1));
		c |= j < 0 ? SL_RECORD_CODE_BAD : UINT32_C(1) << j;
		off = (size_t)(e - p) + 2;      /* past the quote and comma */
	}
	return c;
}

int sl_record_field_index(const char *name, size_t n)
{
	int i;

	pthread_once(&keys_once, keys_build);
	i = key_find((const uint8_t *)name, n);

	return i >= 0 && !(i & 0x100) ? i : -1;
}

/* The end of the string starting at p (its opening quote), or NULL.
 * Sixteen bytes at a time: a record is mostly strings. */
static const uint8_t *skip_string(const uint8_t *p, const uint8_t *end)
{
	p++;
#ifdef __SSE2__
	while (end - p >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
		int bits = _mm_movemask_epi8(_mm_or_si128(
		    _mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
		    _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
		int j;

		if (!bits) {
			p += 16;
			continue;
		}
		j = __builtin_ctz((unsigned)bits);
		if (p[j] == '"')
			return p + j + 1;
		p += j + 2;             /* a backslash and what it escapes */
	}
#endif
	while (p < end) {
		if (*p == '"')
			return p + 1;
		p += *p == '\\' ? 2 : 1;
	}
	return NULL;
}

/* The end of the value starting at p, trusting canonical form (bounds are
 * still kept on anything). */
static const uint8_t *skip_value(const uint8_t *p, const uint8_t *end)
{
	int depth = 0;

	if (p >= end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']')
			p++;
		return p;
	}
	while (p < end) {
		uint8_t c = *p;

		if (c == '"') {
			p = skip_string(p, end);
			if (!p)
				return NULL;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth == 0)
				return p + 1;
		}
		p++;
	}
	return NULL;
}

int sl_record_view_scan(struct sl_record_view *v, const uint8_t *p,
    size_t n, struct sl_err *e)
{
	const uint8_t *end = p + n;
	const uint8_t *q = p + 1;
	int prev = KEY_START;
	int rt;

	/* key_find reads the tables: built once, here rather than per key */
	pthread_once(&keys_once, keys_build);
	memset(v, 0, sizeof(*v));
	if (n < 2 || p[0] != '{' || end[-1] != '}')
		return sl_err_set(e, SL_EINVAL, "a record is a JSON object");
	end--;                      /* the closing brace */
	while (q < end) {
		const uint8_t *k = q, *ke, *ve;
		int g = next_key[prev] - 1;
		int idx, slot;

		if (g >= 0 && (size_t)(end - k) > ids[g].len + 2 &&
		    k[0] == '"' && k[ids[g].len + 1] == '"' &&
		    same(k + 1, ids[g].name, ids[g].len)) {
			ke = k + ids[g].len + 2;   /* the key we expected */
			idx = ids[g].idx;
		} else {
			if (*k != '"' || !(ke = skip_string(k, end)))
				goto bad;
			idx = key_find(k + 1, (size_t)(ke - k - 2));
			g = idx < 0 ? KEY_OTHER : idx & 0x100 ?
			    SL_RECORD_VIEW_FIELDS + (idx & 0xff) : idx;
			next_key[prev] = (int16_t)(idx < 0 ? 0 : g + 1);
		}
		prev = g;
		if (ke >= end || *ke != ':')
			goto bad;
		slot = idx >= 0 && !(idx & 0x100) && coded[idx] == 1 ?
		    last_val[idx] - 1 : -1;
		if (slot >= 0 && (size_t)(end - ke) > vals[slot].len + 2 &&
		    ke[1] == '"' && ke[vals[slot].len + 2] == '"' &&
		    same(ke + 2, vals[slot].s, vals[slot].len)) {
			/* the value this field had last time */
			ve = ke + vals[slot].len + 3;
			v->val[idx] = ke + 1;
			v->len[idx] = (uint32_t)(ve - ke - 1);
			v->code[idx] = UINT32_C(1) << vals[slot].j;
		} else if (!(ve = skip_value(ke + 1, end))) {
			goto bad;
		} else if (idx >= 0 && (idx & 0x100)) {
			v->text[idx & 0xff] = ke + 1;
			v->tlen[idx & 0xff] = (uint32_t)(ve - ke - 1);
		} else if (idx >= 0) {
			v->val[idx] = ke + 1;
			v->len[idx] = (uint32_t)(ve - ke - 1);
			slot = -1;
			if (coded[idx])
				v->code[idx] = code_of(idx, ke + 1,
				    (size_t)(ve - ke - 1), &slot);
			if (slot >= 0)
				last_val[idx] = (int16_t)(slot + 1);
		}   /* else a newer schema's field: not ours to judge */
		q = ve;
		if (q < end && *q == ',')
			q++;
		else if (q != end)
			goto bad;
	}
	rt = rt_field;
	if (v->val[rt] && v->len[rt] > 2) {
		char name[32];

		if (v->len[rt] - 2 < sizeof(name)) {
			memcpy(name, v->val[rt] + 1, v->len[rt] - 2);
			name[v->len[rt] - 2] = '\0';
			v->type = sl_schema_rtype(name);
		}
	}
	return 0;
bad:
	return sl_err_set(e, SL_EINVAL, "the record is not canonical JSON "
	    "near byte %zu", (size_t)(q - p));
}

static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The content of a string value without its quotes, trimmed of plain
 * white space (escaped \n and \t count as white space too). */
static int string_body(const uint8_t **b, const uint8_t **end,
    const uint8_t *p, size_t n)
{
	const uint8_t *s, *t;

	if (n < 2 || p[0] != '"')
		return 0;
	s = p + 1;
	t = p + n - 1;
	for (;;) {
		if (s < t && is_space(*s))
			s++;
		else if (t - s >= 2 && s[0] == '\\' && (s[1] == 'n' ||
		    s[1] == 't' || s[1] == 'r'))
			s += 2;
		else
			break;
	}
	for (;;) {
		if (t > s && is_space(t[-1]))
			t--;
		else if (t - s >= 2 && t[-2] == '\\' && (t[-1] == 'n' ||
		    t[-1] == 't' || t[-1] == 'r') && (t - s < 3 ||
		    t[-3] != '\\'))
			t -= 2;
		else
			break;
	}
	*b = s;
	*end = t;
	return 1;
}

int sl_record_value_present(const uint8_t *p, size_t n)
{
	const uint8_t *b, *t;

	if (!p || !n)
		return 0;
	if (p[0] == '"')
		return string_body(&b, &t, p, n) && t > b;
	if (p[0] == '[')
		return n > 2;
	if (p[0] == 'n')
		return 0;   /* null */
	return 1;
}

size_t sl_record_value_chars(const uint8_t *p, size_t n, size_t max)
{
	const uint8_t *b, *t;
	size_t c = 0;

	if (!p || !string_body(&b, &t, p, n))
		return 0;
	while (b < t && c < max) {
		if (*b == '\\') {
			b += b + 1 < t && b[1] == 'u' ? 6 : 2;
			c++;
			continue;
		}
		c += (*b & 0xc0) != 0x80;
		b++;
	}
	return c;
}

int sl_record_value_is(const uint8_t *p, size_t n, const char *s, size_t sn)
{
	return p && n == sn + 2 && p[0] == '"' && !memcmp(p + 1, s, sn);
}

int sl_record_value_time(int64_t *ms, const uint8_t *p, size_t n)
{
	if (!p || n < 2 || p[0] != '"')
		return SL_EINVAL;
	return sl_rfc3339_parse(ms, (const char *)p + 1, n - 2);
}

int sl_record_value_folded(char *out, size_t cap, const uint8_t *p,
    size_t n)
{
	const uint8_t *b, *t;
	size_t o = 0;

	if (!p || !string_body(&b, &t, p, n))
		return SL_EINVAL;
	if ((size_t)(t - b) >= cap)
		return SL_ETOOBIG;
	while (b < t) {
		uint8_t c = *b++;

		if (c == '\\' && b < t) {
			c = *b++;
			if (c == 'u') {
				b += 4;      /* a control character: not text */
				c = ' ';
			} else if (c == 'n' || c == 't' || c == 'r' ||
			    c == 'b' || c == 'f') {
				c = ' ';
			}
		}
		out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[o] = '\0';
	return 0;
}

int sl_record_value_dup(char **out, const uint8_t *p, size_t n)
{
	json_error_t je;
	json_t *j;

	*out = NULL;
	if (!p || !n || p[0] != '"')
		return SL_EINVAL;
	j = json_loadb((const char *)p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    &je);
	if (!json_is_string(j)) {
		json_decref(j);
		return SL_EINVAL;
	}
	*out = strdup(json_string_value(j));
	json_decref(j);
	return *out ? 0 : SL_ENOMEM;
}
