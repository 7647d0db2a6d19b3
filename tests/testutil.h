/*
 * testutil: helpers shared by the Check suites (temporary folders, sample
 * records, a small store with keys).
 */
#ifndef SL_TESTUTIL_H
#define SL_TESTUTIL_H

#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stddef.h>

Suite *sl_buf_suite(void);
Suite *sl_hash_suite(void);
Suite *sl_sha2x_suite(void);
Suite *sl_checkpoint_suite(void);
Suite *sl_pseudo_suite(void);
Suite *sl_enc_suite(void);
Suite *sl_mem_suite(void);
Suite *sl_jcs_suite(void);
Suite *sl_json_suite(void);
Suite *sl_rfc3339_suite(void);
Suite *sl_schema_suite(void);
Suite *sl_record_suite(void);
Suite *sl_entry_suite(void);
Suite *sl_merkle_suite(void);
Suite *sl_note_suite(void);
Suite *sl_store_suite(void);
Suite *sl_bundle_suite(void);
Suite *sl_ingest_suite(void);
Suite *sl_integrity_suite(void);
Suite *sl_completeness_suite(void);
Suite *sl_disclose_suite(void);
Suite *sl_csv_suite(void);
Suite *sl_summary_suite(void);
Suite *sl_import_suite(void);
Suite *sl_writer_suite(void);

/** A new empty folder under $TMPDIR; path into out (cap >= 256). */
void tu_tmpdir(char *out, size_t cap);

/** rm -rf a folder made by tu_tmpdir(). */
void tu_rmdir(const char *path);

/** A valid client decision record number @i (new reference). */
json_t *tu_record(unsigned i);

/** Hex of 32 bytes into out[65]. */
void tu_hex(char out[65], const uint8_t *h);

/** Decode 64 hex digits into out[32]. */
void tu_unhex(uint8_t out[32], const char *hex);

struct sl_store;
struct sl_keys;

/**
 * A new log in a new folder: *dir (cap >= 256) the folder, its store
 * (dir/s) opened for writing in *st and its keys (dir/k) in *kk, both
 * the caller's (tu_log_close).
 */
void tu_log_open(char *dir, const char *origin, struct sl_store **st,
    struct sl_keys **kk);

/** Close what tu_log_open() opened and remove its folder. */
void tu_log_close(const char *dir, struct sl_store *st, struct sl_keys *kk);

/** Run a shell command; its exit status. */
int tu_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
