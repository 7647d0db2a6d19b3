#include "formats/rfc3339.h"
#include "formats/err.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe;
	unsigned doy;
	unsigned doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe;
	unsigned yoe;
	unsigned doy;
	unsigned mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int mdays(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

static int parse_date(const char *s, int *y, int *mo, int *d)
{
	if (digits(s, 4, y) || s[4] != '-' || digits(s + 5, 2, mo) ||
	    s[7] != '-' || digits(s + 8, 2, d))
		return SL_EINVAL;
	if (*mo < 1 || *mo > 12 || *d < 1 || *d > mdays(*y, *mo))
		return SL_EINVAL;
	return 0;
}

int sl_rfc3339_parse_date(int64_t *out, const char *s, size_t n)
{
	int y;
	int mo;
	int d;

	if (n != 10 || parse_date(s, &y, &mo, &d))
		return SL_EINVAL;
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400000;
	return 0;
}

int sl_rfc3339_parse(int64_t *out, const char *s, size_t n)
{
	int y, mo, d, h, mi, sec;
	int ms = 0;
	size_t i;
	int64_t off = 0;
	int64_t v;

	if (n < 20 || parse_date(s, &y, &mo, &d) || s[10] != 'T' ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return SL_EINVAL;
	if (h > 23 || mi > 59 || sec > 59)
		return SL_EINVAL;
	i = 19;
	if (s[i] == '.') {
		size_t f = 0;

		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (f < 3)
				ms = ms * 10 + (s[i] - '0');
			f++;
			i++;
		}
		if (f == 0 || f > 9)
			return SL_EINVAL;
		while (f < 3) {
			ms *= 10;
			f++;
		}
	}
	if (i < n && s[i] == 'Z') {
		i++;
	} else if (i < n && (s[i] == '+' || s[i] == '-')) {
		int oh;
		int om;

		if (n - i != 6 || digits(s + i + 1, 2, &oh) ||
		    s[i + 3] != ':' || digits(s + i + 4, 2, &om) || oh > 23 ||
		    om > 59)
			return SL_EINVAL;
		off = (int64_t)(oh * 60 + om) * 60000;
		if (s[i] == '-')
			off = -off;
		i += 6;
	} else {
		return SL_EINVAL;
	}
	if (i != n)
		return SL_EINVAL;
	v = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400000 +
	    (int64_t)(h * 3600 + mi * 60 + sec) * 1000 + ms - off;
	/* an offset can carry 0000-01-01 or 9999-12-31 past the years that
	 * four digits write: every instant must have a UTC form too */
	if (v < SL_RFC3339_MIN_MS || v > SL_RFC3339_MAX_MS)
		return SL_EINVAL;
	*out = v;
	return 0;
}

/* @n digits of @v, zero-padded, at @p (no printf: every entry and every
 * answer carries one of these). */
static char *put_digits(char *p, unsigned v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

void sl_rfc3339_format(char out[SL_RFC3339_MS_LEN + 1], int64_t ms)
{
	int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	int64_t rem = ms - days * 86400000;
	char *p = out;
	int y;
	unsigned m;
	unsigned d;

	civil_from_days(days, &y, &m, &d);
	p = put_digits(p, (unsigned)y % 10000u, 4);
	*p++ = '-';
	p = put_digits(p, m % 13u, 2);
	*p++ = '-';
	p = put_digits(p, d % 32u, 2);
	*p++ = 'T';
	p = put_digits(p, (unsigned)(rem / 3600000) % 24u, 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(rem / 60000 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (unsigned)(rem / 1000 % 60), 2);
	*p++ = '.';
	p = put_digits(p, (unsigned)(rem % 1000), 3);
	*p++ = 'Z';
	*p = '\0';
}

int sl_rfc3339_is_recorded(const char *s, size_t n, int64_t *ms)
{
	int64_t v;

	/* Exactly YYYY-MM-DDThh:mm:ss.sssZ: fixed width, three fraction
	 * digits, UTC; the parse checks every field's range. */
	if (n != SL_RFC3339_MS_LEN || s[19] != '.' || s[23] != 'Z' ||
	    s[20] < '0' || s[20] > '9' || s[21] < '0' || s[21] > '9' ||
	    s[22] < '0' || s[22] > '9')
		return 0;
	if (sl_rfc3339_parse(&v, s, n))
		return 0;
	if (ms)
		*ms = v;
	return 1;
}

int64_t sl_rfc3339_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
