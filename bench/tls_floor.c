#define _GNU_SOURCE
/*
 * tls_floor: what the mandated transport alone costs on this machine.
 *
 * The same stack as sharelogd's (libevent 2.1 evhttp over
 * bufferevent_openssl, TLS 1.3, a client certificate required and
 * verified against the CA, one event loop with epoll's changelist, the
 * reply joined into one TLS record and written in the loop turn that
 * queues it), answering every POST with a fixed 201 of the size of
 * sharelogd's, without reading the body, storing or syncing anything.
 * bench/loadgen.c driven against it gives the rate no service on this
 * stack can pass on this machine, the load generator included: the
 * ceiling that sharelogd's figures are read against.
 *
 * With a FILE, each body is also made durable before its 201, as simply
 * as it can be: a writer thread takes every body that arrived while the
 * previous sync ran, appends them to FILE with one write and waits for
 * one fdatasync (group commit), then the event loop answers them. No
 * hashing, no index, no second sync: what "a 201 means it is on disk"
 * costs on this machine's disk, beside the transport's own cost.
 *
 *   tls_floor PORT CERT KEY CA [FILE]
 *
 * Runs until SIGTERM or SIGINT. Not a server for anything but a bench:
 * no limits, no deadlines.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static SSL_CTX *ctx;

/* group commit (with FILE): the loop queues, the writer syncs, the loop
 * answers what the writer hands back */
struct job {
	struct evhttp_request *req;
	struct job *next;
	size_t len;
	char body[];
};
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct job *queue, *done;   /* newest first */
static int data_fd = -1, wake_fd = -1, stopping;

/* sharelogd's answer to one decision: seq, leaf hash, recorded_at */
static const char body201[] =
    "{\"seq\":1234567,\"leaf_hash\":\"5d41402abc4b2a76b9719d911017c592"
    "5d41402abc4b2a76b9719d911017c592\",\"recorded_at\":"
    "\"2026-12-07T10:21:16.123456Z\",\"decision_id\":"
    "\"0b6a3c1e-1111-4222-8333-944455556666\"}\n";

static struct bufferevent *bevcb(struct event_base *base, void *arg)
{
	SSL *ssl = SSL_new(ctx);
	struct bufferevent *bev;

	(void)arg;
	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* as sharelogd's send_reply: one record, written in this loop turn */
static void answer(struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
	struct evbuffer *b = evbuffer_new();
	struct evbuffer *o;

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evbuffer_add(b, body201, sizeof body201 - 1);
	evhttp_send_reply(req, 201, "Created", b);
	evbuffer_free(b);
	o = bufferevent_get_output(bev);
	(void)evbuffer_pullup(o, -1);
	if (evbuffer_get_length(o))
		event_active(&bev->ev_write, EV_WRITE, 1);
}

static void route(struct evhttp_request *req, void *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	struct job *j;

	(void)arg;
	if (data_fd < 0) {
		answer(req);
		return;
	}
	j = malloc(sizeof(*j) + n);
	if (!j) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	j->req = req;
	j->len = n;
	evbuffer_remove(in, j->body, n);
	pthread_mutex_lock(&mu);
	j->next = queue;
	queue = j;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static void *writer(void *arg)
{
	char *buf = NULL;
	size_t cap = 0;

	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		struct job *batch, *j, *last;
		size_t n = 0;
		uint64_t one = 1;

		while (!queue && !stopping)
			pthread_cond_wait(&cv, &mu);
		if (!queue)
			break;
		batch = queue;
		queue = NULL;
		pthread_mutex_unlock(&mu);
		for (j = batch; j; j = j->next) {
			if (n + j->len + 1 > cap) {
				cap = (n + j->len + 1) * 2;
				buf = realloc(buf, cap);
				if (!buf)
					abort();
			}
			memcpy(buf + n, j->body, j->len);
			n += j->len;
			buf[n++] = '\n';
		}
		if (write(data_fd, buf, n) != (ssize_t)n ||
		    fdatasync(data_fd)) {
			perror("tls_floor: writing FILE");
			exit(1);
		}
		pthread_mutex_lock(&mu);
		for (last = batch; last->next; last = last->next)
			;
		last->next = done;
		done = batch;
		pthread_mutex_unlock(&mu);
		if (write(wake_fd, &one, sizeof one) != sizeof one)
			abort();
		pthread_mutex_lock(&mu);
	}
	pthread_mutex_unlock(&mu);
	free(buf);
	return NULL;
}

/* the writer's synced jobs, answered in the loop that owns them */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct job *list, *j;
	uint64_t v;

	(void)what;
	(void)arg;
	if (read(fd, &v, sizeof v) < 0)
		return;
	pthread_mutex_lock(&mu);
	list = done;
	done = NULL;
	pthread_mutex_unlock(&mu);
	while (list) {
		j = list;
		list = j->next;
		answer(j->req);
		free(j);
	}
}

static void on_signal(evutil_socket_t s, short what, void *arg)
{
	(void)s;
	(void)what;
	event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
	struct event_config *cfg;
	struct event_base *base;
	struct evhttp *http;
	struct event *term, *intr, *wake = NULL;
	pthread_t wt;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: tls_floor PORT CERT KEY CA [FILE]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF |
	    SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_load_verify_file(ctx, argv[4]) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	http = evhttp_new(base);
	evhttp_set_bevcb(http, bevcb, NULL);
	evhttp_set_gencb(http, route, NULL);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)atoi(argv[1]))) {
		fprintf(stderr, "tls_floor: cannot listen on 127.0.0.1:%s\n",
		    argv[1]);
		return 1;
	}
	term = evsignal_new(base, SIGTERM, on_signal, base);
	intr = evsignal_new(base, SIGINT, on_signal, base);
	event_add(term, NULL);
	event_add(intr, NULL);
	if (argc == 6) {
		data_fd = open(argv[5], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND,
		    0600);
		wake_fd = eventfd(0, EFD_NONBLOCK);
		if (data_fd < 0 || wake_fd < 0) {
			perror("tls_floor: FILE");
			return 1;
		}
		wake = event_new(base, wake_fd, EV_READ | EV_PERSIST, on_done,
		    NULL);
		event_add(wake, NULL);
		pthread_create(&wt, NULL, writer, NULL);
	}
	event_base_dispatch(base);
	if (wake) {
		pthread_mutex_lock(&mu);
		stopping = 1;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&mu);
		pthread_join(wt, NULL);
		event_free(wake);
		close(data_fd);
	}
	event_free(term);
	event_free(intr);
	evhttp_free(http);
	event_base_free(base);
	SSL_CTX_free(ctx);
	return 0;
}
