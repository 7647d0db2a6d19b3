/*
 * checkpoint: the C2SP tlog-checkpoint body (c2sp.org/tlog-checkpoint):
 *   <origin>\n<decimal tree size>\n<base64 RFC 6962 root>\n[extension lines]
 * signed as a note (see note.h) by a key named like the origin.
 */
#ifndef SL_CHECKPOINT_H
#define SL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "formats/buf.h"
#include "formats/err.h"
#include "formats/hash.h"

#define SL_ORIGIN_MAX 255

struct sl_checkpoint {
	char origin[SL_ORIGIN_MAX + 1];
	uint64_t size;
	uint8_t root[SL_HASH_LEN];
};

/** Append the checkpoint body (the note text) to @out. */
int sl_checkpoint_body(struct sl_buf *out, const struct sl_checkpoint *c);

struct sl_signer;

/**
 * Append to @note the body of @c signed by each of @n signers (note.h):
 * the one way a checkpoint is made, by the service and by the store.
 */
int sl_checkpoint_sign(struct sl_buf *note, const struct sl_checkpoint *c,
    struct sl_signer *const *signers, size_t n, struct sl_err *e);

/** Parse a note text (extension lines allowed and ignored). */
int sl_checkpoint_parse(struct sl_checkpoint *out, const char *text,
    size_t n, struct sl_err *e);

/** 1 if @origin is a valid origin line (non-empty, no spaces or '+'). */
int sl_checkpoint_origin_ok(const char *origin);

#endif
