#include "reports/pack.h"
#include "formats/buf.h"
#include "formats/bundle.h"
#include "formats/csv.h"
#include "formats/enc.h"
#include "formats/entry.h"
#include "formats/mem.h"
#include "formats/record.h"
#include "formats/rfc3339.h"
#include "formats/schema.h"
#include "formats/summary.h"
#include "reports/disclose.h"
#include "reports/source.h"
#include "verify/completeness.h"
#include "verify/integrity.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PACK_FORMAT "sharelog-pack 1"
#define PACK_VERSION "sharelog-report 1"
#define MAX_PERIODS 1200
#define COL_TOTAL UINT32_MAX
#define NONE_CODE 0xfd            /* "none": e.g. advice not sought */
#define MS_HOUR 3600000.0
#define MS_DAY INT64_C(86400000)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- names ---------------------------------------------------------- */

static const char *code_name(int field, uint8_t j)
{
	size_t nf;
	const struct sl_field *f = sl_schema_fields(&nf);
	size_t i;

	if (j == SL_SUMMARY_ABSENT)
		return "not_recorded";
	if (j == SL_SUMMARY_BAD)
		return "invalid";
	if (j == NONE_CODE)
		return "none";
	if (field < 0 || (size_t)field >= nf || !f[field].values)
		return "invalid";
	for (i = 0; i < j; i++)
		if (!f[field].values[i])
			return "invalid";
	return f[field].values[j] ? f[field].values[j] : "invalid";
}

static const char *sc_name(enum sl_summary_code c, uint8_t j)
{
	return code_name(sl_summary_field(c), j);
}

static int64_t when_of(const struct sl_summary *s)
{
	return s->decided_ms != INT64_MIN ? s->decided_ms : s->recorded_ms;
}

static void fmt_date(char out[11], int64_t ms)
{
	time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	struct tm tm;

	char b[64];

	gmtime_r(&t, &tm);
	snprintf(b, sizeof(b), "%04d-%02d-%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday);
	memcpy(out, b, 10);
	out[10] = '\0';
}

static int64_t day_start(int64_t ms)
{
	return ms >= 0 ? ms - ms % MS_DAY : ms - ((ms % MS_DAY) + MS_DAY) %
	    MS_DAY;
}

static int64_t ymd_ms(int y, int m, int d)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	return (int64_t)timegm(&tm) * 1000;
}

int sl_pack_period_parse(const char *s)
{
	static const char *const n[] = { "all", "month", "quarter", "year" };
	int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(s, n[i]))
			return i;
	return -1;
}

static const char *period_name(enum sl_period p)
{
	static const char *const n[] = { "all", "month", "quarter", "year" };

	return n[p];
}

/* ---- periods -------------------------------------------------------- */

struct period {
	int64_t from, to;         /* [from, to) */
	char start[11], end[11];  /* dates, inclusive */
};

struct periods {
	struct period p[MAX_PERIODS];
	size_t n;
};

static int64_t unit_start(int64_t ms, enum sl_period kind)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (kind == SL_PERIOD_YEAR)
		return ymd_ms(tm.tm_year + 1900, 1, 1);
	if (kind == SL_PERIOD_QUARTER)
		return ymd_ms(tm.tm_year + 1900, tm.tm_mon / 3 * 3 + 1, 1);
	return ymd_ms(tm.tm_year + 1900, tm.tm_mon + 1, 1);
}

static int64_t unit_next(int64_t start, enum sl_period kind)
{
	time_t t = (time_t)(start / 1000);
	struct tm tm;
	int step = kind == SL_PERIOD_YEAR ? 12 : kind == SL_PERIOD_QUARTER ?
	    3 : 1;

	gmtime_r(&t, &tm);
	return ymd_ms(tm.tm_year + 1900 + (tm.tm_mon + step) / 12,
	    (tm.tm_mon + step) % 12 + 1, 1);
}

static int make_periods(struct periods *ps, int64_t from, int64_t to,
    enum sl_period kind, struct sl_err *e)
{
	int64_t a = from;

	ps->n = 0;
	while (a < to) {
		int64_t b = kind == SL_PERIOD_ALL ? to :
		    unit_next(unit_start(a, kind), kind);
		struct period *p;

		if (b > to)
			b = to;
		if (ps->n == MAX_PERIODS)
			return sl_err_set(e, SL_EINVAL, "more than %d periods: "
			    "choose a longer --period or a shorter range",
			    MAX_PERIODS);
		p = &ps->p[ps->n++];
		p->from = a;
		p->to = b;
		fmt_date(p->start, a);
		fmt_date(p->end, b - 1);
		a = b;
	}
	return 0;
}

static int period_of(const struct periods *ps, int64_t ms)
{
	size_t lo = 0, hi = ps->n;

	if (!ps->n || ms < ps->p[0].from || ms >= ps->p[ps->n - 1].to)
		return -1;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (ps->p[mid].from <= ms)
			lo = mid;
		else
			hi = mid;
	}
	return (int)lo;
}

/* ---- cells and their protection -------------------------------------- */

/*
 * Every report is a set of tables, one per period: rows (a combination of
 * codes packed into 64 bits) by columns (a code or a count column), each
 * cell a count. Disclosure control runs per table; the writer then asks
 * for each cell (or row total) whether it may be shown.
 */
struct cell {
	uint16_t period;
	uint32_t col;
	uint64_t row;
	uint64_t v;
};

struct ptab {
	uint16_t period;
	uint64_t *rows;
	size_t nr;
	uint32_t *cols;
	size_t nc;
	struct sl_disclose_table *t;
};

struct prot {
	struct ptab *t;
	size_t n;
};

static int cell_cmp(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;

	if (x->period != y->period)
		return x->period < y->period ? -1 : 1;
	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void prot_free(struct prot *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->t[i].rows);
		free(p->t[i].cols);
		sl_disclose_free(p->t[i].t);
	}
	free(p->t);
	p->t = NULL;
	p->n = 0;
}

static size_t find_u64(const uint64_t *v, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == x ? lo : SIZE_MAX;
}

static size_t find_u32(const uint32_t *v, size_t n, uint32_t x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return i;
	return SIZE_MAX;
}

/*
 * Build the tables of @cells (sorted here) and, when @k, suppress. The
 * columns of every period's table are @cols (all the report's columns,
 * so a zero column stays a column) or, when ncols is 0, those present.
 */
static int prot_build(struct prot *p, struct cell *cells, size_t n,
    const uint32_t *cols, size_t ncols, uint64_t k, struct sl_err *e)
{
	size_t i = 0;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	if (n > 1)   /* qsort(NULL, 0) is undefined */
		qsort(cells, n, sizeof(*cells), cell_cmp);
	while (i < n && !rc) {
		size_t j = i, m, r;
		struct ptab *t;
		uint64_t *dense;
		struct ptab *nt = realloc(p->t, (p->n + 1) * sizeof(*p->t));

		if (!nt)
			return sl_err_set(e, SL_ENOMEM, "out of memory");
		p->t = nt;
		t = &p->t[p->n++];
		memset(t, 0, sizeof(*t));
		t->period = cells[i].period;
		while (j < n && cells[j].period == t->period)
			j++;
		t->rows = malloc((j - i) * sizeof(*t->rows));
		t->cols = malloc(((ncols ? ncols : j - i) + 1) *
		    sizeof(*t->cols));
		if (!t->rows || !t->cols)
			return sl_err_set(e, SL_ENOMEM, "out of memory");
		for (m = i; m < j; m++)
			if (!t->nr || t->rows[t->nr - 1] != cells[m].row)
				t->rows[t->nr++] = cells[m].row;
		if (ncols) {
			memcpy(t->cols, cols, ncols * sizeof(*cols));
			t->nc = ncols;
		} else {
			for (m = i; m < j; m++)
				t->cols[t->nc++] = cells[m].col;
			qsort(t->cols, t->nc, sizeof(*t->cols), u32_cmp);
			for (m = r = 0; m < t->nc; m++)
				if (!r || t->cols[r - 1] != t->cols[m])
					t->cols[r++] = t->cols[m];
			t->nc = r;
		}
		if (t->nr > 4096 || t->nc > 4096)
			return sl_err_set(e, SL_EINVAL, "a report table has more "
			    "than 4096 rows or columns");
		dense = calloc(t->nr * t->nc, sizeof(*dense));
		if (!dense)
			return sl_err_set(e, SL_ENOMEM, "out of memory");
		for (m = i, r = 0; m < j; m++) {
			size_t c = find_u32(t->cols, t->nc, cells[m].col);

			while (t->rows[r] != cells[m].row)
				r++;
			if (c != SIZE_MAX)
				dense[r * t->nc + c] += cells[m].v;
		}
		rc = sl_disclose_new(&t->t, t->nr, t->nc, dense, e);
		free(dense);
		if (!rc && k && sl_disclose_suppress(t->t, k, e) == SL_EINVAL) {
			/*
			 * No choice of cells protects every small count when
			 * the attacker is assumed to know which are 1..k (say
			 * five 1s in a column of total 5). Then the whole table
			 * is suppressed, zeros and totals too: nothing tells a
			 * small count from any other.
			 */
			memset(t->t->state, SL_CELL_SECONDARY,
			    (t->nr + 1) * (t->nc + 1));
		}
		i = j;
	}
	return rc;
}

/* The value of a cell (or with COL_TOTAL its row's total) and whether it
 * is suppressed. */
static uint64_t prot_get(const struct ptab *t, uint64_t row, uint32_t col,
    int *hidden)
{
	size_t r = find_u64(t->rows, t->nr, row);
	size_t c = col == COL_TOTAL ? t->nc : find_u32(t->cols, t->nc, col);

	*hidden = 0;
	if (r == SIZE_MAX || c == SIZE_MAX)
		return 0;
	*hidden = sl_disclose_state(t->t, r, c) != SL_CELL_SHOWN;
	return sl_disclose_value(t->t, r, c);
}

/* ---- cell lists, side values ----------------------------------------- */

struct cells {
	struct cell *v;
	size_t n, cap;
};

/* Add @v to the cell (period, row, col); cells are merged when sorted,
 * so one list entry per (record, cell) would be wasteful: callers
 * accumulate in a map first (struct acc). */
static int cells_push(struct cells *c, unsigned period, uint64_t row,
    uint32_t col, uint64_t v)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 256;
		struct cell *nv = realloc(c->v, cap * sizeof(*nv));

		if (!nv)
			return SL_ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n].period = (uint16_t)period;
	c->v[c->n].row = row;
	c->v[c->n].col = col;
	c->v[c->n].v = v;
	c->n++;
	return 0;
}

/*
 * An accumulator: (period, row, col) -> counters and value lists, in an
 * open-addressing map. Reports are small (thousands of cells at most).
 */
struct fvec {
	double *v;
	size_t n, cap;
};

struct slot {
	uint64_t row;
	uint32_t col;
	uint16_t period;
	uint8_t used;
	uint64_t n[4];
	struct fvec f[2];
};

struct acc {
	struct slot *s;
	size_t cap, n;
	int oom;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	return x ^ (x >> 33);
}

static struct slot *acc_get(struct acc *a, unsigned period, uint64_t row,
    uint32_t col)
{
	size_t i;

	if (a->n * 2 >= a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 1024;
		struct slot *ns = calloc(cap, sizeof(*ns));
		size_t j;

		if (!ns) {
			a->oom = 1;
			return NULL;
		}
		for (j = 0; j < a->cap; j++) {
			if (!a->s[j].used)
				continue;
			i = mix(a->s[j].row ^ ((uint64_t)a->s[j].col << 20) ^
			    ((uint64_t)a->s[j].period << 52)) & (cap - 1);
			while (ns[i].used)
				i = (i + 1) & (cap - 1);
			ns[i] = a->s[j];
		}
		free(a->s);
		a->s = ns;
		a->cap = cap;
	}
	i = mix(row ^ ((uint64_t)col << 20) ^ ((uint64_t)period << 52)) &
	    (a->cap - 1);
	while (a->s[i].used && (a->s[i].row != row || a->s[i].col != col ||
	    a->s[i].period != period))
		i = (i + 1) & (a->cap - 1);
	if (!a->s[i].used) {
		a->s[i].used = 1;
		a->s[i].row = row;
		a->s[i].col = col;
		a->s[i].period = (uint16_t)period;
		a->n++;
	}
	return &a->s[i];
}

static const struct slot *acc_find(const struct acc *a, unsigned period,
    uint64_t row, uint32_t col)
{
	size_t i;

	if (!a->cap)
		return NULL;
	i = mix(row ^ ((uint64_t)col << 20) ^ ((uint64_t)period << 52)) &
	    (a->cap - 1);
	while (a->s[i].used) {
		if (a->s[i].row == row && a->s[i].col == col &&
		    a->s[i].period == period)
			return &a->s[i];
		i = (i + 1) & (a->cap - 1);
	}
	return NULL;
}

static void fvec_add(struct acc *a, struct fvec *f, double x)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		double *nv = sl_mem_realloc(f->v, cap * sizeof(*nv));

		if (!nv) {
			a->oom = 1;
			return;
		}
		f->v = nv;
		f->cap = cap;
	}
	f->v[f->n++] = x;
}

static void acc_free(struct acc *a)
{
	size_t i;

	for (i = 0; i < a->cap; i++) {
		free(a->s[i].f[0].v);
		free(a->s[i].f[1].v);
	}
	free(a->s);
	memset(a, 0, sizeof(*a));
}

/* The cells of column counter @ctr of every slot (for prot_build). */
static int acc_cells(const struct acc *a, int ctr, struct cells *out)
{
	size_t i;

	for (i = 0; i < a->cap; i++)
		if (a->s[i].used && cells_push(out, a->s[i].period,
		    a->s[i].row, a->s[i].col, a->s[i].n[ctr]))
			return SL_ENOMEM;
	return 0;
}

/*
 * The value of rank @k (from 0) of v[0..n), placing it at v[k] with none
 * greater before it and none smaller after (Wirth's selection, Hoare's
 * partition): a quantile of a million durations needs no whole sort.
 * The pivot is the median of three values, so sorted runs stay linear.
 */
static double select_rank(double *v, size_t n, size_t k)
{
	ptrdiff_t l = 0, m = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;

	while (l < m) {
		double a = v[l], b = v[l + (m - l) / 2], c = v[m];
		double x = a < b ? (b < c ? b : (a < c ? c : a)) :
		    (a < c ? a : (b < c ? c : b));
		ptrdiff_t i = l, j = m;

		do {
			while (v[i] < x)
				i++;
			while (x < v[j])
				j--;
			if (i <= j) {
				double t = v[i];

				v[i++] = v[j];
				v[j--] = t;
			}
		} while (i <= j);
		if (j < kk)
			l = i;
		if (kk < i)
			m = j;
	}
	return v[k];
}

/* Quantile q of f (reordered here): the median is the mean of the
 * middle two of an even count; other quantiles are nearest-rank. */
static double quantile(struct fvec *f, double q)
{
	size_t r, h = f->n / 2, i;
	double lo, m;

	if (q == 0.5) {
		m = select_rank(f->v, f->n, h);
		if (f->n % 2)
			return m;
		/* the middle two: the largest of those before rank h */
		lo = f->v[0];
		for (i = 1; i < h; i++)
			lo = f->v[i] > lo ? f->v[i] : lo;
		return (lo + m) / 2;
	}
	r = (size_t)ceil(q * (double)f->n);
	return select_rank(f->v, f->n, r ? r - 1 : 0);
}

/* ---- the pack's context ---------------------------------------------- */

/* What a thread's later records say, for reconsidered/reversed counts and
 * overdue follow-ups: the last reconsideration and inform_update (by
 * seq) recorded by the "as of" time. */
struct tinfo {
	uint64_t thread;
	uint64_t last_recon;      /* seq + 1; 0 none */
	uint64_t last_inform;
	uint8_t recon_decision;
};

struct ctx {
	const struct sl_pack_opts *o;
	struct sl_rsource *src;
	const struct sl_summary *sum;
	uint64_t size;
	struct periods ps;
	int16_t *pidx;            /* per entry: its period, -1 not counted */
	uint64_t org;
	int64_t as_of;
	uint64_t k;               /* 0: unsuppressed */
	struct tinfo *ti;
	size_t ticap;
	struct sl_comp_result *comp;
	struct sl_hash *amend_h[SL_COMP_WORKERS];   /* amend_cb's */
	/* the summaries, read on a thread of their own beside the pass
	 * when the rules come from kept judgements: amend_cb waits for them
	 * (sums_state 0: being read, 1: read, -1: failed) */
	pthread_mutex_t sums_mu;
	pthread_cond_t sums_cv;
	int sums_state;
	char dir[4200];
	char files[12][64];
	int nfiles;
	const char *suffix;       /* "" or "_UNSUPPRESSED" */
	uint8_t d_share, d_partial, d_not_share;
	uint8_t fi_not, fi_later;
	struct sl_err *e;
};

static struct tinfo *ti_get(struct ctx *c, uint64_t thread, int add)
{
	size_t i;

	if (!c->ticap || !thread)
		return NULL;
	i = mix(thread) & (c->ticap - 1);
	while (c->ti[i].thread && c->ti[i].thread != thread)
		i = (i + 1) & (c->ticap - 1);
	if (!c->ti[i].thread) {
		if (!add)
			return NULL;
		c->ti[i].thread = thread;
	}
	return &c->ti[i];
}

/*
 * A decision that later amendments, outcomes or inform_updates added to
 * is counted as it stands with them, as the recording rules judge it: an
 * amendment that corrects a decision, or moves its review date, corrects
 * the statistics and the overdue list too. What identifies the decision
 * (its id, organisation, decided_at, type) never changes. The rules tell
 * of each such decision as they judge it again, from their workers (each
 * a hashing context of its own, made on first use).
 */
static int amend_cb(void *ctx, unsigned worker, uint64_t seq,
    const struct sl_record_view *v)
{
	struct ctx *c = ctx;
	struct sl_summary *s, was;
	int ready;

	pthread_mutex_lock(&c->sums_mu);
	while (!c->sums_state)
		pthread_cond_wait(&c->sums_cv, &c->sums_mu);
	ready = c->sums_state > 0;
	pthread_mutex_unlock(&c->sums_mu);
	if (!ready)
		return SL_EINVAL;   /* the summaries' error is the one told */
	s = &c->src->sum[seq];
	was = *s;
	if (!c->amend_h[worker] && sl_hash_new(&c->amend_h[worker]))
		return SL_ENOMEM;
	sl_summary_derive(s, v, was.type, was.recorded_ms,
	    c->amend_h[worker]);
	return 0;
}

static int build_threads(struct ctx *c)
{
	uint64_t i, n = 0;

	for (i = 0; i < c->size; i++)
		n += c->sum[i].type == SL_ET_RECONSIDERATION ||
		    c->sum[i].type == SL_ET_INFORM_UPDATE;
	c->ticap = 1024;
	while (c->ticap < 2 * n)
		c->ticap *= 2;
	c->ti = sl_mem_calloc(c->ticap, sizeof(*c->ti));
	if (!c->ti)
		return sl_err_set(c->e, SL_ENOMEM, "out of memory");
	for (i = 0; i < c->size; i++) {
		const struct sl_summary *s = &c->sum[i];
		struct tinfo *t;

		if ((s->type != SL_ET_RECONSIDERATION &&
		    s->type != SL_ET_INFORM_UPDATE) || s->recorded_ms > c->as_of)
			continue;
		t = ti_get(c, s->thread, 1);
		if (!t)
			continue;
		if (s->type == SL_ET_RECONSIDERATION) {
			t->last_recon = i + 1;
			t->recon_decision = s->code[SL_SC_DECISION];
		} else {
			t->last_inform = i + 1;
		}
	}
	return 0;
}

/* Has record @seq's family information (inform_due_at) passed unanswered
 * by the as-of time? And its review (review_due_at)? As the policy's V26
 * says: an inform_update or reconsideration answers the first, a
 * reconsideration the second, when recorded after the record. */
static int inform_overdue(struct ctx *c, uint64_t seq)
{
	const struct sl_summary *s = &c->sum[seq];
	const struct tinfo *t;

	if (s->code[SL_SC_FAMILY] != c->fi_later ||
	    s->inform_due_ms == INT64_MIN || s->inform_due_ms >= c->as_of)
		return 0;
	t = ti_get(c, s->thread, 0);
	return !t || (t->last_inform <= seq + 1 && t->last_recon <= seq + 1);
}

static int review_overdue(struct ctx *c, uint64_t seq)
{
	const struct sl_summary *s = &c->sum[seq];
	const struct tinfo *t;

	if (s->review_due_ms == INT64_MIN || s->review_due_ms >= c->as_of)
		return 0;
	t = ti_get(c, s->thread, 0);
	return !t || t->last_recon <= seq + 1;
}

/* ---- writing CSV ------------------------------------------------------ */

#define ROW_MAX 24

struct row {
	const char *cell[ROW_MAX];
	char buf[ROW_MAX][96];
	size_t n;
	uint64_t text;
};

static void r_str(struct row *r, const char *s, int text)
{
	if (r->n >= ROW_MAX)
		return;
	if (text)
		r->text |= UINT64_C(1) << r->n;
	r->cell[r->n++] = s;
}

static void r_u64(struct row *r, uint64_t v)
{
	if (r->n >= ROW_MAX)
		return;
	snprintf(r->buf[r->n], sizeof(r->buf[0]), "%llu",
	    (unsigned long long)v);
	r->cell[r->n] = r->buf[r->n];
	r->n++;
}

static void r_count(struct row *r, uint64_t v, int hidden)
{
	if (hidden)
		r_str(r, "c", 0);
	else
		r_u64(r, v);
}

static void r_num(struct row *r, double v)
{
	if (r->n >= ROW_MAX)
		return;
	snprintf(r->buf[r->n], sizeof(r->buf[0]), "%.1f", v);
	r->cell[r->n] = r->buf[r->n];
	r->n++;
}

static void r_period(struct row *r, const struct ctx *c, unsigned p)
{
	r_str(r, c->ps.p[p].start, 0);
	r_str(r, c->ps.p[p].end, 0);
	r_str(r, c->o->area ? c->o->area : "", 1);
}

struct out {
	FILE *f;
	int rc;
};

static void r_end(struct out *o, struct row *r)
{
	if (!o->rc && sl_csv_row(o->f, r->cell, r->n, r->text))
		o->rc = SL_EIO;
	r->n = 0;
	r->text = 0;
}

static void header(struct out *o, const char *const *h)
{
	struct row r;
	size_t i;

	r.n = 0;
	r.text = 0;
	for (i = 0; h[i]; i++)
		r_str(&r, h[i], 0);
	r_end(o, &r);
}

static int open_csv(struct ctx *c, struct out *o, const char *name)
{
	char p[4300];

	snprintf(c->files[c->nfiles], sizeof(c->files[0]), "%s%s.csv", name,
	    c->suffix);
	snprintf(p, sizeof(p), "%s/%s", c->dir, c->files[c->nfiles]);
	c->nfiles++;
	o->rc = 0;
	o->f = fopen(p, "wb");
	if (!o->f)
		return sl_err_set(c->e, SL_EIO, "cannot create %s: %s", p,
		    strerror(errno));
	return 0;
}

static int close_csv(struct ctx *c, struct out *o)
{
	int rc = o->rc;

	if (fclose(o->f) && !rc)
		rc = SL_EIO;
	if (rc)
		return sl_err_set(c->e, rc, "cannot write %s in %s",
		    c->files[c->nfiles - 1], c->dir);
	return 0;
}

/* A count derived from a shown cell's records (a subset of them): shown
 * only when neither it nor the rest of the cell is 1..k. */
static int sub_hidden(const struct ctx *c, int base_hidden, uint64_t base,
    uint64_t sub)
{
	if (!c->k)
		return 0;
	return base_hidden || (sub >= 1 && sub <= c->k) ||
	    (base - sub >= 1 && base - sub <= c->k);
}

/* A statistic over the values f: shown when there are more than k of
 * them (a median of a few values is close to each of them). It does not
 * reveal how many there are, so a suppressed count beside it does not
 * hide it. */
static void r_stat(struct row *r, const struct ctx *c, struct fvec *f,
    double q)
{
	if (!f->n)
		r_str(r, "z", 0);
	else if (c->k && f->n <= c->k)
		r_str(r, "c", 0);
	else
		r_num(r, quantile(f, q));
}

static uint64_t rounded(const struct ctx *c, uint64_t v)
{
	unsigned m = c->o->round;

	return m > 1 ? (v + m / 2) / m * m : v;
}

/* Every decision counted in a report: its period (or -1). */
#define FOR_DECISIONS(c, i, s, p) \
	for (i = 0; i < (c)->size; i++) \
		if ((s = &(c)->sum[i])->type == SL_ET_DECISION && \
		    (p = (c)->pidx[i]) >= 0)

/* ---- the reports ------------------------------------------------------ */

/* A decision's column: its decision code, or OTHER when not recorded or
 * invalid. */
#define OTHER 0xffu

static uint32_t dcol(const struct ctx *c, const struct sl_summary *s)
{
	uint8_t d = s->code[SL_SC_DECISION];

	return d == c->d_share || d == c->d_partial || d == c->d_not_share ?
	    d : OTHER;
}

/* Protect the cells of counter @ctr of @a into @p. */
static int protect(struct ctx *c, const struct acc *a, int ctr,
    const uint32_t *cols, size_t ncols, struct prot *p)
{
	struct cells cl = { NULL, 0, 0 };
	int rc;

	if (a->oom || acc_cells(a, ctr, &cl)) {
		free(cl.v);
		return sl_err_set(c->e, SL_ENOMEM, "out of memory");
	}
	rc = prot_build(p, cl.v, cl.n, cols, ncols, c->k, c->e);
	free(cl.v);
	return rc;
}

/* 1. decisions_by_agency */
static int r_decisions_by_agency(struct ctx *c)
{
	static const char *const h[] = { "period_start", "period_end",
	    "area_code", "deciding_agency_type", "trigger", "decisions_total",
	    "share_n", "partial_n", "not_share_n", "other_n", "share_pct",
	    NULL };
	const uint32_t cols[4] = { c->d_share, c->d_partial, c->d_not_share,
	    OTHER };
	struct acc a = { 0 };
	struct prot p = { 0 };
	struct out o;
	struct row r = { .n = 0 };
	const struct sl_summary *s;
	uint64_t i;
	size_t t, j, q;
	int per;
	int rc;

	FOR_DECISIONS(c, i, s, per) {
		struct slot *x = acc_get(&a, (unsigned)per,
		    (uint64_t)s->code[SL_SC_AGENCY] << 8 |
		    s->code[SL_SC_TRIGGER], dcol(c, s));

		if (x)
			x->n[0]++;
	}
	rc = protect(c, &a, 0, cols, 4, &p);
	if (!rc)
		rc = open_csv(c, &o, "decisions_by_agency");
	if (rc)
		goto out;
	header(&o, h);
	for (t = 0; t < p.n; t++) {
		const struct ptab *pt = &p.t[t];

		for (j = 0; j < pt->nr; j++) {
			uint64_t row = pt->rows[j], v[5];
			int hid[5];

			r_period(&r, c, pt->period);
			r_str(&r, sc_name(SL_SC_AGENCY, (uint8_t)(row >> 8)), 0);
			r_str(&r, sc_name(SL_SC_TRIGGER, (uint8_t)row), 0);
			v[4] = prot_get(pt, row, COL_TOTAL, &hid[4]);
			r_count(&r, rounded(c, v[4]), hid[4]);
			for (q = 0; q < 4; q++) {
				v[q] = prot_get(pt, row, cols[q], &hid[q]);
				r_count(&r, v[q], hid[q]);
			}
			if (hid[0] || hid[4] || !v[4])
				r_str(&r, v[4] ? "c" : "z", 0);
			else
				r_num(&r, 100.0 * (double)v[0] / (double)v[4]);
			r_end(&o, &r);
		}
	}
	rc = close_csv(c, &o);
out:
	prot_free(&p);
	acc_free(&a);
	return rc;
}

/* 2. flows_matrix: one row per deciding agency type and recipient agency
 * type of the decisions that shared. */
static int r_flows_matrix(struct ctx *c)
{
	static const char *const h[] = { "period_start", "period_end",
	    "area_code", "from_agency_type", "to_agency_type", "share_n",
	    "partial_n", "median_hours_request_to_decision", NULL };
	const uint32_t cols[2] = { c->d_share, c->d_partial };
	struct acc a = { 0 };
	struct acc st = { 0 };
	struct prot p = { 0 };
	struct out o;
	struct row r = { .n = 0 };
	const struct sl_summary *s;
	uint64_t i;
	size_t t, j;
	int per;
	int rc;

	FOR_DECISIONS(c, i, s, per) {
		uint32_t to = s->to_agencies;
		uint32_t d = dcol(c, s);

		if (d != c->d_share && d != c->d_partial)
			continue;
		while (to) {
			int b = __builtin_ctz(to);
			uint64_t row = (uint64_t)s->code[SL_SC_AGENCY] << 8 |
			    (uint64_t)b;
			struct slot *x = acc_get(&a, (unsigned)per, row, d);
			struct slot *y = acc_get(&st, (unsigned)per, row, 0);

			to &= to - 1;
			if (!x || !y)
				continue;
			x->n[0]++;
			if (s->request_ms != INT64_MIN &&
			    s->decided_ms != INT64_MIN &&
			    s->decided_ms >= s->request_ms)
				fvec_add(&st, &y->f[0], (double)(s->decided_ms -
				    s->request_ms) / MS_HOUR);
		}
	}
	if (st.oom)
		a.oom = 1;
	rc = protect(c, &a, 0, cols, 2, &p);
	if (!rc)
		rc = open_csv(c, &o, "flows_matrix");
	if (rc)
		goto out;
	header(&o, h);
	for (t = 0; t < p.n; t++) {
		const struct ptab *pt = &p.t[t];

		for (j = 0; j < pt->nr; j++) {
			uint64_t row = pt->rows[j];
			int h0, h1;
			uint64_t v0 = prot_get(pt, row, cols[0], &h0);
			uint64_t v1 = prot_get(pt, row, cols[1], &h1);
			struct slot *y = (struct slot *)acc_find(&st,
			    pt->period, row, 0);

			r_period(&r, c, pt->period);
			r_str(&r, sc_name(SL_SC_AGENCY, (uint8_t)(row >> 8)), 0);
			r_str(&r, sc_name(SL_SC_AGENCY, (uint8_t)row), 0);
			r_count(&r, v0, h0);
			r_count(&r, v1, h1);
			if (y)
				r_stat(&r, c, &y->f[0], 0.5);
			else
				r_str(&r, "z", 0);
			r_end(&o, &r);
		}
	}
	rc = close_csv(c, &o);
out:
	prot_free(&p);
	acc_free(&a);
	acc_free(&st);
	return rc;
}

/*
 * The long reports: one line per (row, column) cell that is not zero or
 * is suppressed. @cols names each row's codes (highest byte first) and
 * the column's; @extra writes the cell's further counts.
 */
typedef void (*extra_fn)(struct ctx *c, struct row *r, const struct acc *a,
    const struct ptab *pt, uint64_t row, uint32_t col, uint64_t v,
    int hidden);

static int write_long(struct ctx *c, const char *name,
    const char *const *h, const struct acc *a, const int *rowf,
    int nrowf, int colf, extra_fn extra)
{
	struct prot p = { 0 };
	struct out o;
	struct row r = { .n = 0 };
	size_t t, j, q;
	int rc;

	rc = protect(c, a, 0, NULL, 0, &p);
	if (!rc)
		rc = open_csv(c, &o, name);
	if (rc)
		goto out;
	header(&o, h);
	for (t = 0; t < p.n; t++) {
		const struct ptab *pt = &p.t[t];

		for (j = 0; j < pt->nr; j++) {
			for (q = 0; q < pt->nc; q++) {
				uint64_t row = pt->rows[j];
				uint32_t col = pt->cols[q];
				int hid;
				uint64_t v = prot_get(pt, row, col, &hid);
				int f;

				if (!v && !hid)
					continue;
				r_period(&r, c, pt->period);
				for (f = 0; f < nrowf; f++)
					r_str(&r, code_name(rowf[f], (uint8_t)(
					    row >> (8 * (nrowf - 1 - f)))), 0);
				if (colf >= 0)
					r_str(&r, code_name(colf, (uint8_t)col),
					    0);
				else if (colf == -2)
					/* lawful basis: three codes */
					for (f = 2; f >= 0; f--)
						r_str(&r, code_name(sl_summary_field(
						    f == 2 ? SL_SC_LAWFUL_BASIS :
						    f == 1 ? SL_SC_RLI : SL_SC_SC),
						    (uint8_t)(col >> (8 * f))), 0);
				r_count(&r, v, hid);
				if (extra)
					extra(c, &r, a, pt, row, col, v, hid);
				r_end(&o, &r);
			}
		}
	}
	rc = close_csv(c, &o);
out:
	prot_free(&p);
	return rc;
}

static void subsets(struct ctx *c, struct row *r, const struct acc *a,
    const struct ptab *pt, uint64_t row, uint32_t col, uint64_t v,
    int hidden, int from, int to)
{
	const struct slot *x = acc_find(a, pt->period, row, col);
	int i;

	for (i = from; i < to; i++) {
		uint64_t sv = x ? x->n[i] : 0;

		r_count(r, sv, sub_hidden(c, hidden, v, sv));
	}
}

static void ns_extra(struct ctx *c, struct row *r, const struct acc *a,
    const struct ptab *pt, uint64_t row, uint32_t col, uint64_t v,
    int hidden)
{
	subsets(c, r, a, pt, row, col, v, hidden, 1, 4);
}

/* 3. not_share_reasons */
static int r_not_share_reasons(struct ctx *c)
{
	static const char *const h[] = { "period_start", "period_end",
	    "area_code", "deciding_agency_type", "requester_agency_type",
	    "harm_threshold", "not_share_n", "refusal_communicated_n",
	    "reconsidered_n", "reversed_n", NULL };
	const int rowf[2] = { sl_summary_field(SL_SC_AGENCY),
	    sl_summary_field(SL_SC_REQUESTER) };
	struct acc a = { 0 };
	const struct sl_summary *s;
	uint64_t i;
	int per;
	int rc;

	FOR_DECISIONS(c, i, s, per) {
		struct slot *x;
		const struct tinfo *t;

		if (s->code[SL_SC_DECISION] != c->d_not_share)
			continue;
		x = acc_get(&a, (unsigned)per, (uint64_t)s->code[SL_SC_AGENCY]
		    << 8 | s->code[SL_SC_REQUESTER], s->code[SL_SC_HARM]);
		if (!x)
			continue;
		x->n[0]++;
		x->n[1] += s->refusal_ms != INT64_MIN;
		t = ti_get(c, s->thread, 0);
		if (t && t->last_recon > i + 1) {
			x->n[2]++;
			x->n[3] += t->recon_decision == c->d_share ||
			    t->recon_decision == c->d_partial;
		}
	}
	rc = write_long(c, "not_share_reasons", h, &a, rowf, 2,
	    sl_summary_field(SL_SC_HARM), ns_extra);
	acc_free(&a);
	return rc;
}

/* 4. consent_profile */
static int r_consent_profile(struct ctx *c)
{
	static const char *const h[] = { "period_start", "period_end",
	    "area_code", "deciding_agency_type", "consent_status",
	    "consent_not_sought_reason", "decision", "n", NULL };
	const int rowf[3] = { sl_summary_field(SL_SC_AGENCY),
	    sl_summary_field(SL_SC_CONSENT),
	    sl_summary_field(SL_SC_CONSENT_NSR) };
	struct acc a = { 0 };
	const struct sl_summary *s;
	uint64_t i;
	int per;
	int rc;

	FOR_DECISIONS(c, i, s, per) {
		struct slot *x = acc_get(&a, (unsigned)per,
		    (uint64_t)s->code[SL_SC_AGENCY] << 16 |
		    (uint64_t)s->code[SL_SC_CONSENT] << 8 |
		    s->code[SL_SC_CONSENT_NSR], s->code[SL_SC_DECISION]);

		if (x)
			x->n[0]++;
	}
	rc = write_long(c, "consent_profile", h, &a, rowf, 3,
	    sl_summary_field(SL_SC_DECISION), NULL);
	acc_free(&a);
	return rc;
}

static void fni_extra(struct ctx *c, struct row *r, const struct acc *a,
    const struct ptab *pt, uint64_t row, uint32_t col, uint64_t v,
    int hidden)
{
	subsets(c, r, a, pt, row, col, v, hidden, 1, 2);
}

/* 5. family_not_informed */
static int r_family_not_informed(struct ctx *c)
{
	static const char *const h[] = { "period_start", "period_end",
	    "area_code", "deciding_agency_type", "not_informed_reason", "n",
	    "overdue_inform_n", NULL };
	const int rowf[1] = { sl_summary_field(SL_SC_AGENCY) };
	struct acc a = { 0 };
	const struct sl_summary *s;
	uint64_t i;
	int per;
	int rc;

	FOR_DECISIONS(c, i, s, per) {
		struct slot *x;

		if (s->code[SL_SC_FAMILY] != c->fi_not &&
		    s->code[SL_SC_FAMILY] != c->fi_later)
			continue;
		x = acc_get(&a, (unsigned)per, s->code[SL_SC_AGENCY],
		    s->code[SL_SC_NOT_INFORMED]);
		if (!x)
			continue;
		x->n[0]++;
		x->n[1] += (uint64_t)inform_overdue(c, i);
	}
	rc = write_long(c, "family_not_informed", h, &a, rowf, 1,
	    sl_summary_field(SL_SC_NOT_INFORMED), fni_extra);
	acc_free(&a);
	return rc;
}

/* 6. lawful_basis_usage: the decisions that shared */
static int r_lawful_basis_usage(struct ctx *c)
{
	static const char *const h[] = { "period_start", "period_end",
	    "area_code", "deciding_agency_type", "lawful_basis",
	    "rli_condition", "sc_condition", "n", NULL };
	const int rowf[1] = { sl_summary_field(SL_SC_AGENCY) };
	struct acc a = { 0 };
	const struct sl_summary *s;
	uint64_t i;
	int per;
	int rc;

	FOR_DECISIONS(c, i, s, per) {
		struct slot *x;
		uint32_t d = dcol(c, s);

		if (d != c->d_share && d != c->d_partial)
			continue;
		x = acc_get(&a, (unsigned)per, s->code[SL_SC_AGENCY],
		    (uint32_t)s->code[SL_SC_LAWFUL_BASIS] << 16 |
		    (uint32_t)s->code[SL_SC_RLI] << 8 | s->code[SL_SC_SC]);
		if (x)
			x->n[0]++;
	}
	rc = write_long(c, "lawful_basis_usage", h, &a, rowf, 1, -2, NULL);
	acc_free(&a);
	return rc;
}

static void time_extra(struct ctx *c, struct row *r, const struct acc *a,
    const struct ptab *pt, uint64_t row, uint32_t col, uint64_t v,
    int hidden)
{
	struct slot *x = (struct slot *)acc_find(a, pt->period, row, col);
	struct fvec none = { NULL, 0, 0 };
	uint64_t in24 = x ? x->n[1] : 0;
	int h24 = sub_hidden(c, hidden, v, in24);

	r_stat(r, c, x ? &x->f[0] : &none, 0.5);
	r_stat(r, c, x ? &x->f[0] : &none, 0.9);
	if (!x || !x->f[0].n)
		r_str(r, "z", 0);
	else if (h24)
		r_str(r, "c", 0);
	else
		r_num(r, 100.0 * (double)in24 / (double)x->f[0].n);
	r_stat(r, c, x ? &x->f[1] : &none, 0.5);
}

/* 7. timeliness */
static int r_timeliness(struct ctx *c)
{
	static const char *const h[] = { "period_start", "period_end",
	    "area_code", "deciding_agency_type", "harm_threshold", "n",
	    "median_hours_decision_to_record", "p90_hours_decision_to_record",
	    "pct_recorded_within_24h", "median_hours_decision_to_share",
	    NULL };
	const int rowf[1] = { sl_summary_field(SL_SC_AGENCY) };
	struct acc a = { 0 };
	const struct sl_summary *s;
	uint64_t i;
	int per;
	int rc;

	FOR_DECISIONS(c, i, s, per) {
		struct slot *x = acc_get(&a, (unsigned)per,
		    s->code[SL_SC_AGENCY], s->code[SL_SC_HARM]);

		if (!x)
			continue;
		x->n[0]++;
		if (s->decided_ms == INT64_MIN)
			continue;
		/* an imported record's recorded_at is the import's time,
		 * which says nothing of how promptly it was recorded */
		if (s->recorded_ms >= s->decided_ms &&
		    !(s->flags & SL_SUMMARY_F_IMPORTED)) {
			fvec_add(&a, &x->f[0], (double)(s->recorded_ms -
			    s->decided_ms) / MS_HOUR);
			x->n[1] += s->recorded_ms - s->decided_ms <= MS_DAY;
		}
		if (s->shared_ms != INT64_MIN && s->shared_ms >= s->decided_ms)
			fvec_add(&a, &x->f[1], (double)(s->shared_ms -
			    s->decided_ms) / MS_HOUR);
	}
	rc = write_long(c, "timeliness", h, &a, rowf, 1,
	    sl_summary_field(SL_SC_HARM), time_extra);
	acc_free(&a);
	return rc;
}

/* 8. advice_sought: a decision counts once per adviser it names; "none"
 * when no advice was sought. */
static int r_advice_sought(struct ctx *c)
{
	static const char *const h[] = { "period_start", "period_end",
	    "area_code", "deciding_agency_type", "advice_from", "decision",
	    "n", NULL };
	const int rowf[2] = { sl_summary_field(SL_SC_AGENCY),
	    sl_record_field_index("advice_from", 11) };
	struct acc a = { 0 };
	const struct sl_summary *s;
	uint64_t i;
	int per;
	int rc;

	FOR_DECISIONS(c, i, s, per) {
		uint32_t m = s->advice_from;
		uint8_t one = s->advice_sought == 0 ? NONE_CODE :
		    SL_SUMMARY_ABSENT;

		do {
			uint8_t adv = m ? (uint8_t)__builtin_ctz(m) : one;
			struct slot *x = acc_get(&a, (unsigned)per,
			    (uint64_t)s->code[SL_SC_AGENCY] << 8 | adv,
			    s->code[SL_SC_DECISION]);

			if (x)
				x->n[0]++;
			m &= m - 1;
		} while (m);
	}
	rc = write_long(c, "advice_sought", h, &a, rowf, 2,
	    sl_summary_field(SL_SC_DECISION), NULL);
	acc_free(&a);
	return rc;
}

/* 9. completeness: per deciding agency type, the decisions and
 * reconsiderations judged, how many are free of error-level findings,
 * then each rule's failures (records with at least one finding). */
#define MAX_RULE_IDS 62

static int rule_ids(const struct sl_policy *pol, const char **ids,
    uint8_t *sev, uint8_t *uid)
{
	size_t i, j, n = sl_policy_count(pol);
	int nu = 0;

	for (i = 0; i < n; i++) {
		const struct sl_policy_rule *r = sl_policy_rule(pol, i);

		for (j = 0; j < (size_t)nu && strcmp(ids[j], r->id); j++)
			;
		if (j == (size_t)nu) {
			if (nu == MAX_RULE_IDS)
				return -1;
			ids[nu] = r->id;
			sev[nu] = (uint8_t)r->severity;
			nu++;
		}
		uid[i] = (uint8_t)j;
	}
	return nu;
}

static int r_completeness(struct ctx *c)
{
	static const char *const h[] = { "period_start", "period_end",
	    "area_code", "deciding_agency_type", "rule_id", "severity",
	    "records_checked", "records_error_free_pct", "failures_n", NULL };
	const char *ids[MAX_RULE_IDS];
	uint8_t sev[MAX_RULE_IDS];
	uint8_t *uid = NULL;
	const struct sl_comp_finding *f;
	size_t nf = sl_comp_findings(c->comp, &f);
	struct acc a = { 0 };
	struct prot p = { 0 };
	struct out o;
	struct row r = { .n = 0 };
	uint64_t i;
	size_t t, j, q;
	int nu;
	int rc;

	uid = malloc(sl_policy_count(c->o->policy) + 1);
	if (!uid)
		return sl_err_set(c->e, SL_ENOMEM, "out of memory");
	nu = rule_ids(c->o->policy, ids, sev, uid);
	if (nu < 0) {
		free(uid);
		return sl_err_set(c->e, SL_EINVAL, "the policy has more than %d "
		    "rule ids", MAX_RULE_IDS);
	}
	/* n[0] records checked, n[1] with an error; the failures of rule u
	 * in the slot of column u + 1 */
	for (i = 0; i < c->size; i++) {
		const struct sl_summary *s = &c->sum[i];
		struct slot *x;

		if ((s->type != SL_ET_DECISION &&
		    s->type != SL_ET_RECONSIDERATION) || c->pidx[i] < 0)
			continue;
		x = acc_get(&a, (unsigned)c->pidx[i], s->code[SL_SC_AGENCY], 0);
		if (x)
			x->n[0]++;
	}
	for (j = 0; j < nf; ) {
		uint64_t seq = f[j].seq, seen = 0;
		int err = 0;
		const struct sl_summary *s;
		int per;

		for (q = j; q < nf && f[q].seq == seq; q++) {
			seen |= UINT64_C(1) << uid[f[q].rule];
			err |= f[q].severity == SL_SEV_ERROR;
		}
		j = q;
		if (seq >= c->size || (per = c->pidx[seq]) < 0)
			continue;
		s = &c->sum[seq];
		if (s->type != SL_ET_DECISION &&
		    s->type != SL_ET_RECONSIDERATION)
			continue;
		if (err) {
			struct slot *x = acc_get(&a, (unsigned)per,
			    s->code[SL_SC_AGENCY], 0);

			if (x)
				x->n[1]++;
		}
		while (seen) {
			struct slot *x = acc_get(&a, (unsigned)per,
			    s->code[SL_SC_AGENCY],
			    (uint32_t)__builtin_ctzll(seen) + 1);

			if (x)
				x->n[0]++;
			seen &= seen - 1;
		}
	}
	{
		/* the table protected is records_checked by agency */
		struct cells cl = { NULL, 0, 0 };
		const uint32_t col0 = 0;

		for (t = 0; t < a.cap; t++)
			if (a.s[t].used && a.s[t].col == 0 &&
			    cells_push(&cl, a.s[t].period, a.s[t].row, 0,
			    a.s[t].n[0]))
				a.oom = 1;
		rc = a.oom ? sl_err_set(c->e, SL_ENOMEM, "out of memory") :
		    prot_build(&p, cl.v, cl.n, &col0, 1, c->k, c->e);
		free(cl.v);
	}
	if (!rc)
		rc = open_csv(c, &o, "completeness");
	if (rc)
		goto out;
	header(&o, h);
	for (t = 0; t < p.n; t++) {
		const struct ptab *pt = &p.t[t];

		for (j = 0; j < pt->nr; j++) {
			uint64_t row = pt->rows[j];
			int hid;
			uint64_t n = prot_get(pt, row, 0, &hid);
			const struct slot *x = acc_find(&a, pt->period, row, 0);
			uint64_t bad = x ? x->n[1] : 0;
			int hb = sub_hidden(c, hid, n, bad);
			int u;

			for (u = -1; u < nu; u++) {
				const struct slot *y = u < 0 ? NULL :
				    acc_find(&a, pt->period, row,
				    (uint32_t)u + 1);
				uint64_t fails = u < 0 ? bad : y ? y->n[0] : 0;

				r_period(&r, c, pt->period);
				r_str(&r, sc_name(SL_SC_AGENCY, (uint8_t)row), 0);
				r_str(&r, u < 0 ? "all" : ids[u], 0);
				r_str(&r, u < 0 ? "error" : sev[u] ==
				    SL_SEV_ERROR ? "error" : "warning", 0);
				r_count(&r, n, hid);
				if (hb || !n)
					r_str(&r, n ? "c" : "z", 0);
				else
					r_num(&r, 100.0 * (double)(n - bad) /
					    (double)n);
				r_count(&r, fails, u < 0 ? hb :
				    sub_hidden(c, hid, n, fails));
				r_end(&o, &r);
			}
		}
	}
	rc = close_csv(c, &o);
out:
	prot_free(&p);
	acc_free(&a);
	free(uid);
	return rc;
}

/* 10. integrity_attestation: one row, what sharelog-verify established. */
static int r_integrity(struct ctx *c)
{
	static const char *const h[] = { "generated_at", "verifier_version",
	    "checkpoint_origin", "checkpoint_size", "checkpoint_root",
	    "first_seq", "last_seq", "records_verified", "chain_head_hash",
	    "signature_failures_n", "gaps_n", "status", NULL };
	char at[SL_RFC3339_MS_LEN + 1];
	char root[65], head[65];
	struct out o;
	struct row r = { .n = 0 };
	int rc = open_csv(c, &o, "integrity_attestation");

	if (rc)
		return rc;
	header(&o, h);
	sl_rfc3339_format(at, c->as_of);
	sl_enc_hex(root, c->src->root, SL_HASH_LEN);
	sl_enc_hex(head, c->src->head, SL_HASH_LEN);
	r_str(&r, at, 0);
	r_str(&r, PACK_VERSION, 0);
	r_str(&r, c->src->origin, 1);
	r_u64(&r, c->size);
	r_str(&r, root, 0);
	r_u64(&r, 0);
	r_u64(&r, c->size - 1);
	r_u64(&r, c->size);
	r_str(&r, head, 0);
	r_u64(&r, 0);
	r_u64(&r, 0);
	/* a log that does not verify gets no pack at all */
	r_str(&r, "pass", 0);
	r_end(&o, &r);
	return close_csv(c, &o);
}

/* 11. review_overdue (internal packs only): each decision or
 * reconsideration whose family information or review date has passed
 * unanswered, by seq. */
static int r_review_overdue(struct ctx *c)
{
	static const char *const h[] = { "decision_id", "case_ref",
	    "deciding_agency_type", "due_type", "due_at", "days_overdue",
	    "seq", NULL };
	int f_did = sl_record_field_index("decision_id", 11);
	int f_case = sl_record_field_index("case_ref", 8);
	struct sl_record_view *v = malloc(sizeof(*v));
	struct out o;
	struct row r = { .n = 0 };
	uint64_t i;
	int rc;

	if (!v)
		return sl_err_set(c->e, SL_ENOMEM, "out of memory");
	rc = open_csv(c, &o, "review_overdue");
	if (rc) {
		free(v);
		return rc;
	}
	header(&o, h);
	for (i = 0; i < c->size; i++) {
		const struct sl_summary *s = &c->sum[i];
		int due[2];
		int k;

		if ((s->type != SL_ET_DECISION &&
		    s->type != SL_ET_RECONSIDERATION) || c->pidx[i] < 0)
			continue;
		due[0] = inform_overdue(c, i);
		due[1] = review_overdue(c, i);
		for (k = 0; k < 2; k++) {
			const uint8_t *p;
			size_t n;
			struct sl_entry_view ev;
			char *did = NULL, *cref = NULL;
			char at[SL_RFC3339_MS_LEN + 1];
			int64_t when = k ? s->review_due_ms : s->inform_due_ms;

			if (!due[k])
				continue;
			if (!sl_rsource_entry(c->src, i, &p, &n) &&
			    !sl_entry_peek(&ev, p, n) &&
			    !sl_record_view_scan(v, ev.record, ev.record_len,
			    NULL)) {
				sl_record_value_dup(&did, v->val[f_did],
				    v->len[f_did]);
				sl_record_value_dup(&cref, v->val[f_case],
				    v->len[f_case]);
			}
			sl_rfc3339_format(at, when);
			r_str(&r, did ? did : "", 1);
			r_str(&r, cref ? cref : "", 1);
			r_str(&r, sc_name(SL_SC_AGENCY, s->code[SL_SC_AGENCY]),
			    0);
			r_str(&r, k ? "review" : "inform", 0);
			r_str(&r, at, 0);
			r_u64(&r, (uint64_t)((c->as_of - when) / MS_DAY));
			r_u64(&r, i);
			r_end(&o, &r);
			free(did);
			free(cref);
		}
	}
	free(v);
	return close_csv(c, &o);
}

/* ---- guidance and provenance -------------------------------------------- */

static const struct {
	const char *name;
	const char *about;
} report_about[] = {
	{ "decisions_by_agency", "decisions recorded, by deciding agency type "
	    "and trigger: shared, partly shared, not shared, other (decision "
	    "not recorded or invalid); share_pct = share_n / decisions_total" },
	{ "flows_matrix", "decisions that shared, by deciding agency type and "
	    "each recipient's agency type (a decision with several recipient "
	    "types counts once for each); median hours from the request to "
	    "the decision, over the decisions that record a request" },
	{ "not_share_reasons", "decisions not to share, by deciding agency, "
	    "requester agency and harm threshold: refusals communicated, "
	    "decisions later reconsidered, and reconsidered to share (by the "
	    "thread's latest reconsideration)" },
	{ "consent_profile", "decisions by consent status, reason consent was "
	    "not sought, and decision" },
	{ "family_not_informed", "decisions where the family was not told or "
	    "will be told later, by reason; overdue_inform_n: to be told later, "
	    "the date passed with no inform_update or reconsideration" },
	{ "lawful_basis_usage", "decisions that shared, by lawful basis, "
	    "recognised legitimate interest condition and special category "
	    "condition" },
	{ "timeliness", "decisions by harm threshold: hours from decision to "
	    "record (median, 90th percentile nearest-rank, share within 24 "
	    "hours; records imported from spreadsheets are left out of these "
	    "three) and median hours from decision to sharing" },
	{ "advice_sought", "decisions by who was asked for advice (a decision "
	    "counts once per adviser named; none = advice not sought)" },
	{ "completeness", "decisions and reconsiderations judged by the "
	    "recording rules of the policy: the share free of error-level "
	    "findings (rule_id all), then per rule the records with at least "
	    "one finding" },
	{ "integrity_attestation", "what was established before the pack "
	    "was made: the signed checkpoint, every entry re-hashed into the "
	    "chain and the tree, the chain head" },
	{ "review_overdue", "internal only: each decision whose family "
	    "information or review date has passed unanswered (identifiers, "
	    "no free text)" },
};

static int file_sha(char hex[65], const char *dir, const char *name,
    struct sl_err *e)
{
	char p[4300];
	char *data;
	size_t n;
	uint8_t d[SL_HASH_LEN];
	struct sl_hash *h;
	int rc;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	rc = sl_bundle_slurp(&data, &n, p, (size_t)1 << 31, e);
	if (rc)
		return rc;
	rc = sl_hash_new(&h);
	if (!rc)
		rc = sl_hash_sha256(d, h, data, n);
	sl_hash_free(h);
	free(data);
	if (rc)
		return sl_err_set(e, rc, "cannot hash %s", name);
	sl_enc_hex(hex, d, SL_HASH_LEN);
	return 0;
}

static const char *when_text(char out[SL_RFC3339_MS_LEN + 1], int64_t ms)
{
	sl_rfc3339_format(out, ms);
	return out;
}

static int write_guidance(struct ctx *c, const char *name)
{
	const struct sl_pack_opts *o = c->o;
	char p[4300];
	char hex[65];
	char t1[SL_RFC3339_MS_LEN + 1];
	size_t i, n = sl_policy_count(o->policy);
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", c->dir, name);
	f = fopen(p, "wb");
	if (!f)
		return sl_err_set(c->e, SL_EIO, "cannot create %s: %s", p,
		    strerror(errno));
	fprintf(f, "# sharelog report pack%s\n\n", o->unsuppressed ?
	    " (INTERNAL, UNSUPPRESSED)" : "");
	fprintf(f, "Marking: **%s**\n\n", o->unsuppressed ?
	    "OFFICIAL-SENSITIVE: exact counts and case identifiers, for the "
	    "board's own use; do not publish" : "OFFICIAL: statistics with "
	    "disclosure control, for publication");
	fprintf(f, "## Where the figures come from\n\n");
	fprintf(f, "- Log origin: `%s`\n", c->src->origin);
	sl_enc_hex(hex, c->src->root, SL_HASH_LEN);
	fprintf(f, "- Signed checkpoint: size %llu, root `%s` (the note is "
	    "in the pack's JSON file); entries 0 to %llu\n",
	    (unsigned long long)c->size, hex,
	    (unsigned long long)(c->size - 1));
	sl_enc_hex(hex, c->src->head, SL_HASH_LEN);
	fprintf(f, "- Chain head (leaf hash of entry %llu): `%s`\n",
	    (unsigned long long)(c->size - 1), hex);
	fprintf(f, "- Integrity: every entry was re-hashed into the chain and "
	    "the checkpoint's signature and root checked before any report "
	    "was written (integrity_attestation)\n");
	fprintf(f, "- Counting: from a summary and the recording rules' "
	    "judgement of each entry, which a store keeps from the time the "
	    "entry is appended (`sharelog-verify LOG` checks them against the "
	    "entries) and a bundle's reader makes from the entries; the check "
	    "below makes the whole pack again from the entries themselves\n");
	sl_enc_hex(hex, sl_policy_sha256(o->policy), SL_HASH_LEN);
	fprintf(f, "- Recording rules: policy \"%s\", SHA-256 `%s`\n",
	    sl_policy_name(o->policy), hex);
	fprintf(f, "- As of: %s (overdue dates are judged at this time)\n",
	    when_text(t1, c->as_of));
	fprintf(f, "- Periods: %s, from %s to %s (by the date of the "
	    "decision)\n", period_name(o->period), c->ps.p[0].start,
	    c->ps.p[c->ps.n - 1].end);
	fprintf(f, "- Amendments: a decision is counted as it stands with "
	    "the amendments, outcomes and inform updates of its thread "
	    "recorded by the as-of time, as the recording rules judge it\n");
	if (o->org)
		fprintf(f, "- Organisation: only decisions of one organisation "
		    "(its id is in the pack's JSON file)\n");
	fprintf(f, "\nThe same log, checkpoint and options give the same "
	    "files, byte for byte. To check this pack against the log:\n\n"
	    "    sharelog-verify LOG --pack THIS_FOLDER\n\n");
	fprintf(f, "## Symbols\n\n");
	if (o->unsuppressed)
		fprintf(f, "- Counts are exact: no suppression, no rounding.\n");
	else
		fprintf(f, "- `c`: confidential. Counts from 1 to %u are "
		    "suppressed, and further cells (secondary suppression) "
		    "so that no suppressed count can be worked out from the "
		    "others and from the row, column and grand totals of its "
		    "table (each report's rows by its last coded column, per "
		    "period); a table where that cannot be done is suppressed "
		    "whole, zeros included. A count that is part of a cell (for instance "
		    "refusals communicated among decisions not to share) is "
		    "suppressed when it, or the rest of the cell, is 1 to %u. "
		    "A median or percentile is suppressed when it rests on %u "
		    "values or fewer; a percentage when its count is.\n",
		    o->k, o->k, o->k);
	fprintf(f, "- `0`: a true zero. A row that is not listed is zero "
	    "throughout.\n");
	fprintf(f, "- `z`: not applicable (nothing to take a median or a "
	    "percentage of).\n");
	fprintf(f, "- `not_recorded`: the record does not carry the field; "
	    "`invalid`: a value the schema does not know; `none`: advice "
	    "was not sought.\n");
	if (o->round > 1)
		fprintf(f, "- decisions_total is rounded to the nearest %u.\n",
		    o->round);
	fprintf(f, "- Hours are decimal, to one place; percentages to one "
	    "place.\n\n");
	fprintf(f, "## CSV\n\nRFC 4180, UTF-8, CRLF line ends, a header row, "
	    "every field quoted. A cell that comes from a client (identifiers, "
	    "area code) and starts with = + - @ tab, CR, LF or NUL is written "
	    "with a leading ' so that a spreadsheet shows it as text instead "
	    "of running it as a formula (OWASP CSV injection).\n\n");
	fprintf(f, "## Files\n\n");
	for (i = 0; i < (size_t)c->nfiles; i++) {
		size_t j;

		for (j = 0; j < sizeof(report_about) /
		    sizeof(report_about[0]); j++)
			if (!strncmp(c->files[i], report_about[j].name,
			    strlen(report_about[j].name)) &&
			    (c->files[i][strlen(report_about[j].name)] == '.' ||
			    c->files[i][strlen(report_about[j].name)] == '_'))
				break;
		fprintf(f, "- `%s`: %s\n", c->files[i], j < sizeof(
		    report_about) / sizeof(report_about[0]) ?
		    report_about[j].about : "");
	}
	if (!o->unsuppressed)
		fprintf(f, "- review_overdue is not in a published pack: it "
		    "names cases (sharelog-report pack --unsuppressed)\n");
	fprintf(f, "\nColumns: docs/REPORTS.md of sharelog.\n\n"
	    "## Rules\n\n| rule | severity | guidance |\n|---|---|---|\n");
	for (i = 0; i < n; i++) {
		const struct sl_policy_rule *r = sl_policy_rule(o->policy, i);

		fprintf(f, "| %s | %s | %s |\n", r->id, r->severity ==
		    SL_SEV_ERROR ? "error" : "warning", r->guidance);
	}
	if (fclose(f))
		return sl_err_set(c->e, SL_EIO, "cannot write %s", p);
	return 0;
}

static json_t *when_json(int64_t ms)
{
	char t[SL_RFC3339_MS_LEN + 1];

	if (ms == INT64_MIN || ms == INT64_MAX)
		return json_null();
	return json_string(when_text(t, ms));
}

static int write_manifest(struct ctx *c, const char *name,
    const char *guidance)
{
	const struct sl_pack_opts *o = c->o;
	json_t *j = json_object();
	json_t *files = json_array();
	char hex[65];
	char p[4300];
	int i;
	int rc = 0;

	sl_enc_hex(hex, c->src->root, SL_HASH_LEN);
	json_object_set_new(j, "format", json_string(PACK_FORMAT));
	json_object_set_new(j, "generator", json_string(PACK_VERSION));
	json_object_set_new(j, "checkpoint", json_pack("{s:s,s:I,s:s,s:s}",
	    "origin", c->src->origin, "size", (json_int_t)c->size, "root",
	    hex, "note", c->src->note));
	sl_enc_hex(hex, sl_policy_sha256(o->policy), SL_HASH_LEN);
	json_object_set_new(j, "policy", json_pack("{s:s,s:s}", "name",
	    sl_policy_name(o->policy), "sha256", hex));
	json_object_set_new(j, "options", json_pack("{s:o,s:o,s:s,s:o,s:s,"
	    "s:I,s:I,s:b,s:o}",
	    "from", when_json(o->from_ms), "to", when_json(o->to_ms),
	    "period", period_name(o->period),
	    "org", o->org ? json_string(o->org) : json_null(),
	    "area", o->area ? o->area : "",
	    "k", (json_int_t)o->k, "round", (json_int_t)o->round,
	    "unsuppressed", o->unsuppressed,
	    "as_of", when_json(o->as_of_ms)));
	for (i = 0; i <= c->nfiles && !rc; i++) {
		const char *fn = i < c->nfiles ? c->files[i] : guidance;

		rc = file_sha(hex, c->dir, fn, c->e);
		if (!rc)
			json_array_append_new(files, json_pack("{s:s,s:s}",
			    "name", fn, "sha256", hex));
	}
	json_object_set_new(j, "files", files);
	snprintf(p, sizeof(p), "%s/%s", c->dir, name);
	if (!rc && json_dump_file(j, p, JSON_INDENT(2) | JSON_SORT_KEYS))
		rc = sl_err_set(c->e, SL_EIO, "cannot write %s", p);
	json_decref(j);
	return rc;
}

/* ---- making a pack ----------------------------------------------------- */

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char p[4400];

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

/* Decisions and reconsiderations counted: the organisation asked for,
 * decided within the range; each gets its period. */
static int select_records(struct ctx *c)
{
	const struct sl_pack_opts *o = c->o;
	int64_t lo = INT64_MAX, hi = INT64_MIN, from, to;
	uint64_t i;
	int rc;

	c->pidx = sl_mem_malloc(c->size * sizeof(*c->pidx));
	if (!c->pidx)
		return sl_err_set(c->e, SL_ENOMEM, "out of memory");
	for (i = 0; i < c->size; i++) {
		const struct sl_summary *s = &c->sum[i];
		int64_t w = when_of(s);

		c->pidx[i] = -1;
		if ((s->type != SL_ET_DECISION &&
		    s->type != SL_ET_RECONSIDERATION) ||
		    (c->org && s->org != c->org) || w < o->from_ms ||
		    w >= o->to_ms)
			continue;
		c->pidx[i] = 0;
		if (w < lo)
			lo = w;
		if (w > hi)
			hi = w;
	}
	if (lo > hi)
		lo = hi = c->sum[c->size - 1].recorded_ms;
	from = o->from_ms != INT64_MIN ? o->from_ms : day_start(lo);
	to = o->to_ms != INT64_MAX ? o->to_ms : day_start(hi) + MS_DAY;
	rc = make_periods(&c->ps, from, to, o->period, c->e);
	if (rc)
		return rc;
	for (i = 0; i < c->size; i++)
		if (c->pidx[i] == 0)
			c->pidx[i] = (int16_t)period_of(&c->ps,
			    when_of(&c->sum[i]));
	return 0;
}

static int code_of(const char *field, const char *value)
{
	int f = sl_record_field_index(field, strlen(field));

	return sl_record_enum_code(f, value, strlen(value));
}

/* Work beside the chain's pass on a thread of its own (inline when no
 * thread can be made): the rules from a store's kept judgements, and
 * the summaries. */
struct job {
	int (*run)(struct job *);
	struct ctx *c;
	struct sl_comp_opts co;        /* the rules': their options */
	struct sl_comp_result *comp;   /* and their result */
	pthread_t th;
	int started;
	int rc;
	double seconds;
	struct sl_err e;
};

static void *job_main(void *arg)
{
	struct job *j = arg;
	double t0 = now_s();

	j->rc = j->run(j);
	j->seconds = now_s() - t0;
	return NULL;
}

static void job_start(struct job *j)
{
	j->started = !pthread_create(&j->th, NULL, job_main, j);
	if (!j->started)
		job_main(j);
}

static void job_join(struct job *j)
{
	if (j->started)
		pthread_join(j->th, NULL);
	j->started = 0;
}

static int kept_rules(struct job *j)
{
	return sl_comp_run_kept(&j->comp, j->c->o->path, &j->co, &j->e);
}

/* amend_cb waits for these */
static int summaries(struct job *j)
{
	struct ctx *c = j->c;
	int rc = sl_rsource_load_summaries(c->src, c->o->threads, &j->e);

	pthread_mutex_lock(&c->sums_mu);
	c->sums_state = rc ? -1 : 1;
	pthread_cond_broadcast(&c->sums_cv);
	pthread_mutex_unlock(&c->sums_mu);
	return rc;
}

/*
 * 1 when the log at @path (a store's data.mdb, a bundle's entries) is
 * at most a quarter of this machine's memory. The integrity pass then
 * leaves the log's pages mapped: the rules' second look reads about a
 * tenth of the entries again, and each page let go and mapped again is a
 * fault (0.5-0.8 s of a 3 s pack on a million entries here). They are
 * clean pages of the page cache, which the kernel takes back under
 * pressure; a larger log is let go chunk by chunk as sharelog-verify
 * does.
 */
static int fits_in_memory(const char *path)
{
	char p[4096];
	struct stat st;
	long pages = sysconf(_SC_PHYS_PAGES);
	long psz = sysconf(_SC_PAGESIZE);

	if (stat(path, &st) || pages <= 0 || psz <= 0)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		/* a store's log, or a bundle's */
		snprintf(p, sizeof(p), "%s/data.mdb", path);
		if (stat(p, &st)) {
			snprintf(p, sizeof(p), "%s/entries.jsonl", path);
			if (stat(p, &st))
				return 0;
		}
	}
	return (uint64_t)st.st_size <= (uint64_t)pages * (uint64_t)psz / 4;
}

int sl_pack_write(const struct sl_pack_opts *o, struct sl_pack_result *res,
    struct sl_err *e)
{
	static int (*const reports[])(struct ctx *) = {
		r_decisions_by_agency, r_flows_matrix, r_not_share_reasons,
		r_consent_profile, r_family_not_informed, r_lawful_basis_usage,
		r_timeliness, r_advice_sought, r_completeness, r_integrity,
		r_review_overdue,
	};
	struct ctx *c = NULL;
	struct sl_verify_result *vr = NULL;
	/* the pack reads neither the threads table nor the child and case
	 * index: sharelog-verify checks them, for the trails */
	struct sl_verify_opts vo = { NULL, 0, NULL, 0, o->threads, 1, NULL,
		NULL, 0, 0 };
	struct sl_err src_e = { 0, "" };
	int src_rc;
	struct sl_comp_opts co;
	struct job kj, sj;
	struct stat st;
	char tmp[4096];
	char guidance[64], manifest[64];
	double t0;
	size_t i, nrep;
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&kj, 0, sizeof(kj));
	memset(&sj, 0, sizeof(sj));
	tmp[0] = '\0';
	if (!o->unsuppressed && o->k < 2)
		return sl_err_set(e, SL_EUSAGE, "k must be at least 2 (counts "
		    "1..k are suppressed)");
	if (!stat(o->out, &st))
		return sl_err_set(e, SL_EEXIST, "%s already exists: a pack is "
		    "written into a new folder", o->out);
	c = calloc(1, sizeof(*c));
	vr = calloc(1, sizeof(*vr));
	if (c) {
		pthread_mutex_init(&c->sums_mu, NULL);
		pthread_cond_init(&c->sums_cv, NULL);
	}
	if (!c || !vr) {
		rc = sl_err_set(e, SL_ENOMEM, "out of memory");
		goto out;
	}
	c->o = o;
	c->e = e;
	kj.run = kept_rules;
	kj.c = c;
	sj.run = summaries;
	sj.c = c;
	c->k = o->unsuppressed ? 0 : o->k;
	c->suffix = o->unsuppressed ? "_UNSUPPRESSED" : "";
	c->d_share = (uint8_t)code_of("decision", "share");
	c->d_partial = (uint8_t)code_of("decision", "partial");
	c->d_not_share = (uint8_t)code_of("decision", "not_share");
	c->fi_not = (uint8_t)code_of("family_informed", "not_informed");
	c->fi_later = (uint8_t)code_of("family_informed", "will_inform_later");

	/*
	 * 1. integrity first: figures from an altered log mean nothing.
	 * The rules need the checkpoint's size and the as-of time, from the
	 * source, opened first; a source that cannot be read waits for the
	 * verdict: an altered log is named as such first. A store that
	 * keeps judgements for this policy gives the rules from them, and
	 * the pass then checks the chain only: what the store keeps is
	 * checked by sharelog-verify, and a recheck (or sharelog-verify
	 * --pack) makes the pack from the entries. The rules and the
	 * summaries are then read on threads of their own beside the pass
	 * (the as-of time is the newest covered entry's). Else the pass
	 * walks every record anyway, so the rules judge each one on its own
	 * as it goes by (sl_comp_visit).
	 */
	t0 = now_s();
	src_rc = sl_rsource_open(&c->src, o->path, o->at, o->threads, 0,
	    &src_e);
	if (!src_rc) {
		c->size = c->src->size;
		if (!o->recheck && c->src->is_store && (o->as_of_ms !=
		    INT64_MIN || c->src->last_ms != INT64_MIN)) {
			struct sl_err ke = { 0, "" };

			rc = sl_comp_kept_ready(o->path, o->policy, c->size,
			    &ke);
			if (rc && rc != SL_ENOTFOUND) {
				*e = ke;
				goto out;
			}
			res->kept = !rc;
			if (rc)
				snprintf(res->not_kept, sizeof(res->not_kept),
				    "%s", ke.msg);
		}
		if (!res->kept) {
			src_rc = sl_rsource_load_summaries(c->src, o->threads,
			    &src_e);
			c->sums_state = src_rc ? -1 : 1;
		}
	}
	res->load_s = now_s() - t0;
	if (!src_rc) {
		/* the newest covered entry's time, unless asked */
		c->as_of = o->as_of_ms != INT64_MIN ? o->as_of_ms : res->kept ?
		    c->src->last_ms : c->src->sum[c->size - 1].recorded_ms;
		memset(&co, 0, sizeof(co));
		co.policy = o->policy;
		co.as_of_ms = c->as_of;
		co.from_ms = INT64_MIN;
		co.to_ms = INT64_MAX;
		co.upto = c->size;
		co.threads = o->threads;
		co.amended = amend_cb;
		co.amended_ctx = c;
		t0 = now_s();
		if (res->kept) {
			/* the rules from the kept judgements and the
			 * summaries, each on a thread of its own beside the
			 * chain's pass */
			vo.chain_only = 1;
			kj.co = co;
			job_start(&sj);
			job_start(&kj);
		} else {
			rc = sl_comp_begin(&c->comp, o->path, &co, e);
			if (rc) {
				sl_err_prefix(e, "completeness");
				goto out;
			}
			/* every worker of the pass has a visitor of its
			 * own */
			_Static_assert(SL_VERIFY_WORKERS_MAX <=
			    SL_COMP_VISITORS, "visitors");
			vo.visit = sl_comp_visit;
			vo.visit_ctx = c->comp;
		}
		res->comp_s = now_s() - t0;
	}
	vo.keep_mapped = fits_in_memory(o->path);
	t0 = now_s();
	rc = sl_verify_log(vr, o->path, &vo, e);
	job_join(&sj);
	job_join(&kj);
	if (res->kept) {
		c->comp = kj.comp;
		kj.comp = NULL;
	}
	if (rc == SL_EINTEGRITY) {
		rc = sl_err_set(e, SL_EINTEGRITY, "the log does not verify, so "
		    "no pack is made: %s", vr->problem);
		goto out;
	}
	if (rc)
		goto out;
	res->verify_s = now_s() - t0;
	if (src_rc) {
		*e = src_e;
		rc = src_rc;
		goto out;
	}
	if (res->kept && sj.rc) {
		*e = sj.e;
		rc = sj.rc;
		goto out;
	}
	if (res->kept && kj.rc) {
		*e = kj.e;
		rc = kj.rc;
		sl_err_prefix(e, "completeness from the store's kept "
		    "judgements (--recheck judges every record again instead)");
		goto out;
	}
	res->load_s += sj.seconds;
	res->comp_s += res->kept ? kj.seconds : 0;
	c->sum = c->src->sum;

	/* 2. the summaries as of the checkpoint */
	t0 = now_s();
	res->size = c->size;
	memcpy(res->root, c->src->root, SL_HASH_LEN);
	snprintf(res->origin, sizeof(res->origin), "%s", c->src->origin);
	res->derived = c->src->derived;
	if (o->org) {
		struct sl_hash *h;
		json_t *js = json_string(o->org);
		char *cs = js ? json_dumps(js, JSON_ENCODE_ANY) : NULL;

		json_decref(js);
		rc = cs ? sl_hash_new(&h) : SL_EINVAL;
		if (!rc) {
			c->org = sl_summary_key(h, (const uint8_t *)cs,
			    strlen(cs));
			sl_hash_free(h);
		}
		free(cs);
		if (rc) {
			rc = sl_err_set(e, SL_EINVAL, "--org: not a valid "
			    "organisation id");
			goto out;
		}
	}
	rc = select_records(c);
	if (rc)
		goto out;
	res->load_s += now_s() - t0;

	/* 3. the recording rules: each record was judged on its own during
	 * the integrity pass; now the threads and the log */
	t0 = now_s();
	rc = res->kept ? 0 : sl_comp_end(c->comp);
	if (rc) {
		sl_err_prefix(e, "completeness");
		goto out;
	}
	res->judged_in_pass = !res->kept && sl_comp_visited(c->comp);
	rc = build_threads(c);
	if (rc)
		goto out;
	res->comp_s += now_s() - t0;

	/* 4. the reports, into a new folder renamed into place at the end */
	t0 = now_s();
	snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", o->out);
	if (!mkdtemp(tmp)) {
		rc = sl_err_set(e, SL_EIO, "cannot create a folder beside %s: "
		    "%s", o->out, strerror(errno));
		tmp[0] = '\0';
		goto out;
	}
	snprintf(c->dir, sizeof(c->dir), "%s", tmp);
	nrep = sizeof(reports) / sizeof(reports[0]);
	if (!o->unsuppressed)
		nrep--;          /* review_overdue names cases */
	for (i = 0; i < nrep && !rc; i++)
		rc = reports[i](c);
	snprintf(guidance, sizeof(guidance), "guidance%s.md", c->suffix);
	snprintf(manifest, sizeof(manifest), "pack%s.json", c->suffix);
	if (!rc)
		rc = write_guidance(c, guidance);
	if (!rc)
		rc = write_manifest(c, manifest, guidance);
	if (!rc && rename(tmp, o->out))
		rc = sl_err_set(e, SL_EIO, "cannot create %s: %s", o->out,
		    strerror(errno));
	if (!rc)
		tmp[0] = '\0';
	res->files = c->nfiles;
	res->reports_s = now_s() - t0;
out:
	if (tmp[0])
		remove_dir(tmp);
	job_join(&sj);
	job_join(&kj);
	sl_comp_free(kj.comp);
	if (c) {
		sl_comp_free(c->comp);
		for (i = 0; i < SL_COMP_WORKERS; i++)
			sl_hash_free(c->amend_h[i]);
		sl_rsource_close(c->src);
		free(c->pidx);
		free(c->ti);
		pthread_mutex_destroy(&c->sums_mu);
		pthread_cond_destroy(&c->sums_cv);
	}
	free(c);
	free(vr);
	return rc;
}

/* ---- checking a pack against the log ------------------------------------ */

static int same_file(const char *a, const char *b, struct sl_err *e)
{
	char *x = NULL, *y = NULL;
	size_t nx = 0, ny = 0;
	int rc = sl_bundle_slurp(&x, &nx, a, (size_t)1 << 31, e);

	if (!rc)
		rc = sl_bundle_slurp(&y, &ny, b, (size_t)1 << 31, e);
	if (!rc)
		rc = nx == ny && !memcmp(x, y, nx) ? 0 : SL_EINTEGRITY;
	free(x);
	free(y);
	return rc;
}

static const char *jstr(json_t *o, const char *key, const char *none)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : none;
}

static int opt_time(int64_t *ms, json_t *o, const char *key, int64_t none,
    struct sl_err *e)
{
	json_t *v = json_object_get(o, key);

	*ms = none;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || sl_rfc3339_parse(ms, json_string_value(v),
	    json_string_length(v)))
		return sl_err_set(e, SL_EINVAL, "pack.json: options.%s is not "
		    "a date-time", key);
	return 0;
}

int sl_pack_check(const char *dir, const char *path,
    const struct sl_policy *policy, int threads, struct sl_err *e)
{
	static const char *const names[] = { "pack.json",
	    "pack_UNSUPPRESSED.json" };
	struct sl_pack_opts o;
	struct sl_pack_result res;
	json_error_t je;
	json_t *m = NULL, *opt, *files;
	char p[4300], q[4300], tmp[64];
	char hex[65];
	DIR *d = NULL;
	struct dirent *de;
	size_t i;
	int rc = 0;

	for (i = 0; i < 2 && !m; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		m = json_load_file(p, 0, &je);
	}
	if (!m)
		return sl_err_set(e, SL_ENOTFOUND, "%s holds no pack.json (or "
		    "pack_UNSUPPRESSED.json): not a sharelog pack", dir);
	opt = json_object_get(m, "options");
	files = json_object_get(m, "files");
	if (!json_is_object(opt) || !json_is_array(files) ||
	    strcmp(jstr(m, "format", ""), PACK_FORMAT)) {
		rc = sl_err_set(e, SL_EINVAL, "%s: not a pack manifest of "
		    "format \"%s\"", p, PACK_FORMAT);
		goto out;
	}
	sl_enc_hex(hex, sl_policy_sha256(policy), SL_HASH_LEN);
	{
		const char *want = json_string_value(json_object_get(
		    json_object_get(m, "policy"), "sha256"));

		if (!want || strcmp(want, hex)) {
			rc = sl_err_set(e, SL_EUSAGE, "the pack was made with "
			    "policy \"%s\" (SHA-256 %s), not this one: give "
			    "that policy file with --policy",
			    jstr(json_object_get(m, "policy"), "name", "?"),
			    want ? want : "?");
			goto out;
		}
	}
	memset(&o, 0, sizeof(o));
	o.path = path;
	o.policy = policy;
	o.threads = threads;
	o.recheck = 1;           /* from the entries, trusting nothing kept */
	o.at = (uint64_t)json_integer_value(json_object_get(
	    json_object_get(m, "checkpoint"), "size"));
	o.period = (enum sl_period)sl_pack_period_parse(jstr(opt, "period",
	    ""));
	o.org = json_string_value(json_object_get(opt, "org"));
	o.area = json_string_value(json_object_get(opt, "area"));
	o.k = (unsigned)json_integer_value(json_object_get(opt, "k"));
	o.round = (unsigned)json_integer_value(json_object_get(opt, "round"));
	o.unsuppressed = json_is_true(json_object_get(opt, "unsuppressed"));
	if ((int)o.period < 0 || !o.at) {
		rc = sl_err_set(e, SL_EINVAL, "%s: options.period or "
		    "checkpoint.size is missing", p);
		goto out;
	}
	rc = opt_time(&o.from_ms, opt, "from", INT64_MIN, e);
	if (!rc)
		rc = opt_time(&o.to_ms, opt, "to", INT64_MAX, e);
	if (!rc)
		rc = opt_time(&o.as_of_ms, opt, "as_of", INT64_MIN, e);
	if (rc)
		goto out;
	snprintf(tmp, sizeof(tmp), "/tmp/sharelog-packcheck-XXXXXX");
	if (!mkdtemp(tmp)) {
		rc = sl_err_set(e, SL_EIO, "cannot create a folder in /tmp");
		goto out;
	}
	rmdir(tmp);
	o.out = tmp;
	rc = sl_pack_write(&o, &res, e);
	if (rc) {
		sl_err_prefix(e, "making the pack again");
		goto out_tmp;
	}
	/* every file made again must be in the pack, byte for byte, and
	 * the pack must hold nothing else */
	d = opendir(tmp);
	while (!rc && d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		snprintf(q, sizeof(q), "%s/%s", tmp, de->d_name);
		rc = same_file(p, q, e);
		if (rc == SL_ENOTFOUND)
			rc = sl_err_set(e, SL_EINTEGRITY, "%s is missing from "
			    "the pack", de->d_name);
		else if (rc == SL_EINTEGRITY)
			sl_err_set(e, SL_EINTEGRITY, "%s differs from what the "
			    "log says at checkpoint %llu", de->d_name,
			    (unsigned long long)o.at);
	}
	if (d)
		closedir(d);
	d = rc ? NULL : opendir(dir);
	while (!rc && d && (de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(q, sizeof(q), "%s/%s", tmp, de->d_name);
		if (stat(q, &st))
			rc = sl_err_set(e, SL_EINTEGRITY, "%s is in the pack but "
			    "not something sharelog-report made", de->d_name);
	}
	if (d)
		closedir(d);
out_tmp:
	remove_dir(tmp);
out:
	json_decref(m);
	return rc;
}
