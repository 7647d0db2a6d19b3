/*
 * buf: a growable byte buffer with a hard maximum (after curl's dynbuf).
 *
 * Every buffer that can be filled from outside (a request body, a line of
 * an import file, a canonical record) is created with the most it may ever
 * hold; an append past that fails with SL_ETOOBIG instead of growing.
 */
#ifndef SL_BUF_H
#define SL_BUF_H

#include <stddef.h>
#include <stdint.h>

struct sl_buf {
	uint8_t *data;  /* owned; NUL-terminated past len when len < cap */
	size_t len;
	size_t cap;
	size_t max;     /* hard limit on len */
};

/** Start an empty buffer that may hold at most @max bytes. No allocation. */
void sl_buf_init(struct sl_buf *b, size_t max);

/** Append @n bytes. SL_ETOOBIG past the maximum, SL_ENOMEM. */
int sl_buf_add(struct sl_buf *b, const void *p, size_t n);

/**
 * Make room for @n more bytes at data + len, for a caller that writes
 * them itself and then adds what it wrote to len. SL_ETOOBIG when that
 * would pass the maximum, SL_ENOMEM.
 */
int sl_buf_room(struct sl_buf *b, size_t n);

/** Append one byte. */
int sl_buf_addc(struct sl_buf *b, uint8_t c);

/** Append a NUL-terminated string. */
int sl_buf_adds(struct sl_buf *b, const char *s);

/** Append @n in decimal (no printf: the 201 answers write many). */
int sl_buf_addi(struct sl_buf *b, long long n);

/** Append printf-formatted text. */
int sl_buf_addf(struct sl_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Forget the content, keep the memory. */
void sl_buf_reset(struct sl_buf *b);

/** Free the memory; the buffer is empty and reusable afterwards. */
void sl_buf_free(struct sl_buf *b);

/**
 * Hand the memory to the caller, NUL-terminated; the caller frees it with
 * free(). The buffer is left empty. Returns NULL on allocation failure.
 */
char *sl_buf_take(struct sl_buf *b, size_t *len);

#endif
