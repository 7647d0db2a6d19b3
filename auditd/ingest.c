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

/* Spool record: u64 line, u32 len, canonical record, u32 len, submitter */
static int spool_put(FILE *f, uint64_t line, const struct sl_buf *rec,
    const char *by)
{
	uint32_t rl = (uint32_t)rec->len;
	uint32_t bl = (uint32_t)strlen(by);

	return fwrite(&line, 8, 1, f) != 1 || fwrite(&rl, 4, 1, f) != 1 ||
	    fwrite(rec->data, 1, rl, f) != rl || fwrite(&bl, 4, 1, f) != 1 ||
	    fwrite(by, 1, bl, f) != bl ? SL_EIO : 0;
}

struct spool_src {
	FILE *f;
	long start;          /* offset of this batch's first record */
	uint64_t limit;      /* records per batch; 0 = all */
	uint64_t taken;
	uint64_t line;       /* line of the current item */
	struct sl_store_item item;
	json_t *rec;
	char by[SL_SCHEMA_ID_MAX + 1];
	struct sl_buf buf;
};

static int spool_next(void *ctx, struct sl_store_item **it, struct sl_err *e)
{
	struct spool_src *x = ctx;
	json_error_t je;
	uint32_t rl;
	uint32_t bl;

	json_decref(x->rec);
	x->rec = NULL;
	if (x->limit && x->taken >= x->limit)
		return 0;
	if (fread(&x->line, 8, 1, x->f) != 1)
		return 0;
	if (fread(&rl, 4, 1, x->f) != 1 || rl > SL_ENTRY_MAX)
		goto bad;
	sl_buf_reset(&x->buf);
	while (rl) {
		uint8_t tmp[4096];
		size_t k = rl < sizeof(tmp) ? rl : sizeof(tmp);

		if (fread(tmp, 1, k, x->f) != k || sl_buf_add(&x->buf, tmp, k))
			goto bad;
		rl -= (uint32_t)k;
	}
	if (fread(&bl, 4, 1, x->f) != 1 || bl >= sizeof(x->by) ||
	    fread(x->by, 1, bl, x->f) != bl)
		goto bad;
	x->by[bl] = '\0';
	x->rec = json_loadb((const char *)x->buf.data, x->buf.len, 0, &je);
	if (!x->rec)
		goto bad;
	memset(&x->item, 0, sizeof(x->item));
	x->item.record = x->rec;
	x->item.submitted_by = x->by;
	x->item.type = sl_entry_type_parse(json_string_value(
	    json_object_get(x->rec, "record_type")), strlen(json_string_value(
	    json_object_get(x->rec, "record_type"))));
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

	json_decref(x->rec);
	x->rec = NULL;
	x->taken = 0;
	if (fseek(x->f, x->start, SEEK_SET))
		return sl_err_set(e, SL_EIO, "cannot rewind the spool file");
	return 0;
}

/* Validate one line; on success append its prepared record to the spool. */
static int check_line(FILE *spool, struct sl_buf *line, uint64_t no,
    const struct sl_pseudo *p, const char *as, struct sl_buf *canon,
    struct sl_err *e)
{
	json_t *in = NULL;
	json_t *rec = NULL;
	const char *org;
	int rc;

	rc = sl_json_parse(&in, (const char *)line->data, line->len,
	    SL_INGEST_LINE_MAX, e);
	if (rc)
		return rc;
	if (!json_is_object(in)) {
		rc = sl_err_set(e, SL_EINVAL, "each line must be one JSON "
		    "object (a record)");
		goto out;
	}
	rc = sl_record_prepare(&rec, in, p, "", e);
	if (rc)
		goto out;
	org = json_string_value(json_object_get(rec, "organisation_id"));
	if (as && strcmp(org, as)) {
		rc = sl_err_set(e, SL_EINVAL, "field /organisation_id: the "
		    "record claims another organisation than the submitter "
		    "(%s); records are appended only for the submitting "
		    "organisation", as);
		goto out;
	}
	sl_buf_reset(canon);
	rc = sl_jcs_write(canon, rec, e);
	if (!rc && spool_put(spool, no, canon, as ? as : org))
		rc = sl_err_set(e, SL_EIO, "cannot write the spool file");
out:
	json_decref(in);
	json_decref(rec);
	return rc;
}

int sl_ingest_jsonl(struct sl_ingest_stats *st, FILE *in, struct sl_store *s,
    const struct sl_pseudo *p, const char *as, uint64_t commit_every,
    FILE *errs, struct sl_err *e)
{
	struct spool_src src;
	struct sl_store_source ss = { spool_next, spool_rewind, &src };
	struct sl_buf line;
	struct sl_buf canon;
	FILE *spool;
	uint64_t no = 0;
	int toolong;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	memset(&src, 0, sizeof(src));
	sl_buf_init(&line, SL_INGEST_LINE_MAX);
	sl_buf_init(&canon, SL_ENTRY_MAX);
	sl_buf_init(&src.buf, SL_ENTRY_MAX);
	/* Validated records wait in an unnamed temporary file, so a large
	 * input costs disk, not memory, and nothing is stored before every
	 * line has passed. */
	spool = tmpfile();
	if (!spool)
		return sl_err_set(e, SL_EIO, "cannot create a temporary file");
	setvbuf(spool, NULL, _IOFBF, 1 << 20);
	while (read_line(in, &line, &toolong)) {
		struct sl_err le = { 0, "" };

		no++;
		st->lines++;
		if (toolong)
			sl_err_set(&le, SL_ETOOBIG, "longer than %d bytes",
			    SL_INGEST_LINE_MAX);
		else
			check_line(spool, &line, no, p, as, &canon, &le);
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
	if (fflush(spool) || fseek(spool, 0, SEEK_SET)) {
		rc = sl_err_set(e, SL_EIO, "cannot read back the spool file");
		goto out;
	}
	src.f = spool;
	src.limit = commit_every;
	while (st->appended + st->duplicates < st->lines) {
		uint64_t count = 0;
		uint64_t before = sl_store_size(s);

		src.start = ftell(spool);
		src.taken = 0;
		rc = sl_store_append_from(s, &ss, &count, e);
		if (rc) {
			if (src.item.duplicate == -1 || rc == SL_ECONFLICT)
				sl_err_prefix(e, "line %llu",
				    (unsigned long long)src.line);
			goto out;
		}
		if (count == 0)
			break;
		st->appended += sl_store_size(s) - before;
		st->duplicates += count - (sl_store_size(s) - before);
	}
	st->size = sl_store_size(s);
out:
	json_decref(src.rec);
	sl_buf_free(&src.buf);
	sl_buf_free(&line);
	sl_buf_free(&canon);
	fclose(spool);
	return rc;
}
