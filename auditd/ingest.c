#include "auditd/ingest.h"
#include "formats/buf.h"
#include "formats/entry.h"
#include "formats/jcs.h"
#include "formats/json.h"
#include "formats/record.h"
#include "formats/schema.h"

#include <stdlib.h>
#include <string.h>

/*
 * Read one line into @b (without its newline). Returns 1 for a line, 0 at
 * the end. A line longer than the limit is consumed and *toolong set.
 */
static int read_line(FILE *in, struct sl_buf *b, int *toolong)
{
	char chunk[8192];
	int any = 0;

	sl_buf_reset(b);
	*toolong = 0;
	while (fgets(chunk, sizeof(chunk), in)) {
		size_t n = strlen(chunk);
		int nl = n && chunk[n - 1] == '\n';

		any = 1;
		if (nl)
			n--;
		if (!*toolong && sl_buf_add(b, chunk, n))
			*toolong = 1;
		if (nl)
			return 1;
	}
	return any;
}

/*
 * The spool holds each validated record ready to append: u64 line,
 * u8 type, then four strings as u32 length + bytes: canonical record,
 * submitter, record_id, decision_id. The append pass does no JSON work
 * at all.
 */
#define SPOOL_STRS 4

static int spool_put(FILE *f, uint64_t line, uint8_t type,
    const char *const str[SPOOL_STRS], const size_t len[SPOOL_STRS])
{
	int i;

	if (fwrite(&line, 8, 1, f) != 1 || fwrite(&type, 1, 1, f) != 1)
		return SL_EIO;
	for (i = 0; i < SPOOL_STRS; i++) {
		uint32_t n = (uint32_t)len[i];

		if (fwrite(&n, 4, 1, f) != 1 || fwrite(str[i], 1, n, f) != n)
			return SL_EIO;
	}
	return 0;
}

struct spool_src {
	FILE *f;
	long start;          /* offset of this batch's first record */
	uint64_t limit;      /* records per batch; 0 = all */
	uint64_t taken;
	uint64_t line;       /* line of the current item */
	struct sl_store_item item;
	struct sl_buf str[SPOOL_STRS];
};

static int spool_next(void *ctx, struct sl_store_item **it, struct sl_err *e)
{
	struct spool_src *x = ctx;
	uint8_t type;
	int i;

	if (x->limit && x->taken >= x->limit)
		return 0;
	if (fread(&x->line, 8, 1, x->f) != 1)
		return 0;
	if (fread(&type, 1, 1, x->f) != 1)
		goto bad;
	for (i = 0; i < SPOOL_STRS; i++) {
		uint32_t n;

		sl_buf_reset(&x->str[i]);
		if (fread(&n, 4, 1, x->f) != 1 || n > x->str[i].max)
			goto bad;
		/* allocated and NUL-terminated even when empty */
		if (sl_buf_add(&x->str[i], "", 0))
			goto bad;
		while (n) {
			uint8_t tmp[8192];
			size_t k = n < sizeof(tmp) ? n : sizeof(tmp);

			if (fread(tmp, 1, k, x->f) != k ||
			    sl_buf_add(&x->str[i], tmp, k))
				goto bad;
			n -= (uint32_t)k;
		}
	}
	memset(&x->item, 0, sizeof(x->item));
	x->item.type = type;
	x->item.canon = x->str[0].data;
	x->item.canon_len = x->str[0].len;
	x->item.submitted_by = (const char *)x->str[1].data;
	x->item.record_id = x->str[2].len ? (const char *)x->str[2].data : NULL;
	x->item.decision_id = x->str[3].len ? (const char *)x->str[3].data :
	    NULL;
	x->taken++;
	*it = &x->item;
	return 1;
bad:
	return sl_err_set(e, SL_EIO, "the spool file of validated records is "
	    "damaged");
}

static int spool_rewind(void *ctx, struct sl_err *e)
{
	struct spool_src *x = ctx;

	x->taken = 0;
	if (fseek(x->f, x->start, SEEK_SET))
		return sl_err_set(e, SL_EIO, "cannot rewind the spool file");
	return 0;
}

static const char *opt_str(const json_t *rec, const char *k, size_t *n)
{
	const json_t *v = json_object_get(rec, k);

	*n = json_is_string(v) ? json_string_length(v) : 0;
	return *n ? json_string_value(v) : "";
}

struct sl_ingest {
	const struct sl_pseudo *p;
	const char *as;
	const char *unit;
	FILE *spool;
	struct sl_buf canon;
};

int sl_ingest_open(struct sl_ingest **out, const struct sl_pseudo *p,
    const char *as, const char *unit, struct sl_err *e)
{
	struct sl_ingest *g = calloc(1, sizeof(*g));

	*out = NULL;
	if (!g)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	g->p = p;
	g->as = as;
	g->unit = unit;
	sl_buf_init(&g->canon, SL_ENTRY_MAX);
	/* Validated records wait in an unnamed temporary file, so a large
	 * input costs disk, not memory, and nothing is stored before every
	 * record has passed. */
	g->spool = tmpfile();
	if (!g->spool) {
		free(g);
		return sl_err_set(e, SL_EIO, "cannot create a temporary file");
	}
	setvbuf(g->spool, NULL, _IOFBF, 1 << 20);
	*out = g;
	return 0;
}

void sl_ingest_close(struct sl_ingest *g)
{
	if (!g)
		return;
	fclose(g->spool);
	sl_buf_free(&g->canon);
	free(g);
}

int sl_ingest_add(struct sl_ingest *g, json_t *rec, uint64_t no,
    const char *imported_from, struct sl_err *e)
{
	const char *str[SPOOL_STRS];
	size_t len[SPOOL_STRS];
	const char *org;
	const char *rt;
	int rc;

	if (!json_is_object(rec))
		return sl_err_set(e, SL_EINVAL, "each %s must be one JSON "
		    "object (a record)", g->unit);
	rc = sl_record_prepare(rec, g->p, "", e);
	if (rc)
		return rc;
	org = json_string_value(json_object_get(rec, "organisation_id"));
	if (g->as && strcmp(org, g->as))
		return sl_err_set(e, SL_EINVAL, "field /organisation_id: the "
		    "record claims another organisation than the submitter "
		    "(%s); records are appended only for the submitting "
		    "organisation", g->as);
	/* after validation, which refuses this service field from clients */
	if (imported_from && json_object_set_new(rec, "imported_from",
	    json_string(imported_from)))
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	sl_buf_reset(&g->canon);
	rc = sl_jcs_write(&g->canon, rec, e);
	if (rc)
		return rc;
	rt = json_string_value(json_object_get(rec, "record_type"));
	str[0] = (const char *)g->canon.data;
	len[0] = g->canon.len;
	str[1] = g->as ? g->as : org;
	len[1] = strlen(str[1]);
	str[2] = opt_str(rec, "record_id", &len[2]);
	str[3] = opt_str(rec, "decision_id", &len[3]);
	if (spool_put(g->spool, no, (uint8_t)sl_entry_type_parse(rt,
	    strlen(rt)), str, len))
		return sl_err_set(e, SL_EIO, "cannot write the spool file");
	return 0;
}

/* sl_ingest_commit(), or with @check its dry run (one transaction). */
static int to_store(struct sl_ingest *g, struct sl_store *s,
    uint64_t commit_every, int check, struct sl_ingest_stats *st,
    struct sl_err *e)
{
	struct spool_src src;
	struct sl_store_source ss = { spool_next, spool_rewind, &src };
	int rc = 0;
	int i;

	memset(&src, 0, sizeof(src));
	for (i = 0; i < SPOOL_STRS; i++)
		sl_buf_init(&src.str[i], SL_ENTRY_MAX);
	if (fflush(g->spool) || fseek(g->spool, 0, SEEK_SET)) {
		rc = sl_err_set(e, SL_EIO, "cannot read back the spool file");
		goto out;
	}
	src.f = g->spool;
	src.limit = commit_every;
	while (st->appended + st->duplicates < st->lines) {
		uint64_t count = 0;
		uint64_t before = sl_store_size(s);
		uint64_t fresh = 0;

		src.start = ftell(g->spool);
		src.taken = 0;
		rc = check ? sl_store_append_check(s, &ss, &count, &fresh, e) :
		    sl_store_append_from(s, &ss, &count, e);
		if (rc) {
			if (src.item.duplicate == -1 || rc == SL_ECONFLICT)
				sl_err_prefix(e, "%s %llu", g->unit,
				    (unsigned long long)src.line);
			goto out;
		}
		if (count == 0)
			break;
		if (!check)
			fresh = sl_store_size(s) - before;
		st->appended += fresh;
		st->duplicates += count - fresh;
	}
	st->size = sl_store_size(s) + (check ? st->appended : 0);
out:
	for (i = 0; i < SPOOL_STRS; i++)
		sl_buf_free(&src.str[i]);
	return rc;
}

/* One line of JSON into the spool. */
static int check_line(struct sl_ingest *g, struct sl_buf *line, uint64_t no,
    struct sl_err *e)
{
	json_t *rec = NULL;
	int rc;

	/* the line's JSON values live in the arena until out: */
	sl_json_arena_begin();
	rc = sl_json_parse(&rec, (const char *)line->data, line->len,
	    SL_INGEST_LINE_MAX, e);
	if (!rc)
		rc = sl_ingest_add(g, rec, no, NULL, e);
	json_decref(rec);
	sl_json_arena_end();
	return rc;
}

int sl_ingest_commit(struct sl_ingest *g, struct sl_store *s,
    uint64_t commit_every, struct sl_ingest_stats *st, struct sl_err *e)
{
	return to_store(g, s, commit_every, 0, st, e);
}

int sl_ingest_check(struct sl_ingest *g, struct sl_store *s,
    struct sl_ingest_stats *st, struct sl_err *e)
{
	return to_store(g, s, 0, 1, st, e);
}

int sl_ingest_jsonl(struct sl_ingest_stats *st, FILE *in, struct sl_store *s,
    const struct sl_pseudo *p, const char *as, uint64_t commit_every,
    int check, FILE *errs, struct sl_err *e)
{
	struct sl_ingest *g;
	struct sl_buf line;
	uint64_t no = 0;
	int toolong;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = sl_ingest_open(&g, p, as, "line", e);
	if (rc)
		return rc;
	sl_buf_init(&line, SL_INGEST_LINE_MAX);
	while (read_line(in, &line, &toolong)) {
		struct sl_err le = { 0, "" };

		no++;
		st->lines++;
		if (toolong)
			sl_err_set(&le, SL_ETOOBIG, "longer than %d bytes",
			    SL_INGEST_LINE_MAX);
		else
			check_line(g, &line, no, &le);
		if (le.code) {
			st->bad++;
			fprintf(errs, "line %llu: %s\n", (unsigned long long)no,
			    le.msg);
		}
	}
	if (ferror(in)) {
		rc = sl_err_set(e, SL_EIO, "cannot read the input");
		goto out;
	}
	if (st->bad) {
		rc = sl_err_set(e, SL_EINVAL, "%llu of %llu lines refused; "
		    "nothing was stored", (unsigned long long)st->bad,
		    (unsigned long long)st->lines);
		goto out;
	}
	rc = check ? sl_ingest_check(g, s, st, e) :
	    sl_ingest_commit(g, s, commit_every, st, e);
out:
	sl_buf_free(&line);
	sl_ingest_close(g);
	return rc;
}
