/* pthread_rwlockattr_setkind_np: a reload must not wait for ever behind
 * the loops' requests */
#define _GNU_SOURCE
#include "auditd/server.h"
#include "auditd/config.h"
#include "auditd/conns.h"
#include "auditd/keys.h"
#include "auditd/tls.h"
#include "auditd/writer.h"
#include "formats/buf.h"
#include "formats/enc.h"
#include "formats/entry.h"
#include "formats/jcs.h"
#include "formats/json.h"
#include "formats/merkle.h"
#include "formats/pseudo.h"
#include "formats/record.h"
#include "formats/schema.h"
#include "formats/rfc3339.h"
#include "formats/store.h"
#include "reports/trail.h"
#include "verify/completeness.h"
#include "verify/policy.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* Error kinds counted in /metrics. */
enum kind {
	K_SYNTAX, K_SCHEMA, K_TOO_LARGE, K_MEDIA_TYPE, K_FORBIDDEN,
	K_CONFLICT, K_STORE, K_NOT_FOUND, K_BAD_REQUEST, K_COUNT
};
static const char *const kind_name[K_COUNT] = {
	"syntax", "schema", "too_large", "media_type", "forbidden",
	"conflict", "store", "not_found", "bad_request"
};

/*
 * Event loops (event_loops): each has its own evhttp on the one listening
 * socket, its own connections and its own thread; the first runs on the
 * main thread and also takes the signals. Everything else is
 * shared: the store (LMDB readers in any thread), the one writer, the
 * counters (atomic), and the configuration, policy and TLS context, which
 * a reload swaps under cfg_lock while no request is being handled.
 */
struct server;

struct loop {
	struct server *sv;
	unsigned idx;
	pthread_t thread;
	int started;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	struct sl_conns *conns;
	struct sl_hash *hash;        /* the proofs' */
	struct event *notify;        /* the writer finished jobs of ours */
	struct event *ctl;           /* a reload or a stop, from loop 0 */
	struct event *drain;
	struct event *flush;         /* hands this turn's jobs to the writer */
	struct sl_job *turn;         /* parsed this turn, oldest first */
	struct sl_job **turn_tail;
	pthread_mutex_t mu;          /* guards done */
	struct sl_job *done;         /* finished, to answer, oldest first */
	struct sl_job **done_tail;
	_Atomic size_t inflight;     /* requests waiting for the writer */
	struct sl_record_taken *taken;  /* the fast way's scratch */
	size_t ntaken;
	uint8_t *body;               /* a body in pieces, made whole here */
	size_t body_cap;
};

struct server {
	char cfg_path[4096];
	pthread_rwlock_t cfg_lock;   /* cfg, ctx, policy: read per request */
	struct sl_config *cfg;
	SSL_CTX *ctx;
	struct sl_policy *policy;    /* completeness, for the answers */
	uint8_t policy_kid[SL_HASH_LEN];   /* its keeper id, when ... */
	int policy_kid_ok;           /* ... it could be made */
	struct sl_store *store;
	struct sl_keys *keys;
	struct sl_writer *writer;
	struct loop *loops;
	unsigned nloops;
	struct event *sig[3];
	_Atomic int draining;
	_Atomic uint64_t status_count[6];  /* 1xx..5xx by first digit */
	_Atomic uint64_t errors[K_COUNT];
	_Atomic uint64_t decisions_received;
};

/* ---- to the writer ---------------------------------------------------- */

/*
 * Jobs go to the writer once a loop turn, not one by one. One epoll_wait
 * hands the loop many requests; given each as it was parsed, an idle
 * writer would start a commit with the first alone, and the rest would
 * wait a whole commit (one fdatasync) for the next. The flush event is
 * made active with the first job of a turn: libevent runs it after the
 * events already active, that is after every request this turn reads.
 */
static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *lp = arg;
	struct sl_job *list = lp->turn;

	(void)fd;
	(void)what;
	lp->turn = NULL;
	lp->turn_tail = &lp->turn;
	if (list)
		sl_writer_submit(lp->sv->writer, list);
}

static void submit(struct loop *lp, struct sl_job *j)
{
	j->next = NULL;
	*lp->turn_tail = j;
	lp->turn_tail = &j->next;
	if (j == lp->turn)
		event_active(lp->flush, EV_TIMEOUT, 0);
}

/* ---- replies ----------------------------------------------------------- */

/* A reply that fits one TLS record is sent as one. evhttp puts the head
 * and the body in two evbuffer chains and bufferevent_openssl calls
 * SSL_write once a chain: two records and two write(2)s a reply, and
 * the client's two reads to match. Joining them costs a copy of at most
 * this many bytes. */
#define ONE_RECORD 16384

static void send_reply(struct evhttp_request *req, int code,
    const char *reason, struct evbuffer *body)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent *bev = evcon ?
	    evhttp_connection_get_bufferevent(evcon) : NULL;
	struct evbuffer *o;

	evhttp_send_reply(req, code, reason, body);
	/* evhttp has only queued it and turned write interest on:
	 * bufferevent_openssl would write when epoll next says the socket
	 * is writable, one epoll_ctl and one loop turn later, then turn the
	 * interest off again (a second epoll_ctl). A socket with room is
	 * writable now, so its write event is run in this turn instead
	 * (bufferevent_struct.h makes it public): the write, evhttp's
	 * "done" and its turning back to reading all happen before the
	 * turn's changes go to epoll, which then see only the net change.
	 * A socket without room is no different: SSL_write wants to write,
	 * and the event stays pending as before. The event is deleted with
	 * the connection, active or not, so a connection closed later in
	 * this turn is never written. */
	o = bev ? bufferevent_get_output(bev) : NULL;
	if (o && evbuffer_get_length(o) <= ONE_RECORD)
		(void)evbuffer_pullup(o, -1);
	if (bev && evbuffer_get_length(o))
		event_active(&bev->ev_write, EV_WRITE, 1);
}

static int to_evbuffer(const char *p, size_t n, void *b)
{
	return evbuffer_add(b, p, n);
}

static void send_json(struct server *sv, struct evhttp_request *req,
    int code, json_t *body)
{
	struct evbuffer *b = evbuffer_new();

	if (code / 100 < 6)
		sv->status_count[code / 100]++;
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	/* Rendered straight into the reply: no string that would come from
	 * (and have to go back to) jansson's allocator. */
	if (b && !json_dump_callback(body, to_evbuffer, b, JSON_COMPACT))
		evbuffer_add(b, "\n", 1);
	send_reply(req, code, NULL, b);
	if (b)
		evbuffer_free(b);
	json_decref(body);
}

/*
 * An error answer: {"error": kind, "message": sentence, "field": pointer}.
 * The field is taken from messages of the form "field /a/b: ...".
 */
static void send_error(struct server *sv, struct evhttp_request *req,
    int code, enum kind k, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void send_error(struct server *sv, struct evhttp_request *req,
    int code, enum kind k, const char *fmt, ...)
{
	char msg[SL_ERR_MAX + 128];
	char field[SL_ERR_MAX];
	json_t *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sv->errors[k]++;
	field[0] = '\0';
	if (!strncmp(msg, "field /", 7)) {
		const char *c = strstr(msg + 6, ": ");
		size_t n = c ? (size_t)(c - (msg + 6)) : 0;

		if (n && n < sizeof(field)) {
			memcpy(field, msg + 6, n);
			field[n] = '\0';
		}
	}
	o = json_pack("{s:s,s:s}", "error", kind_name[k], "message", msg);
	if (field[0])
		json_object_set_new(o, "field", json_string(field));
	send_json(sv, req, code, o);
}

/* ---- who is calling ---------------------------------------------------- */

static SSL *peer_ssl(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(
	    conn) : NULL;

	return bev ? bufferevent_openssl_get_ssl(bev) : NULL;
}

static const struct sl_client *caller(struct server *sv,
    struct evhttp_request *req)
{
	SSL *ssl = peer_ssl(req);
	char fp[65];
	char cn[256];

	if (sl_tls_peer(fp, cn, ssl))
		return NULL;
	return sl_config_client(sv->cfg, fp, cn);
}

static int allowed(struct server *sv, struct evhttp_request *req,
    const struct sl_client *c, unsigned roles)
{
	if (c && (c->roles & roles))
		return 1;
	send_error(sv, req, 403, K_FORBIDDEN, c ? "this client certificate "
	    "does not have the role this needs" : "this client certificate "
	    "is not registered with the service");
	return 0;
}

/* ---- POST /v1/decisions -------------------------------------------------- */

struct job {
	struct sl_job j;
	struct sl_buf data;      /* canonical records and ids, back to back */
	uint8_t *kept;           /* room for each item's kept judgement */
	int batch;               /* 1 when the body was an array */
	int trail;               /* 1: an access entry, then the trail */
	struct loop *lp;         /* whose request: it answers */
	char child_ref[SL_PSEUDO_LEN + 1];   /* the trail's subject, or */
	char case_ref[SL_SCHEMA_ID_MAX + 1];
};

/* Room for one record's kept judgement (verify/completeness.c,
 * alone_encode): 92 bytes and the decision and organisation ids, then
 * 22 a hit; most decisions take 100-250. A longer one is judged again. */
#define KEPT_ROOM 384

static void job_free(struct job *jb)
{
	if (!jb)
		return;
	sl_buf_free(&jb->data);
	free(jb->kept);
	free(jb->j.items);
	free(jb);
}

static int content_json(struct evhttp_request *req)
{
	const char *ct = evhttp_find_header(evhttp_request_get_input_headers(
	    req), "Content-Type");

	return ct && !strncmp(ct, "application/json", 16) &&
	    (ct[16] == '\0' || ct[16] == ';');
}

/* Offsets into jb->data, turned into pointers once the buffer is final. */
struct offs {
	size_t canon;
	size_t canon_len;
	size_t by;
	size_t rid;
	size_t did;
};

static int put_str(struct sl_buf *b, size_t *off, const char *s)
{
	*off = b->len;
	if (sl_buf_adds(b, s ? s : ""))
		return SL_ENOMEM;
	return sl_buf_addc(b, 0);
}

static int put_mem(struct sl_buf *b, size_t *off, const void *p, size_t n)
{
	*off = b->len;
	if (sl_buf_add(b, p, n))
		return SL_ENOMEM;
	return sl_buf_addc(b, 0);
}

/* Point the job's items at what jb->data holds (of: where). */
static void job_items(struct job *jb, const struct offs *of, size_t n)
{
	const char *d = (const char *)jb->data.data;
	size_t i;

	for (i = 0; i < n; i++) {
		struct sl_store_item *it = &jb->j.items[i];

		it->canon = jb->data.data + of[i].canon;
		it->canon_len = of[i].canon_len;
		it->submitted_by = d + of[i].by;
		it->record_id = d + of[i].rid;
		it->decision_id = d[of[i].did] ? d + of[i].did : NULL;
	}
	jb->j.n = n;
	/* the store hands back the judgement it keeps of each new record,
	 * from which put_findings() answers a decision without judging it
	 * again; without this room it judges it (a few KB more a loop turn
	 * is no reason to refuse a request) */
	jb->kept = malloc(n * KEPT_ROOM);
	for (i = 0; jb->kept && i < n; i++) {
		jb->j.items[i].kept = jb->kept + i * KEPT_ROOM;
		jb->j.items[i].kept_cap = KEPT_ROOM;
	}
}

/*
 * The fast way in (sl_record_intake): 1 when it took the whole body and
 * jb is ready to submit, 0 when the body goes the full way (jb as it
 * came). A record for another organisation, or records too large once
 * canonical, go the full way too, which says so for the right record.
 */
static int take_fast(struct loop *lp, struct job *jb,
    const struct sl_client *c, const uint8_t *body, size_t len)
{
	struct server *sv = lp->sv;
	size_t cap = sv->cfg->max_batch;
	size_t olen = strlen(c->organisation_id);
	struct sl_record_taken *t;
	struct offs *of = NULL;
	size_t n = 0;
	size_t i;
	int batch = 0;
	int ok = 0;

	if (lp->ntaken < cap) {
		struct sl_record_taken *g = realloc(lp->taken,
		    cap * sizeof(*g));

		if (!g)
			return 0;
		lp->taken = g;
		lp->ntaken = cap;
	}
	t = lp->taken;
	sl_buf_init(&jb->data, (size_t)SL_ENTRY_MAX * cap + 4096);
	/* the records once canonical are about the body's size, with their
	 * ids beside them: one block for them rather than a chain of
	 * doublings, each a copy into fresh pages */
	if (sl_buf_room(&jb->data, len + len / 4 + 4096 < jb->data.max ?
	    len + len / 4 + 4096 : jb->data.max))
		return 0;
	n = sl_record_intake(&jb->data, t, cap, &batch, body, len,
	    sv->keys->pseudo);
	if (!n)
		goto out;
	of = calloc(n, sizeof(*of));
	jb->j.items = calloc(n, sizeof(*jb->j.items));
	if (!of || !jb->j.items)
		goto out;
	for (i = 0; i < n; i++) {
		if (t[i].org_len != olen ||
		    memcmp(t[i].org, c->organisation_id, olen))
			goto out;
		of[i].canon = t[i].canon;
		of[i].canon_len = t[i].canon_len;
		if (put_mem(&jb->data, &of[i].by, c->organisation_id, olen) ||
		    put_mem(&jb->data, &of[i].rid, t[i].rid, t[i].rid_len) ||
		    put_mem(&jb->data, &of[i].did, t[i].did, t[i].did_len))
			goto out;
		jb->j.items[i].type = sl_entry_type_parse(
		    (const char *)t[i].rtype, t[i].rtype_len);
	}
	/* the full way's bound on the same bytes */
	if (jb->data.len > (size_t)SL_ENTRY_MAX * n + 4096)
		goto out;
	job_items(jb, of, n);
	jb->batch = batch;
	ok = 1;
out:
	if (!ok) {
		free(jb->j.items);
		jb->j.items = NULL;
		sl_buf_free(&jb->data);
	}
	free(of);
	return ok;
}

/*
 * The body of @in (@len bytes, at most max_body) in one piece, for the
 * call: where it is already, or copied into the loop's own buffer, which
 * is kept from one request to the next. evbuffer_pullup() would make a
 * fresh block of the body's size each time, whose pages are new to the
 * process (a page fault each, costly on a paravirtualised machine). An
 * empty body is "" (the parser says what is missing). NULL when out of
 * memory.
 */
static const char *whole_body(struct loop *lp, struct evbuffer *in,
    size_t len)
{
	if (len == 0)
		return "";
	if (evbuffer_get_contiguous_space(in) >= len)
		return (const char *)evbuffer_pullup(in, -1);
	if (lp->body_cap < len + 1) {
		uint8_t *nb = realloc(lp->body, len + 1);

		if (!nb)
			return NULL;
		lp->body = nb;
		lp->body_cap = len + 1;
	}
	if (evbuffer_copyout(in, lp->body, len) != (ev_ssize_t)len)
		return NULL;
	lp->body[len] = '\0';
	return (const char *)lp->body;
}

static void post_decisions(struct loop *lp, struct evhttp_request *req,
    const struct sl_client *c)
{
	struct server *sv = lp->sv;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *body;
	struct job *jb = NULL;
	struct offs *of = NULL;
	json_t *doc = NULL;
	struct sl_err e = { 0, "" };
	size_t n;
	size_t i;
	int rc;

	if (!allowed(sv, req, c, SL_ROLE_SUBMITTER))
		return;
	if (!content_json(req)) {
		send_error(sv, req, 415, K_MEDIA_TYPE, "send the decision as "
		    "Content-Type: application/json");
		return;
	}
	if (len > sv->cfg->max_body) {
		send_error(sv, req, 413, K_TOO_LARGE, "the body is %zu bytes, "
		    "more than the limit of %zu", len, sv->cfg->max_body);
		return;
	}
	body = whole_body(lp, in, len);
	jb = calloc(1, sizeof(*jb));
	if (!jb || !body) {
		free(jb);
		send_error(sv, req, 503, K_STORE, "out of memory; nothing was "
		    "stored, retry");
		return;
	}
	if (take_fast(lp, jb, c, (const uint8_t *)body, len))
		goto submit;
	/* The full way. Every JSON value of this request lives in the
	 * thread's arena and is released before it ends (at out:). */
	sl_json_arena_begin();
	rc = sl_json_parse(&doc, body, len, sv->cfg->max_body, &e);
	if (rc) {
		send_error(sv, req, rc == SL_ESYNTAX ? 400 : rc == SL_ETOOBIG ?
		    413 : 422, rc == SL_ESYNTAX ? K_SYNTAX : rc == SL_ETOOBIG ?
		    K_TOO_LARGE : K_SCHEMA, "%s", e.msg);
		goto out;
	}
	n = json_is_array(doc) ? json_array_size(doc) : 1;
	if (json_is_array(doc) && (n == 0 || n > sv->cfg->max_batch)) {
		send_error(sv, req, n ? 413 : 422, n ? K_TOO_LARGE : K_SCHEMA,
		    "a batch holds 1 to %zu records; this one has %zu",
		    sv->cfg->max_batch, n);
		goto out;
	}
	of = calloc(n, sizeof(*of));
	jb->j.items = calloc(n, sizeof(*jb->j.items));
	if (!of || !jb->j.items) {
		send_error(sv, req, 503, K_STORE, "out of memory; nothing was "
		    "stored, retry");
		goto out;
	}
	jb->batch = json_is_array(doc);
	sl_buf_init(&jb->data, (size_t)SL_ENTRY_MAX * n + 4096);
	for (i = 0; i < n; i++) {
		json_t *rec = jb->batch ? json_array_get(doc, i) : doc;
		char base[32] = "";
		const char *org;
		const char *rt;

		if (jb->batch)
			snprintf(base, sizeof(base), "/%zu", i);
		if (!json_is_object(rec)) {
			send_error(sv, req, 422, K_SCHEMA, "field %s: a record "
			    "must be a JSON object", jb->batch ? base : "/");
			goto out;
		}
		rc = sl_record_prepare(rec, sv->keys->pseudo, base, &e);
		if (rc) {
			send_error(sv, req, 422, K_SCHEMA, "%s", e.msg);
			goto out;
		}
		org = json_string_value(json_object_get(rec,
		    "organisation_id"));
		if (strcmp(org, c->organisation_id)) {
			/* Nothing of the batch is stored. */
			send_error(sv, req, 403, K_FORBIDDEN, "field "
			    "%s/organisation_id: this certificate submits for "
			    "%s only", base, c->organisation_id);
			goto out;
		}
		of[i].canon = jb->data.len;
		rc = sl_jcs_write(&jb->data, rec, &e);
		of[i].canon_len = jb->data.len - of[i].canon;
		if (!rc)
			rc = put_str(&jb->data, &of[i].by, c->organisation_id);
		if (!rc)
			rc = put_str(&jb->data, &of[i].rid, json_string_value(
			    json_object_get(rec, "record_id")));
		if (!rc)
			rc = put_str(&jb->data, &of[i].did, json_string_value(
			    json_object_get(rec, "decision_id")));
		if (rc) {
			send_error(sv, req, 413, K_TOO_LARGE, "the records are "
			    "too large once canonical");
			goto out;
		}
		rt = json_string_value(json_object_get(rec, "record_type"));
		jb->j.items[i].type = sl_entry_type_parse(rt, strlen(rt));
	}
	job_items(jb, of, n);
	json_decref(doc);
	doc = NULL;
	sl_json_arena_end();
submit:
	jb->j.owner = req;
	jb->lp = lp;
	sv->decisions_received += jb->j.n;
	lp->inflight++;
	submit(lp, &jb->j);
	free(of);
	return;          /* the writer has the job; it comes back to done_cb */
out:
	free(of);
	job_free(jb);
	json_decref(doc);
	sl_json_arena_end();
}

/* ---- POST /v1/trail ------------------------------------------------------ */

/* A trail request is small: an id, a reference and the review's name. */
#define TRAIL_BODY_MAX 4096

/*
 * A case reviewer's request for the chronology of one child or case:
 * {"child_id": ID or "case_ref": REF, "review_ref": REF}. The read is
 * first appended as an `access` entry (who: the certificate's
 * organisation and fingerprint; which subject; for which review), and
 * the trail is sent only once that entry is durable: no read goes
 * unrecorded. The identifier travels in the body, never in the URL,
 * where proxies and access logs would keep it.
 */
static void post_trail(struct loop *lp, struct evhttp_request *req,
    const struct sl_client *c)
{
	struct server *sv = lp->sv;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	struct sl_err e = { 0, "" };
	struct job *jb = NULL;
	json_t *doc = NULL;
	json_t *rec = NULL;
	const json_t *cid, *cref, *rref;
	const char *k;
	json_t *x;
	char fp[65];
	char cn[256];
	int rc;

	if (!allowed(sv, req, c, SL_ROLE_REVIEWER))
		return;
	if (!content_json(req)) {
		send_error(sv, req, 415, K_MEDIA_TYPE, "send the request as "
		    "Content-Type: application/json");
		return;
	}
	if (len > TRAIL_BODY_MAX) {
		send_error(sv, req, 413, K_TOO_LARGE, "a trail request is at "
		    "most %d bytes", TRAIL_BODY_MAX);
		return;
	}
	rc = sl_json_parse(&doc, (const char *)evbuffer_pullup(in, -1), len,
	    TRAIL_BODY_MAX, &e);
	if (rc) {
		send_error(sv, req, rc == SL_ESYNTAX ? 400 : 422,
		    rc == SL_ESYNTAX ? K_SYNTAX : K_SCHEMA, "%s", e.msg);
		goto out;
	}
	if (!json_is_object(doc)) {
		send_error(sv, req, 422, K_SCHEMA, "field /: the request is a "
		    "JSON object");
		goto out;
	}
	json_object_foreach(doc, k, x)
		if (strcmp(k, "child_id") && strcmp(k, "case_ref") &&
		    strcmp(k, "review_ref")) {
			send_error(sv, req, 422, K_SCHEMA, "field /%.100s: "
			    "unknown field (send child_id or case_ref, and "
			    "review_ref)", k);
			goto out;
		}
	cid = json_object_get(doc, "child_id");
	cref = json_object_get(doc, "case_ref");
	rref = json_object_get(doc, "review_ref");
	if (!cid == !cref) {
		send_error(sv, req, 422, K_SCHEMA, "field /child_id: give "
		    "exactly one of child_id and case_ref");
		goto out;
	}
	if (!rref) {
		send_error(sv, req, 422, K_SCHEMA, "field /review_ref: "
		    "required: the case review this trail is read for");
		goto out;
	}
	if ((cid && sl_schema_check("child_id", cid, "/child_id", &e)) ||
	    (cref && sl_schema_check("case_ref", cref, "/case_ref", &e)) ||
	    sl_schema_check("case_ref", rref, "/review_ref", &e)) {
		send_error(sv, req, 422, K_SCHEMA, "%s", e.msg);
		goto out;
	}
	jb = calloc(1, sizeof(*jb));
	if (jb)
		jb->j.items = calloc(1, sizeof(*jb->j.items));
	if (!jb || !jb->j.items) {
		send_error(sv, req, 503, K_STORE, "out of memory; retry");
		goto out;
	}
	jb->trail = 1;
	if (cid && sl_pseudo_child(jb->child_ref, sv->keys->pseudo,
	    json_string_value(cid), json_string_length(cid))) {
		send_error(sv, req, 503, K_STORE, "cannot pseudonymise "
		    "child_id; retry");
		goto out;
	}
	if (cref)
		snprintf(jb->case_ref, sizeof(jb->case_ref), "%s",
		    json_string_value(cref));
	if (sl_tls_peer(fp, cn, peer_ssl(req)))
		fp[0] = '\0';
	/* the subject under the record's own field names, so the subjects
	 * and cases indexes find the access with the child's records */
	rec = json_pack("{s:s,s:s,s:s,s:s}", "access", "trail",
	    "organisation_id", c->organisation_id, "reader_certificate_sha256",
	    fp, "review_ref", json_string_value(rref));
	if (rec && cid)
		json_object_set_new(rec, "child_ref",
		    json_string(jb->child_ref));
	if (rec && cref)
		json_object_set_new(rec, "case_ref", json_string(jb->case_ref));
	sl_buf_init(&jb->data, SL_ENTRY_MAX);
	if (!rec || sl_jcs_write(&jb->data, rec, &e) ||
	    sl_buf_addc(&jb->data, 0) || sl_buf_adds(&jb->data,
	    c->organisation_id) || sl_buf_addc(&jb->data, 0)) {
		send_error(sv, req, 503, K_STORE, "out of memory; retry");
		goto out;
	}
	{
		struct sl_store_item *it = &jb->j.items[0];
		size_t canon_len = strlen((const char *)jb->data.data);

		it->type = SL_ET_ACCESS;
		it->canon = jb->data.data;
		it->canon_len = canon_len;
		it->submitted_by = (const char *)jb->data.data + canon_len + 1;
	}
	jb->j.n = 1;
	jb->j.owner = req;
	jb->lp = lp;
	lp->inflight++;
	submit(lp, &jb->j);
	jb = NULL;   /* back in done_cb, which sends the trail */
out:
	json_decref(rec);
	json_decref(doc);
	job_free(jb);
}

/* The access entry is on disk: now the trail, from the newest signed
 * checkpoint, its proofs checked as sharelog-report checks them. */
static void send_trail(struct server *sv, struct evhttp_request *req,
    struct job *jb)
{
	struct sl_trail_opts o;
	struct sl_trail_result r;
	struct sl_err e = { 0, "" };
	char *text = NULL;
	size_t n = 0;
	char hdr[32];
	struct evbuffer *b;
	FILE *f = open_memstream(&text, &n);
	int rc;

	memset(&o, 0, sizeof(o));
	o.store = sv->store;
	o.child_ref = jb->child_ref[0] ? jb->child_ref : NULL;
	o.case_ref = jb->case_ref[0] ? jb->case_ref : NULL;
	o.policy = sv->policy;
	o.as_of_ms = sl_rfc3339_now_ms();
	rc = f ? sl_trail_write(f, &o, &r, &e) : sl_err_set(&e, SL_ENOMEM,
	    "out of memory");
	if (f && fclose(f) && !rc)
		rc = sl_err_set(&e, SL_ENOMEM, "out of memory");
	if (rc) {
		send_error(sv, req, 503, K_STORE, "the read was recorded "
		    "(entry %llu) but the trail could not be made: %s",
		    (unsigned long long)jb->j.items[0].seq, e.msg);
		free(text);
		return;
	}
	b = evbuffer_new();
	if (b)
		evbuffer_add(b, text, n);
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/csv; charset=utf-8");
	/* a child's chronology: no cache along the way may keep it */
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	snprintf(hdr, sizeof(hdr), "%llu",
	    (unsigned long long)jb->j.items[0].seq);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Sharelog-Access-Seq", hdr);
	snprintf(hdr, sizeof(hdr), "%llu", (unsigned long long)r.size);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Sharelog-Tree-Size", hdr);
	sv->status_count[2]++;
	send_reply(req, 200, "OK", b);
	if (b)
		evbuffer_free(b);
}

/*
 * The 201 answers are written here directly (ans_*) rather than built as
 * jansson values and dumped: at 64 connections, packing and dumping them
 * took a third of the loop thread, more than reading the records.
 */
static int ans_key(struct sl_buf *b, int first, const char *key)
{
	int rc = first ? 0 : sl_buf_addc(b, ',');

	if (!rc)
		rc = sl_jcs_write_string(b, key, strlen(key));
	return rc ? rc : sl_buf_addc(b, ':');
}

static int ans_str(struct sl_buf *b, int first, const char *key,
    const char *val)
{
	int rc = ans_key(b, first, key);

	if (!val)
		val = "";
	return rc ? rc : sl_jcs_write_string(b, val, strlen(val));
}

static int ans_u64(struct sl_buf *b, const char *key, uint64_t v)
{
	int rc = ans_key(b, 0, key);

	return rc ? rc : sl_buf_addi(b, (long long)v);   /* seqs < 2^63 */
}

/* What the policy finds open on the record's thread now that it is
 * stored: the case system prompts the practitioner to amend. A decision
 * is never refused for these (an unrecorded decision is worse). A rule's
 * id and guidance were made JSON once, when the policy was loaded. */
static int put_findings(struct sl_buf *b, struct server *sv,
    struct sl_store_txn *t, const struct sl_store_item *it)
{
	/* a record just appended is judged from its canonical bytes here,
	 * or a decision from the judgement the store kept of it when that
	 * was made by this very policy; a duplicate's is the stored
	 * original's */
	const int kept = it->kept_len && it->kept_by && sv->policy_kid_ok &&
	    !memcmp(it->kept_by, sv->policy_kid, SL_HASH_LEN);
	const struct sl_comp_entry self = { it->canon, it->canon_len,
		it->type, it->recorded_ms, kept ? it->kept : NULL,
		kept ? it->kept_len : 0 };
	struct sl_comp_open f[64];
	struct sl_err e;
	size_t n = 0;
	size_t i;
	int rc;

	if (!t || sl_comp_thread(t, sv->policy, it->seq, it->canon &&
	    it->duplicate == 0 ? &self : NULL, sl_rfc3339_now_ms(), f, 64,
	    &n, &e))
		n = 0;
	rc = sl_buf_addc(b, '[');
	for (i = 0; !rc && i < n; i++) {
		const struct sl_policy_rule *ru = sl_policy_rule(sv->policy,
		    f[i].rule);
		const char *fn = sl_policy_field_name(f[i].field);

		rc = sl_buf_adds(b, i ? ",{\"rule\":" : "{\"rule\":");
		if (!rc)
			rc = sl_buf_add(b, ru->id_json, ru->id_json_len);
		if (!rc)
			rc = sl_buf_adds(b, f[i].severity == SL_SEV_ERROR ?
			    ",\"severity\":\"error\",\"field\":" :
			    ",\"severity\":\"warning\",\"field\":");
		if (!rc)
			rc = sl_jcs_write_string(b, fn ? fn : "",
			    fn ? strlen(fn) : 0);
		if (!rc)
			rc = ans_u64(b, "seq", f[i].seq);
		if (!rc)
			rc = sl_buf_adds(b, ",\"guidance\":");
		if (!rc)
			rc = sl_buf_add(b, ru->guidance_json,
			    ru->guidance_json_len);
		if (!rc)
			rc = sl_buf_addc(b, '}');
	}
	return rc ? rc : sl_buf_addc(b, ']');
}

/* {"record_id":..,"seq":..,"leaf_hash":..,"recorded_at":..,"duplicate":..,
 *  "findings":[..]} */
static int put_result(struct sl_buf *b, struct server *sv,
    struct sl_store_txn *t, const struct sl_store_item *it)
{
	char hex[65];
	char ts[SL_RFC3339_MS_LEN + 1];
	int rc;

	sl_enc_hex(hex, it->leaf, 32);
	sl_rfc3339_format(ts, it->recorded_ms);
	rc = sl_buf_addc(b, '{');
	if (!rc)
		rc = ans_str(b, 1, "record_id", it->record_id);
	if (!rc)
		rc = ans_u64(b, "seq", it->seq);
	if (!rc)
		rc = ans_str(b, 0, "leaf_hash", hex);
	if (!rc)
		rc = ans_str(b, 0, "recorded_at", ts);
	if (!rc)
		rc = ans_key(b, 0, "duplicate");
	if (!rc)
		rc = sl_buf_adds(b, it->duplicate == 1 ? "true" : "false");
	if (!rc)
		rc = ans_key(b, 0, "findings");
	if (!rc)
		rc = put_findings(b, sv, t, it);
	return rc ? rc : sl_buf_addc(b, '}');
}

static void free_data(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/* The 201 of a job: one result, or {"results":[...]} for a batch. */
static void send_results(struct server *sv, struct evhttp_request *req,
    struct sl_store_txn *t, const struct sl_job *j, int batch)
{
	struct sl_buf b;
	struct evbuffer *out;
	size_t i;
	int rc = 0;

	/* at most 64 findings a record, each with its rule's guidance: a
	 * bound that no answer reaches, not an allocation */
	sl_buf_init(&b, j->n * ((size_t)64 * 4096 + 512) + 64);
	if (batch)
		rc = sl_buf_adds(&b, "{\"results\":[");
	for (i = 0; !rc && i < j->n; i++) {
		if (i)
			rc = sl_buf_addc(&b, ',');
		if (!rc)
			rc = put_result(&b, sv, t, &j->items[i]);
	}
	if (!rc && batch)
		rc = sl_buf_adds(&b, "]}");
	if (!rc)
		rc = sl_buf_addc(&b, '\n');
	out = rc ? NULL : evbuffer_new();
	/* the evbuffer takes the bytes as they are (no copy) and frees them
	 * once they are sent */
	if (out && evbuffer_add_reference(out, b.data, b.len, free_data,
	    NULL)) {
		evbuffer_free(out);
		out = NULL;
	}
	if (!out) {
		/* the records are stored; only the answer could not be made */
		sl_buf_free(&b);
		send_error(sv, req, 500, K_STORE, "the records were stored "
		    "but the answer could not be written (out of memory); "
		    "a retry returns it");
		return;
	}
	(void)sl_buf_take(&b, NULL);    /* now the evbuffer's */
	sv->status_count[2]++;
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	send_reply(req, 201, NULL, out);
	evbuffer_free(out);
}

/* The writer finished jobs of this loop: answer them, from its thread. */
static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *lp = arg;
	struct server *sv = lp->sv;
	struct sl_job *j;
	struct sl_store_txn *t = NULL;
	struct sl_err e;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&lp->mu);
	j = lp->done;
	lp->done = NULL;
	lp->done_tail = &lp->done;
	pthread_mutex_unlock(&lp->mu);
	pthread_rwlock_rdlock(&sv->cfg_lock);
	/* one snapshot, taken after the commits, for every answer below */
	if (j && sl_store_read_begin(&t, sv->store, &e))
		t = NULL;
	while (j) {
		struct sl_job *next = j->next;
		struct job *jb = (struct job *)j;
		struct evhttp_request *req = j->owner;

		if (jb->trail && !j->status) {
			send_trail(sv, req, jb);
		} else if (j->status == SL_ECONFLICT) {
			char base[32] = "";

			if (jb->batch)
				snprintf(base, sizeof(base), "/%zu",
				    j->bad_item);
			send_error(sv, req, 409, K_CONFLICT, "field "
			    "%s/record_id: %s", base, j->err.msg);
		} else if (j->status) {
			/* the store's own words (a full disk, an I/O error):
			 * they name no record */
			const char *why = j->err.msg[0] ? j->err.msg :
			    sl_strerror(j->status);

			if (jb->trail)
				send_error(sv, req, 503, K_STORE, "the read "
				    "could not be recorded, so no trail is "
				    "sent; retry later. The store said: %s",
				    why);
			else
				send_error(sv, req, 503, K_STORE, "the store "
				    "could not take the records, nothing was "
				    "stored; retry later. The store said: %s",
				    why);
		} else {
			send_results(sv, req, t, j, jb->batch);
		}
		lp->inflight--;
		job_free(jb);
		j = next;
	}
	sl_store_read_end(t);
	pthread_rwlock_unlock(&sv->cfg_lock);
}

_Static_assert(SL_CONFIG_LOOPS_MAX <= 64, "writer_notify wakes loops by a "
    "64-bit mask");

/* From the writer thread: hand each finished job to the loop that owns
 * its request, and wake that loop (libevent is built with pthreads
 * locking for exactly this). */
static void writer_notify(void *arg)
{
	struct server *sv = arg;
	struct sl_job *j = sl_writer_done(sv->writer);
	uint64_t woken = 0;     /* a bit a loop */
	unsigned i;

	while (j) {
		struct sl_job *next = j->next;
		struct loop *lp = ((struct job *)j)->lp;

		j->next = NULL;
		pthread_mutex_lock(&lp->mu);
		*lp->done_tail = j;
		lp->done_tail = &j->next;
		pthread_mutex_unlock(&lp->mu);
		woken |= UINT64_C(1) << lp->idx;
		j = next;
	}
	for (i = 0; i < sv->nloops; i++)
		if (woken & (UINT64_C(1) << i))
			event_active(sv->loops[i].notify, EV_READ, 0);
}

/* ---- GET endpoints -------------------------------------------------------- */

/*
 * Query parameter @name as a number: its first occurrence, read from the
 * query as sent, plain decimal digits only. Not through evhttp's decoded
 * form: that is a C string, in which "3%00" reads as 3, and a number has
 * no reason to be percent-encoded. Every parameter given must be
 * name=value (an empty one, as in "a=1&&b=2", is skipped).
 */
static int query_u64(struct evhttp_request *req, const char *name,
    uint64_t *out, int required, uint64_t def)
{
	const char *p = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(
	    req));
	const char *v = NULL;
	size_t nl = strlen(name);
	size_t vl = 0;

	*out = def;
	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		const char *eq = memchr(p, '=', len);

		if (len && (!eq || eq == p))
			return -1;
		if (len && !v && (size_t)(eq - p) == nl && !memcmp(p, name, nl)) {
			v = eq + 1;
			vl = len - (size_t)(eq + 1 - p);
		}
		p = amp ? amp + 1 : NULL;
	}
	if (!v)
		return required ? -1 : 0;
	return sl_enc_decimal(out, v, vl) ? -1 : 0;
}

/* A read snapshot for a GET, or a 503 already sent (then NULL). */
static struct sl_store_txn *snapshot(struct server *sv,
    struct evhttp_request *req)
{
	struct sl_store_txn *t = NULL;
	struct sl_err e;

	if (sl_store_read_begin(&t, sv->store, &e)) {
		send_error(sv, req, 503, K_STORE, "the store cannot be read "
		    "now");
		return NULL;
	}
	return t;
}

static void get_checkpoint(struct server *sv, struct evhttp_request *req)
{
	struct sl_store_txn *t = NULL;
	struct sl_err e;
	const char *note;
	size_t n;
	uint64_t size;
	struct evbuffer *b;

	if (sl_store_read_begin(&t, sv->store, &e) ||
	    sl_store_latest_checkpoint(&note, &n, &size, t)) {
		sl_store_read_end(t);
		send_error(sv, req, 503, K_STORE, "no checkpoint can be read "
		    "now");
		return;
	}
	b = evbuffer_new();
	evbuffer_add(b, note, n);
	sl_store_read_end(t);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	sv->status_count[2]++;
	send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static json_t *hexarr(uint8_t (*p)[32], size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++) {
		char hex[65];

		sl_enc_hex(hex, p[i], 32);
		json_array_append_new(a, json_string(hex));
	}
	return a;
}

static void get_proof(struct loop *lp, struct evhttp_request *req,
    int inclusion)
{
	struct server *sv = lp->sv;
	struct sl_store_txn *t = NULL;
	uint8_t path[SL_MERKLE_MAX_PATH][32];
	uint8_t r1[32];
	uint8_t r2[32];
	uint8_t leaf[32];
	char h1[65];
	char h2[65];
	char hl[65];
	uint64_t a;
	uint64_t b;
	uint64_t size;
	size_t np = 0;
	int rc;

	if (inclusion ? query_u64(req, "seq", &a, 1, 0) ||
	    query_u64(req, "size", &b, 1, 0) : query_u64(req, "from", &a, 1, 0) ||
	    query_u64(req, "to", &b, 1, 0)) {
		send_error(sv, req, 400, K_BAD_REQUEST, inclusion ?
		    "give ?seq=N&size=M (decimal)" : "give ?from=N&to=M "
		    "(decimal)");
		return;
	}
	t = snapshot(sv, req);
	if (!t)
		return;
	size = sl_store_txn_size(t);
	if (b > size || (inclusion ? a >= b : a > b) || b == 0) {
		sl_store_read_end(t);
		send_error(sv, req, 400, K_BAD_REQUEST, "the log holds %llu "
		    "entries; %s", (unsigned long long)size, inclusion ?
		    "need seq < size <= that" : "need from <= to <= that");
		return;
	}
	if (inclusion)
		rc = sl_merkle_inclusion(path, &np, lp->hash, sl_store_node, t,
		    a, b);
	else
		rc = sl_merkle_consistency(path, &np, lp->hash, sl_store_node,
		    t, a, b);
	if (!rc)
		rc = sl_merkle_subtree(r2, lp->hash, sl_store_node, t, 0, b);
	if (!rc && inclusion)
		rc = sl_store_node(leaf, t, 0, a);
	if (!rc && !inclusion && a > 0)
		rc = sl_merkle_subtree(r1, lp->hash, sl_store_node, t, 0, a);
	sl_store_read_end(t);
	if (rc) {
		send_error(sv, req, 503, K_STORE, "the proof cannot be built "
		    "now");
		return;
	}
	sl_enc_hex(h2, r2, 32);
	if (inclusion) {
		sl_enc_hex(hl, leaf, 32);
		send_json(sv, req, 200, json_pack("{s:I,s:I,s:s,s:s,s:o}",
		    "seq", (json_int_t)a, "size", (json_int_t)b, "leaf_hash",
		    hl, "root", h2, "path", hexarr(path, np)));
	} else {
		if (a == 0)
			memcpy(r1, sl_hash_empty, 32);
		sl_enc_hex(h1, r1, 32);
		send_json(sv, req, 200, json_pack("{s:I,s:I,s:s,s:s,s:o}",
		    "from", (json_int_t)a, "to", (json_int_t)b, "from_root",
		    h1, "to_root", h2, "path", hexarr(path, np)));
	}
}

static void get_entries(struct server *sv, struct evhttp_request *req)
{
	struct sl_store_txn *t = NULL;
	struct evbuffer *b;
	uint64_t start;
	uint64_t count;
	uint64_t i;

	if (query_u64(req, "start", &start, 0, 0) ||
	    query_u64(req, "count", &count, 0, 100) || count == 0 ||
	    count > 1000) {
		send_error(sv, req, 400, K_BAD_REQUEST, "give ?start=N&count=M "
		    "with 1 <= count <= 1000");
		return;
	}
	t = snapshot(sv, req);
	if (!t)
		return;
	b = evbuffer_new();
	/* past the end: an empty page (start + count may pass 2^64) */
	for (i = start; i - start < count; i++) {
		const uint8_t *p;
		size_t n;

		if (sl_store_get(&p, &n, t, i))
			break;
		evbuffer_add(b, p, n);
		evbuffer_add(b, "\n", 1);
	}
	sl_store_read_end(t);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/jsonl");
	sv->status_count[2]++;
	send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* Requests of every loop waiting for the writer (each loop's own count
 * is exact; the sum is a moment's reading). */
static size_t inflight(const struct server *sv)
{
	size_t n = 0;
	unsigned i;

	for (i = 0; i < sv->nloops; i++)
		n += sv->loops[i].inflight;
	return n;
}

/* 200 "ok"; 503 "draining" while stopping, or "failing" while the store
 * refuses commits (with the store's reason), so that a monitor sees a
 * full disk before the agencies' systems report it. */
static void get_healthz(struct server *sv, struct evhttp_request *req)
{
	struct sl_writer_stats st;
	struct sl_store_txn *t = NULL;
	struct sl_err e;
	uint64_t size = 0;
	json_t *body;

	sl_writer_stats(sv->writer, &st);
	if (!sl_store_read_begin(&t, sv->store, &e))
		size = sl_store_txn_size(t);
	sl_store_read_end(t);
	body = json_pack("{s:s,s:I,s:I}", "status", sv->draining ? "draining" :
	    st.failing ? "failing" : "ok", "entries", (json_int_t)size,
	    "pending", (json_int_t)inflight(sv));
	if (body && st.failing && !sv->draining) {
		uint64_t room = 0;

		json_object_set_new(body, "error", json_string(st.failure.msg));
		if (!sl_store_free_bytes(sv->store, &room))
			json_object_set_new(body, "store_free_bytes",
			    json_integer((json_int_t)room));
	}
	send_json(sv, req, sv->draining || st.failing ? 503 : 200, body);
}

static void get_metrics(struct server *sv, struct evhttp_request *req)
{
	struct sl_writer_stats st;
	struct sl_store_txn *t = NULL;
	struct sl_err e;
	struct evbuffer *b = evbuffer_new();
	uint64_t size = 0;
	uint64_t derived = 0;
	uint64_t cum = 0;
	size_t open = 0;
	uint64_t expired = 0;
	int i;

	sl_writer_stats(sv->writer, &st);
	if (!sl_store_read_begin(&t, sv->store, &e)) {
		size = sl_store_txn_size(t);
		derived = sl_store_txn_derived(t);
	}
	sl_store_read_end(t);
	evbuffer_add_printf(b,
	    "# HELP sharelog_entries Entries in the log.\n"
	    "# TYPE sharelog_entries gauge\nsharelog_entries %llu\n"
	    "# HELP sharelog_appended_total Entries appended since start.\n"
	    "# TYPE sharelog_appended_total counter\n"
	    "sharelog_appended_total %llu\n"
	    "# HELP sharelog_decisions_received_total Records received in "
	    "valid requests.\n# TYPE sharelog_decisions_received_total "
	    "counter\nsharelog_decisions_received_total %llu\n"
	    "# HELP sharelog_commits_total Durable commits (one fsync each).\n"
	    "# TYPE sharelog_commits_total counter\n"
	    "sharelog_commits_total %llu\n"
	    "# HELP sharelog_checkpoints_total Checkpoints signed since start.\n"
	    "# TYPE sharelog_checkpoints_total counter\n"
	    "sharelog_checkpoints_total %llu\n"
	    "# HELP sharelog_checkpoint_failures_total Checkpoints that could "
	    "not be signed or stored (tried again after each commit).\n"
	    "# TYPE sharelog_checkpoint_failures_total counter\n"
	    "sharelog_checkpoint_failures_total %llu\n"
	    "# HELP sharelog_derived_entries Entries the derived tables "
	    "(store/derived: proofs, retries, threads, summaries) cover.\n"
	    "# TYPE sharelog_derived_entries gauge\n"
	    "sharelog_derived_entries %llu\n"
	    "# HELP sharelog_derived_commit_failures_total Commits of the "
	    "derived tables that failed after the log's (caught up by the "
	    "next).\n# TYPE sharelog_derived_commit_failures_total counter\n"
	    "sharelog_derived_commit_failures_total %llu\n"
	    "# HELP sharelog_append_failures_total Commits the store refused "
	    "(a full disk, an I/O error); their requests were answered 503.\n"
	    "# TYPE sharelog_append_failures_total counter\n"
	    "sharelog_append_failures_total %llu\n"
	    "# HELP sharelog_store_failing 1 while the store refuses commits "
	    "(the last one was refused), else 0.\n"
	    "# TYPE sharelog_store_failing gauge\nsharelog_store_failing %d\n",
	    (unsigned long long)size, (unsigned long long)st.entries,
	    (unsigned long long)sv->decisions_received,
	    (unsigned long long)st.commits,
	    (unsigned long long)st.checkpoints,
	    (unsigned long long)st.checkpoint_failures,
	    (unsigned long long)derived,
	    (unsigned long long)st.derived_failures,
	    (unsigned long long)st.append_failures, st.failing);
	{
		char path[4200];
		struct stat fst;
		uint64_t room;

		if (!sl_store_free_bytes(sv->store, &room))
			evbuffer_add_printf(b, "# HELP sharelog_store_free_bytes "
			    "Room left on the store's file system (statvfs, "
			    "as an unprivileged writer sees it).\n# TYPE "
			    "sharelog_store_free_bytes gauge\n"
			    "sharelog_store_free_bytes %llu\n",
			    (unsigned long long)room);

		snprintf(path, sizeof(path), "%s/data.mdb", sv->cfg->store);
		if (!stat(path, &fst))
			evbuffer_add_printf(b, "# HELP sharelog_store_bytes Size "
			    "of the store's data file.\n# TYPE sharelog_store_bytes "
			    "gauge\nsharelog_store_bytes %lld\n",
			    (long long)fst.st_size);
	}
	for (i = 0; i < (int)sv->nloops; i++) {
		open += sl_conns_open(sv->loops[i].conns);
		expired += sl_conns_expired(sv->loops[i].conns);
	}
	evbuffer_add_printf(b, "# HELP sharelog_connections Open client "
	    "connections.\n# TYPE sharelog_connections gauge\n"
	    "sharelog_connections %zu\n# HELP sharelog_connections_expired_total"
	    " Connections shut for missing the request deadline.\n# TYPE "
	    "sharelog_connections_expired_total counter\n"
	    "sharelog_connections_expired_total %llu\n",
	    open, (unsigned long long)expired);
	evbuffer_add_printf(b, "# HELP sharelog_requests_total HTTP answers "
	    "by status class.\n# TYPE sharelog_requests_total counter\n");
	for (i = 1; i < 6; i++)
		evbuffer_add_printf(b, "sharelog_requests_total{code=\"%dxx\"} "
		    "%llu\n", i, (unsigned long long)sv->status_count[i]);
	evbuffer_add_printf(b, "# HELP sharelog_errors_total Refused "
	    "requests by kind.\n# TYPE sharelog_errors_total counter\n");
	for (i = 0; i < K_COUNT; i++)
		evbuffer_add_printf(b, "sharelog_errors_total{kind=\"%s\"} "
		    "%llu\n", kind_name[i], (unsigned long long)sv->errors[i]);
	evbuffer_add_printf(b, "# HELP sharelog_batch_requests Requests "
	    "committed together.\n# TYPE sharelog_batch_requests histogram\n");
	for (i = 0; i < 8; i++) {
		cum += st.batch_hist[i];
		if (i < 7)
			evbuffer_add_printf(b, "sharelog_batch_requests_bucket"
			    "{le=\"%d\"} %llu\n", 1 << (2 * i),
			    (unsigned long long)cum);
	}
	evbuffer_add_printf(b, "sharelog_batch_requests_bucket{le=\"+Inf\"} "
	    "%llu\nsharelog_batch_requests_count %llu\n",
	    (unsigned long long)cum, (unsigned long long)st.commits);
	evbuffer_add_printf(b, "# HELP sharelog_commit_latency_seconds From "
	    "a request's arrival at the writer to its commit on disk.\n"
	    "# TYPE sharelog_commit_latency_seconds histogram\n");
	cum = 0;
	for (i = 0; i < 12; i++) {
		cum += st.latency_hist[i];
		evbuffer_add_printf(b, "sharelog_commit_latency_seconds_bucket"
		    "{le=\"%g\"} %llu\n", sl_writer_le[i],
		    (unsigned long long)cum);
	}
	evbuffer_add_printf(b, "sharelog_commit_latency_seconds_bucket"
	    "{le=\"+Inf\"} %llu\nsharelog_commit_latency_seconds_sum %.6f\n"
	    "sharelog_commit_latency_seconds_count %llu\n",
	    (unsigned long long)cum, st.latency_sum_s,
	    (unsigned long long)cum);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	sv->status_count[2]++;
	send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* ---- routing ------------------------------------------------------------ */

/*
 * A request with two Content-Length fields has no one length: evhttp takes
 * the first, and the rest of the body would be read as the next request
 * on the connection (RFC 9112 section 6.3 makes it an error the server
 * answers with 400 and a closed connection). evhttp itself refuses a
 * length beside Transfer-Encoding, and lengths that are not a number.
 */
static int ambiguous_length(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	struct evkeyval *kv;
	int n = 0;

	for (kv = h->tqh_first; kv; kv = kv->next.tqe_next)
		if (!evutil_ascii_strcasecmp(kv->key, "Content-Length"))
			n++;
	return n > 1;
}

static void route_locked(struct loop *lp, struct evhttp_request *req)
{
	struct server *sv = lp->sv;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(
	    req));
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const struct sl_client *c = caller(sv, req);

	if (!path)
		path = "";
	if (ambiguous_length(req)) {
		/* what follows on this connection cannot be framed */
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		send_error(sv, req, 400, K_BAD_REQUEST, "the request has "
		    "more than one Content-Length header field, so no one "
		    "length (RFC 9112 section 6.3); nothing was stored and "
		    "the connection is closed");
		return;
	}
	if (!strcmp(path, "/v1/decisions")) {
		if (m != EVHTTP_REQ_POST)
			send_error(sv, req, 405, K_BAD_REQUEST, "use POST");
		else if (sv->draining)
			send_error(sv, req, 503, K_STORE, "the service is "
			    "shutting down; nothing was stored, retry "
			    "shortly");
		else
			post_decisions(lp, req, c);
		return;
	}
	if (!strcmp(path, "/v1/trail")) {
		if (m != EVHTTP_REQ_POST)
			send_error(sv, req, 405, K_BAD_REQUEST, "use POST (the "
			    "identifier goes in the body, not the URL)");
		else if (sv->draining)
			send_error(sv, req, 503, K_STORE, "the service is "
			    "shutting down; retry shortly");
		else
			post_trail(lp, req, c);
		return;
	}
	if (m != EVHTTP_REQ_GET) {
		send_error(sv, req, 405, K_BAD_REQUEST, "use GET");
		return;
	}
	if (!strcmp(path, "/v1/healthz")) {
		if (allowed(sv, req, c, ~0u))
			get_healthz(sv, req);
	} else if (!strcmp(path, "/v1/checkpoint")) {
		if (allowed(sv, req, c, SL_ROLE_INSPECTOR | SL_ROLE_ADMIN))
			get_checkpoint(sv, req);
	} else if (!strcmp(path, "/v1/proof/inclusion")) {
		if (allowed(sv, req, c, SL_ROLE_INSPECTOR | SL_ROLE_ADMIN))
			get_proof(lp, req, 1);
	} else if (!strcmp(path, "/v1/proof/consistency")) {
		if (allowed(sv, req, c, SL_ROLE_INSPECTOR | SL_ROLE_ADMIN))
			get_proof(lp, req, 0);
	} else if (!strcmp(path, "/v1/entries")) {
		if (allowed(sv, req, c, SL_ROLE_INSPECTOR | SL_ROLE_ADMIN))
			get_entries(sv, req);
	} else if (!strcmp(path, "/metrics")) {
		if (allowed(sv, req, c, SL_ROLE_INSPECTOR | SL_ROLE_ADMIN))
			get_metrics(sv, req);
	} else {
		send_error(sv, req, 404, K_NOT_FOUND, "no such endpoint (see "
		    "docs/API.md)");
	}
}

static void route(struct evhttp_request *req, void *arg)
{
	struct loop *lp = arg;

	sl_conns_request_read(peer_ssl(req));
	pthread_rwlock_rdlock(&lp->sv->cfg_lock);
	route_locked(lp, req);
	pthread_rwlock_unlock(&lp->sv->cfg_lock);
}

/* ---- TLS per connection ------------------------------------------------- */

static struct bufferevent *bevcb(struct event_base *base, void *arg)
{
	struct loop *lp = arg;
	struct bufferevent *bev;
	SSL *ssl;

	pthread_rwlock_rdlock(&lp->sv->cfg_lock);
	ssl = SSL_new(lp->sv->ctx);   /* holds its own reference to ctx */
	pthread_rwlock_unlock(&lp->sv->cfg_lock);

	/* Returning NULL makes evhttp fall back to plain TCP: the client's
	 * TLS hello is then not HTTP (400), and no route answers a caller
	 * without a certificate. Only when memory runs out. */
	if (!ssl)
		return NULL;
	/* not BEV_OPT_THREADSAFE: only the loop thread touches it (the
	 * writer wakes the loop with event_active) */
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev)
		return NULL;
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	if (sl_conns_track(lp->conns, bev, ssl)) {
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}

/* ---- connections ----------------------------------------------------- */

/* Every connection is a descriptor: make room for max_connections plus
 * the store's and the process's own, or lower the cap to what fits. */
static void fit_open_files(struct sl_config *cfg)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)cfg->max_connections + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ?
		    want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want) {
		unsigned fit = rl.rlim_cur > 128 ? (unsigned)rl.rlim_cur - 64 :
		    64;

		fprintf(stderr, "sharelogd: the open-file limit (%llu) allows "
		    "%u connections, not max_connections %u\n",
		    (unsigned long long)rl.rlim_cur, fit, cfg->max_connections);
		cfg->max_connections = fit;
	}
}

/* ---- loops ------------------------------------------------------------- */

/* Loop @i's part of max_connections: the parts add up to it exactly, so
 * the cap holds for the service as a whole (a loop with no part never
 * accepts). */
static unsigned conn_share(unsigned max, unsigned nloops, unsigned i)
{
	return max / nloops + (i < max % nloops);
}

static void drain_check(evutil_socket_t fd, short what, void *arg)
{
	struct loop *lp = arg;

	(void)fd;
	(void)what;
	if (lp->inflight == 0)
		event_base_loopexit(lp->base, NULL);
}

/* From loop 0 after a reload or a stop signal, run in each loop's own
 * thread: its connections and its listener are touched by it alone. */
static void ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *lp = arg;
	struct server *sv = lp->sv;

	(void)fd;
	(void)what;
	pthread_rwlock_rdlock(&sv->cfg_lock);
	sl_conns_set_limits(lp->conns, conn_share(sv->cfg->max_connections,
	    sv->nloops, lp->idx), sv->cfg->request_deadline_s);
	pthread_rwlock_unlock(&sv->cfg_lock);
	if (!sv->draining || lp->drain)
		return;
	if (lp->sock) {
		sl_conns_set_listener(lp->conns, NULL);
		evhttp_del_accept_socket(lp->http, lp->sock);
		lp->sock = NULL;
	}
	lp->drain = event_new(lp->base, -1, EV_PERSIST, drain_check, lp);
	if (lp->drain)
		event_add(lp->drain, &(struct timeval){ 0, 20000 });
	else
		event_base_loopexit(lp->base, NULL);
}

static void tell_loops(struct server *sv)
{
	unsigned i;

	for (i = 0; i < sv->nloops; i++)
		event_active(sv->loops[i].ctl, EV_READ, 0);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct server *sv = arg;
	struct sl_config *nc = NULL;
	SSL_CTX *nctx = NULL;
	struct sl_policy *np = NULL;
	struct sl_err e = { 0, "" };

	(void)what;
	if (sig == SIGHUP) {
		/* New connections use the new client table, CA and CRL; open
		 * ones keep the context they were accepted with. Loaded
		 * first, swapped between two requests. */
		if (sl_config_load(&nc, sv->cfg_path, &e) ||
		    sl_tls_server_ctx(&nctx, nc, &e) ||
		    sl_policy_load(&np, nc->policy[0] ? nc->policy : NULL,
		    &e)) {
			fprintf(stderr, "sharelogd: reload refused, keeping the "
			    "running configuration: %s\n", e.msg);
			if (nctx)
				SSL_CTX_free(nctx);
			sl_config_free(nc);
			return;
		}
		fit_open_files(nc);
		pthread_rwlock_wrlock(&sv->cfg_lock);
		sl_policy_free(sv->policy);
		sv->policy = np;
		sv->policy_kid_ok = !sl_comp_keeper_id(sv->policy_kid, np);
		SSL_CTX_free(sv->ctx);
		sv->ctx = nctx;
		sl_config_free(sv->cfg);
		sv->cfg = nc;
		pthread_rwlock_unlock(&sv->cfg_lock);
		tell_loops(sv);
		fprintf(stderr, "sharelogd: configuration reloaded (%zu "
		    "clients)\n", nc->nclients);
		return;
	}
	if (sv->draining)
		return;
	sv->draining = 1;
	fprintf(stderr, "sharelogd: stopping: no new connections, finishing "
	    "%zu request(s)\n", inflight(sv));
	tell_loops(sv);
}

/* A base whose epoll interest changes are sent once per loop turn: a
 * request turns a connection's write interest on and off again within
 * one turn, and without the changelist each is its own epoll_ctl. No
 * descriptor is dup'd here, the case the libevent manual warns of. */
static struct event_base *new_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *b;

	if (!cfg)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	b = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return b;
}

/* Loop @lp on the listening socket @fd (its own descriptor: evhttp closes
 * it with the loop). */
static int loop_init(struct loop *lp, struct server *sv, unsigned idx,
    evutil_socket_t fd, struct sl_err *e)
{
	int rc;

	lp->sv = sv;
	lp->idx = idx;
	lp->done_tail = &lp->done;
	lp->turn_tail = &lp->turn;
	pthread_mutex_init(&lp->mu, NULL);
	lp->base = new_base();
	lp->http = lp->base ? evhttp_new(lp->base) : NULL;
	lp->notify = lp->base ? event_new(lp->base, -1, 0, done_cb, lp) : NULL;
	lp->ctl = lp->base ? event_new(lp->base, -1, 0, ctl_cb, lp) : NULL;
	lp->flush = lp->base ? event_new(lp->base, -1, 0, flush_cb, lp) : NULL;
	if (!lp->http || !lp->notify || !lp->ctl || !lp->flush ||
	    sl_hash_new(&lp->hash)) {
		rc = sl_err_set(e, SL_ENOMEM, "cannot set up event loop %u: "
		    "out of memory", idx);
		goto fail;
	}
	rc = sl_conns_new(&lp->conns, lp->base, conn_share(
	    sv->cfg->max_connections, sv->nloops, idx),
	    sv->cfg->request_deadline_s, e);
	if (rc)
		goto fail;
	evhttp_set_bevcb(lp->http, bevcb, lp);
	evhttp_set_gencb(lp->http, route, lp);
	/* Hard limits for what a client can make the service hold. */
	evhttp_set_max_headers_size(lp->http, 8192);
	evhttp_set_max_body_size(lp->http, (ev_ssize_t)sv->cfg->max_body + 1);
	/* A body over the limit is read to its end and thrown away before
	 * the 413 (within the request deadline): closing while the client
	 * still sends made its TCP stack reset the connection, and on a slow
	 * machine the client lost the answer. */
	evhttp_set_flags(lp->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_timeout(lp->http, (int)sv->cfg->read_timeout_s);
	evhttp_set_allowed_methods(lp->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	lp->sock = evhttp_accept_socket_with_handle(lp->http, fd);
	if (!lp->sock) {
		rc = sl_err_set(e, SL_ENOMEM, "cannot set up event loop %u: "
		    "out of memory for its listener", idx);
		goto fail;
	}
	sl_conns_set_listener(lp->conns, evhttp_bound_socket_get_listener(
	    lp->sock));
	return 0;
fail:
	evutil_closesocket(fd);
	return rc;
}

static void loop_free(struct loop *lp)
{
	struct sl_job *j = lp->done;

	/* finished after the loop stopped (see sl_server_run) */
	while (j) {
		struct sl_job *n = j->next;

		job_free((struct job *)j);
		j = n;
	}
	if (lp->drain)
		event_free(lp->drain);
	if (lp->notify)
		event_free(lp->notify);
	if (lp->ctl)
		event_free(lp->ctl);
	if (lp->flush)
		event_free(lp->flush);
	if (lp->http)
		evhttp_free(lp->http);
	sl_conns_free(lp->conns);
	if (lp->base)
		event_base_free(lp->base);
	sl_hash_free(lp->hash);
	free(lp->taken);
	free(lp->body);
	if (lp->sv)
		pthread_mutex_destroy(&lp->mu);
}

static void *loop_main(void *arg)
{
	struct loop *lp = arg;

	event_base_dispatch(lp->base);
	return NULL;
}

/* The listening socket: bound here, not by evhttp, so that each loop can
 * take a descriptor of its own for it. */
static int listen_on(evutil_socket_t *out, const struct sl_config *cfg,
    struct sl_err *e)
{
	struct evutil_addrinfo hints, *ai = NULL;
	char port[8];
	evutil_socket_t fd = -1;
	int one = 1;
	int err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", (unsigned)cfg->listen_port);
	if (evutil_getaddrinfo(cfg->listen_host, port, &hints, &ai) || !ai)
		return sl_err_set(e, SL_EIO, "cannot listen on %s:%u: unknown "
		    "address", cfg->listen_host, (unsigned)cfg->listen_port);
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && (evutil_make_socket_nonblocking(fd) ||
	    evutil_make_socket_closeonexec(fd) ||
	    evutil_make_listen_socket_reuseable(fd) ||
	    /* evhttp writes an answer's head and body separately; without
	     * this, Nagle and the client's delayed ACK add ~40 ms to each
	     * answer. Accepted sockets inherit it from the listener. */
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, (socklen_t)ai->ai_addrlen) ||
	    listen(fd, 1024))) {
		err = errno;
		evutil_closesocket(fd);
		fd = -1;
	} else if (fd < 0) {
		err = errno;
	}
	evutil_freeaddrinfo(ai);
	if (fd < 0)
		return sl_err_set(e, SL_EIO, "cannot listen on %s:%u: %s",
		    cfg->listen_host, (unsigned)cfg->listen_port,
		    strerror(err));
	*out = fd;
	return 0;
}

/*
 * event_loops: 0 leaves one processor to the writer, whose commit cycle
 * is what every answer waits for (on 2 cores, a second loop took its
 * processor and lowered one-per-request throughput by a fifth); never
 * more loops than connections, so that each loop has a part of the cap.
 */
static unsigned loops_wanted(const struct sl_config *cfg)
{
	long n = cfg->event_loops;

	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	if (n < 1)
		n = 1;
	if (n > SL_CONFIG_LOOPS_MAX)
		n = SL_CONFIG_LOOPS_MAX;
	if ((unsigned long)n > cfg->max_connections)
		n = (long)cfg->max_connections;
	return (unsigned)n;
}

/* ---- run ---------------------------------------------------------------- */

int sl_server_run(const char *config, struct sl_err *e)
{
	struct server *sv = calloc(1, sizeof(*sv));
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	struct sl_job *left = NULL;
	evutil_socket_t lfd = -1;
	int rc;
	unsigned i;

	if (!sv)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	{
		pthread_rwlockattr_t a;

		pthread_rwlockattr_init(&a);
		pthread_rwlockattr_setkind_np(&a,
		    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&sv->cfg_lock, &a);
		pthread_rwlockattr_destroy(&a);
	}
	snprintf(sv->cfg_path, sizeof(sv->cfg_path), "%s", config);
	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit (systemd's LimitFSIZE=, ulimit -f) reached by
	 * the store is a full disk: the write fails, the commit is refused
	 * (503) and said so, where SIGXFSZ would have ended the service. */
	signal(SIGXFSZ, SIG_IGN);
	rc = sl_config_load(&sv->cfg, config, e);
	if (!rc) {
		fit_open_files(sv->cfg);
		rc = sl_tls_server_ctx(&sv->ctx, sv->cfg, e);
	}
	if (!rc)
		rc = sl_store_open(&sv->store, sv->cfg->store, 0, e);
	if (!rc)
		rc = sl_keys_open(&sv->keys, sv->cfg->keys,
		    sl_store_origin(sv->store), e);
	if (!rc)
		rc = sl_policy_load(&sv->policy, sv->cfg->policy[0] ?
		    sv->cfg->policy : NULL, e);
	if (!rc)
		sv->policy_kid_ok = !sl_comp_keeper_id(sv->policy_kid,
		    sv->policy);
	if (!rc)
		rc = listen_on(&lfd, sv->cfg, e);
	if (rc)
		goto out;
	evthread_use_pthreads();
	sv->nloops = loops_wanted(sv->cfg);
	sv->loops = calloc(sv->nloops, sizeof(*sv->loops));
	if (!sv->loops) {
		rc = sl_err_set(e, SL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; !rc && i < sv->nloops; i++) {
		evutil_socket_t fd = i + 1 < sv->nloops ? dup(lfd) : lfd;

		if (i + 1 == sv->nloops)
			lfd = -1;      /* the last loop owns the original */
		rc = fd < 0 ? sl_err_set(e, SL_EIO, "cannot share the listening "
		    "socket") : loop_init(&sv->loops[i], sv, i, fd, e);
	}
	if (rc)
		goto out;
	rc = sl_writer_start(&sv->writer, sv->store, sv->keys->signer,
	    sv->cfg->checkpoint_every_entries, sv->cfg->checkpoint_every_ms,
	    writer_notify, sv, e);
	if (rc)
		goto out;
	for (i = 0; i < 3; i++) {
		sv->sig[i] = evsignal_new(sv->loops[0].base, sigs[i], on_signal,
		    sv);
		event_add(sv->sig[i], NULL);
	}
	for (i = 1; i < sv->nloops; i++) {
		struct loop *lp = &sv->loops[i];

		lp->started = !pthread_create(&lp->thread, NULL, loop_main, lp);
		if (!lp->started) {
			rc = sl_err_set(e, SL_EIO, "cannot start event loop %u",
			    i);
			sv->draining = 1;
			tell_loops(sv);
			break;
		}
	}
	if (!rc)
		fprintf(stderr, "sharelogd: listening on %s:%u (log %s, %llu "
		    "entries, %u event loop%s)\n", sv->cfg->listen_host,
		    (unsigned)sv->cfg->listen_port, sl_store_origin(sv->store),
		    (unsigned long long)sl_store_size(sv->store), sv->nloops,
		    sv->nloops == 1 ? "" : "s");
	if (!rc)
		event_base_dispatch(sv->loops[0].base);
out:
	for (i = 1; sv->loops && i < sv->nloops; i++)
		if (sv->loops[i].started)
			pthread_join(sv->loops[i].thread, NULL);
	if (sv->writer) {
		/* Everything queued is committed and a final checkpoint
		 * signed. Jobs finished after the loops stopped are on disk,
		 * but their clients are gone; a retry gets the same answer. */
		sl_writer_stop(sv->writer, &left, e);
		while (left) {
			struct sl_job *n = left->next;

			job_free((struct job *)left);
			left = n;
		}
		if (!rc)
			fprintf(stderr, "sharelogd: stopped cleanly; log holds "
			    "%llu entries\n", (unsigned long long)sl_store_size(
			    sv->store));
	}
	for (i = 0; i < 3; i++)
		if (sv->sig[i])
			event_free(sv->sig[i]);
	for (i = 0; sv->loops && i < sv->nloops; i++)
		loop_free(&sv->loops[i]);
	free(sv->loops);
	if (lfd >= 0)
		evutil_closesocket(lfd);
	sl_policy_free(sv->policy);
	sl_keys_close(sv->keys);
	sl_store_close(sv->store);
	if (sv->ctx)
		SSL_CTX_free(sv->ctx);
	sl_config_free(sv->cfg);
	pthread_rwlock_destroy(&sv->cfg_lock);
	free(sv);
	return rc;
}
