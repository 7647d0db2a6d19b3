/*
 * CSV the one way sharelog writes it (domain.md §6 and §8c): RFC 4180,
 * UTF-8, CRLF line ends, every field quoted with embedded quotes doubled
 * (libcsv's csv_fwrite). A cell that comes from free text or from a
 * client (anything sharelog did not generate itself) and starts with
 * = + - @ tab CR LF or NUL is written with a leading ' so a spreadsheet
 * shows it instead of running it as a formula (OWASP CSV injection);
 * numbers and codes sharelog generates are never prefixed.
 */
#ifndef SL_CSV_H
#define SL_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** 1 when a cell of text p[0..n) would be prefixed (see above). */
int sl_csv_needs_prefix(const char *p, size_t n);

/**
 * Write one field: a comma first unless @first, then the quoted cell.
 * @text: the cell comes from free text or a client (neutralised).
 */
void sl_csv_field(FILE *f, int first, const char *p, size_t n, int text);

/**
 * Write a row of NUL-terminated cells and its CRLF. Bit i of @text is set
 * when cell i comes from free text or a client. SL_EIO when the stream
 * has failed.
 */
int sl_csv_row(FILE *f, const char *const *cells, size_t n, uint64_t text);

#endif
