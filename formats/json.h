/*
 * json: strict JSON intake, into jansson values.
 *
 * The reader is this module's own (jansson's json_loadb was most of an
 * append's time); the values it builds are jansson's, for everything
 * after it. Accepts only what the formats allow: no duplicate keys,
 * valid UTF-8, no lone surrogates, no U+0000, integers only and within
 * +/-(2^53-1), at most 16 levels of nesting, a bounded size. Every error
 * names where: line and column for syntax errors, a JSON pointer
 * (RFC 6901) for the rest.
 */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <jansson.h>
#include <stddef.h>

#include "formats/err.h"

#define SL_JSON_MAX_DEPTH 16
#define SL_JSON_MAX_INT 9007199254740991LL /* 2^53 - 1, exact in IEEE double */

/**
 * Parse @len bytes of @buf as one JSON value (object or array at the top).
 * @max is the size limit in bytes (SL_ETOOBIG past it).
 * On success *out holds a new reference the caller releases with
 * json_decref(). On failure *out is NULL and @e names the place and rule:
 * SL_ESYNTAX when the text is not JSON (line and column), SL_EINVAL when
 * it breaks a rule (JSON pointer), SL_ETOOBIG past @max.
 */
int sl_json_parse(json_t **out, const char *buf, size_t len, size_t max,
    struct sl_err *e);

/**
 * Check an already-built value against the same rules (depth, integers,
 * no reals). @base is the JSON pointer of @v, "" for a root.
 */
int sl_json_check(const json_t *v, const char *base, struct sl_err *e);

/**
 * Between sl_json_arena_begin() and sl_json_arena_end() on one thread,
 * every jansson allocation of that thread comes from a bump arena that
 * end releases at once (frees in between cost nothing). Every value
 * created in between must be released before end. Other threads are not
 * affected. A no-op in sanitizer builds, so ASan still sees each block.
 */
void sl_json_arena_begin(void);
void sl_json_arena_end(void);

/**
 * Append to @out (capacity @cap) the RFC 6901 encoding of @key as one
 * reference token ("/" + key with "~" -> "~0", "/" -> "~1").
 */
void sl_json_pointer_add(char *out, size_t cap, const char *key);

#endif
