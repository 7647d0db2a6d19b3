#include "formats/json.h"

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
		return sl_err_set(e, SL_ESYNTAX,
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
