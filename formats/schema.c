#include "formats/schema.h"
#include "formats/json.h"
#include "formats/rfc3339.h"
#include "formats/enc.h"

#include <pthread.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* ---- enumerations (domain.md 8a) ----------------------------------- */

#define E(...) (const char *const[]){ __VA_ARGS__, NULL }

static const char *const agency[] = {
	"la_childrens_social_care", "mash", "police", "health_gp",
	"health_acute", "health_community", "health_mental_health",
	"health_ambulance", "school", "early_years", "further_education",
	"probation", "youth_justice", "housing", "adult_social_care",
	"cafcass", "voluntary_sector", "la_other", "other_la_area", "other",
	NULL
};

static const char *const record_types[] = {
	"decision", "amendment", "reconsideration", "outcome",
	"inform_update", NULL
};

/* ---- the table ------------------------------------------------------ */

static const struct sl_field fields[] = {
	{ "schema_version", SL_FT_VERSION, NULL, SL_REQ_STRUCT, SL_RT_ALL, 0,
	    "", "\"1\"" },
	{ "record_id", SL_FT_RECORD_ID, NULL, SL_REQ_STRUCT, SL_RT_ALL, 0,
	    "", "unique id of this record (ULID or UUID); the idempotency key" },
	{ "record_type", SL_FT_ENUM, record_types, SL_REQ_STRUCT, SL_RT_ALL,
	    0, "", "" },
	{ "decision_id", SL_FT_ID, NULL, SL_REQ_STRUCT, SL_RT_ALL, 0, "",
	    "stable id of the decision thread" },
	{ "refers_to_record_id", SL_FT_RECORD_ID, NULL, SL_REQ_COND,
	    SL_RT_ALL & ~SL_RT_DECISION, 0, "V20",
	    "the earlier record of the same thread this one follows" },
	{ "decided_at", SL_FT_DATETIME, NULL, SL_REQ_STRUCT, SL_RT_ALL, 0,
	    "V18,V19", "when the decision (or this follow-up) was made" },
	{ "organisation_id", SL_FT_ID, NULL, SL_REQ_STRUCT, SL_RT_ALL, 0, "",
	    "the deciding organisation (ODS/URN/LA code)" },
	{ "deciding_agency_type", SL_FT_ENUM, agency, SL_REQ_STRUCT, SL_RT_DR,
	    SL_F_OTHER_TEXT, "V02", "" },
	{ "practitioner_id", SL_FT_ID, NULL, SL_REQ_STRUCT, SL_RT_ALL, 0,
	    "V18", "pseudonymous staff id" },
	{ "practitioner_role", SL_FT_ENUM, E("frontline", "dsl",
	    "designated_professional", "manager", "mash_officer", "clinician",
	    "police_officer", "other"), SL_REQ_ALWAYS, SL_RT_ALL,
	    SL_F_OTHER_TEXT, "V18", "" },
	{ "signature", SL_FT_SIGNATURE, NULL, SL_REQ_OPT, SL_RT_ALL, 0, "V18",
	    "optional Ed25519 signature of the practitioner" },
	{ "case_ref", SL_FT_ID, NULL, SL_REQ_STRUCT, SL_RT_ALL, 0, "",
	    "local case or contact number" },
	{ "child_id", SL_FT_ID, NULL, SL_REQ_STRUCT, SL_RT_ALL,
	    SL_F_INPUT_ONLY, "",
	    "the LA child id; replaced by child_ref, never stored" },
	{ "child_ref", SL_FT_ID, NULL, SL_REQ_OPT, SL_RT_ALL, SL_F_SERVICE, "",
	    "keyed pseudonym of child_id computed by the service" },
	{ "child_age_band", SL_FT_ENUM, E("unborn", "0_4", "5_9", "10_15",
	    "16_17", "18_plus_at_risk"), SL_REQ_ALWAYS, SL_RT_DR, 0,
	    "V07,V25", "" },
	{ "other_subject_roles", SL_FT_ENUMSET, E("parent_carer", "sibling",
	    "adult_posing_risk", "household_member", "other"), SL_REQ_OPT,
	    SL_RT_ALL, SL_F_OTHER_TEXT, "", "" },
	{ "trigger", SL_FT_ENUM, E("proactive_concern", "request_received",
	    "multi_agency_meeting", "statutory_enquiry", "court_or_legal",
	    "other"), SL_REQ_ALWAYS, SL_RT_DR, SL_F_OTHER_TEXT, "V11", "" },
	{ "requester_agency_type", SL_FT_ENUM, agency, SL_REQ_COND, SL_RT_DR,
	    SL_F_OTHER_TEXT, "V11", "when trigger is request_received" },
	{ "requester_org", SL_FT_ID, NULL, SL_REQ_COND, SL_RT_DR, 0, "V11",
	    "" },
	{ "requester_role", SL_FT_ID, NULL, SL_REQ_COND, SL_RT_DR, 0, "V11",
	    "" },
	{ "request_received_at", SL_FT_DATETIME, NULL, SL_REQ_COND, SL_RT_DR,
	    0, "V11,V19", "" },
	{ "information_requested", SL_FT_TEXT, NULL, SL_REQ_COND, SL_RT_DR, 0,
	    "V11", "" },
	{ "harm_threshold", SL_FT_ENUM, E("wellbeing_concern", "child_in_need",
	    "suspected_significant_harm", "immediate_risk", "unknown"),
	    SL_REQ_ALWAYS, SL_RT_DR, 0, "V15,V21", "" },
	{ "decision", SL_FT_ENUM, E("share", "not_share", "partial"),
	    SL_REQ_STRUCT, SL_RT_DR, 0, "", "" },
	{ "purpose", SL_FT_ENUM, E("s47_enquiry", "referral_to_csc",
	    "early_help", "child_in_need_assessment", "mash_enquiry",
	    "strategy_discussion", "cp_conference_or_plan",
	    "missing_or_exploitation", "prevent_or_detect_crime",
	    "health_care", "education_welfare", "other"), SL_REQ_ALWAYS,
	    SL_RT_DR, SL_F_OTHER_TEXT, "V03", "" },
	{ "information_shared", SL_FT_TEXT, NULL, SL_REQ_COND, SL_RT_DR, 0,
	    "V03", "summary of what was shared, not the content" },
	{ "info_categories", SL_FT_ENUMSET, E("identity_contact",
	    "address_location", "health", "mental_health", "sexual_health",
	    "education", "social_care_history", "criminal_offence",
	    "domestic_abuse", "substance_misuse", "other"), SL_REQ_COND,
	    SL_RT_DR, SL_F_OTHER_TEXT, "V03", "" },
	{ "information_withheld", SL_FT_TEXT, NULL, SL_REQ_COND, SL_RT_DR, 0,
	    "V12", "for partial and not_share" },
	{ "recipients", SL_FT_RECIPIENTS, NULL, SL_REQ_COND, SL_RT_DR, 0,
	    "V03", "at least one for share/partial" },
	{ "shared_at", SL_FT_DATETIME, NULL, SL_REQ_COND, SL_RT_DR, 0, "V04",
	    "" },
	{ "method", SL_FT_ENUM, E("secure_email", "secure_portal",
	    "case_system", "phone", "in_person", "multi_agency_meeting",
	    "post_sealed", "other"), SL_REQ_COND, SL_RT_DR, SL_F_OTHER_TEXT,
	    "V16", "" },
	{ "channel_ref", SL_FT_ID, NULL, SL_REQ_OPT, SL_RT_ALL, 0, "",
	    "e.g. the secure-email package id" },
	{ "written_confirmation_at", SL_FT_DATETIME, NULL, SL_REQ_COND,
	    SL_RT_DR, 0, "V16", "when method is phone or in_person" },
	{ "lawful_basis", SL_FT_ENUM, E("consent_6_1_a", "contract_6_1_b",
	    "legal_obligation_6_1_c", "vital_interests_6_1_d",
	    "public_task_6_1_e", "recognised_legitimate_interest_6_1_ea",
	    "legitimate_interests_6_1_f", "law_enforcement_part3"),
	    SL_REQ_COND, SL_RT_DR, 0, "V05,V08,V22,V23", "" },
	{ "rli_condition", SL_FT_ENUM, E("safeguarding_vulnerable_individual",
	    "crime", "emergency", "national_security", "public_body_request"),
	    SL_REQ_COND, SL_RT_DR, 0, "V07", "" },
	{ "legal_gateway", SL_FT_ENUMSET, E("ca1989_s17", "ca1989_s47",
	    "ca2004_s10", "ca2004_s11", "cda1998_s115", "ea2002_s175",
	    "other"), SL_REQ_OPT, SL_RT_DR, SL_F_OTHER_TEXT, "", "" },
	{ "special_category", SL_FT_BOOL, NULL, SL_REQ_ALWAYS, SL_RT_DR, 0,
	    "V06", "" },
	{ "criminal_offence_data", SL_FT_BOOL, NULL, SL_REQ_ALWAYS, SL_RT_DR, 0,
	    "V06", "" },
	{ "sc_condition", SL_FT_ENUM, E("sch1_p18_safeguarding",
	    "sch1_p6_statutory", "sch1_p10_crime",
	    "sch1_p2_health_social_care", "art9_2_c_vital_interests",
	    "art9_2_a_explicit_consent", "sch8_p1_statutory",
	    "sch8_p3_vital_interests", "sch8_p4_safeguarding", "other"),
	    SL_REQ_COND, SL_RT_DR, SL_F_OTHER_TEXT, "V06,V07", "" },
	{ "sch_consent_reason", SL_FT_ENUM, E("consent_cannot_be_given",
	    "cannot_reasonably_obtain", "would_prejudice_protection"),
	    SL_REQ_COND, SL_RT_DR, 0, "V07", "" },
	{ "consent_status", SL_FT_ENUM, E("given", "refused", "withdrawn",
	    "not_sought", "unable_to_obtain", "lacks_capacity"),
	    SL_REQ_ALWAYS, SL_RT_DR, 0, "V08,V09", "" },
	{ "consent_from", SL_FT_ENUM, E("child_competent", "parent_carer",
	    "adult_subject", "not_applicable"), SL_REQ_COND, SL_RT_DR, 0,
	    "V08", "" },
	{ "consent_not_sought_reason", SL_FT_ENUM, E("risk_of_harm_to_child",
	    "risk_to_others", "would_prejudice_investigation", "urgency",
	    "consent_not_relied_on", "unable_to_contact", "other"),
	    SL_REQ_COND, SL_RT_DR, SL_F_OTHER_TEXT, "V09", "" },
	{ "consent_override_reason", SL_FT_TEXT, NULL, SL_REQ_COND, SL_RT_DR,
	    0, "V09", "share/partial after a refusal or withdrawal" },
	{ "views_child", SL_FT_TEXT, NULL, SL_REQ_OPT, SL_RT_DR, 0, "V25",
	    "the child's voice" },
	{ "views_family", SL_FT_TEXT, NULL, SL_REQ_OPT, SL_RT_DR, 0, "",
	    "the family's views on sharing" },
	{ "family_informed", SL_FT_ENUM, E("informed_before", "informed_after",
	    "will_inform_later", "not_informed", "not_applicable"),
	    SL_REQ_ALWAYS, SL_RT_DR | SL_RT_INFORM_UPDATE, 0, "V10", "" },
	{ "not_informed_reason", SL_FT_ENUM, E("risk_of_harm_to_child",
	    "risk_of_harm_to_other", "suspected_sexual_abuse",
	    "fabricated_or_induced_illness",
	    "undermine_serious_crime_investigation",
	    "carer_may_react_violently", "child_may_withhold_or_withdraw",
	    "competent_child_wishes", "advised_by_police_or_csc", "other"),
	    SL_REQ_COND, SL_RT_DR | SL_RT_INFORM_UPDATE, SL_F_OTHER_TEXT,
	    "V10", "" },
	{ "inform_due_at", SL_FT_DATETIME, NULL, SL_REQ_COND,
	    SL_RT_DR | SL_RT_INFORM_UPDATE, 0, "V10,V26", "" },
	{ "necessity_statement", SL_FT_TEXT, NULL, SL_REQ_COND, SL_RT_DR, 0,
	    "V13", "why sharing was necessary and proportionate" },
	{ "prop_risk_level", SL_FT_ENUM, E("none", "low", "moderate",
	    "significant", "severe"), SL_REQ_COND, SL_RT_DR, 0, "V14", "" },
	{ "prop_imminence", SL_FT_ENUM, E("immediate", "days", "weeks",
	    "not_imminent", "unknown"), SL_REQ_COND, SL_RT_DR, 0, "V14", "" },
	{ "prop_safety_gain", SL_FT_TEXT, NULL, SL_REQ_COND, SL_RT_DR, 0, "V14",
	    "" },
	{ "prop_relationship_impact", SL_FT_TEXT, NULL, SL_REQ_COND, SL_RT_DR,
	    0, "V14", "" },
	{ "prop_could_wait", SL_FT_TEXT, NULL, SL_REQ_COND, SL_RT_DR, 0, "V14",
	    "" },
	{ "advice_sought", SL_FT_BOOL, NULL, SL_REQ_ALWAYS, SL_RT_DR, 0, "V15",
	    "" },
	{ "advice_from", SL_FT_ENUMSET, E("manager_supervisor", "dsl",
	    "designated_professional", "dpo_ig_lead", "caldicott_guardian",
	    "legal", "csc_or_mash", "police", "other"), SL_REQ_COND, SL_RT_DR,
	    SL_F_OTHER_TEXT, "V15", "" },
	{ "advice_summary", SL_FT_TEXT, NULL, SL_REQ_COND, SL_RT_DR, 0, "V15",
	    "" },
	{ "identities_at_risk", SL_FT_BOOL, NULL, SL_REQ_ALWAYS, SL_RT_DR, 0,
	    "V17", "a third party could be harmed if identified" },
	{ "identity_protection", SL_FT_TEXT, NULL, SL_REQ_COND, SL_RT_DR, 0,
	    "V17", "" },
	{ "refusal_communicated_at", SL_FT_DATETIME, NULL, SL_REQ_COND,
	    SL_RT_DR, 0, "V11", "for not_share on a request" },
	{ "new_information_summary", SL_FT_TEXT, NULL, SL_REQ_COND,
	    SL_RT_RECONSIDERATION, 0, "V20", "" },
	{ "review_due_at", SL_FT_DATETIME, NULL, SL_REQ_COND, SL_RT_DR, 0,
	    "V21,V26", "" },
	{ "outcome_type", SL_FT_ENUM, E("nfa", "early_help", "csc_assessment",
	    "s47_started", "cp_plan", "police_action", "info_only", "unknown"),
	    SL_REQ_ALWAYS, SL_RT_OUTCOME, 0, "", "" },
	{ "amendment_reason", SL_FT_TEXT, NULL, SL_REQ_ALWAYS,
	    SL_RT_AMENDMENT, 0, "", "" },
	{ "dsa_ref", SL_FT_ID, NULL, SL_REQ_OPT, SL_RT_ALL, 0, "", "" },
	{ "dpia_ref", SL_FT_ID, NULL, SL_REQ_OPT, SL_RT_ALL, 0, "", "" },
	{ "apd_ref", SL_FT_ID, NULL, SL_REQ_OPT, SL_RT_ALL, 0, "", "" },
	{ "rationale", SL_FT_TEXT, NULL, SL_REQ_ALWAYS, SL_RT_DR, 0, "V01",
	    "free-text reasons; 40 characters or more" },
	{ "imported_from", SL_FT_ID, NULL, SL_REQ_OPT, SL_RT_ALL, SL_F_SERVICE,
	    "V19", "set by sharelogd import: the source named in the column "
	    "mapping; the record came from a spreadsheet, not a live case "
	    "system" },
};

static const char *const recipient_keys[] = {
	"agency_type", "agency_type_text", "org", "role", NULL
};

const struct sl_field *sl_schema_fields(size_t *n)
{
	*n = sizeof(fields) / sizeof(fields[0]);
	return fields;
}

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/*
 * The table by name, built once: every key of every record is looked up,
 * so this is an open-addressing hash (FNV-1a) with one string compare per
 * hit rather than a binary search's six or seven.
 */
#define BY_NAME_SLOTS 256   /* a power of two, over twice NFIELDS */
static const struct sl_field *by_name[BY_NAME_SLOTS];
static pthread_once_t by_name_once = PTHREAD_ONCE_INIT;

_Static_assert(BY_NAME_SLOTS >= 2 * NFIELDS, "schema hash too full");

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s) {
		h ^= (uint8_t)*s++;
		h *= 16777619u;
	}
	return h;
}

static void build_index(void)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		uint32_t h = name_hash(fields[i].name);

		while (by_name[h & (BY_NAME_SLOTS - 1)])
			h++;
		by_name[h & (BY_NAME_SLOTS - 1)] = &fields[i];
	}
}

const struct sl_field *sl_schema_find_other_text(const char *name)
{
	size_t n = strlen(name);
	char stem[128];
	const struct sl_field *f;

	if (n <= 5 || n - 5 >= sizeof(stem) || strcmp(name + n - 5, "_text"))
		return NULL;
	memcpy(stem, name, n - 5);
	stem[n - 5] = '\0';
	f = sl_schema_find(stem);
	return f && (f->flags & SL_F_OTHER_TEXT) ? f : NULL;
}

const struct sl_field *sl_schema_find(const char *name)
{
	uint32_t h;
	const struct sl_field *f;

	pthread_once(&by_name_once, build_index);
	for (h = name_hash(name); (f = by_name[h & (BY_NAME_SLOTS - 1)]); h++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

unsigned sl_schema_rtype(const char *name)
{
	unsigned i;

	for (i = 0; record_types[i]; i++)
		if (!strcmp(record_types[i], name))
			return 1u << i;
	return 0;
}

/* ---- validation ----------------------------------------------------- */

static int fail(struct sl_err *e, const char *ptr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct sl_err *e, const char *ptr, const char *fmt, ...)
{
	char why[SL_ERR_MAX / 2];
	va_list ap;

	if (!e)
		return SL_EINVAL;  /* the fast pass: no message wanted */
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return sl_err_set(e, SL_EINVAL, "field %s: %s", ptr, why);
}

static void list_values(char *out, size_t cap, const char *const *v)
{
	size_t o = 0;

	out[0] = '\0';
	for (; *v && o + 1 < cap; v++) {
		int n = snprintf(out + o, cap - o, "%s%s", o ? ", " : "", *v);

		if (n < 0)
			break;
		o += (size_t)n;
	}
	if (o >= cap && cap > 4)
		memcpy(out + cap - 4, "...", 4);
}

static int in_enum(const char *const *v, const char *s)
{
	for (; *v; v++)
		if (!strcmp(*v, s))
			return 1;
	return 0;
}

static int check_enum(const char *const *values, const json_t *v,
    const char *ptr, struct sl_err *e)
{
	char list[SL_ERR_MAX / 2 - 40];

	if (!json_is_string(v))
		return fail(e, ptr, "must be a string from the enumeration");
	if (in_enum(values, json_string_value(v)))
		return 0;
	if (!e)
		return SL_EINVAL;
	list_values(list, sizeof(list), values);
	return fail(e, ptr, "not one of: %s", list);
}

/* 0 when s[0..n) is an identifier; 1 wrong length, 2 a control character. */
static int id_fault(const unsigned char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > SL_SCHEMA_ID_MAX)
		return 1;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 2;
	return 0;
}

static int check_id(const json_t *v, const char *ptr, struct sl_err *e)
{
	int why;

	if (!json_is_string(v))
		return fail(e, ptr, "must be a string");
	why = id_fault((const unsigned char *)json_string_value(v),
	    json_string_length(v));
	if (why == 1)
		return fail(e, ptr, "must be 1 to %d characters",
		    SL_SCHEMA_ID_MAX);
	if (why == 2)
		return fail(e, ptr, "must not contain control "
		    "characters");
	return 0;
}

static int is_ulid(const char *s, size_t n)
{
	static const char crock[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	size_t i;

	if (n != 26 || s[0] > '7')  /* 128 bits: first char at most 7 */
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr(crock, s[i]) || !s[i])
			return 0;
	return 1;
}

static int is_uuid(const char *s, size_t n)
{
	size_t i;

	if (n != 36)
		return 0;
	for (i = 0; i < n; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		char c = s[i];

		if (dash ? c != '-' : !((c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'f')))
			return 0;
	}
	return 1;
}

int sl_schema_string_ok(enum sl_ftype t, const char *const *values,
    const char *s, size_t n)
{
	uint8_t sig[64];
	size_t sn = 0;
	int64_t ms;

	switch (t) {
	case SL_FT_VERSION:
		return n == sizeof(SL_SCHEMA_VERSION) - 1 &&
		    !memcmp(s, SL_SCHEMA_VERSION, n);
	case SL_FT_ID:
		return !id_fault((const unsigned char *)s, n);
	case SL_FT_RECORD_ID:
		return is_ulid(s, n) || is_uuid(s, n);
	case SL_FT_TEXT:
		return n <= SL_SCHEMA_TEXT_MAX;
	case SL_FT_ENUM:
		for (; values && *values; values++)
			if (strlen(*values) == n && !memcmp(*values, s, n))
				return 1;
		return 0;
	case SL_FT_DATETIME:
		return !sl_rfc3339_parse(&ms, s, n);
	case SL_FT_SIGNATURE:
		return !sl_enc_unb64(sig, sizeof(sig), &sn, s, n) && sn == 64;
	default:
		return 0;
	}
}

int sl_schema_recipient_key(const char *key)
{
	return in_enum(recipient_keys, key);
}

static int check_recipients(const json_t *v, const char *ptr,
    struct sl_err *e)
{
	char sub[256];
	size_t i;
	json_t *r;

	if (!json_is_array(v))
		return fail(e, ptr, "must be an array of {agency_type, org, "
		    "role}");
	if (json_array_size(v) > SL_SCHEMA_RECIPIENTS_MAX)
		return fail(e, ptr, "more than %d recipients",
		    SL_SCHEMA_RECIPIENTS_MAX);
	json_array_foreach(v, i, r) {
		const char *key;
		json_t *m;
		json_t *at;

		sub[0] = '\0';
		if (e)
			snprintf(sub, sizeof(sub), "%.200s/%zu", ptr, i);
		if (!json_is_object(r))
			return fail(e, sub, "must be an object {agency_type, "
			    "org, role}");
		json_object_foreach(r, key, m) {
			char kp[300];
			int rc;

			kp[0] = '\0';
			if (e) {
				snprintf(kp, sizeof(kp), "%.230s", sub);
				sl_json_pointer_add(kp, sizeof(kp), key);
			}
			if (!in_enum(recipient_keys, key))
				return fail(e, kp, "unknown field (a recipient "
				    "has agency_type, agency_type_text, org, "
				    "role)");
			if (!strcmp(key, "agency_type"))
				rc = check_enum(agency, m, kp, e);
			else if (!strcmp(key, "agency_type_text"))
				rc = json_is_string(m) &&
				    json_string_length(m) <= SL_SCHEMA_TEXT_MAX
				    ? 0 : fail(e, kp, "must be text");
			else
				rc = check_id(m, kp, e);
			if (rc)
				return rc;
		}
		at = json_object_get(r, "agency_type");
		if (!at) {
			char kp[300];

			snprintf(kp, sizeof(kp), "%.230s/agency_type", sub);
			return fail(e, kp, "required for every recipient");
		}
	}
	return 0;
}

static int check_field(const struct sl_field *f, const json_t *v,
    const char *ptr, struct sl_err *e)
{
	switch (f->type) {
	case SL_FT_VERSION:
		if (!json_is_string(v) || !sl_schema_string_ok(f->type, NULL,
		    json_string_value(v), json_string_length(v)))
			return fail(e, ptr, "must be \"%s\"",
			    SL_SCHEMA_VERSION);
		return 0;
	case SL_FT_ID:
		return check_id(v, ptr, e);
	case SL_FT_RECORD_ID:
		if (!json_is_string(v) || !sl_schema_string_ok(f->type, NULL,
		    json_string_value(v), json_string_length(v)))
			return fail(e, ptr, "must be a ULID (26 characters, "
			    "Crockford base32, upper case) or a lower-case "
			    "UUID");
		return 0;
	case SL_FT_TEXT:
		if (!json_is_string(v))
			return fail(e, ptr, "must be a string");
		if (json_string_length(v) > SL_SCHEMA_TEXT_MAX)
			return fail(e, ptr, "longer than %d bytes",
			    SL_SCHEMA_TEXT_MAX);
		return 0;
	case SL_FT_ENUM:
		return check_enum(f->values, v, ptr, e);
	case SL_FT_ENUMSET: {
		size_t i;
		size_t j;
		json_t *m;

		if (!json_is_array(v))
			return fail(e, ptr, "must be an array of values from "
			    "the enumeration");
		json_array_foreach(v, i, m) {
			char sub[300];
			int rc;

			if (e)
				snprintf(sub, sizeof(sub), "%.200s/%zu", ptr,
				    i);
			else
				sub[0] = '\0';
			rc = check_enum(f->values, m, sub, e);
			if (rc)
				return rc;
			for (j = 0; j < i; j++)
				if (json_equal(json_array_get(v, j), m))
					return fail(e, sub, "listed twice");
		}
		return 0;
	}
	case SL_FT_BOOL:
		if (!json_is_boolean(v))
			return fail(e, ptr, "must be true or false");
		return 0;
	case SL_FT_DATETIME:
		if (!json_is_string(v) || !sl_schema_string_ok(f->type, NULL,
		    json_string_value(v), json_string_length(v)))
			return fail(e, ptr, "must be an RFC 3339 date-time "
			    "with a zone, e.g. 2026-03-01T09:30:00Z");
		return 0;
	case SL_FT_RECIPIENTS:
		return check_recipients(v, ptr, e);
	case SL_FT_SIGNATURE:
		if (!json_is_string(v) || !sl_schema_string_ok(f->type, NULL,
		    json_string_value(v), json_string_length(v)))
			return fail(e, ptr, "must be the base64 of a 64-byte "
			    "Ed25519 signature");
		return 0;
	}
	return fail(e, ptr, "unsupported type");
}

/*
 * fast: no JSON pointers are formatted and no message written (e is
 * NULL); the caller re-runs in full only when something failed, so good
 * records, nearly all of them, pay for no string formatting.
 */
static int validate(const json_t *rec, const char *base, struct sl_err *e,
    int fast)
{
	const json_t *rt;
	unsigned type;
	const char *key;
	json_t *v;
	size_t i;
	char ptr[300];

	if (!json_is_object(rec))
		return sl_err_set(e, SL_EINVAL, "field %s: a record must be a "
		    "JSON object", *base ? base : "/");
	rt = json_object_get(rec, "record_type");
	ptr[0] = '\0';
	if (!fast)
		snprintf(ptr, sizeof(ptr), "%s/record_type", base);
	if (!rt)
		return fail(e, ptr, "required (one of: decision, amendment, "
		    "reconsideration, outcome, inform_update)");
	if (check_enum(record_types, rt, ptr, e))
		return SL_EINVAL;
	type = sl_schema_rtype(json_string_value(rt));

	/* Unknown fields, service-only fields, types and enumerations. */
	json_object_foreach((json_t *)rec, key, v) {
		const struct sl_field *f = sl_schema_find(key);
		size_t kl = strlen(key);
		int rc;

		if (!fast) {
			snprintf(ptr, sizeof(ptr), "%s", base);
			sl_json_pointer_add(ptr, sizeof(ptr), key);
		}
		if (!f && kl > 5 && !strcmp(key + kl - 5, "_text")) {
			if (!sl_schema_find_other_text(key))
				return fail(e, ptr, "unknown field");
			if (!json_is_string(v) ||
			    json_string_length(v) > SL_SCHEMA_TEXT_MAX)
				return fail(e, ptr, "must be text up to %d "
				    "bytes", SL_SCHEMA_TEXT_MAX);
			continue;
		}
		if (!f)
			return fail(e, ptr, "unknown field (not in schema "
			    "version %s)", SL_SCHEMA_VERSION);
		if (f->flags & SL_F_SERVICE)
			return fail(e, ptr, "set by the service; a client "
			    "must not send it%s", strcmp(key, "child_ref") ?
			    "" : " (send child_id)");
		if (json_is_null(v))
			return fail(e, ptr, "null is not allowed; leave the "
			    "field out instead");
		rc = check_field(f, v, ptr, e);
		if (rc)
			return rc;
	}

	/* Fields without which the record cannot be placed. */
	for (i = 0; i < NFIELDS; i++) {
		const struct sl_field *f = &fields[i];

		if (f->req != SL_REQ_STRUCT || !(f->types & type))
			continue;
		if (json_object_get(rec, f->name))
			continue;
		if (!fast)
			snprintf(ptr, sizeof(ptr), "%s/%s", base, f->name);
		return fail(e, ptr, "required for a %s record",
		    json_string_value(rt));
	}
	return 0;
}

int sl_schema_check(const char *name, const json_t *v, const char *ptr,
    struct sl_err *e)
{
	const struct sl_field *f = sl_schema_find(name);

	if (!f)
		return fail(e, ptr, "unknown field");
	return check_field(f, v, ptr, e);
}

int sl_schema_validate(const json_t *rec, const char *base, struct sl_err *e)
{
	if (!validate(rec, base, NULL, 1))
		return 0;
	return validate(rec, base, e, 0);
}
