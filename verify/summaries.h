/*
 * summaries: check the per-entry summaries a store keeps for the board
 * reports against the entries themselves.
 *
 * The summaries are not covered by the hash chain (they are derived
 * data), so a damaged or edited summary would silently change published
 * statistics; sharelog-verify recomputes every one from its entry.
 */
#ifndef SL_VERIFY_SUMMARIES_H
#define SL_VERIFY_SUMMARIES_H

#include <stdint.h>

#include "formats/err.h"
#include "formats/store.h"

/**
 * Recompute the summary of entries [0, @upto) of the open store @s (whose
 * entries have been verified) and compare each with the kept one, on
 * @threads workers (0 = one per core). Returns 0 when all match,
 * SL_ENOTFOUND when the store keeps none (an older store not yet opened
 * for writing), SL_EINTEGRITY with *bad = the first entry whose summary
 * is missing or differs, or another SL_E* code (@e says what).
 */
int sl_verify_summaries(struct sl_store *s, uint64_t upto, int threads,
    uint64_t *bad, struct sl_err *e);

#endif
