#include "auditd/tls.h"
#include "formats/enc.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static int ssl_fail(struct sl_err *e, const char *what, const char *file)
{
	char detail[256];
	unsigned long code = ERR_get_error();

	ERR_error_string_n(code, detail, sizeof(detail));
	ERR_clear_error();
	return sl_err_set(e, SL_ECRYPTO, "%s %s: %s", what, file, detail);
}

int sl_tls_server_ctx(SSL_CTX **out, const struct sl_config *c,
    struct sl_err *e)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	STACK_OF(X509_NAME) *names;
	int rc = 0;

	*out = NULL;
	if (!ctx)
		return ssl_fail(e, "cannot create a TLS context", "");
	SSL_CTX_set_min_proto_version(ctx, c->tls_min_version == 13 ?
	    TLS1_3_VERSION : TLS1_2_VERSION);
	/* A client closing without close_notify is a clean end for HTTP/1.1,
	 * whose bodies are length-framed: truncation is still detected. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
		rc = ssl_fail(e, "cannot load the server certificate",
		    c->tls_cert);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		rc = ssl_fail(e, "cannot load the server key", c->tls_key);
		goto out;
	}
	if (SSL_CTX_load_verify_file(ctx, c->tls_ca) != 1) {
		rc = ssl_fail(e, "cannot load the client CA", c->tls_ca);
		goto out;
	}
	names = SSL_load_client_CA_file(c->tls_ca);
	if (names)
		SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	if (c->tls_crl[0]) {
		X509_STORE *st = SSL_CTX_get_cert_store(ctx);
		X509_LOOKUP *lu = X509_STORE_add_lookup(st, X509_LOOKUP_file());

		if (!lu || X509_load_crl_file(lu, c->tls_crl,
		    X509_FILETYPE_PEM) <= 0) {
			rc = ssl_fail(e, "cannot load the CRL", c->tls_crl);
			goto out;
		}
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
	}
out:
	if (rc) {
		SSL_CTX_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

/*
 * A connection's peer, worked out on its first request and kept with the
 * SSL object: hashing the certificate on every request was 3 % of the
 * service's time at 64 connections. Only the certificate's identity is
 * kept; what it may do is looked up per request, so a reload applies.
 */
struct peer {
	char fp[65];
	char cn[256];
};

static int peer_index = -1;
static pthread_once_t peer_once = PTHREAD_ONCE_INIT;

static void peer_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void peer_index_new(void)
{
	peer_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, peer_free);
}

int sl_tls_peer(char fp[65], char cn[256], SSL *ssl)
{
	struct peer *kept;
	X509 *peer;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	fp[0] = '\0';
	cn[0] = '\0';
	if (!ssl || SSL_get_verify_result(ssl) != X509_V_OK)
		return SL_ENOTFOUND;
	pthread_once(&peer_once, peer_index_new);
	kept = peer_index >= 0 ? SSL_get_ex_data(ssl, peer_index) : NULL;
	if (kept) {
		memcpy(fp, kept->fp, 65);
		memcpy(cn, kept->cn, 256);
		return 0;
	}
	peer = SSL_get0_peer_certificate(ssl);
	if (!peer || X509_digest(peer, EVP_sha256(), md, &mdlen) != 1 ||
	    mdlen != 32)
		return SL_ENOTFOUND;
	sl_enc_hex(fp, md, 32);
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
	    NID_commonName, cn, 256) < 0)
		cn[0] = '\0';
	kept = peer_index >= 0 ? malloc(sizeof(*kept)) : NULL;
	if (kept) {
		memcpy(kept->fp, fp, 65);
		memcpy(kept->cn, cn, 256);
		if (!SSL_set_ex_data(ssl, peer_index, kept))
			free(kept);
	}
	return 0;
}
