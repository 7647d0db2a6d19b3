/*
 * report: what sharelog-verify prints, for people (text) and for
 * programs (--json). Words an inspector understands; no record content.
 */
#ifndef SL_REPORT_H
#define SL_REPORT_H

#include <stdio.h>

#include "verify/integrity.h"

void sl_report_text(FILE *out, const char *path,
    const struct sl_verify_result *r);
void sl_report_json(FILE *out, const char *path,
    const struct sl_verify_result *r);

#endif
