#include "formats/summary.h"
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
    f_advice_from, f_advice_sought, f_recipients;
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

void sl_summary_derive(struct sl_summary *s, const struct sl_record_view *v,
    int type, int64_t recorded_ms)
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
}
