#define _GNU_SOURCE
/*
 * loadgen: a load generator for sharelogd, as agencies' case systems load
 * it: N keep-alive HTTPS connections with a client certificate, each
 * sending POST /v1/decisions one after the other, one record per request
 * or batches of B. Every request carries records never sent before (from
 * a JSON Lines file), so every 201 is a durable new entry.
 *
 *   loadgen -u HOST:PORT -a CA -c CERT -k KEY -f RECORDS.jsonl
 *           [-n CONNECTIONS] [-b BATCH] [-t SECONDS] [-j THREADS]
 *
 * The connections are shared out among THREADS threads (default 2, one a
 * core here), each waiting on its connections with epoll, as pgbench -j
 * does: a thread per connection would spend the cores the service is
 * measured on in waking 64 threads.
 *
 * Prints: decisions/s (acknowledged), requests/s, p50/p99/p999 latency.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "now.h"

static char **lines;
static size_t *lens;
static size_t nlines;
static atomic_size_t next_line;
static atomic_int stop;
static SSL_CTX *ctx;
static struct sockaddr_in addr;
static char hostport[128];
static int batch = 1;

struct conn {
	SSL *ssl;
	char *req;
	char *resp;
	size_t have;          /* bytes of the answer's head read */
	size_t head;          /* length of the head once read, else 0 */
	long clen;
	long body;            /* body bytes read */
	int status;
	double t0;
};

struct worker {
	pthread_t t;
	int n;                /* its connections */
	double *lat;          /* seconds per request */
	size_t nlat;
	size_t cap;
	size_t acked;         /* records acknowledged with 201 */
	size_t errors;
};

#define RESP_CAP (1 << 16)

/* The process's processor time (user + system), in seconds. */
static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static SSL *connect_tls(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	SSL *ssl;

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1) {
		ERR_print_errors_fp(stderr);
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	return ssl;
}

static void drop(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);

	SSL_free(ssl);
	close(fd);
}

/* Write the whole of @p on a non-blocking connection. */
static int write_all(SSL *ssl, const char *p, size_t n)
{
	for (;;) {
		int r = SSL_write(ssl, p, (int)n);
		struct pollfd pf = { SSL_get_fd(ssl), 0, 0 };

		if (r > 0)
			return 0;
		switch (SSL_get_error(ssl, r)) {
		case SSL_ERROR_WANT_WRITE: pf.events = POLLOUT; break;
		case SSL_ERROR_WANT_READ: pf.events = POLLIN; break;
		default: return -1;
		}
		if (poll(&pf, 1, 1000) < 0 && errno != EINTR)
			return -1;
	}
}

/* Send the next request on @c: records never sent before. 1 when the
 * records are used up, -1 on an error. */
static int send_next(struct conn *c)
{
	size_t first = atomic_fetch_add(&next_line, (size_t)batch);
	size_t off = 512;
	size_t body = 0;
	size_t hdr;
	size_t i;
	char head[512];

	if (first + (size_t)batch > nlines)
		return 1;
	/* body first, after room for the header */
	if (batch > 1)
		c->req[off + body++] = '[';
	for (i = 0; i < (size_t)batch; i++) {
		if (i)
			c->req[off + body++] = ',';
		memcpy(c->req + off + body, lines[first + i], lens[first + i]);
		body += lens[first + i];
	}
	if (batch > 1)
		c->req[off + body++] = ']';
	hdr = (size_t)snprintf(head, sizeof(head), "POST /v1/decisions "
	    "HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n", hostport, body);
	memcpy(c->req + off - hdr, head, hdr);
	c->have = c->head = 0;
	c->body = 0;
	c->t0 = now();
	return write_all(c->ssl, c->req + off - hdr, hdr + body);
}

/* Read what has arrived on @c: 1 when its answer is complete, 0 when
 * more is to come, -1 on an error. */
static int read_some(struct conn *c)
{
	for (;;) {
		int r;

		if (!c->head) {
			char *end;

			r = SSL_read(c->ssl, c->resp + c->have,
			    (int)(RESP_CAP - c->have - 1));
			if (r > 0) {
				c->have += (size_t)r;
				c->resp[c->have] = '\0';
				end = strstr(c->resp, "\r\n\r\n");
				if (end) {
					char *cl = strcasestr(c->resp,
					    "\r\nContent-Length:");

					if (sscanf(c->resp, "HTTP/1.%*d %d",
					    &c->status) != 1)
						return -1;
					c->clen = cl ? strtol(cl + 17, NULL, 10)
					    : 0;
					c->head = (size_t)(end + 4 - c->resp);
					c->body = (long)(c->have - c->head);
				} else if (c->have + 1 >= RESP_CAP) {
					return -1;
				}
			}
		} else {        /* the body is counted, not kept */
			r = SSL_read(c->ssl, c->resp, RESP_CAP);
			if (r > 0)
				c->body += r;
		}
		if (r <= 0)
			return SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ ?
			    0 : -1;
		if (c->head && c->body >= c->clen)
			return 1;
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;
	struct conn *cs = calloc((size_t)w->n, sizeof(*cs));
	struct epoll_event ev[64];
	int ep = epoll_create1(0);
	int open = 0;
	int i;

	for (i = 0; i < w->n; i++) {
		struct conn *c = &cs[i];
		struct epoll_event e = { EPOLLIN, { .ptr = c } };

		c->ssl = connect_tls();
		c->req = malloc(64 << 20);
		c->resp = malloc(RESP_CAP);
		if (!c->ssl || !c->req || !c->resp) {
			w->errors++;
			continue;
		}
		fcntl(SSL_get_fd(c->ssl), F_SETFL, O_NONBLOCK);
		epoll_ctl(ep, EPOLL_CTL_ADD, SSL_get_fd(c->ssl), &e);
		open++;
	}
	for (i = 0; i < w->n; i++) {
		int r = cs[i].ssl ? send_next(&cs[i]) : 0;

		if (r)
			atomic_store(&stop, 1);
		if (r < 0)
			w->errors++;
	}
	while (open && !atomic_load(&stop)) {
		int n = epoll_wait(ep, ev, 64, 100);

		for (i = 0; i < n && !atomic_load(&stop); i++) {
			struct conn *c = ev[i].data.ptr;
			int r = read_some(c);

			if (r == 0)
				continue;
			if (r < 0) {
				w->errors++;
				atomic_store(&stop, 1);
				break;
			}
			if (w->nlat == w->cap) {
				w->cap = w->cap ? w->cap * 2 : 4096;
				w->lat = realloc(w->lat, w->cap *
				    sizeof(*w->lat));
			}
			w->lat[w->nlat++] = now() - c->t0;
			if (c->status == 201)
				w->acked += (size_t)batch;
			else
				w->errors++;
			r = send_next(c);
			if (r)
				atomic_store(&stop, 1);
			if (r < 0)
				w->errors++;
		}
	}
	for (i = 0; i < w->n; i++) {
		if (cs[i].ssl)
			drop(cs[i].ssl);
		free(cs[i].req);
		free(cs[i].resp);
	}
	free(cs);
	close(ep);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *url = NULL;
	const char *ca = NULL;
	const char *cert = NULL;
	const char *key = NULL;
	const char *file = NULL;
	int conns = 1;
	int threads = 2;
	double secs = 10;
	struct worker *w;
	FILE *f;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t n;
	size_t cap = 0;
	double t0;
	double c0;
	double el;
	size_t acked = 0;
	size_t errors = 0;
	size_t total = 0;
	double *all;
	size_t k = 0;
	int opt;
	int i;
	char host[64];
	int port;

	while ((opt = getopt(argc, argv, "u:a:c:k:f:n:b:t:j:")) != -1) {
		switch (opt) {
		case 'u': url = optarg; break;
		case 'a': ca = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'f': file = optarg; break;
		case 'n': conns = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'j': threads = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!url || !ca || !cert || !key || !file || conns < 1 || batch < 1 || threads < 1 ||
	    sscanf(url, "%63[^:]:%d", host, &port) != 2) {
		fprintf(stderr, "usage: loadgen -u HOST:PORT -a CA -c CERT -k KEY "
		    "-f RECORDS.jsonl [-n CONNECTIONS] [-b BATCH] [-t SECONDS] "
		    "[-j THREADS]\n");
		return 2;
	}
	snprintf(hostport, sizeof(hostport), "%s", url);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, host, &addr.sin_addr);
	f = fopen(file, "r");
	if (!f)
		return 2;
	while ((n = getline(&line, &lcap, f)) > 0) {
		if (nlines == cap) {
			cap = cap ? cap * 2 : 65536;
			lines = realloc(lines, cap * sizeof(*lines));
			lens = realloc(lens, cap * sizeof(*lens));
		}
		if (line[n - 1] == '\n')
			n--;
		lines[nlines] = strndup(line, (size_t)n);
		lens[nlines++] = (size_t)n;
	}
	fclose(f);
	ctx = SSL_CTX_new(TLS_client_method());
	if (SSL_CTX_load_verify_file(ctx, ca) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 2;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* one read() a response instead of two (a record's header, then its
	 * body), as pgbench's libpq reads: the client's own cost per request
	 * is less of the shared processors. Safe here: an answer comes only
	 * after a request, and read_some() reads until its answer is whole,
	 * so nothing is left inside the TLS buffer unseen by epoll. */
	SSL_CTX_set_read_ahead(ctx, 1);
	if (threads > conns)
		threads = conns;
	w = calloc((size_t)threads, sizeof(*w));
	for (i = 0; i < threads; i++) {
		w[i].n = conns * (i + 1) / threads - conns * i / threads;
	}
	t0 = now();
	c0 = cpu_now();
	for (i = 0; i < threads; i++)
		pthread_create(&w[i].t, NULL, run, &w[i]);
	while (!atomic_load(&stop) && now() - t0 < secs)
		usleep(10000);
	atomic_store(&stop, 1);
	for (i = 0; i < threads; i++)
		pthread_join(w[i].t, NULL);
	el = now() - t0;
	c0 = cpu_now() - c0;
	for (i = 0; i < threads; i++) {
		acked += w[i].acked;
		errors += w[i].errors;
		total += w[i].nlat;
	}
	all = malloc((total + 1) * sizeof(*all));
	for (i = 0; i < threads; i++) {
		memcpy(all + k, w[i].lat, w[i].nlat * sizeof(*all));
		k += w[i].nlat;
	}
	qsort(all, total, sizeof(*all), cmp);
#define PCT(p) (total ? all[(size_t)((double)(total - 1) * (p))] * 1e3 : 0)
	printf("connections %d batch %d: %.0f decisions/s, %.0f requests/s, "
	    "latency p50 %.2f ms p99 %.2f ms p999 %.2f ms, %zu errors, %.1f s\n",
	    conns, batch, (double)acked / el, (double)total / el, PCT(0.50),
	    PCT(0.99), PCT(0.999), errors, el);
	/* the client's own share of the shared processors while it ran
	 * (reading the records before is left out) */
	fflush(stdout);
	fprintf(stderr, "loadgen: %.2f s of CPU while running, %.1f us a "
	    "decision\n", c0, acked ? c0 * 1e6 / (double)acked : 0.0);
	return errors ? 1 : 0;
}
