/*
 * seal: sign a C2SP checkpoint of the store's current tree and keep it.
 */
#ifndef SL_SEAL_H
#define SL_SEAL_H

#include <stdint.h>

#include "formats/err.h"
#include "formats/note.h"
#include "formats/store.h"

/**
 * Sign a checkpoint at the store's current size with @signer (named like
 * the store's origin) and store it. *size gets the tree size. Signing the
 * same size twice is a no-op.
 */
int sl_seal_checkpoint(uint64_t *size, struct sl_store *s,
    struct sl_signer *signer, struct sl_err *e);

/** The same, signed by each of @n signers (a key rotation's bridge). */
int sl_seal_checkpoint_by(uint64_t *size, struct sl_store *s,
    struct sl_signer *const *signers, size_t n, struct sl_err *e);

#endif
