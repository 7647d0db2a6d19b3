/*
 * A mutator that speaks JSON and the record schema.
 *
 * Byte mutations of a 1.5 KB record almost always break its syntax, and
 * both ways of taking a body then agree trivially. The properties worth
 * testing live at the edge of validity: a value one step outside its
 * enumeration, an enumeration listed twice, a date-time that is almost
 * one, an escape the canonical form writes differently, a member moved
 * or dropped. So half of the mutations parse the input, change one node
 * of the tree the way a client could get it wrong, and write it back in
 * a random layout (key order, indentation, ASCII escapes); the other
 * half are libFuzzer's own. Every target links it; for one whose inputs
 * are not JSON (notes, CSV) it is libFuzzer's own mutation every time.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/schema.h"
#include "tests/fuzz/fuzz.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
    unsigned int seed);

#define NODES 512

static uint32_t rnd(uint32_t *s)
{
	/* xorshift32: enough for choosing, and replayable from the seed */
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static const char *pick(uint32_t *s, const char *const *v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return v[rnd(s) % n];
}

static const char *const datetimes[] = {
	"2026-03-01T09:30:00Z", "2026-03-01T09:30:00.123+01:00",
	"2024-02-29T23:59:59-00:30", "2026-02-29T09:30:00Z",
	"2026-03-01t09:30:00z", "2026-03-01T09:30:00", "2026-13-01T00:00:00Z",
	"2026-03-01T24:00:00Z", "2016-12-31T23:59:60Z", "2026-03-01 09:30:00Z",
	"2026-03-01T09:30:00.Z", "2026-03-01T09:30:00+24:00", "0000-01-01T00:00:00Z",
	"9999-12-31T23:59:59.999999999Z", NULL
};

static const char *const strings[] = {
	"", " ", "x", "other", "01JNE5Q3K8ZP7V4T2M6W9XR1CD",
	"01jne5q3k8zp7v4t2m6w9xr1cd", "81JNE5Q3K8ZP7V4T2M6W9XR1CD",
	"0f8fad5b-d9cb-469f-a165-70867728950e",
	"0F8FAD5B-D9CB-469F-A165-70867728950E", "URN-118832", "URN 118832",
	"caf\xc3\xa9", "\xf0\x9f\x98\x80", "a\"b", "a\\b", "a\nb", "\x7f",
	"\x01", "\xe2\x80\xa8", "\xef\xbb\xbf", "1", "2", "true",
	"=cmd|' /C calc'!A0", NULL
};

/* A value a client might send for schema field @f. */
static json_t *gen_value(uint32_t *s, const struct sl_field *f)
{
	json_t *a;
	size_t i, n;

	switch (rnd(s) % 8) {
	case 0:
		return json_string(pick(s, strings));
	case 1:
		return rnd(s) % 2 ? json_true() : json_integer(
		    (json_int_t)(rnd(s) % 3) - 1);
	case 2:
		return json_string(pick(s, datetimes));
	default:
		break;
	}
	switch (f->type) {
	case SL_FT_ENUM:
		return json_string(pick(s, f->values));
	case SL_FT_ENUMSET:
		a = json_array();
		n = rnd(s) % 4;
		for (i = 0; i < n; i++)
			json_array_append_new(a, json_string(pick(s,
			    f->values)));
		return a;
	case SL_FT_BOOL:
		return json_boolean(rnd(s) % 2);
	case SL_FT_DATETIME:
		return json_string(pick(s, datetimes));
	case SL_FT_RECIPIENTS:
		a = json_array();
		n = rnd(s) % 3;
		for (i = 0; i < n; i++)
			json_array_append_new(a, json_pack("{s:s,s:s,s:s}",
			    "agency_type", "police", "org", pick(s, strings),
			    "role", "duty team"));
		return a;
	case SL_FT_TEXT:
		n = rnd(s) % 4;
		if (n == 0) {
			/* either side of the longest text */
			char *big = malloc(SL_SCHEMA_TEXT_MAX + 2);
			json_t *v;

			n = SL_SCHEMA_TEXT_MAX - 1 + rnd(s) % 3;
			memset(big, 'a', n);
			big[n] = '\0';
			v = json_string(big);
			free(big);
			return v;
		}
		return json_string(pick(s, strings));
	default:
		return json_string(pick(s, strings));
	}
}

/* Every node of the tree, containers first met first. */
static size_t collect(json_t **nodes, size_t n, json_t *v)
{
	const char *k;
	json_t *c;
	size_t i;

	if (n == NODES)
		return n;
	nodes[n++] = v;
	if (json_is_object(v)) {
		json_object_foreach(v, k, c)
			n = collect(nodes, n, c);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, c)
			n = collect(nodes, n, c);
	}
	return n;
}

/* One edit of @root (which it may replace): 0 when it found none. */
static int edit(json_t **root, uint32_t *s)
{
	static json_t *nodes[NODES];
	size_t nf, n = collect(nodes, 0, *root);
	const struct sl_field *fs = sl_schema_fields(&nf);
	const struct sl_field *f = &fs[rnd(s) % nf];
	json_t *v = nodes[rnd(s) % n];
	const char *str;
	char key[96];
	size_t len;

	if (json_is_object(v)) {
		switch (rnd(s) % 4) {
		case 0: {       /* drop a member */
			void *it = json_object_iter(v);
			size_t skip = json_object_size(v) ?
			    rnd(s) % json_object_size(v) : 0;

			while (it && skip--)
				it = json_object_iter_next(v, it);
			return it && !json_object_del(v,
			    json_object_iter_key(it));
		}
		case 1:         /* its companion text */
			snprintf(key, sizeof(key), "%s_text", f->name);
			return !json_object_set_new(v, key, json_string(
			    pick(s, strings)));
		case 2:         /* an unknown or service field */
			return !json_object_set_new(v, rnd(s) % 2 ?
			    "child_ref" : pick(s, strings), gen_value(s, f));
		default:
			return !json_object_set_new(v, f->name,
			    gen_value(s, f));
		}
	}
	if (json_is_array(v)) {
		size_t an = json_array_size(v);

		if (an && rnd(s) % 2)   /* an element twice */
			return !json_array_append(v, json_array_get(v,
			    rnd(s) % an));
		if (an && rnd(s) % 2)
			return !json_array_remove(v, rnd(s) % an);
		return !json_array_append_new(v, gen_value(s, f));
	}
	if (json_is_string(v) && rnd(s) % 2) {
		char buf[256];

		str = json_string_value(v);
		len = json_string_length(v);
		if (len > 200)
			len = 200;
		memcpy(buf, str, len);
		snprintf(buf + len, sizeof(buf) - len, "%s",
		    rnd(s) % 2 ? pick(s, strings) : "");
		if (len && rnd(s) % 3 == 0)
			buf[rnd(s) % len] = (char)(' ' + rnd(s) % 95);
		return !json_string_set(v, buf);
	}
	/* a whole value replaced: find its parent */
	if (v == *root)
		return 0;
	{
		size_t i;

		for (i = 0; i < n; i++) {
			const char *k;
			json_t *c;
			size_t j;

			if (json_is_object(nodes[i])) {
				json_object_foreach(nodes[i], k, c)
					if (c == v)
						return !json_object_set_new(
						    nodes[i], k,
						    gen_value(s, f));
			} else if (json_is_array(nodes[i])) {
				json_array_foreach(nodes[i], j, c)
					if (c == v)
						return !json_array_set_new(
						    nodes[i], j,
						    gen_value(s, f));
			}
		}
	}
	return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max,
    unsigned int seed)
{
	uint32_t s = seed | 1;
	json_t *root;
	char *out;
	size_t n = 0;
	size_t flags;
	int edits;

	if (rnd(&s) % 2)
		return LLVMFuzzerMutate(data, size, max);
	root = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!root)
		return LLVMFuzzerMutate(data, size, max);
	for (edits = 1 + (int)(rnd(&s) % 3); edits > 0; edits--)
		edit(&root, &s);
	flags = JSON_ENCODE_ANY | (rnd(&s) % 4 ? JSON_COMPACT :
	    JSON_INDENT(rnd(&s) % 3));
	if (rnd(&s) % 4 == 0)
		flags |= JSON_ENSURE_ASCII;
	if (rnd(&s) % 2)
		flags |= JSON_PRESERVE_ORDER;
	else
		flags |= JSON_SORT_KEYS;
	out = json_dumps(root, flags);
	json_decref(root);
	if (out) {
		n = strlen(out);
		if (n <= max)
			memcpy(data, out, n);
		free(out);
	}
	if (!out || n > max)
		return LLVMFuzzerMutate(data, size, max);
	return n;
}
