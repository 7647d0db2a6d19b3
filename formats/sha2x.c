#include "formats/sha2x.h"
#include "formats/hash.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define HAVE_X86 1
#endif

#ifdef HAVE_X86

#define TGT __attribute__((target("sha,sse4.1,ssse3")))

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b,
	0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
	0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7,
	0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152,
	0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
	0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
	0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

static const uint32_t H0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f,
	0x9b05688c, 0x1f83d9ab, 0x5be0cd19
};

/* The state as SHA-NI wants it: ABEF and CDGH. */
struct lane {
	__m128i abef;
	__m128i cdgh;
};

TGT static void lane_init(struct lane *l)
{
	__m128i t = _mm_loadu_si128((const __m128i *)(const void *)&H0[0]);
	__m128i s1 = _mm_loadu_si128((const __m128i *)(const void *)&H0[4]);

	t = _mm_shuffle_epi32(t, 0xB1);              /* CDAB */
	s1 = _mm_shuffle_epi32(s1, 0x1B);            /* EFGH */
	l->abef = _mm_alignr_epi8(t, s1, 8);         /* ABEF */
	l->cdgh = _mm_blend_epi16(s1, t, 0xF0);      /* CDGH */
}

TGT static void lane_out(uint8_t out[32], const struct lane *l)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
	    0x0405060700010203ULL);
	__m128i t = _mm_shuffle_epi32(l->abef, 0x1B);    /* FEBA */
	__m128i s1 = _mm_shuffle_epi32(l->cdgh, 0xB1);   /* DCHG */
	__m128i s0 = _mm_blend_epi16(t, s1, 0xF0);       /* DCBA */

	s1 = _mm_alignr_epi8(s1, t, 8);                   /* HGFE */
	/* state words are big-endian in the digest */
	_mm_storeu_si128((__m128i *)(void *)out, _mm_shuffle_epi8(s0, bswap));
	_mm_storeu_si128((__m128i *)(void *)(out + 16),
	    _mm_shuffle_epi8(s1, bswap));
}

/*
 * One 64-byte block into each of two lanes, the rounds of both
 * interleaved (b1 may be NULL: one lane only). Round group g holds
 * rounds 4g..4g+3; w[] are the message schedule registers.
 */
TGT static void compress2(struct lane *x, const uint8_t *b0,
    struct lane *y, const uint8_t *b1)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
	    0x0405060700010203ULL);
	__m128i wa[4];
	__m128i wb[4];
	__m128i xa = x->abef;
	__m128i xc = x->cdgh;
	__m128i ya = y->abef;
	__m128i yc = y->cdgh;
	int g;

	for (g = 0; g < 4; g++) {
		wa[g] = _mm_shuffle_epi8(_mm_loadu_si128(
		    (const __m128i *)(const void *)(b0 + 16 * g)), bswap);
		wb[g] = _mm_shuffle_epi8(_mm_loadu_si128(
		    (const __m128i *)(const void *)(b1 + 16 * g)), bswap);
	}
#pragma GCC unroll 16
	for (g = 0; g < 16; g++) {
		__m128i k = _mm_loadu_si128(
		    (const __m128i *)(const void *)&K[4 * g]);
		__m128i ma = _mm_add_epi32(wa[g & 3], k);
		__m128i mb = _mm_add_epi32(wb[g & 3], k);

		xc = _mm_sha256rnds2_epu32(xc, xa, ma);
		yc = _mm_sha256rnds2_epu32(yc, ya, mb);
		if (g >= 3 && g <= 14) {
			wa[(g + 1) & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(
			    wa[(g + 1) & 3], _mm_alignr_epi8(wa[g & 3],
			    wa[(g + 3) & 3], 4)), wa[g & 3]);
			wb[(g + 1) & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(
			    wb[(g + 1) & 3], _mm_alignr_epi8(wb[g & 3],
			    wb[(g + 3) & 3], 4)), wb[g & 3]);
		}
		ma = _mm_shuffle_epi32(ma, 0x0E);
		mb = _mm_shuffle_epi32(mb, 0x0E);
		xa = _mm_sha256rnds2_epu32(xa, xc, ma);
		ya = _mm_sha256rnds2_epu32(ya, yc, mb);
		if (g >= 1 && g <= 12) {
			wa[(g - 1) & 3] = _mm_sha256msg1_epu32(
			    wa[(g - 1) & 3], wa[g & 3]);
			wb[(g - 1) & 3] = _mm_sha256msg1_epu32(
			    wb[(g - 1) & 3], wb[g & 3]);
		}
	}
	x->abef = _mm_add_epi32(xa, x->abef);
	x->cdgh = _mm_add_epi32(xc, x->cdgh);
	y->abef = _mm_add_epi32(ya, y->abef);
	y->cdgh = _mm_add_epi32(yc, y->cdgh);
}

/* A message "pfx || m" seen as padded 64-byte blocks. */
struct msg {
	const uint8_t *m;
	size_t n;
	size_t full;            /* blocks made only of message bytes */
	size_t blocks;          /* all blocks, padding included */
	uint8_t first[64];      /* block 0 when it is a full block */
	uint8_t tail[128];      /* the last one or two blocks */
};

static void msg_init(struct msg *g, uint8_t pfx, const uint8_t *m, size_t n)
{
	size_t len = n + 1;                 /* with the prefix byte */
	size_t rest;
	uint64_t bits = (uint64_t)len * 8;
	int i;

	g->m = m;
	g->n = n;
	g->full = len / 64;
	rest = len - g->full * 64;
	g->blocks = g->full + (rest + 9 > 64 ? 2 : 1);
	if (g->full) {
		g->first[0] = pfx;
		memcpy(g->first + 1, m, 63);
	}
	memset(g->tail, 0, sizeof(g->tail));
	if (g->full == 0) {
		g->tail[0] = pfx;
		memcpy(g->tail + 1, m, n);
	} else {
		/* prefixed byte j is m[j - 1] */
		memcpy(g->tail, m + g->full * 64 - 1, rest);
	}
	g->tail[rest] = 0x80;
	for (i = 0; i < 8; i++)
		g->tail[(g->blocks - g->full) * 64 - 1 - i] =
		    (uint8_t)(bits >> (8 * i));
}

static const uint8_t *msg_block(const struct msg *g, size_t b)
{
	if (b >= g->full)
		return g->tail + 64 * (b - g->full);
	if (b == 0)
		return g->first;
	return g->m + 64 * b - 1;
}

static int accel = -1;

static int detect(void)
{
	unsigned a;
	unsigned b;
	unsigned c;
	unsigned d;

	/* leaf 7 EBX bit 29: SHA; leaf 1 ECX bits 9, 19: SSSE3, SSE4.1 */
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 29)))
		return 0;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) ||
	    !(c & (1u << 19)))
		return 0;
	return 1;
}

int sl_sha2x_accelerated(void)
{
	/* Racing threads all compute the same answer. */
	if (accel < 0)
		__atomic_store_n(&accel, detect(), __ATOMIC_RELAXED);
	return __atomic_load_n(&accel, __ATOMIC_RELAXED);
}

TGT static void two_lanes(uint8_t out0[32], uint8_t out1[32], uint8_t p0,
    const uint8_t *m0, size_t n0, uint8_t p1, const uint8_t *m1, size_t n1)
{
	struct msg a;
	struct msg b;
	struct lane x;
	struct lane y;
	struct lane z;
	size_t i;
	size_t both;

	msg_init(&a, p0, m0, n0);
	msg_init(&b, p1, m1, n1);
	lane_init(&x);
	lane_init(&y);
	both = a.blocks < b.blocks ? a.blocks : b.blocks;
	for (i = 0; i < both; i++)
		compress2(&x, msg_block(&a, i), &y, msg_block(&b, i));
	/* The longer message goes on alone, paired with a throwaway lane. */
	lane_init(&z);
	for (; i < a.blocks; i++)
		compress2(&x, msg_block(&a, i), &z, msg_block(&a, i));
	for (; i < b.blocks; i++)
		compress2(&y, msg_block(&b, i), &z, msg_block(&b, i));
	lane_out(out0, &x);
	lane_out(out1, &y);
}

#endif

static void one(uint8_t out[32], uint8_t pfx, const uint8_t *m, size_t n)
{
	struct sl_hash *h;
	const struct sl_hash_part parts[2] = { { &pfx, 1 }, { m, n } };

	if (sl_hash_new(&h))
		return;
	sl_hash_sha256v(out, h, parts, 2);
	sl_hash_free(h);
}

void sl_sha2x_pair(uint8_t out0[32], uint8_t out1[32], uint8_t p0,
    const uint8_t *m0, size_t n0, uint8_t p1, const uint8_t *m1, size_t n1)
{
#ifdef HAVE_X86
	if (sl_sha2x_accelerated()) {
		two_lanes(out0, out1, p0, m0, n0, p1, m1, n1);
		return;
	}
#endif
	one(out0, p0, m0, n0);
	one(out1, p1, m1, n1);
}

void sl_sha2x_prefixed(uint8_t out0[32], uint8_t out1[32], uint8_t pfx,
    const uint8_t *m0, size_t n0, const uint8_t *m1, size_t n1)
{
	sl_sha2x_pair(out0, out1, pfx, m0, n0, pfx, m1, n1);
}

#ifndef HAVE_X86
int sl_sha2x_accelerated(void)
{
	return 0;
}
#endif
