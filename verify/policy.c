/*
 * policy: the completeness rules as data and their engine (policy.h).
 *
 * The policy is compiled once into conditions and requirements over
 * schema field indexes; judging a record is then comparisons of slices
 * of its canonical bytes (formats/record.h views), no JSON tree.
 */
#include "verify/policy.h"
#include "formats/rfc3339.h"
#include "formats/jcs.h"
#include "formats/schema.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shipped default, compiled in so the programs work from anywhere. */
__asm__(".section .rodata\n"
    ".global sl_policy_default_bytes\n"
    ".global sl_policy_default_end\n"
    "sl_policy_default_bytes:\n"
    ".incbin \"verify/default-policy.json\"\n"
    "sl_policy_default_end:\n"
    ".byte 0\n"
    ".previous\n");
extern const char sl_policy_default_bytes[];
extern const char sl_policy_default_end[];

/* Pseudo field: the entry's recorded_at (not part of the record). */
#define F_RECORDED 1000

#define MAX_PLACEHOLDER 48

struct val {
	char *s;
	size_t len;
	int str;                 /* 1: a string; 0: true/false */
};

struct vset {
	struct val *v;
	size_t n;
	/* When every value is one of the field's enumeration values (or
	 * true/false of a boolean field), the set as bits of a view's code
	 * (struct sl_record_view): membership is then one AND. */
	int coded;
	uint32_t mask;
};

enum ckind { CK_ALL, CK_ANY, CK_NOT, CK_IN, CK_NOT_IN, CK_BOOL, CK_PRESENT,
	CK_TYPES };

struct cond {
	enum ckind kind;
	int field;
	int b;
	int coded;               /* CK_BOOL on a boolean field: use its code */
	unsigned types;          /* CK_TYPES: SL_RT_* bits of record_type */
	struct vset set;
	struct cond *kids;
	size_t nkids;
};

enum rkind { RQ_PRESENT, RQ_IN, RQ_NOT_IN, RQ_NOT_BEFORE, RQ_NOT_AFTER,
	RQ_WITHIN };

struct req {
	enum rkind kind;
	int field;
	unsigned min_len;
	int not_placeholder;
	struct vset set;
	int other;               /* field compared with, or -1 */
	int64_t date_ms;         /* or a fixed date */
	int64_t hours;
};

struct span {                /* a grace or escalation period */
	int set;
	int from;
	int at;                  /* the time it is judged at: a field, or -1
				  * for the as-of time */
	int64_t hours;
	unsigned working_days;
	enum sl_sev severity;
};

struct rule {
	struct sl_policy_rule pub;
	struct cond when;
	int has_when;
	unsigned tmask;          /* the record types it is for; 0 = any */
	size_t when_from;        /* 1: when's first condition is tmask's */
	struct req *req;
	size_t nreq;
	struct span grace;
	struct span escalate;
	char *id, *guidance;
	char *id_json, *guidance_json;
};

struct sl_policy {
	char name[160];
	char file[4096];
	uint8_t sha[SL_HASH_LEN];
	struct rule rules[SL_POLICY_MAX_RULES];
	size_t n;
	char **placeholders;
	size_t nplaceholders;
	uint64_t ph_lens;        /* bit n: a placeholder n bytes long */
	int64_t *holidays;       /* day numbers since 1970 */
	size_t nholidays;
};

/* ---- loading ---------------------------------------------------------- */

struct ld {
	struct sl_policy *p;
	struct sl_err *e;
	char where[64];
	size_t reqs;             /* requirements so far, all rules */
};

static int bad(struct ld *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad(struct ld *l, const char *fmt, ...)
{
	char what[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return sl_err_set(l->e, SL_EINVAL, "%s: %s: %s", l->p->file, l->where,
	    what);
}

static int field_of(struct ld *l, int *out, const char *name)
{
	if (!strcmp(name, "recorded_at")) {
		*out = F_RECORDED;
		return 0;
	}
	*out = sl_record_field_index(name, strlen(name));
	if (*out < 0)
		return bad(l, "\"%s\" is not a field of the schema", name);
	return 0;
}

static int load_set(struct ld *l, struct vset *set, const json_t *a,
    const char *what)
{
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return bad(l, "%s must be a non-empty array", what);
	set->v = calloc(json_array_size(a), sizeof(*set->v));
	if (!set->v)
		return sl_err_set(l->e, SL_ENOMEM, "out of memory");
	for (i = 0; i < json_array_size(a); i++) {
		const json_t *x = json_array_get(a, i);
		struct val *v = &set->v[set->n];

		if (json_is_string(x)) {
			v->s = strdup(json_string_value(x));
			v->len = json_string_length(x);
			v->str = 1;
		} else if (json_is_boolean(x)) {
			v->s = strdup(json_is_true(x) ? "true" : "false");
			v->len = strlen(v->s);
		} else {
			return bad(l, "%s holds strings or true/false", what);
		}
		if (!v->s)
			return sl_err_set(l->e, SL_ENOMEM, "out of memory");
		set->n++;
	}
	return 0;
}

/* Turn @set on field @field into a mask when it can be (see struct vset). */
static void code_set(struct vset *set, int field)
{
	size_t nf;
	const struct sl_field *f = sl_schema_fields(&nf);
	size_t i;

	set->coded = 0;
	set->mask = 0;
	if (field < 0 || (size_t)field >= nf || field >= SL_RECORD_VIEW_FIELDS)
		return;
	for (i = 0; i < set->n; i++) {
		const struct val *v = &set->v[i];
		int j;

		if (f[field].type == SL_FT_BOOL && !v->str)
			j = v->s[0] == 't';
		else if ((f[field].type == SL_FT_ENUM ||
		    f[field].type == SL_FT_ENUMSET) && v->str)
			j = sl_record_enum_code(field, v->s, v->len);
		else
			return;
		if (j < 0)
			return;
		set->mask |= UINT32_C(1) << j;
	}
	set->coded = 1;
}

static int load_cond(struct ld *l, struct cond *c, const json_t *o,
    int depth)
{
	const char *key;
	json_t *v;
	size_t i = 0;
	size_t nf;
	int rc;

	if (depth > 8)
		return bad(l, "conditions nest too deep%s", "");
	if (!json_is_object(o))
		return bad(l, "a condition is an object%s", "");
	c->kind = CK_ALL;
	c->nkids = json_object_size(o);
	c->kids = calloc(c->nkids ? c->nkids : 1, sizeof(*c->kids));
	if (!c->kids)
		return sl_err_set(l->e, SL_ENOMEM, "out of memory");
	json_object_foreach((json_t *)o, key, v) {
		struct cond *k = &c->kids[i++];

		if (!strcmp(key, "any") || !strcmp(key, "all")) {
			size_t j;

			if (!json_is_array(v) || !json_array_size(v))
				return bad(l, "\"%s\" is a non-empty array of "
				    "conditions", key);
			k->kind = key[1] == 'n' ? CK_ANY : CK_ALL;
			k->nkids = json_array_size(v);
			k->kids = calloc(k->nkids, sizeof(*k->kids));
			if (!k->kids)
				return sl_err_set(l->e, SL_ENOMEM, "out of "
				    "memory");
			for (j = 0; j < k->nkids; j++) {
				rc = load_cond(l, &k->kids[j],
				    json_array_get(v, j), depth + 1);
				if (rc)
					return rc;
			}
			continue;
		}
		if (!strcmp(key, "not")) {
			k->kind = CK_NOT;
			k->nkids = 1;
			k->kids = calloc(1, sizeof(*k->kids));
			if (!k->kids)
				return sl_err_set(l->e, SL_ENOMEM, "out of "
				    "memory");
			rc = load_cond(l, k->kids, v, depth + 1);
			if (rc)
				return rc;
			continue;
		}
		rc = field_of(l, &k->field, key);
		if (rc)
			return rc;
		if (json_is_array(v) && !strcmp(key, "record_type")) {
			/* the commonest test, on a bit the view has at hand */
			size_t j;

			k->kind = CK_TYPES;
			for (j = 0; j < json_array_size(v); j++) {
				const char *t = json_string_value(
				    json_array_get(v, j));
				unsigned bit = t ? sl_schema_rtype(t) : 0;

				if (!bit)
					return bad(l, "record_type: \"%s\" is "
					    "not a record type", t ? t : "?");
				k->types |= bit;
			}
		} else if (json_is_array(v)) {
			k->kind = CK_IN;
			rc = load_set(l, &k->set, v, key);
			if (!rc)
				code_set(&k->set, k->field);
		} else if (json_is_boolean(v)) {
			k->kind = CK_BOOL;
			k->b = json_is_true(v);
			k->coded = k->field >= 0 &&
			    k->field < SL_RECORD_VIEW_FIELDS &&
			    sl_schema_fields(&nf)[k->field].type ==
			    SL_FT_BOOL;
		} else if (json_is_object(v) && json_object_get(v, "not_in") &&
		    json_object_size(v) == 1) {
			k->kind = CK_NOT_IN;
			rc = load_set(l, &k->set, json_object_get(v, "not_in"),
			    "not_in");
			if (!rc)
				code_set(&k->set, k->field);
		} else if (json_is_object(v) && json_is_boolean(
		    json_object_get(v, "present")) && json_object_size(v) == 1) {
			k->kind = CK_PRESENT;
			k->b = json_is_true(json_object_get(v, "present"));
		} else {
			return bad(l, "condition on \"%s\": give a list of "
			    "values, true/false, {\"not_in\": [...]} or "
			    "{\"present\": true/false}", key);
		}
		if (rc)
			return rc;
	}
	return 0;
}

static int load_span(struct ld *l, struct span *s, const json_t *o,
    const char *what, int with_severity)
{
	const json_t *from = json_object_get(o, "from");
	const json_t *h = json_object_get(o, "hours");
	const json_t *wd = json_object_get(o, "working_days");
	int rc;

	if (!json_is_object(o) || !json_is_string(from) ||
	    (!json_is_integer(h) && !json_is_integer(wd)))
		return bad(l, "\"%s\" is {\"from\": FIELD, \"hours\": N or "
		    "\"working_days\": N}", what);
	rc = field_of(l, &s->from, json_string_value(from));
	if (rc)
		return rc;
	s->at = -1;
	if (json_object_get(o, "at")) {
		if (!json_is_string(json_object_get(o, "at")))
			return bad(l, "\"%s\": \"at\" is a date-time field",
			    what);
		rc = field_of(l, &s->at, json_string_value(json_object_get(o,
		    "at")));
		if (rc)
			return rc;
	}
	s->set = 1;
	s->hours = json_is_integer(h) ? json_integer_value(h) : 0;
	s->working_days = json_is_integer(wd) ?
	    (unsigned)json_integer_value(wd) : 0;
	if (s->hours < 0 || s->hours > 24 * 3660 || s->working_days > 3660)
		return bad(l, "\"%s\" is out of range", what);
	if (with_severity) {
		const char *sv = json_string_value(json_object_get(o,
		    "severity"));

		if (!sv || (strcmp(sv, "error") && strcmp(sv, "warning")))
			return bad(l, "\"%s\" needs a severity (error or "
			    "warning)", what);
		s->severity = sv[0] == 'e' ? SL_SEV_ERROR : SL_SEV_WARNING;
	}
	return 0;
}

static int load_date_or_field(struct ld *l, struct req *q, const char *s)
{
	if (sl_rfc3339_parse_date(&q->date_ms, s, strlen(s)) == 0) {
		q->other = -1;
		return 0;
	}
	return field_of(l, &q->other, s);
}

static int load_req(struct ld *l, struct req *q, const json_t *o)
{
	static const char *const known[] = { "field", "min_length",
		"not_placeholder", "in", "not_in", "not_before", "not_after",
		"within_hours", NULL };
	const char *key;
	json_t *v;
	const json_t *x;
	int rc;
	int n = 0;

	q->other = -1;
	if (json_is_string(o))
		return field_of(l, &q->field, json_string_value(o));
	if (!json_is_object(o) || !json_is_string(json_object_get(o, "field")))
		return bad(l, "a requirement is a field name or an object "
		    "with \"field\"%s", "");
	json_object_foreach((json_t *)o, key, v) {
		size_t i;

		for (i = 0; known[i] && strcmp(known[i], key); i++)
			;
		if (!known[i])
			return bad(l, "unknown requirement key \"%s\"", key);
		n += i >= 3;    /* the comparisons: in ... within_hours */
	}
	/* before anything is loaded: "in" and "not_in" would both fill
	 * q->set, and "not_before" would hide "not_after" */
	if (n > 1)
		return bad(l, "one comparison per requirement (split it)%s",
		    "");
	rc = field_of(l, &q->field, json_string_value(json_object_get(o,
	    "field")));
	if (rc)
		return rc;
	q->kind = RQ_PRESENT;
	if ((x = json_object_get(o, "min_length"))) {
		if (!json_is_integer(x) || json_integer_value(x) < 0 ||
		    json_integer_value(x) > 100000)
			return bad(l, "min_length is a count of characters%s",
			    "");
		q->min_len = (unsigned)json_integer_value(x);
	}
	q->not_placeholder = json_is_true(json_object_get(o,
	    "not_placeholder"));
	if ((x = json_object_get(o, "in"))) {
		q->kind = RQ_IN;
		if ((rc = load_set(l, &q->set, x, "in")))
			return rc;
		code_set(&q->set, q->field);
	}
	if ((x = json_object_get(o, "not_in"))) {
		q->kind = RQ_NOT_IN;
		if ((rc = load_set(l, &q->set, x, "not_in")))
			return rc;
		code_set(&q->set, q->field);
	}
	if ((x = json_object_get(o, "not_before")) ||
	    (x = json_object_get(o, "not_after"))) {
		q->kind = json_object_get(o, "not_before") ? RQ_NOT_BEFORE :
		    RQ_NOT_AFTER;
		if (!json_is_string(x))
			return bad(l, "not_before/not_after is a field or a "
			    "date YYYY-MM-DD%s", "");
		if ((rc = load_date_or_field(l, q, json_string_value(x))))
			return rc;
	}
	if ((x = json_object_get(o, "within_hours"))) {
		const json_t *of = json_object_get(x, "of");
		const json_t *h = json_object_get(x, "hours");

		q->kind = RQ_WITHIN;
		if (!json_is_string(of) || !json_is_integer(h) ||
		    json_integer_value(h) < 0)
			return bad(l, "within_hours is {\"of\": FIELD, "
			    "\"hours\": N}%s", "");
		if ((rc = field_of(l, &q->other, json_string_value(of))))
			return rc;
		q->hours = json_integer_value(h);
	}
	return 0;
}

static int types_of(struct ld *l, unsigned *out, const json_t *a)
{
	size_t i;

	*out = 0;
	if (!json_is_array(a) || !json_array_size(a))
		return bad(l, "answered_by is a non-empty list of record "
		    "types%s", "");
	for (i = 0; i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));
		unsigned t = s ? sl_schema_rtype(s) : 0;

		if (!t)
			return bad(l, "\"%s\" is not a record type", s);
		*out |= t;
	}
	return 0;
}

/* Most rules concern some record types only: test that bit first, and
 * before anything else when judging (see tmask). */
static void hoist_types(struct rule *r)
{
	size_t i;

	if (r->when.kind != CK_ALL)
		return;
	for (i = 0; i < r->when.nkids; i++) {
		if (r->when.kids[i].kind != CK_TYPES)
			continue;
		r->tmask = r->when.kids[i].types;
		r->when_from = 1;
		if (i) {
			struct cond t = r->when.kids[0];

			r->when.kids[0] = r->when.kids[i];
			r->when.kids[i] = t;
		}
		return;
	}
}

/* @s as a JSON string (quoted, escaped); NULL when out of memory. */
static char *json_text(const char *s, size_t *len)
{
	struct sl_buf b;
	char *t;

	sl_buf_init(&b, strlen(s) * 6 + 3);
	if (sl_jcs_write_string(&b, s, strlen(s))) {
		sl_buf_free(&b);
		return NULL;
	}
	t = sl_buf_take(&b, len);
	sl_buf_free(&b);
	return t;
}

static int load_rule(struct ld *l, struct rule *r, const json_t *o)
{
	static const char *const known[] = { "id", "severity", "when",
		"require", "check", "guidance", "grace", "escalate", "text",
		"by", "count", "days", "due", "answered_by", NULL };
	const char *id = json_string_value(json_object_get(o, "id"));
	const char *sev = json_string_value(json_object_get(o, "severity"));
	const char *g = json_string_value(json_object_get(o, "guidance"));
	const char *check = json_string_value(json_object_get(o, "check"));
	const json_t *req = json_object_get(o, "require");
	const char *key;
	json_t *v;
	size_t i;
	int rc;

	if (!json_is_object(o))
		return bad(l, "a rule is an object%s", "");
	if (!id || !*id || strlen(id) > 16)
		return bad(l, "\"id\" is required (up to 16 characters)%s", "");
	snprintf(l->where + strlen(l->where), sizeof(l->where) -
	    strlen(l->where), " (%s)", id);
	json_object_foreach((json_t *)o, key, v) {
		for (i = 0; known[i] && strcmp(known[i], key); i++)
			;
		if (!known[i])
			return bad(l, "unknown key \"%s\"", key);
	}
	if (!sev || (strcmp(sev, "error") && strcmp(sev, "warning")))
		return bad(l, "\"severity\" is \"error\" or \"warning\"%s", "");
	if (!g || !*g)
		return bad(l, "\"guidance\" (the sentence of guidance or law "
		    "the rule comes from) is required%s", "");
	r->id = strdup(id);
	r->guidance = strdup(g);
	r->id_json = json_text(id, &r->pub.id_json_len);
	r->guidance_json = json_text(g, &r->pub.guidance_json_len);
	if (!r->id || !r->guidance || !r->id_json || !r->guidance_json)
		return sl_err_set(l->e, SL_ENOMEM, "out of memory");
	r->pub.id = r->id;
	r->pub.guidance = r->guidance;
	r->pub.id_json = r->id_json;
	r->pub.guidance_json = r->guidance_json;
	r->pub.severity = sev[0] == 'e' ? SL_SEV_ERROR : SL_SEV_WARNING;
	r->pub.field = "";
	r->pub.due_field = r->pub.text_field = r->pub.by_field = -1;
	if (json_object_get(o, "when")) {
		r->has_when = 1;
		rc = load_cond(l, &r->when, json_object_get(o, "when"), 0);
		if (rc)
			return rc;
		hoist_types(r);
	}
	if (json_object_get(o, "grace") && (rc = load_span(l, &r->grace,
	    json_object_get(o, "grace"), "grace", 0)))
		return rc;
	if (json_object_get(o, "escalate") && (rc = load_span(l,
	    &r->escalate, json_object_get(o, "escalate"), "escalate", 1)))
		return rc;
	if (!check || !strcmp(check, "require")) {
		r->pub.check = SL_CHECK_REQUIRE;
		if (!json_is_array(req) || !json_array_size(req))
			return bad(l, "\"require\" is a non-empty list (or give "
			    "a \"check\")%s", "");
		r->req = calloc(json_array_size(req), sizeof(*r->req));
		if (!r->req)
			return sl_err_set(l->e, SL_ENOMEM, "out of memory");
		/* bounds the hits of one record (SL_POLICY_MAX_HITS) */
		l->reqs += json_array_size(req);
		if (l->reqs > SL_POLICY_MAX_REQUIRES)
			return bad(l, "the policy has more than %d requirements "
			    "in all", SL_POLICY_MAX_REQUIRES);
		for (i = 0; i < json_array_size(req); i++) {
			/* counted first: a half-loaded one is freed too */
			r->nreq++;
			rc = load_req(l, &r->req[i], json_array_get(req, i));
			if (rc)
				return rc;
		}
		r->pub.field = sl_policy_field_name(r->req[0].field);
		return 0;
	}
	if (req)
		return bad(l, "\"require\" and \"check\" do not go together%s",
		    "");
	if (!strcmp(check, "enumerations")) {
		r->pub.check = SL_CHECK_ENUMERATIONS;
	} else if (!strcmp(check, "refers_to")) {
		r->pub.check = SL_CHECK_REFERS_TO;
		r->pub.field = "refers_to_record_id";
	} else if (!strcmp(check, "follow_up")) {
		const char *due = json_string_value(json_object_get(o, "due"));

		r->pub.check = SL_CHECK_FOLLOW_UP;
		if (!due)
			return bad(l, "follow_up needs \"due\" (a date-time "
			    "field)%s", "");
		if ((rc = field_of(l, &r->pub.due_field, due)) ||
		    (rc = types_of(l, &r->pub.answered_by,
		    json_object_get(o, "answered_by"))))
			return rc;
		r->pub.field = sl_policy_field_name(r->pub.due_field);
	} else if (!strcmp(check, "repeated_text")) {
		const char *t = json_string_value(json_object_get(o, "text"));
		const char *by = json_string_value(json_object_get(o, "by"));
		const json_t *c = json_object_get(o, "count");
		const json_t *d = json_object_get(o, "days");

		r->pub.check = SL_CHECK_REPEATED_TEXT;
		if (!t || !by || !json_is_integer(c) || !json_is_integer(d) ||
		    json_integer_value(c) < 2 || json_integer_value(c) > 1000 ||
		    json_integer_value(d) < 1 || json_integer_value(d) > 3660)
			return bad(l, "repeated_text needs \"text\", \"by\" "
			    "(fields), \"count\" (2-1000) and \"days\"%s", "");
		if ((rc = field_of(l, &r->pub.text_field, t)) ||
		    (rc = field_of(l, &r->pub.by_field, by)))
			return rc;
		r->pub.count = (unsigned)json_integer_value(c);
		r->pub.days = (unsigned)json_integer_value(d);
		r->pub.field = sl_policy_field_name(r->pub.text_field);
	} else {
		return bad(l, "unknown check \"%s\" (enumerations, refers_to, "
		    "follow_up, repeated_text)", check);
	}
	return 0;
}

static void fold(char *s)
{
	size_t n = strlen(s);
	char *p;

	while (n && (s[n - 1] == '.' || s[n - 1] == ' '))
		s[--n] = '\0';
	for (p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 32;
}

int sl_policy_parse(struct sl_policy **out, const char *text, size_t len,
    const char *name, struct sl_err *e)
{
	struct sl_policy *p = calloc(1, sizeof(*p));
	struct ld l = { p, e, "", 0 };
	json_error_t je;
	json_t *root = NULL;
	const json_t *rules, *ph, *hol;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (!p)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	snprintf(p->file, sizeof(p->file), "%s", name);
	{
		struct sl_hash *h = NULL;

		if (sl_hash_new(&h) || sl_hash_sha256(p->sha, h, text, len)) {
			sl_hash_free(h);
			sl_policy_free(p);
			return sl_err_set(e, SL_ECRYPTO, "cannot hash the "
			    "policy");
		}
		sl_hash_free(h);
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		rc = sl_err_set(e, SL_EINVAL, "%s: line %d column %d: %s", name,
		    je.line, je.column, je.text);
		goto out;
	}
	snprintf(l.where, sizeof(l.where), "top level");
	if (!json_is_string(json_object_get(root, "policy"))) {
		rc = bad(&l, "\"policy\" (its name) is required%s", "");
		goto out;
	}
	snprintf(p->name, sizeof(p->name), "%s%s%s",
	    json_string_value(json_object_get(root, "policy")),
	    json_is_string(json_object_get(root, "version")) ? " " : "",
	    json_is_string(json_object_get(root, "version")) ?
	    json_string_value(json_object_get(root, "version")) : "");
	ph = json_object_get(root, "placeholders");
	if (ph) {
		if (!json_is_array(ph)) {
			rc = bad(&l, "\"placeholders\" is a list of texts%s",
			    "");
			goto out;
		}
		p->placeholders = calloc(json_array_size(ph) + 1,
		    sizeof(char *));
		if (!p->placeholders) {
			rc = sl_err_set(e, SL_ENOMEM, "out of memory");
			goto out;
		}
		for (i = 0; i < json_array_size(ph); i++) {
			const char *s = json_string_value(json_array_get(ph,
			    i));

			if (!s || strlen(s) >= MAX_PLACEHOLDER) {
				rc = bad(&l, "placeholders are texts under %s "
				    "characters", "48");
				goto out;
			}
			p->placeholders[p->nplaceholders] = strdup(s);
			if (!p->placeholders[p->nplaceholders]) {
				rc = sl_err_set(e, SL_ENOMEM, "out of memory");
				goto out;
			}
			fold(p->placeholders[p->nplaceholders]);
			p->ph_lens |= UINT64_C(1) <<
			    strlen(p->placeholders[p->nplaceholders++]);
		}
	}
	hol = json_object_get(root, "holidays");
	if (hol) {
		p->holidays = calloc(json_array_size(hol) + 1,
		    sizeof(int64_t));
		if (!p->holidays) {
			rc = sl_err_set(e, SL_ENOMEM, "out of memory");
			goto out;
		}
		for (i = 0; i < json_array_size(hol); i++) {
			const char *s = json_string_value(json_array_get(hol,
			    i));
			int64_t ms;

			if (!s || sl_rfc3339_parse_date(&ms, s, strlen(s))) {
				rc = bad(&l, "holidays are dates YYYY-MM-DD%s",
				    "");
				goto out;
			}
			p->holidays[p->nholidays++] = ms / 86400000;
		}
	}
	rules = json_object_get(root, "rules");
	if (!json_is_array(rules) || !json_array_size(rules) ||
	    json_array_size(rules) > SL_POLICY_MAX_RULES) {
		rc = bad(&l, "\"rules\" is a list of 1 to %s rules", "128");
		goto out;
	}
	for (i = 0; i < json_array_size(rules); i++) {
		snprintf(l.where, sizeof(l.where), "rule %zu", i + 1);
		rc = load_rule(&l, &p->rules[i], json_array_get(rules, i));
		p->n = i + 1;
		if (rc)
			goto out;
	}
out:
	json_decref(root);
	if (rc) {
		sl_policy_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

const char *sl_policy_default_text(size_t *len)
{
	*len = (size_t)(sl_policy_default_end - sl_policy_default_bytes);
	return sl_policy_default_bytes;
}

int sl_policy_load(struct sl_policy **out, const char *path,
    struct sl_err *e)
{
	FILE *f;
	char *buf;
	size_t n;
	int rc;

	if (!path) {
		const char *t = sl_policy_default_text(&n);

		return sl_policy_parse(out, t, n, "(built-in default)", e);
	}
	f = fopen(path, "rb");
	if (!f)
		return sl_err_set(e, SL_EIO, "%s: cannot open the policy file",
		    path);
	buf = malloc(SL_POLICY_MAX_BYTES + 1);
	n = buf ? fread(buf, 1, SL_POLICY_MAX_BYTES + 1, f) : 0;
	fclose(f);
	if (!buf)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	if (n > SL_POLICY_MAX_BYTES)
		rc = sl_err_set(e, SL_ETOOBIG, "%s: a policy file is at most "
		    "1 MiB", path);
	else
		rc = sl_policy_parse(out, buf, n, path, e);
	free(buf);
	return rc;
}

static void free_set(struct vset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].s);
	free(s->v);
}

static void free_cond(struct cond *c)
{
	size_t i;

	for (i = 0; i < c->nkids; i++)
		free_cond(&c->kids[i]);
	free(c->kids);
	free_set(&c->set);
}

void sl_policy_free(struct sl_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->n; i++) {
		struct rule *r = &p->rules[i];
		size_t j;

		free_cond(&r->when);
		for (j = 0; j < r->nreq; j++)
			free_set(&r->req[j].set);
		free(r->req);
		free(r->id);
		free(r->guidance);
		free(r->id_json);
		free(r->guidance_json);
	}
	for (i = 0; i < p->nplaceholders; i++)
		free(p->placeholders[i]);
	free(p->placeholders);
	free(p->holidays);
	free(p);
}

const char *sl_policy_name(const struct sl_policy *p)
{
	return p->name;
}

const char *sl_policy_file(const struct sl_policy *p)
{
	return p->file;
}

const uint8_t *sl_policy_sha256(const struct sl_policy *p)
{
	return p->sha;
}

size_t sl_policy_count(const struct sl_policy *p)
{
	return p->n;
}

const struct sl_policy_rule *sl_policy_rule(const struct sl_policy *p,
    size_t i)
{
	return i < p->n ? &p->rules[i].pub : NULL;
}

const char *sl_policy_field_name(int idx)
{
	size_t n;
	const struct sl_field *f = sl_schema_fields(&n);

	if (idx == F_RECORDED)
		return "recorded_at";
	return idx >= 0 && (size_t)idx < n ? f[idx].name : "";
}

/* ---- judging ---------------------------------------------------------- */

/* The coded fields (their values are bits of the view's code) and the bit
 * of each one's "other", once. */
static int coded_fields[SL_RECORD_VIEW_FIELDS];
static uint32_t other_bit[SL_RECORD_VIEW_FIELDS];
static size_t ncoded;
static pthread_once_t enums_once = PTHREAD_ONCE_INIT;

static void enums_build(void)
{
	size_t nf;
	const struct sl_field *f = sl_schema_fields(&nf);
	size_t i;

	for (i = 0; i < nf && i < SL_RECORD_VIEW_FIELDS; i++) {
		int j;

		if (f[i].type != SL_FT_ENUM && f[i].type != SL_FT_ENUMSET &&
		    f[i].type != SL_FT_BOOL)
			continue;
		coded_fields[ncoded++] = (int)i;
		j = sl_record_enum_code((int)i, "other", 5);
		if (j >= 0 && (f[i].flags & SL_F_OTHER_TEXT))
			other_bit[i] = UINT32_C(1) << j;
	}
}

static void enums_init(void)
{
	pthread_once(&enums_once, enums_build);
}

/* V02: each coded value known, each "other" explained. Returns the first
 * field at fault, or -1. */
static int bad_enum(const struct sl_record_view *v)
{
	size_t k;

	enums_init();
	for (k = 0; k < ncoded; k++) {
		int i = coded_fields[k];
		uint32_t c = v->code[i];

		if ((c & SL_RECORD_CODE_BAD) || ((c & other_bit[i]) &&
		    !sl_record_value_present(v->text[i], v->tlen[i])))
			return i;
	}
	return -1;
}

static int in_set(const struct vset *s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct val *v = &s->v[i];

		if (v->str ? sl_record_value_is(p, n, v->s, v->len) :
		    (n == v->len && !memcmp(p, v->s, n)))
			return 1;
	}
	return 0;
}

/* A value matches a set: a scalar is in it, an array has an element in
 * it (enumeration sets: "any of these categories"). */
static int matches(const struct vset *s, const struct sl_record_view *v,
    int field)
{
	const uint8_t *p = v->val[field];
	size_t n = v->len[field];
	size_t off = 1;

	if (!p)
		return 0;
	if (s->coded)
		return (v->code[field] & s->mask) != 0;
	if (p[0] != '[')
		return in_set(s, p, n);
	while (off < n - 1) {
		size_t len;

		if (sl_jcs_scan_value(&len, p + off, n - 1 - off, 2, NULL))
			return 0;
		if (in_set(s, p + off, len))
			return 1;
		off += len + 1;     /* the comma */
	}
	return 0;
}

static int eval_cond(const struct cond *c, const struct sl_record_view *v)
{
	size_t i;

	switch (c->kind) {
	case CK_TYPES:
		return (v->type & c->types) != 0;
	case CK_ALL:
		for (i = 0; i < c->nkids; i++)
			if (!eval_cond(&c->kids[i], v))
				return 0;
		return 1;
	case CK_ANY:
		for (i = 0; i < c->nkids; i++)
			if (eval_cond(&c->kids[i], v))
				return 1;
		return 0;
	case CK_NOT:
		return !eval_cond(c->kids, v);
	default:
		break;
	}
	if (c->field == F_RECORDED)
		return 0;
	switch (c->kind) {
	case CK_IN:
		return matches(&c->set, v, c->field);
	case CK_NOT_IN:
		return v->val[c->field] && !matches(&c->set, v, c->field);
	case CK_BOOL:
		if (c->coded)
			return (v->code[c->field] & (c->b ? 2u : 1u)) != 0;
		return v->val[c->field] && v->len[c->field] ==
		    (c->b ? 4u : 5u) && !memcmp(v->val[c->field],
		    c->b ? "true" : "false", v->len[c->field]);
	case CK_PRESENT:
		return sl_record_value_present(v->val[c->field],
		    v->len[c->field]) == c->b;
	default:
		break;
	}
	return 0;
}

/* A rule's condition, its record types tested first (and once). */
static int rule_applies(const struct rule *r, const struct sl_record_view *v)
{
	size_t i;

	if (r->tmask && !(v->type & r->tmask))
		return 0;
	if (!r->has_when)
		return 1;
	if (!r->when_from)
		return eval_cond(&r->when, v);
	for (i = 1; i < r->when.nkids; i++)
		if (!eval_cond(&r->when.kids[i], v))
			return 0;
	return 1;
}

int sl_policy_applies(const struct sl_policy *p, size_t i,
    const struct sl_record_view *v)
{
	return rule_applies(&p->rules[i], v);
}

static int is_placeholder(const struct sl_policy *p, const uint8_t *s,
    size_t n)
{
	char buf[MAX_PLACEHOLDER + 8];
	size_t i;

	if (sl_record_value_folded(buf, sizeof(buf), s, n))
		return 0;
	fold(buf);
	if (!(p->ph_lens >> strlen(buf) & 1))
		return 0;   /* no placeholder is that long: most texts */
	for (i = 0; i < p->nplaceholders; i++)
		if (!strcmp(buf, p->placeholders[i]))
			return 1;
	return 0;
}

/* The times one record's rules look at, each parsed once: a few fields
 * (decided_at above all) are compared by many rules. */
#define TIMES 8
struct times {
	const struct sl_policy_time *t;
	size_t n;
	int field[TIMES];
	int rc[TIMES];
	int64_t ms[TIMES];
};

static int time_of(int64_t *ms, int field, const struct sl_record_view *v,
    struct times *t)
{
	size_t i;
	int rc;

	if (field == F_RECORDED) {
		*ms = t->t->recorded_ms;
		return 0;
	}
	for (i = 0; i < t->n; i++)
		if (t->field[i] == field) {
			*ms = t->ms[i];
			return t->rc[i];
		}
	rc = sl_record_value_time(ms, v->val[field], v->len[field]);
	if (t->n < TIMES) {
		t->field[t->n] = field;
		t->ms[t->n] = *ms;
		t->rc[t->n++] = rc;
	}
	return rc;
}

static int is_holiday(const struct sl_policy *p, int64_t day)
{
	size_t i;

	for (i = 0; i < p->nholidays; i++)
		if (p->holidays[i] == day)
			return 1;
	return 0;
}

/* The end of a period that starts at @from: N hours later, or the end of
 * the Nth working day after (weekends and the policy's holidays not
 * counted). */
static int64_t span_end(const struct sl_policy *p, const struct span *s,
    int64_t from)
{
	int64_t day;
	unsigned k = 0;

	if (!s->working_days)
		return from + s->hours * 3600000;
	day = (from >= 0 ? from : from - 86399999) / 86400000;
	while (k < s->working_days) {
		int wd;

		day++;
		wd = (int)(((day + 4) % 7 + 7) % 7);    /* 0 = Sunday */
		if (wd != 0 && wd != 6 && !is_holiday(p, day))
			k++;
	}
	return (day + 1) * 86400000 + s->hours * 3600000;
}

/*
 * When period @s of a rule that applies to @v is over: the as-of time
 * from which it is (INT64_MIN: already, whatever the as-of time;
 * INT64_MAX: never). It is judged at a field's time, which makes it
 * constant, or at the as-of time when the period names none or the
 * record lacks that field; it never ends when the record lacks the time
 * it starts from.
 */
static int64_t span_over_from(const struct sl_policy *p, const struct span *s,
    const struct sl_record_view *v, struct times *t)
{
	int64_t from, end, at;

	if (time_of(&from, s->from, v, t))
		return INT64_MAX;
	end = span_end(p, s, from);
	if (s->at < 0 || time_of(&at, s->at, v, t))
		return end;
	return at >= end ? INT64_MIN : INT64_MAX;
}

/* 1 when requirement @q is not met by @v. */
static int fails(const struct sl_policy *p, const struct req *q,
    const struct sl_record_view *v, struct times *t)
{
	const uint8_t *x = q->field == F_RECORDED ? NULL : v->val[q->field];
	size_t n = q->field == F_RECORDED ? 0 : v->len[q->field];
	int64_t a, b;

	switch (q->kind) {
	case RQ_PRESENT:
		if (q->field == F_RECORDED)
			return 0;
		if (!sl_record_value_present(x, n))
			return 1;
		if (q->min_len && sl_record_value_chars(x, n, q->min_len) <
		    q->min_len)
			return 1;
		return q->not_placeholder && is_placeholder(p, x, n);
	case RQ_IN:
		return q->field == F_RECORDED || !matches(&q->set, v, q->field);
	case RQ_NOT_IN:
		return x && matches(&q->set, v, q->field);
	case RQ_NOT_BEFORE:
	case RQ_NOT_AFTER:
		if (time_of(&a, q->field, v, t))
			return 0;   /* nothing to compare: another rule's */
		if (q->other < 0)
			b = q->date_ms;
		else if (time_of(&b, q->other, v, t))
			return 0;
		return q->kind == RQ_NOT_BEFORE ? a < b : a > b;
	case RQ_WITHIN:
		if (time_of(&a, q->field, v, t) || time_of(&b, q->other, v, t))
			return 0;
		return a - b > q->hours * 3600000;
	}
	return 0;
}

size_t sl_policy_eval_open(const struct sl_policy *p,
    const struct sl_record_view *v, int64_t recorded_ms,
    struct sl_policy_open_hit *hits, size_t cap)
{
	size_t nh = 0;
	size_t i, j;
	struct sl_policy_time tm = { 0, recorded_ms };
	struct times tc;
	struct times *t = &tc;

	tc.t = &tm;
	tc.n = 0;
	for (i = 0; i < p->n; i++) {
		const struct rule *r = &p->rules[i];
		struct sl_policy_open_hit h;

		if (r->pub.check != SL_CHECK_REQUIRE &&
		    r->pub.check != SL_CHECK_ENUMERATIONS)
			continue;
		if (!rule_applies(r, v))
			continue;
		memset(&h, 0, sizeof(h));
		h.hit.rule = (uint16_t)i;
		h.hit.severity = (uint8_t)r->pub.severity;
		h.due_ms = r->grace.set ? span_over_from(p, &r->grace, v, t) :
		    INT64_MIN;
		if (h.due_ms == INT64_MAX)
			continue;    /* never due */
		h.esc_ms = r->escalate.set ? span_over_from(p, &r->escalate, v,
		    t) : INT64_MAX;
		h.esc_severity = (uint8_t)(r->escalate.set ?
		    r->escalate.severity : r->pub.severity);
		if (r->pub.check == SL_CHECK_ENUMERATIONS) {
			int f = bad_enum(v);

			h.hit.field = (int16_t)f;
			if (f >= 0 && nh < cap)
				hits[nh++] = h;
			continue;
		}
		for (j = 0; j < r->nreq; j++)
			if (fails(p, &r->req[j], v, t) && nh < cap) {
				h.hit.field = (int16_t)r->req[j].field;
				hits[nh++] = h;
			}
	}
	return nh;
}

int sl_policy_hit_at(struct sl_policy_hit *out,
    const struct sl_policy_open_hit *h, int64_t as_of_ms)
{
	if (as_of_ms < h->due_ms)
		return 0;
	*out = h->hit;
	if (as_of_ms >= h->esc_ms)
		out->severity = h->esc_severity;
	return 1;
}

size_t sl_policy_eval(const struct sl_policy *p,
    const struct sl_record_view *v, const struct sl_policy_time *tm,
    struct sl_policy_hit *hits, size_t cap)
{
	struct sl_policy_open_hit open[SL_POLICY_MAX_HITS];
	size_t no = sl_policy_eval_open(p, v, tm->recorded_ms, open,
	    SL_POLICY_MAX_HITS);
	size_t i, nh = 0;

	for (i = 0; i < no && nh < cap; i++)
		nh += (size_t)sl_policy_hit_at(&hits[nh], &open[i],
		    tm->as_of_ms);
	return nh;
}
