#include "verify/summaries.h"
#include "formats/entry.h"
#include "formats/record.h"
#include "formats/summary.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_WORKERS 16

struct worker {
	struct sl_store *s;
	uint64_t from;            /* entries [from, to) */
	uint64_t to;
	uint64_t next;            /* the seq expected next */
	uint64_t bad;             /* first mismatch, UINT64_MAX none */
	int rc;
	int started;
	struct sl_store_txn *t;
	struct sl_hash *h;
	struct sl_record_view v;
	struct sl_err e;
	pthread_t tid;
};

static int one(void *ctx, uint64_t seq, const uint8_t *p, size_t n)
{
	struct worker *w = ctx;
	const uint8_t *ep;
	size_t en;
	struct sl_entry_view ev;
	struct sl_summary sum;
	uint8_t want[SL_SUMMARY_LEN];

	if (seq >= w->to)
		return 1;
	/* a summary missing before this one */
	if (seq != w->next || n != SL_SUMMARY_LEN ||
	    sl_store_get(&ep, &en, w->t, seq) || sl_entry_peek(&ev, ep, en)) {
		w->bad = seq != w->next ? w->next : seq;
		return 1;
	}
	sl_summary_of_record(&sum, &w->v, ev.record, ev.record_len, ev.type,
	    ev.recorded_ms, w->h);
	sl_summary_encode(want, &sum);
	if (memcmp(want, p, SL_SUMMARY_LEN)) {
		w->bad = seq;
		return 1;
	}
	w->next++;
	return 0;
}

static void *run(void *arg)
{
	struct worker *w = arg;

	w->rc = sl_hash_new(&w->h);
	if (w->rc) {
		sl_err_set(&w->e, w->rc, "cannot set up SHA-256");
		return NULL;
	}
	w->rc = sl_store_read_begin(&w->t, w->s, &w->e);
	if (w->rc)
		return NULL;
	w->rc = sl_store_summaries(w->t, w->from, one, w);
	if (w->rc == 1)
		w->rc = 0;
	else if (w->rc)
		sl_err_set(&w->e, w->rc, "cannot read the store's summaries");
	/* the table ended before the range did */
	if (!w->rc && w->bad == UINT64_MAX && w->next < w->to)
		w->bad = w->next;
	sl_store_read_end(w->t);
	sl_hash_free(w->h);
	return NULL;
}

int sl_verify_summaries(struct sl_store *s, uint64_t upto, int threads,
    uint64_t *bad, struct sl_err *e)
{
	struct worker *w;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n;
	int i;
	int rc = 0;

	*bad = UINT64_MAX;
	if (!sl_store_has_summaries(s))
		return SL_ENOTFOUND;
	n = threads > 0 ? threads : (ncpu > 0 ? (int)ncpu : 1);
	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	if ((uint64_t)n > upto)
		n = upto ? (int)upto : 1;
	w = calloc((size_t)n, sizeof(*w));
	if (!w)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		w[i].s = s;
		w[i].from = upto * (uint64_t)i / (uint64_t)n;
		w[i].to = upto * (uint64_t)(i + 1) / (uint64_t)n;
		w[i].next = w[i].from;
		w[i].bad = UINT64_MAX;
		/* the caller runs the last range itself, and any whose
		 * thread cannot start */
		w[i].started = i + 1 < n &&
		    !pthread_create(&w[i].tid, NULL, run, &w[i]);
	}
	run(&w[n - 1]);
	for (i = 0; i + 1 < n; i++) {
		if (w[i].started)
			pthread_join(w[i].tid, NULL);
		else
			run(&w[i]);
	}
	for (i = 0; i < n; i++) {
		if (w[i].rc && !rc)
			rc = sl_err_set(e, w[i].rc, "%s", w[i].e.msg);
		if (w[i].bad < *bad)
			*bad = w[i].bad;
	}
	free(w);
	if (rc)
		return rc;
	return *bad == UINT64_MAX ? 0 : SL_EINTEGRITY;
}
