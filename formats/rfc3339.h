/*
 * rfc3339: the date-times of the formats.
 *
 * Clients send RFC 3339 date-times with a zone ("2026-03-01T09:30:00Z",
 * "2026-03-01T10:30:00+01:00", optional fraction). The service writes
 * recorded_at in one fixed UTC form with milliseconds:
 * "YYYY-MM-DDThh:mm:ss.sssZ" (24 characters).
 */
#ifndef SL_RFC3339_H
#define SL_RFC3339_H

#include <stddef.h>
#include <stdint.h>

#define SL_RFC3339_MS_LEN 24

/* The instants a four-digit year can write in UTC: 0000-01-01T00:00:00Z
 * and 9999-12-31T23:59:59.999Z, in ms since 1970. */
#define SL_RFC3339_MIN_MS (-62167219200000LL)
#define SL_RFC3339_MAX_MS 253402300799999LL

/**
 * Parse s[0..n) as an RFC 3339 date-time with a zone ('T' and 'Z' upper
 * case, no leap second). *out gets milliseconds since 1970 UTC (fractions
 * past the millisecond are truncated). SL_EINVAL when malformed, when a
 * field is out of range (month 13, 31 April, 25:00, ...) or when the
 * instant in UTC falls outside the years 0000 to 9999.
 */
int sl_rfc3339_parse(int64_t *out, const char *s, size_t n);

/** Parse a calendar date "YYYY-MM-DD" as 00:00:00Z of that day. */
int sl_rfc3339_parse_date(int64_t *out, const char *s, size_t n);

/** Write ms as "YYYY-MM-DDThh:mm:ss.sssZ" plus NUL into out[25]. */
void sl_rfc3339_format(char out[SL_RFC3339_MS_LEN + 1], int64_t ms);

/** 1 if s[0..n) is exactly in the recorded_at form, else 0. */
int sl_rfc3339_is_recorded(const char *s, size_t n, int64_t *ms);

/** Now, in milliseconds since 1970 UTC (CLOCK_REALTIME). */
int64_t sl_rfc3339_now_ms(void);

#endif
