#include "formats/entry.h"
#include "formats/enc.h"
#include "formats/jcs.h"
#include "formats/json.h"
#include "formats/rfc3339.h"

#include <string.h>

static const char *const type_names[SL_ET_COUNT] = {
	"genesis", "decision", "amendment", "reconsideration", "outcome",
	"inform_update", "access", "key_rotation"
};

const char *sl_entry_type_name(int type)
{
	if (type < 0 || type >= SL_ET_COUNT)
		return NULL;
	return type_names[type];
}

int sl_entry_type_parse(const char *s, size_t n)
{
	int i;

	for (i = 0; i < SL_ET_COUNT; i++)
		if (strlen(type_names[i]) == n && !memcmp(type_names[i], s, n))
			return i;
	return -1;
}

static int key_is(const struct sl_jcs_member *m, const char *k)
{
	size_t n = strlen(k);

	return m->key_len == n && !memcmp(m->key, k, n);
}

static int is_string(const struct sl_jcs_member *m)
{
	return m->val_len >= 2 && m->val[0] == '"';
}

static int lit(const uint8_t **p, const uint8_t *end, const char *s,
    size_t n)
{
	if ((size_t)(end - *p) < n || memcmp(*p, s, n))
		return 0;
	*p += n;
	return 1;
}

/*
 * The envelope has one canonical layout, so it is matched directly and
 * only the record (and submitted_by) go through the generic scanner. Any
 * mismatch returns 0 and the generic path below names the problem.
 */
static int scan_fast(struct sl_entry_view *out, const uint8_t *p, size_t n)
{
	const uint8_t *q = p;
	const uint8_t *end = p + n;
	size_t len;
	uint64_t seq = 0;
	int digits = 0;
	const uint8_t *t;

	if (!lit(&q, end, "{\"prev\":\"", 9) || end - q < 64 ||
	    sl_enc_unhex(out->prev, SL_HASH_LEN, (const char *)q, 64))
		return 0;
	q += 64;
	if (!lit(&q, end, "\",\"record\":", 11) || q >= end || *q != '{' ||
	    sl_jcs_scan_value(&len, q, (size_t)(end - q), 2, NULL))
		return 0;
	out->record = q;
	out->record_len = len;
	q += len;
	if (!lit(&q, end, ",\"recorded_at\":\"", 16) || end - q < 24 ||
	    !sl_rfc3339_is_recorded((const char *)q, 24, &out->recorded_ms))
		return 0;
	q += 24;
	if (!lit(&q, end, "\",\"seq\":", 8) || q >= end)
		return 0;
	if (*q == '0') {
		q++;
	} else {
		while (q < end && *q >= '0' && *q <= '9' && digits < 16) {
			seq = seq * 10 + (uint64_t)(*q++ - '0');
			digits++;
		}
		if (!digits || seq > (uint64_t)SL_JSON_MAX_INT)
			return 0;
	}
	if (!lit(&q, end, ",\"submitted_by\":", 16) || q >= end || *q != '"' ||
	    sl_jcs_scan_value(&len, q, (size_t)(end - q), 2, NULL) || len < 3)
		return 0;
	out->submitted_by = q + 1;
	out->submitted_by_len = len - 2;
	q += len;
	if (!lit(&q, end, ",\"type\":\"", 9))
		return 0;
	t = q;
	while (q < end && *q != '"')
		q++;
	out->type = sl_entry_type_parse((const char *)t, (size_t)(q - t));
	if (out->type < 0 || !lit(&q, end, "\"}", 2) || q != end)
		return 0;
	out->seq = seq;
	return 1;
}

int sl_entry_scan(struct sl_entry_view *out, const uint8_t *p, size_t n,
    struct sl_err *e)
{
	static const char *const keys[6] = {
		"prev", "record", "recorded_at", "seq", "submitted_by", "type"
	};
	struct sl_jcs_member m[8];
	size_t nm = 0;
	size_t i;
	uint64_t seq = 0;
	int rc;

	if (n > SL_ENTRY_MAX)
		return sl_err_set(e, SL_ETOOBIG, "entry is %zu bytes, more than "
		    "the limit of %d", n, SL_ENTRY_MAX);
	if (scan_fast(out, p, n))
		return 0;
	rc = sl_jcs_scan(m, 8, &nm, p, n, e);
	if (rc)
		return rc;
	if (nm != 6)
		goto shape;
	for (i = 0; i < 6; i++)
		if (!key_is(&m[i], keys[i]))
			goto shape;
	if (!is_string(&m[0]) || sl_enc_unhex(out->prev, SL_HASH_LEN,
	    (const char *)m[0].val + 1, m[0].val_len - 2))
		return sl_err_set(e, SL_EINVAL, "\"prev\" is not 64 lowercase "
		    "hex digits");
	if (m[1].val[0] != '{')
		return sl_err_set(e, SL_EINVAL, "\"record\" is not an object");
	out->record = m[1].val;
	out->record_len = m[1].val_len;
	if (!is_string(&m[2]) || !sl_rfc3339_is_recorded(
	    (const char *)m[2].val + 1, m[2].val_len - 2, &out->recorded_ms))
		return sl_err_set(e, SL_EINVAL, "\"recorded_at\" is not a UTC "
		    "time of the form YYYY-MM-DDThh:mm:ss.sssZ");
	if (m[3].val[0] < '0' || m[3].val[0] > '9')
		return sl_err_set(e, SL_EINVAL, "\"seq\" is not a non-negative "
		    "integer");
	for (i = 0; i < m[3].val_len; i++)
		seq = seq * 10 + (uint64_t)(m[3].val[i] - '0');
	out->seq = seq;
	if (!is_string(&m[4]) || m[4].val_len == 2)
		return sl_err_set(e, SL_EINVAL, "\"submitted_by\" is not a "
		    "non-empty string");
	out->submitted_by = m[4].val + 1;
	out->submitted_by_len = m[4].val_len - 2;
	out->type = is_string(&m[5]) ? sl_entry_type_parse(
	    (const char *)m[5].val + 1, m[5].val_len - 2) : -1;
	if (out->type < 0)
		return sl_err_set(e, SL_EINVAL, "\"type\" is not one of genesis, "
		    "decision, amendment, reconsideration, outcome, "
		    "inform_update, access, key_rotation");
	return 0;
shape:
	return sl_err_set(e, SL_EINVAL, "an entry has exactly the fields prev, "
	    "record, recorded_at, seq, submitted_by, type");
}

int sl_entry_peek(struct sl_entry_view *out, const uint8_t *p, size_t n)
{
	static const char rat[] = ",\"recorded_at\":\"";
	const uint8_t *end = p + n;
	const uint8_t *q;
	const uint8_t *t;

	memset(out, 0, sizeof(*out));
	if (n < 84 + 2 + 16 + 24 || memcmp(p, "{\"prev\":\"", 9) ||
	    memcmp(p + 73, "\",\"record\":{", 12))
		return SL_EINVAL;
	/* The record ends at the last ,"recorded_at":" (nothing after it can
	 * hold that sequence unescaped). */
	for (q = end - 16 - 24; q > p + 84; q--)
		if (*q == ',' && !memcmp(q, rat, 16))
			break;
	if (q <= p + 84 || !sl_rfc3339_is_recorded((const char *)q + 16, 24,
	    &out->recorded_ms))
		return SL_EINVAL;
	out->record = p + 84;
	out->record_len = (size_t)(q - out->record);
	q += 16 + 24;
	if (end - q < 9 || memcmp(q, "\",\"seq\":", 8))
		return SL_EINVAL;
	for (q += 8; q < end && *q >= '0' && *q <= '9'; q++)
		out->seq = out->seq * 10 + (uint64_t)(*q - '0');
	/* the type: the last string, ,"type":"<name>"} */
	if (n < 3 || end[-1] != '}' || end[-2] != '"')
		return SL_EINVAL;
	for (t = end - 3; t > q && *t != '"'; t--)
		;
	if (t - q < 8 || memcmp(t - 8, ",\"type\":", 8))
		return SL_EINVAL;
	out->type = sl_entry_type_parse((const char *)t + 1,
	    (size_t)(end - 2 - (t + 1)));
	return out->type < 0 ? SL_EINVAL : 0;
}

int sl_entry_build(struct sl_buf *out, const uint8_t prev[SL_HASH_LEN],
    const uint8_t *record, size_t record_len, int64_t recorded_ms,
    uint64_t seq, const char *submitted_by, int type, struct sl_err *e)
{
	char hex[2 * SL_HASH_LEN + 1];
	char ts[SL_RFC3339_MS_LEN + 1];
	const char *tn = sl_entry_type_name(type);
	int rc;

	if (!tn || record_len < 2 || record[0] != '{' || !*submitted_by)
		return sl_err_set(e, SL_EINVAL, "cannot build an entry: bad "
		    "type, record or submitter");
	sl_enc_hex(hex, prev, SL_HASH_LEN);
	sl_rfc3339_format(ts, recorded_ms);
	rc = sl_buf_adds(out, "{\"prev\":\"");
	if (!rc)
		rc = sl_buf_adds(out, hex);
	if (!rc)
		rc = sl_buf_adds(out, "\",\"record\":");
	if (!rc)
		rc = sl_buf_add(out, record, record_len);
	if (!rc)
		rc = sl_buf_adds(out, ",\"recorded_at\":\"");
	if (!rc)
		rc = sl_buf_adds(out, ts);
	if (!rc)
		rc = sl_buf_adds(out, "\",\"seq\":");
	if (!rc)
		rc = sl_buf_addi(out, (long long)seq);
	if (!rc)
		rc = sl_buf_adds(out, ",\"submitted_by\":");
	if (!rc)
		rc = sl_jcs_write_string(out, submitted_by,
		    strlen(submitted_by));
	if (!rc)
		rc = sl_buf_adds(out, ",\"type\":\"");
	if (!rc)
		rc = sl_buf_adds(out, tn);
	if (!rc)
		rc = sl_buf_adds(out, "\"}");
	if (rc == SL_ETOOBIG)
		return sl_err_set(e, rc, "entry would be larger than %zu bytes",
		    out->max);
	if (rc && e && !e->code)
		sl_err_set(e, rc, "cannot build an entry: %s", sl_strerror(rc));
	return rc;
}
