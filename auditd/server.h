/*
 * server: sharelogd as a service. HTTP/1.1 over TLS with client
 * certificates (libevent's evhttp over bufferevent_openssl), the v1 API of
 * docs/API.md, group commit through the writer thread, SIGTERM to drain
 * and stop, SIGHUP to reload the client table and the CRL.
 */
#ifndef SL_SERVER_H
#define SL_SERVER_H

#include "formats/err.h"

/**
 * Run the service described by the configuration file @config until
 * SIGTERM or SIGINT; returns 0 after a clean drain (every acknowledged
 * record on disk, a final checkpoint signed).
 */
int sl_server_run(const char *config, struct sl_err *e);

#endif
