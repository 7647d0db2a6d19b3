/*
 * sharelog-report: the board's report packs and the reviewers' trails,
 * offline, from a store or a bundle.
 * Exit 0 done, 1 the log does not verify, 2 usage or I/O error.
 */
#include "formats/enc.h"
#include "formats/pseudo.h"
#include "formats/rfc3339.h"
#include "reports/pack.h"
#include "reports/trail.h"
#include "verify/policy.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
	    "usage: sharelog-report pack STORE|BUNDLE --out DIR [--from DATE] "
	    "[--to DATE]\n"
	    "              [--period all|month|quarter|year] [--org ID] "
	    "[--area CODE] [--k N]\n"
	    "              [--round N] [--unsuppressed] [--as-of TIME] "
	    "[--checkpoint SIZE]\n"
	    "              [--policy FILE] [--threads N] [--recheck]\n"
	    "       sharelog-report trail STORE|BUNDLE (--subject ID|- | "
	    "--case REF) [--key FILE]\n"
	    "              [--out FILE] [--checkpoint SIZE] [--policy FILE] "
	    "[--as-of TIME]\n"
	    "\n"
	    "pack: verifies the log, then writes the board reports of "
	    "docs/REPORTS.md\n"
	    "as CSV into the new folder DIR, with a guidance file and "
	    "pack.json naming\n"
	    "the signed checkpoint (the newest, or the one of SIZE entries) "
	    "and the policy.\n"
	    "Counts 1..k (default 5) are shown as c, with secondary "
	    "suppression;\n"
	    "--unsuppressed makes an internal pack (exact counts, "
	    "review_overdue), named\n"
	    "so in every file. Dates are YYYY-MM-DD (inclusive) or RFC 3339. "
	    "The same\n"
	    "checkpoint and options give the same bytes: sharelog-verify LOG "
	    "--pack DIR\n"
	    "checks a pack. On a store that keeps each entry's summary and "
	    "judgement for\n"
	    "the policy (sharelogd keeps them for the built-in one), pack "
	    "checks the hash\n"
	    "chain and counts from them (sharelog-verify STORE checks them); "
	    "--recheck\n"
	    "walks, judges and summarises every record again instead.\n"
	    "\n"
	    "trail: every entry of every decision thread about one child "
	    "(--subject: the\n"
	    "local authority's child id, pseudonymised with the key file; - "
	    "reads it from\n"
	    "standard input, out of sight of ps and shell histories) or one "
	    "case,\n"
	    "as CSV with each entry's leaf hash and inclusion proof against "
	    "the checkpoint.\n");
}

static int parse_when(int64_t *ms, const char *s, int end_of_day,
    const char *opt)
{
	if (!sl_rfc3339_parse_date(ms, s, strlen(s))) {
		if (end_of_day)
			*ms += 86400000;     /* exclusive: the next day */
		return 0;
	}
	if (!sl_rfc3339_parse(ms, s, strlen(s))) {
		if (end_of_day)
			*ms += 1;
		return 0;
	}
	fprintf(stderr, "sharelog-report: %s: \"%s\" is not a date "
	    "(YYYY-MM-DD) or an RFC 3339 date-time\n", opt, s);
	return -1;
}

static int number(unsigned long long *v, const char *s, const char *opt)
{
	uint64_t u;
	int rc = sl_enc_decimal(&u, s, strlen(s));

	*v = u;
	if (rc) {
		fprintf(stderr, "sharelog-report: %s: \"%s\" is not a whole "
		    "number\n", opt, s);
		return -1;
	}
	return 0;
}

static int pack(int argc, char **argv)
{
	struct sl_pack_opts o;
	struct sl_pack_result r;
	struct sl_policy *pol = NULL;
	struct sl_err e = { 0, "" };
	const char *policy = NULL;
	unsigned long long v;
	int i;
	int rc;

	memset(&o, 0, sizeof(o));
	o.from_ms = INT64_MIN;
	o.to_ms = INT64_MAX;
	o.as_of_ms = INT64_MIN;
	o.k = 5;
	o.area = "";
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *n = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--unsuppressed")) {
			o.unsuppressed = 1;
			continue;
		}
		if (!strcmp(a, "--recheck")) {
			o.recheck = 1;
			continue;
		}
		if (a[0] != '-') {
			if (o.path)
				goto bad;
			o.path = a;
			continue;
		}
		if (!n)
			goto bad;
		i++;
		if (!strcmp(a, "--out"))
			o.out = n;
		else if (!strcmp(a, "--from")) {
			if (parse_when(&o.from_ms, n, 0, a))
				return 2;
		} else if (!strcmp(a, "--to")) {
			if (parse_when(&o.to_ms, n, 1, a))
				return 2;
		} else if (!strcmp(a, "--as-of")) {
			if (parse_when(&o.as_of_ms, n, 1, a))
				return 2;
			o.as_of_ms--;
		} else if (!strcmp(a, "--period")) {
			int p = sl_pack_period_parse(n);

			if (p < 0) {
				fprintf(stderr, "sharelog-report: --period: "
				    "\"%s\" is not all, month, quarter or "
				    "year\n", n);
				return 2;
			}
			o.period = (enum sl_period)p;
		} else if (!strcmp(a, "--org"))
			o.org = n;
		else if (!strcmp(a, "--area"))
			o.area = n;
		else if (!strcmp(a, "--policy"))
			policy = n;
		else if (!strcmp(a, "--k") || !strcmp(a, "--round") ||
		    !strcmp(a, "--threads") || !strcmp(a, "--checkpoint")) {
			if (number(&v, n, a))
				return 2;
			if (v > 1000000000ULL && strcmp(a, "--checkpoint"))
				goto bad;
			if (!strcmp(a, "--k"))
				o.k = (unsigned)v;
			else if (!strcmp(a, "--round"))
				o.round = (unsigned)v;
			else if (!strcmp(a, "--threads"))
				o.threads = (int)v;
			else
				o.at = v;
		} else
			goto bad;
	}
	if (!o.path || !o.out)
		goto bad;
	if (o.from_ms != INT64_MIN && o.to_ms != INT64_MAX &&
	    o.from_ms >= o.to_ms) {
		fprintf(stderr, "sharelog-report: --from is after --to\n");
		return 2;
	}
	if (sl_policy_load(&pol, policy, &e)) {
		fprintf(stderr, "sharelog-report: policy: %s\n", e.msg);
		return 2;
	}
	o.policy = pol;
	rc = sl_pack_write(&o, &r, &e);
	sl_policy_free(pol);
	if (rc) {
		fprintf(stderr, "sharelog-report: %s\n", e.msg);
		return rc == SL_EINTEGRITY ? 1 : 2;
	}
	printf("pack written to %s: %d reports%s, checkpoint %s size %llu\n",
	    o.out, r.files, o.unsuppressed ? " (INTERNAL, unsuppressed)" : "",
	    r.origin, (unsigned long long)r.size);
	printf("  integrity%s %.2f s, summaries %.2f s%s, rules%s %.2f s, "
	    "reports %.2f s\n", r.kept ? " (the chain)" : r.judged_in_pass ?
	    " (each record judged on the way)" : "", r.verify_s, r.load_s,
	    r.derived ? " (derived from the entries)" : " (kept in the store)",
	    r.kept ? " (kept judgements)" : r.judged_in_pass ?
	    " on threads and the whole log" : "", r.comp_s, r.reports_s);
	if (r.kept)
		printf("  the summaries and the rules were read beside the "
		    "chain, on threads of their own\n");
	if (r.not_kept[0])
		printf("  every record judged again: %s\n", r.not_kept);
	return 0;
bad:
	usage(stderr);
	return 2;
}

static int trail(int argc, char **argv)
{
	struct sl_trail_opts o;
	struct sl_trail_result r;
	struct sl_policy *pol = NULL;
	struct sl_pseudo *pk = NULL;
	struct sl_err e = { 0, "" };
	const char *subject = NULL, *key = NULL, *out = NULL;
	const char *policy = NULL;
	char ref[SL_PSEUDO_LEN + 1];
	char line[256];
	unsigned long long v;
	FILE *f = stdout;
	int i;
	int rc;

	memset(&o, 0, sizeof(o));
	o.as_of_ms = sl_rfc3339_now_ms();
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *n = i + 1 < argc ? argv[i + 1] : NULL;

		if (a[0] != '-') {
			if (o.path)
				goto bad;
			o.path = a;
			continue;
		}
		if (!n)
			goto bad;
		i++;
		if (!strcmp(a, "--subject"))
			subject = n;
		else if (!strcmp(a, "--child-ref"))
			o.child_ref = n;
		else if (!strcmp(a, "--case"))
			o.case_ref = n;
		else if (!strcmp(a, "--key"))
			key = n;
		else if (!strcmp(a, "--out"))
			out = n;
		else if (!strcmp(a, "--policy"))
			policy = n;
		else if (!strcmp(a, "--as-of")) {
			if (parse_when(&o.as_of_ms, n, 1, a))
				return 2;
			o.as_of_ms--;
		} else if (!strcmp(a, "--checkpoint")) {
			if (number(&v, n, a))
				return 2;
			o.at = v;
		} else
			goto bad;
	}
	if (!o.path || (!!subject + !!o.child_ref + !!o.case_ref) != 1 ||
	    (subject && !key))
		goto bad;
	if (subject && !strcmp(subject, "-")) {
		/* from standard input: a command line is visible to every
		 * user of the machine (ps) and stays in shell histories */
		size_t n;

		/* unbuffered: no copy of the id left in stdio's buffer
		 * (the one in @line is wiped once it is pseudonymised) */
		setvbuf(stdin, NULL, _IONBF, 0);
		if (!fgets(line, sizeof(line), stdin)) {
			fprintf(stderr, "sharelog-report: --subject -: no "
			    "child id on standard input\n");
			return 2;
		}
		n = strcspn(line, "\r\n");
		if (n == 0 || (line[n] == '\0' && !feof(stdin))) {
			fprintf(stderr, "sharelog-report: --subject -: the "
			    "first line of standard input is one child id "
			    "(at most %zu bytes)\n", sizeof(line) - 2);
			return 2;
		}
		line[n] = '\0';
		subject = line;
	}
	if (subject) {
		/* the raw id never leaves this process: only its pseudonym
		 * is looked up */
		int bad = sl_pseudo_load(&pk, key, &e) ||
		    sl_pseudo_child(ref, pk, subject, strlen(subject));

		OPENSSL_cleanse(line, sizeof(line));
		sl_pseudo_free(pk);
		if (bad) {
			fprintf(stderr, "sharelog-report: --key: %s\n",
			    e.msg[0] ? e.msg : "cannot pseudonymise the subject");
			return 2;
		}
		o.child_ref = ref;
	}
	if (sl_policy_load(&pol, policy, &e)) {
		fprintf(stderr, "sharelog-report: policy: %s\n", e.msg);
		return 2;
	}
	o.policy = pol;
	if (out && !(f = fopen(out, "wbx"))) {
		fprintf(stderr, "sharelog-report: cannot create %s (it must "
		    "not exist)\n", out);
		sl_policy_free(pol);
		return 2;
	}
	rc = sl_trail_write(f, &o, &r, &e);
	if (out && fclose(f) && !rc)
		rc = sl_err_set(&e, SL_EIO, "cannot write %s", out);
	else if (!out && fflush(stdout) && !rc)
		rc = sl_err_set(&e, SL_EIO, "cannot write the trail");
	sl_policy_free(pol);
	if (rc) {
		if (out)
			remove(out);
		fprintf(stderr, "sharelog-report: %s\n", e.msg);
		return rc == SL_EINTEGRITY ? 1 : 2;
	}
	fprintf(stderr, "trail: %llu entries in %llu decision threads, "
	    "proofs against checkpoint %s size %llu\n",
	    (unsigned long long)r.rows, (unsigned long long)r.threads,
	    r.origin, (unsigned long long)r.size);
	return 0;
bad:
	usage(stderr);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "pack"))
		return pack(argc - 2, argv + 2);
	if (argc >= 2 && !strcmp(argv[1], "trail"))
		return trail(argc - 2, argv + 2);
	usage(stderr);
	return 2;
}
