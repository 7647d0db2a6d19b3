/*
 * jcs: RFC 8785 JSON Canonicalization Scheme, for the integer-only JSON
 * the formats allow.
 *
 * sl_jcs_write() serialises a jansson value canonically. sl_jcs_scan()
 * checks that bytes already are canonical without building a tree (the
 * verifier's hot path) and reports the top-level members of an object.
 */
#ifndef SL_JCS_H
#define SL_JCS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/buf.h"
#include "formats/err.h"

/** Append the canonical form of @v to @out. */
int sl_jcs_write(struct sl_buf *out, const json_t *v, struct sl_err *e);

/** Append one canonical JSON string literal (with quotes) for s[0..n). */
int sl_jcs_write_string(struct sl_buf *out, const char *s, size_t n);

/** A top-level member found by sl_jcs_scan(): slices of the input. */
struct sl_jcs_member {
	const uint8_t *key;   /* key text without quotes, still escaped */
	size_t key_len;
	const uint8_t *val;   /* the whole value, quotes included */
	size_t val_len;
};

/**
 * Check that p[0..n) is exactly one JSON object in canonical form:
 * no whitespace, keys strictly increasing in UTF-16 code-unit order,
 * minimal string escapes with lowercase \u00xx, valid UTF-8, integers
 * only (no -0, no leading zero, |n| <= 2^53-1), depth <= 16.
 * Up to @cap top-level members are stored in @top, their number in *ntop
 * (more than @cap is an error). @e says what is wrong and at which byte.
 */
int sl_jcs_scan(struct sl_jcs_member *top, size_t cap, size_t *ntop,
    const uint8_t *p, size_t n, struct sl_err *e);

/**
 * Check that p[0..n) starts with one canonical JSON value (any type), as
 * nested @depth levels deep (1 = a top-level value); *len gets its length.
 * Used to check an object inside a fixed layout without scanning the
 * layout generically.
 */
int sl_jcs_scan_value(size_t *len, const uint8_t *p, size_t n, int depth,
    struct sl_err *e);

/**
 * Compare two keys (as raw escaped JSON string contents) by UTF-16 code
 * units, the RFC 8785 order. Returns <0, 0, >0.
 */
int sl_jcs_keycmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

#endif
