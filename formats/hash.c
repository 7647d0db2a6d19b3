/*
 * The low-level SHA256_* calls are deprecated in OpenSSL 3 in favour of
 * EVP, but they run the same SHA-NI block code without EVP's per-call
 * dispatch (~0.1 us per call); the verifier makes two calls per entry, so
 * this is the difference between matching `openssl dgst` and not.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "formats/hash.h"
#include "formats/err.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>
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

int sl_hash_hmac(uint8_t out[SL_HASH_LEN], const void *key, size_t keylen,
    const void *msg, size_t n)
{
	size_t len = 0;

	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA2-256", NULL, key, keylen,
	    msg, n, out, SL_HASH_LEN, &len) || len != SL_HASH_LEN)
		return SL_ECRYPTO;
	return 0;
}
