/*
 * Completeness: the default policy's rules, each on a thread that breaks
 * it, one that satisfies it and (where a later record can) one in which a
 * follow-up resolves it (tests/data/completeness/fixtures.json). Each
 * thread is written as a small log and judged by verify/completeness, the
 * same code sharelog-verify --completeness runs. Also: the policy
 * language's errors, and a board's own policy.
 */
#include "tests/testutil.h"
#include "formats/buf.h"
#include "formats/entry.h"
#include "formats/jcs.h"
#include "formats/record.h"
#include "formats/rfc3339.h"
#include "formats/store.h"
#include "verify/completeness.h"
#include "verify/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXTURES "tests/data/completeness/fixtures.json"

static int64_t ms_of(const char *s)
{
	int64_t ms = 0;

	ck_assert_msg(!sl_rfc3339_parse(&ms, s, strlen(s)), "bad time %s", s);
	return ms;
}

static void rid(char out[27], unsigned n)
{
	snprintf(out, 27, "01JFIX0000000000000000%04u", n % 10000);
}

/* Build record @i of a thread from its spec. */
static json_t *build(const json_t *fx, const json_t *spec, json_t *prev[],
    unsigned i, unsigned *idn)
{
	const json_t *base = json_object_get(fx, "base");
	const char *type = json_string_value(json_object_get(spec, "type"));
	const json_t *set = json_object_get(spec, "set");
	const json_t *unset = json_object_get(spec, "unset");
	const json_t *refers = json_object_get(spec, "refers");
	const char *did = json_string_value(json_object_get(spec,
	    "decision_id"));
	json_t *r;
	char id[27];
	const char *k;
	json_t *v;
	size_t j;

	if (!type || !strcmp(type, "decision") ||
	    !strcmp(type, "reconsideration")) {
		r = json_deep_copy(base);
		if (type && !strcmp(type, "reconsideration")) {
			json_object_set_new(r, "record_type",
			    json_string("reconsideration"));
			json_object_set_new(r, "new_information_summary",
			    json_string("Police disclosed a new incident."));
		}
	} else {
		static const char *const keep[] = { "schema_version",
			"decision_id", "decided_at", "organisation_id",
			"practitioner_id", "practitioner_role", "case_ref",
			"child_ref", NULL };

		r = json_object();
		for (j = 0; keep[j]; j++)
			json_object_set(r, keep[j], json_object_get(base,
			    keep[j]));
		if (i && prev[0])
			json_object_set(r, "decision_id", json_object_get(
			    prev[0], "decision_id"));
		json_object_set_new(r, "record_type", json_string(type));
		if (!strcmp(type, "amendment"))
			json_object_set_new(r, "amendment_reason",
			    json_string("Omitted when first recorded."));
		if (!strcmp(type, "outcome"))
			json_object_set_new(r, "outcome_type",
			    json_string("csc_assessment"));
		if (!strcmp(type, "inform_update"))
			json_object_set_new(r, "family_informed",
			    json_string("informed_after"));
	}
	rid(id, ++*idn);
	json_object_set_new(r, "record_id", json_string(id));
	if (i > 0 && (!type || strcmp(type, "decision"))) {
		/* a follow-up: refers to the record before it, or to what
		 * the spec says */
		char to[27];

		if (json_is_integer(refers))
			rid(to, *idn - i + (unsigned)json_integer_value(refers));
		else if (json_is_string(refers))
			snprintf(to, sizeof(to), "01JFIX00000000000000009999");
		else
			snprintf(to, sizeof(to), "%s", json_string_value(
			    json_object_get(prev[i - 1], "record_id")));
		if (!type) {
			/* a plain decision spec after the first: its own
			 * thread (repeated_text fixtures) */
		} else {
			json_object_set_new(r, "refers_to_record_id",
			    json_string(to));
		}
	}
	if (did)
		json_object_set_new(r, "decision_id", json_string(did));
	json_object_foreach((json_t *)set, k, v)
		json_object_set(r, k, v);
	for (j = 0; j < json_array_size(unset); j++)
		json_object_del(r, json_string_value(json_array_get(unset, j)));
	return r;
}

/* Record @i of @thread built over the earlier ones (prev), and in *rms
 * when it is recorded: the spec's recorded_at, or the fixture's delay
 * after decided_at. */
static json_t *thread_record(const json_t *fx, const json_t *thread,
    json_t *prev[], unsigned i, unsigned *idn, int64_t *rms)
{
	const json_t *spec = json_array_get(thread, i);
	const char *rat = json_string_value(json_object_get(spec,
	    "recorded_at"));
	json_t *r = build(fx, spec, prev, i, idn);

	*rms = rat ? ms_of(rat) : ms_of(json_string_value(json_object_get(r,
	    "decided_at"))) + json_integer_value(json_object_get(fx,
	    "recorded_after_hours")) * 3600000;
	return r;
}

/* Write the thread as a bundle's entries.jsonl in @dir; *n entries. */
static void write_log(const char *dir, const json_t *fx, const json_t *thread,
    unsigned *n)
{
	json_t *prev[16] = { NULL };
	char path[512];
	FILE *f;
	unsigned i;
	unsigned idn = 0;
	struct sl_buf rec, ent;
	struct sl_err e;
	uint8_t zero[SL_HASH_LEN] = { 0 };

	snprintf(path, sizeof(path), "%s/entries.jsonl", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	sl_buf_init(&rec, SL_ENTRY_MAX);
	sl_buf_init(&ent, SL_ENTRY_MAX);
	*n = (unsigned)json_array_size(thread);
	ck_assert_uint_le(*n, 16);
	for (i = 0; i < *n; i++) {
		int64_t rms;
		json_t *r = thread_record(fx, thread, prev, i, &idn, &rms);
		const char *rt = json_string_value(json_object_get(r,
		    "record_type"));

		prev[i] = r;
		sl_buf_reset(&rec);
		sl_buf_reset(&ent);
		ck_assert_int_eq(sl_jcs_write(&rec, r, &e), 0);
		ck_assert_int_eq(sl_entry_build(&ent, zero, rec.data, rec.len, rms,
		    i, "URN-118832", sl_entry_type_parse(rt, strlen(rt)), &e),
		    0);
		fwrite(ent.data, 1, ent.len, f);
		fputc('\n', f);
	}
	fclose(f);
	for (i = 0; i < *n; i++)
		json_decref(prev[i]);
	sl_buf_free(&rec);
	sl_buf_free(&ent);
}

/* Judge a thread; the findings of @rule ("" = any) on record @on (or on
 * any record when @on < 0), and their field and severity. */
struct got {
	unsigned n;
	char field[64];
	int severity;
};

/* Write the thread as a log in @dir and run the rules over it, telling
 * @told (when given) of each decision follow-ups added to. */
static struct sl_comp_result *run_told(const char *dir,
    const struct sl_policy *p, const json_t *fx, const json_t *thread,
    const char *as_of, sl_comp_amended_fn told, void *ctx)
{
	unsigned n;
	struct sl_comp_opts o = { p, ms_of(as_of), INT64_MIN, INT64_MAX, 0,
		1, told, ctx };
	struct sl_comp_result *r = NULL;
	struct sl_err e;

	write_log(dir, fx, thread, &n);
	o.upto = n;
	ck_assert_msg(!sl_comp_run(&r, dir, &o, &e), "%s", e.msg);
	return r;
}

static struct sl_comp_result *run_thread(const char *dir,
    const struct sl_policy *p, const json_t *fx, const json_t *thread,
    const char *as_of)
{
	return run_told(dir, p, fx, thread, as_of, NULL, NULL);
}

static struct got judge(const struct sl_policy *p, const json_t *fx,
    const json_t *thread, const char *as_of, const char *rule, int on)
{
	char dir[256];
	struct sl_comp_result *r;
	const struct sl_comp_finding *f;
	struct got g = { 0, "", 0 };
	size_t i, nf;

	tu_tmpdir(dir, sizeof(dir));
	r = run_thread(dir, p, fx, thread, as_of);
	nf = sl_comp_findings(r, &f);
	for (i = 0; i < nf; i++) {
		const struct sl_policy_rule *ru = sl_policy_rule(p, f[i].rule);

		if (*rule && strcmp(ru->id, rule))
			continue;
		if (on >= 0 && f[i].seq != (uint64_t)on)
			continue;
		if (!g.n) {
			snprintf(g.field, sizeof(g.field), "%s",
			    sl_policy_field_name(f[i].field));
			g.severity = f[i].severity;
		}
		g.n++;
	}
	sl_comp_free(r);
	tu_rmdir(dir);
	return g;
}

struct seen {
	unsigned calls;
	uint64_t seq;
	char basis[64];
	char rid[64];
};

static int seen_cb(void *ctx, unsigned worker, uint64_t seq,
    const struct sl_record_view *v)
{
	struct seen *s = ctx;
	int lb = sl_record_field_index("lawful_basis", 12);
	int id = sl_record_field_index("record_id", 9);

	ck_assert_uint_lt(worker, SL_COMP_WORKERS);
	s->calls++;
	s->seq = seq;
	snprintf(s->basis, sizeof(s->basis), "%.*s", (int)v->len[lb],
	    (const char *)v->val[lb]);
	snprintf(s->rid, sizeof(s->rid), "%.*s", (int)v->len[id],
	    (const char *)v->val[id]);
	return 0;
}

/* The decision as it stands with its amendments (what the board reports
 * count): the later amendment wins, what identifies the record does not
 * move, a decision nothing added to is not listed. */
START_TEST(amended_decision)
{
	json_error_t je;
	json_t *fx = json_load_file(FIXTURES, 0, &je);
	json_t *thread = json_pack("[{}, {s:s, s:{s:s}}, {s:s}, "
	    "{s:s, s:{s:s}}]", "type", "amendment", "set", "lawful_basis",
	    "vital_interests_6_1_d", "type", "outcome", "type", "amendment",
	    "set", "lawful_basis", "legal_obligation_6_1_c");
	struct sl_policy *p = NULL;
	struct sl_comp_result *r;
	struct seen sn = { 0, 0, "", "" };
	struct sl_err e;
	const char *as_of;
	char dir[256];

	ck_assert_msg(fx != NULL, "%s", je.text);
	ck_assert_int_eq(sl_policy_load(&p, NULL, &e), 0);
	as_of = json_string_value(json_object_get(fx, "as_of"));
	tu_tmpdir(dir, sizeof(dir));
	r = run_told(dir, p, fx, thread, as_of, seen_cb, &sn);
	ck_assert_uint_eq(sn.calls, 1);
	ck_assert_uint_eq(sn.seq, 0);
	ck_assert_str_eq(sn.basis, "\"legal_obligation_6_1_c\"");
	ck_assert_str_eq(sn.rid, "\"01JFIX00000000000000000001\"");
	sl_comp_free(r);
	/* the decision alone: nothing to list */
	json_array_remove(thread, 3);
	json_array_remove(thread, 2);
	json_array_remove(thread, 1);
	sn.calls = 0;
	r = run_told(dir, p, fx, thread, as_of, seen_cb, &sn);
	ck_assert_uint_eq(sn.calls, 0);
	sl_comp_free(r);
	tu_rmdir(dir);
	json_decref(thread);
	sl_policy_free(p);
	json_decref(fx);
}
END_TEST

START_TEST(base_is_complete)
{
	json_error_t je;
	json_t *fx = json_load_file(FIXTURES, 0, &je);
	struct sl_policy *p = NULL;
	struct sl_err e;
	json_t *thread = json_pack("[{}]");
	struct got g;

	ck_assert_msg(fx != NULL, "%s", je.text);
	ck_assert_int_eq(sl_policy_load(&p, NULL, &e), 0);
	g = judge(p, fx, thread, json_string_value(json_object_get(fx,
	    "as_of")), "", -1);
	ck_assert_msg(g.n == 0, "the base decision has %u finding(s), first "
	    "on %s", g.n, g.field);
	json_decref(thread);
	sl_policy_free(p);
	json_decref(fx);
}
END_TEST

START_TEST(every_rule)
{
	json_error_t je;
	json_t *fx = json_load_file(FIXTURES, 0, &je);
	const json_t *cases = json_object_get(fx, "cases");
	struct sl_policy *p = NULL;
	struct sl_err e;
	char seen[32][8];
	size_t nseen = 0;
	size_t i, j;

	ck_assert_int_eq(sl_policy_load(&p, NULL, &e), 0);
	for (i = 0; i < json_array_size(cases); i++) {
		const json_t *c = json_array_get(cases, i);
		const char *rule = json_string_value(json_object_get(c, "rule"));
		const char *field = json_string_value(json_object_get(c,
		    "field"));
		const char *sev = json_string_value(json_object_get(c,
		    "severity"));
		const char *as_of = json_string_value(json_object_get(c,
		    "as_of"));
		int on = json_is_integer(json_object_get(c, "on")) ?
		    (int)json_integer_value(json_object_get(c, "on")) : 0;
		const json_t *t;
		struct got g;

		if (!as_of)
			as_of = json_string_value(json_object_get(fx, "as_of"));
		if ((t = json_object_get(c, "breaks"))) {
			g = judge(p, fx, t, as_of, rule, on);
			ck_assert_msg(g.n > 0, "case %zu: %s not found", i + 1,
			    rule);
			ck_assert_msg(!strcmp(g.field, field), "case %zu: %s "
			    "names %s, expected %s", i + 1, rule, g.field,
			    field);
			if (sev)
				ck_assert_msg(g.severity == (sev[0] == 'e' ?
				    SL_SEV_ERROR : SL_SEV_WARNING), "case %zu: "
				    "%s has the wrong severity", i + 1, rule);
		}
		if ((t = json_object_get(c, "satisfies"))) {
			g = judge(p, fx, t, as_of, rule, -1);
			ck_assert_msg(g.n == 0, "case %zu: %s found (%s) where "
			    "it is satisfied", i + 1, rule, g.field);
		}
		if ((t = json_object_get(c, "resolved"))) {
			g = judge(p, fx, t, as_of, rule, -1);
			ck_assert_msg(g.n == 0, "case %zu: %s (%s) not "
			    "resolved by the later record", i + 1, rule,
			    g.field);
		}
		for (j = 0; j < nseen && strcmp(seen[j], rule); j++)
			;
		if (j == nseen && nseen < 32)
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", rule);
	}
	/* a fixture for every rule of the default policy */
	for (i = 0; i < sl_policy_count(p); i++) {
		const char *id = sl_policy_rule(p, i)->id;

		for (j = 0; j < nseen && strcmp(seen[j], id); j++)
			;
		ck_assert_msg(j < nseen, "no fixture for %s", id);
	}
	ck_assert_uint_eq(nseen, 26);
	sl_policy_free(p);
	json_decref(fx);
}
END_TEST

START_TEST(policy_errors_name_the_rule)
{
	static const struct {
		const char *text;
		const char *says;
	} bad[] = {
		{ "{\"rules\": []}", "\"policy\"" },
		{ "{\"policy\": \"x\", \"rules\": [{\"id\": \"A1\", \"severity\": "
		  "\"fatal\", \"guidance\": \"g\", \"require\": [\"rationale\"]}]}",
		  "(A1): \"severity\"" },
		{ "{\"policy\": \"x\", \"rules\": [{\"id\": \"A1\", \"severity\": "
		  "\"error\", \"guidance\": \"g\", \"require\": [\"nonsense\"]}]}",
		  "(A1): \"nonsense\" is not a field" },
		{ "{\"policy\": \"x\", \"rules\": [{\"id\": \"A1\", \"severity\": "
		  "\"error\", \"require\": [\"rationale\"]}]}",
		  "(A1): \"guidance\"" },
		{ "{\"policy\": \"x\", \"rules\": [{\"id\": \"A1\", \"severity\": "
		  "\"error\", \"guidance\": \"g\", \"when\": {\"decision\": 3}, "
		  "\"require\": [\"rationale\"]}]}", "condition on \"decision\"" },
		{ "{\"policy\": \"x\", \"rules\": [{\"id\": \"A1\", \"severity\": "
		  "\"error\", \"guidance\": \"g\", \"check\": \"magic\"}]}",
		  "unknown check \"magic\"" },
		{ "{\"policy\": \"x\", \"rules\": [{\"id\": \"A1\", \"severity\": "
		  "\"error\", \"guidance\": \"g\", \"require\": [\"rationale\"], "
		  "\"colour\": 1}]}", "unknown key \"colour\"" },
		{ "{\"policy\": \"x\", \"rules\": [", "line 1" },
		/* two comparisons in one requirement, refused before either
		 * is loaded (found by fuzzing: "in" then "not_in" leaked the
		 * first list; "not_after" beside "not_before" was ignored) */
		{ "{\"policy\": \"x\", \"rules\": [{\"id\": \"A1\", \"severity\": "
		  "\"error\", \"guidance\": \"g\", \"require\": [{\"field\": "
		  "\"decision\", \"in\": [\"share\"], \"not_in\": [\"partial\"]}]}]}",
		  "(A1): one comparison per requirement" },
		{ "{\"policy\": \"x\", \"rules\": [{\"id\": \"A1\", \"severity\": "
		  "\"error\", \"guidance\": \"g\", \"require\": [{\"field\": "
		  "\"shared_at\", \"not_before\": \"decided_at\", \"not_after\": "
		  "\"2030-01-01\"}]}]}", "(A1): one comparison per requirement" },
		/* a list refused half way: freed (the sanitizer build's leak
		 * check fails this case otherwise; found by fuzzing) */
		{ "{\"policy\": \"x\", \"rules\": [{\"id\": \"A1\", \"severity\": "
		  "\"error\", \"guidance\": \"g\", \"require\": [{\"field\": "
		  "\"decision\", \"in\": [\"share\", 3]}]}]}",
		  "(A1): in holds strings or true/false" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_policy *p = NULL;
		struct sl_err e = { 0, "" };

		ck_assert_int_eq(sl_policy_parse(&p, bad[i].text,
		    strlen(bad[i].text), "my.json", &e), SL_EINVAL);
		ck_assert_ptr_null(p);
		ck_assert_msg(strstr(e.msg, bad[i].says) && strstr(e.msg,
		    "my.json"), "case %zu: \"%s\"", i, e.msg);
	}
}
END_TEST

/* A board adapts the policy: a longer rationale, a warning instead of an
 * error. The same record is judged by both. */
START_TEST(board_policy)
{
	static const char text[] = "{\"policy\": \"board\", \"version\": \"2\", "
	    "\"rules\": [{\"id\": \"B1\", \"severity\": \"warning\", "
	    "\"guidance\": \"Our own rule.\", \"when\": {\"record_type\": "
	    "[\"decision\"]}, \"require\": [{\"field\": \"rationale\", "
	    "\"min_length\": 200}]}]}";
	json_error_t je;
	json_t *fx = json_load_file(FIXTURES, 0, &je);
	json_t *thread = json_pack("[{}]");
	struct sl_policy *p = NULL, *d = NULL;
	struct sl_err e;
	struct got g;
	size_t n;

	ck_assert_int_eq(sl_policy_parse(&p, text, sizeof(text) - 1,
	    "board.json", &e), 0);
	ck_assert_str_eq(sl_policy_name(p), "board 2");
	ck_assert_int_eq(sl_policy_load(&d, NULL, &e), 0);
	ck_assert_str_eq(sl_policy_name(d), "sharelog-default 1");
	/* different bytes, different hash; the default's is of its text */
	ck_assert_mem_ne(sl_policy_sha256(p), sl_policy_sha256(d), 32);
	sl_policy_default_text(&n);
	ck_assert_uint_gt(n, 1000);
	g = judge(p, fx, thread, "2026-03-10T12:00:00Z", "B1", 0);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_int_eq(g.severity, SL_SEV_WARNING);
	g = judge(d, fx, thread, "2026-03-10T12:00:00Z", "", 0);
	ck_assert_uint_eq(g.n, 0);
	sl_policy_free(p);
	sl_policy_free(d);
	json_decref(thread);
	json_decref(fx);
}
END_TEST

/* Identifiers may hold a quote or a backslash (the schema refuses only
 * control characters): findings and the summary name them as written,
 * not as their JSON escapes. */
START_TEST(escaped_identifiers)
{
	json_error_t je;
	json_t *fx = json_load_file(FIXTURES, 0, &je);
	json_t *thread = json_pack("[{s:s, s:{s:s, s:s}, s:[s]}]",
	    "type", "decision", "set", "decision_id", "D-\"7\"\\b",
	    "organisation_id", "URN \\ \"X\"", "unset", "rationale");
	struct sl_policy *p = NULL;
	struct sl_comp_result *r;
	const struct sl_comp_finding *f;
	const struct sl_comp_org *o;
	struct sl_err e;
	char dir[256];

	ck_assert_msg(fx != NULL, "%s", je.text);
	ck_assert_int_eq(sl_policy_load(&p, NULL, &e), 0);
	tu_tmpdir(dir, sizeof(dir));
	r = run_thread(dir, p, fx, thread, json_string_value(
	    json_object_get(fx, "as_of")));
	ck_assert_uint_ge(sl_comp_findings(r, &f), 1);
	ck_assert_str_eq(f[0].decision_id, "D-\"7\"\\b");
	ck_assert_str_eq(f[0].organisation, "URN \\ \"X\"");
	ck_assert_uint_eq(sl_comp_orgs(r, &o), 1);
	ck_assert_str_eq(o[0].organisation, "URN \\ \"X\"");
	sl_comp_free(r);
	tu_rmdir(dir);
	sl_policy_free(p);
	json_decref(thread);
	json_decref(fx);
}
END_TEST

/* ---- kept judgements ---------------------------------------------------- */

struct kstore {
	struct sl_store *st;
	uint8_t prev[SL_HASH_LEN];
	uint64_t seq;
	unsigned tag;
};

/* Append @thread to the store as exact entries (recorded_at as the
 * fixture says), its ids made its own (tag) so threads do not meet. */
static void kstore_add(struct kstore *k, const json_t *fx, const json_t *thread)
{
	json_t *prev[16] = { NULL };
	unsigned i, n = (unsigned)json_array_size(thread);
	unsigned idn = 0;
	struct sl_buf rec, ent;
	struct sl_err e;
	struct sl_hash *h;

	ck_assert_int_eq(sl_hash_new(&h), 0);
	sl_buf_init(&rec, SL_ENTRY_MAX);
	sl_buf_init(&ent, SL_ENTRY_MAX);
	k->tag++;
	for (i = 0; i < n && i < 16; i++) {
		int64_t rms;
		json_t *r = thread_record(fx, thread, prev, i, &idn, &rms);
		const char *rt = json_string_value(json_object_get(r,
		    "record_type"));
		struct sl_store_item it;
		char id[64];

		snprintf(id, sizeof(id), "%s-%u", json_string_value(
		    json_object_get(r, "decision_id")), k->tag);
		json_object_set_new(r, "decision_id", json_string(id));
		snprintf(id, sizeof(id), "01JKEPT%05u%014u", k->tag, i);
		json_object_set_new(r, "record_id", json_string(id));
		prev[i] = r;
		sl_buf_reset(&rec);
		sl_buf_reset(&ent);
		ck_assert_int_eq(sl_jcs_write(&rec, r, &e), 0);
		ck_assert_int_eq(sl_entry_build(&ent, k->prev, rec.data, rec.len,
		    rms, k->seq, "URN-118832", sl_entry_type_parse(rt,
		    strlen(rt)), &e), 0);
		memset(&it, 0, sizeof(it));
		it.raw = ent.data;
		it.raw_len = ent.len;
		ck_assert_msg(!sl_store_append_raw(k->st, &it, 1, NULL, &e),
		    "%s", e.msg);
		ck_assert_int_eq(sl_hash_leaf(k->prev, h, ent.data, ent.len),
		    0);
		k->seq++;
	}
	for (i = 0; i < n && i < 16; i++)
		json_decref(prev[i]);
	sl_buf_free(&rec);
	sl_buf_free(&ent);
	sl_hash_free(h);
}

/* Two runs' findings, counts and totals are the same. */
static void same_result(struct sl_comp_result *a, struct sl_comp_result *b,
    const char *as_of, int some)
{
	const struct sl_comp_finding *fa, *fb;
	const struct sl_comp_count *ca, *cb;
	size_t na = sl_comp_findings(a, &fa), nb = sl_comp_findings(b, &fb);
	size_t i;
	uint64_t x[4], y[4];

	ck_assert_msg(na == nb, "as of %s: %zu findings walked, %zu kept",
	    as_of, na, nb);
	ck_assert_msg(!some || na > 0, "as of %s: no findings to compare",
	    as_of);
	for (i = 0; i < na; i++) {
		ck_assert_msg(fa[i].seq == fb[i].seq && fa[i].rule == fb[i].rule
		    && fa[i].severity == fb[i].severity &&
		    fa[i].field == fb[i].field, "as of %s: finding %zu differs "
		    "(entry %llu, rule %u)", as_of, i,
		    (unsigned long long)fa[i].seq, fa[i].rule);
		ck_assert_str_eq(fa[i].decision_id, fb[i].decision_id);
		ck_assert_str_eq(fa[i].organisation, fb[i].organisation);
	}
	na = sl_comp_counts(a, &ca);
	nb = sl_comp_counts(b, &cb);
	ck_assert_uint_eq(na, nb);
	for (i = 0; i < na; i++)
		ck_assert(ca[i].rule == cb[i].rule && ca[i].findings ==
		    cb[i].findings && ca[i].decisions == cb[i].decisions &&
		    !strcmp(ca[i].organisation, cb[i].organisation));
	sl_comp_totals(a, &x[0], &x[1], &x[2], &x[3]);
	sl_comp_totals(b, &y[0], &y[1], &y[2], &y[3]);
	ck_assert(!memcmp(x, y, sizeof(x)));
}

/* The fixtures are decided from 2026-03-02 09:00 on: as-of times before
 * them, within the first day (grace), the working week (escalation),
 * after, and long after. */
static const char *const as_of_times[] = { "2000-01-01T00:00:00Z",
    "2026-03-02T10:30:00Z", "2026-03-03T08:59:59Z",
    "2026-03-03T09:00:00Z", "2026-03-06T12:00:00Z",
    "2026-03-09T09:00:00Z", "2026-03-10T12:00:00Z",
    "2026-04-01T00:00:00Z", "2100-01-01T00:00:00Z" };
#define N_AS_OF (sizeof(as_of_times) / sizeof(as_of_times[0]))

/* The fixtures, and the built-in policy with its keeper, for the kept
 * judgements' tests. */
struct kfix {
	json_t *fx;
	const json_t *cases;
	struct sl_policy *p;
	struct sl_comp_keeper *kp;
};

static void kfix_open(struct kfix *f)
{
	json_error_t je;
	struct sl_err e;

	f->fx = json_load_file(FIXTURES, 0, &je);
	ck_assert_ptr_nonnull(f->fx);
	f->cases = json_object_get(f->fx, "cases");
	ck_assert_int_eq(sl_policy_load(&f->p, NULL, &e), 0);
	ck_assert_int_eq(sl_comp_keeper_new(&f->kp, f->p, &e), 0);
}

static void kfix_close(struct kfix *f)
{
	sl_comp_keeper_free(f->kp);
	sl_policy_free(f->p);
	json_decref(f->fx);
}

/*
 * Every fixture thread in one store that keeps judgements: the rules
 * read from them find exactly what they find walking every record, at
 * as-of times before, between and after the fixtures' grace and
 * escalation periods.
 */
START_TEST(kept_equals_walked)
{
	const char *const *times = as_of_times;
	const size_t nt = N_AS_OF;
	uint64_t size = 0;
	struct kfix f;
	json_t *fx;
	const json_t *cases;
	struct sl_policy *p;
	struct sl_store_keeper sk;
	struct kstore k;
	struct sl_keys *keys;
	struct sl_err e;
	char dir[256], sdir[300];
	const char *extra[64];
	size_t ne = 0;
	size_t i, t;

	kfix_open(&f);
	fx = f.fx;
	cases = f.cases;
	p = f.p;
	ck_assert_int_eq(sl_comp_store_keeper(&sk, f.kp), 0);
	sl_store_set_keeper(&sk);
	memset(&k, 0, sizeof(k));
	tu_log_open(dir, "kept.test", &k.st, &keys);
	sl_store_set_keeper(NULL);
	/* the genesis entry's leaf, the root of a log of one */
	ck_assert_int_eq(sl_store_root(k.prev, k.st, &size), 0);
	ck_assert_uint_eq(size, 1);
	k.seq = 1;
	for (i = 0; i < json_array_size(cases); i++) {
		const json_t *c = json_array_get(cases, i);
		const char *w[] = { "breaks", "satisfies", "resolved" };
		const char *as_of = json_string_value(json_object_get(c,
		    "as_of"));
		size_t j;

		for (j = 0; j < 3; j++)
			if (json_object_get(c, w[j]))
				kstore_add(&k, fx, json_object_get(c, w[j]));
		for (j = 0; as_of && j < ne && strcmp(extra[j], as_of); j++)
			;
		if (as_of && j == ne && ne < 64)
			extra[ne++] = as_of;
	}
	snprintf(sdir, sizeof(sdir), "%s/s", dir);
	for (t = 0; t < nt + ne; t++) {
		const char *when = t < nt ? times[t] : extra[t - nt];
		struct sl_comp_opts o = { p, ms_of(when), INT64_MIN, INT64_MAX,
			k.seq, 1, NULL, NULL };
		struct sl_comp_result *a = NULL, *b = NULL;

		ck_assert_msg(!sl_comp_run(&a, sdir, &o, &e), "%s", e.msg);
		ck_assert_msg(!sl_comp_run_kept(&b, sdir, &o, &e), "%s", e.msg);
		same_result(a, b, when, t > 0);
		sl_comp_free(a);
		sl_comp_free(b);
	}
	tu_log_close(dir, k.st, keys);
	kfix_close(&f);
}
END_TEST

/* sl_comp_thread's findings on @k as of @when, with and without its
 * kept judgement: the same. Returns how many. */
static size_t thread_same(const struct sl_policy *p,
    const struct sl_comp_entry *k, const struct sl_comp_entry *plain,
    const char *when)
{
	struct sl_comp_open fa[64], fb[64];
	size_t na = 0, nb = 0, i;
	struct sl_err e;

	ck_assert_int_eq(sl_comp_thread(NULL, p, 7, plain, ms_of(when), fa, 64,
	    &na, &e), 0);
	ck_assert_int_eq(sl_comp_thread(NULL, p, 7, k, ms_of(when), fb, 64,
	    &nb, &e), 0);
	ck_assert_msg(na == nb, "as of %s: %zu findings walked, %zu kept",
	    when, na, nb);
	for (i = 0; i < na; i++)
		ck_assert_msg(fa[i].seq == fb[i].seq && fa[i].rule ==
		    fb[i].rule && fa[i].severity == fb[i].severity &&
		    fa[i].field == fb[i].field, "as of %s: finding %zu differs",
		    when, i);
	return na;
}

/*
 * The service answers a new decision's findings from the judgement the
 * store kept of it (sl_comp_entry.kept): the same findings as judging
 * its record, for every fixture decision at as-of times around its grace
 * and escalation periods; a kept form cut short, or made at another
 * recorded time, is not used.
 */
START_TEST(thread_kept_decision)
{
	const char *const *times = as_of_times;
	struct kfix f;
	struct sl_record_view v;
	struct sl_buf rec;
	struct sl_err e;
	uint8_t *kb = malloc(SL_COMP_KEPT_MAX);
	size_t found = 0, decisions = 0;
	size_t i, j, t;

	ck_assert_ptr_nonnull(kb);
	kfix_open(&f);
	sl_buf_init(&rec, SL_ENTRY_MAX);
	for (i = 0; i < json_array_size(f.cases); i++) {
		const json_t *c = json_array_get(f.cases, i);
		const char *w[] = { "breaks", "satisfies", "resolved" };

		for (j = 0; j < 3; j++) {
			const json_t *th = json_object_get(c, w[j]);
			json_t *prev[1] = { NULL };
			unsigned idn = 0;
			int64_t rms;
			json_t *r;
			struct sl_comp_entry plain, k;
			size_t kl;

			if (!th)
				continue;
			r = thread_record(f.fx, th, prev, 0, &idn, &rms);
			if (strcmp(json_string_value(json_object_get(r,
			    "record_type")), "decision")) {
				json_decref(r);
				continue;
			}
			decisions++;
			sl_buf_reset(&rec);
			ck_assert_int_eq(sl_jcs_write(&rec, r, &e), 0);
			ck_assert_int_eq(sl_record_view_scan(&v, rec.data,
			    rec.len, &e), 0);
			kl = sl_comp_keep(f.kp, kb, SL_ET_DECISION, rms, &v);
			plain = (struct sl_comp_entry){ rec.data, rec.len,
				SL_ET_DECISION, rms, NULL, 0 };
			k = plain;
			k.kept = kb;
			k.kept_len = kl;
			for (t = 0; t < N_AS_OF; t++)
				found += thread_same(f.p, &k, &plain, times[t]);
			found += thread_same(f.p, &k, &plain, json_string_value(
			    json_object_get(c, "as_of")) ?
			    json_string_value(json_object_get(c, "as_of")) :
			    json_string_value(json_object_get(f.fx, "as_of")));
			/* not a whole kept form, or not this entry's: judged
			 * from the record, the same */
			k.kept_len = kl - 1;
			thread_same(f.p, &k, &plain, times[6]);
			k.kept_len = kl;
			k.recorded_ms = rms + 1;
			plain.recorded_ms = rms + 1;
			thread_same(f.p, &k, &plain, times[6]);
			json_decref(r);
		}
	}
	ck_assert_uint_gt(decisions, 10);
	ck_assert_uint_gt(found, 10);
	sl_buf_free(&rec);
	free(kb);
	kfix_close(&f);
}
END_TEST

Suite *sl_completeness_suite(void)
{
	Suite *s = suite_create("completeness");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, base_is_complete);
	tcase_add_test(tc, every_rule);
	tcase_add_test(tc, policy_errors_name_the_rule);
	tcase_add_test(tc, board_policy);
	tcase_add_test(tc, amended_decision);
	tcase_add_test(tc, escaped_identifiers);
	tcase_add_test(tc, kept_equals_walked);
	tcase_add_test(tc, thread_kept_decision);
	suite_add_tcase(s, tc);
	return s;
}
