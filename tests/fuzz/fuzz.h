/*
 * fuzz: what the libFuzzer targets in tests/fuzz/ share.
 *
 * Each fuzz_<name>.c is one target: LLVMFuzzerTestOneInput() feeds the
 * input to the code under test and checks a property that must hold for
 * every input. tests/fuzz_test.sh runs them (make check: a short run from
 * the seeds in tests/fuzz/corpus/<name>; make fuzz: a long one).
 */
#ifndef SL_FUZZ_H
#define SL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "auditd/import.h"
#include "formats/pseudo.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * tests/fuzz/mutate.c is every target's LLVMFuzzerCustomMutator: half the
 * time one to three edits of the input's JSON tree that a client could
 * get wrong (schema fields, enumeration values, near-miss date-times and
 * ids, elements twice, members dropped), written in a random layout;
 * otherwise, or when the input is not JSON, libFuzzer's own mutation.
 */

/** Unless @ok, print the sentence and abort: libFuzzer saves the input. */
void fuzz_assert(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** A pseudonym key with fixed bytes (a failure replays the same way);
 *  lives until the process ends. */
struct sl_pseudo *fuzz_pseudo(void);

/** A scratch file's path (the file exists, empty), removed at exit. */
const char *fuzz_scratch_file(void);

/** Replace the contents of file @path with data[0..size). */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/**
 * Import csv[0..n) through @m in check-only mode and check its verdict:
 * accepted with no bad row and nothing said, or refused (SL_EINVAL) with
 * a sentence and every bad row listed, each line naming its row. Returns
 * sl_import_csv's result.
 */
int fuzz_import_check(const struct sl_import_map *m,
    const struct sl_pseudo *key, const void *csv, size_t n);

#endif
