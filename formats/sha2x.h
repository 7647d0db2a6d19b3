/*
 * sha2x: SHA-256 of two messages at once, for the verifier's hot loop.
 *
 * A single SHA-256 stream cannot keep the CPU's SHA-NI unit busy: each
 * round waits for the one before. Interleaving two independent messages
 * fills those waits, which is what lets verification (one leaf hash per
 * entry, one node hash per entry) keep up with a plain `openssl dgst` of
 * the same bytes. Where the CPU has no SHA-NI, OpenSSL does the work.
 * The results are plain SHA-256; tests/check_sha2x.c compares them with
 * OpenSSL's on every length up to a few blocks and on random data.
 */
#ifndef SL_SHA2X_H
#define SL_SHA2X_H

#include <stddef.h>
#include <stdint.h>

/**
 * out0 = SHA-256(pfx || m0[0..n0)), out1 = SHA-256(pfx || m1[0..n1)):
 * with pfx 0x00 these are RFC 6962 leaf hashes, with 0x01 and a 64-byte
 * message (left || right) node hashes.
 */
void sl_sha2x_prefixed(uint8_t out0[32], uint8_t out1[32], uint8_t pfx,
    const uint8_t *m0, size_t n0, const uint8_t *m1, size_t n1);

/** out0 = SHA-256(p0 || m0[0..n0)), out1 = SHA-256(p1 || m1[0..n1)). */
void sl_sha2x_pair(uint8_t out0[32], uint8_t out1[32], uint8_t p0,
    const uint8_t *m0, size_t n0, uint8_t p1, const uint8_t *m1, size_t n1);

/** 1 when the two-lane SHA-NI code is in use on this CPU. */
int sl_sha2x_accelerated(void);

#endif
