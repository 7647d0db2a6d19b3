#include "formats/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sl_err_set(struct sl_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int sl_err_prefix(struct sl_err *e, const char *fmt, ...)
{
	char pre[SL_ERR_MAX];
	char old[SL_ERR_MAX];
	va_list ap;

	if (!e)
		return SL_EINVAL;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%.200s: %.300s", pre, old);
	return e->code;
}

void sl_err_clear(struct sl_err *e)
{
	if (!e)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

const char *sl_strerror(int code)
{
	switch (code) {
	case SL_OK: return "success";
	case SL_EINVAL: return "invalid input";
	case SL_ENOMEM: return "out of memory";
	case SL_EIO: return "input/output error";
	case SL_ETOOBIG: return "size limit exceeded";
	case SL_ESTORE: return "store error";
	case SL_ECRYPTO: return "cryptographic library error";
	case SL_ECONFLICT: return "conflicting content for an existing id";
	case SL_ENOTFOUND: return "not found";
	case SL_EINTEGRITY: return "integrity failure";
	case SL_EEXIST: return "already exists";
	case SL_EUSAGE: return "usage error";
	case SL_ESYNTAX: return "syntax error";
	case SL_EBUSY: return "changed meanwhile";
	}
	return "unknown error";
}
