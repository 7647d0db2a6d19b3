/*
 * bundle: what an inspector takes away.
 *
 *   DIR/entries.jsonl        entry bytes, one per line, each ending in \n
 *   DIR/checkpoint           signed note covering every entry
 *   DIR/log.vkey             verifier key(s), one per line
 *   DIR/checkpoints/<size>   every earlier signed checkpoint
 *
 * A bundle is written into a temporary folder and renamed into place, so
 * a half-written bundle never carries the final name.
 */
#ifndef SL_BUNDLE_H
#define SL_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/err.h"
#include "formats/store.h"

/**
 * Export every entry covered by the store's newest signed checkpoint into
 * the new folder @dir (which must not exist). @vkeys is the text of
 * log.vkey. *size gets the number of entries exported.
 */
int sl_bundle_export(uint64_t *size, struct sl_store *s, const char *dir,
    const char *vkeys, struct sl_err *e);

/**
 * Fill a new store in @store_dir from the bundle @dir, byte for byte, with
 * its checkpoints. The caller verifies the bundle first.
 */
int sl_bundle_restore(uint64_t *size, const char *dir, const char *store_dir,
    struct sl_err *e);

/**
 * Read a whole small file (at most @max bytes) into a new NUL-terminated
 * buffer the caller frees with free().
 */
int sl_bundle_slurp(char **out, size_t *len, const char *path, size_t max,
    struct sl_err *e);

#endif
