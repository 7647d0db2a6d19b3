/*
 * err: the one error vocabulary of sharelog.
 *
 * Every function returns int: 0 on success, a negative SL_E* code on
 * failure, and, when it was given one, fills the caller's struct sl_err
 * with a sentence a person can act on ("record field /decided_at: not a
 * date-time"), never with a bare code.
 */
#ifndef SL_ERR_H
#define SL_ERR_H

#include <stddef.h>

enum sl_errcode {
	SL_OK = 0,
	SL_EINVAL = -1,     /* bad input: syntax, type, enumeration, rule */
	SL_ENOMEM = -2,
	SL_EIO = -3,        /* file system or OS call failed */
	SL_ETOOBIG = -4,    /* a hard size limit was reached */
	SL_ESTORE = -5,     /* LMDB reported an error */
	SL_ECRYPTO = -6,    /* OpenSSL reported an error */
	SL_ECONFLICT = -7,  /* same id, different content */
	SL_ENOTFOUND = -8,
	SL_EINTEGRITY = -9, /* stored or exported data fails verification */
	SL_EEXIST = -10,
	SL_EUSAGE = -11,
	SL_ESYNTAX = -12,   /* not JSON at all (a subclass of bad input) */
	SL_EBUSY = -13      /* changed meanwhile: try another way or again */
};

/* Size of the sentence buffer: long enough for a JSON pointer and a rule. */
#define SL_ERR_MAX 512

struct sl_err {
	int code;
	char msg[SL_ERR_MAX];
};

/**
 * Record @code and a printf-style sentence in @e (which may be NULL).
 * @return @code, so callers can write `return sl_err_set(e, SL_EINVAL, ...)`.
 */
int sl_err_set(struct sl_err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Prefix the sentence already in @e with "@prefix: ". Returns e->code. */
int sl_err_prefix(struct sl_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Clear @e (code 0, empty sentence). */
void sl_err_clear(struct sl_err *e);

/** A short static description of an SL_E* code. */
const char *sl_strerror(int code);

#endif
