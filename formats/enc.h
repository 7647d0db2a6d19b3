/*
 * enc: the text encodings of the formats: lowercase hex, RFC 4648
 * base64 (standard alphabet, padded) and decimal numbers. Decoders are
 * strict: any byte outside the alphabet, bad padding or a wrong length
 * is rejected.
 */
#ifndef SL_ENC_H
#define SL_ENC_H

#include <stddef.h>
#include <stdint.h>

/** Write 2*n lowercase hex digits and a NUL to out (size >= 2n+1). */
void sl_enc_hex(char *out, const uint8_t *p, size_t n);

/** Decode exactly 2*n lowercase hex digits from s into out[n]. */
int sl_enc_unhex(uint8_t *out, size_t n, const char *s, size_t slen);

/** @v into p[0..8), little-endian (the integers of the kept forms).
 *  Inline: a whole-log pass decodes tens of millions of them. */
static inline void sl_enc_le64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/** p[0..8) read as a little-endian integer. */
static inline uint64_t sl_enc_rdle64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/** Length of the base64 text for n bytes (no NUL). */
size_t sl_enc_b64len(size_t n);

/** Write base64 of p[0..n) and a NUL; out must hold b64len(n)+1. */
void sl_enc_b64(char *out, const uint8_t *p, size_t n);

/**
 * Decode padded base64 s[0..slen) into out (capacity outcap); *outlen gets
 * the decoded size. SL_EINVAL on any malformation, SL_ETOOBIG if too long.
 */
int sl_enc_unb64(uint8_t *out, size_t outcap, size_t *outlen,
    const char *s, size_t slen);

/**
 * Read s[0..n) as a decimal number into *out: digits only (no sign, no
 * white space, leading zeros allowed), not empty, at most 2^64-1.
 * SL_EINVAL otherwise (*out then 0). Every number taken from a request,
 * a file name or a command line is read this way.
 */
int sl_enc_decimal(uint64_t *out, const char *s, size_t n);

#endif
