/*
 * conns: the connection cap and the total request deadline (conns.h).
 *
 * Each connection is a struct conn hung on its SSL object as ex_data: the
 * ex_data free hook runs when bufferevent_openssl frees the SSL object,
 * which is the one moment libevent 2.1 tells us that evhttp let go of a
 * connection (evhttp_connection_set_closecb needs the evhttp_connection,
 * which a client that never completes a request never gets).
 */
#define _POSIX_C_SOURCE 200809L
#include "auditd/conns.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

struct conn {
	struct conn *prev, *next;
	struct sl_conns *cs;        /* NULL once the tracker is gone */
	struct bufferevent *bev;
	uint64_t since_ms;          /* start of the handshake or request */
	int reading;                /* a request (or handshake) is under way */
	int shut;
};

struct sl_conns {
	struct conn head;           /* circular list, head is a sentinel */
	struct event *sweep;
	struct evconnlistener *listener;
	int paused;
	_Atomic size_t open;        /* both read by /metrics from any loop */
	_Atomic uint64_t expired;
	unsigned max;
	uint64_t deadline_ms;
};

static int ex_idx = -1;
static pthread_once_t ex_once = PTHREAD_ONCE_INIT;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void resume(struct sl_conns *cs)
{
	if (cs->paused && cs->listener && cs->open < cs->max) {
		evconnlistener_enable(cs->listener);
		cs->paused = 0;
	}
}

static void pause_at_cap(struct sl_conns *cs)
{
	if (!cs->paused && cs->listener && cs->open >= cs->max) {
		evconnlistener_disable(cs->listener);
		cs->paused = 1;
	}
}

static void on_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
    int idx, long argl, void *argp)
{
	struct conn *c = ptr;

	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (!c)
		return;
	if (c->cs) {
		c->prev->next = c->next;
		c->next->prev = c->prev;
		c->cs->open--;
		resume(c->cs);
	}
	free(c);
}

static void ex_init(void)
{
	ex_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, on_ssl_free);
}

/* Bytes of a request arrived: its clock starts with the first of them. */
static void on_input(struct evbuffer *b, const struct evbuffer_cb_info *i,
    void *arg)
{
	struct conn *c = arg;

	(void)b;
	if (i->n_added && !c->reading) {
		c->reading = 1;
		c->since_ms = now_ms();
	}
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct sl_conns *cs = arg;
	uint64_t now = now_ms();
	struct conn *c;

	(void)fd;
	(void)what;
	for (c = cs->head.next; c != &cs->head; c = c->next) {
		if (!c->reading || c->shut || now - c->since_ms < cs->deadline_ms)
			continue;
		/* Shut, not closed: the descriptor stays evhttp's, so it
		 * cannot be reused under it; evhttp reads the end of the
		 * stream and frees the connection on its own. */
		shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
		c->shut = 1;
		cs->expired++;
	}
}

int sl_conns_new(struct sl_conns **out, struct event_base *base,
    unsigned max_connections, unsigned deadline_s, struct sl_err *e)
{
	struct sl_conns *cs;

	*out = NULL;
	pthread_once(&ex_once, ex_init);
	if (ex_idx < 0)
		return sl_err_set(e, SL_EIO, "cannot register connection data "
		    "with OpenSSL");
	cs = calloc(1, sizeof(*cs));
	if (!cs)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	cs->head.next = cs->head.prev = &cs->head;
	sl_conns_set_limits(cs, max_connections, deadline_s);
	cs->sweep = event_new(base, -1, EV_PERSIST, on_sweep, cs);
	if (!cs->sweep || event_add(cs->sweep, &(struct timeval){ 0, 250000 })) {
		sl_conns_free(cs);
		return sl_err_set(e, SL_ENOMEM, "cannot start the connection "
		    "sweep");
	}
	*out = cs;
	return 0;
}

void sl_conns_set_listener(struct sl_conns *cs, struct evconnlistener *l)
{
	cs->listener = l;
	if (!l)
		cs->paused = 0;
	pause_at_cap(cs);
}

void sl_conns_set_limits(struct sl_conns *cs, unsigned max_connections,
    unsigned deadline_s)
{
	cs->max = max_connections;   /* 0: this loop takes none */
	cs->deadline_ms = (uint64_t)deadline_s * 1000;
	resume(cs);
}

int sl_conns_track(struct sl_conns *cs, struct bufferevent *bev, SSL *ssl)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return SL_ENOMEM;
	if (!SSL_set_ex_data(ssl, ex_idx, c)) {
		free(c);
		return SL_ENOMEM;
	}
	c->cs = cs;
	c->bev = bev;
	c->reading = 1;             /* the handshake is on the clock too */
	c->since_ms = now_ms();
	c->prev = cs->head.prev;
	c->next = &cs->head;
	cs->head.prev->next = c;
	cs->head.prev = c;
	cs->open++;
	/* The plaintext input: bytes of a request, never of the handshake. */
	evbuffer_add_cb(bufferevent_get_input(bev), on_input, c);
	pause_at_cap(cs);
	return 0;
}

void sl_conns_request_read(SSL *ssl)
{
	struct conn *c = ssl && ex_idx >= 0 ? SSL_get_ex_data(ssl, ex_idx) :
	    NULL;

	if (c)
		c->reading = 0;
}

size_t sl_conns_open(const struct sl_conns *cs)
{
	return cs->open;
}

uint64_t sl_conns_expired(const struct sl_conns *cs)
{
	return cs->expired;
}

void sl_conns_free(struct sl_conns *cs)
{
	struct conn *c;

	if (!cs)
		return;
	/* Connections still open belong to OpenSSL now; they free their own
	 * record when their SSL object goes. */
	for (c = cs->head.next; c != &cs->head; c = c->next)
		c->cs = NULL;
	if (cs->sweep)
		event_free(cs->sweep);
	free(cs);
}
