/*
 * The low-level SHA256_* calls are deprecated in OpenSSL 3 in favour of
 * EVP, but they run the same SHA-NI block code without EVP's per-call
 * dispatch (~0.1 us per call); the verifier makes two calls per entry, so
 * this is the difference between matching `openssl dgst` and not.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "formats/hash.h"
#include "formats/err.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

struct sl_hash {
	SHA256_CTX c;
};

const uint8_t sl_hash_empty[SL_HASH_LEN] = {
	0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
	0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
	0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
	0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55
};


int sl_hash_new(struct sl_hash **out)
{
	struct sl_hash *h;

	h = calloc(1, sizeof(*h));
	if (!h)
		return SL_ENOMEM;
	*out = h;
	return 0;
}

void sl_hash_free(struct sl_hash *h)
{
	free(h);
}

static int digest3(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const void *a, size_t an, const void *b, size_t bn,
    const void *c, size_t cn)
{
	if (SHA256_Init(&h->c) != 1)
		return SL_ECRYPTO;
	if (an)
		SHA256_Update(&h->c, a, an);
	if (bn)
		SHA256_Update(&h->c, b, bn);
	if (cn)
		SHA256_Update(&h->c, c, cn);
	return SHA256_Final(out, &h->c) == 1 ? 0 : SL_ECRYPTO;
}

int sl_hash_sha256(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const void *p, size_t n)
{
	return digest3(out, h, p, n, NULL, 0, NULL, 0);
}

int sl_hash_sha256v(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const struct sl_hash_part *parts, size_t n)
{
	size_t i;

	if (SHA256_Init(&h->c) != 1)
		return SL_ECRYPTO;
	for (i = 0; i < n; i++)
		if (parts[i].n)
			SHA256_Update(&h->c, parts[i].p, parts[i].n);
	return SHA256_Final(out, &h->c) == 1 ? 0 : SL_ECRYPTO;
}

int sl_hash_leaf(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const void *entry, size_t n)
{
	static const uint8_t zero = 0x00;

	return digest3(out, h, &zero, 1, entry, n, NULL, 0);
}

int sl_hash_node(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const uint8_t left[SL_HASH_LEN], const uint8_t right[SL_HASH_LEN])
{
	uint8_t buf[1 + 2 * SL_HASH_LEN];

	/* one contiguous update: the 65 bytes fill two blocks directly */
	buf[0] = 0x01;
	memcpy(buf + 1, left, SL_HASH_LEN);
	memcpy(buf + 1 + SL_HASH_LEN, right, SL_HASH_LEN);
	return digest3(out, h, buf, sizeof(buf), NULL, 0, NULL, 0);
}

/*
 * HMAC (RFC 2104) on the low-level calls too: EVP_MAC needs OpenSSL's
 * provider set-up, which costs a short command such as a trail a few
 * milliseconds, and a context copy per pseudonym on the service's path.
 */
struct sl_hash_mac {
	SHA256_CTX inner;   /* after (K0 ^ ipad) */
	SHA256_CTX outer;   /* after (K0 ^ opad) */
};

static int mac_init(struct sl_hash_mac *m, const void *key, size_t keylen)
{
	uint8_t k0[64], pad[64];
	size_t i;
	int ok;

	/* a key longer than the block is hashed first (RFC 2104) */
	memset(k0, 0, sizeof(k0));
	ok = 1;
	if (keylen > sizeof(k0))
		ok = SHA256(key, keylen, k0) != NULL;
	else if (keylen)
		memcpy(k0, key, keylen);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k0[i] ^ 0x36;
	ok = ok && SHA256_Init(&m->inner) == 1 &&
	    SHA256_Update(&m->inner, pad, sizeof(pad)) == 1;
	for (i = 0; i < sizeof(pad); i++)
		pad[i] = k0[i] ^ 0x5c;
	ok = ok && SHA256_Init(&m->outer) == 1 &&
	    SHA256_Update(&m->outer, pad, sizeof(pad)) == 1;
	OPENSSL_cleanse(k0, sizeof(k0));
	OPENSSL_cleanse(pad, sizeof(pad));
	return ok ? 0 : SL_ECRYPTO;
}

int sl_hash_mac_new(struct sl_hash_mac **out, const void *key,
    size_t keylen)
{
	struct sl_hash_mac *m = malloc(sizeof(*m));
	int rc;

	*out = NULL;
	if (!m)
		return SL_ENOMEM;
	rc = mac_init(m, key, keylen);
	if (rc) {
		sl_hash_mac_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void sl_hash_mac_free(struct sl_hash_mac *m)
{
	if (!m)
		return;
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
}

int sl_hash_mac_run(uint8_t out[SL_HASH_LEN], const struct sl_hash_mac *m,
    const void *msg, size_t n)
{
	SHA256_CTX c = m->inner;
	uint8_t ih[SL_HASH_LEN];
	int ok;

	ok = SHA256_Update(&c, msg, n) == 1 && SHA256_Final(ih, &c) == 1;
	c = m->outer;
	ok = ok && SHA256_Update(&c, ih, sizeof(ih)) == 1 &&
	    SHA256_Final(out, &c) == 1;
	OPENSSL_cleanse(ih, sizeof(ih));
	OPENSSL_cleanse(&c, sizeof(c));
	return ok ? 0 : SL_ECRYPTO;
}

int sl_hash_hmac(uint8_t out[SL_HASH_LEN], const void *key, size_t keylen,
    const void *msg, size_t n)
{
	struct sl_hash_mac m;
	int rc = mac_init(&m, key, keylen);

	if (!rc)
		rc = sl_hash_mac_run(out, &m, msg, n);
	OPENSSL_cleanse(&m, sizeof(m));
	return rc;
}
