#include "formats/note.h"
#include "formats/enc.h"
#include "formats/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ED25519_ALG 0x01

struct sl_signer {
	char name[SL_NOTE_NAME_MAX + 1];
	EVP_PKEY *key;
	uint8_t pub[32];
	uint32_t id;
};

struct sl_verifier {
	char name[SL_NOTE_NAME_MAX + 1];
	EVP_PKEY *key;
	uint8_t pub[32];
	uint32_t id;
};

static int name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > SL_NOTE_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == '+' ||
		    s[i] == 0x7f)
			return 0;
	return 1;
}

static int key_id(uint32_t *out, const char *name, const uint8_t pub[32])
{
	uint8_t buf[SL_NOTE_NAME_MAX + 2 + 32];
	uint8_t d[SL_HASH_LEN];
	size_t n = strlen(name);
	struct sl_hash *h = NULL;
	int rc;

	memcpy(buf, name, n);
	buf[n] = '\n';
	buf[n + 1] = ED25519_ALG;
	memcpy(buf + n + 2, pub, 32);
	rc = sl_hash_new(&h);
	if (!rc)
		rc = sl_hash_sha256(d, h, buf, n + 34);
	sl_hash_free(h);
	if (rc)
		return rc;
	*out = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	    (uint32_t)d[2] << 8 | d[3];
	return 0;
}

int sl_note_keygen(const char *path, struct sl_err *e)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	FILE *f = NULL;
	int fd;
	int rc = 0;

	if (!k)
		return sl_err_set(e, SL_ECRYPTO, "cannot generate an Ed25519 "
		    "key");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		rc = sl_err_set(e, errno == EEXIST ? SL_EEXIST : SL_EIO,
		    "cannot create signing key %s: %s", path, strerror(errno));
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		rc = sl_err_set(e, SL_EIO, "cannot write %s", path);
		goto out;
	}
	if (PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    fflush(f) || fsync(fileno(f)))
		rc = sl_err_set(e, SL_EIO, "cannot write signing key %s", path);
out:
	if (f)
		fclose(f);
	if (rc && fd >= 0)
		unlink(path);
	EVP_PKEY_free(k);
	return rc;
}

int sl_note_signer_load(struct sl_signer **out, const char *path,
    const char *name, struct sl_err *e)
{
	struct sl_signer *s;
	size_t publen = 32;
	FILE *f;

	*out = NULL;
	if (!name_ok(name, strlen(name)))
		return sl_err_set(e, SL_EINVAL, "key name \"%s\" must be "
		    "non-empty, without spaces or '+'", name);
	s = calloc(1, sizeof(*s));
	if (!s)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	snprintf(s->name, sizeof(s->name), "%s", name);
	f = fopen(path, "r");
	if (!f) {
		free(s);
		return sl_err_set(e, SL_EIO, "cannot open signing key %s: %s",
		    path, strerror(errno));
	}
	s->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!s->key || !EVP_PKEY_is_a(s->key, "ED25519") ||
	    EVP_PKEY_get_raw_public_key(s->key, s->pub, &publen) != 1 ||
	    publen != 32 || key_id(&s->id, s->name, s->pub)) {
		sl_note_signer_free(s);
		return sl_err_set(e, SL_ECRYPTO, "%s is not an Ed25519 private "
		    "key in PEM form", path);
	}
	*out = s;
	return 0;
}

void sl_note_signer_free(struct sl_signer *s)
{
	if (!s)
		return;
	EVP_PKEY_free(s->key);
	free(s);
}

int sl_note_signer_vkey(char *out, size_t cap, const struct sl_signer *s)
{
	uint8_t raw[33];
	char b64[64];
	int n;

	raw[0] = ED25519_ALG;
	memcpy(raw + 1, s->pub, 32);
	sl_enc_b64(b64, raw, sizeof(raw));
	n = snprintf(out, cap, "%s+%08x+%s", s->name, (unsigned)s->id, b64);
	return n < 0 || (size_t)n >= cap ? SL_ETOOBIG : 0;
}

int sl_note_verifier_parse(struct sl_verifier **out, const char *vkey,
    size_t n, struct sl_err *e)
{
	struct sl_verifier *v = NULL;
	const char *p1;
	const char *p2;
	uint8_t raw[64];
	size_t rawlen = 0;
	uint8_t idb[4];
	uint32_t id;

	*out = NULL;
	while (n && (vkey[n - 1] == '\n' || vkey[n - 1] == '\r' ||
	    vkey[n - 1] == ' '))
		n--;
	p1 = memchr(vkey, '+', n);
	p2 = p1 ? memchr(p1 + 1, '+', n - (size_t)(p1 + 1 - vkey)) : NULL;
	if (!p1 || !p2 || !name_ok(vkey, (size_t)(p1 - vkey)) ||
	    sl_enc_unhex(idb, 4, p1 + 1, (size_t)(p2 - p1 - 1)) ||
	    sl_enc_unb64(raw, sizeof(raw), &rawlen, p2 + 1,
	    n - (size_t)(p2 + 1 - vkey)) || rawlen != 33 ||
	    raw[0] != ED25519_ALG)
		return sl_err_set(e, SL_EINVAL, "not an Ed25519 verifier key "
		    "(expected name+<8 hex>+<base64 of 0x01 and 32 bytes>)");
	v = calloc(1, sizeof(*v));
	if (!v)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	memcpy(v->name, vkey, (size_t)(p1 - vkey));
	memcpy(v->pub, raw + 1, 32);
	v->id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 |
	    (uint32_t)idb[2] << 8 | idb[3];
	if (key_id(&id, v->name, v->pub) || id != v->id) {
		free(v);
		return sl_err_set(e, SL_EINVAL, "verifier key: the key id does "
		    "not match the name and public key");
	}
	v->key = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, v->pub,
	    32);
	if (!v->key) {
		free(v);
		return sl_err_set(e, SL_ECRYPTO, "verifier key: not a valid "
		    "Ed25519 public key");
	}
	*out = v;
	return 0;
}

void sl_note_verifier_free(struct sl_verifier *v)
{
	if (!v)
		return;
	EVP_PKEY_free(v->key);
	free(v);
}

const char *sl_note_verifier_name(const struct sl_verifier *v)
{
	return v->name;
}

uint32_t sl_note_verifier_id(const struct sl_verifier *v)
{
	return v->id;
}

static int ed_sign(uint8_t sig[64], EVP_PKEY *k, const void *m, size_t n)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t len = 64;
	int ok;

	if (!c)
		return SL_ENOMEM;
	/* PureEdDSA: no digest name, one-shot only. */
	ok = EVP_DigestSignInit_ex(c, NULL, NULL, NULL, NULL, k, NULL) == 1 &&
	    EVP_DigestSign(c, sig, &len, m, n) == 1 && len == 64;
	EVP_MD_CTX_free(c);
	return ok ? 0 : SL_ECRYPTO;
}

static int ed_verify(EVP_PKEY *k, const uint8_t sig[64], const void *m,
    size_t n)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	if (!c)
		return SL_ENOMEM;
	ok = EVP_DigestVerifyInit_ex(c, NULL, NULL, NULL, NULL, k, NULL) == 1
	    && EVP_DigestVerify(c, sig, 64, m, n) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : SL_EINTEGRITY;
}

/* Signed notes are UTF-8 without control characters other than '\n'. */
static int note_chars_ok(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i];

		if (c < 0x80) {
			if ((c < 0x20 && c != '\n') || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf && i + 1 < n &&
		    (p[i + 1] & 0xc0) == 0x80) {
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef && i + 2 < n &&
		    (p[i + 1] & 0xc0) == 0x80 && (p[i + 2] & 0xc0) == 0x80 &&
		    !(c == 0xe0 && p[i + 1] < 0xa0) &&
		    !(c == 0xed && p[i + 1] > 0x9f)) {
			i += 3;
		} else if (c >= 0xf0 && c <= 0xf4 && i + 3 < n &&
		    (p[i + 1] & 0xc0) == 0x80 && (p[i + 2] & 0xc0) == 0x80 &&
		    (p[i + 3] & 0xc0) == 0x80 &&
		    !(c == 0xf0 && p[i + 1] < 0x90) &&
		    !(c == 0xf4 && p[i + 1] > 0x8f)) {
			i += 4;
		} else {
			return 0;
		}
	}
	return 1;
}

int sl_note_sign(struct sl_buf *out, const char *text, size_t n,
    struct sl_signer *const *signers, size_t nsigners, struct sl_err *e)
{
	size_t i;
	int rc;

	if (n == 0 || text[n - 1] != '\n')
		return sl_err_set(e, SL_EINVAL, "note text must end in a "
		    "newline");
	/* never sign what sl_note_open would refuse to read */
	if (!note_chars_ok((const uint8_t *)text, n))
		return sl_err_set(e, SL_EINVAL, "note text must be UTF-8 "
		    "without control characters other than newlines");
	rc = sl_buf_add(out, text, n);
	if (!rc)
		rc = sl_buf_addc(out, '\n');
	for (i = 0; !rc && i < nsigners; i++) {
		uint8_t blob[68];
		char b64[96];

		blob[0] = (uint8_t)(signers[i]->id >> 24);
		blob[1] = (uint8_t)(signers[i]->id >> 16);
		blob[2] = (uint8_t)(signers[i]->id >> 8);
		blob[3] = (uint8_t)signers[i]->id;
		rc = ed_sign(blob + 4, signers[i]->key, text, n);
		if (rc)
			return sl_err_set(e, rc, "Ed25519 signing failed");
		sl_enc_b64(b64, blob, sizeof(blob));
		rc = sl_buf_addf(out, "\xe2\x80\x94 %s %s\n", signers[i]->name,
		    b64);
	}
	if (rc)
		return sl_err_set(e, rc, "cannot build the signed note");
	return 0;
}

int sl_note_open(struct sl_note_verdict *out, const char *note, size_t n,
    struct sl_verifier *const *vs, size_t nv, struct sl_err *e)
{
	const char *sep = NULL;
	const char *p;
	const char *end = note + n;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->first_key = -1;
	if (n > SL_NOTE_MAX)
		return sl_err_set(e, SL_ETOOBIG, "signed note larger than %d "
		    "bytes", SL_NOTE_MAX);
	if (!note_chars_ok((const uint8_t *)note, n))
		return sl_err_set(e, SL_EINVAL, "signed note is not UTF-8 text "
		    "without control characters");
	if (n < 2 || note[n - 1] != '\n')
		return sl_err_set(e, SL_EINVAL, "signed note does not end in a "
		    "newline");
	/* The text ends at the LAST blank line. */
	for (i = n - 1; i > 0; i--)
		if (note[i] == '\n' && note[i - 1] == '\n') {
			sep = note + i;
			break;
		}
	if (!sep)
		return sl_err_set(e, SL_EINVAL, "signed note has no blank line "
		    "before its signatures");
	out->text_len = (size_t)(sep - note);
	for (p = sep + 1; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *sp;
		uint8_t blob[128];
		size_t bl = 0;
		uint32_t id;
		size_t namelen;
		size_t k;

		if (!nl || (size_t)(end - p) < 4 ||
		    memcmp(p, "\xe2\x80\x94 ", 4))
			return sl_err_set(e, SL_EINVAL, "signed note: a "
			    "signature line must start with an em dash and a "
			    "space");
		p += 4;
		sp = memchr(p, ' ', (size_t)(nl - p));
		if (!sp || !name_ok(p, (size_t)(sp - p)) ||
		    sl_enc_unb64(blob, sizeof(blob), &bl, sp + 1,
		    (size_t)(nl - sp - 1)) || bl < 5)
			return sl_err_set(e, SL_EINVAL, "signed note: malformed "
			    "signature line");
		if (++out->sigs > SL_NOTE_MAX_SIGS)
			return sl_err_set(e, SL_EINVAL, "signed note: more than "
			    "%d signatures", SL_NOTE_MAX_SIGS);
		namelen = (size_t)(sp - p);
		id = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
		    (uint32_t)blob[2] << 8 | blob[3];
		for (k = 0; k < nv; k++)
			if (vs[k]->id == id && strlen(vs[k]->name) == namelen &&
			    !memcmp(vs[k]->name, p, namelen))
				break;
		if (k == nv) {
			out->unknown++;
		} else if (bl != 68 || ed_verify(vs[k]->key, blob + 4, note,
		    out->text_len)) {
			return sl_err_set(e, SL_EINTEGRITY, "the signature by "
			    "key %s+%08x does not verify: the note was changed "
			    "after it was signed, or the signature forged",
			    vs[k]->name, (unsigned)id);
		} else {
			if (!out->verified)
				out->first_key = (int)k;
			out->verified++;
		}
		p = nl + 1;
	}
	if (!out->sigs)
		return sl_err_set(e, SL_EINVAL, "signed note has no signatures");
	if (!out->verified)
		return sl_err_set(e, SL_EINTEGRITY, "none of the note's %zu "
		    "signature(s) is by a key you trust", out->sigs);
	return 0;
}
