/*
 * report: what sharelog-verify prints, for people (text) and for
 * programs (--json). Words an inspector understands; no record content.
 */
#ifndef SL_REPORT_H
#define SL_REPORT_H

#include <stdio.h>

#include "verify/completeness.h"
#include "verify/integrity.h"

void sl_report_text(FILE *out, const char *path,
    const struct sl_verify_result *r);
void sl_report_json(FILE *out, const char *path,
    const struct sl_verify_result *r);

/* Completeness, after the integrity report. Never prints record text:
 * only seq, ids, organisation, rule, severity and field names. */
struct sl_report_comp {
	const struct sl_policy *policy;
	const struct sl_comp_result *result;
	int64_t as_of_ms, from_ms, to_ms;   /* INT64_MIN/MAX: open */
};

void sl_report_comp_text(FILE *out, const struct sl_report_comp *c);
/** Integrity and completeness as one JSON document. */
void sl_report_comp_json(FILE *out, const char *path,
    const struct sl_verify_result *r, const struct sl_report_comp *c);
/** The findings (or, @summary, the counts per organisation and rule) as
 *  CSV: RFC 4180, every field quoted, CRLF. */
void sl_report_comp_csv(FILE *out, const struct sl_report_comp *c,
    int summary);

#endif
