/*
 * record: turn a client's submission into the record that is stored.
 *
 * Structural validation against the schema table, then pseudonymisation:
 * child_id is removed and child_ref (its keyed pseudonym) put in its place.
 */
#ifndef SL_RECORD_H
#define SL_RECORD_H

#include <jansson.h>

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

#endif
