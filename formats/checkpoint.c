#include "formats/checkpoint.h"
#include "formats/enc.h"
#include "formats/note.h"

#include <string.h>

int sl_checkpoint_origin_ok(const char *o)
{
	size_t n = strlen(o);
	size_t i;

	if (n == 0 || n > SL_ORIGIN_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)o[i] <= 0x20 || o[i] == '+' || o[i] == 0x7f)
			return 0;
	return 1;
}

int sl_checkpoint_body(struct sl_buf *out, const struct sl_checkpoint *c)
{
	char b64[48];

	sl_enc_b64(b64, c->root, SL_HASH_LEN);
	return sl_buf_addf(out, "%s\n%llu\n%s\n", c->origin,
	    (unsigned long long)c->size, b64);
}

int sl_checkpoint_sign(struct sl_buf *note, const struct sl_checkpoint *c,
    struct sl_signer *const *signers, size_t n, struct sl_err *e)
{
	struct sl_buf body;
	int rc;

	sl_buf_init(&body, 1024);
	rc = sl_checkpoint_body(&body, c);
	if (rc)
		sl_err_set(e, rc, "out of memory");
	else
		rc = sl_note_sign(note, (const char *)body.data, body.len,
		    signers, n, e);
	sl_buf_free(&body);
	return rc;
}

int sl_checkpoint_parse(struct sl_checkpoint *out, const char *text,
    size_t n, struct sl_err *e)
{
	const char *l1 = text;
	const char *end = text + n;
	const char *nl1;
	const char *nl2;
	const char *nl3;
	const char *p;
	size_t len;
	uint64_t size = 0;

	nl1 = memchr(l1, '\n', n);
	nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
	nl3 = nl2 ? memchr(nl2 + 1, '\n', (size_t)(end - nl2 - 1)) : NULL;
	if (!nl3)
		return sl_err_set(e, SL_EINVAL, "checkpoint: expected origin, "
		    "size and root lines");
	len = (size_t)(nl1 - l1);
	/* a NUL would end the origin early: "a\0b" read as "a" */
	if (len == 0 || len > SL_ORIGIN_MAX || memchr(l1, '\0', len))
		return sl_err_set(e, SL_EINVAL, "checkpoint: bad origin line");
	memcpy(out->origin, l1, len);
	out->origin[len] = '\0';
	if (!sl_checkpoint_origin_ok(out->origin))
		return sl_err_set(e, SL_EINVAL, "checkpoint: origin must not "
		    "contain spaces or '+'");
	p = nl1 + 1;
	if ((*p == '0' && nl2 - p > 1) ||
	    sl_enc_decimal(&size, p, (size_t)(nl2 - p)))
		return sl_err_set(e, SL_EINVAL, "checkpoint: the size must be "
		    "decimal without leading zeros, below 2^64");
	out->size = size;
	{
		size_t rl = 0;

		if (sl_enc_unb64(out->root, SL_HASH_LEN, &rl, nl2 + 1,
		    (size_t)(nl3 - nl2 - 1)) || rl != SL_HASH_LEN)
			return sl_err_set(e, SL_EINVAL, "checkpoint: the root "
			    "must be the base64 of 32 bytes");
	}
	/* Extension lines: allowed, must be non-empty, carry nothing we use. */
	for (p = nl3 + 1; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl || nl == p)
			return sl_err_set(e, SL_EINVAL, "checkpoint: empty or "
			    "unterminated extension line");
		p = nl + 1;
	}
	return 0;
}
