#include "formats/merkle.h"
#include "formats/err.h"

#include <string.h>

void sl_merkle_range_init(struct sl_merkle_range *r)
{
	r->size = 0;
	r->n = 0;
}

int sl_merkle_range_push_node(struct sl_merkle_range *r, struct sl_hash *h,
    const uint8_t root[SL_HASH_LEN], unsigned level)
{
	return sl_merkle_range_push_cb(r, h, root, level, NULL, NULL);
}

int sl_merkle_range_push_cb(struct sl_merkle_range *r, struct sl_hash *h,
    const uint8_t root[SL_HASH_LEN], unsigned level, sl_merkle_node_fn fn,
    void *ctx)
{
	uint8_t cur[SL_HASH_LEN];
	unsigned l = level;
	int rc;

	if (level > 62 || (r->size & ((UINT64_C(1) << level) - 1)))
		return SL_EINVAL;
	memcpy(cur, root, SL_HASH_LEN);
	/* A set bit l in size means the top of the stack is a perfect
	 * subtree of 2^l leaves: our left sibling. */
	while (r->size & (UINT64_C(1) << l)) {
		rc = sl_hash_node(cur, h, r->hash[r->n - 1], cur);
		if (rc)
			return rc;
		r->n--;
		l++;
		if (fn) {
			rc = fn(ctx, l, cur);
			if (rc)
				return rc;
		}
	}
	memcpy(r->hash[r->n++], cur, SL_HASH_LEN);
	r->size += UINT64_C(1) << level;
	return 0;
}

int sl_merkle_range_push(struct sl_merkle_range *r, struct sl_hash *h,
    const uint8_t leaf[SL_HASH_LEN])
{
	return sl_merkle_range_push_node(r, h, leaf, 0);
}

int sl_merkle_range_root(uint8_t out[SL_HASH_LEN],
    const struct sl_merkle_range *r, struct sl_hash *h)
{
	int i;
	int rc;

	if (r->n == 0) {
		memcpy(out, sl_hash_empty, SL_HASH_LEN);
		return 0;
	}
	memcpy(out, r->hash[r->n - 1], SL_HASH_LEN);
	for (i = r->n - 2; i >= 0; i--) {
		rc = sl_hash_node(out, h, r->hash[i], out);
		if (rc)
			return rc;
	}
	return 0;
}

/* Largest power of two strictly smaller than n (n >= 2). */
static uint64_t split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

static int is_pow2(uint64_t n)
{
	return n && !(n & (n - 1));
}

static unsigned log2u(uint64_t n)
{
	unsigned l = 0;

	while ((UINT64_C(1) << l) < n)
		l++;
	return l;
}

int sl_merkle_subtree(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    sl_merkle_get_fn get, void *ctx, uint64_t start, uint64_t n)
{
	uint8_t l[SL_HASH_LEN];
	uint8_t r[SL_HASH_LEN];
	uint64_t k;
	int rc;

	if (n == 0)
		return SL_EINVAL;
	if (is_pow2(n) && start % n == 0)
		return get(out, ctx, log2u(n), start / n);
	k = split(n);
	rc = sl_merkle_subtree(l, h, get, ctx, start, k);
	if (!rc)
		rc = sl_merkle_subtree(r, h, get, ctx, start + k, n - k);
	if (!rc)
		rc = sl_hash_node(out, h, l, r);
	return rc;
}

struct proof {
	uint8_t (*path)[SL_HASH_LEN];
	size_t n;
	struct sl_hash *h;
	sl_merkle_get_fn get;
	void *ctx;
};

static int add_subtree(struct proof *p, uint64_t start, uint64_t n)
{
	if (p->n >= SL_MERKLE_MAX_PATH)
		return SL_ETOOBIG;
	return sl_merkle_subtree(p->path[p->n++], p->h, p->get, p->ctx, start,
	    n);
}

/* PATH(m, D[start : start+n]) */
static int path_rec(struct proof *p, uint64_t m, uint64_t start, uint64_t n)
{
	uint64_t k;
	int rc;

	if (n <= 1)
		return 0;
	k = split(n);
	if (m < k) {
		rc = path_rec(p, m, start, k);
		return rc ? rc : add_subtree(p, start + k, n - k);
	}
	rc = path_rec(p, m - k, start + k, n - k);
	return rc ? rc : add_subtree(p, start, k);
}

int sl_merkle_inclusion(uint8_t path[SL_MERKLE_MAX_PATH][SL_HASH_LEN],
    size_t *npath, struct sl_hash *h, sl_merkle_get_fn get, void *ctx,
    uint64_t m, uint64_t n)
{
	struct proof p = { path, 0, h, get, ctx };
	int rc;

	*npath = 0;
	if (m >= n)
		return SL_EINVAL;
	rc = path_rec(&p, m, 0, n);
	*npath = p.n;
	return rc;
}

/* SUBPROOF(m, D[start : start+n], b) */
static int subproof(struct proof *p, uint64_t m, uint64_t start, uint64_t n,
    int b)
{
	uint64_t k;
	int rc;

	if (m == n)
		return b ? 0 : add_subtree(p, start, n);
	k = split(n);
	if (m <= k) {
		rc = subproof(p, m, start, k, b);
		return rc ? rc : add_subtree(p, start + k, n - k);
	}
	rc = subproof(p, m - k, start + k, n - k, 0);
	return rc ? rc : add_subtree(p, start, k);
}

int sl_merkle_consistency(uint8_t path[SL_MERKLE_MAX_PATH][SL_HASH_LEN],
    size_t *npath, struct sl_hash *h, sl_merkle_get_fn get, void *ctx,
    uint64_t m, uint64_t n)
{
	struct proof p = { path, 0, h, get, ctx };
	int rc;

	*npath = 0;
	if (m > n)
		return SL_EINVAL;
	if (m == 0 || m == n)
		return 0;
	rc = subproof(&p, m, 0, n, 1);
	*npath = p.n;
	return rc;
}

int sl_merkle_verify_inclusion(struct sl_hash *h, uint64_t index,
    uint64_t size, const uint8_t leaf[SL_HASH_LEN],
    const uint8_t path[][SL_HASH_LEN], size_t npath,
    const uint8_t root[SL_HASH_LEN])
{
	uint8_t r[SL_HASH_LEN];
	uint64_t fn;
	uint64_t sn;
	size_t i;

	if (index >= size)
		return SL_EINTEGRITY;
	fn = index;
	sn = size - 1;
	memcpy(r, leaf, SL_HASH_LEN);
	for (i = 0; i < npath; i++) {
		if (sn == 0)
			return SL_EINTEGRITY;
		if ((fn & 1) || fn == sn) {
			if (sl_hash_node(r, h, path[i], r))
				return SL_ECRYPTO;
			if (!(fn & 1)) {
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			if (sl_hash_node(r, h, r, path[i]))
				return SL_ECRYPTO;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(r, root, SL_HASH_LEN))
		return SL_EINTEGRITY;
	return 0;
}

int sl_merkle_verify_consistency(struct sl_hash *h, uint64_t size1,
    uint64_t size2, const uint8_t root1[SL_HASH_LEN],
    const uint8_t root2[SL_HASH_LEN], const uint8_t path[][SL_HASH_LEN],
    size_t npath)
{
	uint8_t fr[SL_HASH_LEN];
	uint8_t sr[SL_HASH_LEN];
	uint64_t fn;
	uint64_t sn;
	size_t i = 0;

	if (size1 > size2)
		return SL_EINTEGRITY;
	if (size1 == size2)
		return npath == 0 && !memcmp(root1, root2, SL_HASH_LEN) ?
		    0 : SL_EINTEGRITY;
	if (size1 == 0)
		return npath == 0 ? 0 : SL_EINTEGRITY;
	if (npath == 0)
		return SL_EINTEGRITY;
	fn = size1 - 1;
	sn = size2 - 1;
	/* Step 2: a power-of-two first tree is itself the first node. */
	if (is_pow2(size1)) {
		memcpy(fr, root1, SL_HASH_LEN);
	} else {
		memcpy(fr, path[0], SL_HASH_LEN);
		i = 1;
	}
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(sr, fr, SL_HASH_LEN);
	for (; i < npath; i++) {
		if (sn == 0)
			return SL_EINTEGRITY;
		if ((fn & 1) || fn == sn) {
			if (sl_hash_node(fr, h, path[i], fr) ||
			    sl_hash_node(sr, h, path[i], sr))
				return SL_ECRYPTO;
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			if (sl_hash_node(sr, h, sr, path[i]))
				return SL_ECRYPTO;
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || memcmp(fr, root1, SL_HASH_LEN) ||
	    memcmp(sr, root2, SL_HASH_LEN))
		return SL_EINTEGRITY;
	return 0;
}
