#include "formats/json.h"

#include <stdio.h>
#include <string.h>

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

static int check_value(const json_t *v, char *ptr, int depth,
    struct sl_err *e)
{
	size_t plen = strlen(ptr);

	switch (json_typeof(v)) {
	case JSON_REAL:
		return sl_err_set(e, SL_EINVAL,
		    "field %s: numbers must be integers (no fraction or "
		    "exponent)", *ptr ? ptr : "/");
	case JSON_INTEGER: {
		json_int_t n = json_integer_value(v);

		if (n > SL_JSON_MAX_INT || n < -SL_JSON_MAX_INT)
			return sl_err_set(e, SL_EINVAL,
			    "field %s: integer %lld is outside "
			    "+/-(2^53-1)", *ptr ? ptr : "/", (long long)n);
		return 0;
	}
	case JSON_OBJECT: {
		const char *key;
		json_t *m;

		if (depth >= SL_JSON_MAX_DEPTH)
			return sl_err_set(e, SL_EINVAL,
			    "field %s: nested deeper than %d levels",
			    *ptr ? ptr : "/", SL_JSON_MAX_DEPTH);
		json_object_foreach((json_t *)v, key, m) {
			int rc;

			sl_json_pointer_add(ptr, PTR_MAX, key);
			rc = check_value(m, ptr, depth + 1, e);
			ptr[plen] = '\0';
			if (rc)
				return rc;
		}
		return 0;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *m;

		if (depth >= SL_JSON_MAX_DEPTH)
			return sl_err_set(e, SL_EINVAL,
			    "field %s: nested deeper than %d levels",
			    *ptr ? ptr : "/", SL_JSON_MAX_DEPTH);
		json_array_foreach((json_t *)v, i, m) {
			int rc;

			snprintf(ptr + plen, PTR_MAX - plen, "/%zu", i);
			rc = check_value(m, ptr, depth + 1, e);
			ptr[plen] = '\0';
			if (rc)
				return rc;
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* Is everything within the rules? The quick walk, with no pointers. */
static int ok_value(const json_t *v, int depth)
{
	const char *key;
	json_t *m;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_REAL:
		return 0;
	case JSON_INTEGER:
		return json_integer_value(v) <= SL_JSON_MAX_INT &&
		    json_integer_value(v) >= -SL_JSON_MAX_INT;
	case JSON_OBJECT:
		if (depth >= SL_JSON_MAX_DEPTH)
			return 0;
		json_object_foreach((json_t *)v, key, m)
			if (!ok_value(m, depth + 1))
				return 0;
		return 1;
	case JSON_ARRAY:
		if (depth >= SL_JSON_MAX_DEPTH)
			return 0;
		json_array_foreach((json_t *)v, i, m)
			if (!ok_value(m, depth + 1))
				return 0;
		return 1;
	default:
		return 1;
	}
}

int sl_json_check(const json_t *v, const char *base, struct sl_err *e)
{
	char ptr[PTR_MAX];

	if (ok_value(v, 0))
		return 0;
	/* Something is wrong: walk again, naming where. */
	snprintf(ptr, sizeof(ptr), "%s", base);
	return check_value(v, ptr, 0, e);
}

int sl_json_parse(json_t **out, const char *buf, size_t len, size_t max,
    struct sl_err *e)
{
	json_error_t je;
	json_t *v;
	int rc;

	*out = NULL;
	if (len > max)
		return sl_err_set(e, SL_ETOOBIG,
		    "body is %zu bytes, more than the limit of %zu", len, max);
	if (len == 0)
		return sl_err_set(e, SL_EINVAL, "empty input: expected a "
		    "JSON object");
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!v) {
		/* jansson's texts are already sentences ("duplicate object
		 * key near '"b"'"); we add where. */
		return sl_err_set(e, SL_EINVAL,
		    "JSON syntax error at line %d, column %d: %s",
		    je.line, je.column, je.text);
	}
	rc = sl_json_check(v, "", e);
	if (rc) {
		json_decref(v);
		return rc;
	}
	*out = v;
	return 0;
}
