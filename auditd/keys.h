/*
 * keys: the service's key folder, kept outside the store.
 *
 *   KEYS/signing.key     Ed25519 private key (PEM), signs checkpoints
 *   KEYS/pseudonym.key   32-byte HMAC key (hex) for subject pseudonyms
 *   KEYS/log.vkey        the public verifier key, for inspectors
 */
#ifndef SL_KEYS_H
#define SL_KEYS_H

#include "formats/err.h"
#include "formats/note.h"
#include "formats/pseudo.h"

struct sl_keys {
	struct sl_signer *signer;
	struct sl_pseudo *pseudo;
	char vkey[SL_NOTE_VKEY_MAX];
};

/** Create the folder @dir (mode 0700) with new keys for log @origin. */
int sl_keys_create(const char *dir, const char *origin, struct sl_err *e);

/** Load the keys of @dir for log @origin. Free with sl_keys_close(). */
int sl_keys_open(struct sl_keys **out, const char *dir, const char *origin,
    struct sl_err *e);
void sl_keys_close(struct sl_keys *k);

#endif
