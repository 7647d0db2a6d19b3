/*
 * hash: SHA-256 and the RFC 6962 leaf and node hashes.
 *
 * Each thread uses its own struct sl_hash (OpenSSL's SHA-256, SHA-NI
 * where the CPU has it).
 */
#ifndef SL_HASH_H
#define SL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define SL_HASH_LEN 32

struct sl_hash;

/** Create a hashing context. Caller frees with sl_hash_free(). */
int sl_hash_new(struct sl_hash **out);
void sl_hash_free(struct sl_hash *h);

/** out = SHA-256(p[0..n)). */
int sl_hash_sha256(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const void *p, size_t n);

/** One piece of a message hashed by sl_hash_sha256v(). */
struct sl_hash_part {
	const void *p;
	size_t n;
};

/** out = SHA-256 of the concatenation of @n parts. */
int sl_hash_sha256v(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const struct sl_hash_part *parts, size_t n);

/** RFC 6962 leaf: out = SHA-256(0x00 || entry). */
int sl_hash_leaf(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const void *entry, size_t n);

/** RFC 6962 node: out = SHA-256(0x01 || left || right). */
int sl_hash_node(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const uint8_t left[SL_HASH_LEN], const uint8_t right[SL_HASH_LEN]);

/** out = HMAC-SHA-256(key, msg). */
int sl_hash_hmac(uint8_t out[SL_HASH_LEN], const void *key, size_t keylen,
    const void *msg, size_t n);

/**
 * A key made ready for many HMAC-SHA-256s: its inner and outer pads are
 * hashed once. Caller frees with sl_hash_mac_free() (wipes the state).
 */
struct sl_hash_mac;
int sl_hash_mac_new(struct sl_hash_mac **out, const void *key,
    size_t keylen);
void sl_hash_mac_free(struct sl_hash_mac *m);

/** out = HMAC-SHA-256(key of @m, msg); @m is only read (any thread). */
int sl_hash_mac_run(uint8_t out[SL_HASH_LEN], const struct sl_hash_mac *m,
    const void *msg, size_t n);

/** SHA-256 of the empty string, the root of an empty tree. */
extern const uint8_t sl_hash_empty[SL_HASH_LEN];

#endif
