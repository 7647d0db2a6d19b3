/*
 * sharelog-verify: prove a sharelog log complete and unaltered.
 * Exit 0 verified, 1 integrity failure, 2 usage or I/O error.
 */
#include "formats/bundle.h"
#include "verify/integrity.h"
#include "verify/report.h"

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
	    "exit status: 0 verified, 1 integrity failure, 2 usage or I/O "
	    "error\n");
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

int main(int argc, char **argv)
{
	const char *held[MAX_ARGS];
	const char *keys[MAX_ARGS];
	char *owned[MAX_ARGS];
	size_t nowned = 0;
	struct sl_verify_opts o = { held, 0, keys, 0, 0 };
	struct sl_verify_result *r;
	struct sl_err e = { 0, "" };
	const char *path = NULL;
	int json = 0;
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
		} else if (!strcmp(a, "--threads") && i + 1 < argc) {
			o.threads = atoi(argv[++i]);
		} else if (a[0] == '-' || path) {
			goto bad;
		} else {
			path = a;
		}
	}
	if (!path)
		goto bad;
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
	while (nowned)
		free(owned[--nowned]);
	return status;
bad:
	usage(stderr);
	return 2;
}
