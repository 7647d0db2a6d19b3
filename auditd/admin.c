#include "auditd/admin.h"
#include "auditd/keys.h"
#include "auditd/seal.h"
#include "formats/bundle.h"
#include "formats/checkpoint.h"
#include "formats/entry.h"
#include "formats/rfc3339.h"
#include "formats/schema.h"
#include "formats/store.h"
#include "verify/integrity.h"

#include <jansson.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sl_admin_init(const char *store, const char *keys, const char *origin,
    struct sl_err *e)
{
	struct sl_keys *k = NULL;
	struct sl_store *s = NULL;
	json_t *g = NULL;
	char path[4200];
	char ts[SL_RFC3339_MS_LEN + 1];
	struct stat st;
	uint64_t size;
	int rc;

	if (!sl_checkpoint_origin_ok(origin))
		return sl_err_set(e, SL_EUSAGE, "origin \"%s\" must be "
		    "non-empty, without spaces or '+' (e.g. "
		    "sharelog.example-lscp.gov.uk/decisions)", origin);
	snprintf(path, sizeof(path), "%s/signing.key", keys);
	if (stat(path, &st)) {
		rc = sl_keys_create(keys, origin, e);
		if (rc)
			return rc;
	}
	rc = sl_keys_open(&k, keys, origin, e);
	if (rc)
		return rc;
	rc = sl_store_open(&s, store, SL_STORE_CREATE, e);
	if (rc)
		goto out;
	sl_rfc3339_format(ts, sl_rfc3339_now_ms());
	g = json_pack("{s:[s],s:s,s:s,s:s,s:s,s:s}",
	    "checkpoint_keys", k->vkey,
	    "created_at", ts,
	    "origin", origin,
	    "pseudonym_key_id", sl_pseudo_key_id(k->pseudo),
	    "schema_version", SL_SCHEMA_VERSION,
	    "software", SL_SOFTWARE);
	if (!g) {
		rc = sl_err_set(e, SL_ENOMEM, "out of memory");
		goto out;
	}
	rc = sl_store_genesis(s, origin, g, e);
	if (!rc)
		rc = sl_seal_checkpoint(&size, s, k->signer, e);
out:
	json_decref(g);
	sl_store_close(s);
	sl_keys_close(k);
	return rc;
}

static int open_rw(struct sl_store **s, struct sl_keys **k, const char *store,
    const char *keys, struct sl_err *e)
{
	int rc = sl_store_open(s, store, 0, e);

	if (rc)
		return rc;
	rc = sl_keys_open(k, keys, sl_store_origin(*s), e);
	if (rc) {
		sl_store_close(*s);
		*s = NULL;
	}
	return rc;
}

/* Sign a checkpoint at the current size; then, if @out, export to it. */
static int seal_and_export(uint64_t *size, const char *store,
    const char *keys, const char *out, struct sl_err *e)
{
	struct sl_store *s;
	struct sl_keys *k;
	char vkeys[SL_NOTE_VKEY_MAX + 2];
	char path[4200];
	char *all = NULL;
	size_t len;
	struct sl_err ignored;
	int rc = open_rw(&s, &k, store, keys, e);

	if (rc)
		return rc;
	/* A bundle's checkpoint covers every entry it holds. */
	rc = sl_seal_checkpoint(size, s, k->signer, e);
	/* Every key of the log (after a rotation, the retired ones too, so
	 * older checkpoints keep verifying); the current one at least. */
	snprintf(path, sizeof(path), "%s/log.vkey", keys);
	snprintf(vkeys, sizeof(vkeys), "%s\n", k->vkey);
	if (sl_bundle_slurp(&all, &len, path, 65536, &ignored) ||
	    !strstr(all, k->vkey)) {
		free(all);
		all = NULL;
	}
	if (!rc && out)
		rc = sl_bundle_export(size, s, out, all ? all : vkeys, e);
	free(all);
	sl_store_close(s);
	sl_keys_close(k);
	return rc;
}

int sl_admin_checkpoint(uint64_t *size, const char *store, const char *keys,
    struct sl_err *e)
{
	return seal_and_export(size, store, keys, NULL, e);
}

int sl_admin_export(uint64_t *size, const char *store, const char *keys,
    const char *out, struct sl_err *e)
{
	return seal_and_export(size, store, keys, out, e);
}

int sl_admin_restore(uint64_t *size, const char *bundle, const char *store,
    const char *vkey, struct sl_err *e)
{
	struct sl_verify_result *r;
	const char *keys[1] = { vkey };
	struct sl_verify_opts o = { NULL, 0, keys, vkey ? 1 : 0, 0, 0, NULL,
		NULL, 0, 0 };
	int rc;

	r = calloc(1, sizeof(*r));
	if (!r)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	rc = sl_verify_log(r, bundle, &o, e);
	if (rc == SL_EINTEGRITY)
		sl_err_set(e, rc, "the bundle does not verify, nothing "
		    "restored: %s", r->problem);
	free(r);
	if (rc)
		return rc;
	return sl_bundle_restore(size, bundle, store, e);
}

int sl_admin_rotate_key(uint64_t *size, const char *store, const char *keys,
    const char *reason, struct sl_err *e)
{
	struct sl_store *s = NULL;
	struct sl_keys *k = NULL;
	struct sl_signer *nk = NULL;
	struct sl_signer *both[2];
	struct sl_store_item it;
	char newpath[4200];
	char curpath[4200];
	char oldpath[4300];
	char vpath[4200];
	char nv[SL_NOTE_VKEY_MAX];
	char ts[SL_RFC3339_MS_LEN + 1];
	json_t *rec = NULL;
	FILE *f;
	int rc;

	rc = open_rw(&s, &k, store, keys, e);
	if (rc)
		return rc;
	snprintf(newpath, sizeof(newpath), "%s/signing.key.new", keys);
	snprintf(curpath, sizeof(curpath), "%s/signing.key", keys);
	unlink(newpath);
	rc = sl_note_keygen(newpath, e);
	if (!rc)
		rc = sl_note_signer_load(&nk, newpath, sl_store_origin(s), e);
	if (!rc)
		rc = sl_note_signer_vkey(nv, sizeof(nv), nk);
	if (rc)
		goto out;
	sl_rfc3339_format(ts, sl_rfc3339_now_ms());
	rec = json_pack("{s:s,s:s,s:s,s:s}", "new_key", nv, "previous_key",
	    k->vkey, "reason", reason ? reason : "scheduled rotation",
	    "rotated_at", ts);
	memset(&it, 0, sizeof(it));
	it.record = rec;
	it.type = SL_ET_KEY_ROTATION;
	it.submitted_by = "sharelog";
	rc = sl_store_append(s, &it, 1, e);
	if (rc)
		goto out;
	/* The bridge: the old key vouches for the entry that names the new. */
	both[0] = k->signer;
	both[1] = nk;
	rc = sl_seal_checkpoint_by(size, s, both, 2, e);
	if (rc)
		goto out;
	snprintf(oldpath, sizeof(oldpath), "%s/signing.key.%.8s.retired", keys,
	    strchr(k->vkey, '+') ? strchr(k->vkey, '+') + 1 : "old");
	if (rename(curpath, oldpath) || rename(newpath, curpath)) {
		rc = sl_err_set(e, SL_EIO, "the rotation is in the log, but the "
		    "key files could not be renamed: move %s to %s by hand",
		    newpath, curpath);
		goto out;
	}
	snprintf(vpath, sizeof(vpath), "%s/log.vkey", keys);
	f = fopen(vpath, "w");
	if (!f || fprintf(f, "%s\n%s\n", nv, k->vkey) < 0 || fclose(f))
		rc = sl_err_set(e, SL_EIO, "cannot rewrite %s", vpath);
out:
	json_decref(rec);
	sl_note_signer_free(nk);
	sl_store_close(s);
	sl_keys_close(k);
	return rc;
}
