#include "auditd/tls.h"
#include "formats/enc.h"

#include <openssl/err.h>
#include <openssl/x509.h>
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

int sl_tls_peer(char fp[65], char cn[256], SSL *ssl)
{
	X509 *peer;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	fp[0] = '\0';
	cn[0] = '\0';
	if (!ssl || SSL_get_verify_result(ssl) != X509_V_OK)
		return SL_ENOTFOUND;
	peer = SSL_get0_peer_certificate(ssl);
	if (!peer || X509_digest(peer, EVP_sha256(), md, &mdlen) != 1 ||
	    mdlen != 32)
		return SL_ENOTFOUND;
	sl_enc_hex(fp, md, 32);
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
	    NID_commonName, cn, 256) < 0)
		cn[0] = '\0';
	return 0;
}
