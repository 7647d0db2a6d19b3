/*
 * The per-entry summary the board reports count from (issue 5, "fast
 * aggregates"): a fixed-size record of the coded fields and times of one
 * entry, so a report over a million decisions reads 64 MB of these rather
 * than re-walking 1.4 GB of JSON. It is derived from the entry alone
 * (sl_summary_derive), so a reader can always recompute it and compare it
 * with a kept one. This is the in-memory form; keeping it in the store
 * at append time (a byte layout in docs/FORMAT.md) is still to come.
 *
 * Coded fields hold the value's position in the schema's enumeration
 * (sl_schema_fields()[field].values), SL_SUMMARY_ABSENT when the record
 * does not carry the field, SL_SUMMARY_BAD when its value is not one of
 * the enumeration's. Sets and recipient agency types are bit masks
 * (bit j = value j). Times are ms since 1970 UTC, INT64_MIN when absent.
 */
#ifndef SL_SUMMARY_H
#define SL_SUMMARY_H

#include <stdint.h>

#include "formats/record.h"

#define SL_SUMMARY_ABSENT 0xff
#define SL_SUMMARY_BAD 0xfe

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
	uint32_t advice_from;     /* set of advice_from values */
	uint32_t to_agencies;     /* agency types among the recipients */
	uint8_t type;             /* enum sl_entry_type */
	uint8_t advice_sought;    /* 0 false, 1 true, SL_SUMMARY_ABSENT */
	uint8_t code[SL_SC_COUNT];
	uint8_t pad[6];
};

/** Field index of each coded field, for naming values (NULL-free). */
int sl_summary_field(enum sl_summary_code c);

/**
 * Fill @s from the view of an entry's record, its type and recorded_at.
 * Never fails: what is missing or unknown is marked so.
 */
void sl_summary_derive(struct sl_summary *s, const struct sl_record_view *v,
    int type, int64_t recorded_ms);

#endif
