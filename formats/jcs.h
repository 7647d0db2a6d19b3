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
 * Advance @p over plain JSON string bytes (no quote, backslash, control
 * character or non-ASCII byte) as far as it can cheaply, 16 or 8 bytes at
 * a time; it may stop before the first special byte, never after it.
 * Shared with json's parser.
 */
const uint8_t *sl_jcs_skip_plain(const uint8_t *p, const uint8_t *end);

/**
 * Length of the valid UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing past U+10FFFF) that starts at p[0] >= 0x80 with
 * @left bytes available; 0 when it is not one.
 */
size_t sl_jcs_utf8_len(const uint8_t *p, size_t left);

/**
 * Compare two keys (as raw escaped JSON string contents) by UTF-16 code
 * units, the RFC 8785 order. Returns <0, 0, >0.
 */
int sl_jcs_keycmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn);

#endif
