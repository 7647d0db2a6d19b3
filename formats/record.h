/*
 * record: turn a client's submission into the record that is stored.
 *
 * Structural validation against the schema table, then pseudonymisation:
 * child_id is removed and child_ref (its keyed pseudonym) put in its place.
 */
#ifndef SL_RECORD_H
#define SL_RECORD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/buf.h"
#include "formats/err.h"
#include "formats/pseudo.h"

/**
 * Validate @rec (a client record) and turn it, in place, into the record
 * to store: child_id is replaced by child_ref. On failure @rec is left as
 * it was. @base is the JSON pointer of the record in its submission, for
 * error messages.
 */
int sl_record_prepare(json_t *rec, const struct sl_pseudo *key,
    const char *base, struct sl_err *e);

/*
 * The fast way in for a submission body: one client record (a JSON
 * object) or an array of them, taken straight from its bytes to the
 * stored records' canonical form, with no tree built. It takes only a
 * body it can prove the full way (sl_json_parse, sl_record_prepare,
 * sl_jcs_write) would accept and turn into the very same bytes: every
 * key a schema field or companion met once, every value of its field's
 * type and enumeration, strings already in the form RFC 8785 writes
 * them (valid UTF-8, only the escapes it uses), the record types'
 * required fields present. Anything else, good or bad, is left to the
 * full way, which also writes every error message: this never refuses.
 */
struct sl_record_taken {
	size_t canon;             /* the stored record: out->data + canon */
	size_t canon_len;
	/* in the body, without quotes; their raw bytes are their values */
	const uint8_t *org;       /* organisation_id */
	const uint8_t *rid;       /* record_id */
	const uint8_t *did;       /* decision_id */
	const uint8_t *rtype;     /* record_type */
	uint32_t org_len, rid_len, did_len, rtype_len;
};

/**
 * Take the body b[0..n): appends each record's stored form to @out (whose
 * maximum bounds it) and describes it in t[0..cap). Returns how many it
 * took, *batch 1 when the body was an array; 0 when the body must go the
 * full way (@out may then hold part of a record: the caller resets it);
 * never more than @cap (a larger batch goes the full way). @key makes
 * child_ref. Borrows everything for the call only.
 */
size_t sl_record_intake(struct sl_buf *out, struct sl_record_taken *t,
    size_t cap, int *batch, const uint8_t *b, size_t n,
    const struct sl_pseudo *key);

/*
 * A stored record seen without building a tree: for every schema field
 * (by its index in sl_schema_fields()) the slice of its canonical JSON
 * value, and of its "<field>_text" companion. Readers of the whole log
 * (completeness rules, reports) look at a million records this way.
 */
#define SL_RECORD_VIEW_FIELDS 96

struct sl_record_view {
	const uint8_t *val[SL_RECORD_VIEW_FIELDS];   /* NULL when absent */
	uint32_t len[SL_RECORD_VIEW_FIELDS];
	const uint8_t *text[SL_RECORD_VIEW_FIELDS];  /* "<field>_text" */
	uint32_t tlen[SL_RECORD_VIEW_FIELDS];
	/* Coded fields (enumeration, enumeration set, boolean) as bits:
	 * enumeration value j -> bit j (a set: the OR of its values), false
	 * -> bit 0, true -> bit 1; SL_RECORD_CODE_BAD added for a value that
	 * is none of them. 0 when absent or not a coded field. */
	uint32_t code[SL_RECORD_VIEW_FIELDS];
	unsigned type;            /* SL_RT_* bit of record_type, 0 unknown */
};

#define SL_RECORD_CODE_BAD (UINT32_C(1) << 31)

/**
 * Fill @v from the canonical record object p[0..n) (as stored in an
 * entry). The bytes must already be known canonical (an entry scan, the
 * integrity pass, or our own writer made them): this only walks them,
 * safely within bounds, and says SL_EINVAL when the walk fails. The
 * slices borrow from @p.
 */
int sl_record_view_scan(struct sl_record_view *v, const uint8_t *p,
    size_t n, struct sl_err *e);

/** Schema index of field @name (as key bytes), or -1. */
int sl_record_field_index(const char *name, size_t n);

/** Position of s[0..n) (no quotes) in enumeration field @field's values
 *  (the bit it has in a view's code), or -1. */
int sl_record_enum_code(int field, const char *s, size_t n);

/* Reading the slices of a view (canonical JSON values). */

/** 1 when the value is a non-empty string (not only white space), a
 *  non-empty array, or any other present value. */
int sl_record_value_present(const uint8_t *p, size_t n);

/** A string value's characters (code points), leading and trailing white
 *  space not counted, up to @max (counting stops there: a minimum length
 *  is all a rule asks); 0 for other types. */
size_t sl_record_value_chars(const uint8_t *p, size_t n, size_t max);

/** 1 when a string value equals s[0..sn) exactly (no escapes in s). */
int sl_record_value_is(const uint8_t *p, size_t n, const char *s, size_t sn);

/** A date-time string value in ms since 1970 UTC; SL_EINVAL otherwise. */
int sl_record_value_time(int64_t *ms, const uint8_t *p, size_t n);

/**
 * Decode a string value into out[0..cap), trimmed, lower-cased ASCII, NUL
 * terminated; SL_ETOOBIG when it does not fit (a placeholder never is
 * long), SL_EINVAL for other types.
 */
int sl_record_value_folded(char *out, size_t cap, const uint8_t *p,
    size_t n);

/**
 * A string value decoded (escapes undone, UTF-8) into *out, NUL
 * terminated, malloc'ed: the caller frees it. A \u0000 in it ends the
 * copy. SL_EINVAL for other types (or p NULL), SL_ENOMEM.
 */
int sl_record_value_dup(char **out, const uint8_t *p, size_t n);

#endif
