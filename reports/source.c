#include "reports/source.h"
#include "formats/bundle.h"
#include "formats/checkpoint.h"
#include "formats/entry.h"
#include "formats/mem.h"
#include "formats/note.h"
#include "formats/record.h"
#include "formats/store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_WORKERS 16

struct priv {
	struct sl_store *store;
	int borrowed;              /* the caller's open store: not closed */
	struct sl_store_txn *txn;
	int lookups;               /* store: its derived tables (lookups,
				      Merkle nodes) cover the checkpoint;
				      else they are worked out from the
				      entries, as for a bundle */
	const uint8_t *map;        /* bundle: entries.jsonl, mapped */
	size_t maplen;
	uint64_t *off;             /* bundle: where each entry starts */
	uint8_t (*lv[64])[SL_HASH_LEN]; /* bundle: nodes, level by level */
	uint64_t lvn[64];
	int nlv;
};

int sl_rsource_entry(struct sl_rsource *s, uint64_t seq, const uint8_t **p,
    size_t *n)
{
	struct priv *v = s->priv;

	if (seq >= s->size)
		return SL_ENOTFOUND;
	if (v->txn)
		return sl_store_get(p, n, v->txn, seq);
	*p = v->map + v->off[seq];
	*n = (size_t)(v->off[seq + 1] - v->off[seq] - 1);
	return 0;
}

/* ---- the checkpoint ------------------------------------------------ */

struct cpfind {
	uint64_t at;
	char *note;
	size_t n;
};

static int cp_cb(void *ctx, uint64_t size, const char *note, size_t n)
{
	struct cpfind *f = ctx;

	if (size != f->at)
		return 0;
	f->note = malloc(n + 1);
	if (!f->note)
		return SL_ENOMEM;
	memcpy(f->note, note, n);
	f->note[n] = '\0';
	f->n = n;
	return 1;
}

static uint64_t note_size(const char *note, size_t n)
{
	struct sl_note_verdict nv;
	struct sl_checkpoint c;

	sl_note_open(&nv, note, n, NULL, 0, NULL);
	if (sl_checkpoint_parse(&c, note, nv.text_len, NULL))
		return 0;
	return c.size;
}

static int load_note(struct sl_rsource *s, const char *path, uint64_t at,
    struct sl_err *e)
{
	struct priv *v = s->priv;
	struct sl_note_verdict nv;
	struct sl_checkpoint c;
	char p[4200];
	int rc;

	e->msg[0] = '\0';
	if (v->txn) {
		const char *note;
		size_t n;
		uint64_t size;
		struct cpfind f = { at, NULL, 0 };

		if (at == 0) {
			rc = sl_store_latest_checkpoint(&note, &n, &size,
			    v->txn);
			if (!rc) {
				f.at = size;
				rc = cp_cb(&f, size, note, n);
				rc = rc == 1 ? 0 : rc;
			}
		} else {
			rc = sl_store_checkpoints(v->txn, cp_cb, &f);
			if (rc == 1)
				rc = 0;
			else if (!rc)
				rc = SL_ENOTFOUND;
		}
		s->note = f.note;
		s->note_len = f.n;
	} else {
		snprintf(p, sizeof(p), "%s/checkpoint", path);
		rc = sl_bundle_slurp(&s->note, &s->note_len, p, 1 << 20, e);
		/* the newest, unless another size was asked for */
		if (!rc && at && note_size(s->note, s->note_len) != at) {
			free(s->note);
			s->note = NULL;
			snprintf(p, sizeof(p), "%s/checkpoints/%llu", path,
			    (unsigned long long)at);
			rc = sl_bundle_slurp(&s->note, &s->note_len, p,
			    1 << 20, e);
		}
	}
	if (rc == SL_ENOTFOUND && at)
		return sl_err_set(e, SL_ENOTFOUND, "the log has no signed "
		    "checkpoint of size %llu", (unsigned long long)at);
	if (rc == SL_ENOTFOUND)
		return sl_err_set(e, SL_ENOTFOUND, "the log has no signed "
		    "checkpoint yet (sharelogd signs one every few seconds)");
	if (rc)
		return e->msg[0] ? rc : sl_err_set(e, rc, "cannot read the "
		    "log's checkpoints");
	sl_note_open(&nv, s->note, s->note_len, NULL, 0, NULL);
	rc = sl_checkpoint_parse(&c, s->note, nv.text_len, e);
	if (rc)
		return sl_err_prefix(e, "checkpoint");
	snprintf(s->origin, sizeof(s->origin), "%s", c.origin);
	s->size = c.size;
	memcpy(s->root, c.root, SL_HASH_LEN);
	return 0;
}

/* ---- summaries ------------------------------------------------------- */

struct kept {
	struct sl_rsource *s;
	uint64_t n;
	int bad;
};

static int kept_cb(void *ctx, uint64_t seq, const uint8_t *p, size_t n)
{
	struct kept *k = ctx;

	if (seq >= k->s->size)
		return 1;
	if (seq != k->n || sl_summary_decode(&k->s->sum[seq], p, n)) {
		k->bad = 1;
		return 1;
	}
	k->n++;
	return 0;
}

struct dworker {
	struct sl_rsource *s;
	uint64_t from, to;
	struct sl_record_view v;
	pthread_t tid;
	int started;
};

static void *derive_run(void *arg)
{
	struct dworker *w = arg;
	struct sl_hash *h;
	uint64_t i;

	if (sl_hash_new(&h))
		return NULL;
	for (i = w->from; i < w->to; i++) {
		const uint8_t *p;
		size_t n;
		struct sl_entry_view ev;

		/* the caller verified the entries; an unreadable one (never
		 * expected) is summarised as empty */
		if (sl_rsource_entry(w->s, i, &p, &n) ||
		    sl_entry_peek(&ev, p, n)) {
			memset(&ev, 0, sizeof(ev));
			ev.record = (const uint8_t *)"{}";
			ev.record_len = 2;
		}
		sl_summary_of_record(&w->s->sum[i], &w->v, ev.record,
		    ev.record_len, ev.type, ev.recorded_ms, h);
	}
	sl_hash_free(h);
	return NULL;
}

static int derive_all(struct sl_rsource *s, int threads, struct sl_err *e)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int n = threads > 0 ? threads : (ncpu > 0 ? (int)ncpu : 1);
	struct dworker *w;
	int i;

	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	w = calloc((size_t)n, sizeof(*w));
	if (!w)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		w[i].s = s;
		w[i].from = s->size * (uint64_t)i / (uint64_t)n;
		w[i].to = s->size * (uint64_t)(i + 1) / (uint64_t)n;
		/* LMDB read transactions are per thread: a store's entries
		 * are derived by the caller alone */
		w[i].started = i + 1 < n && !s->is_store &&
		    !pthread_create(&w[i].tid, NULL, derive_run, &w[i]);
	}
	for (i = n - 1; i >= 0; i--)
		if (!w[i].started)
			derive_run(&w[i]);
	for (i = 0; i < n; i++)
		if (w[i].started)
			pthread_join(w[i].tid, NULL);
	free(w);
	s->derived = 1;
	return 0;
}

int sl_rsource_load_summaries(struct sl_rsource *s, int threads,
    struct sl_err *e)
{
	struct priv *v = s->priv;

	s->sum = sl_mem_malloc((s->size ? s->size : 1) * sizeof(*s->sum));
	if (!s->sum)
		return sl_err_set(e, SL_ENOMEM, "out of memory for %llu "
		    "summaries", (unsigned long long)s->size);
	if (v->txn) {
		struct kept k = { s, 0, 0 };
		int rc = sl_store_summaries(v->txn, 0, kept_cb, &k);

		if ((rc == 0 || rc == 1) && !k.bad && k.n == s->size)
			return 0;
	}
	return derive_all(s, threads, e);
}

/* ---- opening ----------------------------------------------------------- */

static int open_bundle(struct sl_rsource *s, const char *path,
    struct sl_err *e)
{
	struct priv *v = s->priv;
	char p[4200];
	struct stat st;
	const uint8_t *q, *end;
	uint64_t cap = 1024, n = 0;
	int fd;

	snprintf(p, sizeof(p), "%s/entries.jsonl", path);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return sl_err_set(e, errno == ENOENT ? SL_ENOTFOUND : SL_EIO,
		    "cannot open %s: %s", p, strerror(errno));
	if (fstat(fd, &st) || st.st_size == 0) {
		close(fd);
		return sl_err_set(e, SL_EINVAL, "%s is empty", p);
	}
	v->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (v->map == MAP_FAILED) {
		v->map = NULL;
		return sl_err_set(e, SL_EIO, "cannot map %s", p);
	}
	v->maplen = (size_t)st.st_size;
	v->off = sl_mem_malloc(cap * sizeof(*v->off));
	if (!v->off)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	q = v->map;
	end = v->map + v->maplen;
	v->off[n++] = 0;
	while (q < end) {
		const uint8_t *nl = memchr(q, '\n', (size_t)(end - q));

		if (!nl)
			break;
		if (n == cap) {
			uint64_t *no = sl_mem_realloc(v->off, 2 * cap *
			    sizeof(*v->off));

			if (!no)
				return sl_err_set(e, SL_ENOMEM,
				    "out of memory");
			v->off = no;
			cap *= 2;
		}
		q = nl + 1;
		v->off[n++] = (uint64_t)(q - v->map);
	}
	if (n - 1 < s->size)
		return sl_err_set(e, SL_EINTEGRITY, "the bundle holds %llu "
		    "entries, fewer than its checkpoint's %llu",
		    (unsigned long long)(n - 1), (unsigned long long)s->size);
	return 0;
}

static int open_source(struct sl_rsource **out, const char *path,
    struct sl_store *store, uint64_t at, int threads, int summaries,
    struct sl_err *e);

int sl_rsource_open(struct sl_rsource **out, const char *path, uint64_t at,
    int threads, int summaries, struct sl_err *e)
{
	return open_source(out, path, NULL, at, threads, summaries, e);
}

int sl_rsource_open_store(struct sl_rsource **out, struct sl_store *store,
    uint64_t at, int threads, int summaries, struct sl_err *e)
{
	return open_source(out, "", store, at, threads, summaries, e);
}

static int open_source(struct sl_rsource **out, const char *path,
    struct sl_store *store, uint64_t at, int threads, int summaries,
    struct sl_err *e)
{
	struct sl_rsource *s;
	struct priv *v;
	char probe[4200];
	struct stat st;
	struct sl_hash *h = NULL;
	const uint8_t *p;
	size_t n;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	v = calloc(1, sizeof(*v));
	if (!s || !v) {
		free(s);
		free(v);
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	}
	s->priv = v;
	snprintf(probe, sizeof(probe), "%s/data.mdb", path);
	s->is_store = store || !stat(probe, &st);
	v->store = store;
	v->borrowed = store != NULL;
	if (s->is_store) {
		rc = store ? 0 : sl_store_open(&v->store, path,
		    SL_STORE_RDONLY, e);
		if (!rc)
			rc = sl_store_read_begin(&v->txn, v->store, e);
		if (rc)
			goto fail;
	}
	rc = load_note(s, path, at, e);
	if (rc)
		goto fail;
	if (s->size == 0) {
		rc = sl_err_set(e, SL_EINVAL, "the checkpoint covers no "
		    "entries");
		goto fail;
	}
	if (s->is_store && sl_store_txn_size(v->txn) < s->size) {
		rc = sl_err_set(e, SL_EINTEGRITY, "the store holds fewer "
		    "entries than its checkpoint");
		goto fail;
	}
	v->lookups = s->is_store && sl_store_txn_derived(v->txn) >= s->size;
	if (!s->is_store) {
		rc = open_bundle(s, path, e);
		if (rc)
			goto fail;
	}
	rc = sl_rsource_entry(s, s->size - 1, &p, &n);
	if (!rc)
		rc = sl_hash_new(&h);
	if (!rc)
		rc = sl_hash_leaf(s->head, h, p, n);
	sl_hash_free(h);
	s->last_ms = INT64_MIN;
	if (!rc) {
		struct sl_entry_view ev;

		if (!sl_entry_peek(&ev, p, n))
			s->last_ms = ev.recorded_ms;
	}
	if (rc) {
		sl_err_set(e, rc, "cannot read entry %llu",
		    (unsigned long long)(s->size - 1));
		goto fail;
	}
	if (summaries) {
		rc = sl_rsource_load_summaries(s, threads, e);
		if (rc)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	sl_rsource_close(s);
	return rc;
}

void sl_rsource_close(struct sl_rsource *s)
{
	struct priv *v;

	if (!s)
		return;
	v = s->priv;
	sl_store_read_end(v->txn);
	if (!v->borrowed)
		sl_store_close(v->store);
	if (v->map)
		munmap((void *)v->map, v->maplen);
	free(v->off);
	while (v->nlv > 0)
		free(v->lv[--v->nlv]);
	free(v);
	free(s->note);
	free(s->sum);
	free(s);
}

/* ---- finding a child's or a case's entries ---------------------------- */

struct seqs {
	uint64_t *v;
	size_t n, cap;
	uint64_t limit;
	int oom;
};

static int seqs_add(void *ctx, uint64_t seq)
{
	struct seqs *q = ctx;

	if (seq >= q->limit)
		return 0;
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 64;
		uint64_t *nv = realloc(q->v, cap * sizeof(*nv));

		if (!nv) {
			q->oom = 1;
			return 1;
		}
		q->v = nv;
		q->cap = cap;
	}
	q->v[q->n++] = seq;
	return 0;
}

static int f_child, f_case, f_did;
static pthread_once_t fields_once = PTHREAD_ONCE_INIT;

/* once per process: sharelogd's loops make trails in several threads */
static void fields_set(void)
{
	f_case = sl_record_field_index("case_ref", 8);
	f_did = sl_record_field_index("decision_id", 11);
	f_child = sl_record_field_index("child_ref", 9);
}

static void fields_init(void)
{
	pthread_once(&fields_once, fields_set);
}

/* The canonical JSON string of @s (quotes included) into out. */
static int canon_string(char *out, size_t cap, size_t *n, const char *str)
{
	json_t *j = json_string(str);
	char *d;
	int rc = SL_EINVAL;

	if (!j)
		return SL_EINVAL;
	d = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	json_decref(j);
	/* jansson escapes '/' only with JSON_ESCAPE_SLASH, and writes
	 * other characters as RFC 8785 does for the ids we accept */
	if (d && strlen(d) < cap) {
		*n = strlen(d);
		memcpy(out, d, *n + 1);
		rc = 0;
	}
	free(d);
	return rc;
}

/* A bundle (or a store, for several values) has no index to use: walk
 * every covered entry and keep those whose field @f is one of @keys. */
static int scan_for(struct sl_rsource *s, int f, const uint8_t *const *keys,
    const size_t *lens, size_t nk, struct seqs *q)
{
	struct sl_record_view *view = malloc(sizeof(*view));
	uint64_t i;
	size_t j;

	if (!view)
		return SL_ENOMEM;
	for (i = 0; i < s->size; i++) {
		const uint8_t *p;
		size_t n;
		struct sl_entry_view ev;

		if (sl_rsource_entry(s, i, &p, &n) || sl_entry_peek(&ev, p, n) ||
		    sl_record_view_scan(view, ev.record, ev.record_len, NULL) ||
		    !view->val[f])
			continue;
		for (j = 0; j < nk; j++)
			if (view->len[f] == lens[j] &&
			    !memcmp(view->val[f], keys[j], lens[j])) {
				if (seqs_add(q, i))
					goto out;
				break;
			}
	}
out:
	free(view);
	return q->oom ? SL_ENOMEM : 0;
}

int sl_rsource_find(struct sl_rsource *s, const char *ref,
    const char *case_ref, uint64_t **out, size_t *n, struct sl_err *e)
{
	struct priv *v = s->priv;
	struct seqs q = { NULL, 0, 0, s->size, 0 };
	char key[512];
	size_t klen;
	const uint8_t *kp = (const uint8_t *)key;
	int rc;

	fields_init();
	if (canon_string(key, sizeof(key), &klen, ref ? ref : case_ref))
		return sl_err_set(e, SL_EINVAL, "%s is not a valid identifier",
		    ref ? "the subject" : "the case reference");
	rc = SL_ENOTFOUND;
	if (v->lookups && ref)
		rc = sl_store_subject(v->txn, ref, seqs_add, &q);
	else if (v->lookups)
		rc = sl_store_case(v->txn, kp, klen, seqs_add, &q);
	/* a bundle, or an older store read-only without the index */
	if (rc == SL_ENOTFOUND)
		rc = scan_for(s, ref ? f_child : f_case, &kp, &klen, 1, &q);
	if (rc == SL_EINVAL)
		rc = 0;      /* a malformed reference finds nothing */
	if (rc || q.oom) {
		free(q.v);
		return sl_err_set(e, q.oom ? SL_ENOMEM : rc, "cannot look the "
		    "entries up");
	}
	*out = q.v;
	*n = q.n;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int sl_rsource_threads(struct sl_rsource *s, const uint8_t *const *dids,
    const size_t *lens, size_t nd, uint64_t **out, size_t *n,
    struct sl_err *e)
{
	struct priv *v = s->priv;
	struct seqs q = { NULL, 0, 0, s->size, 0 };
	size_t i, j;
	int rc = 0;

	fields_init();
	if (v->lookups) {
		for (i = 0; i < nd && !rc; i++) {
			/* the threads index is keyed by the plain string */
			json_error_t je;
			json_t *str = json_loadb((const char *)dids[i],
			    lens[i], JSON_DECODE_ANY, &je);

			if (json_is_string(str))
				rc = sl_store_thread(v->txn,
				    json_string_value(str), seqs_add, &q);
			json_decref(str);
			if (rc == SL_EINVAL)
				rc = 0;
		}
	} else {
		rc = scan_for(s, f_did, dids, lens, nd, &q);
	}
	if (rc || q.oom) {
		free(q.v);
		return sl_err_set(e, q.oom ? SL_ENOMEM : rc, "cannot look the "
		    "threads up");
	}
	/* several threads: one sorted list without repeats */
	if (q.n > 1)
		qsort(q.v, q.n, sizeof(*q.v), cmp_u64);
	for (i = j = 0; i < q.n; i++)
		if (!j || q.v[j - 1] != q.v[i])
			q.v[j++] = q.v[i];
	*out = q.v;
	*n = j;
	return 0;
}

/* A bundle's tree, level by level: every complete node of the size. */
static int bundle_tree(struct sl_rsource *s)
{
	struct priv *v = s->priv;
	struct sl_hash *h;
	uint64_t i, n = s->size;
	int rc = sl_hash_new(&h);

	if (rc)
		return rc;
	v->lv[0] = sl_mem_malloc(n * SL_HASH_LEN);
	if (!v->lv[0]) {
		sl_hash_free(h);
		return SL_ENOMEM;
	}
	v->lvn[0] = n;
	v->nlv = 1;
	for (i = 0; i < n && !rc; i++) {
		const uint8_t *p;
		size_t len;

		rc = sl_rsource_entry(s, i, &p, &len);
		if (!rc)
			rc = sl_hash_leaf(v->lv[0][i], h, p, len);
	}
	while (!rc && n > 1 && v->nlv < 64) {
		uint64_t m = n / 2;
		int l = v->nlv;

		v->lv[l] = malloc((m ? m : 1) * SL_HASH_LEN);
		if (!v->lv[l]) {
			rc = SL_ENOMEM;
			break;
		}
		for (i = 0; i < m && !rc; i++)
			rc = sl_hash_node(v->lv[l][i], h, v->lv[l - 1][2 * i],
			    v->lv[l - 1][2 * i + 1]);
		v->lvn[l] = m;
		v->nlv++;
		n = m;
	}
	sl_hash_free(h);
	return rc;
}

int sl_rsource_node(uint8_t out[SL_HASH_LEN], void *ctx, unsigned level,
    uint64_t index)
{
	struct sl_rsource *s = ctx;
	struct priv *v = s->priv;
	int rc;

	if (level > 63 || (index + 1) > (s->size >> level))
		return SL_ENOTFOUND;
	if (v->lookups)
		return sl_store_node(out, v->txn, level, index);
	if (!v->nlv) {
		rc = bundle_tree(s);
		if (rc)
			return rc;
	}
	if ((int)level >= v->nlv || index >= v->lvn[level])
		return SL_ENOTFOUND;
	memcpy(out, v->lv[level][index], SL_HASH_LEN);
	return 0;
}
