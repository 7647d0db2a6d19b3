/*
 * entry: one log entry, its bytes and its envelope.
 *
 *   {"prev":"<64 hex>","record":{...},"recorded_at":"YYYY-MM-DDThh:mm:ss.sssZ",
 *    "seq":N,"submitted_by":"<org>","type":"<type>"}
 *
 * serialised in RFC 8785 canonical form; leaf_hash = SHA-256(0x00||bytes);
 * prev of entry i is hex(leaf_hash(i-1)), 64 zeros for entry 0.
 */
#ifndef SL_ENTRY_H
#define SL_ENTRY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/buf.h"
#include "formats/err.h"
#include "formats/hash.h"

/* Largest entry accepted anywhere: a 64 KiB record plus its envelope. */
#define SL_ENTRY_MAX (96 * 1024)

enum sl_etype {
	SL_ET_GENESIS,
	SL_ET_DECISION,
	SL_ET_AMENDMENT,
	SL_ET_RECONSIDERATION,
	SL_ET_OUTCOME,
	SL_ET_INFORM_UPDATE,
	SL_ET_ACCESS,
	SL_ET_KEY_ROTATION,
	SL_ET_COUNT
};

/** Name of an entry type ("decision"), or NULL. */
const char *sl_entry_type_name(int type);

/** Entry type of a name, or -1. */
int sl_entry_type_parse(const char *s, size_t n);

/** An entry's envelope; the pointers borrow from the scanned bytes. */
struct sl_entry_view {
	uint64_t seq;
	uint8_t prev[SL_HASH_LEN];
	int type;
	int64_t recorded_ms;
	const uint8_t *record;        /* the record object, canonical bytes */
	size_t record_len;
	const uint8_t *submitted_by;  /* JSON string content, no quotes */
	size_t submitted_by_len;
};

/**
 * Check that p[0..n) is a well-formed entry in canonical form and fill
 * *out. Does not look at the chain (the caller compares seq and prev).
 */
int sl_entry_scan(struct sl_entry_view *out, const uint8_t *p, size_t n,
    struct sl_err *e);

/**
 * The envelope of an entry already known well-formed (the integrity pass
 * checked it): seq, type, recorded_at and the record's bytes, without
 * checking the rest (prev and submitted_by are left empty). SL_EINVAL
 * when the fixed layout is not there.
 */
int sl_entry_peek(struct sl_entry_view *out, const uint8_t *p, size_t n);

/**
 * Append the canonical bytes of an entry to @out (reset by the caller).
 * @record/@record_len is the record already in canonical form
 * (sl_jcs_write() of a validated record).
 */
int sl_entry_build(struct sl_buf *out, const uint8_t prev[SL_HASH_LEN],
    const uint8_t *record, size_t record_len, int64_t recorded_ms,
    uint64_t seq, const char *submitted_by, int type, struct sl_err *e);

#endif
