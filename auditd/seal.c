#include "auditd/seal.h"
#include "formats/buf.h"
#include "formats/checkpoint.h"

#include <stdio.h>

int sl_seal_checkpoint(uint64_t *size, struct sl_store *s,
    struct sl_signer *signer, struct sl_err *e)
{
	return sl_seal_checkpoint_by(size, s, &signer, 1, e);
}

int sl_seal_checkpoint_by(uint64_t *size, struct sl_store *s,
    struct sl_signer *const *signers, size_t n, struct sl_err *e)
{
	struct sl_checkpoint c;
	struct sl_buf note;
	int rc;

	sl_buf_init(&note, 4096);
	snprintf(c.origin, sizeof(c.origin), "%s", sl_store_origin(s));
	rc = sl_store_root(c.root, s, &c.size);
	if (rc) {
		sl_err_set(e, rc, "cannot compute the tree root");
		goto out;
	}
	rc = sl_checkpoint_sign(&note, &c, signers, n, e);
	if (!rc)
		rc = sl_store_put_checkpoint(s, c.size, (const char *)note.data,
		    note.len, e);
	if (!rc)
		*size = c.size;
out:
	sl_buf_free(&note);
	return rc;
}
