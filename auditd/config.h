/*
 * config: the one configuration file of the sharelogd service (JSON).
 *
 * See docs/OPERATIONS.md for every setting. The client table maps a
 * verified client certificate (by SHA-256 fingerprint of its DER, or by
 * subject common name) to an organisation id and roles.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "formats/err.h"

/* event_loops at most: each loop is a thread with its own connections */
#define SL_CONFIG_LOOPS_MAX 64

#define SL_ROLE_SUBMITTER 0x01
#define SL_ROLE_INSPECTOR 0x02
#define SL_ROLE_REVIEWER 0x04
#define SL_ROLE_BOARD 0x08
#define SL_ROLE_ADMIN 0x10

struct sl_client {
	char fingerprint[65];   /* lowercase hex SHA-256 of the DER, or "" */
	char subject_cn[256];   /* or the subject CN, or "" */
	char organisation_id[129];
	unsigned roles;
};

struct sl_config {
	char listen_host[64];
	uint16_t listen_port;
	char store[4096];
	char keys[4096];
	char tls_cert[4096];
	char tls_key[4096];
	char tls_ca[4096];
	char tls_crl[4096];         /* "" = no CRL */
	char policy[4096];          /* completeness policy; "" = built in */
	int tls_min_version;        /* 12 or 13 */
	uint64_t checkpoint_every_entries;
	unsigned checkpoint_every_ms;
	size_t max_body;            /* bytes of one request body */
	size_t max_batch;           /* records in one request */
	unsigned read_timeout_s;
	unsigned request_deadline_s; /* handshake or request, start to end */
	unsigned max_connections;
	unsigned event_loops;       /* 0: one per processor, less one */
	struct sl_client *clients;
	size_t nclients;
};

/** Load @path. Caller frees with sl_config_free(). @e names the key. */
int sl_config_load(struct sl_config **out, const char *path,
    struct sl_err *e);

/** The client table entry for a verified certificate, or NULL. */
const struct sl_client *sl_config_client(const struct sl_config *c,
    const char *fingerprint, const char *subject_cn);

/** Role names ("submitter") to bits; 0 if unknown. */
unsigned sl_config_role(const char *name);

void sl_config_free(struct sl_config *c);

/**
 * Write the default configuration (the one `make run` uses) to @out, for
 * a store in @store and the certificates of scripts/pki.sh in @pki.
 */
void sl_config_template(FILE *out, const char *store, const char *pki,
    const char *listen);

#endif
