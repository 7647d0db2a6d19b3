/*
 * note: C2SP signed notes (c2sp.org/signed-note) with Ed25519 (type 0x01).
 *
 * A note is its text (ending in '\n'), a blank line, then one line per
 * signature: U+2014 (em dash), space, key name, space,
 * base64(4-byte big-endian key id || 64-byte signature), '\n'.
 * key id = SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4].
 * A verifier key string ("vkey") is name+<8 hex key id>+base64(0x01||pub).
 */
#ifndef SL_NOTE_H
#define SL_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/buf.h"
#include "formats/err.h"

#define SL_NOTE_MAX (64 * 1024)
#define SL_NOTE_MAX_SIGS 100 /* the spec asks to accept at least 16 */
#define SL_NOTE_NAME_MAX 255
#define SL_NOTE_VKEY_MAX 400

struct sl_signer;
struct sl_verifier;

/** Write a new Ed25519 private key (PKCS#8 PEM, mode 0600) to @path. */
int sl_note_keygen(const char *path, struct sl_err *e);

/**
 * Load a signing key (PEM, as written by sl_note_keygen() or
 * `openssl genpkey -algorithm ed25519`) that signs as @name.
 * Caller frees with sl_note_signer_free().
 */
int sl_note_signer_load(struct sl_signer **out, const char *path,
    const char *name, struct sl_err *e);
void sl_note_signer_free(struct sl_signer *s);

/** The signer's verifier key string into out (cap >= SL_NOTE_VKEY_MAX). */
int sl_note_signer_vkey(char *out, size_t cap, const struct sl_signer *s);

/**
 * Parse a verifier key string. Caller frees with sl_note_verifier_free().
 */
int sl_note_verifier_parse(struct sl_verifier **out, const char *vkey,
    size_t n, struct sl_err *e);
void sl_note_verifier_free(struct sl_verifier *v);

/** The key's name and id, valid while @v lives. */
const char *sl_note_verifier_name(const struct sl_verifier *v);
uint32_t sl_note_verifier_id(const struct sl_verifier *v);

/** Append to @out the note: @text (must end in '\n') signed by each. */
int sl_note_sign(struct sl_buf *out, const char *text, size_t n,
    struct sl_signer *const *signers, size_t nsigners, struct sl_err *e);

/** What sl_note_open() found. */
struct sl_note_verdict {
	size_t text_len;      /* the text is note[0 .. text_len) */
	size_t sigs;          /* signature lines */
	size_t verified;      /* by a known key, valid */
	size_t unknown;       /* by a key we do not know: ignored */
	int first_key;        /* index in vs[] of the first verified key */
};

/**
 * Check a signed note against the known keys @vs. Succeeds when at least
 * one known key's signature verifies and no known key's signature fails
 * (a failing one rejects the whole note). Unknown keys are ignored.
 * SL_EINVAL when the note is malformed, SL_EINTEGRITY when signatures
 * do not hold; @e says which.
 */
int sl_note_open(struct sl_note_verdict *out, const char *note, size_t n,
    struct sl_verifier *const *vs, size_t nv, struct sl_err *e);

#endif
