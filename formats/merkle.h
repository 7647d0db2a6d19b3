/*
 * merkle: the RFC 6962 Merkle tree over the entries, its inclusion and
 * consistency proofs, and their verification exactly as RFC 9162
 * sections 2.1.3.2 and 2.1.4.2 give them.
 *
 * A node is named by (level, index): it covers the leaves
 * [index * 2^level, (index + 1) * 2^level). Proofs are built from complete
 * nodes fetched through a callback, so a store keeps each complete node
 * once and a proof costs O(log n) lookups.
 */
#ifndef SL_MERKLE_H
#define SL_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/hash.h"

#define SL_MERKLE_MAX_PATH 64

/** Roots of the perfect subtrees that cover [0, size), left to right. */
struct sl_merkle_range {
	uint64_t size;
	int n;
	uint8_t hash[64][SL_HASH_LEN];
};

void sl_merkle_range_init(struct sl_merkle_range *r);

/** Called with each complete node a push creates (level >= 1). */
typedef int (*sl_merkle_node_fn)(void *ctx, unsigned level,
    const uint8_t hash[SL_HASH_LEN]);

/**
 * Append a node of 2^level leaves, as sl_merkle_range_push_node(), and call
 * @fn (if not NULL) for every node above it that becomes complete.
 */
int sl_merkle_range_push_cb(struct sl_merkle_range *r, struct sl_hash *h,
    const uint8_t root[SL_HASH_LEN], unsigned level, sl_merkle_node_fn fn,
    void *ctx);

/** Append one leaf hash. */
int sl_merkle_range_push(struct sl_merkle_range *r, struct sl_hash *h,
    const uint8_t leaf[SL_HASH_LEN]);

/**
 * Append a whole perfect subtree of 2^level leaves whose root is @root.
 * The range's size must be a multiple of 2^level (SL_EINVAL otherwise).
 */
int sl_merkle_range_push_node(struct sl_merkle_range *r, struct sl_hash *h,
    const uint8_t root[SL_HASH_LEN], unsigned level);

/** MTH of the leaves pushed so far (SHA-256("") when empty). */
int sl_merkle_range_root(uint8_t out[SL_HASH_LEN],
    const struct sl_merkle_range *r, struct sl_hash *h);

/**
 * Fetch the hash of the complete node (level, index) into out.
 * Returns 0, or a negative SL_E* code that is passed on.
 */
typedef int (*sl_merkle_get_fn)(uint8_t out[SL_HASH_LEN], void *ctx,
    unsigned level, uint64_t index);

/** MTH(D[start : start+n]) from complete nodes. n > 0. */
int sl_merkle_subtree(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    sl_merkle_get_fn get, void *ctx, uint64_t start, uint64_t n);

/**
 * Inclusion proof PATH(m, D[0:n]) (RFC 6962 2.1.1) into path[], its
 * length in *npath. Requires m < n.
 */
int sl_merkle_inclusion(uint8_t path[SL_MERKLE_MAX_PATH][SL_HASH_LEN],
    size_t *npath, struct sl_hash *h, sl_merkle_get_fn get, void *ctx,
    uint64_t m, uint64_t n);

/**
 * Consistency proof PROOF(m, D[0:n]) (RFC 6962 2.1.2). Requires m <= n;
 * empty when m == 0 or m == n.
 */
int sl_merkle_consistency(uint8_t path[SL_MERKLE_MAX_PATH][SL_HASH_LEN],
    size_t *npath, struct sl_hash *h, sl_merkle_get_fn get, void *ctx,
    uint64_t m, uint64_t n);

/** RFC 9162 2.1.3.2. 0 when the proof holds, SL_EINTEGRITY when not. */
int sl_merkle_verify_inclusion(struct sl_hash *h, uint64_t index,
    uint64_t size, const uint8_t leaf[SL_HASH_LEN],
    const uint8_t path[][SL_HASH_LEN], size_t npath,
    const uint8_t root[SL_HASH_LEN]);

/** RFC 9162 2.1.4.2 (plus the trivial cases). 0 or SL_EINTEGRITY. */
int sl_merkle_verify_consistency(struct sl_hash *h, uint64_t size1,
    uint64_t size2, const uint8_t root1[SL_HASH_LEN],
    const uint8_t root2[SL_HASH_LEN], const uint8_t path[][SL_HASH_LEN],
    size_t npath);

#endif
