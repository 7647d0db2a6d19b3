#include "auditd/import.h"
#include "formats/hash.h"
#include "formats/json.h"
#include "formats/rfc3339.h"
#include "formats/schema.h"

#include <csv.h>
#include <ctype.h>
#include <stdarg.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

/* ---- the mapping ------------------------------------------------------ */

enum kind {
	K_STRING,   /* ids, enumerations, free text: the cell as a string */
	K_BOOL,
	K_SET,      /* an enumeration set: list_separator between values */
	K_DATE
};

struct col {
	const char *header;       /* the column's name, borrowed from root */
	int ignore;               /* mapped to null: read and dropped */
	char field[64];           /* schema field, or the recipient's key */
	int recip;                /* recipient index, -1 for a field */
	enum kind kind;
	const json_t *values;     /* cell -> value, or NULL */
	const char *date_format;
	int pos;                  /* position in this file's header, -1 */
};

struct sl_import_map {
	json_t *root;
	const char *source;
	unsigned char delim;
	unsigned char sep;
	const char *date_format;
	int london;
	const json_t *constants;
	struct col *cols;
	size_t ncols;
	int derive_id;            /* no column or constant gives record_id */
};

static int bad_map(struct sl_err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad_map(struct sl_err *e, const char *fmt, ...)
{
	char why[SL_ERR_MAX - 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return sl_err_set(e, SL_EINVAL, "mapping: %s", why);
}

static int one_char(unsigned char *out, const json_t *v, unsigned char def,
    const char *key, struct sl_err *e)
{
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) != 1 ||
	    json_string_value(v)[0] == '"' ||
	    ((unsigned char)json_string_value(v)[0] < 0x20 &&
	    json_string_value(v)[0] != '\t'))
		return bad_map(e, "\"%s\" must be one character (not a "
		    "quote, a line break or another control character)", key);
	*out = (unsigned char)json_string_value(v)[0];
	return 0;
}

/* The kind of cell a field takes; -1 when the field cannot be mapped. */
static int kind_of(const char *name, struct sl_err *e, const char *where)
{
	const struct sl_field *f = sl_schema_find(name);

	if (!f && sl_schema_find_other_text(name))
		return K_STRING;
	if (!f)
		return bad_map(e, "%s: \"%s\" is not a field of the record "
		    "(schema version %s)", where, name, SL_SCHEMA_VERSION), -1;
	if (f->flags & SL_F_SERVICE)
		return bad_map(e, "%s: \"%s\" is set by the service, not "
		    "imported", where, name), -1;
	if (f->type == SL_FT_RECIPIENTS)
		return bad_map(e, "%s: map each recipient's keys, as "
		    "\"recipients/0/agency_type\"", where), -1;
	switch (f->type) {
	case SL_FT_BOOL:
		return K_BOOL;
	case SL_FT_ENUMSET:
		return K_SET;
	case SL_FT_DATETIME:
		return K_DATE;
	default:
		return K_STRING;
	}
}

/* "decided_at" or "recipients/2/org" (a leading / allowed) into @c. */
static int target(struct col *c, const char *path, struct sl_err *e,
    const char *where)
{
	int k;

	if (path[0] == '/')
		path++;
	c->recip = -1;
	if (!strncmp(path, "recipients/", 11)) {
		const char *p = path + 11;
		char *end;
		long i = strtol(p, &end, 10);

		if (end == p || *end != '/' || i < 0 ||
		    i >= SL_SCHEMA_RECIPIENTS_MAX || (p[0] == '0' && end > p + 1))
			return bad_map(e, "%s: \"%s\": the recipient's index "
			    "must be 0 to %d", where, path,
			    SL_SCHEMA_RECIPIENTS_MAX - 1);
		if (!sl_schema_recipient_key(end + 1))
			return bad_map(e, "%s: \"%s\": a recipient has "
			    "agency_type, agency_type_text, org and role",
			    where, path);
		c->recip = (int)i;
		c->kind = K_STRING;
		snprintf(c->field, sizeof(c->field), "%s", end + 1);
		return 0;
	}
	if (strlen(path) >= sizeof(c->field))
		return bad_map(e, "%s: \"%.80s\" is not a field of the record",
		    where, path);
	k = kind_of(path, e, where);
	if (k < 0)
		return SL_EINVAL;
	c->kind = (enum kind)k;
	snprintf(c->field, sizeof(c->field), "%s", path);
	return 0;
}

static int same_target(const struct col *a, const struct col *b)
{
	return !a->ignore && !b->ignore && a->recip == b->recip &&
	    !strcmp(a->field, b->field);
}

static int load_col(struct sl_import_map *m, struct col *c,
    const char *header, const json_t *v, struct sl_err *e)
{
	char where[200];
	const json_t *f;
	const json_t *x;
	const char *k;
	int rc;

	snprintf(where, sizeof(where), "column \"%.120s\"", header);
	c->header = header;
	c->pos = -1;
	c->date_format = m->date_format;
	if (json_is_null(v)) {
		c->ignore = 1;
		return 0;
	}
	if (json_is_string(v))
		return target(c, json_string_value(v), e, where);
	if (!json_is_object(v))
		return bad_map(e, "%s: give a field name, null (the column is "
		    "not imported) or {\"field\": ..., \"values\": {...}, "
		    "\"date_format\": ...}", where);
	json_object_foreach((json_t *)v, k, x)
		if (strcmp(k, "field") && strcmp(k, "values") &&
		    strcmp(k, "date_format"))
			return bad_map(e, "%s: unknown key \"%.60s\"", where,
			    k);
	f = json_object_get(v, "field");
	if (!json_is_string(f))
		return bad_map(e, "%s: \"field\" must name a field", where);
	rc = target(c, json_string_value(f), e, where);
	if (rc)
		return rc;
	c->values = json_object_get(v, "values");
	if (c->values) {
		if (!json_is_object(c->values))
			return bad_map(e, "%s: \"values\" maps a cell to a "
			    "string or true/false", where);
		json_object_foreach((json_t *)c->values, k, x)
			if (!json_is_string(x) && !json_is_boolean(x))
				return bad_map(e, "%s: \"values\": \"%.60s\" "
				    "maps to neither a string nor true/false",
				    where, k);
	}
	x = json_object_get(v, "date_format");
	if (x) {
		if (!json_is_string(x) || c->kind != K_DATE)
			return bad_map(e, "%s: \"date_format\" is a string, "
			    "for date-time fields only", where);
		c->date_format = json_string_value(x);
	}
	return 0;
}

/* A format is checked once, on the first day of 2000 written in it. */
static int check_format(const char *fmt, struct sl_err *e)
{
	char out[40];
	char probe[64];
	size_t i;

	if (!strcmp(fmt, "rfc3339"))
		return 0;
	if (strlen(fmt) >= sizeof(probe) || !strstr(fmt, "YYYY") ||
	    !strstr(fmt, "MM") || !strstr(fmt, "DD"))
		goto bad;
	for (i = 0; fmt[i]; i++) {
		if (fmt[i] == 'Y' && !strncmp(fmt + i, "YYYY", 4)) {
			memcpy(probe + i, "2000", 4);
			i += 3;
		} else if (fmt[i] == 'M' || fmt[i] == 'D') {
			probe[i] = '1';
		} else if (strchr("hms", fmt[i])) {
			probe[i] = '0';
		} else {
			probe[i] = fmt[i];
		}
	}
	probe[i] = '\0';
	if (!sl_import_datetime(out, fmt, probe, 0))
		return 0;
bad:
	return bad_map(e, "date_format \"%.60s\": use YYYY, MM, DD and "
	    "optionally hh, mm, ss with separators (\"DD/MM/YYYY hh:mm\"), "
	    "or \"rfc3339\"", fmt);
}

int sl_import_map_load(struct sl_import_map **out, const char *path,
    struct sl_err *e)
{
	static const char *const known[] = { "mapping_version", "source",
	    "delimiter", "list_separator", "date_format", "timezone",
	    "constants", "columns", NULL };
	struct sl_import_map *m = NULL;
	struct sl_err se = { 0, "" };
	char *buf = NULL;
	const json_t *v;
	const char *k;
	size_t n = 0;
	size_t i, j;
	FILE *f;
	int rc;

	*out = NULL;
	f = fopen(path, "rb");
	if (!f)
		return sl_err_set(e, SL_EIO, "cannot open the mapping %s",
		    path);
	buf = malloc(SL_IMPORT_MAP_MAX + 1);
	if (buf)
		n = fread(buf, 1, SL_IMPORT_MAP_MAX + 1, f);
	fclose(f);
	m = calloc(1, sizeof(*m));
	if (!buf || !m) {
		rc = sl_err_set(e, SL_ENOMEM, "out of memory");
		goto out;
	}
	rc = sl_json_parse(&m->root, buf, n, SL_IMPORT_MAP_MAX, e);
	if (rc) {
		sl_err_prefix(e, "mapping %s", path);
		goto out;
	}
	if (!json_is_object(m->root)) {
		rc = bad_map(e, "the file must hold one JSON object");
		goto out;
	}
	json_object_foreach(m->root, k, v) {
		for (j = 0; known[j] && strcmp(known[j], k); j++)
			;
		if (!known[j]) {
			rc = bad_map(e, "unknown key \"%.60s\"", k);
			goto out;
		}
	}
	v = json_object_get(m->root, "mapping_version");
	if (!json_is_string(v) || strcmp(json_string_value(v), "1")) {
		rc = bad_map(e, "\"mapping_version\" must be \"1\"");
		goto out;
	}
	v = json_object_get(m->root, "source");
	if (!v || sl_schema_check("imported_from", v, "/source", &se)) {
		rc = bad_map(e, "\"source\" names where the rows come from "
		    "(1 to %d characters, no control characters); it marks "
		    "every imported record", SL_SCHEMA_ID_MAX);
		goto out;
	}
	m->source = json_string_value(v);
	rc = one_char(&m->delim, json_object_get(m->root, "delimiter"), ',',
	    "delimiter", e);
	if (!rc)
		rc = one_char(&m->sep, json_object_get(m->root,
		    "list_separator"), ';', "list_separator", e);
	if (rc)
		goto out;
	v = json_object_get(m->root, "date_format");
	m->date_format = v ? json_string_value(v) : "rfc3339";
	if (!m->date_format) {
		rc = bad_map(e, "\"date_format\" must be a string");
		goto out;
	}
	v = json_object_get(m->root, "timezone");
	k = v ? json_string_value(v) : "Europe/London";
	if (!k || (strcmp(k, "Europe/London") && strcmp(k, "UTC"))) {
		rc = bad_map(e, "\"timezone\" is \"Europe/London\" (the "
		    "default) or \"UTC\"");
		goto out;
	}
	m->london = !strcmp(k, "Europe/London");
	m->constants = json_object_get(m->root, "constants");
	if (m->constants && !json_is_object(m->constants)) {
		rc = bad_map(e, "\"constants\" must be an object of field "
		    "values");
		goto out;
	}
	v = json_object_get(m->root, "columns");
	if (!json_is_object(v) || !json_object_size(v) ||
	    json_object_size(v) > SL_IMPORT_COLS_MAX) {
		rc = bad_map(e, "\"columns\" must map each CSV column's name "
		    "to a field (at most %d)", SL_IMPORT_COLS_MAX);
		goto out;
	}
	m->cols = calloc(json_object_size(v), sizeof(*m->cols));
	if (!m->cols) {
		rc = sl_err_set(e, SL_ENOMEM, "out of memory");
		goto out;
	}
	{
		const json_t *x;

		json_object_foreach((json_t *)v, k, x) {
			rc = load_col(m, &m->cols[m->ncols], k, x, e);
			if (rc)
				goto out;
			m->ncols++;
		}
	}
	for (i = 0; i < m->ncols; i++) {
		if (m->cols[i].kind == K_DATE && !m->cols[i].ignore) {
			rc = check_format(m->cols[i].date_format, e);
			if (rc) {
				sl_err_prefix(e, "column \"%.120s\"",
				    m->cols[i].header);
				goto out;
			}
		}
		for (j = 0; j < i; j++)
			if (same_target(&m->cols[i], &m->cols[j])) {
				rc = bad_map(e, "columns \"%.100s\" and "
				    "\"%.100s\" fill the same field",
				    m->cols[j].header, m->cols[i].header);
				goto out;
			}
	}
	if (m->constants) {
		const json_t *x;

		json_object_foreach((json_t *)m->constants, k, x) {
			struct col c;

			memset(&c, 0, sizeof(c));
			rc = target(&c, k, e, "constants");
			if (rc)
				goto out;
			if (c.recip >= 0) {
				rc = bad_map(e, "constants: recipients come "
				    "from columns");
				goto out;
			}
			for (i = 0; i < m->ncols; i++)
				if (same_target(&c, &m->cols[i])) {
					rc = bad_map(e, "\"%.60s\" is both a "
					    "constant and column \"%.100s\"",
					    k, m->cols[i].header);
					goto out;
				}
		}
	}
	m->derive_id = !(m->constants && json_object_get(m->constants,
	    "record_id"));
	for (i = 0; i < m->ncols; i++)
		if (!m->cols[i].ignore && m->cols[i].recip < 0 &&
		    !strcmp(m->cols[i].field, "record_id"))
			m->derive_id = 0;
	*out = m;
	m = NULL;
out:
	free(buf);
	sl_import_map_free(m);
	return rc;
}

void sl_import_map_free(struct sl_import_map *m)
{
	if (!m)
		return;
	json_decref(m->root);
	free(m->cols);
	free(m);
}

/* ---- cells ------------------------------------------------------------ */

/* Digits for a run of @run pattern letters: YYYY exactly four, the
 * others one or two (a spreadsheet writes 1/3/2024 as often as 01/03). */
static int digits(const char **s, int run, int *out)
{
	int n = 0;
	int v = 0;

	while (n < (run == 4 ? 4 : 2) && isdigit((unsigned char)**s)) {
		v = v * 10 + (**s - '0');
		(*s)++;
		n++;
	}
	if (n == 0 || (run == 4 && n != 4))
		return -1;
	*out = v;
	return 0;
}

static int64_t at(int y, int mo, int d, int h)
{
	char t[80];
	int64_t ms = 0;

	snprintf(t, sizeof(t), "%04d-%02d-%02dT%02d:00:00Z", y, mo, d, h);
	sl_rfc3339_parse(&ms, t, strlen(t));
	return ms;
}

/* 01:00 UTC on the last Sunday of @mo (31 days long) in @y. */
static int64_t last_sunday(int y, int mo)
{
	int64_t day = at(y, mo, 31, 0) / 86400000;
	int wday = (int)(((day % 7) + 11) % 7);   /* 1970-01-01: Thursday */

	return at(y, mo, 31 - wday, 1);
}

int sl_import_datetime(char out[40], const char *fmt, const char *cell,
    int london)
{
	int v[6] = { -1, -1, -1, 0, 0, 0 };   /* Y M D h m s */
	const char *s = cell;
	const char *f = fmt;
	char t[80];
	int64_t ms;
	int bst;

	if (!strcmp(fmt, "rfc3339")) {
		if (strlen(cell) >= 40 || sl_rfc3339_parse(&ms, cell,
		    strlen(cell)))
			return SL_EINVAL;
		memcpy(out, cell, strlen(cell) + 1);
		return 0;
	}
	while (*f) {
		const char *letters = "YMDhms";
		const char *p = strchr(letters, *f);
		int run = 0;

		if (!p) {
			if (*s != *f)
				return SL_EINVAL;
			s++;
			f++;
			continue;
		}
		while (f[run] == *f)
			run++;
		if (digits(&s, run, &v[p - letters]))
			return SL_EINVAL;
		f += run;
	}
	if (*s || v[0] < 0 || v[1] < 0 || v[2] < 0)
		return SL_EINVAL;
	snprintf(t, sizeof(t), "%04d-%02d-%02dT%02d:%02d:%02dZ", v[0], v[1],
	    v[2], v[3], v[4], v[5]);
	if (sl_rfc3339_parse(&ms, t, strlen(t)))
		return SL_EINVAL;   /* 31/04, 25:00 and the like */
	if (!london) {
		snprintf(out, 40, "%.39s", t);
		return 0;
	}
	/* UK clocks since 1996: BST from 01:00 UTC on the last Sunday of
	 * March to 01:00 UTC on the last Sunday of October. A local time
	 * in the lost hour is read as GMT; one in the repeated hour as
	 * its first (BST) occurrence. */
	bst = ms - 3600000 >= last_sunday(v[0], 3) &&
	    ms - 3600000 < last_sunday(v[0], 10);
	snprintf(out, 40, "%.19s%s", t, bst ? "+01:00" : "+00:00");
	return 0;
}

/* ---- rows ------------------------------------------------------------- */

struct reader {
	const struct sl_import_map *m;
	struct sl_ingest *g;
	struct sl_ingest_stats *st;
	FILE *errs;
	/* the current row */
	char **cell;
	size_t *len;
	size_t ncells;
	size_t rowbytes;
	int overflow;             /* more cells or bytes than allowed */
	uint64_t row;             /* spreadsheet row: the header is 1 */
	/* the header */
	size_t ncols;             /* cells in the header */
	int header_done;
	int fatal;                /* the header was refused */
	struct sl_err *e;
};

static void *capped_realloc(void *p, size_t n)
{
	/* libcsv grows one field's buffer with this: a cell has a limit */
	return n > SL_IMPORT_CELL_MAX + 64 ? NULL : realloc(p, n);
}

static void on_cell(void *s, size_t n, void *data)
{
	struct reader *r = data;
	char *c;

	if (r->overflow || r->fatal)
		return;
	if (r->ncells >= SL_IMPORT_COLS_MAX ||
	    r->rowbytes + n > SL_IMPORT_ROW_MAX) {
		r->overflow = 1;
		return;
	}
	c = malloc(n + 1);
	if (!c) {
		r->overflow = 1;
		return;
	}
	if (n)
		memcpy(c, s, n);
	c[n] = '\0';
	r->cell[r->ncells] = c;
	r->len[r->ncells++] = n;
	r->rowbytes += n;
}

static void clear_row(struct reader *r)
{
	size_t i;

	for (i = 0; i < r->ncells; i++)
		free(r->cell[i]);
	r->ncells = 0;
	r->rowbytes = 0;
	r->overflow = 0;
}

/* At most SHOWN_CHARS bytes of a name or a cell, with room to escape */
#define SHOWN_CHARS 60
#define SHOWN_MAX (SHOWN_CHARS * 4 + 4)

/*
 * A column name or a cell from the file as a message shows it: control
 * characters as \xNN (a line break inside a quoted name would split one
 * refusal into two lines, an escape sequence would reach the terminal),
 * cut after SHOWN_CHARS bytes with "...". Returns @out.
 */
static const char *shown(char out[SHOWN_MAX], const char *s)
{
	size_t i, o = 0;

	for (i = 0; s[i] && i < SHOWN_CHARS; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, SHOWN_MAX - o,
			    "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (s[i])
		memcpy(out + o, "...", 3), o += 3;
	out[o] = '\0';
	return out;
}

static void row_error(struct reader *r, const struct col *c,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void row_error(struct reader *r, const struct col *c,
    const char *fmt, ...)
{
	char name[SHOWN_MAX];
	va_list ap;

	if (c)
		fprintf(r->errs, "row %llu, column \"%s\": ",
		    (unsigned long long)r->row, shown(name, c->header));
	else
		fprintf(r->errs, "row %llu: ", (unsigned long long)r->row);
	va_start(ap, fmt);
	vfprintf(r->errs, fmt, ap);
	va_end(ap);
	fputc('\n', r->errs);
}

/* Match the header's names with the mapping's columns. */
static int header(struct reader *r)
{
	struct sl_import_map *m = (struct sl_import_map *)r->m;
	char name[SHOWN_MAX];
	int bad = 0;
	size_t i, j;

	for (i = 0; i < m->ncols; i++)
		m->cols[i].pos = -1;
	/* a spreadsheet's UTF-8 byte order mark */
	if (r->ncells && !strncmp(r->cell[0], "\xef\xbb\xbf", 3))
		memmove(r->cell[0], r->cell[0] + 3, strlen(r->cell[0]) - 2);
	for (i = 0; i < r->ncells; i++) {
		const char *h = r->cell[i];

		for (j = 0; j < i; j++)
			if (!strcmp(r->cell[j], h))
				break;
		if (j < i) {
			row_error(r, NULL, "column \"%s\" appears twice in "
			    "the header", shown(name, h));
			bad = 1;
			continue;
		}
		for (j = 0; j < m->ncols; j++)
			if (!strcmp(m->cols[j].header, h))
				break;
		if (j == m->ncols) {
			row_error(r, NULL, "column \"%s\" is not in the "
			    "mapping (map it to a field, or to null to leave "
			    "it out)", shown(name, h));
			bad = 1;
			continue;
		}
		m->cols[j].pos = (int)i;
	}
	for (j = 0; j < m->ncols; j++)
		if (m->cols[j].pos < 0) {
			row_error(r, NULL, "the mapping's column \"%s\" is "
			    "not in the file's header",
			    shown(name, m->cols[j].header));
			bad = 1;
		}
	r->ncols = r->ncells;
	return bad;
}

static const char *trim(char *s)
{
	size_t n = strlen(s);

	while (*s == ' ' || *s == '\t')
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static json_t *mapped(const struct col *c, const char *cell)
{
	const json_t *v = c->values ? json_object_get(c->values, cell) : NULL;

	if (!v)
		return NULL;
	return json_is_string(v) ? json_string(json_string_value(v)) :
	    json_boolean(json_is_true(v));
}

static json_t *boolean(const char *s)
{
	static const char *const yes[] = { "true", "yes", "y", "1", NULL };
	static const char *const no[] = { "false", "no", "n", "0", NULL };
	int i;

	for (i = 0; yes[i]; i++)
		if (!strcasecmp(s, yes[i]))
			return json_true();
	for (i = 0; no[i]; i++)
		if (!strcasecmp(s, no[i]))
			return json_false();
	return NULL;
}

static int utf8_ok(const char *s)
{
	json_t *t = json_string(s);   /* jansson refuses invalid UTF-8 */

	json_decref(t);
	return t != NULL;
}

/* The value of one cell, or NULL with *bad set when it cannot be read
 * (an empty cell is no value and not bad). */
static json_t *cell_value(struct reader *r, const struct col *c, char *raw,
    int *bad)
{
	const char *s = trim(raw);
	/* a set's values are mapped one by one, below */
	json_t *v = c->kind == K_SET ? NULL : mapped(c, s);
	char when[40];

	*bad = 0;
	if (v)
		return v;
	if (!*s)
		return NULL;
	if (!utf8_ok(s)) {
		*bad = 1;
		row_error(r, c, "not UTF-8 text (save the spreadsheet as "
		    "\"CSV UTF-8\")");
		return NULL;
	}
	switch (c->kind) {
	case K_BOOL:
		v = boolean(s);
		if (!v) {
			char cell[SHOWN_MAX];

			*bad = 1;
			row_error(r, c, "field /%s: \"%s\" is not yes or no "
			    "(true/false, yes/no, y/n, 1/0, or give "
			    "\"values\" in the mapping)", c->field,
			    shown(cell, s));
		}
		return v;
	case K_DATE:
		if (sl_import_datetime(when, c->date_format, s, r->m->london)) {
			*bad = 1;
			row_error(r, c, "field /%s: not a date-time in the "
			    "form %s", c->field, c->date_format);
			return NULL;
		}
		return json_string(when);
	case K_SET: {
		json_t *a = json_array();
		char *p = raw;

		while (a && p) {
			char *next = strchr(p, r->m->sep);
			const char *item;
			json_t *x;

			if (next)
				*next++ = '\0';
			item = trim(p);
			p = next;
			if (!*item)
				continue;
			x = mapped(c, item);
			json_array_append_new(a, x ? x : json_string(item));
		}
		return a;
	}
	default:
		return json_string(s);
	}
}

/* The column that filled the field a validation message names
 * ("field /decision: ..."), or NULL. */
static const struct col *col_of_message(const struct sl_import_map *m,
    const char *msg)
{
	char name[64];
	int recip = -1;
	const char *p;
	size_t n;
	size_t i;

	if (strncmp(msg, "field /", 7))
		return NULL;
	p = msg + 7;
	if (!strncmp(p, "recipients/", 11)) {
		recip = atoi(p + 11);
		p = strchr(p + 11, '/');
		if (!p)
			return NULL;
		p++;
	}
	n = strcspn(p, "/: ");
	if (n >= sizeof(name))
		return NULL;
	memcpy(name, p, n);
	name[n] = '\0';
	if (!strcmp(name, "child_ref"))
		snprintf(name, sizeof(name), "child_id");
	for (i = 0; i < m->ncols; i++)
		if (!m->cols[i].ignore && m->cols[i].recip == recip &&
		    !strcmp(m->cols[i].field, name))
			return &m->cols[i];
	return NULL;
}

/* record_id from what identifies the record, so importing the same rows
 * again finds them in the log instead of adding them twice: a UUID
 * (version 8, RFC 9562) of SHA-256 over the source, organisation,
 * decision, record type and decision time, NUL-separated. */
static int derive_id(json_t *rec, const char *source)
{
	static const char *const keys[] = { "organisation_id",
	    "decision_id", "record_type", "decided_at", NULL };
	struct sl_hash_part part[2 + 4];
	uint8_t d[SL_HASH_LEN];
	struct sl_hash *h = NULL;
	char id[37];
	int i, o, rc;

	part[0].p = "sharelog-import-v1";
	part[0].n = 19;
	part[1].p = source;
	part[1].n = strlen(source) + 1;
	for (i = 0; keys[i]; i++) {
		const char *v = json_string_value(json_object_get(rec,
		    keys[i]));

		part[2 + i].p = v ? v : "";
		part[2 + i].n = (v ? strlen(v) : 0) + 1;
	}
	if (sl_hash_new(&h))
		return SL_ENOMEM;
	rc = sl_hash_sha256v(d, h, part, 2 + (size_t)i);
	sl_hash_free(h);
	if (rc)
		return rc;
	d[6] = (uint8_t)((d[6] & 0x0f) | 0x80);
	d[8] = (uint8_t)((d[8] & 0x3f) | 0x80);
	for (i = 0, o = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			id[o++] = '-';
		o += snprintf(id + o, sizeof(id) - (size_t)o, "%02x", d[i]);
	}
	return json_object_set_new(rec, "record_id", json_string(id)) ?
	    SL_ENOMEM : 0;
}

/* Put @v at recipients[@i].@key, growing the array with empty objects. */
static int set_recipient(json_t *rec, int i, const char *key, json_t *v)
{
	json_t *a = json_object_get(rec, "recipients");

	if (!a) {
		a = json_array();
		if (json_object_set_new(rec, "recipients", a))
			return SL_ENOMEM;
	}
	while ((int)json_array_size(a) <= i)
		if (json_array_append_new(a, json_object()))
			return SL_ENOMEM;
	return json_object_set_new(json_array_get(a, (size_t)i), key, v) ?
	    SL_ENOMEM : 0;
}

/* A recipient left all empty in the middle would shift the others:
 * refuse it rather than renumber. */
static int recipients_ok(struct reader *r, json_t *rec)
{
	json_t *a = json_object_get(rec, "recipients");
	size_t i;

	for (i = 0; a && i < json_array_size(a); i++)
		if (!json_object_size(json_array_get(a, i))) {
			row_error(r, NULL, "recipient %zu is empty but a later "
			    "one is filled; fill the recipients in order", i);
			return 0;
		}
	return 1;
}

static void data_row(struct reader *r)
{
	const struct sl_import_map *m = r->m;
	struct sl_err le = { 0, "" };
	json_t *rec = NULL;
	int bad = 0;
	size_t i;

	for (i = 0; i < r->ncells && !r->len[i]; i++)
		;
	if (i == r->ncells)
		return;   /* a blank row, as spreadsheets leave at the end */
	r->st->lines++;
	if (r->overflow) {
		row_error(r, NULL, "more than %d columns or %d bytes",
		    SL_IMPORT_COLS_MAX, SL_IMPORT_ROW_MAX);
		goto bad;
	}
	if (r->ncells != r->ncols) {
		row_error(r, NULL, "%zu cells, but the header has %zu columns",
		    r->ncells, r->ncols);
		goto bad;
	}
	rec = m->constants ? json_deep_copy(m->constants) : json_object();
	if (!rec)
		goto nomem;
	for (i = 0; i < m->ncols; i++) {
		const struct col *c = &m->cols[i];
		int cbad;
		json_t *v;

		if (c->ignore)
			continue;
		v = cell_value(r, c, r->cell[c->pos], &cbad);
		bad |= cbad;
		if (!v)
			continue;
		if (c->recip >= 0 ? set_recipient(rec, c->recip, c->field, v) :
		    json_object_set_new(rec, c->field, v))
			goto nomem;
	}
	if (bad || !recipients_ok(r, rec))
		goto bad;
	if (m->derive_id && derive_id(rec, m->source))
		goto nomem;
	if (sl_ingest_add(r->g, rec, r->row, m->source, &le)) {
		const struct col *c = col_of_message(m, le.msg);

		row_error(r, c, "%s", le.msg);
		goto bad;
	}
	json_decref(rec);
	return;
nomem:
	row_error(r, NULL, "out of memory");
bad:
	r->st->bad++;
	json_decref(rec);
}

static void on_row(int term, void *data)
{
	struct reader *r = data;

	(void)term;
	if (r->fatal)
		return;
	r->row++;
	if (!r->header_done) {
		r->header_done = 1;
		if (r->overflow || header(r)) {
			r->fatal = 1;
			sl_err_set(r->e, SL_EINVAL, "the header does not match "
			    "the mapping; nothing was stored");
		}
	} else {
		data_row(r);
	}
	clear_row(r);
}

int sl_import_csv(struct sl_ingest_stats *st, FILE *in,
    const struct sl_import_map *m, struct sl_store *s, int check,
    const struct sl_pseudo *p, const char *as, FILE *errs,
    struct sl_err *e)
{
	struct csv_parser cp;
	struct reader r;
	char buf[65536];
	size_t n;
	int rc;

	memset(st, 0, sizeof(*st));
	memset(&r, 0, sizeof(r));
	r.m = m;
	r.st = st;
	r.errs = errs;
	r.e = e;
	r.cell = calloc(SL_IMPORT_COLS_MAX, sizeof(*r.cell));
	r.len = calloc(SL_IMPORT_COLS_MAX, sizeof(*r.len));
	if (!r.cell || !r.len) {
		free(r.cell);
		free(r.len);
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	}
	rc = sl_ingest_open(&r.g, p, as, "row", e);
	if (rc)
		goto out;
	/* strict: a stray quote is an error, not data; CSV_APPEND_NULL
	 * so every cell is a C string */
	if (csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL)) {
		rc = sl_err_set(e, SL_ENOMEM, "out of memory");
		goto out;
	}
	csv_set_delim(&cp, m->delim);
	csv_set_realloc_func(&cp, capped_realloc);
	while (!r.fatal && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (csv_parse(&cp, buf, n, on_cell, on_row, &r) != n)
			break;
	if (!r.fatal && !ferror(in) && csv_error(&cp) == CSV_SUCCESS)
		csv_fini(&cp, on_cell, on_row, &r);   /* the last row */
	if (r.fatal) {
		rc = SL_EINVAL;
	} else if (ferror(in)) {
		rc = sl_err_set(e, SL_EIO, "cannot read the CSV file");
	} else if (csv_error(&cp) != CSV_SUCCESS) {
		rc = csv_error(&cp) == CSV_EPARSE ? sl_err_set(e, SL_EINVAL,
		    "row %llu: malformed CSV (a quote inside a cell must be "
		    "doubled, and a quoted cell closed); nothing was stored",
		    (unsigned long long)r.row + 1) : sl_err_set(e, SL_EINVAL,
		    "row %llu: a cell too long (more than %d bytes); nothing "
		    "was stored", (unsigned long long)r.row + 1,
		    SL_IMPORT_CELL_MAX);
	} else if (!r.header_done) {
		rc = sl_err_set(e, SL_EINVAL, "the file is empty: it needs a "
		    "header row naming its columns; nothing was stored");
	} else if (st->bad) {
		rc = sl_err_set(e, SL_EINVAL, "%llu of %llu rows refused; "
		    "nothing was stored", (unsigned long long)st->bad,
		    (unsigned long long)st->lines);
	} else if (s) {         /* NULL: the rows only */
		rc = check ? sl_ingest_check(r.g, s, st, e) :
		    sl_ingest_commit(r.g, s, 0, st, e);
	}
	clear_row(&r);
	csv_free(&cp);
out:
	sl_ingest_close(r.g);
	free(r.cell);
	free(r.len);
	return rc;
}
