#include "formats/hash.h"
#include "formats/err.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>

struct sl_hash {
	EVP_MD_CTX *ctx;
};

const uint8_t sl_hash_empty[SL_HASH_LEN] = {
	0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
	0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
	0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
	0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55
};

static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;

static void md_fetch(void)
{
	/* Never freed: one fetch for the life of the process is the point. */
	md_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
}

int sl_hash_new(struct sl_hash **out)
{
	struct sl_hash *h;

	pthread_once(&md_once, md_fetch);
	if (!md_sha256)
		return SL_ECRYPTO;
	h = calloc(1, sizeof(*h));
	if (!h)
		return SL_ENOMEM;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx) {
		free(h);
		return SL_ENOMEM;
	}
	*out = h;
	return 0;
}

void sl_hash_free(struct sl_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

static int digest2(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const void *a, size_t an, const void *b, size_t bn,
    const void *c, size_t cn)
{
	unsigned int len = 0;

	if (EVP_DigestInit_ex2(h->ctx, md_sha256, NULL) != 1)
		return SL_ECRYPTO;
	if (an && EVP_DigestUpdate(h->ctx, a, an) != 1)
		return SL_ECRYPTO;
	if (bn && EVP_DigestUpdate(h->ctx, b, bn) != 1)
		return SL_ECRYPTO;
	if (cn && EVP_DigestUpdate(h->ctx, c, cn) != 1)
		return SL_ECRYPTO;
	if (EVP_DigestFinal_ex(h->ctx, out, &len) != 1 || len != SL_HASH_LEN)
		return SL_ECRYPTO;
	return 0;
}

int sl_hash_sha256(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const void *p, size_t n)
{
	return digest2(out, h, p, n, NULL, 0, NULL, 0);
}

int sl_hash_leaf(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const void *entry, size_t n)
{
	static const uint8_t zero = 0x00;

	return digest2(out, h, &zero, 1, entry, n, NULL, 0);
}

int sl_hash_node(uint8_t out[SL_HASH_LEN], struct sl_hash *h,
    const uint8_t left[SL_HASH_LEN], const uint8_t right[SL_HASH_LEN])
{
	static const uint8_t one = 0x01;

	return digest2(out, h, &one, 1, left, SL_HASH_LEN, right,
	    SL_HASH_LEN);
}

int sl_hash_hmac(uint8_t out[SL_HASH_LEN], const void *key, size_t keylen,
    const void *msg, size_t n)
{
	size_t len = 0;

	pthread_once(&md_once, md_fetch);
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA2-256", NULL, key, keylen,
	    msg, n, out, SL_HASH_LEN, &len) || len != SL_HASH_LEN)
		return SL_ECRYPTO;
	return 0;
}
