/*
 * sharelogd: the only writer of a sharelog store.
 *
 *   sharelogd init       --store DIR --keys DIR --origin NAME
 *   sharelogd append     --store DIR --keys DIR [--as ORG]
 *                        [--commit-every N] FILE|-
 *   sharelogd import     --store DIR --keys DIR --mapping FILE [--as ORG]
 *                        FILE.csv|-
 *   sharelogd checkpoint --store DIR --keys DIR
 *   sharelogd export     --store DIR --keys DIR OUTDIR
 *   sharelogd restore    BUNDLE --store DIR [--key VKEY]
 *   sharelogd serve      --config FILE
 *   sharelogd backup     --store DIR OUTDIR
 *   sharelogd rotate-key --store DIR [--keys DIR] [--reason TEXT]
 *
 * Exit 0 on success, 1 when input was refused or verification failed,
 * 2 on usage or I/O errors.
 */
#include "auditd/admin.h"
#include "auditd/config.h"
#include "auditd/import.h"
#include "auditd/ingest.h"
#include "auditd/keys.h"
#include "auditd/seal.h"
#include "auditd/server.h"
#include "formats/enc.h"
#include "formats/store.h"
#include "verify/completeness.h"
#include "verify/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct args {
	const char *cmd;
	const char *store;
	const char *keys;
	const char *origin;
	const char *as;
	const char *key;
	const char *config;
	const char *pki;
	const char *listen;
	const char *reason;
	const char *mapping;
	const char *pos;
	unsigned long long commit_every;
	int check;              /* import --check: validate, store nothing */
	char keysbuf[4200];
};

static void usage(FILE *f)
{
	fprintf(f,
	    "usage:\n"
	    "  sharelogd init       --store DIR [--keys DIR] --origin NAME\n"
	    "  sharelogd append     --store DIR [--keys DIR] [--as ORG] "
	    "[--commit-every N] [--check] FILE|-\n"
	    "  sharelogd import     --store DIR [--keys DIR] --mapping FILE "
	    "[--as ORG] [--check] FILE.csv|-\n"
	    "  sharelogd checkpoint --store DIR [--keys DIR]\n"
	    "  sharelogd export     --store DIR [--keys DIR] OUTDIR\n"
	    "  sharelogd restore    BUNDLE --store DIR [--key VKEY]\n"
	    "  sharelogd serve      --config FILE\n"
	    "  sharelogd backup     --store DIR OUTDIR\n"
	    "  sharelogd rotate-key --store DIR [--keys DIR] [--reason TEXT]\n"
	    "  sharelogd config-template --store DIR --pki DIR [--listen "
	    "HOST:PORT]\n"
	    "\n"
	    "--keys defaults to DIR.keys beside the store: the signing and\n"
	    "pseudonymisation keys are kept outside the store.\n"
	    "append reads JSON Lines (one decision record per line); one bad\n"
	    "line and nothing is stored, every bad line is reported.\n"
	    "import reads a spreadsheet's CSV through a column mapping\n"
	    "(docs/IMPORT.md); likewise one bad row and nothing is stored.\n"
	    "--check validates every line or row the same way, then against\n"
	    "the log (conflicts, records already there), and stores nothing,\n"
	    "bad file or good.\n");
}

static int parse(struct args *a, int argc, char **argv)
{
	int i;

	memset(a, 0, sizeof(*a));
	if (argc < 2)
		return -1;
	a->cmd = argv[1];
	a->store = getenv("SHARELOG_STORE");
	for (i = 2; i < argc; i++) {
		const char *o = argv[i];
		const char **dst = NULL;

		if (!strcmp(o, "--store"))
			dst = &a->store;
		else if (!strcmp(o, "--keys"))
			dst = &a->keys;
		else if (!strcmp(o, "--origin"))
			dst = &a->origin;
		else if (!strcmp(o, "--as"))
			dst = &a->as;
		else if (!strcmp(o, "--key"))
			dst = &a->key;
		else if (!strcmp(o, "--config"))
			dst = &a->config;
		else if (!strcmp(o, "--pki"))
			dst = &a->pki;
		else if (!strcmp(o, "--listen"))
			dst = &a->listen;
		else if (!strcmp(o, "--reason"))
			dst = &a->reason;
		else if (!strcmp(o, "--mapping"))
			dst = &a->mapping;
		if (dst) {
			if (i + 1 >= argc)
				return -1;
			*dst = argv[++i];
			continue;
		}
		if (!strcmp(o, "--check")) {
			a->check = 1;
			continue;
		}
		if (!strcmp(o, "--commit-every") && i + 1 < argc) {
			uint64_t v;

			i++;
			if (sl_enc_decimal(&v, argv[i], strlen(argv[i])))
				return -1;
			a->commit_every = v;
			continue;
		}
		if (o[0] == '-' && o[1] != '\0')
			return -1;
		if (a->pos)
			return -1;
		a->pos = o;
	}
	/* a dry run of another command would not be one: refuse it */
	if (a->check && strcmp(a->cmd, "import") && strcmp(a->cmd, "append"))
		return -1;
	if (!a->store && strcmp(a->cmd, "serve"))
		return -1;
	if (!a->store)
		return 0;
	if (!a->keys) {
		snprintf(a->keysbuf, sizeof(a->keysbuf), "%s.keys", a->store);
		a->keys = a->keysbuf;
	}
	return 0;
}

/* --key takes a verifier key, or a file whose first line is one. */
static const char *vkey_arg(const char *arg, char *buf, size_t cap)
{
	FILE *f = arg ? fopen(arg, "r") : NULL;

	if (!f)
		return arg;
	if (!fgets(buf, (int)cap, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf;
}

/* What a --check found, when it found nothing wrong. */
static void checked(const struct sl_ingest_stats *st, const char *unit)
{
	printf("checked %llu %s(s): none refused; %llu would be new "
	    "entries, %llu already in the log; nothing was stored\n",
	    (unsigned long long)st->lines, unit,
	    (unsigned long long)st->appended,
	    (unsigned long long)st->duplicates);
}

static int cmd_append(struct args *a, struct sl_err *e)
{
	struct sl_ingest_stats st;
	struct sl_store *s = NULL;
	struct sl_keys *k = NULL;
	FILE *in;
	uint64_t size = 0;
	int rc;

	if (!a->pos)
		return sl_err_set(e, SL_EUSAGE, "append needs a FILE, or - "
		    "for standard input");
	in = strcmp(a->pos, "-") ? fopen(a->pos, "r") : stdin;
	if (!in)
		return sl_err_set(e, SL_EIO, "cannot open %s", a->pos);
	rc = sl_store_open(&s, a->store, 0, e);
	if (!rc)
		rc = sl_keys_open(&k, a->keys, sl_store_origin(s), e);
	if (!rc)
		rc = sl_ingest_jsonl(&st, in, s, k->pseudo, a->as,
		    a->commit_every, a->check, stderr, e);
	if (!rc && a->check) {
		checked(&st, "line");
		goto out;
	}
	if (!rc)
		rc = sl_seal_checkpoint(&size, s, k->signer, e);
	if (!rc)
		printf("appended %llu decision record(s) from %llu line(s); "
		    "%llu identical retr%s not appended again; the log now "
		    "holds %llu entries, checkpoint signed at size %llu\n",
		    (unsigned long long)st.appended,
		    (unsigned long long)st.lines,
		    (unsigned long long)st.duplicates,
		    st.duplicates == 1 ? "y" : "ies",
		    (unsigned long long)st.size, (unsigned long long)size);
out:
	if (in != stdin)
		fclose(in);
	sl_keys_close(k);
	sl_store_close(s);
	return rc;
}

static int cmd_import(struct args *a, struct sl_err *e)
{
	struct sl_import_map *m = NULL;
	struct sl_ingest_stats st;
	struct sl_store *s = NULL;
	struct sl_keys *k = NULL;
	FILE *in = NULL;
	uint64_t size = 0;
	int rc;

	if (!a->pos || !a->mapping)
		return sl_err_set(e, SL_EUSAGE, "import needs --mapping FILE "
		    "and a CSV FILE, or - for standard input");
	/* the mapping first: a mistake in it costs no store access */
	rc = sl_import_map_load(&m, a->mapping, e);
	if (rc) {
		size_t n = strlen(e->msg);

		snprintf(e->msg + n, sizeof(e->msg) - n, "; nothing was stored");
		return rc;
	}
	in = strcmp(a->pos, "-") ? fopen(a->pos, "rb") : stdin;
	if (!in) {
		rc = sl_err_set(e, SL_EIO, "cannot open %s", a->pos);
		goto out;
	}
	rc = sl_store_open(&s, a->store, 0, e);
	if (!rc)
		rc = sl_keys_open(&k, a->keys, sl_store_origin(s), e);
	if (!rc)
		rc = sl_import_csv(&st, in, m, s, a->check, k->pseudo,
		    a->as, stderr, e);
	if (!rc && a->check) {
		checked(&st, "row");
		goto out;
	}
	if (!rc)
		rc = sl_seal_checkpoint(&size, s, k->signer, e);
	if (!rc)
		printf("imported %llu row(s): %llu record(s) appended, %llu "
		    "already in the log and not appended again; the log now "
		    "holds %llu entries, checkpoint signed at size %llu\n",
		    (unsigned long long)st.lines,
		    (unsigned long long)st.appended,
		    (unsigned long long)st.duplicates,
		    (unsigned long long)st.size, (unsigned long long)size);
out:
	if (in && in != stdin)
		fclose(in);
	sl_keys_close(k);
	sl_store_close(s);
	sl_import_map_free(m);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a;
	struct sl_err e = { 0, "" };
	struct sl_policy *kpol = NULL;
	struct sl_comp_keeper *kk = NULL;
	struct sl_store_keeper sk;
	uint64_t size = 0;
	int bad = 0;
	int rc;

	if (argc >= 2 && (!strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (parse(&a, argc, argv)) {
		usage(stderr);
		return 2;
	}
	/* every store this process writes keeps the default rules'
	 * judgement of each entry, which sharelog-report's packs read
	 * (verify/completeness.h, kept judgements) */
	rc = sl_policy_load(&kpol, NULL, &e);
	if (!rc)
		rc = sl_comp_keeper_new(&kk, kpol, &e);
	if (!rc && (rc = sl_comp_store_keeper(&sk, kk)) != 0)
		sl_err_set(&e, rc, "cannot set up SHA-256");
	if (rc)
		goto out;
	sl_store_set_keeper(&sk);
	if (!strcmp(a.cmd, "init")) {
		if (!a.origin) {
			goto bad_usage;
		}
		rc = sl_admin_init(a.store, a.keys, a.origin, &e);
		if (!rc)
			printf("created store %s for log %s; keys in %s (keep "
			    "them outside the store; give %s/log.vkey to "
			    "inspectors)\n", a.store, a.origin, a.keys, a.keys);
	} else if (!strcmp(a.cmd, "append")) {
		rc = cmd_append(&a, &e);
	} else if (!strcmp(a.cmd, "import")) {
		rc = cmd_import(&a, &e);
	} else if (!strcmp(a.cmd, "checkpoint")) {
		rc = sl_admin_checkpoint(&size, a.store, a.keys, &e);
		if (!rc)
			printf("checkpoint signed at size %llu\n",
			    (unsigned long long)size);
	} else if (!strcmp(a.cmd, "export")) {
		if (!a.pos) {
			goto bad_usage;
		}
		rc = sl_admin_export(&size, a.store, a.keys, a.pos, &e);
		if (!rc)
			printf("exported %llu entries to %s; an inspector "
			    "checks it with: sharelog-verify %s --key "
			    "%s/log.vkey\n", (unsigned long long)size, a.pos,
			    a.pos, a.keys);
	} else if (!strcmp(a.cmd, "restore")) {
		if (!a.pos) {
			goto bad_usage;
		}
		char vk[1024];

		rc = sl_admin_restore(&size, a.pos, a.store,
		    vkey_arg(a.key, vk, sizeof(vk)), &e);
		if (!rc)
			printf("restored %llu entries from %s into %s\n",
			    (unsigned long long)size, a.pos, a.store);
	} else if (!strcmp(a.cmd, "serve")) {
		if (!a.config) {
			goto bad_usage;
		}
		rc = sl_server_run(a.config, &e);
	} else if (!strcmp(a.cmd, "rotate-key")) {
		rc = sl_admin_rotate_key(&size, a.store, a.keys, a.reason, &e);
		if (!rc)
			printf("checkpoint key rotated: the log names the new key "
			    "(entry %llu) and a checkpoint signed by both keys "
			    "bridges them; give %s/log.vkey to inspectors\n",
			    (unsigned long long)(size - 1), a.keys);
	} else if (!strcmp(a.cmd, "config-template")) {
		if (!a.pki) {
			goto bad_usage;
		}
		sl_config_template(stdout, a.store, a.pki, a.listen ? a.listen :
		    "127.0.0.1:8443");
		rc = 0;
	} else if (!strcmp(a.cmd, "backup")) {
		struct sl_store *s = NULL;

		if (!a.pos) {
			goto bad_usage;
		}
		rc = sl_store_open(&s, a.store, SL_STORE_RDONLY, &e);
		if (!rc)
			rc = sl_store_backup(s, a.pos, &e);
		sl_store_close(s);
		if (!rc)
			printf("backed up %s into %s (a consistent copy; verify "
			    "it with sharelog-verify %s)\n", a.store, a.pos,
			    a.pos);
	} else {
		goto bad_usage;
	}
	goto out;
bad_usage:
	usage(stderr);
	bad = 1;
out:
	sl_store_set_keeper(NULL);
	sl_comp_keeper_free(kk);
	sl_policy_free(kpol);
	if (bad)
		return 2;
	if (rc) {
		fprintf(stderr, "sharelogd %s: %s\n", a.cmd, e.msg);
		return rc == SL_EINVAL || rc == SL_ESYNTAX ||
		    rc == SL_ECONFLICT || rc == SL_EINTEGRITY ? 1 : 2;
	}
	return 0;
}
