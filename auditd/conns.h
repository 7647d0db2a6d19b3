/*
 * conns: the connection cap and the total request deadline of sharelogd.
 *
 * libevent 2.1's evhttp has only a read-inactivity timeout, so a certified
 * client that sends one byte just inside it can hold a connection for
 * ever, and it has no cap on connections. This module tracks every
 * accepted connection by its SSL object:
 *   - at max_connections it stops the listener (new clients wait in the
 *     kernel's backlog) and starts it again when one closes;
 *   - a connection whose handshake or current request has not been read
 *     completely within deadline_s seconds is shut down (the socket is
 *     shut, evhttp sees the end of the stream and frees it).
 * A tracker belongs to one event loop and runs on its thread only, but
 * for sl_conns_open() and sl_conns_expired(), which any thread may read.
 */
#ifndef SL_CONNS_H
#define SL_CONNS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "formats/err.h"

struct sl_conns;

/** A tracker on @base. Caller frees with sl_conns_free() after the evhttp
 *  that owns the connections was freed. */
int sl_conns_new(struct sl_conns **out, struct event_base *base,
    unsigned max_connections, unsigned deadline_s, struct sl_err *e);

/** The listener to pause at the cap; NULL once it is gone (borrowed). */
void sl_conns_set_listener(struct sl_conns *cs, struct evconnlistener *l);

/** New limits (configuration reload); open connections are kept. A cap
 *  of 0 keeps this tracker's listener stopped. */
void sl_conns_set_limits(struct sl_conns *cs, unsigned max_connections,
    unsigned deadline_s);

/** Track a new connection: @ssl is owned by @bev, which evhttp owns; the
 *  record goes away by itself when the SSL object is freed. */
int sl_conns_track(struct sl_conns *cs, struct bufferevent *bev, SSL *ssl);

/** A complete request was read on the connection of @ssl: its deadline
 *  stops until the next request's first byte. */
void sl_conns_request_read(SSL *ssl);

/** Open connections now, and connections shut for the deadline so far. */
size_t sl_conns_open(const struct sl_conns *cs);
uint64_t sl_conns_expired(const struct sl_conns *cs);

void sl_conns_free(struct sl_conns *cs);

#endif
