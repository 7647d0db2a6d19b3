#include "formats/enc.h"
#include "formats/err.h"

static const char hexdig[] = "0123456789abcdef";
static const char b64dig[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void sl_enc_hex(char *out, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdig[p[i] >> 4];
		out[2 * i + 1] = hexdig[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* 1 + the value of a lowercase hex digit, 0 for any other byte: a table,
 * because the verifier decodes a "prev" link for every entry. */
static const uint8_t hexval[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

int sl_enc_unhex(uint8_t *out, size_t n, const char *s, size_t slen)
{
	const uint8_t *u = (const uint8_t *)s;
	int bad = 0;
	size_t i;

	if (slen != 2 * n)
		return SL_EINVAL;
	for (i = 0; i < n; i++) {
		uint8_t hi = hexval[u[2 * i]];
		uint8_t lo = hexval[u[2 * i + 1]];

		bad |= !hi | !lo;
		out[i] = (uint8_t)(((unsigned)(hi - 1) & 15u) << 4 |
		    ((unsigned)(lo - 1) & 15u));
	}
	return bad ? SL_EINVAL : 0;
}

size_t sl_enc_b64len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void sl_enc_b64(char *out, const uint8_t *p, size_t n)
{
	size_t i;
	size_t o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];

		out[o++] = b64dig[v >> 18];
		out[o++] = b64dig[(v >> 12) & 63];
		out[o++] = b64dig[(v >> 6) & 63];
		out[o++] = b64dig[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		out[o++] = b64dig[v >> 18];
		out[o++] = b64dig[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64dig[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int sl_enc_unb64(uint8_t *out, size_t outcap, size_t *outlen,
    const char *s, size_t slen)
{
	size_t i;
	size_t o = 0;

	if (slen % 4)
		return SL_EINVAL;
	for (i = 0; i < slen; i += 4) {
		int v[4];
		int k;
		int pad = 0;
		uint32_t w;

		for (k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == slen && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad)
				return SL_EINVAL; /* data after '=' */
			v[k] = b64val(s[i + k]);
			if (v[k] < 0)
				return SL_EINVAL;
		}
		w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
		    (uint32_t)v[2] << 6 | (uint32_t)v[3];
		/* Canonical encoding only: unused bits must be zero. */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return SL_EINVAL;
		if (o + 3 - (size_t)pad > outcap)
			return SL_ETOOBIG;
		out[o++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)w;
	}
	*outlen = o;
	return 0;
}


int sl_enc_decimal(uint64_t *out, const char *s, size_t n)
{
	uint64_t v = 0;
	size_t i;

	*out = 0;
	if (n == 0)
		return SL_EINVAL;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return SL_EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}
