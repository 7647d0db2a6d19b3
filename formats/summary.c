#include "formats/summary.h"
#include "formats/enc.h"
#include "formats/err.h"
#include "formats/schema.h"

#include <pthread.h>
#include <string.h>

static const char *const names[SL_SC_COUNT] = {
	"deciding_agency_type", "trigger", "decision",
	"requester_agency_type", "harm_threshold", "purpose", "method",
	"lawful_basis", "rli_condition", "sc_condition", "consent_status",
	"consent_not_sought_reason", "family_informed",
	"not_informed_reason", "outcome_type", "child_age_band"
};
static int fields[SL_SC_COUNT];
static int f_decided, f_shared, f_request, f_refusal, f_inform, f_review,
    f_advice_from, f_advice_sought, f_recipients, f_decision_id, f_org,
    f_imported;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int fx(const char *name)
{
	return sl_record_field_index(name, strlen(name));
}

static void init(void)
{
	int i;

	for (i = 0; i < SL_SC_COUNT; i++)
		fields[i] = fx(names[i]);
	f_decided = fx("decided_at");
	f_shared = fx("shared_at");
	f_request = fx("request_received_at");
	f_refusal = fx("refusal_communicated_at");
	f_inform = fx("inform_due_at");
	f_review = fx("review_due_at");
	f_advice_from = fx("advice_from");
	f_advice_sought = fx("advice_sought");
	f_recipients = fx("recipients");
	f_decision_id = fx("decision_id");
	f_org = fx("organisation_id");
	f_imported = fx("imported_from");
}

int sl_summary_field(enum sl_summary_code c)
{
	pthread_once(&once, init);
	return c < SL_SC_COUNT ? fields[c] : -1;
}

static int64_t when(const struct sl_record_view *v, int f)
{
	int64_t ms;

	if (f < 0 || !v->val[f] ||
	    sl_record_value_time(&ms, v->val[f], v->len[f]))
		return INT64_MIN;
	return ms;
}

static uint8_t code_of(const struct sl_record_view *v, int f)
{
	uint32_t c;

	if (f < 0 || !v->val[f])
		return SL_SUMMARY_ABSENT;
	c = v->code[f];
	if (!c || (c & SL_RECORD_CODE_BAD) || (c & (c - 1)))
		return SL_SUMMARY_BAD;
	return (uint8_t)__builtin_ctz(c);
}

/* The agency types of a recipients array: each element is a canonical
 * object that starts {"agency_type":"<value>", (keys are sorted). */
static uint32_t agencies(const struct sl_record_view *v)
{
	static const char key[] = "{\"agency_type\":\"";
	const uint8_t *p, *end;
	uint32_t m = 0;

	if (f_recipients < 0 || !v->val[f_recipients])
		return 0;
	p = v->val[f_recipients];
	end = p + v->len[f_recipients];
	while (p < end && (p = memchr(p, '{', (size_t)(end - p)))) {
		const uint8_t *s, *q;
		int j;

		if ((size_t)(end - p) < sizeof(key) ||
		    memcmp(p, key, sizeof(key) - 1)) {
			p++;
			continue;
		}
		s = p + sizeof(key) - 1;
		q = memchr(s, '"', (size_t)(end - s));
		if (!q)
			break;
		j = sl_record_enum_code(fields[SL_SC_AGENCY],
		    (const char *)s, (size_t)(q - s));
		if (j >= 0)
			m |= UINT32_C(1) << j;
		p = q;
	}
	return m;
}

uint64_t sl_summary_key(struct sl_hash *h, const uint8_t *p, size_t n)
{
	uint8_t d[SL_HASH_LEN];
	uint64_t k = 0;
	int i;

	if (sl_hash_sha256(d, h, p, n))
		return 1;
	for (i = 0; i < 8; i++)
		k = k << 8 | d[i];
	return k ? k : 1;
}

static uint64_t key_of(const struct sl_record_view *v, int f,
    struct sl_hash *h)
{
	if (f < 0 || !v->val[f] || v->val[f][0] != '"')
		return 0;
	return sl_summary_key(h, v->val[f], v->len[f]);
}

void sl_summary_derive(struct sl_summary *s, const struct sl_record_view *v,
    int type, int64_t recorded_ms, struct sl_hash *h)
{
	int i;

	pthread_once(&once, init);
	memset(s, 0, sizeof(*s));
	s->type = (uint8_t)type;
	s->recorded_ms = recorded_ms;
	s->decided_ms = when(v, f_decided);
	s->shared_ms = when(v, f_shared);
	s->request_ms = when(v, f_request);
	s->refusal_ms = when(v, f_refusal);
	s->inform_due_ms = when(v, f_inform);
	s->review_due_ms = when(v, f_review);
	for (i = 0; i < SL_SC_COUNT; i++)
		s->code[i] = code_of(v, fields[i]);
	if (f_advice_from >= 0 && v->val[f_advice_from])
		s->advice_from = v->code[f_advice_from] & ~SL_RECORD_CODE_BAD;
	s->advice_sought = SL_SUMMARY_ABSENT;
	if (f_advice_sought >= 0 && v->val[f_advice_sought] &&
	    !(v->code[f_advice_sought] & SL_RECORD_CODE_BAD))
		s->advice_sought = v->code[f_advice_sought] == 2;
	s->to_agencies = agencies(v);
	s->thread = key_of(v, f_decision_id, h);
	s->org = key_of(v, f_org, h);
	if (f_imported >= 0 && v->val[f_imported])
		s->flags |= SL_SUMMARY_F_IMPORTED;
}

int sl_summary_of_record(struct sl_summary *s, struct sl_record_view *v,
    const uint8_t *rec, size_t n, int type, int64_t recorded_ms,
    struct sl_hash *h)
{
	int rc = sl_record_view_scan(v, rec, n, NULL);

	if (rc)
		memset(v, 0, sizeof(*v));
	sl_summary_derive(s, v, type, recorded_ms, h);
	return rc;
}

/* The kept layout: offsets of the fields, in the order of the struct. */
enum {
	O_TIMES = 0,          /* 7 x i64: decided .. review_due */
	O_THREAD = 56,
	O_ORG = 64,
	O_ADVICE_FROM = 72,
	O_TO_AGENCIES = 76,
	O_TYPE = 80,
	O_ADVICE_SOUGHT = 81,
	O_CODE = 82,          /* SL_SC_COUNT bytes */
	O_VERSION = O_CODE + SL_SC_COUNT,
	O_FLAGS,
};
_Static_assert(O_FLAGS < SL_SUMMARY_LEN, "summary layout");

void sl_summary_encode(uint8_t out[SL_SUMMARY_LEN],
    const struct sl_summary *s)
{
	const int64_t t[7] = { s->decided_ms, s->recorded_ms, s->shared_ms,
	    s->request_ms, s->refusal_ms, s->inform_due_ms,
	    s->review_due_ms };
	int i;

	memset(out, 0, SL_SUMMARY_LEN);
	for (i = 0; i < 7; i++)
		sl_enc_le64(out + O_TIMES + 8 * i, (uint64_t)t[i]);
	sl_enc_le64(out + O_THREAD, s->thread);
	sl_enc_le64(out + O_ORG, s->org);
	sl_enc_le64(out + O_ADVICE_FROM, s->advice_from |
	    (uint64_t)s->to_agencies << 32);
	out[O_TYPE] = s->type;
	out[O_ADVICE_SOUGHT] = s->advice_sought;
	memcpy(out + O_CODE, s->code, SL_SC_COUNT);
	out[O_VERSION] = SL_SUMMARY_VERSION;
	out[O_FLAGS] = s->flags;
}

int sl_summary_decode(struct sl_summary *s, const uint8_t *p, size_t n)
{
	int64_t *t[7] = { &s->decided_ms, &s->recorded_ms, &s->shared_ms,
	    &s->request_ms, &s->refusal_ms, &s->inform_due_ms,
	    &s->review_due_ms };
	uint64_t a;
	int i;

	if (n != SL_SUMMARY_LEN || p[O_VERSION] != SL_SUMMARY_VERSION)
		return SL_EINVAL;
	for (i = 0; i < 7; i++)
		*t[i] = (int64_t)sl_enc_rdle64(p + O_TIMES + 8 * i);
	s->thread = sl_enc_rdle64(p + O_THREAD);
	s->org = sl_enc_rdle64(p + O_ORG);
	a = sl_enc_rdle64(p + O_ADVICE_FROM);
	s->advice_from = (uint32_t)a;
	s->to_agencies = (uint32_t)(a >> 32);
	s->type = p[O_TYPE];
	s->advice_sought = p[O_ADVICE_SOUGHT];
	memcpy(s->code, p + O_CODE, SL_SC_COUNT);
	s->flags = p[O_FLAGS];
	return 0;
}
