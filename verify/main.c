/*
 * sharelog-verify: prove a sharelog log complete and unaltered, and (with
 * --completeness) judge every decision by the recording rules.
 * Exit 0 verified, 1 integrity failure, 2 usage or I/O error, 3 verified
 * but error-level completeness findings.
 */
#include "formats/bundle.h"
#include "formats/rfc3339.h"
#include "verify/completeness.h"
#include "verify/integrity.h"
#include "verify/policy.h"
#include "verify/report.h"
#include "reports/pack.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_ARGS 64

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: sharelog-verify STORE|BUNDLE [--checkpoint FILE ...] "
	    "[--key VKEY|FILE ...] [--json] [--threads N]\n"
	    "       sharelog-verify STORE|BUNDLE --pack DIR [--policy FILE]\n"
	    "       sharelog-verify STORE|BUNDLE --completeness [--policy FILE] "
	    "[--as-of TIME]\n"
	    "              [--from DATE] [--to DATE] [--json | --csv | "
	    "--csv-summary] ...\n"
	    "\n"
	    "Proves that a sharelog store or exported bundle is complete and "
	    "unaltered:\n"
	    "every entry is re-hashed and re-checked (canonical form, seq, "
	    "prev chain),\n"
	    "the Merkle root is compared with every signed checkpoint, and "
	    "each\n"
	    "--checkpoint you kept from an earlier inspection must still be "
	    "a prefix\n"
	    "of the log (which exposes a removed tail or rewritten "
	    "history).\n"
	    "--key gives the log's verifier key as you hold it (a string or "
	    "a file);\n"
	    "without it the key named in the log itself is trusted.\n"
	    "\n"
	    "--completeness then judges every decision by the recording "
	    "rules of the\n"
	    "policy (the built-in default follows the guidance; --policy "
	    "gives a board's\n"
	    "own) as of TIME (RFC 3339, or a date meaning the end of that "
	    "day; default\n"
	    "now), for decisions decided from DATE to DATE (inclusive). "
	    "It lists each\n"
	    "finding as seq, decision_id, organisation, rule, severity and "
	    "field, never\n"
	    "record text, then a summary per organisation and rule. "
	    "--csv prints the\n"
	    "findings as CSV, --csv-summary the summary.\n"
	    "\n"
	    "--pack checks a report pack of sharelog-report against the log: "
	    "made again\n"
	    "from the checkpoint and options it names, every file must be "
	    "identical.\n"
	    "\n"
	    "exit status: 0 verified (and no error-level findings), 1 "
	    "integrity failure,\n"
	    "2 usage or I/O error, 3 error-level completeness findings\n");
}

/* A --key argument is a vkey string or a file holding one per line. */
static int add_keys(const char **keys, size_t *n, char **owned,
    size_t *nowned, const char *arg)
{
	struct stat st;
	struct sl_err e;
	char *text;
	size_t len;
	char *line;
	char *save = NULL;

	if (stat(arg, &st)) {
		if (*n >= MAX_ARGS)
			return -1;
		keys[(*n)++] = arg;
		return 0;
	}
	if (sl_bundle_slurp(&text, &len, arg, 65536, &e)) {
		fprintf(stderr, "sharelog-verify: %s\n", e.msg);
		return -1;
	}
	owned[(*nowned)++] = text;
	for (line = strtok_r(text, "\n", &save); line;
	    line = strtok_r(NULL, "\n", &save))
		if (*line && *n < MAX_ARGS)
			keys[(*n)++] = line;
	return 0;
}

/* A date (YYYY-MM-DD) or an RFC 3339 date-time; @end_of_day makes a date
 * mean its last millisecond. */
static int parse_when(int64_t *ms, const char *s, int end_of_day,
    const char *opt)
{
	if (!sl_rfc3339_parse_date(ms, s, strlen(s))) {
		if (end_of_day)
			*ms += 86400000 - 1;
		return 0;
	}
	if (!sl_rfc3339_parse(ms, s, strlen(s)))
		return 0;
	fprintf(stderr, "sharelog-verify: %s: \"%s\" is not a date "
	    "(YYYY-MM-DD) or an RFC 3339 date-time\n", opt, s);
	return -1;
}

static int completeness(const char *path, const struct sl_verify_opts *o,
    int json, int csv, const char *policy_path, const char *as_of,
    const char *from, const char *to)
{
	struct sl_verify_result *r = calloc(1, sizeof(*r));
	struct sl_policy *pol = NULL;
	struct sl_comp_result *cr = NULL;
	struct sl_comp_opts co = { NULL, 0, INT64_MIN, INT64_MAX, 0, 0, NULL,
		NULL };
	struct sl_report_comp rep = { NULL, NULL, 0, INT64_MIN, INT64_MAX };
	struct sl_err e = { 0, "" };
	uint64_t entries, judged, errors, warnings;
	int status = 2;
	int rc;

	if (!r)
		return 2;
	co.as_of_ms = sl_rfc3339_now_ms();
	if ((as_of && parse_when(&co.as_of_ms, as_of, 1, "--as-of")) ||
	    (from && parse_when(&co.from_ms, from, 0, "--from")) ||
	    (to && parse_when(&co.to_ms, to, 1, "--to")))
		goto out;
	if (to)
		co.to_ms++;          /* inclusive: up to the end of it */
	if (sl_policy_load(&pol, policy_path, &e)) {
		fprintf(stderr, "sharelog-verify: policy: %s\n", e.msg);
		goto out;
	}
	/* Integrity first, always: rules over an altered log mean nothing. */
	rc = sl_verify_log(r, path, o, &e);
	if (rc && rc != SL_EINTEGRITY) {
		fprintf(stderr, "sharelog-verify: %s\n", e.msg);
		goto out;
	}
	if (!r->verified) {
		if (json)
			sl_report_json(stdout, path, r);
		else
			sl_report_text(csv ? stderr : stdout, path, r);
		fprintf(stderr, "sharelog-verify: integrity failed; "
		    "completeness not judged\n");
		status = 1;
		goto out;
	}
	co.policy = pol;
	co.upto = r->entries;
	co.threads = o->threads;
	if (sl_comp_run(&cr, path, &co, &e)) {
		fprintf(stderr, "sharelog-verify: completeness: %s\n", e.msg);
		goto out;
	}
	rep.policy = pol;
	rep.result = cr;
	rep.as_of_ms = co.as_of_ms;
	rep.from_ms = co.from_ms;
	rep.to_ms = co.to_ms;
	if (json) {
		sl_report_comp_json(stdout, path, r, &rep);
	} else if (csv) {
		sl_report_comp_csv(stdout, &rep, csv == 2);
	} else {
		sl_report_text(stdout, path, r);
		sl_report_comp_text(stdout, &rep);
	}
	sl_comp_totals(cr, &entries, &judged, &errors, &warnings);
	status = errors ? 3 : 0;
out:
	if (fflush(stdout))
		status = 2;
	sl_comp_free(cr);
	sl_policy_free(pol);
	free(r);
	return status;
}

int main(int argc, char **argv)
{
	const char *held[MAX_ARGS];
	const char *keys[MAX_ARGS];
	char *owned[MAX_ARGS];
	size_t nowned = 0;
	struct sl_verify_opts o = { held, 0, keys, 0, 0, 0, NULL, NULL, 0, 0 };
	struct sl_verify_result *r;
	struct sl_err e = { 0, "" };
	const char *path = NULL;
	int json = 0;
	int comp = 0, csv = 0;
	const char *policy_path = NULL;
	const char *as_of = NULL, *from = NULL, *to = NULL;
	const char *pack = NULL;
	int rc;
	int i;
	int status;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--checkpoint") && i + 1 < argc) {
			if (o.nheld >= MAX_ARGS)
				goto bad;
			held[o.nheld++] = argv[++i];
		} else if (!strcmp(a, "--key") && i + 1 < argc) {
			if (nowned >= MAX_ARGS || add_keys(keys, &o.nkeys,
			    owned, &nowned, argv[++i]))
				return 2;
		} else if (!strcmp(a, "--completeness")) {
			comp = 1;
		} else if (!strcmp(a, "--csv")) {
			csv = 1;
		} else if (!strcmp(a, "--csv-summary")) {
			csv = 2;
		} else if (!strcmp(a, "--pack") && i + 1 < argc) {
			pack = argv[++i];
		} else if (!strcmp(a, "--policy") && i + 1 < argc) {
			policy_path = argv[++i];
		} else if (!strcmp(a, "--as-of") && i + 1 < argc) {
			as_of = argv[++i];
		} else if (!strcmp(a, "--from") && i + 1 < argc) {
			from = argv[++i];
		} else if (!strcmp(a, "--to") && i + 1 < argc) {
			to = argv[++i];
		} else if (!strcmp(a, "--threads") && i + 1 < argc) {
			o.threads = atoi(argv[++i]);
		} else if (a[0] == '-' || path) {
			goto bad;
		} else {
			path = a;
		}
	}
	if (!path || (json && csv) || (!comp && (csv || as_of || from || to)) ||
	    (!comp && !pack && policy_path) || (pack && comp))
		goto bad;
	if (pack) {
		struct sl_policy *pol = NULL;

		if (sl_policy_load(&pol, policy_path, &e)) {
			fprintf(stderr, "sharelog-verify: policy: %s\n", e.msg);
			status = 2;
			goto done;
		}
		rc = sl_pack_check(pack, path, pol, o.threads, &e);
		sl_policy_free(pol);
		if (rc) {
			fprintf(rc == SL_EINTEGRITY ? stdout : stderr, "%s%s\n",
			    rc == SL_EINTEGRITY ? "PACK DOES NOT MATCH: " :
			    "sharelog-verify: ", e.msg);
			status = rc == SL_EINTEGRITY ? 1 : 2;
		} else {
			printf("PACK MATCHES: %s is what %s says at the "
			    "checkpoint the pack names, byte for byte\n", pack,
			    path);
			status = 0;
		}
		goto done;
	}
	if (comp) {
		status = completeness(path, &o, json, csv, policy_path, as_of,
		    from, to);
		goto done;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return 2;
	rc = sl_verify_log(r, path, &o, &e);
	if (rc && rc != SL_EINTEGRITY) {
		fprintf(stderr, "sharelog-verify: %s\n", e.msg);
		status = 2;
	} else {
		if (json)
			sl_report_json(stdout, path, r);
		else
			sl_report_text(stdout, path, r);
		status = r->verified ? 0 : 1;
	}
	free(r);
done:
	while (nowned)
		free(owned[--nowned]);
	return status;
bad:
	usage(stderr);
	return 2;
}
