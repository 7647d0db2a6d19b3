#include "formats/record.h"
#include "formats/json.h"
#include "formats/jcs.h"
#include "formats/rfc3339.h"
#include "formats/schema.h"

#include <pthread.h>
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

static void keys_build(void)
{
	size_t nf;
	const struct sl_field *f = sl_schema_fields(&nf);
	size_t i;

	for (i = 0; i < nf && i < SL_RECORD_VIEW_FIELDS; i++) {
		key_put(f[i].name, (int)i);
		if (f[i].flags & SL_F_OTHER_TEXT) {
			snprintf(text_names[i], sizeof(text_names[i]), "%s_text",
			    f[i].name);
			key_put(text_names[i], (int)i | 0x100);
		}
	}
}

static int key_find(const uint8_t *p, size_t n)
{
	size_t h = key_hash(p, n);

	pthread_once(&keys_once, keys_build);
	while (keys[h].name) {
		if (keys[h].len == n && !memcmp(keys[h].name, p, n))
			return keys[h].idx;
		h = (h + 1) & (KEYS_SLOTS - 1);
	}
	return -1;
}

int sl_record_field_index(const char *name, size_t n)
{
	int i = key_find((const uint8_t *)name, n);

	return i >= 0 && !(i & 0x100) ? i : -1;
}

/* The end of the string starting at p (its opening quote), or NULL. */
static const uint8_t *skip_string(const uint8_t *p, const uint8_t *end)
{
	p++;
	while (p < end) {
		const uint8_t *q = p;
		const uint8_t *b;

		/* most values are short: a plain loop beats a memchr call */
		while (q < end && *q != '"' && q - p < 32)
			q++;
		if (q < end && *q != '"')
			q = memchr(q, '"', (size_t)(end - q));
		if (!q || q >= end)
			return NULL;
		for (b = q; b > p && b[-1] == '\\'; b--)
			;
		if (!((q - b) & 1))
			return q + 1;
		p = q + 1;
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
	int rt;

	memset(v, 0, sizeof(*v));
	if (n < 2 || p[0] != '{' || end[-1] != '}')
		return sl_err_set(e, SL_EINVAL, "a record is a JSON object");
	end--;                      /* the closing brace */
	while (q < end) {
		const uint8_t *k = q, *ke, *ve;
		int idx;

		if (*k != '"' || !(ke = skip_string(k, end)) || ke >= end ||
		    *ke != ':' || !(ve = skip_value(ke + 1, end)))
			return sl_err_set(e, SL_EINVAL, "the record is not "
			    "canonical JSON near byte %zu", (size_t)(q - p));
		idx = key_find(k + 1, (size_t)(ke - k - 2));
		if (idx >= 0 && (idx & 0x100)) {
			v->text[idx & 0xff] = ke + 1;
			v->tlen[idx & 0xff] = (uint32_t)(ve - ke - 1);
		} else if (idx >= 0) {
			v->val[idx] = ke + 1;
			v->len[idx] = (uint32_t)(ve - ke - 1);
		}   /* else a newer schema's field: not ours to judge */
		q = ve;
		if (q < end && *q == ',')
			q++;
		else if (q != end)
			return sl_err_set(e, SL_EINVAL, "the record is not "
			    "canonical JSON near byte %zu", (size_t)(q - p));
	}
	rt = sl_record_field_index("record_type", 11);
	if (v->val[rt] && v->len[rt] > 2) {
		char name[32];

		if (v->len[rt] - 2 < sizeof(name)) {
			memcpy(name, v->val[rt] + 1, v->len[rt] - 2);
			name[v->len[rt] - 2] = '\0';
			v->type = sl_schema_rtype(name);
		}
	}
	return 0;
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

size_t sl_record_value_chars(const uint8_t *p, size_t n)
{
	const uint8_t *b, *t;
	size_t c = 0;

	if (!p || !string_body(&b, &t, p, n))
		return 0;
	while (b < t) {
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
