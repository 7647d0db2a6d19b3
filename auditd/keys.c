#include "auditd/keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

int sl_keys_create(const char *dir, const char *origin, struct sl_err *e)
{
	struct sl_keys *k = NULL;
	char path[4200];
	int rc;
	FILE *f;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return sl_err_set(e, SL_EIO, "cannot create key folder %s: %s",
		    dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/signing.key", dir);
	rc = sl_note_keygen(path, e);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/pseudonym.key", dir);
	rc = sl_pseudo_generate(path, e);
	if (rc)
		return rc;
	rc = sl_keys_open(&k, dir, origin, e);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/log.vkey", dir);
	f = fopen(path, "wx");
	if (!f || fprintf(f, "%s\n", k->vkey) < 0 || fclose(f)) {
		rc = sl_err_set(e, SL_EIO, "cannot write %s", path);
		if (f && errno != EEXIST)
			fclose(f);
	}
	sl_keys_close(k);
	return rc;
}

int sl_keys_open(struct sl_keys **out, const char *dir, const char *origin,
    struct sl_err *e)
{
	struct sl_keys *k;
	char path[4200];
	int rc;

	*out = NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/signing.key", dir);
	rc = sl_note_signer_load(&k->signer, path, origin, e);
	if (!rc) {
		snprintf(path, sizeof(path), "%s/pseudonym.key", dir);
		rc = sl_pseudo_load(&k->pseudo, path, e);
	}
	if (!rc)
		rc = sl_note_signer_vkey(k->vkey, sizeof(k->vkey), k->signer);
	if (rc) {
		sl_keys_close(k);
		return rc;
	}
	*out = k;
	return 0;
}

void sl_keys_close(struct sl_keys *k)
{
	if (!k)
		return;
	sl_note_signer_free(k->signer);
	sl_pseudo_free(k->pseudo);
	free(k);
}
