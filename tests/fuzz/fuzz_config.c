/*
 * fuzz_config: sharelogd's configuration file (docs/OPERATIONS.md), the
 * one place that says which certificate may do what.
 *
 * For any bytes: sl_config_load refuses them with a sentence naming the
 * file, or gives a configuration within its documented bounds whose every
 * client is usable and the one its certificate finds: an organisation, at
 * least one known role, exactly one of a 64-hex-digit fingerprint or a
 * subject name, no other entry for the same certificate; and a
 * certificate with neither a known fingerprint nor a known name maps to
 * no client at all.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auditd/config.h"
#include "tests/fuzz/fuzz.h"

#define ROLES (SL_ROLE_SUBMITTER | SL_ROLE_INSPECTOR | SL_ROLE_REVIEWER | \
	SL_ROLE_BOARD | SL_ROLE_ADMIN)

static const char *path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	path = fuzz_scratch_file();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_err e = { 0, "" };
	struct sl_config *c = NULL;
	size_t i;

	fuzz_write_file(path, data, size);
	if (sl_config_load(&c, path, &e)) {
		fuzz_assert(c == NULL && strstr(e.msg, path) != NULL,
		    "a refusal that does not name the file: %s", e.msg);
		return 0;
	}
	fuzz_assert(c->max_body >= 1024 && c->max_batch >= 1 &&
	    c->max_batch <= 1000 && c->checkpoint_every_entries >= 1 &&
	    (c->tls_min_version == 12 || c->tls_min_version == 13) &&
	    c->tls_cert[0] && c->tls_key[0] && c->tls_ca[0],
	    "a configuration outside its bounds");
	for (i = 0; i < c->nclients; i++) {
		const struct sl_client *cl = &c->clients[i];
		const struct sl_client *found;

		fuzz_assert(cl->organisation_id[0] != '\0', "client %zu has no "
		    "organisation", i);
		fuzz_assert(cl->roles && !(cl->roles & ~ROLES), "client %zu: "
		    "roles %#x", i, cl->roles);
		fuzz_assert(!cl->fingerprint[0] != !cl->subject_cn[0] &&
		    (!cl->fingerprint[0] || strlen(cl->fingerprint) == 64),
		    "client %zu: not one identity", i);
		found = sl_config_client(c, cl->fingerprint, cl->subject_cn);
		fuzz_assert(found == cl, "client %zu is not the one its "
		    "certificate finds", i);
	}
	fuzz_assert(sl_config_client(c, "", "") == NULL &&
	    sl_config_client(c, "", NULL) == NULL, "a certificate without a "
	    "known fingerprint or name maps to a client");
	sl_config_free(c);
	return 0;
}
