/*
 * pseudo: keyed pseudonyms of subject identifiers.
 *
 * A raw child identifier never reaches an entry: the service replaces it
 * with hex(HMAC-SHA-256(key, "child:" || id)). The 32-byte key lives in a
 * file outside the store (64 hex digits and a newline, mode 0600); its key
 * id, the first 4 bytes of SHA-256(key) in hex, is written in the genesis
 * entry so a pseudonym can be tied to the key that made it.
 */
#ifndef SL_PSEUDO_H
#define SL_PSEUDO_H

#include <stddef.h>

#include "formats/err.h"

#define SL_PSEUDO_LEN 64   /* hex characters of a pseudonym */
#define SL_PSEUDO_KEYID_LEN 8

struct sl_pseudo;

/** Create a new random key file at @path (fails if it exists). */
int sl_pseudo_generate(const char *path, struct sl_err *e);

/** Load a key file. Caller frees with sl_pseudo_free() (wipes the key). */
int sl_pseudo_load(struct sl_pseudo **out, const char *path,
    struct sl_err *e);

void sl_pseudo_free(struct sl_pseudo *p);

/** The key id, 8 lowercase hex digits; valid while @p lives. */
const char *sl_pseudo_key_id(const struct sl_pseudo *p);

/** Pseudonym of a child identifier: 64 hex digits and a NUL into out. */
int sl_pseudo_child(char out[SL_PSEUDO_LEN + 1], const struct sl_pseudo *p,
    const char *id, size_t n);

#endif
