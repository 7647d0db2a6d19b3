#include "auditd/writer.h"
#include "auditd/seal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const double sl_writer_le[12] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	5
};

struct sl_writer {
	struct sl_store *s;
	struct sl_signer *signer;
	uint64_t cp_entries;
	unsigned cp_ms;
	void (*notify)(void *);
	void *ctx;
	pthread_t thread;
	pthread_t indexer;
	int has_indexer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_cond_t ixcv;        /* wakes the indexer to stop */
	struct sl_job *queue;       /* newest first */
	struct sl_job *finished;
	size_t pending;
	int stop;
	uint64_t cp_size;           /* size of the last checkpoint signed */
	int64_t cp_at_ms;
	/* when each repeating failure was last logged (say_due), 0 when not
	 * since it last ended */
	int64_t dfail_said_ms;      /* derived tables' commits */
	int64_t afail_said_ms;      /* refused commits */
	int64_t cfail_said_ms;      /* checkpoints */
	struct sl_writer_stats st;
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * 1 when a failure that repeats is to be logged now: when it starts
 * (*said_ms 0: not said since it last ended) or a minute after it was
 * last said; *said_ms is then @now_ms. A full disk fails every commit.
 */
static int say_due(int64_t *said_ms, int64_t now_ms)
{
	if (*said_ms && now_ms - *said_ms < 60000)
		return 0;
	*said_ms = now_ms;
	return 1;
}

/* A pthread_cond_timedwait deadline @ms from now. */
static void deadline_in(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* The items of a list of jobs, one after the other, skipping failed. */
struct jsrc {
	struct sl_job *first;
	struct sl_job *j;
	size_t i;
};

static int jsrc_next(void *ctx, struct sl_store_item **it, struct sl_err *e)
{
	struct jsrc *x = ctx;

	(void)e;
	while (x->j && (x->j->status || x->i >= x->j->n)) {
		x->j = x->j->next;
		x->i = 0;
	}
	if (!x->j)
		return 0;
	*it = &x->j->items[x->i++];
	return 1;
}

static int jsrc_rewind(void *ctx, struct sl_err *e)
{
	struct jsrc *x = ctx;

	(void)e;
	x->j = x->first;
	x->i = 0;
	return 0;
}

static void bucket(uint64_t *h, size_t nb, uint64_t v)
{
	size_t i = 0;
	uint64_t top = 1;

	while (i + 1 < nb && v > top) {
		top *= 4;
		i++;
	}
	h[i]++;
}

/* Append every job of the list in one transaction; mark each. */
static void commit(struct sl_writer *w, struct sl_job *list)
{
	struct jsrc src = { list, list, 0 };
	struct sl_store_source ss = { jsrc_next, jsrc_rewind, &src };
	struct sl_err e;
	struct sl_job *j;
	size_t njobs = 0;
	uint64_t before = sl_store_size(w->s);
	int64_t t;
	int tries;
	uint64_t df;
	const char *why;
	int refused = 0;            /* the store failed, not a conflict */
	struct sl_err failure = { 0, "" };
	char said[SL_ERR_MAX + 160] = "";

	for (j = list; j; j = j->next) {
		j->status = 0;
		njobs++;
	}
	/* A conflicting job is answered on its own and the rest retried:
	 * each retry removes one job, so this ends. */
	for (tries = 0; tries <= (int)njobs; tries++) {
		uint64_t count;
		int rc;

		jsrc_rewind(&src, &e);
		rc = sl_store_append_from(w->s, &ss, &count, &e);
		if (!rc)
			break;
		if (rc == SL_ECONFLICT) {
			for (j = list; j; j = j->next) {
				size_t i;

				for (i = 0; !j->status && i < j->n; i++)
					if (j->items[i].duplicate == -1) {
						j->status = rc;
						j->err = e;
						j->bad_item = i;
					}
			}
			continue;
		}
		/* The store failed: nothing of this batch was stored, and no
		 * one is told otherwise. */
		for (j = list; j; j = j->next)
			if (!j->status) {
				j->status = rc;
				j->err = e;
			}
		refused = 1;
		failure = e;
		break;
	}
	t = now_us();
	df = sl_store_derived_failures(w->s, &why);
	/* the records are stored; only what is derived from them lags. At
	 * most one line a minute: a full disk fails every commit. */
	if (df != w->st.derived_failures && say_due(&w->dfail_said_ms,
	    t / 1000))
		fprintf(stderr, "sharelogd: the derived tables (store/derived) "
		    "could not be committed after the log (%llu time(s) since "
		    "start): %s; the next commit derives them again\n",
		    (unsigned long long)df, why ? why : "unknown error");
	pthread_mutex_lock(&w->mu);
	/* A refused commit (most often a full disk) is answered 503 to its
	 * clients; the operator hears of it here, when it starts, at most
	 * once a minute while it lasts, and when the store takes records
	 * again. The store's own message names no record. */
	if (refused) {
		w->st.append_failures++;
		if (say_due(&w->afail_said_ms, t / 1000))
			snprintf(said, sizeof(said), "sharelogd: the store "
			    "refused a commit (%llu time(s) since start), its "
			    "requests are answered 503 and nothing of them is "
			    "stored: %s\n",
			    (unsigned long long)w->st.append_failures,
			    failure.msg);
		w->st.failing = 1;
		w->st.failure = failure;
	} else if (w->st.failing) {
		snprintf(said, sizeof(said), "sharelogd: the store takes "
		    "records again (%llu refused commit(s) since start)\n",
		    (unsigned long long)w->st.append_failures);
		w->st.failing = 0;
		w->afail_said_ms = 0;
		sl_err_clear(&w->st.failure);
	}
	if (sl_store_sealed_size(w->s) > w->cp_size) {
		/* signed inside the commit: no transaction of its own */
		w->cp_size = sl_store_sealed_size(w->s);
		w->cp_at_ms = t / 1000;
		w->st.checkpoints++;
	}
	w->st.derived_failures = df;
	/* a refused commit is no commit, and its jobs had no latency to
	 * disk: only the counter above and the 503s tell of it */
	for (j = refused ? NULL : list; j; j = j->next) {
		double s = (double)(t - j->enqueued_us) / 1e6;
		size_t b = 0;

		while (b + 1 < 12 && s > sl_writer_le[b])
			b++;
		w->st.latency_hist[b]++;
		w->st.latency_sum_s += s;
	}
	if (!refused) {
		w->st.commits++;
		w->st.entries += sl_store_size(w->s) - before;
		bucket(w->st.batch_hist, 8, njobs);
	}
	pthread_mutex_unlock(&w->mu);
	if (said[0])
		fputs(said, stderr);
}

static int64_t now_ms(void)
{
	return now_us() / 1000;
}

static void maybe_checkpoint(struct sl_writer *w, int force)
{
	uint64_t size = sl_store_size(w->s);
	struct sl_err e;
	uint64_t signed_size;

	if (size == w->cp_size)
		return;
	if (!force && size - w->cp_size < w->cp_entries &&
	    now_ms() - w->cp_at_ms < (int64_t)w->cp_ms)
		return;
	if (sl_seal_checkpoint(&signed_size, w->s, w->signer, &e)) {
		uint64_t nf;

		/* tried again after each commit and every 200 ms when idle:
		 * said when it starts and at most once a minute after */
		pthread_mutex_lock(&w->mu);
		nf = ++w->st.checkpoint_failures;
		pthread_mutex_unlock(&w->mu);
		if (say_due(&w->cfail_said_ms, now_ms()))
			fprintf(stderr, "sharelogd: cannot sign a checkpoint "
			    "(%llu time(s) since start; tried again after "
			    "each commit): %s\n", (unsigned long long)nf,
			    e.msg);
		return;
	}
	if (w->cfail_said_ms) {
		fprintf(stderr, "sharelogd: checkpoints are signed again "
		    "(size %llu)\n", (unsigned long long)signed_size);
		w->cfail_said_ms = 0;
	}
	w->cp_size = signed_size;
	w->cp_at_ms = now_ms();
	pthread_mutex_lock(&w->mu);
	w->st.checkpoints++;
	pthread_mutex_unlock(&w->mu);
}

static void *run(void *arg)
{
	struct sl_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		struct sl_job *batch = NULL;
		struct sl_job *j;
		struct sl_job *tail;

		while (!w->queue && !w->stop) {
			struct timespec ts;

			deadline_in(&ts, 200);
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
			if (!w->queue) {
				pthread_mutex_unlock(&w->mu);
				maybe_checkpoint(w, 0);
				pthread_mutex_lock(&w->mu);
			}
		}
		if (!w->queue && w->stop)
			break;
		/* Everything that arrived meanwhile, oldest first. */
		while (w->queue) {
			j = w->queue;
			w->queue = j->next;
			j->next = batch;
			batch = j;
		}
		pthread_mutex_unlock(&w->mu);
		commit(w, batch);
		maybe_checkpoint(w, 0);
		pthread_mutex_lock(&w->mu);
		for (tail = batch; tail->next; tail = tail->next)
			w->pending--;
		w->pending--;
		tail->next = w->finished;
		w->finished = batch;
		pthread_mutex_unlock(&w->mu);
		w->notify(w->ctx);
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	maybe_checkpoint(w, 1);
	return NULL;
}

/*
 * How often the indexer brings the store's child and case indexes up to
 * date. They are off the commit path (formats/store.h): the longer the
 * interval, the more new entries share each of the indexes' pages in one
 * run, and the longer the tail that a trail read scans in refs (about
 * 50 bytes an entry, well under a millisecond per 10,000).
 */
#define INDEX_EVERY_MS 2000

static void *run_index(void *arg)
{
	struct sl_writer *w = arg;
	int failing = 0;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		struct timespec ts;
		struct sl_err e;
		uint64_t left = 0;
		int rc;

		deadline_in(&ts, INDEX_EVERY_MS);
		pthread_cond_timedwait(&w->ixcv, &w->mu, &ts);
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->mu);
		do
			rc = sl_store_index(w->s, 0, &left, &e);
		while (!rc && left);
		/* Lookups stay right without it (they scan what is not
		 * indexed): say so once, not every interval. */
		if (rc && !failing)
			fprintf(stderr, "sharelogd: cannot index the store; "
			    "trails read the entries not yet indexed: %s\n",
			    e.msg);
		failing = rc != 0;
		pthread_mutex_lock(&w->mu);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int sl_writer_start(struct sl_writer **out, struct sl_store *s,
    struct sl_signer *signer, uint64_t cp_entries, unsigned cp_ms,
    void (*done)(void *ctx), void *ctx, struct sl_err *e)
{
	struct sl_writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	w->s = s;
	w->signer = signer;
	w->cp_entries = cp_entries;
	w->cp_ms = cp_ms;
	w->notify = done;
	w->ctx = ctx;
	w->cp_size = 0;
	w->cp_at_ms = now_ms();
	/* the entry-count rule signs inside the commits; maybe_checkpoint()
	 * keeps the time rule, shutdown, and any signature that failed */
	if (signer)
		sl_store_set_sealer(s, signer, cp_entries);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_cond_init(&w->ixcv, NULL);
	if (pthread_create(&w->thread, NULL, run, w)) {
		sl_store_set_sealer(s, NULL, 0);
		free(w);
		return sl_err_set(e, SL_EIO, "cannot start the writer thread");
	}
	/* Without it the service still answers right, trails more slowly:
	 * sl_store_close() indexes what is left. */
	w->has_indexer = !pthread_create(&w->indexer, NULL, run_index, w);
	if (!w->has_indexer)
		fprintf(stderr, "sharelogd: cannot start the indexer thread; "
		    "the store is indexed when the service stops\n");
	*out = w;
	return 0;
}

void sl_writer_submit(struct sl_writer *w, struct sl_job *list)
{
	int64_t t = now_us();
	struct sl_job *j;

	for (j = list; j; j = j->next)
		j->enqueued_us = t;
	pthread_mutex_lock(&w->mu);
	/* the queue is newest first: push the list's jobs in their order */
	while (list) {
		j = list;
		list = j->next;
		j->next = w->queue;
		w->queue = j;
		w->pending++;
	}
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

struct sl_job *sl_writer_done(struct sl_writer *w)
{
	struct sl_job *f;

	pthread_mutex_lock(&w->mu);
	f = w->finished;
	w->finished = NULL;
	pthread_mutex_unlock(&w->mu);
	return f;
}

size_t sl_writer_pending(struct sl_writer *w)
{
	size_t n;

	pthread_mutex_lock(&w->mu);
	n = w->pending;
	pthread_mutex_unlock(&w->mu);
	return n;
}

void sl_writer_stats(struct sl_writer *w, struct sl_writer_stats *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->st;
	pthread_mutex_unlock(&w->mu);
}

int sl_writer_stop(struct sl_writer *w, struct sl_job **left,
    struct sl_err *e)
{
	(void)e;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_cond_signal(&w->ixcv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	if (w->has_indexer)
		pthread_join(w->indexer, NULL);
	sl_store_set_sealer(w->s, NULL, 0);
	*left = w->finished;
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	pthread_cond_destroy(&w->ixcv);
	free(w);
	return 0;
}
