/*
 * admin: the operator's commands of sharelogd (init, checkpoint, export,
 * restore), each a function so tests drive them without a process.
 */
#ifndef SL_ADMIN_H
#define SL_ADMIN_H

#include <stdint.h>

#include "formats/err.h"

#define SL_SOFTWARE "sharelog 0.1.0"

/**
 * Create the key folder (when it holds no keys yet), a new store, its
 * genesis entry (origin, schema version, creation time, checkpoint key,
 * pseudonymisation key id) and a first signed checkpoint.
 */
int sl_admin_init(const char *store, const char *keys, const char *origin,
    struct sl_err *e);

/** Sign a checkpoint of the store as it is now. *size gets its size. */
int sl_admin_checkpoint(uint64_t *size, const char *store, const char *keys,
    struct sl_err *e);

/** Sign a checkpoint, then export a bundle into the new folder @out. */
int sl_admin_export(uint64_t *size, const char *store, const char *keys,
    const char *out, struct sl_err *e);

/**
 * Rotate the checkpoint key: a new Ed25519 key in @keys, a key_rotation
 * entry naming it, and a checkpoint signed by the old and the new key
 * (the bridge a verifier follows). The old key is kept as
 * signing.key.<id>.retired; log.vkey lists both.
 */
int sl_admin_rotate_key(uint64_t *size, const char *store, const char *keys,
    const char *reason, struct sl_err *e);

/**
 * Verify the bundle @bundle (against @vkey when not NULL) and restore it,
 * byte for byte, into a new store @store.
 */
int sl_admin_restore(uint64_t *size, const char *bundle, const char *store,
    const char *vkey, struct sl_err *e);

#endif
