/*
 * completeness: the policy over a whole log (completeness.h).
 *
 * Phase 1, in parallel over slices of entries: scan each entry and its
 * record into a view (no JSON tree), judge it alone, and keep per entry
 * the few facts the thread logic needs (hashes of its ids, dates, type).
 * Phase 2, in seq order: resolve every follow-up to the decision it
 * belongs to, judge again the decisions that follow-ups added to, and
 * apply the checks that need the thread or the log (refers_to,
 * follow_up; repeated_text meanwhile on a thread of its own). Entry
 * bytes stay where they are (the bundle's map, the store's snapshot) for
 * the whole run; views point into them.
 *
 * A store's phase 1 can also be done by visits from the integrity pass
 * (sl_comp_begin/visit/end), which walks every record anyway: the view
 * it hands over is then of its own copy of the entry, so the one pointer
 * kept past the visit (the decision_id's) is moved into this run's bytes.
 */
#define _GNU_SOURCE
#include "verify/completeness.h"
#include "formats/enc.h"
#include "formats/entry.h"
#include "formats/mem.h"
#include "formats/record.h"
#include "formats/schema.h"
#include "formats/store.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NONE UINT64_MAX
#define MAX_HITS SL_POLICY_MAX_HITS

/* unit flags */
#define U_CLIENT 0x01    /* a client record (decision ... inform_update) */
#define U_JUDGED 0x02    /* decision or reconsideration */
#define U_SKIP 0x04      /* recorded after the as-of time */
#define U_REFERS 0x08    /* a refers_to rule applies to it */
#define U_REEVAL 0x10    /* judged again with its follow-ups */
#define U_BAD 0x20       /* the record could not be read */

struct unit {
	uint64_t rid[2];
	uint64_t ref[2];
	uint64_t did[2];
	int64_t decided_ms;
	uint64_t root;           /* the decision a follow-up belongs to */
	const uint8_t *didp;     /* decision_id value (JSON string) */
	uint32_t didn;
	uint32_t org;
	uint8_t etype;
	uint8_t flags;
};

struct raw {                 /* a finding before strings are attached */
	uint64_t seq;
	uint16_t rule;
	uint8_t severity;
	uint8_t phase;           /* 1: judged alone (superseded when the
				  * record is judged again with its thread);
				  * 2: with its thread; 3: thread or log check */
	int16_t field;
};

struct cand {                /* a follow_up check whose date has passed */
	uint64_t seq;
	uint16_t rule;
	uint8_t phase;
};

struct rep {                 /* a text for repeated_text */
	uint64_t by;
	uint64_t text;
	int64_t at;
	uint64_t seq;
	uint16_t rule;
};

struct vec {
	void *p;
	size_t n, cap, size;
};

/* Room for @more elements, growing by doubling. */
static int vec_reserve(struct vec *v, size_t more)
{
	size_t nc = v->cap ? v->cap : 256;
	void *np;

	if (v->n + more <= v->cap)
		return 0;
	while (nc < v->n + more)
		nc *= 2;
	np = sl_mem_realloc(v->p, nc * v->size);
	if (!np)
		return SL_ENOMEM;
	v->p = np;
	v->cap = nc;
	return 0;
}

static int vec_push(struct vec *v, const void *x)
{
	if (vec_reserve(v, 1))
		return SL_ENOMEM;
	memcpy((char *)v->p + v->n * v->size, x, v->size);
	v->n++;
	return 0;
}

/* A follow-up (seq) that adds to the decision it belongs to (root). */
struct ov {
	uint64_t root;
	uint64_t seq;
};

struct ent {
	const uint8_t *p;
	size_t n;
	int64_t recorded_ms;
};

struct org {
	char *name;
	uint64_t h[2];
};

struct sl_comp_result {
	const struct sl_policy *pol;
	struct sl_comp_opts opts;
	/* the log */
	const uint8_t *map;
	size_t maplen;
	struct sl_store *store;
	struct sl_store_txn *txn;
	struct ent *ents;
	uint64_t n;
	struct unit *units;
	uint64_t nfollow;        /* follow-ups among them (phase 1 counts) */
	/* organisations */
	pthread_mutex_t org_lock;
	struct org *orgs;
	size_t norgs, orgcap;
	/* results */
	struct vec raws, cands, reps;
	struct sl_comp_finding *findings;
	size_t nfindings;
	char *strings;
	struct sl_comp_count *counts;
	size_t ncounts;
	struct sl_comp_org *orgstats;
	uint64_t judged, errors, warnings;
	double seconds;
	double t0, t_read;
	struct worker *vw;        /* sl_comp_visit's, SL_COMP_VISITORS */
	int visited;              /* phase 1 was done by the visits */
	int kept;                 /* ... or read from the kept judgements:
				     ents are fetched when needed */
	int overlay[SL_RECORD_VIEW_FIELDS];
	int f_record_id, f_refers, f_decision_id, f_decided, f_org;
	/* the policy's rules that are not plain requirements, by kind:
	 * looked for on every record */
	uint16_t thr_rules[SL_POLICY_MAX_RULES], ref_rules[SL_POLICY_MAX_RULES];
	size_t nthr_rules, nref_rules;
	struct sl_err *e;
};

/* ---- small helpers ---------------------------------------------------- */

static uint64_t mix(uint64_t a, uint64_t b)
{
	__extension__ unsigned __int128 m = (unsigned __int128)a * b;

	return (uint64_t)m ^ (uint64_t)(m >> 64);
}

/* Two 64-bit multiply-mix hashes, eight bytes at a time: ids are matched
 * by this pair (a chance collision ~2^-100 per pair), texts grouped. */
static void hash128(uint64_t out[2], const uint8_t *p, size_t n)
{
	uint64_t a = 0x9e3779b97f4a7c15ull ^ n;
	uint64_t b = 0xc2b2ae3d27d4eb4full + n;
	uint64_t w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		a = mix(a ^ w, 0xa0761d6478bd642full);
		b = mix(b + w, 0xe7037ed1a0b428dbull);
		p += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, p, n);
	a = mix(a ^ w, 0x8ebc6af09c88c6e3ull);
	b = mix(b + w, 0x589965cc75374cc3ull);
	out[0] = mix(a, b ^ 0x1d8e4e27c47d124full);
	out[1] = mix(b, a ^ 0xa0761d6478bd642full) | 1;
}

/* An identifier's canonical JSON string p[0..n) (quotes included)
 * decoded into out (at least n - 1 bytes), NUL terminated; its length.
 * The schema refuses control characters in identifiers and canonical
 * JSON writes everything else as itself, so the only escapes that can
 * occur are \" and \\: dropping the backslash decodes both. */
static size_t unquote(char *out, const uint8_t *p, size_t n)
{
	size_t i, o = 0;

	for (i = 1; i + 1 < n; i++) {
		if (p[i] == '\\' && i + 2 < n)
			i++;
		out[o++] = (char)p[i];
	}
	out[o] = '\0';
	return o;
}

static char *decode(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s)
		unquote(s, p, n);
	return s;
}

static uint32_t org_id(struct sl_comp_result *r, const uint8_t *p, size_t n,
    const uint64_t h[2])
{
	size_t i;
	uint32_t id = 0;

	if (!p)
		return UINT32_MAX;
	pthread_mutex_lock(&r->org_lock);
	for (i = 0; i < r->norgs; i++)
		if (r->orgs[i].h[0] == h[0] && r->orgs[i].h[1] == h[1])
			break;
	if (i == r->norgs) {
		if (r->norgs == r->orgcap) {
			size_t nc = r->orgcap ? r->orgcap * 2 : 64;
			struct org *no = realloc(r->orgs, nc * sizeof(*no));

			if (!no) {
				pthread_mutex_unlock(&r->org_lock);
				return UINT32_MAX;
			}
			r->orgs = no;
			r->orgcap = nc;
		}
		r->orgs[i].name = decode(p, n);
		r->orgs[i].h[0] = h[0];
		r->orgs[i].h[1] = h[1];
		r->norgs++;
	}
	id = (uint32_t)i;
	pthread_mutex_unlock(&r->org_lock);
	return id;
}

static int is_judged(int etype)
{
	return etype == SL_ET_DECISION || etype == SL_ET_RECONSIDERATION;
}

static int is_follow_up(const struct unit *u)
{
	return (u->flags & U_CLIENT) && u->etype != SL_ET_DECISION;
}

static int is_overlay(int etype)
{
	return etype == SL_ET_AMENDMENT || etype == SL_ET_OUTCOME ||
	    etype == SL_ET_INFORM_UPDATE;
}

static unsigned rt_of(int etype)
{
	switch (etype) {
	case SL_ET_DECISION:
		return SL_RT_DECISION;
	case SL_ET_AMENDMENT:
		return SL_RT_AMENDMENT;
	case SL_ET_RECONSIDERATION:
		return SL_RT_RECONSIDERATION;
	case SL_ET_OUTCOME:
		return SL_RT_OUTCOME;
	case SL_ET_INFORM_UPDATE:
		return SL_RT_INFORM_UPDATE;
	}
	return 0;
}

/* ---- reading the log -------------------------------------------------- */

static int collect_cb(void *ctx, uint64_t seq, const uint8_t *p, size_t n)
{
	struct sl_comp_result *r = ctx;

	if (seq >= r->n)
		return 1;
	r->ents[seq].p = p;
	r->ents[seq].n = n;
	return 0;
}

static int open_log(struct sl_comp_result *r, const char *path, int collect)
{
	char f[4200];
	struct stat st;
	int fd;
	int rc;

	snprintf(f, sizeof(f), "%s/entries.jsonl", path);
	r->ents = sl_mem_calloc(r->n ? r->n : 1, sizeof(*r->ents));
	if (!r->ents)
		return sl_err_set(r->e, SL_ENOMEM, "out of memory");
	fd = open(f, O_RDONLY);
	if (fd < 0) {
		rc = sl_store_open(&r->store, path, SL_STORE_RDONLY, r->e);
		if (!rc)
			rc = sl_store_read_begin(&r->txn, r->store, r->e);
		if (!rc && collect) {
			rc = sl_store_scan(r->txn, 0, collect_cb, r, 0);
			rc = rc > 0 ? 0 : rc;
		}
		return rc;
	}
	if (fstat(fd, &st) || st.st_size == 0) {
		close(fd);
		return 0;
	}
	r->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return sl_err_set(r->e, SL_EIO, "cannot map %s: %s", f,
		    strerror(errno));
	}
	r->maplen = (size_t)st.st_size;
	madvise((void *)r->map, r->maplen, MADV_SEQUENTIAL);
	return 0;   /* the workers find the lines (phase1) */
}

/* ---- phase 1 ---------------------------------------------------------- */

/* Phase 1's work, handed out a slice at a time to whichever worker is
 * free: with two equal halves, the pass waited for the slower core
 * (tenths of a second on a shared machine). */
struct slices {
	atomic_uint_fast64_t next;
	uint64_t all;            /* bytes of a bundle, seqs of a store */
	uint64_t step;
};

struct worker {
	struct sl_comp_result *r;
	struct slices *sl;
	uint64_t from, to;       /* the slice in hand */
	struct {                 /* organisations already seen: no lock */
		uint64_t h[2];
		uint32_t id;
	} oc[64];
	struct vec raws, cands, reps;
	uint64_t seen;           /* bundle: entries placed */
	uint64_t follow;         /* follow-ups judged */
	int rc;
	struct sl_err e;
};

/* ---- what phase 1 finds in one entry, whatever the as-of time ---------- */

struct kcand {               /* a follow_up rule's due date */
	uint16_t rule;
	int64_t due;
};

struct krep {                /* a text for repeated_text */
	uint16_t rule;
	uint64_t text, by;
};

/*
 * Entry @seq judged on its own with no as-of time: what phase 1 keeps of
 * it (alone_apply takes it at the run's time). Found afresh from the
 * record's view (alone_of) or read from what the store kept at append
 * (alone_decode). The decision and organisation ids point into the
 * bytes it was made from.
 */
/* The longest id string kept (canonical JSON, quotes included); the
 * schema's 128 characters take at most 514 bytes. */
#define K_STR_MAX 1024

struct alone {
	uint8_t etype;
	uint8_t flags;           /* U_CLIENT, U_JUDGED, U_REFERS, U_BAD */
	int64_t recorded_ms;
	int64_t decided_ms;
	uint64_t rid[2], ref[2], did[2], org[2];
	const uint8_t *didp, *orgp;   /* JSON strings, NULL when none */
	size_t didn, orgn;
	size_t nhits, ncands, nreps;
	struct sl_policy_open_hit hits[SL_POLICY_MAX_HITS];
	struct kcand cands[SL_POLICY_MAX_RULES];
	struct krep reps[SL_POLICY_MAX_RULES];
};

static const uint8_t *fv(const struct sl_record_view *v, int f, size_t *n)
{
	*n = f >= 0 ? v->len[f] : 0;
	return f >= 0 ? v->val[f] : NULL;
}

/* The checks of one judged view that are not plain requirements, with
 * no as-of time: each follow_up rule's due date, and (when @reps) the
 * texts for repeated_text. */
static void open_checks(const struct sl_comp_result *r,
    const struct sl_record_view *v, struct kcand *cands, size_t *nc,
    struct krep *reps, size_t *nr)
{
	const struct sl_policy *p = r->pol;
	size_t k;

	*nc = 0;
	if (nr)
		*nr = 0;
	for (k = 0; k < r->nthr_rules; k++) {
		size_t i = r->thr_rules[k];
		const struct sl_policy_rule *ru = sl_policy_rule(p, i);
		const uint8_t *x;
		size_t n;
		uint64_t h[2];
		int64_t due;

		if (!sl_policy_applies(p, i, v))
			continue;
		if (ru->check == SL_CHECK_FOLLOW_UP) {
			x = fv(v, ru->due_field, &n);
			if (!x || sl_record_value_time(&due, x, n))
				continue;
			cands[*nc].rule = (uint16_t)i;
			cands[(*nc)++].due = due;
		} else if (reps) {
			x = fv(v, ru->text_field, &n);
			if (!sl_record_value_present(x, n))
				continue;
			hash128(h, x, n);
			reps[*nr].text = h[0];
			x = fv(v, ru->by_field, &n);
			if (!x)
				continue;
			hash128(h, x, n);
			reps[*nr].by = h[0];
			reps[(*nr)++].rule = (uint16_t)i;
		}
	}
}

/* 1 when a refers_to rule of the policy applies to @v. */
static int refers_applies(const struct sl_comp_result *r,
    const struct sl_record_view *v)
{
	size_t k;

	for (k = 0; k < r->nref_rules; k++)
		if (sl_policy_applies(r->pol, r->ref_rules[k], v))
			return 1;
	return 0;
}

/* An entry of @etype recorded at @recorded_ms judged on its own: @v is
 * its record's view, NULL when the record cannot be walked. */
static void alone_of(const struct sl_comp_result *r, struct alone *a,
    int etype, int64_t recorded_ms, const struct sl_record_view *v)
{
	const uint8_t *x;
	size_t n;

	memset(a, 0, offsetof(struct alone, hits));
	a->etype = (uint8_t)etype;
	a->recorded_ms = recorded_ms;
	a->decided_ms = INT64_MIN;
	if (etype < SL_ET_DECISION || etype > SL_ET_INFORM_UPDATE)
		return;
	if (!v) {
		a->flags = U_BAD;
		return;
	}
	a->flags = U_CLIENT | (is_judged(etype) ? U_JUDGED : 0);
	x = fv(v, r->f_record_id, &n);
	if (x)
		hash128(a->rid, x, n);
	x = fv(v, r->f_refers, &n);
	if (x)
		hash128(a->ref, x, n);
	a->didp = fv(v, r->f_decision_id, &a->didn);
	if (a->didp)
		hash128(a->did, a->didp, a->didn);
	if (a->didn > K_STR_MAX) {      /* not a valid id: matched by its
					 * hash, named as none */
		a->didp = NULL;
		a->didn = 0;
	}
	x = fv(v, r->f_decided, &n);
	if (!x || sl_record_value_time(&a->decided_ms, x, n))
		a->decided_ms = INT64_MIN;
	a->orgp = fv(v, r->f_org, &a->orgn);
	if (a->orgn > K_STR_MAX) {      /* not a valid id: none */
		a->orgp = NULL;
		a->orgn = 0;
	}
	if (a->orgp)
		hash128(a->org, a->orgp, a->orgn);
	/* a follow-up, or a reconsideration (judged and a follow-up too) */
	if (refers_applies(r, v))
		a->flags |= U_REFERS;
	if (is_judged(etype))
		open_checks(r, v, a->cands, &a->ncands, a->reps, &a->nreps);
	a->nhits = sl_policy_eval_open(r->pol, v, recorded_ms, a->hits,
	    SL_POLICY_MAX_HITS);
}

/*
 * Into entry @seq's unit and the worker's lists, what @a says as of the
 * run's time. @a's ids point into bytes starting at @at; when @base is
 * given they are the run's own copy of those bytes, where the one
 * pointer kept past the call (the decision_id's) is moved.
 */
static int alone_apply(struct worker *w, uint64_t seq, const struct alone *a,
    const uint8_t *at, const uint8_t *base)
{
	struct sl_comp_result *r = w->r;
	struct unit *u = &r->units[seq];
	int64_t as_of = r->opts.as_of_ms;
	size_t i;

	u->root = NONE;
	u->org = UINT32_MAX;
	u->etype = a->etype;
	r->ents[seq].recorded_ms = a->recorded_ms;
	if (a->etype >= SL_ET_DECISION && a->etype <= SL_ET_INFORM_UPDATE &&
	    a->recorded_ms > as_of) {
		u->flags = U_SKIP;
		return 0;
	}
	u->flags = a->flags;
	if (!(a->flags & U_CLIENT))
		return 0;
	w->follow += is_follow_up(u);
	memcpy(u->rid, a->rid, sizeof(u->rid));
	memcpy(u->ref, a->ref, sizeof(u->ref));
	memcpy(u->did, a->did, sizeof(u->did));
	u->decided_ms = a->decided_ms;
	u->didp = a->didp && base ? base + (a->didp - at) : a->didp;
	u->didn = (uint32_t)a->didn;
	if (a->orgp) {
		size_t slot = (size_t)a->org[0] & 63;

		if (w->oc[slot].h[0] == a->org[0] &&
		    w->oc[slot].h[1] == a->org[1]) {
			u->org = w->oc[slot].id;
		} else {
			u->org = org_id(r, a->orgp, a->orgn, a->org);
			w->oc[slot].h[0] = a->org[0];
			w->oc[slot].h[1] = a->org[1];
			w->oc[slot].id = u->org;
		}
	}
	for (i = 0; i < a->ncands; i++) {
		struct cand c = { seq, a->cands[i].rule, 1 };

		if (a->cands[i].due < as_of && vec_push(&w->cands, &c))
			return SL_ENOMEM;
	}
	for (i = 0; i < a->nreps; i++) {
		struct rep rp = { a->reps[i].by, a->reps[i].text,
			a->decided_ms, seq, a->reps[i].rule };

		if (vec_push(&w->reps, &rp))
			return SL_ENOMEM;
	}
	for (i = 0; i < a->nhits; i++) {
		struct sl_policy_hit h;
		struct raw f;

		if (!sl_policy_hit_at(&h, &a->hits[i], as_of))
			continue;
		f = (struct raw){ seq, h.rule, h.severity, 1, h.field };
		if (vec_push(&w->raws, &f))
			return SL_ENOMEM;
	}
	return 0;
}

/* ---- the kept form (docs/FORMAT.md, "kept judgements") ------------------ */

static uint8_t *put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return p + 2;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	sl_enc_le64(p, v);
	return p + 8;
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

#define K_HEAD 92            /* bytes before the two id strings */
#define K_HIT 22
#define K_CAND 10
#define K_REP 18

_Static_assert(K_HEAD + 2 * K_STR_MAX + SL_POLICY_MAX_HITS * K_HIT +
    SL_POLICY_MAX_RULES * (K_CAND + K_REP) <= SL_COMP_KEPT_MAX,
    "a kept judgement fits SL_COMP_KEPT_MAX");

static size_t alone_encode(uint8_t *out, const struct alone *a)
{
	uint8_t *p = out;
	size_t i;

	*p++ = SL_COMP_KEPT_VERSION;
	*p++ = a->etype;
	*p++ = a->flags;
	*p++ = 0;
	p = put_u64(p, (uint64_t)a->recorded_ms);
	p = put_u64(p, (uint64_t)a->decided_ms);
	for (i = 0; i < 2; i++) {
		p = put_u64(p, a->rid[i]);
		p = put_u64(p, a->ref[i]);
		p = put_u64(p, a->did[i]);
		p = put_u64(p, a->org[i]);
	}
	p = put_u16(p, (uint16_t)a->didn);
	p = put_u16(p, (uint16_t)a->orgn);
	p = put_u16(p, (uint16_t)a->nhits);
	*p++ = (uint8_t)a->ncands;
	*p++ = (uint8_t)a->nreps;
	if (a->didn)
		memcpy(p, a->didp, a->didn);
	p += a->didn;
	if (a->orgn)
		memcpy(p, a->orgp, a->orgn);
	p += a->orgn;
	for (i = 0; i < a->nhits; i++) {
		const struct sl_policy_open_hit *h = &a->hits[i];

		p = put_u16(p, h->hit.rule);
		*p++ = h->hit.severity;
		*p++ = h->esc_severity;
		p = put_u16(p, (uint16_t)h->hit.field);
		p = put_u64(p, (uint64_t)h->due_ms);
		p = put_u64(p, (uint64_t)h->esc_ms);
	}
	for (i = 0; i < a->ncands; i++) {
		p = put_u16(p, a->cands[i].rule);
		p = put_u64(p, (uint64_t)a->cands[i].due);
	}
	for (i = 0; i < a->nreps; i++) {
		p = put_u16(p, a->reps[i].rule);
		p = put_u64(p, a->reps[i].text);
		p = put_u64(p, a->reps[i].by);
	}
	return (size_t)(p - out);
}

/* @a from kept bytes p[0..n) of a policy with @nrules rules; its ids
 * point into them. SL_EINVAL when they are not a whole kept form. */
static int alone_decode(struct alone *a, const uint8_t *p, size_t n,
    size_t nrules)
{
	const uint8_t *end = p + n;
	size_t i;

	if (n < K_HEAD || p[0] != SL_COMP_KEPT_VERSION)
		return SL_EINVAL;
	a->etype = p[1];
	a->flags = p[2] & (U_CLIENT | U_JUDGED | U_REFERS | U_BAD);
	a->recorded_ms = (int64_t)sl_enc_rdle64(p + 4);
	a->decided_ms = (int64_t)sl_enc_rdle64(p + 12);
	for (i = 0; i < 2; i++) {
		a->rid[i] = sl_enc_rdle64(p + 20 + 32 * i);
		a->ref[i] = sl_enc_rdle64(p + 28 + 32 * i);
		a->did[i] = sl_enc_rdle64(p + 36 + 32 * i);
		a->org[i] = sl_enc_rdle64(p + 44 + 32 * i);
	}
	a->didn = get_u16(p + 84);
	a->orgn = get_u16(p + 86);
	a->nhits = get_u16(p + 88);
	a->ncands = p[90];
	a->nreps = p[91];
	p += K_HEAD;
	if (a->nhits > SL_POLICY_MAX_HITS || a->ncands > nrules ||
	    a->nreps > nrules || (size_t)(end - p) != a->didn + a->orgn +
	    a->nhits * K_HIT + a->ncands * K_CAND + a->nreps * K_REP)
		return SL_EINVAL;
	a->didp = a->didn ? p : NULL;
	p += a->didn;
	a->orgp = a->orgn ? p : NULL;
	p += a->orgn;
	for (i = 0; i < a->nhits; i++, p += K_HIT) {
		struct sl_policy_open_hit *h = &a->hits[i];

		h->hit.rule = get_u16(p);
		h->hit.severity = p[2];
		h->esc_severity = p[3];
		h->hit.field = (int16_t)get_u16(p + 4);
		h->hit.pad = 0;
		h->due_ms = (int64_t)sl_enc_rdle64(p + 6);
		h->esc_ms = (int64_t)sl_enc_rdle64(p + 14);
		if (h->hit.rule >= nrules)
			return SL_EINVAL;
	}
	for (i = 0; i < a->ncands; i++, p += K_CAND) {
		a->cands[i].rule = get_u16(p);
		a->cands[i].due = (int64_t)sl_enc_rdle64(p + 2);
		if (a->cands[i].rule >= nrules)
			return SL_EINVAL;
	}
	for (i = 0; i < a->nreps; i++, p += K_REP) {
		a->reps[i].rule = get_u16(p);
		a->reps[i].text = sl_enc_rdle64(p + 2);
		a->reps[i].by = sl_enc_rdle64(p + 10);
		if (a->reps[i].rule >= nrules)
			return SL_EINVAL;
	}
	return 0;
}

static int judge(struct sl_comp_result *r, struct vec *raws,
    const struct sl_record_view *v, uint64_t seq, int64_t recorded_ms,
    uint8_t phase)
{
	struct sl_policy_hit hits[MAX_HITS];
	struct sl_policy_time t = { r->opts.as_of_ms, recorded_ms };
	size_t nh = sl_policy_eval(r->pol, v, &t, hits, MAX_HITS);
	size_t i;

	for (i = 0; i < nh; i++) {
		struct raw f = { seq, hits[i].rule, hits[i].severity, phase,
			hits[i].field };

		if (vec_push(raws, &f))
			return SL_ENOMEM;
	}
	return 0;
}

/*
 * Judge entry @seq on its own; @pe is its envelope when already peeked.
 * @pv is its record's view when the caller has already walked it (the
 * integrity pass, sl_comp_visit) over a copy of the entry starting at
 * @at: what the run keeps past the call is then placed in the run's own
 * bytes of the entry instead.
 */
static int one_entry(struct worker *w, uint64_t seq,
    const struct sl_entry_view *pe, const struct sl_record_view *pv,
    const uint8_t *at)
{
	struct sl_comp_result *r = w->r;
	struct ent *en = &r->ents[seq];
	struct sl_entry_view ev;
	struct sl_record_view own;
	const struct sl_record_view *vp = pv;
	struct alone a;

	if (pe) {
		ev = *pe;
	} else if (!en->p || sl_entry_peek(&ev, en->p, en->n)) {
		r->units[seq].root = NONE;
		r->units[seq].org = UINT32_MAX;
		r->units[seq].flags = U_BAD;
		return 0;
	}
	/* no walk for a record that is not judged at this time */
	if (!pv && ev.type >= SL_ET_DECISION && ev.type <= SL_ET_INFORM_UPDATE
	    && ev.recorded_ms <= r->opts.as_of_ms)
		vp = sl_record_view_scan(&own, ev.record, ev.record_len,
		    &w->e) ? NULL : &own;
	alone_of(r, &a, ev.type, ev.recorded_ms, vp);
	return alone_apply(w, seq, &a, at, pv && at != en->p ? en->p : NULL);
}

/*
 * A bundle's slices are of the file's bytes, not of seqs: the lines that
 * start in one, each placed by the seq it carries (the integrity pass
 * has checked that seq is the line's position). No serial pass over the
 * file is needed to find where each line starts.
 */
static void work_bytes(struct worker *w)
{
	struct sl_comp_result *r = w->r;
	const uint8_t *end = r->map + r->maplen;
	const uint8_t *p = r->map + w->from;
	const uint8_t *stop = r->map + w->to;

	if (w->from > 0) {          /* the line in progress is the previous
				     * slice's */
		p = memchr(p - 1, '\n', (size_t)(end - p + 1));
		p = p ? p + 1 : end;
	}
	while (p < stop && !w->rc) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct sl_entry_view ev;

		if (!sl_entry_peek(&ev, p, n) && ev.seq < r->n &&
		    !r->ents[ev.seq].p) {
			r->ents[ev.seq].p = p;
			r->ents[ev.seq].n = n;
			w->rc = one_entry(w, ev.seq, &ev, NULL, NULL);
			w->seen++;
		}
		p += n + 1;
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct slices *sl = w->sl;

	while (!w->rc) {
		uint64_t k = atomic_fetch_add(&sl->next, 1);
		uint64_t s;

		if (k >= (sl->all + sl->step - 1) / sl->step)
			break;
		w->from = k * sl->step;
		w->to = w->from + sl->step < sl->all ? w->from + sl->step :
		    sl->all;
		if (w->r->map) {
			work_bytes(w);
			continue;
		}
		for (s = w->from; s < w->to && !w->rc; s++)
			w->rc = one_entry(w, s, NULL, NULL, NULL);
	}
	return NULL;
}

/*
 * Append @src's elements to @dst, leaving @src empty (the caller still
 * frees it). Into an empty @dst the storage itself moves: copying a
 * worker's findings into fresh memory cost the kept rules a page fault
 * and a page cleared every 4 KiB, which on a machine that traps each is
 * most of the copy.
 */
static int vec_take(struct vec *dst, struct vec *src)
{
	if (!src->n)
		return 0;
	if (!dst->n) {
		free(dst->p);
		dst->p = src->p;
		dst->n = src->n;
		dst->cap = src->cap;
		src->p = NULL;
		src->n = src->cap = 0;
		return 0;
	}
	if (vec_reserve(dst, src->n))
		return SL_ENOMEM;
	memcpy((char *)dst->p + dst->n * dst->size, src->p, src->n * src->size);
	dst->n += src->n;
	src->n = 0;
	return 0;
}

/* Workers for @work items: as asked (0 = one per core), at most 64, and
 * no more than one per @per items. */
static int thread_count(int asked, uint64_t work, uint64_t per)
{
	int t = asked;

	if (t < 1)
		t = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (t < 1)
		t = 1;
	if (t > SL_COMP_WORKERS)
		t = SL_COMP_WORKERS;
	if ((uint64_t)t > work / per + 1)
		t = (int)(work / per + 1);
	return t;
}

/*
 * Run @fn on @n workers (an array of structs of @size bytes at @base, at
 * most 64): worker 0 on this thread, the others on their own; one whose
 * thread cannot be started runs here too, so no slice is ever skipped.
 */
static void run_workers(void *(*fn)(void *), void *base, size_t size, int n)
{
	pthread_t th[64];
	int started[64];
	int t;

	for (t = 1; t < n; t++) {
		void *arg = (char *)base + (size_t)t * size;

		started[t] = !pthread_create(&th[t], NULL, fn, arg);
		if (!started[t])
			fn(arg);
	}
	fn(base);
	for (t = 1; t < n; t++)
		if (started[t])
			pthread_join(th[t], NULL);
}

/* Workers' scratch, ready for slices or for visits. */
static void workers_init(struct sl_comp_result *r, struct worker *w, int n,
    struct slices *sl)
{
	int t;

	memset(w, 0, (size_t)n * sizeof(*w));
	for (t = 0; t < n; t++) {
		w[t].r = r;
		w[t].sl = sl;
		w[t].raws.size = sizeof(struct raw);
		w[t].cands.size = sizeof(struct cand);
		w[t].reps.size = sizeof(struct rep);
	}
}

/* The findings @n workers hold, dropped. */
static void workers_free(struct worker *w, int n)
{
	int t;

	for (t = 0; t < n; t++) {
		free(w[t].raws.p);
		free(w[t].cands.p);
		free(w[t].reps.p);
		w[t].raws.p = w[t].cands.p = w[t].reps.p = NULL;
	}
}

/* Phase 1's results, gathered from @n workers (whose scratch is freed);
 * @seen is how many entries they placed. */
static int workers_gather(struct sl_comp_result *r, struct worker *w, int n,
    uint64_t *seen)
{
	int t;
	int rc = 0;

	*seen = 0;
	for (t = 0; t < n; t++) {
		*seen += w[t].seen;
		r->nfollow += w[t].follow;
		if (!rc && w[t].rc)
			rc = w[t].rc;
		if (!rc)
			rc = vec_take(&r->raws, &w[t].raws);
		if (!rc)
			rc = vec_take(&r->cands, &w[t].cands);
		if (!rc)
			rc = vec_take(&r->reps, &w[t].reps);
	}
	workers_free(w, n);
	if (rc)
		return sl_err_set(r->e, rc, "out of memory judging the log");
	return 0;
}

static int phase1(struct sl_comp_result *r, int threads)
{
	struct worker w[64];
	uint64_t seen = 0;
	struct slices sl;
	int rc;

	threads = thread_count(threads, r->n, 1024);
	/* bytes of a bundle (about 2 MB, 1,500 entries), seqs of a store */
	atomic_init(&sl.next, 0);
	sl.all = r->map ? r->maplen : r->n;
	sl.step = r->map ? UINT64_C(1) << 21 : 2048;
	workers_init(r, w, threads, &sl);
	run_workers(work, w, sizeof(w[0]), threads);
	rc = workers_gather(r, w, threads, &seen);
	if (rc)
		return rc;
	if (r->map && seen != r->n)
		return sl_err_set(r->e, SL_EINTEGRITY, "the bundle changed "
		    "after its integrity was checked: %llu of its first %llu "
		    "entries found", (unsigned long long)seen,
		    (unsigned long long)r->n);
	return 0;
}

/* ---- phase 2 ---------------------------------------------------------- */

/*
 * The record ids follow-ups refer to -> the first seq that has each
 * (NONE until one has been seen), open addressing on the 128-bit hash.
 * Only the ids referred to are kept (a tenth of a log's): the table stays
 * in the caches while every record's id is looked up in it, in one pass
 * in log order.
 */
struct idslot {
	uint64_t id[2];          /* 0, 0: empty */
	uint64_t seq;
};

struct idmap {
	struct idslot *t;
	size_t mask;
};

static int idmap_init(struct idmap *m, uint64_t n)
{
	size_t cap = 1024;

	while (cap < n * 2)
		cap <<= 1;
	m->t = sl_mem_calloc(cap, sizeof(*m->t));
	if (!m->t)
		return SL_ENOMEM;
	m->mask = cap - 1;
	return 0;
}

/* The slot of @id, added (seq NONE) when @add and not there yet. */
static struct idslot *idmap_slot(struct idmap *m, const uint64_t id[2],
    int add)
{
	size_t h = (size_t)id[0] & m->mask;

	while (m->t[h].id[0] || m->t[h].id[1]) {
		if (m->t[h].id[0] == id[0] && m->t[h].id[1] == id[1])
			return &m->t[h];
		h = (h + 1) & m->mask;
	}
	if (!add)
		return NULL;
	m->t[h].id[0] = id[0];
	m->t[h].id[1] = id[1];
	m->t[h].seq = NONE;
	return &m->t[h];
}

/* decision_id -> the last seq of each record type in the thread */
struct thr {
	uint64_t did[2];
	uint64_t last[SL_ET_COUNT];
};

struct thrmap {
	struct thr *t;
	size_t mask;
};

static struct thr *thr_get(struct thrmap *m, const uint64_t did[2], int add)
{
	size_t h = (size_t)did[1] & m->mask;

	while (m->t[h].did[0] || m->t[h].did[1]) {
		if (m->t[h].did[0] == did[0] && m->t[h].did[1] == did[1])
			return &m->t[h];
		h = (h + 1) & m->mask;
	}
	if (!add)
		return NULL;
	m->t[h].did[0] = did[0];
	m->t[h].did[1] = did[1];
	memset(m->t[h].last, 0xff, sizeof(m->t[h].last));
	return &m->t[h];
}

static int cmp_ov(const void *a, const void *b)
{
	const struct ov *x = a, *y = b;

	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int view_at(struct sl_comp_result *r, struct sl_record_view *v,
    uint64_t seq)
{
	struct sl_entry_view ev;
	struct sl_err e;

	if (sl_entry_peek(&ev, r->ents[seq].p, r->ents[seq].n))
		return SL_EINVAL;
	return sl_record_view_scan(v, ev.record, ev.record_len, &e);
}

/* What a follow-up adds to its decision: every field it carries except
 * those that identify a record (fixed at the decision). */
static void merge(struct sl_record_view *v, const struct sl_record_view *f,
    const int *overlay)
{
	int k;

	for (k = 0; k < SL_RECORD_VIEW_FIELDS; k++) {
		if (!overlay[k])
			continue;
		if (f->val[k]) {
			v->val[k] = f->val[k];
			v->len[k] = f->len[k];
			v->code[k] = f->code[k];
		}
		if (f->text[k]) {
			v->text[k] = f->text[k];
			v->tlen[k] = f->tlen[k];
		}
	}
}

/* Into @v, decision ov[0].root as it stands with its follow-ups
 * ov[0..n) merged in, in order (@f is scratch). */
static int amended_view(struct sl_comp_result *r, struct sl_record_view *v,
    struct sl_record_view *f, const struct ov *ov, size_t n)
{
	size_t i;

	if (view_at(r, v, ov[0].root))
		return SL_EINVAL;
	for (i = 0; i < n; i++)
		if (!view_at(r, f, ov[i].seq))
			merge(v, f, r->overlay);
	return 0;
}

/* Judge root again with every follow-up that added to it, in order
 * (on phase 2's worker @worker); the caller is told of it as it stands. */
static int rejudge(struct sl_comp_result *r, unsigned worker,
    struct vec *raws, struct vec *cands, const struct ov *ov, size_t n)
{
	struct sl_record_view v, f;
	struct kcand kc[SL_POLICY_MAX_RULES];
	uint64_t root = ov[0].root;
	size_t i, nc;
	int rc;

	if (amended_view(r, &v, &f, ov, n))
		return 0;
	if (r->opts.amended && (rc = r->opts.amended(r->opts.amended_ctx,
	    worker, root, &v)) != 0)
		return rc;
	r->units[root].flags |= U_REEVAL;
	open_checks(r, &v, kc, &nc, NULL, NULL);
	for (i = 0; i < nc; i++) {
		struct cand c = { root, kc[i].rule, 2 };

		if (kc[i].due < r->opts.as_of_ms && vec_push(cands, &c))
			return SL_ENOMEM;
	}
	return judge(r, raws, &v, root, r->ents[root].recorded_ms, 2);
}

/* The decisions to judge again, sorted by root, in slices of whole
 * threads: one per core (a tenth of a log's decisions have follow-ups). */
struct rj {
	struct sl_comp_result *r;
	const struct ov *o;
	unsigned index;
	size_t from, to;
	struct vec raws, cands;
	int rc;
};

static void *rejudge_work(void *arg)
{
	struct rj *w = arg;
	size_t a = w->from;

	while (a < w->to && !w->rc) {
		size_t b = a;

		while (b < w->to && w->o[b].root == w->o[a].root)
			b++;
		w->rc = rejudge(w->r, w->index, &w->raws, &w->cands, w->o + a,
		    b - a);
		a = b;
	}
	return NULL;
}

/*
 * From kept judgements no entry was read: those of the decisions to
 * judge again and their follow-ups are read now, here, before the
 * workers start (a read transaction is not shared between threads).
 */
static int read_walked(struct sl_comp_result *r, const struct ov *o,
    size_t n)
{
	size_t i;
	int j;

	for (i = 0; i < n; i++) {
		uint64_t q[2] = { o[i].root, o[i].seq };

		for (j = 0; j < 2; j++) {
			struct ent *en = &r->ents[q[j]];
			int rc;

			if (en->p)
				continue;
			rc = sl_store_get(&en->p, &en->n, r->txn, q[j]);
			if (rc)
				return sl_err_set(r->e, rc, "cannot read entry "
				    "%llu of the store to judge its thread "
				    "again", (unsigned long long)q[j]);
		}
	}
	return 0;
}

static int rejudge_all(struct sl_comp_result *r, struct ov *o, size_t n)
{
	struct rj w[SL_COMP_WORKERS];
	int threads = thread_count(r->opts.threads, n, 256);
	int t;
	int rc = 0;

	qsort(o, n, sizeof(*o), cmp_ov);
	if (r->kept && (rc = read_walked(r, o, n)) != 0)
		return rc;
	memset(w, 0, sizeof(w));
	for (t = 0; t < threads; t++) {
		size_t b = n * (size_t)t / (size_t)threads;

		/* a slice starts at a thread's first follow-up */
		while (b > 0 && b < n && o[b].root == o[b - 1].root)
			b++;
		w[t].from = b;
		if (t)
			w[t - 1].to = b;
		w[t].r = r;
		w[t].o = o;
		w[t].index = (unsigned)t;
		w[t].raws.size = sizeof(struct raw);
		w[t].cands.size = sizeof(struct cand);
	}
	w[threads - 1].to = n;
	run_workers(rejudge_work, w, sizeof(w[0]), threads);
	for (t = 0; t < threads; t++) {
		if (!rc)
			rc = w[t].rc;
		if (!rc)
			rc = vec_take(&r->raws, &w[t].raws);
		if (!rc)
			rc = vec_take(&r->cands, &w[t].cands);
		free(w[t].raws.p);
		free(w[t].cands.p);
	}
	return rc;
}

static int cmp_rep(const void *a, const void *b)
{
	const struct rep *x = a, *y = b;

	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	if (x->by != y->by)
		return x->by < y->by ? -1 : 1;
	if (x->text != y->text)
		return x->text < y->text ? -1 : 1;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The (rule, author, text) a repeated_text entry counts under, as one
 * 64-bit key, never 0 (an empty slot); two different ones that collide
 * only make the group kept for the exact comparison after sorting
 * larger. */
static uint64_t rep_key(const struct rep *x)
{
	uint64_t k = (x->by * 0x9e3779b97f4a7c15ull ^ x->text) + x->rule + 1;

	return k ? k : 1;
}

#define REP_PART_BITS 8

/*
 * Keep at the front of rp[0..n) the entries whose key occurs at least its
 * rule's count times, and say how many (SIZE_MAX: out of memory). Most
 * texts appear once, so this leaves few to sort. A table of a million
 * keys is far bigger than the caches and each lands at random in it: the
 * entries are first spread over 256 partitions by key (writes in
 * order), and each partition is counted in a table that stays cached.
 */
static size_t rep_keep(const struct sl_comp_result *r, struct rep *rp,
    size_t n)
{
	size_t off[1 << REP_PART_BITS] = { 0 };
	size_t end[1 << REP_PART_BITS];
	size_t biggest = 0, cap = 64, mask, i, k = 0;
	unsigned pt;
	struct rep *tmp = sl_mem_malloc(n * sizeof(*tmp));
	struct {
		uint64_t key;
		uint32_t count;
	} *tab = NULL;

	if (!tmp)
		return SIZE_MAX;
	for (i = 0; i < n; i++)
		off[rep_key(&rp[i]) >> (64 - REP_PART_BITS)]++;
	for (pt = 0, i = 0; pt < 1u << REP_PART_BITS; pt++) {
		size_t c = off[pt];

		if (c > biggest)
			biggest = c;
		off[pt] = i;
		i += c;
		end[pt] = i;
	}
	for (i = 0; i < n; i++)
		tmp[off[rep_key(&rp[i]) >> (64 - REP_PART_BITS)]++] = rp[i];
	while (cap < biggest * 2)
		cap <<= 1;
	mask = cap - 1;
	tab = sl_mem_malloc(cap * sizeof(*tab));
	if (!tab) {
		free(tmp);
		return SIZE_MAX;
	}
	for (pt = 0; pt < 1u << REP_PART_BITS; pt++) {
		size_t from = pt ? end[pt - 1] : 0;

		memset(tab, 0, cap * sizeof(*tab));
		for (i = from; i < end[pt]; i++) {
			uint64_t key = rep_key(&tmp[i]);
			size_t h = (size_t)(key ^ (key >> 29)) & mask;

			while (tab[h].key && tab[h].key != key)
				h = (h + 1) & mask;
			tab[h].key = key;
			tab[h].count++;
		}
		for (i = from; i < end[pt]; i++) {
			uint64_t key = rep_key(&tmp[i]);
			size_t h = (size_t)(key ^ (key >> 29)) & mask;

			while (tab[h].key != key)
				h = (h + 1) & mask;
			if (tab[h].count >= sl_policy_rule(r->pol,
			    tmp[i].rule)->count)
				rp[k++] = tmp[i];
		}
	}
	free(tab);
	free(tmp);
	return k;
}

#undef REP_PART_BITS

/* repeated_text: every text that appears at least count times from the
 * same author within a window of days. Only the groups that reach the
 * count are sorted by time. */
static int repeated(struct sl_comp_result *r, struct vec *raws)
{
	struct rep *rp = r->reps.p;
	size_t n = r->reps.n;
	size_t i;
	uint8_t *flag = NULL;
	int rc = SL_ENOMEM;

	if (!n)
		return 0;
	n = rep_keep(r, rp, n);
	if (n == SIZE_MAX)
		return SL_ENOMEM;
	if (!n)
		return 0;
	qsort(rp, n, sizeof(*rp), cmp_rep);
	flag = sl_mem_calloc(n, 1);
	if (!flag)
		return SL_ENOMEM;
	i = 0;
	while (i < n) {
		size_t g = i, j, lo;
		const struct sl_policy_rule *ru = sl_policy_rule(r->pol,
		    rp[i].rule);
		int64_t win = (int64_t)ru->days * 86400000;

		while (g < n && rp[g].rule == rp[i].rule &&
		    rp[g].by == rp[i].by && rp[g].text == rp[i].text)
			g++;
		for (lo = i, j = i; j < g; j++) {
			while (rp[j].at - rp[lo].at > win)
				lo++;
			if (j - lo + 1 >= ru->count) {
				size_t q;

				for (q = lo; q <= j; q++)
					flag[q] = 1;
			}
		}
		i = g;
	}
	for (i = 0; i < n; i++) {
		const struct sl_policy_rule *ru;
		struct raw f;

		if (!flag[i])
			continue;
		ru = sl_policy_rule(r->pol, rp[i].rule);
		f = (struct raw){ rp[i].seq, rp[i].rule, (uint8_t)ru->severity,
			3, (int16_t)ru->text_field };
		if (vec_push(raws, &f))
			goto out;
	}
	rc = 0;
out:
	free(flag);
	return rc;
}

/* repeated_text needs only phase 1's texts: it runs on its own thread
 * while the threads are linked (serial) and judged again. */
struct rep_job {
	struct sl_comp_result *r;
	struct vec raws;
	int rc;
};

static void *repeated_work(void *arg)
{
	struct rep_job *j = arg;

	j->rc = repeated(j->r, &j->raws);
	return NULL;
}

/* Follow-up @s into its thread: the decision it belongs to (through the
 * record it refers to, which must be earlier and of the same decision),
 * or a refers_to finding. */
static int link_follow_up(struct sl_comp_result *r, struct thrmap *thr,
    struct idmap *ids, struct vec *ovs, uint64_t s)
{
	struct unit *u = &r->units[s];
	struct thr *th = thr_get(thr, u->did, 1);
	const struct idslot *at = NULL;
	uint64_t t;
	size_t i;

	th->last[u->etype] = s;
	if (u->ref[0] || u->ref[1])
		at = idmap_slot(ids, u->ref, 0);
	t = at ? at->seq : NONE;     /* only records before s are in yet */
	if (t == NONE || r->units[t].did[0] != u->did[0] ||
	    r->units[t].did[1] != u->did[1]) {
		if (!(u->flags & U_REFERS))
			return 0;
		for (i = 0; i < sl_policy_count(r->pol); i++) {
			const struct sl_policy_rule *ru = sl_policy_rule(r->pol,
			    i);
			struct raw f = { s, (uint16_t)i, (uint8_t)ru->severity,
				3, (int16_t)r->f_refers };

			if (ru->check == SL_CHECK_REFERS_TO &&
			    vec_push(&r->raws, &f))
				return SL_ENOMEM;
		}
		return 0;
	}
	u->root = is_judged(r->units[t].etype) ? t : r->units[t].root;
	if (u->root != NONE && is_overlay(u->etype)) {
		struct ov o = { u->root, s };

		if (vec_push(ovs, &o))
			return SL_ENOMEM;
	}
	return 0;
}

static int phase2(struct sl_comp_result *r)
{
	struct idmap ids = { NULL, 0 };
	struct thrmap thr = { NULL, 0 };
	struct vec ovs = { NULL, 0, 0, sizeof(struct ov) };
	struct rep_job rj = { r, { NULL, 0, 0, sizeof(struct raw) }, 0 };
	pthread_t rt;
	int rt_on;
	size_t cap = 1024;
	uint64_t s;
	size_t i;
	int rc = SL_ENOMEM;

	rt_on = !pthread_create(&rt, NULL, repeated_work, &rj);
	if (idmap_init(&ids, r->nfollow))
		goto out;
	for (s = 0; s < r->n; s++) {
		const struct unit *u = &r->units[s];

		if (is_follow_up(u) && (u->ref[0] || u->ref[1]))
			idmap_slot(&ids, u->ref, 1);
	}
	while (cap < r->nfollow * 2 + 16)
		cap <<= 1;
	thr.t = sl_mem_calloc(cap, sizeof(*thr.t));
	if (!thr.t)
		goto out;
	thr.mask = cap - 1;
	/* In log order: a follow-up is linked to what came before it, then
	 * every record's id becomes known to those after it (the first
	 * record with an id keeps it). A reference to the record itself or
	 * to a later one finds nothing: a finding, as for one that does not
	 * exist. */
	for (s = 0; s < r->n; s++) {
		struct unit *u = &r->units[s];
		struct idslot *mine;

		if (!(u->flags & U_CLIENT))
			continue;
		if (is_follow_up(u) && link_follow_up(r, &thr, &ids, &ovs, s))
			goto out;
		mine = idmap_slot(&ids, u->rid, 0);
		if (mine && mine->seq == NONE)
			mine->seq = s;
	}
	/* Decisions that follow-ups added to: judged again, as a whole. */
	if (ovs.n && (rc = rejudge_all(r, ovs.p, ovs.n)) != 0)
		goto out;
	rc = SL_ENOMEM;
	/* follow_up: answered by a later record of the thread? */
	{
		struct cand *c = r->cands.p;

		for (i = 0; i < r->cands.n; i++) {
			const struct unit *u = &r->units[c[i].seq];
			const struct sl_policy_rule *ru = sl_policy_rule(r->pol,
			    c[i].rule);
			struct thr *th;
			int answered = 0;
			int et;
			struct raw f;

			/* a decision judged again keeps its phase-2 dates */
			if ((u->flags & U_REEVAL) && c[i].phase == 1)
				continue;
			th = thr_get(&thr, u->did, 0);
			for (et = SL_ET_DECISION; th && et <= SL_ET_INFORM_UPDATE;
			    et++)
				if ((ru->answered_by & rt_of(et)) &&
				    th->last[et] != NONE &&
				    th->last[et] > c[i].seq)
					answered = 1;
			if (answered)
				continue;
			f = (struct raw){ c[i].seq, c[i].rule,
				(uint8_t)ru->severity, c[i].phase,
				(int16_t)ru->due_field };
			if (vec_push(&r->raws, &f))
				goto out;
		}
	}
	if (rt_on) {
		pthread_join(rt, NULL);
		rt_on = 0;
	} else {
		repeated_work(&rj);
	}
	if (rj.rc || vec_take(&r->raws, &rj.raws))
		goto out;
	rc = 0;
out:
	if (rt_on)
		pthread_join(rt, NULL);
	free(rj.raws.p);
	free(ids.t);
	free(thr.t);
	free(ovs.p);
	if (rc == SL_ENOMEM)
		return sl_err_set(r->e, rc, "out of memory judging decision "
		    "threads");
	return rc;      /* 0, or an entry not read (r->e says which) */
}

/* ---- results ---------------------------------------------------------- */

static int cmp_raw(const void *a, const void *b)
{
	const struct raw *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	if (x->field != y->field)
		return x->field - y->field;
	/* a total order: phase 1 hands its findings over in no set order */
	if (x->phase != y->phase)
		return x->phase - y->phase;
	return x->severity - y->severity;
}

static const struct sl_comp_result *sort_ctx;

static int cmp_org_idx(const void *a, const void *b)
{
	return strcmp(sort_ctx->orgs[*(const uint32_t *)a].name,
	    sort_ctx->orgs[*(const uint32_t *)b].name);
}

static int in_window(const struct sl_comp_result *r, const struct unit *u)
{
	return u->decided_ms >= r->opts.from_ms && u->decided_ms < r->opts.to_ms;
}

static int finish(struct sl_comp_result *r)
{
	struct raw *raw = r->raws.p;
	size_t nr = r->raws.n;
	size_t nrules = sl_policy_count(r->pol);
	size_t norg = r->norgs + 1;      /* last: records without one */
	uint64_t *cnt = NULL;            /* [org][rule][sev 0/1][2] */
	uint32_t *order = NULL;
	char **names = NULL;
	size_t i, j, o;
	uint64_t last_seq = NONE;
	int worst = 0;
	int rc = SL_ENOMEM;

	if (nr)
		qsort(raw, nr, sizeof(*raw), cmp_raw);
	r->findings = sl_mem_calloc(nr ? nr : 1, sizeof(*r->findings));
	cnt = calloc(norg * nrules * 4, sizeof(uint64_t));
	r->orgstats = calloc(norg, sizeof(*r->orgstats));
	order = calloc(norg, sizeof(*order));
	names = calloc(norg, sizeof(*names));
	if (!r->findings || !cnt || !r->orgstats || !order || !names)
		goto out;
	for (o = 0; o < r->norgs; o++)
		names[o] = r->orgs[o].name ? r->orgs[o].name : "";
	names[r->norgs] = "";
	/* decision ids of records with findings, printed once each */
	for (i = 0; i < nr; i++) {
		const struct unit *u = &r->units[raw[i].seq];
		uint32_t org = u->org < r->norgs ? u->org : (uint32_t)r->norgs;
		struct sl_comp_finding *f;
		uint64_t *c;

		if ((u->flags & U_REEVAL) && raw[i].phase == 1)
			continue;    /* superseded by the thread's judgement */
		if (!in_window(r, u))
			continue;
		if (raw[i].seq != last_seq) {
			last_seq = raw[i].seq;
			worst = 0;
		}
		f = &r->findings[r->nfindings++];
		f->seq = raw[i].seq;
		f->rule = raw[i].rule;
		f->severity = raw[i].severity;
		f->field = raw[i].field;
		f->organisation = names[org];
		f->decision_id = NULL;
		if (raw[i].severity == SL_SEV_ERROR)
			r->errors++;
		else
			r->warnings++;
		c = &cnt[((org * nrules + raw[i].rule) * 2 +
		    (raw[i].severity == SL_SEV_ERROR)) * 2];
		c[0]++;
		/* decisions with at least one: the first finding of the rule
		 * in this record (same-rule findings are adjacent) */
		if (r->nfindings < 2 || f[-1].seq != f->seq ||
		    f[-1].rule != f->rule)
			c[1]++;
		if (raw[i].severity > worst) {
			if (worst == 0 && raw[i].severity == SL_SEV_WARNING)
				r->orgstats[org].with_warnings++;
			else if (worst == 0)
				r->orgstats[org].with_errors++;
			else {
				r->orgstats[org].with_warnings--;
				r->orgstats[org].with_errors++;
			}
			worst = raw[i].severity;
		}
	}
	/* strings for the findings: the decision id of each record */
	{
		size_t total = 0;
		char *sp;

		for (i = 0; i < r->nfindings; i++)
			total += r->units[r->findings[i].seq].didn + 1;
		r->strings = malloc(total + 1);
		if (!r->strings)
			goto out;
		sp = r->strings;
		for (i = 0; i < r->nfindings; i++) {
			const struct unit *u = &r->units[r->findings[i].seq];

			if (i && r->findings[i - 1].seq == r->findings[i].seq) {
				r->findings[i].decision_id =
				    r->findings[i - 1].decision_id;
				continue;
			}
			r->findings[i].decision_id = sp;
			if (u->didp && u->didn >= 2)
				sp += unquote(sp, u->didp, u->didn) + 1;
			else
				*sp++ = '\0';
		}
	}
	/* per organisation: decisions judged, follow-ups */
	for (i = 0; i < r->n; i++) {
		const struct unit *u = &r->units[i];
		uint32_t org = u->org < r->norgs ? u->org : (uint32_t)r->norgs;

		if (!(u->flags & U_CLIENT) || !in_window(r, u))
			continue;
		if (u->flags & U_JUDGED) {
			r->orgstats[org].decisions++;
			r->judged++;
		} else {
			r->orgstats[org].follow_ups++;
		}
	}
	/* organisations in name order, then counts per org and rule */
	for (o = 0; o < norg; o++)
		order[o] = (uint32_t)o;
	sort_ctx = r;
	if (r->norgs > 1)
		qsort(order, r->norgs, sizeof(*order), cmp_org_idx);
	{
		struct sl_comp_org *sorted = calloc(norg + 1, sizeof(*sorted));
		size_t k = 0;

		r->counts = calloc(norg * nrules * 2 + 1, sizeof(*r->counts));
		if (!sorted || !r->counts) {
			free(sorted);
			goto out;
		}
		for (o = 0; o < norg; o++) {
			uint32_t g = order[o];

			if (!r->orgstats[g].decisions && !r->orgstats[g].follow_ups)
				continue;
			sorted[k] = r->orgstats[g];
			sorted[k++].organisation = names[g];
			for (j = 0; j < nrules; j++) {
				int sv;

				for (sv = 1; sv >= 0; sv--) {
					uint64_t *c = &cnt[((g * nrules + j) * 2 +
					    (size_t)sv) * 2];

					if (!c[0])
						continue;
					r->counts[r->ncounts++] = (struct
					    sl_comp_count){ names[g], (uint16_t)j,
					    (uint8_t)(sv ? SL_SEV_ERROR :
					    SL_SEV_WARNING), c[0], c[1] };
				}
			}
		}
		free(r->orgstats);
		r->orgstats = sorted;
		r->orgstats[k].organisation = NULL;
	}
	rc = 0;
out:
	free(cnt);
	free(order);
	free(names);
	if (rc)
		return sl_err_set(r->e, rc, "out of memory");
	return 0;
}

/* ---- entry points ----------------------------------------------------- */

static void init_overlay(int *overlay)
{
	static const char *const fixed[] = { "schema_version", "record_id",
		"record_type", "decision_id", "refers_to_record_id",
		"decided_at", "organisation_id", "practitioner_id",
		"practitioner_role", "case_ref", "child_ref", "child_id",
		"signature", "amendment_reason", "outcome_type",
		"new_information_summary", NULL };
	size_t nf;
	size_t i;

	sl_schema_fields(&nf);
	for (i = 0; i < SL_RECORD_VIEW_FIELDS; i++)
		overlay[i] = i < nf;
	for (i = 0; fixed[i]; i++) {
		int k = sl_record_field_index(fixed[i], strlen(fixed[i]));

		if (k >= 0)
			overlay[k] = 0;
	}
}

static void init_fields(struct sl_comp_result *r)
{
	size_t i;

	init_overlay(r->overlay);
	r->f_record_id = sl_record_field_index("record_id", 9);
	r->f_refers = sl_record_field_index("refers_to_record_id", 19);
	r->f_decision_id = sl_record_field_index("decision_id", 11);
	r->f_decided = sl_record_field_index("decided_at", 10);
	r->f_org = sl_record_field_index("organisation_id", 15);
	for (i = 0; i < sl_policy_count(r->pol); i++) {
		int c = sl_policy_rule(r->pol, i)->check;

		if (c == SL_CHECK_FOLLOW_UP || c == SL_CHECK_REPEATED_TEXT)
			r->thr_rules[r->nthr_rules++] = (uint16_t)i;
		else if (c == SL_CHECK_REFERS_TO)
			r->ref_rules[r->nref_rules++] = (uint16_t)i;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A run with its log open and nothing judged yet. */
static int comp_new(struct sl_comp_result **out, const char *path,
    const struct sl_comp_opts *o, int collect, struct sl_err *e)
{
	struct sl_comp_result *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	r->t0 = now_s();
	r->opts = *o;
	r->pol = o->policy;
	r->e = e;
	r->n = o->upto;
	r->raws.size = sizeof(struct raw);
	r->cands.size = sizeof(struct cand);
	r->reps.size = sizeof(struct rep);
	pthread_mutex_init(&r->org_lock, NULL);
	init_fields(r);
	rc = open_log(r, path, collect);
	if (!rc) {
		r->units = sl_mem_calloc(r->n ? r->n : 1, sizeof(*r->units));
		if (!r->units)
			rc = sl_err_set(e, SL_ENOMEM, "out of memory");
	}
	if (rc) {
		sl_comp_free(r);
		return rc;
	}
	r->t_read = now_s() - r->t0;
	*out = r;
	return 0;
}

/* Phase 1 when the entries have not all been visited, then the rest. */
static int comp_finish(struct sl_comp_result *r)
{
	double t1 = now_s(), t2, t3;
	int rc = 0;

	if (!r->visited)
		rc = phase1(r, r->opts.threads);
	t2 = now_s();
	if (!rc)
		rc = phase2(r);
	t3 = now_s();
	if (!rc)
		rc = finish(r);
	if (getenv("SL_COMP_TIMES"))
		fprintf(stderr, "read %.3f phase1 %.3f%s phase2 %.3f "
		    "finish %.3f\n", r->t_read, t2 - t1, r->visited ?
		    " (visited)" : "", t3 - t2, now_s() - t3);
	r->seconds = now_s() - r->t0;
	return rc;
}

int sl_comp_run(struct sl_comp_result **out, const char *path,
    const struct sl_comp_opts *o, struct sl_err *e)
{
	int rc = comp_new(out, path, o, 1, e);

	if (!rc && (rc = comp_finish(*out)) != 0) {
		sl_comp_free(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- judged from the kept judgements --------------------------------- */

struct sl_comp_keeper {
	struct sl_comp_result r;  /* the policy's rules and fields only */
};

int sl_comp_keeper_id(uint8_t out[SL_HASH_LEN], const struct sl_policy *p)
{
	static const char tag[] = "sharelog kept judgements 1\n";
	uint8_t m[sizeof(tag) - 1 + SL_HASH_LEN];
	struct sl_hash *h;
	int rc = sl_hash_new(&h);

	if (rc)
		return rc;
	memcpy(m, tag, sizeof(tag) - 1);
	memcpy(m + sizeof(tag) - 1, sl_policy_sha256(p), SL_HASH_LEN);
	rc = sl_hash_sha256(out, h, m, sizeof(m));
	sl_hash_free(h);
	return rc;
}

int sl_comp_keeper_new(struct sl_comp_keeper **out,
    const struct sl_policy *p, struct sl_err *e)
{
	struct sl_comp_keeper *k = calloc(1, sizeof(*k));

	*out = NULL;
	if (!k)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	k->r.pol = p;
	init_fields(&k->r);
	*out = k;
	return 0;
}

void sl_comp_keeper_free(struct sl_comp_keeper *k)
{
	free(k);
}

size_t sl_comp_keep(const struct sl_comp_keeper *k, uint8_t *out, int type,
    int64_t recorded_ms, const struct sl_record_view *v)
{
	struct alone a;

	alone_of(&k->r, &a, type, recorded_ms, v);
	return alone_encode(out, &a);
}

static size_t keep_cb(const void *ctx, uint8_t *out, int type,
    int64_t recorded_ms, const struct sl_record_view *v)
{
	return sl_comp_keep(ctx, out, type, recorded_ms, v);
}

int sl_comp_store_keeper(struct sl_store_keeper *out,
    const struct sl_comp_keeper *k)
{
	memset(out, 0, sizeof(*out));
	out->keep = keep_cb;
	out->ctx = k;
	out->max = SL_COMP_KEPT_MAX;
	return sl_comp_keeper_id(out->id, k->r.pol);
}

struct kept_walk {
	struct worker *w;
	struct alone *a;
	uint64_t next;
	size_t nrules;
	int rc;
};

static int kept_cb(void *ctx, uint64_t seq, const uint8_t *p, size_t n)
{
	struct kept_walk *k = ctx;
	struct sl_comp_result *r = k->w->r;

	if (seq >= r->n)
		return 1;
	if (seq != k->next) {
		k->rc = sl_err_set(r->e, SL_ENOTFOUND, "the store keeps no "
		    "judgement of entry %llu", (unsigned long long)k->next);
		return 1;
	}
	if (alone_decode(k->a, p, n, k->nrules)) {
		k->rc = sl_err_set(r->e, SL_EINTEGRITY, "the kept judgement "
		    "of entry %llu is damaged; run sharelog-verify",
		    (unsigned long long)seq);
		return 1;
	}
	k->next++;
	k->rc = alone_apply(k->w, seq, k->a, NULL, NULL);
	return k->rc ? 1 : 0;
}

/* 0 when snapshot @t keeps @p's judgements of its first @upto entries;
 * SL_ENOTFOUND, saying why, when not. */
static int kept_ready(struct sl_store_txn *t, const struct sl_policy *p,
    uint64_t upto, struct sl_err *e)
{
	uint8_t id[SL_HASH_LEN], want[SL_HASH_LEN];
	uint64_t count = 0;
	int rc;

	if (!t || sl_store_judged_by(t, id, &count))
		return sl_err_set(e, SL_ENOTFOUND, "%s keeps no judgements",
		    t ? "the store" : "a bundle");
	rc = sl_comp_keeper_id(want, p);
	if (rc)
		return sl_err_set(e, rc, "cannot set up SHA-256");
	if (memcmp(id, want, SL_HASH_LEN))
		return sl_err_set(e, SL_ENOTFOUND, "the store's kept "
		    "judgements are another policy's");
	if (count < upto)
		return sl_err_set(e, SL_ENOTFOUND, "the store keeps judgements "
		    "of fewer entries than asked");
	return 0;
}

int sl_comp_kept_ready(const char *path, const struct sl_policy *p,
    uint64_t upto, struct sl_err *e)
{
	struct sl_store *s = NULL;
	struct sl_store_txn *t = NULL;
	char f[4200];
	int rc;

	snprintf(f, sizeof(f), "%s/data.mdb", path);
	if (access(f, R_OK))
		return sl_err_set(e, SL_ENOTFOUND, "a bundle keeps no "
		    "judgements");
	rc = sl_store_open(&s, path, SL_STORE_RDONLY, e);
	if (!rc)
		rc = sl_store_read_begin(&t, s, e);
	if (!rc)
		rc = kept_ready(t, p, upto, e);
	sl_store_read_end(t);
	sl_store_close(s);
	return rc;
}

int sl_comp_run_kept(struct sl_comp_result **out, const char *path,
    const struct sl_comp_opts *o, struct sl_err *e)
{
	struct sl_comp_result *r;
	struct kept_walk k = { NULL, NULL, 0, 0, 0 };
	struct worker w;
	uint64_t seen = 0;
	int grc;
	int rc = comp_new(out, path, o, 0, e);

	if (rc)
		return rc;
	r = *out;
	k.a = malloc(sizeof(*k.a));
	if (!k.a) {
		rc = sl_err_set(e, SL_ENOMEM, "out of memory");
		goto out;
	}
	rc = kept_ready(r->txn, r->pol, r->n, e);
	if (rc)
		goto out;
	workers_init(r, &w, 1, NULL);
	k.w = &w;
	k.nrules = sl_policy_count(r->pol);
	rc = sl_store_judgements(r->txn, 0, kept_cb, &k);
	rc = rc > 0 ? 0 : rc;
	if (!rc)
		rc = k.rc;
	if (!rc && k.next < r->n)
		rc = sl_err_set(e, SL_ENOTFOUND, "the store keeps no "
		    "judgement of entry %llu", (unsigned long long)k.next);
	grc = workers_gather(r, &w, 1, &seen);
	if (!rc)
		rc = grc;
	if (rc)
		goto out;
	r->visited = 1;
	r->kept = 1;
	rc = comp_finish(r);
out:
	free(k.a);
	if (rc) {
		sl_comp_free(r);
		*out = NULL;
	}
	return rc;
}

/* ---- judged during the integrity pass -------------------------------- */

int sl_comp_begin(struct sl_comp_result **out, const char *path,
    const struct sl_comp_opts *o, struct sl_err *e)
{
	struct sl_comp_result *r;
	int rc = comp_new(out, path, o, 1, e);

	if (rc)
		return rc;
	r = *out;
	if (!r->map) {      /* a store: its entries by seq are in ents */
		r->vw = malloc(SL_COMP_VISITORS * sizeof(*r->vw));
		if (!r->vw) {
			sl_comp_free(r);
			*out = NULL;
			return sl_err_set(e, SL_ENOMEM, "out of memory");
		}
		workers_init(r, r->vw, SL_COMP_VISITORS, NULL);
	}
	return 0;
}

void sl_comp_visit(void *ctx, int visitor, uint64_t seq,
    const uint8_t *entry, size_t n, const struct sl_entry_view *ev,
    const struct sl_record_view *v)
{
	struct sl_comp_result *r = ctx;
	struct worker *w;

	if (!r->vw || visitor < 0 || visitor >= SL_COMP_VISITORS ||
	    seq >= r->n)
		return;
	w = &r->vw[visitor];
	/* the same entry as the run's own (a store only grows) */
	if (!w->rc && r->ents[seq].p && r->ents[seq].n == n) {
		w->seen++;
		/* a record the walk failed on is read again from the
		 * run's own bytes, as phase 1 would */
		w->rc = v ? one_entry(w, seq, ev, v, entry) :
		    one_entry(w, seq, NULL, NULL, NULL);
	}
}

int sl_comp_end(struct sl_comp_result *r)
{
	uint64_t seen = 0;
	int rc = 0;

	if (r->vw) {
		rc = workers_gather(r, r->vw, SL_COMP_VISITORS, &seen);
		free(r->vw);
		r->vw = NULL;
		if (rc)
			return rc;
		if (seen == r->n) {
			r->visited = 1;
		} else {
			/* not every entry came by: judge them all here,
			 * as a run on its own would */
			r->raws.n = r->cands.n = r->reps.n = 0;
			r->nfollow = 0;
			memset(r->units, 0, r->n * sizeof(*r->units));
		}
	}
	return comp_finish(r);
}

int sl_comp_visited(const struct sl_comp_result *r)
{
	return r->visited;
}

size_t sl_comp_findings(const struct sl_comp_result *r,
    const struct sl_comp_finding **out)
{
	*out = r->findings;
	return r->nfindings;
}

size_t sl_comp_counts(const struct sl_comp_result *r,
    const struct sl_comp_count **out)
{
	*out = r->counts;
	return r->ncounts;
}

size_t sl_comp_orgs(const struct sl_comp_result *r,
    const struct sl_comp_org **out)
{
	size_t n = 0;

	*out = r->orgstats;
	while (r->orgstats && r->orgstats[n].organisation)
		n++;
	return n;
}

void sl_comp_totals(const struct sl_comp_result *r, uint64_t *entries,
    uint64_t *judged, uint64_t *errors, uint64_t *warnings)
{
	*entries = r->n;
	*judged = r->judged;
	*errors = r->errors;
	*warnings = r->warnings;
}

double sl_comp_seconds(const struct sl_comp_result *r)
{
	return r->seconds;
}

void sl_comp_free(struct sl_comp_result *r)
{
	size_t i;

	if (!r)
		return;
	if (r->map)
		munmap((void *)r->map, r->maplen);
	sl_store_read_end(r->txn);
	sl_store_close(r->store);
	for (i = 0; i < r->norgs; i++)
		free(r->orgs[i].name);
	free(r->orgs);
	free(r->ents);
	free(r->units);
	free(r->raws.p);
	free(r->cands.p);
	free(r->reps.p);
	free(r->findings);
	free(r->strings);
	free(r->counts);
	free(r->orgstats);
	if (r->vw)
		workers_free(r->vw, SL_COMP_VISITORS);
	free(r->vw);
	pthread_mutex_destroy(&r->org_lock);
	free(r);
}

/* ---- one thread, for the service -------------------------------------- */

struct thread_seqs {
	uint64_t upto;
	uint64_t seq[SL_COMP_THREAD_MAX];
	size_t n;
};

static int thread_cb(void *ctx, uint64_t seq)
{
	struct thread_seqs *ts = ctx;

	if (seq > ts->upto)
		return 1;
	if (ts->n == SL_COMP_THREAD_MAX)   /* keep the newest */
		memmove(ts->seq, ts->seq + 1, --ts->n * sizeof(ts->seq[0]));
	ts->seq[ts->n++] = seq;
	return 0;
}

static int store_view(struct sl_record_view *v, int *etype, int64_t *rms,
    struct sl_store_txn *t, uint64_t seq, struct sl_err *e)
{
	const uint8_t *p;
	size_t n;
	struct sl_entry_view ev;
	int rc = sl_store_get(&p, &n, t, seq);

	if (rc)
		return sl_err_set(e, rc, "entry %llu is not in the store",
		    (unsigned long long)seq);
	if (sl_entry_scan(&ev, p, n, e))
		return SL_EINVAL;
	*etype = ev.type;
	*rms = ev.recorded_ms;
	return sl_record_view_scan(v, ev.record, ev.record_len, e);
}

static void add_hits(struct sl_comp_open *out, size_t cap, size_t *n,
    const struct sl_policy_hit *h, size_t nh, uint64_t seq)
{
	size_t i;

	for (i = 0; i < nh && *n < cap; i++)
		out[(*n)++] = (struct sl_comp_open){ seq, h[i].rule,
			h[i].severity, h[i].field };
}

/*
 * A decision's findings from its kept judgement @k: its open hits as of
 * @now_ms, what sl_policy_eval() gives on its record (alone_of() keeps
 * exactly sl_policy_eval_open()'s). 0 done; -1 when @k is not a
 * decision's whole kept form, for the caller to judge the record.
 */
static int kept_decision(const struct sl_policy *p,
    const struct sl_comp_entry *k, uint64_t seq, int64_t now_ms,
    struct sl_comp_open *out, size_t cap, size_t *n)
{
	struct alone a;
	size_t i;

	if (alone_decode(&a, k->kept, k->kept_len, sl_policy_count(p)) ||
	    a.etype != SL_ET_DECISION || (a.flags & U_BAD) ||
	    a.recorded_ms != k->recorded_ms)
		return -1;
	for (i = 0; i < a.nhits; i++) {
		struct sl_policy_hit h;

		if (sl_policy_hit_at(&h, &a.hits[i], now_ms))
			add_hits(out, cap, n, &h, 1, seq);
	}
	return 0;
}

int sl_comp_thread(struct sl_store_txn *t, const struct sl_policy *p,
    uint64_t seq, const struct sl_comp_entry *known, int64_t now_ms,
    struct sl_comp_open *out, size_t cap, size_t *n, struct sl_err *e)
{
	struct thread_seqs *ts = NULL;
	struct sl_record_view *v = NULL;
	struct sl_record_view self, merged;
	struct sl_policy_hit hits[MAX_HITS];
	struct sl_policy_time tm = { now_ms, 0 };
	int overlay[SL_RECORD_VIEW_FIELDS];
	int *types = NULL;
	int64_t *rms = NULL;
	size_t *parent = NULL;
	int etype;
	int f_rid = sl_record_field_index("record_id", 9);
	int f_ref = sl_record_field_index("refers_to_record_id", 19);
	int f_did = sl_record_field_index("decision_id", 11);
	size_t i, me, root, nh;
	char did[SL_SCHEMA_ID_MAX * 2 + 1];
	int rc;

	*n = 0;
	if (known && known->kept_len && known->type == SL_ET_DECISION &&
	    !kept_decision(p, known, seq, now_ms, out, cap, n))
		return 0;
	if (known) {
		etype = known->type;
		tm.recorded_ms = known->recorded_ms;
		rc = sl_record_view_scan(&self, known->record, known->len, e);
	} else {
		rc = store_view(&self, &etype, &tm.recorded_ms, t, seq, e);
	}
	if (rc)
		return rc;
	if (etype < SL_ET_DECISION || etype > SL_ET_INFORM_UPDATE)
		return 0;
	/* the record on its own */
	nh = sl_policy_eval(p, &self, &tm, hits, MAX_HITS);
	add_hits(out, cap, n, hits, nh, seq);
	if (etype == SL_ET_DECISION)
		return 0;
	/* a follow-up: its thread up to it */
	if (!self.val[f_did] || self.len[f_did] < 2 ||
	    self.len[f_did] - 2 >= sizeof(did))
		return 0;
	unquote(did, self.val[f_did], self.len[f_did]);
	ts = calloc(1, sizeof(*ts));
	if (!ts)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	ts->upto = seq;
	rc = sl_store_thread(t, did, thread_cb, ts);
	if (rc < 0)
		goto out;
	rc = SL_ENOMEM;
	v = calloc(ts->n ? ts->n : 1, sizeof(*v));
	types = calloc(ts->n ? ts->n : 1, sizeof(*types));
	rms = calloc(ts->n ? ts->n : 1, sizeof(*rms));
	if (!v || !types || !rms)
		goto out;
	for (i = 0; i < ts->n; i++) {
		if (ts->seq[i] == seq) {
			v[i] = self;
			types[i] = etype;
			rms[i] = tm.recorded_ms;
		} else if (store_view(&v[i], &types[i], &rms[i], t, ts->seq[i],
		    e)) {
			types[i] = -1;
		}
	}
	me = ts->n ? ts->n - 1 : 0;
	rc = 0;
	if (!ts->n || ts->seq[me] != seq)
		goto out;
	/* what each record refers to: an earlier record of the thread */
	parent = calloc(ts->n, sizeof(*parent));
	if (!parent) {
		rc = SL_ENOMEM;
		goto out;
	}
	for (i = 0; i < ts->n; i++) {
		const struct sl_record_view *c = &v[i];
		size_t j = 0;

		while (c->val[f_ref] && j < i && !(v[j].val[f_rid] &&
		    v[j].len[f_rid] == c->len[f_ref] && !memcmp(v[j].val[f_rid],
		    c->val[f_ref], c->len[f_ref])))
			j++;
		parent[i] = c->val[f_ref] && j < i ? j : i;   /* i: none */
	}
	/* follow refers_to back to the decision (or reconsideration) */
	root = me;
	while (root == me || (types[root] != SL_ET_DECISION &&
	    types[root] != SL_ET_RECONSIDERATION)) {
		if (parent[root] == root) {
			/* V20: refers to nothing earlier in the thread */
			if (root == me) {
				for (i = 0; i < sl_policy_count(p); i++) {
					const struct sl_policy_rule *ru =
					    sl_policy_rule(p, i);
					struct sl_policy_hit h = { (uint16_t)i,
						(uint8_t)ru->severity, 0,
						(int16_t)f_ref };

					if (ru->check == SL_CHECK_REFERS_TO &&
					    sl_policy_applies(p, i, &self))
						add_hits(out, cap, n, &h, 1, seq);
				}
			}
			goto out;
		}
		root = parent[root];
	}
	if (etype == SL_ET_RECONSIDERATION)
		goto out;   /* judged on its own above */
	/* the decision with every follow-up of it so far */
	init_overlay(overlay);
	merged = v[root];
	for (i = root + 1; i <= me; i++) {
		size_t k = i;

		if (types[i] != SL_ET_AMENDMENT && types[i] != SL_ET_OUTCOME &&
		    types[i] != SL_ET_INFORM_UPDATE)
			continue;
		/* does it belong to root? (parents are always earlier) */
		while (k != root && parent[k] != k &&
		    types[k] != SL_ET_DECISION &&
		    (k == i || types[k] != SL_ET_RECONSIDERATION))
			k = parent[k];
		if (k == root)
			merge(&merged, &v[i], overlay);
	}
	tm.recorded_ms = rms[root];
	nh = sl_policy_eval(p, &merged, &tm, hits, MAX_HITS);
	add_hits(out, cap, n, hits, nh, ts->seq[root]);
out:
	free(ts);
	free(v);
	free(types);
	free(rms);
	free(parent);
	return rc < 0 ? rc : 0;
}
