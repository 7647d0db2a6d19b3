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
 * Validate @in (a client record) and build the record to store in *out
 * (a new object; caller json_decref()s it). @in is not modified. @base is
 * the JSON pointer of the record in its submission, for error messages.
 */
int sl_record_prepare(json_t **out, const json_t *in,
    const struct sl_pseudo *key, const char *base, struct sl_err *e);

#endif
