#include "verify/report.h"
#include "formats/rfc3339.h"
#include "formats/enc.h"
#include "formats/csv.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *src_name(const struct sl_verify_result *r)
{
	return r->source == SL_SRC_STORE ? "store" : "bundle";
}

void sl_report_text(FILE *out, const char *path,
    const struct sl_verify_result *r)
{
	char hex[65];
	size_t i;

	fprintf(out, "sharelog-verify: %s\n", r->verified ? "VERIFIED" :
	    "FAILED");
	fprintf(out, "  log:          %s (%s %s)\n", r->origin[0] ? r->origin :
	    "?", src_name(r), path);
	if (!r->verified) {
		fprintf(out, "  entries:      %llu checked and sound before the "
		    "first problem (%.2f s)\n", (unsigned long long)
		    (r->entries < r->bad_from ? r->entries : r->bad_from),
		    r->seconds);
		if (r->bad_from == r->bad_to)
			fprintf(out, "  first bad entry: %llu\n",
			    (unsigned long long)r->bad_from);
		else
			fprintf(out, "  bad entries:  %llu to %llu\n",
			    (unsigned long long)r->bad_from,
			    (unsigned long long)r->bad_to);
		fprintf(out, "  problem:      %s\n", r->problem);
		fprintf(out, "  The log cannot be relied on from that point: "
		    "keep this output, and compare with a bundle or a "
		    "checkpoint taken earlier.\n");
		return;
	}
	fprintf(out, "  entries:      %llu (%.1f MB) checked in %.2f s\n",
	    (unsigned long long)r->entries, (double)r->bytes / 1e6,
	    r->seconds);
	sl_enc_hex(hex, r->root, 32);
	fprintf(out, "  chain:        every entry is canonical JSON, seq runs "
	    "0..%llu without gaps, every prev links to the entry before\n",
	    (unsigned long long)(r->entries - 1));
	fprintf(out, "  root:         %s\n", hex);
	fprintf(out, "  checkpoint:   size %llu, signed by %s%s\n",
	    (unsigned long long)r->newest.size, r->trusted_key,
	    r->trust_from_log ? " (the key named in the log itself; pass "
	    "--key to check it against a key you hold)" : " (a key you "
	    "trust)");
	fprintf(out, "  checkpoints:  %zu checked, all consistent with the "
	    "entries\n", r->checkpoints);
	if (r->source == SL_SRC_STORE && r->derived < r->entries && r->derived)
		fprintf(out, "  derived:      the store's derived tables (Merkle "
		    "nodes, ids, threads, summaries, refs) cover only the first "
		    "%llu entries (a writer stopped between its two commits); "
		    "not checked: the next sharelogd start on the store adds "
		    "the rest\n", (unsigned long long)r->derived);
	else if (r->source == SL_SRC_STORE && r->derived < r->entries)
		fprintf(out, "  derived:      the store's derived tables (Merkle "
		    "nodes, ids, threads, summaries, refs) are missing, or were "
		    "written before the machine last restarted, and are not "
		    "used; not checked: the next sharelogd start on the store "
		    "builds them again from the entries\n");
	else if (r->source == SL_SRC_STORE)
		fprintf(out, "  summaries:    %s\n", r->summaries ? "the "
		    "summary kept for the board reports matches every entry" :
		    "none kept yet (an older store; the first sharelogd start "
		    "adds them)");
	if (r->source == SL_SRC_STORE && r->derived == r->entries)
		fprintf(out, "  judgements:   %s\n", r->judgements ? "the "
		    "recording rules' judgement kept for report packs matches "
		    "every entry" : r->judged_other ? "kept by another policy "
		    "than the built-in one: not checked (packs with that "
		    "policy judge every record again)" : "none kept (the "
		    "first sharelogd start adds them)");
	if (r->source == SL_SRC_STORE && r->derived == r->entries)
		fprintf(out, "  lookups:      %s\n", r->refs ? "the child and "
		    "case references kept for trails match every entry" :
		    "read from the store's older indexes (the first sharelogd "
		    "start replaces them)");
	if (r->source == SL_SRC_STORE && r->lookups && r->index_reach)
		fprintf(out, "  tables:       the ids and threads tables, and "
		    "the child and case index (entries 0..%llu; trails read "
		    "the refs past it), hold exactly the rows the entries "
		    "call for\n", (unsigned long long)(r->index_reach - 1));
	else if (r->source == SL_SRC_STORE && r->lookups)
		fprintf(out, "  tables:       the ids and threads tables hold "
		    "exactly the rows the entries call for (%s)\n", r->refs ?
		    "no child and case index in use: trails read the refs" :
		    "the older child and case tables are not checked");
	if (r->source == SL_SRC_STORE && r->nodes)
		fprintf(out, "  tree:         the Merkle nodes the service "
		    "serves proofs from match every entry\n");
	for (i = 0; i < r->nheld; i++)
		fprintf(out, "  held:         %s (size %llu): the log has only "
		    "been appended to since\n", r->held[i].from,
		    (unsigned long long)r->held[i].size);
	if (r->unsealed)
		fprintf(out, "  note:         the newest %llu entr%s not yet "
		    "covered by a signed checkpoint (the service signs one "
		    "every few seconds)\n", (unsigned long long)r->unsealed,
		    r->unsealed == 1 ? "y is" : "ies are");
}

static json_t *integrity_json(const char *path,
    const struct sl_verify_result *r)
{
	char hex[65];
	json_t *o = json_object();
	json_t *held = json_array();
	size_t i;

	json_object_set_new(o, "verified", json_boolean(r->verified));
	json_object_set_new(o, "path", json_string(path));
	json_object_set_new(o, "source", json_string(src_name(r)));
	json_object_set_new(o, "origin", json_string(r->origin));
	json_object_set_new(o, "entries", json_integer((json_int_t)r->entries));
	json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
	json_object_set_new(o, "seconds", json_real(r->seconds));
	if (r->verified) {
		sl_enc_hex(hex, r->root, 32);
		json_object_set_new(o, "root", json_string(hex));
		json_object_set_new(o, "checkpoint_size",
		    json_integer((json_int_t)r->newest.size));
		json_object_set_new(o, "checkpoint_key",
		    json_string(r->trusted_key));
		json_object_set_new(o, "key_from_log",
		    json_boolean(r->trust_from_log));
		json_object_set_new(o, "checkpoints_checked",
		    json_integer((json_int_t)r->checkpoints));
		json_object_set_new(o, "unsealed_entries",
		    json_integer((json_int_t)r->unsealed));
		if (r->source == SL_SRC_STORE)
			json_object_set_new(o, "summaries_checked",
			    json_integer((json_int_t)r->summaries));
		if (r->source == SL_SRC_STORE)
			json_object_set_new(o, "judgements_checked",
			    json_integer((json_int_t)r->judgements));
		if (r->source == SL_SRC_STORE)
			json_object_set_new(o, "refs_checked",
			    json_integer((json_int_t)r->refs));
		if (r->source == SL_SRC_STORE) {
			json_object_set_new(o, "lookups_checked",
			    json_integer((json_int_t)r->lookups));
			json_object_set_new(o, "index_reach",
			    json_integer((json_int_t)r->index_reach));
			json_object_set_new(o, "derived_reach",
			    json_integer((json_int_t)r->derived));
			json_object_set_new(o, "nodes_checked",
			    json_integer((json_int_t)r->nodes));
		}
		for (i = 0; i < r->nheld; i++)
			json_array_append_new(held, json_pack("{s:s,s:I}",
			    "file", r->held[i].from, "size",
			    (json_int_t)r->held[i].size));
		json_object_set_new(o, "held_checkpoints", held);
	} else {
		json_decref(held);
		json_object_set_new(o, "bad_from",
		    json_integer((json_int_t)r->bad_from));
		json_object_set_new(o, "bad_to",
		    json_integer((json_int_t)r->bad_to));
		json_object_set_new(o, "problem", json_string(r->problem));
	}
	return o;
}

void sl_report_json(FILE *out, const char *path,
    const struct sl_verify_result *r)
{
	json_t *o = integrity_json(path, r);
	char *s;

	s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (s)
		fprintf(out, "%s\n", s);
	free(s);
	json_decref(o);
}

/* ---- completeness ------------------------------------------------------ */

static const char *sev_name(int s)
{
	return s == SL_SEV_ERROR ? "error" : "warning";
}

static void fmt_time(char *out, size_t cap, int64_t ms, const char *open)
{
	char t[SL_RFC3339_MS_LEN + 1];

	if (ms == INT64_MIN || ms == INT64_MAX) {
		snprintf(out, cap, "%s", open);
		return;
	}
	sl_rfc3339_format(t, ms);
	snprintf(out, cap, "%s", t);
}

static void policy_line(FILE *out, const struct sl_policy *p)
{
	char hex[65];

	sl_enc_hex(hex, sl_policy_sha256(p), 32);
	fprintf(out, "  policy:       %s, %s, sha256 %s\n", sl_policy_name(p),
	    sl_policy_file(p), hex);
}

void sl_report_comp_text(FILE *out, const struct sl_report_comp *c)
{
	const struct sl_comp_finding *f;
	const struct sl_comp_count *k;
	const struct sl_comp_org *g;
	size_t nf = sl_comp_findings(c->result, &f);
	size_t nk = sl_comp_counts(c->result, &k);
	size_t ng = sl_comp_orgs(c->result, &g);
	uint64_t entries, judged, errors, warnings;
	char a[40], b[40], d[40], when[120];
	size_t i;

	sl_comp_totals(c->result, &entries, &judged, &errors, &warnings);
	fmt_time(a, sizeof(a), c->as_of_ms, "now");
	fmt_time(b, sizeof(b), c->from_ms, "");
	fmt_time(d, sizeof(d), c->to_ms, "");
	snprintf(when, sizeof(when), "decided %s%s%s%s%s", *b ? "from " : "",
	    b, *b && *d ? " " : "", *d ? "before " : "", d);
	if (!*b && !*d)
		snprintf(when, sizeof(when), "all dates");
	fprintf(out, "\nsharelog-verify: completeness: %s\n", errors ?
	    "ERRORS FOUND" : warnings ? "no errors (warnings below)" :
	    "COMPLETE");
	policy_line(out, c->policy);
	fprintf(out, "  as of:        %s (entries recorded later are not "
	    "looked at)\n", a);
	fprintf(out, "  decisions:    %llu judged (%s), with their threads, "
	    "in %.2f s\n", (unsigned long long)judged, when,
	    sl_comp_seconds(c->result));
	fprintf(out, "  findings:     %llu error(s), %llu warning(s)\n",
	    (unsigned long long)errors, (unsigned long long)warnings);
	if (nf) {
		fprintf(out, "\n%-10s %-28s %-16s %-5s %-8s %s\n", "seq",
		    "decision_id", "organisation", "rule", "severity",
		    "field");
		for (i = 0; i < nf; i++)
			fprintf(out, "%-10llu %-28s %-16s %-5s %-8s %s\n",
			    (unsigned long long)f[i].seq, f[i].decision_id,
			    f[i].organisation,
			    sl_policy_rule(c->policy, f[i].rule)->id,
			    sev_name(f[i].severity),
			    sl_policy_field_name(f[i].field));
	}
	fprintf(out, "\nby organisation:\n");
	fprintf(out, "%-16s %10s %10s %12s %14s\n", "organisation",
	    "decisions", "follow-ups", "with errors", "warnings only");
	for (i = 0; i < ng; i++)
		fprintf(out, "%-16s %10llu %10llu %12llu %14llu\n",
		    g[i].organisation, (unsigned long long)g[i].decisions,
		    (unsigned long long)g[i].follow_ups,
		    (unsigned long long)g[i].with_errors,
		    (unsigned long long)g[i].with_warnings);
	if (nk) {
		fprintf(out, "\nby organisation and rule:\n");
		fprintf(out, "%-16s %-5s %-8s %10s %10s\n", "organisation",
		    "rule", "severity", "findings", "decisions");
		for (i = 0; i < nk; i++)
			fprintf(out, "%-16s %-5s %-8s %10llu %10llu\n",
			    k[i].organisation,
			    sl_policy_rule(c->policy, k[i].rule)->id,
			    sev_name(k[i].severity),
			    (unsigned long long)k[i].findings,
			    (unsigned long long)k[i].decisions);
	}
}

/* A JSON string literal (ids and names only: short, printable). */
static void jstr(FILE *out, const char *s)
{
	json_t *v = json_string(s ? s : "");
	char *d = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;

	fputs(d ? d : "\"\"", out);
	free(d);
	json_decref(v);
}

void sl_report_comp_json(FILE *out, const char *path,
    const struct sl_verify_result *r, const struct sl_report_comp *c)
{
	json_t *o = integrity_json(path, r);
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	const struct sl_comp_finding *f;
	const struct sl_comp_count *k;
	const struct sl_comp_org *g;
	size_t nf = sl_comp_findings(c->result, &f);
	size_t nk = sl_comp_counts(c->result, &k);
	size_t ng = sl_comp_orgs(c->result, &g);
	uint64_t entries, judged, errors, warnings;
	char t[40], hex[65];
	size_t i;

	sl_comp_totals(c->result, &entries, &judged, &errors, &warnings);
	/* findings are streamed: a million decisions can have many */
	fprintf(out, "{\n  \"integrity\": %s,\n  \"completeness\": {\n",
	    s ? s : "null");
	free(s);
	json_decref(o);
	sl_enc_hex(hex, sl_policy_sha256(c->policy), 32);
	fprintf(out, "    \"policy\": {\"name\": ");
	jstr(out, sl_policy_name(c->policy));
	fprintf(out, ", \"file\": ");
	jstr(out, sl_policy_file(c->policy));
	fprintf(out, ", \"sha256\": \"%s\"},\n", hex);
	fmt_time(t, sizeof(t), c->as_of_ms, "");
	fprintf(out, "    \"as_of\": \"%s\",\n", t);
	fmt_time(t, sizeof(t), c->from_ms, "");
	fprintf(out, "    \"from\": %s%s%s,\n", *t ? "\"" : "", *t ? t :
	    "null", *t ? "\"" : "");
	fmt_time(t, sizeof(t), c->to_ms, "");
	fprintf(out, "    \"to\": %s%s%s,\n", *t ? "\"" : "", *t ? t :
	    "null", *t ? "\"" : "");
	fprintf(out, "    \"decisions_judged\": %llu,\n    \"errors\": %llu,"
	    "\n    \"warnings\": %llu,\n    \"findings\": [",
	    (unsigned long long)judged, (unsigned long long)errors,
	    (unsigned long long)warnings);
	for (i = 0; i < nf; i++) {
		fprintf(out, "%s\n      {\"seq\": %llu, \"decision_id\": ",
		    i ? "," : "", (unsigned long long)f[i].seq);
		jstr(out, f[i].decision_id);
		fprintf(out, ", \"organisation\": ");
		jstr(out, f[i].organisation);
		fprintf(out, ", \"rule\": ");
		jstr(out, sl_policy_rule(c->policy, f[i].rule)->id);
		fprintf(out, ", \"severity\": \"%s\", \"field\": ",
		    sev_name(f[i].severity));
		jstr(out, sl_policy_field_name(f[i].field));
		fputc('}', out);
	}
	fprintf(out, "%s],\n    \"organisations\": [", nf ? "\n    " : "");
	for (i = 0; i < ng; i++) {
		fprintf(out, "%s\n      {\"organisation\": ", i ? "," : "");
		jstr(out, g[i].organisation);
		fprintf(out, ", \"decisions\": %llu, \"follow_ups\": %llu, "
		    "\"with_errors\": %llu, \"warnings_only\": %llu}",
		    (unsigned long long)g[i].decisions,
		    (unsigned long long)g[i].follow_ups,
		    (unsigned long long)g[i].with_errors,
		    (unsigned long long)g[i].with_warnings);
	}
	fprintf(out, "%s],\n    \"by_rule\": [", ng ? "\n    " : "");
	for (i = 0; i < nk; i++) {
		fprintf(out, "%s\n      {\"organisation\": ", i ? "," : "");
		jstr(out, k[i].organisation);
		fprintf(out, ", \"rule\": ");
		jstr(out, sl_policy_rule(c->policy, k[i].rule)->id);
		fprintf(out, ", \"severity\": \"%s\", \"findings\": %llu, "
		    "\"decisions\": %llu}", sev_name(k[i].severity),
		    (unsigned long long)k[i].findings,
		    (unsigned long long)k[i].decisions);
	}
	fprintf(out, "%s]\n  }\n}\n", nk ? "\n    " : "");
}

void sl_report_comp_csv(FILE *out, const struct sl_report_comp *c,
    int summary)
{
	char a[24], b[24];
	size_t i;

	if (!summary) {
		static const char *const head[] = { "seq", "decision_id",
			"organisation", "rule", "severity", "field" };
		const struct sl_comp_finding *f;
		size_t nf = sl_comp_findings(c->result, &f);

		sl_csv_row(out, head, 6, 0);
		for (i = 0; i < nf; i++) {
			const char *v[6];

			snprintf(a, sizeof(a), "%llu",
			    (unsigned long long)f[i].seq);
			v[0] = a;
			v[1] = f[i].decision_id;
			v[2] = f[i].organisation;
			v[3] = sl_policy_rule(c->policy, f[i].rule)->id;
			v[4] = sev_name(f[i].severity);
			v[5] = sl_policy_field_name(f[i].field);
			sl_csv_row(out, v, 6, 1u << 1 | 1u << 2);  /* client ids */
		}
	} else {
		static const char *const head[] = { "organisation", "rule",
			"severity", "findings", "decisions_with_finding" };
		const struct sl_comp_count *k;
		size_t nk = sl_comp_counts(c->result, &k);

		sl_csv_row(out, head, 5, 0);
		for (i = 0; i < nk; i++) {
			const char *v[5];

			snprintf(a, sizeof(a), "%llu",
			    (unsigned long long)k[i].findings);
			snprintf(b, sizeof(b), "%llu",
			    (unsigned long long)k[i].decisions);
			v[0] = k[i].organisation;
			v[1] = sl_policy_rule(c->policy, k[i].rule)->id;
			v[2] = sev_name(k[i].severity);
			v[3] = a;
			v[4] = b;
			sl_csv_row(out, v, 5, 1u << 0);  /* a client id */
		}
	}
}
