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
#include <stdlib.h>
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
/* For the fast way in: the schema's rows, the fields it handles by name,
 * and each key id's place in canonical (RFC 8785) order. */
static const struct sl_field *fld;
static size_t nfld;
static int f_child_id = -1, f_child_ref = -1, f_agency = -1, f_org = -1,
    f_rid = -1, f_did = -1;
static uint8_t rank_of[2 * SL_RECORD_VIEW_FIELDS];
/* Per record type (its position in record_type's enumeration), the ids
 * of the fields it cannot be placed without. */
static uint64_t req_ids[8][(2 * SL_RECORD_VIEW_FIELDS + 63) / 64];
/* A recipient's keys (the schema's, sl_schema_recipient_key) in
 * canonical order; a recipient's slots follow it. */
static const char *const recip_keys[4] = {
	"agency_type", "agency_type_text", "org", "role"
};

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

static int key_find(const uint8_t *p, size_t n);

/* The schema index of a field name (keys_build, once the keys are in). */
static int named(const char *name)
{
	return key_find((const uint8_t *)name, strlen(name));
}

static int id_name_cmp(const void *a, const void *b)
{
	return strcmp(ids[*(const int *)a].name, ids[*(const int *)b].name);
}

/* Schema names are ASCII, so byte order is RFC 8785's UTF-16 order. */
static void ranks_build(void)
{
	int order[2 * SL_RECORD_VIEW_FIELDS];
	int n = 0;
	int i;

	for (i = 0; i < 2 * SL_RECORD_VIEW_FIELDS; i++)
		if (ids[i].name && ids[i].name[0])
			order[n++] = i;
	qsort(order, (size_t)n, sizeof(order[0]), id_name_cmp);
	for (i = 0; i < n; i++)
		rank_of[order[i]] = (uint8_t)i;
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
	fld = f;
	nfld = nf < SL_RECORD_VIEW_FIELDS ? nf : SL_RECORD_VIEW_FIELDS;
	f_child_id = named("child_id");
	f_child_ref = named("child_ref");
	f_agency = named("deciding_agency_type");
	f_org = named("organisation_id");
	f_rid = named("record_id");
	f_did = named("decision_id");
	ranks_build();
	for (i = 0; i < 4; i++)         /* the schema changed: stand down */
		if (!sl_schema_recipient_key(recip_keys[i]))
			f_agency = -1;
	for (i = 0; i < nfld; i++) {
		if (f[i].req != SL_REQ_STRUCT)
			continue;
		for (j = 0; j < 8 && f[rt_field].values &&
		    f[rt_field].values[j]; j++)
			if (f[i].types & sl_schema_rtype(
			    f[rt_field].values[j]))
				req_ids[j][i / 64] |= UINT64_C(1) << (i % 64);
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

/* ---- the fast way in ------------------------------------------------ */

/*
 * What sl_record_intake() proves of a body, piece by piece, is what the
 * full way checks: the reader's grammar and UTF-8 (sl_json_parse), the
 * schema's types, enumerations, unknown and service fields and required
 * fields (sl_schema_validate, through the same predicates), and that the
 * bytes it copies are the ones sl_jcs_write would write. Where it is not
 * sure, it returns "not taken", never "bad": the full way judges and
 * names the problem. tests/check_record.c runs the two side by side on
 * good records and on thousands of broken ones.
 */

enum { LK_RAW, LK_SET, LK_RECIP, LK_REF };

struct lane_m {
	uint8_t rank;
	uint8_t kind;             /* LK_*: how it is written */
	uint16_t id;              /* key id (field i, companion 96 + i) */
	const uint8_t *v;         /* the value's bytes in the body */
	uint32_t n;
};

struct lane {
	struct lane_m m[2 * SL_RECORD_VIEW_FIELDS];
	size_t nm;
	uint64_t seen[(2 * SL_RECORD_VIEW_FIELDS + 63) / 64];
	struct {
		const uint8_t *v[4];
		uint32_t n[4];
	} rc[SL_SCHEMA_RECIPIENTS_MAX];
	size_t nrc;
	uint8_t pos[2 * SL_RECORD_VIEW_FIELDS];   /* id -> its member */
	uint8_t slot[2 * SL_RECORD_VIEW_FIELDS];  /* rank -> its member */
	uint64_t used[(2 * SL_RECORD_VIEW_FIELDS + 63) / 64];   /* ranks */
	char ref[SL_PSEUDO_LEN + 1];
};

#define LS_ESC 1                  /* the string has an escape */
#define LS_HIGH 2                 /* ... a byte >= 0x80 */

static const uint8_t *ws(const uint8_t *p, const uint8_t *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	return p;
}

static int is_lhex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/*
 * The string at p (its opening quote) when its bytes are already the
 * ones RFC 8785 writes for it: valid UTF-8 (the reader's own test), no
 * raw control character, and only the escapes the canonical writer uses
 * (\" \\ \b \f \n \r \t, \u00xx in lower case for the other control
 * characters but U+0000). Returns the end (past the closing quote), its
 * decoded length in *dlen and LS_* in *fl; NULL otherwise.
 */
static const uint8_t *lane_string(const uint8_t *p, const uint8_t *end,
    size_t *dlen, unsigned *fl)
{
	const uint8_t *s = ++p;
	size_t shrink = 0;
	unsigned f = 0;

	for (;;) {
		uint8_t c;

		p = sl_jcs_skip_plain(p, end);
		if (p >= end)
			return NULL;
		c = *p;
		if (c == '"')
			break;
		if (c >= 0x80) {
			size_t l = sl_jcs_utf8_len(p, (size_t)(end - p));

			if (!l)
				return NULL;
			p += l;
			f |= LS_HIGH;
			continue;
		}
		if (c < 0x20)
			return NULL;
		if (c != '\\') {
			p++;
			continue;
		}
		if (end - p < 2)
			return NULL;
		c = p[1];
		f |= LS_ESC;
		if (c == '"' || c == '\\' || c == 'b' || c == 'f' ||
		    c == 'n' || c == 'r' || c == 't') {
			p += 2;
			shrink += 1;
			continue;
		}
		if (c != 'u' || end - p < 6 || p[2] != '0' || p[3] != '0' ||
		    (p[4] != '0' && p[4] != '1') || !is_lhex(p[5]))
			return NULL;
		c = (uint8_t)((p[4] - '0') << 4 | (p[5] <= '9' ? p[5] - '0' :
		    p[5] - 'a' + 10));
		if (c == 0 || c == '\b' || c == '\f' || c == '\n' ||
		    c == '\r' || c == '\t')
			return NULL;
		p += 6;
		shrink += 5;
	}
	*dlen = (size_t)(p - s) - shrink;
	*fl = f;
	return p + 1;
}

/* A string without escapes that @t (and @values) accepts; its end. */
static const uint8_t *lane_plain(const uint8_t *p, const uint8_t *end,
    enum sl_ftype t, const char *const *values)
{
	const uint8_t *q;
	size_t dl;
	unsigned fl;

	if (*p != '"' || !(q = lane_string(p, end, &dl, &fl)) ||
	    (fl & LS_ESC) || !sl_schema_string_ok(t, values,
	    (const char *)p + 1, dl))
		return NULL;
	return q;
}

/* An enumeration value of field @field without escapes: its end, and its
 * position in *j. */
static const uint8_t *lane_enum(const uint8_t *p, const uint8_t *end,
    int field, int *j)
{
	const uint8_t *q;
	size_t dl;
	unsigned fl;

	if (*p != '"' || !(q = lane_string(p, end, &dl, &fl)) || fl)
		return NULL;
	*j = enum_find(field, p + 1, dl);
	return *j < 0 ? NULL : q;
}

/* Free text of at most SL_SCHEMA_TEXT_MAX bytes, decoded. */
static const uint8_t *lane_text(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q;
	size_t dl;
	unsigned fl;

	if (*p != '"' || !(q = lane_string(p, end, &dl, &fl)) ||
	    dl > SL_SCHEMA_TEXT_MAX)
		return NULL;
	return q;
}

/* A key at p (plain ASCII, no escapes): its name in *k, *kn; returns
 * where its value starts (past the colon and white space), or NULL. */
static const uint8_t *lane_key(const uint8_t *p, const uint8_t *end,
    const uint8_t **k, size_t *kn)
{
	unsigned fl;

	*k = p + 1;
	if (p >= end || *p != '"' || !(p = lane_string(p, end, kn, &fl)) ||
	    fl)
		return NULL;
	p = ws(p, end);
	if (p >= end || *p != ':')
		return NULL;
	p = ws(p + 1, end);
	return p < end ? p : NULL;
}

/* After a member or an element at *p: 1 at a comma (*p moved past it),
 * 0 at @close (*p past it), -1 at anything else. */
static int lane_next(const uint8_t **p, const uint8_t *end, uint8_t close)
{
	const uint8_t *q = ws(*p, end);

	if (q < end && *q == ',') {
		*p = ws(q + 1, end);
		return 1;
	}
	*p = q + 1;
	return q < end && *q == close ? 0 : -1;
}

static const uint8_t *lane_recipients(struct lane *l, const uint8_t *p,
    const uint8_t *end)
{
	p = ws(p + 1, end);
	if (p < end && *p == ']')
		return p + 1;
	for (;;) {
		unsigned have = 0;
		int more;

		if (p >= end || *p != '{' || l->nrc == SL_SCHEMA_RECIPIENTS_MAX)
			return NULL;
		memset(&l->rc[l->nrc], 0, sizeof(l->rc[0]));
		p = ws(p + 1, end);
		do {
			const uint8_t *k, *q;
			size_t dl;
			int i, j;

			if (!(p = lane_key(p, end, &k, &dl)))
				return NULL;
			for (i = 0; i < 4; i++)
				if (strlen(recip_keys[i]) == dl &&
				    !memcmp(k, recip_keys[i], dl))
					break;
			if (i == 4 || (have & 1u << i))
				return NULL;
			have |= 1u << i;
			q = i == 0 ? lane_enum(p, end, f_agency, &j) :
			    i == 1 ? lane_text(p, end) :
			    lane_plain(p, end, SL_FT_ID, NULL);
			if (!q)
				return NULL;
			l->rc[l->nrc].v[i] = p;
			l->rc[l->nrc].n[i] = (uint32_t)(q - p);
			p = q;
			more = lane_next(&p, end, '}');
			if (more < 0)
				return NULL;
		} while (more);
		if (!(have & 1))        /* agency_type is required */
			return NULL;
		l->nrc++;
		switch (lane_next(&p, end, ']')) {
		case 0:
			return p;
		case -1:
			return NULL;
		}
	}
}

static const uint8_t *lane_set(int field, const uint8_t *p,
    const uint8_t *end)
{
	uint32_t have = 0;

	p = ws(p + 1, end);
	if (p < end && *p == ']')
		return p + 1;
	for (;;) {
		int j;

		if (p >= end || !(p = lane_enum(p, end, field, &j)) ||
		    (have & UINT32_C(1) << j))
			return NULL;    /* listed twice: the full way says so */
		have |= UINT32_C(1) << j;
		switch (lane_next(&p, end, ']')) {
		case 0:
			return p;
		case -1:
			return NULL;
		}
	}
}

/* The value at p of schema field @i, checked as its type asks; its end. */
static const uint8_t *lane_value(struct lane *l, struct lane_m *m, int i,
    const uint8_t *p, const uint8_t *end)
{
	const struct sl_field *f = &fld[i];
	int j;

	if (f->flags & SL_F_SERVICE)
		return NULL;
	switch (f->type) {
	case SL_FT_TEXT:
		return lane_text(p, end);
	case SL_FT_ENUM:
		return lane_enum(p, end, i, &j);
	case SL_FT_ENUMSET:
		m->kind = LK_SET;
		return *p == '[' ? lane_set(i, p, end) : NULL;
	case SL_FT_BOOL:
		if (end - p >= 4 && !memcmp(p, "true", 4))
			return p + 4;
		if (end - p >= 5 && !memcmp(p, "false", 5))
			return p + 5;
		return NULL;
	case SL_FT_RECIPIENTS:
		m->kind = LK_RECIP;
		return *p == '[' ? lane_recipients(l, p, end) : NULL;
	case SL_FT_ID:
	case SL_FT_RECORD_ID:
	case SL_FT_DATETIME:
	case SL_FT_VERSION:
	case SL_FT_SIGNATURE:
		return lane_plain(p, end, f->type, f->values);
	}
	return NULL;
}

static int lane_has(const struct lane *l, int id)
{
	return (int)(l->seen[id / 64] >> (id % 64) & 1);
}

/* The writer's cursor: room was made for all of it (sl_buf_room), since a
 * record's canonical form is never longer than its bytes in the body
 * plus what child_ref adds. */
static uint8_t *w_mem(uint8_t *w, const void *p, size_t n)
{
	memcpy(w, p, n);
	return w + n;
}

static uint8_t *w_key(uint8_t *w, int id)
{
	*w++ = '"';
	w = w_mem(w, ids[id].name, ids[id].len);
	*w++ = '"';
	*w++ = ':';
	return w;
}

/* Write @m's member: its key, and its value in canonical form. */
static uint8_t *lane_write(uint8_t *w, const struct lane *l,
    const struct lane_m *m)
{
	const uint8_t *p, *end;
	size_t r, i;
	int first = 1;

	w = w_key(w, m->id);
	switch (m->kind) {
	case LK_REF:
		*w++ = '"';
		w = w_mem(w, l->ref, SL_PSEUDO_LEN);
		*w++ = '"';
		return w;
	case LK_SET:            /* plain strings, white space dropped */
		*w++ = '[';
		for (p = m->v + 1, end = m->v + m->n; p < end; p++) {
			const uint8_t *q;

			if (*p != '"')
				continue;
			q = memchr(p + 1, '"', (size_t)(end - p - 1));
			if (!first)
				*w++ = ',';
			w = w_mem(w, p, (size_t)(q - p + 1));
			first = 0;
			p = q;
		}
		*w++ = ']';
		return w;
	case LK_RECIP:
		*w++ = '[';
		for (r = 0; r < l->nrc; r++) {
			if (r)
				*w++ = ',';
			*w++ = '{';
			first = 1;
			for (i = 0; i < 4; i++) {
				if (!l->rc[r].v[i])
					continue;
				if (!first)
					*w++ = ',';
				*w++ = '"';
				w = w_mem(w, recip_keys[i],
				    strlen(recip_keys[i]));
				*w++ = '"';
				*w++ = ':';
				w = w_mem(w, l->rc[r].v[i], l->rc[r].n[i]);
				first = 0;
			}
			*w++ = '}';
		}
		*w++ = ']';
		return w;
	}
	return w_mem(w, m->v, m->n);
}

/* The value of key id @id, without its quotes (a string field). */
static const uint8_t *lane_str(const struct lane *l, int id, uint32_t *n)
{
	const struct lane_m *m;

	if (id < 0 || !lane_has(l, id)) {
		*n = 0;
		return NULL;
	}
	m = &l->m[l->pos[id]];
	*n = m->n - 2;
	return m->v + 1;
}

/* One record object at p; its end, or NULL when the full way must judge
 * it. */
static const uint8_t *lane_record(struct lane *l, const uint8_t *p,
    const uint8_t *end, struct sl_buf *out, struct sl_record_taken *t,
    const struct sl_pseudo *key)
{
	const uint8_t *start = p;
	struct lane_m *cm;
	uint8_t *w, *w0;
	const uint8_t *rt;
	uint32_t rtn;
	int j, wd;

	l->nm = 0;
	l->nrc = 0;
	memset(l->seen, 0, sizeof(l->seen));
	memset(l->used, 0, sizeof(l->used));
	p = ws(p + 1, end);
	for (;;) {
		const uint8_t *k, *q;
		struct lane_m *nm;
		size_t dl;
		int idx, id;

		if (!(p = lane_key(p, end, &k, &dl)))
			return NULL;
		idx = key_find(k, dl);
		if (idx < 0)
			return NULL;
		id = idx & 0x100 ? SL_RECORD_VIEW_FIELDS + (idx & 0xff) : idx;
		if (lane_has(l, id))
			return NULL;        /* a duplicate key */
		l->seen[id / 64] |= UINT64_C(1) << (id % 64);
		l->pos[id] = (uint8_t)l->nm;
		nm = &l->m[l->nm++];
		nm->rank = rank_of[id];
		nm->kind = LK_RAW;
		nm->id = (uint16_t)id;
		nm->v = p;
		q = idx & 0x100 ? lane_text(p, end) :
		    lane_value(l, nm, idx, p, end);
		if (!q)
			return NULL;
		nm->n = (uint32_t)(q - p);
		p = q;
		idx = lane_next(&p, end, '}');
		if (idx < 0)
			return NULL;
		if (!idx)
			break;
	}
	/* the fields without which the record cannot be placed */
	rt = lane_str(l, rt_field, &rtn);
	if (!rt)
		return NULL;
	j = enum_find(rt_field, rt, rtn);
	if (j < 0 || j >= 8)
		return NULL;
	for (wd = 0; wd < 3; wd++)
		if (req_ids[j][wd] & ~l->seen[wd])
			return NULL;
	/* child_id goes, child_ref (its pseudonym) comes */
	if (f_child_ref < 0 || !lane_has(l, f_child_id))
		return NULL;
	cm = &l->m[l->pos[f_child_id]];
	if (sl_pseudo_child(l->ref, key, (const char *)cm->v + 1, cm->n - 2))
		return NULL;
	cm->id = (uint16_t)f_child_ref;
	cm->rank = rank_of[f_child_ref];
	cm->kind = LK_REF;
	/* canonical order: each member's place is its key's rank */
	for (j = 0; j < (int)l->nm; j++) {
		l->slot[l->m[j].rank] = (uint8_t)j;
		l->used[l->m[j].rank / 64] |= UINT64_C(1) <<
		    (l->m[j].rank % 64);
	}
	if (sl_buf_room(out, (size_t)(p - start) + 2 * SL_PSEUDO_LEN))
		return NULL;
	w0 = w = out->data + out->len;
	*w++ = '{';
	for (wd = 0; wd < 3; wd++) {
		uint64_t bits = l->used[wd];

		while (bits) {
			int r = wd * 64 + __builtin_ctzll(bits);

			bits &= bits - 1;
			if (w != w0 + 1)
				*w++ = ',';
			w = lane_write(w, l, &l->m[l->slot[r]]);
		}
	}
	*w++ = '}';
	t->canon = out->len;
	t->canon_len = (size_t)(w - w0);
	out->len += t->canon_len;
	out->data[out->len] = '\0';
	t->org = lane_str(l, f_org, &t->org_len);
	t->rid = lane_str(l, f_rid, &t->rid_len);
	t->did = lane_str(l, f_did, &t->did_len);
	t->rtype = rt;
	t->rtype_len = rtn;
	return p;
}

size_t sl_record_intake(struct sl_buf *out, struct sl_record_taken *t,
    size_t cap, int *batch, const uint8_t *b, size_t n,
    const struct sl_pseudo *key)
{
	const uint8_t *end = b + n;
	const uint8_t *p;
	/* per thread: a request's scratch, not a malloc each time */
	static _Thread_local struct lane lane;
	struct lane *l = &lane;
	size_t k = 0;

	pthread_once(&keys_once, keys_build);
	if (f_child_id < 0 || f_agency < 0 || f_org < 0 || cap == 0)
		return 0;
	p = ws(b, end);
	*batch = p < end && *p == '[';
	if (*batch)
		p = ws(p + 1, end);
	while (p < end && *p == '{' && k < cap) {
		p = lane_record(l, p, end, out, &t[k], key);
		if (!p)
			break;
		k++;
		p = ws(p, end);
		if (!*batch || p >= end || *p != ',')
			break;
		p = ws(p + 1, end);
	}
	if (!p || !k)
		return 0;
	if (*batch) {
		if (p >= end || *p != ']')
			return 0;
		p = ws(p + 1, end);
	}
	return p == end ? k : 0;
}
