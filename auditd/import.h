/*
 * import: decisions kept in a spreadsheet, as CSV, into the store
 * (`sharelogd import FILE.csv --mapping FILE`).
 *
 * A column mapping (JSON, docs/IMPORT.md) says which CSV column fills
 * which record field, how its cells are written (value maps, lists,
 * local dates) and which fields are the same for every row. Each row
 * becomes one client record and is validated as an API submission would
 * be (auditd/ingest), then marked with imported_from = the mapping's
 * source. One bad row and nothing is stored; every bad row and column is
 * reported ("row 7, column \"Shared?\": field /decision: not one of ...").
 * Rows are counted as a spreadsheet shows them: the header is row 1.
 */
#ifndef SL_IMPORT_H
#define SL_IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include "auditd/ingest.h"
#include "formats/err.h"
#include "formats/pseudo.h"
#include "formats/store.h"

/* Hard limits: a mapping file, one cell, one row. */
#define SL_IMPORT_MAP_MAX (1024 * 1024)
#define SL_IMPORT_CELL_MAX (64 * 1024)
#define SL_IMPORT_ROW_MAX (256 * 1024)
#define SL_IMPORT_COLS_MAX 512

struct sl_import_map;

/**
 * Read and check the mapping at @path. *out is the caller's, freed with
 * sl_import_map_free(). SL_EINVAL names the key that is wrong.
 */
int sl_import_map_load(struct sl_import_map **out, const char *path,
    struct sl_err *e);

/** NULL is allowed. */
void sl_import_map_free(struct sl_import_map *m);

/**
 * Import the CSV @in through @m into @s (records pseudonymised with @p;
 * @as as for sl_ingest_jsonl). Bad rows are written to @errs, one line
 * each. st->lines counts the data rows (blank rows skipped). Returns 0,
 * SL_EINVAL when the file or a row was refused (nothing stored), or the
 * store's error. @check: nothing is stored; every row is validated and
 * reported the same way, then checked against the log in @s as
 * sl_ingest_check() does (st->appended: rows that would be new entries).
 * @s NULL (with @check): the rows alone, not against a log.
 */
int sl_import_csv(struct sl_ingest_stats *st, FILE *in,
    const struct sl_import_map *m, struct sl_store *s, int check,
    const struct sl_pseudo *p, const char *as, FILE *errs,
    struct sl_err *e);

/**
 * A local date-time cell in @fmt (letters YYYY MM DD hh mm ss, anything
 * else literal; "rfc3339" takes the cell as it is) to RFC 3339 in
 * out[40]: the zone is Z for @london 0, else the UK clock's +00:00 or
 * +01:00. Exposed for the unit tests.
 */
int sl_import_datetime(char out[40], const char *fmt, const char *cell,
    int london);

#endif
