#define _GNU_SOURCE
/*
 * loadgen: a load generator for sharelogd, as agencies' case systems load
 * it: N keep-alive HTTPS connections with a client certificate, each
 * sending POST /v1/decisions one after the other, one record per request
 * or batches of B. Every request carries records never sent before (from
 * a JSON Lines file), so every 201 is a durable new entry.
 *
 *   loadgen -u HOST:PORT -a CA -c CERT -k KEY -f RECORDS.jsonl
 *           [-n CONNECTIONS] [-b BATCH] [-t SECONDS]
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char **lines;
static size_t *lens;
static size_t nlines;
static atomic_size_t next_line;
static atomic_int stop;
static SSL_CTX *ctx;
static struct sockaddr_in addr;
static char hostport[128];
static int batch = 1;

struct worker {
	pthread_t t;
	double *lat;          /* seconds per request */
	size_t nlat;
	size_t cap;
	size_t acked;         /* records acknowledged with 201 */
	size_t errors;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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

/* Read one HTTP response; returns the status or -1. */
static int read_response(SSL *ssl, char *buf, size_t cap)
{
	size_t have = 0;
	char *hdr_end = NULL;
	long clen = 0;
	int status;

	while (!hdr_end) {
		int r = SSL_read(ssl, buf + have, (int)(cap - have - 1));

		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		hdr_end = strstr(buf, "\r\n\r\n");
		if (!hdr_end && have + 1 >= cap)
			return -1;
	}
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	{
		char *cl = strcasestr(buf, "\r\nContent-Length:");

		if (cl)
			clen = strtol(cl + 17, NULL, 10);
	}
	{
		size_t body_have = have - (size_t)(hdr_end + 4 - buf);

		while ((long)body_have < clen) {
			char tmp[16384];
			int r = SSL_read(ssl, tmp, sizeof(tmp));

			if (r <= 0)
				return -1;
			body_have += (size_t)r;
		}
	}
	return status;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	SSL *ssl = connect_tls();
	char *req = malloc(64 << 20);
	char *resp = malloc(1 << 20);

	while (ssl && !atomic_load(&stop)) {
		size_t first = atomic_fetch_add(&next_line, (size_t)batch);
		size_t off;
		size_t body = 0;
		size_t hdr;
		size_t i;
		double t0;
		int st;

		if (first + (size_t)batch > nlines) {
			atomic_store(&stop, 1);
			break;
		}
		/* body first, after room for the header */
		off = 512;
		if (batch > 1)
			req[off + body++] = '[';
		for (i = 0; i < (size_t)batch; i++) {
			if (i)
				req[off + body++] = ',';
			memcpy(req + off + body, lines[first + i],
			    lens[first + i]);
			body += lens[first + i];
		}
		if (batch > 1)
			req[off + body++] = ']';
		hdr = (size_t)snprintf(resp, 512, "POST /v1/decisions HTTP/1.1\r\n"
		    "Host: %s\r\nContent-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n", hostport, body);
		memcpy(req + off - hdr, resp, hdr);
		t0 = now();
		if (SSL_write(ssl, req + off - hdr, (int)(hdr + body)) <= 0) {
			w->errors++;
			break;
		}
		st = read_response(ssl, resp, 1 << 20);
		if (st < 0) {
			w->errors++;
			break;
		}
		if (w->nlat == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 4096;
			w->lat = realloc(w->lat, w->cap * sizeof(*w->lat));
		}
		w->lat[w->nlat++] = now() - t0;
		if (st == 201)
			w->acked += (size_t)batch;
		else
			w->errors++;
	}
	if (ssl)
		drop(ssl);
	free(req);
	free(resp);
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
	double secs = 10;
	struct worker *w;
	FILE *f;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t n;
	size_t cap = 0;
	double t0;
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

	while ((opt = getopt(argc, argv, "u:a:c:k:f:n:b:t:")) != -1) {
		switch (opt) {
		case 'u': url = optarg; break;
		case 'a': ca = optarg; break;
		case 'c': cert = optarg; break;
		case 'k': key = optarg; break;
		case 'f': file = optarg; break;
		case 'n': conns = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		default: return 2;
		}
	}
	if (!url || !ca || !cert || !key || !file || conns < 1 || batch < 1 ||
	    sscanf(url, "%63[^:]:%d", host, &port) != 2) {
		fprintf(stderr, "usage: loadgen -u HOST:PORT -a CA -c CERT -k KEY "
		    "-f RECORDS.jsonl [-n CONNECTIONS] [-b BATCH] [-t SECONDS]\n");
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
	w = calloc((size_t)conns, sizeof(*w));
	t0 = now();
	for (i = 0; i < conns; i++)
		pthread_create(&w[i].t, NULL, run, &w[i]);
	while (!atomic_load(&stop) && now() - t0 < secs)
		usleep(10000);
	atomic_store(&stop, 1);
	for (i = 0; i < conns; i++)
		pthread_join(w[i].t, NULL);
	el = now() - t0;
	for (i = 0; i < conns; i++) {
		acked += w[i].acked;
		errors += w[i].errors;
		total += w[i].nlat;
	}
	all = malloc((total + 1) * sizeof(*all));
	for (i = 0; i < conns; i++) {
		memcpy(all + k, w[i].lat, w[i].nlat * sizeof(*all));
		k += w[i].nlat;
	}
	qsort(all, total, sizeof(*all), cmp);
#define PCT(p) (total ? all[(size_t)((double)(total - 1) * (p))] * 1e3 : 0)
	printf("connections %d batch %d: %.0f decisions/s, %.0f requests/s, "
	    "latency p50 %.2f ms p99 %.2f ms p999 %.2f ms, %zu errors, %.1f s\n",
	    conns, batch, (double)acked / el, (double)total / el, PCT(0.50),
	    PCT(0.99), PCT(0.999), errors, el);
	return errors ? 1 : 0;
}
