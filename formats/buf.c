#include "formats/buf.h"
#include "formats/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_buf_init(struct sl_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* Make room for @n more bytes plus a terminating NUL. */
static int reserve(struct sl_buf *b, size_t n)
{
	size_t need;
	size_t cap;
	uint8_t *p;

	if (n > b->max - b->len)
		return SL_ETOOBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (!p)
		return SL_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int sl_buf_room(struct sl_buf *b, size_t n)
{
	return reserve(b, n);
}

int sl_buf_add(struct sl_buf *b, const void *p, size_t n)
{
	int rc = reserve(b, n);

	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int sl_buf_addc(struct sl_buf *b, uint8_t c)
{
	int rc;

	if (b->len + 1 < b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return 0;
	}
	rc = reserve(b, 1);
	if (rc)
		return rc;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
	return 0;
}

int sl_buf_adds(struct sl_buf *b, const char *s)
{
	return sl_buf_add(b, s, strlen(s));
}

int sl_buf_addi(struct sl_buf *b, long long n)
{
	char d[24];
	size_t i = sizeof(d);
	unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n :
	    (unsigned long long)n;

	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (n < 0)
		d[--i] = '-';
	return sl_buf_add(b, d + i, sizeof(d) - i);
}

int sl_buf_addf(struct sl_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return SL_ETOOBIG;
	return sl_buf_add(b, tmp, (size_t)n);
}

void sl_buf_reset(struct sl_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void sl_buf_free(struct sl_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

char *sl_buf_take(struct sl_buf *b, size_t *len)
{
	char *p;

	if (!b->data && reserve(b, 0))
		return NULL;
	p = (char *)b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
