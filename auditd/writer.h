/*
 * writer: group commit. One thread owns all appends: it takes every job
 * that arrived while the previous commit was being made durable, appends
 * them all in one LMDB transaction (one fsync), and hands the finished
 * jobs back (through @done) to the event loops, which answer them. It
 * also signs a checkpoint every N entries or T milliseconds, never one
 * per entry.
 */
#ifndef SL_WRITER_H
#define SL_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "formats/err.h"
#include "formats/note.h"
#include "formats/store.h"

/* One request's records: all appended, or none. */
struct sl_job {
	struct sl_store_item *items;
	size_t n;
	int status;             /* after: 0 stored, or an SL_E* code */
	struct sl_err err;      /* after: why not */
	size_t bad_item;        /* after a conflict: which item */
	int64_t enqueued_us;
	void *owner;            /* the caller's (the HTTP request) */
	struct sl_job *next;
};

struct sl_writer_stats {
	uint64_t commits;
	uint64_t entries;
	uint64_t checkpoints;
	uint64_t checkpoint_failures;  /* checkpoints that could not be
					  signed or stored (tried again) */
	uint64_t derived_failures;  /* see sl_store_derived_failures() */
	uint64_t append_failures;   /* commits the store refused (a full disk,
				       an I/O error): their jobs got the error */
	int failing;                /* the last commit was refused */
	struct sl_err failure;      /* why, while failing */
	uint64_t batch_hist[8];     /* jobs per commit: 1,2-4,5-16,...,>4096 */
	uint64_t latency_hist[12];  /* enqueue to durable, see sl_writer_le */
	double latency_sum_s;
};

/* Upper bounds (seconds) of the latency buckets, for Prometheus. */
extern const double sl_writer_le[12];

struct sl_writer;

/**
 * Start the writer thread over @s (which it then owns for writing; reads
 * may go on in other threads), and the indexer thread, which brings the
 * store's child and case indexes up to date every few seconds. @done is
 * called from the writer thread, with @ctx, each time finished jobs are
 * ready for sl_writer_done().
 */
int sl_writer_start(struct sl_writer **out, struct sl_store *s,
    struct sl_signer *signer, uint64_t cp_entries, unsigned cp_ms,
    void (*done)(void *ctx), void *ctx, struct sl_err *e);

/**
 * Queue a list of jobs (any thread), linked through ->next, oldest
 * first; they are committed in that order. The writer owns them until
 * sl_writer_done() hands them back.
 */
void sl_writer_submit(struct sl_writer *w, struct sl_job *list);

/** Take the finished jobs (a list through ->next), or NULL. */
struct sl_job *sl_writer_done(struct sl_writer *w);

/** Jobs queued or being committed. */
size_t sl_writer_pending(struct sl_writer *w);

/** A copy of the counters. */
void sl_writer_stats(struct sl_writer *w, struct sl_writer_stats *out);

/**
 * Commit what is queued, sign a final checkpoint, stop the thread and
 * free the writer. Finished jobs not yet taken are returned in *left.
 */
int sl_writer_stop(struct sl_writer *w, struct sl_job **left,
    struct sl_err *e);

#endif
