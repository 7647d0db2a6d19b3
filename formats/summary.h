/*
 * The per-entry summary the board reports count from (issue 5, "fast
 * aggregates"): a fixed-size record of the coded fields and times of one
 * entry, so a report over a million decisions reads 64 MB of these rather
 * than re-walking 1.4 GB of JSON. It is derived from the entry alone
 * (sl_summary_derive), so a reader can always recompute it and compare it
 * with the one the store kept at append time (sharelog-verify does). The
 * kept form is SL_SUMMARY_LEN bytes (sl_summary_encode; the byte layout
 * is in docs/FORMAT.md).
 *
 * Coded fields hold the value's position in the schema's enumeration
 * (sl_schema_fields()[field].values), SL_SUMMARY_ABSENT when the record
 * does not carry the field, SL_SUMMARY_BAD when its value is not one of
 * the enumeration's. Sets and recipient agency types are bit masks
 * (bit j = value j). Times are ms since 1970 UTC, INT64_MIN when absent.
 * The thread and organisation are 64-bit keys (sl_summary_key) of the
 * record's decision_id and organisation_id, so reports can group a
 * thread's records and select one organisation without the JSON; 0 when
 * the record has none.
 */
#ifndef SL_SUMMARY_H
#define SL_SUMMARY_H

#include <stdint.h>

#include <stddef.h>

#include "formats/hash.h"
#include "formats/record.h"

#define SL_SUMMARY_ABSENT 0xff
#define SL_SUMMARY_BAD 0xfe
#define SL_SUMMARY_LEN 104        /* bytes of the kept form */
#define SL_SUMMARY_VERSION 1

/* The coded fields kept, in this order in struct sl_summary's code[]. */
enum sl_summary_code {
	SL_SC_AGENCY,             /* deciding_agency_type */
	SL_SC_TRIGGER,
	SL_SC_DECISION,
	SL_SC_REQUESTER,          /* requester_agency_type */
	SL_SC_HARM,               /* harm_threshold */
	SL_SC_PURPOSE,
	SL_SC_METHOD,
	SL_SC_LAWFUL_BASIS,
	SL_SC_RLI,                /* rli_condition */
	SL_SC_SC,                 /* sc_condition */
	SL_SC_CONSENT,            /* consent_status */
	SL_SC_CONSENT_NSR,        /* consent_not_sought_reason */
	SL_SC_FAMILY,             /* family_informed */
	SL_SC_NOT_INFORMED,       /* not_informed_reason */
	SL_SC_OUTCOME,            /* outcome_type */
	SL_SC_AGE,                /* child_age_band */
	SL_SC_COUNT
};

struct sl_summary {
	int64_t decided_ms;
	int64_t recorded_ms;      /* the entry's recorded_at */
	int64_t shared_ms;
	int64_t request_ms;       /* request_received_at */
	int64_t refusal_ms;       /* refusal_communicated_at */
	int64_t inform_due_ms;
	int64_t review_due_ms;
	uint64_t thread;          /* sl_summary_key of decision_id */
	uint64_t org;             /* sl_summary_key of organisation_id */
	uint32_t advice_from;     /* set of advice_from values */
	uint32_t to_agencies;     /* agency types among the recipients */
	uint8_t type;             /* enum sl_entry_type */
	uint8_t advice_sought;    /* 0 false, 1 true, SL_SUMMARY_ABSENT */
	uint8_t code[SL_SC_COUNT];
	uint8_t flags;            /* SL_SUMMARY_F_* */
};

/* Flags: the record carries imported_from (came from sharelogd import,
 * so its recorded_at is the import's time, not the recording's). */
#define SL_SUMMARY_F_IMPORTED 0x01

/** Field index of each coded field, for naming values (NULL-free). */
int sl_summary_field(enum sl_summary_code c);

/**
 * Fill @s from the view of an entry's record, its type and recorded_at.
 * Never fails: what is missing or unknown is marked so. @h is the
 * caller's hashing context (for the keys).
 */
void sl_summary_derive(struct sl_summary *s, const struct sl_record_view *v,
    int type, int64_t recorded_ms, struct sl_hash *h);

/**
 * The summary of an entry's record given as canonical bytes rec[0..n):
 * @v (the caller's, it is large) gets the record's view, which stays
 * valid for the caller; a record that cannot be walked is summarised as
 * an empty one (sharelog-verify names such an entry anyway). The one rule
 * the store (at append), the verifier and the reports all follow.
 * Returns 0 when the record was walked, non-zero when not.
 */
int sl_summary_of_record(struct sl_summary *s, struct sl_record_view *v,
    const uint8_t *rec, size_t n, int type, int64_t recorded_ms,
    struct sl_hash *h);

/**
 * The key of a canonical JSON string value p[0..n) (quotes included):
 * the first 8 bytes of its SHA-256, big-endian, never 0.
 */
uint64_t sl_summary_key(struct sl_hash *h, const uint8_t *p, size_t n);

/** The kept form of @s (little-endian fields, docs/FORMAT.md). */
void sl_summary_encode(uint8_t out[SL_SUMMARY_LEN],
    const struct sl_summary *s);

/** Read a kept form; SL_EINVAL when its length or version is wrong. */
int sl_summary_decode(struct sl_summary *s, const uint8_t *p, size_t n);

#endif
