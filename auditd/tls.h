/*
 * tls: the service's OpenSSL server context (mutual TLS) and the identity
 * of a verified peer.
 */
#ifndef SL_TLS_H
#define SL_TLS_H

#include <openssl/ssl.h>

#include "auditd/config.h"
#include "formats/err.h"

/**
 * A server context for @c: its certificate and key, TLS 1.3 (or 1.2 when
 * configured), client certificates required and verified against the
 * configured CA, and the CRL when one is configured. Caller frees with
 * SSL_CTX_free().
 */
int sl_tls_server_ctx(SSL_CTX **out, const struct sl_config *c,
    struct sl_err *e);

/**
 * The verified client certificate of @ssl: SHA-256 of its DER (hex) and
 * subject CN. Only the leaf the handshake verified counts. SL_ENOTFOUND
 * when there is none.
 */
int sl_tls_peer(char fp[65], char cn[256], SSL *ssl);

#endif
