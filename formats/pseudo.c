#include "formats/pseudo.h"
#include "formats/enc.h"
#include "formats/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sl_pseudo {
	uint8_t key[32];
	char key_id[SL_PSEUDO_KEYID_LEN + 1];
	/* HMAC keyed once: each pseudonym then costs two SHA-256 blocks
	 * and the message */
	struct sl_hash_mac *mac;
};

int sl_pseudo_generate(const char *path, struct sl_err *e)
{
	uint8_t key[32];
	char hex[66];
	int fd;
	ssize_t w;

	if (RAND_bytes(key, sizeof(key)) != 1)
		return sl_err_set(e, SL_ECRYPTO, "no random bytes for the "
		    "pseudonymisation key");
	sl_enc_hex(hex, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	hex[64] = '\n';
	hex[65] = '\0';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return sl_err_set(e, errno == EEXIST ? SL_EEXIST : SL_EIO,
		    "cannot create pseudonymisation key %s: %s", path,
		    strerror(errno));
	w = write(fd, hex, 65);
	OPENSSL_cleanse(hex, sizeof(hex));
	if (w != 65 || fsync(fd) != 0) {
		close(fd);
		unlink(path);
		return sl_err_set(e, SL_EIO, "cannot write %s", path);
	}
	close(fd);
	return 0;
}

int sl_pseudo_load(struct sl_pseudo **out, const char *path,
    struct sl_err *e)
{
	struct sl_pseudo *p = NULL;
	char hex[80];
	uint8_t id[SL_HASH_LEN];
	struct sl_hash *h = NULL;
	size_t n;
	FILE *f;
	int rc;

	*out = NULL;
	f = fopen(path, "r");
	if (!f)
		return sl_err_set(e, SL_EIO, "cannot open pseudonymisation key "
		    "%s: %s", path, strerror(errno));
	n = fread(hex, 1, sizeof(hex), f);
	fclose(f);
	while (n && (hex[n - 1] == '\n' || hex[n - 1] == '\r'))
		n--;
	p = calloc(1, sizeof(*p));
	if (!p)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	if (sl_enc_unhex(p->key, 32, hex, n)) {
		rc = sl_err_set(e, SL_EINVAL, "%s: a pseudonymisation key is 64 "
		    "lowercase hex digits", path);
		goto out;
	}
	rc = sl_hash_new(&h);
	if (!rc)
		rc = sl_hash_sha256(id, h, p->key, 32);
	if (rc) {
		sl_err_set(e, rc, "cannot hash the pseudonymisation key");
		goto out;
	}
	sl_enc_hex(p->key_id, id, 4);
	rc = sl_hash_mac_new(&p->mac, p->key, sizeof(p->key));
	if (rc) {
		sl_err_set(e, rc, "cannot set up HMAC-SHA-256");
		goto out;
	}
	*out = p;
	p = NULL;
out:
	OPENSSL_cleanse(hex, sizeof(hex));
	sl_hash_free(h);
	sl_pseudo_free(p);
	return rc;
}

void sl_pseudo_free(struct sl_pseudo *p)
{
	if (!p)
		return;
	sl_hash_mac_free(p->mac);
	OPENSSL_cleanse(p, sizeof(*p));
	free(p);
}

const char *sl_pseudo_key_id(const struct sl_pseudo *p)
{
	return p->key_id;
}

int sl_pseudo_child(char out[SL_PSEUDO_LEN + 1], const struct sl_pseudo *p,
    const char *id, size_t n)
{
	/* Domain-separated so other subject kinds can get their own. */
	uint8_t msg[6 + 256];
	uint8_t mac[SL_HASH_LEN];
	int rc;

	if (n > 256)
		return SL_ETOOBIG;
	memcpy(msg, "child:", 6);
	memcpy(msg + 6, id, n);
	rc = sl_hash_mac_run(mac, p->mac, msg, 6 + n);
	OPENSSL_cleanse(msg, sizeof(msg));
	if (rc)
		return rc;
	sl_enc_hex(out, mac, sizeof(mac));
	return 0;
}
