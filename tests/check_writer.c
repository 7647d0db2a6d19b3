#include "tests/testutil.h"
#include "auditd/keys.h"
#include "auditd/writer.h"
#include "formats/checkpoint.h"
#include "formats/entry.h"
#include "formats/note.h"
#include "formats/store.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static struct sl_store *st;
static struct sl_keys *kk;

static void setup(void)
{
	tu_log_open(dir, "writer.test/log", &st, &kk);
}

static void teardown(void)
{
	tu_log_close(dir, st, kk);
}

static void on_done(void *ctx)
{
	(void)ctx;
}

/* Wait until the writer has handed back every job; its finished list. */
static struct sl_job *wait_done(struct sl_writer *w)
{
	int i;

	for (i = 0; i < 1000 && sl_writer_pending(w); i++)
		usleep(10000);
	ck_assert_uint_eq(sl_writer_pending(w), 0);
	return sl_writer_done(w);
}

/* @n decisions numbered from @first, one job each, listed in order. */
static void fill_jobs(struct sl_job *jobs, struct sl_store_item *items,
    json_t **recs, unsigned first, size_t n)
{
	size_t i;

	memset(jobs, 0, n * sizeof(*jobs));
	memset(items, 0, n * sizeof(*items));
	for (i = 0; i < n; i++) {
		recs[i] = tu_record(first + (unsigned)i);
		items[i].record = recs[i];
		items[i].type = SL_ET_DECISION;
		items[i].submitted_by = "writer-test";
		jobs[i].items = &items[i];
		jobs[i].n = 1;
		jobs[i].next = i + 1 < n ? &jobs[i + 1] : NULL;
	}
}

START_TEST(test_writer_list_is_one_commit_in_its_order)
{
	enum { N = 3 };
	struct sl_job jobs[N];
	struct sl_store_item items[N];
	json_t *recs[N];
	struct sl_writer *w;
	struct sl_writer_stats ws;
	struct sl_job *done, *j, *left;
	struct sl_err e;
	size_t i, back = 0;
	uint64_t before = sl_store_size(st);

	fill_jobs(jobs, items, recs, 1, N);
	ck_assert_int_eq(sl_writer_start(&w, st, kk->signer, 1000, 60000,
	    on_done, NULL, &e), 0);
	/* one list into an idle writer: one transaction, in list order */
	sl_writer_submit(w, &jobs[0]);
	done = wait_done(w);
	for (j = done; j; j = j->next) {
		ck_assert_int_eq(j->status, 0);
		back++;
	}
	ck_assert_uint_eq(back, N);
	for (i = 0; i < N; i++)
		ck_assert_uint_eq(items[i].seq, before + i);
	sl_writer_stats(w, &ws);
	ck_assert_uint_eq(ws.commits, 1);
	ck_assert_uint_eq(ws.batch_hist[1], 1);     /* 2-4 jobs */
	ck_assert_uint_eq(ws.entries, N);
	ck_assert_int_eq(sl_writer_stop(w, &left, &e), 0);
	ck_assert_ptr_null(left);
	ck_assert_uint_eq(sl_store_size(st), before + N);
	for (i = 0; i < N; i++)
		json_decref(recs[i]);
}
END_TEST

static int count_note(void *ctx, uint64_t size, const char *note, size_t n)
{
	(void)size;
	(void)note;
	(void)n;
	(*(size_t *)ctx)++;
	return 0;
}

/* Submit @n fresh decisions numbered from @first as one list; wait. */
static void submit_n(struct sl_writer *w, unsigned first, size_t n)
{
	struct sl_job jobs[8];
	struct sl_store_item items[8];
	json_t *recs[8];
	struct sl_job *j;
	size_t i;

	ck_assert_uint_le(n, 8);
	fill_jobs(jobs, items, recs, first, n);
	sl_writer_submit(w, &jobs[0]);
	for (j = wait_done(w); j; j = j->next)
		ck_assert_int_eq(j->status, 0);
	for (i = 0; i < n; i++)
		json_decref(recs[i]);
}

/*
 * The entry-count rule signs inside the commit that crosses it: the
 * checkpoint is there at the commit's size, its root is the log's, its
 * signature is the log key's, and no other transaction was needed (the
 * commit count). Commits below the count sign nothing.
 */
START_TEST(test_writer_signs_checkpoints_inside_commits)
{
	struct sl_writer *w;
	struct sl_writer_stats ws;
	struct sl_store_txn *t;
	struct sl_job *left;
	struct sl_verifier *vf;
	struct sl_note_verdict vd;
	struct sl_checkpoint c;
	struct sl_err e;
	const char *note;
	size_t n, notes = 0;
	uint64_t size, before = sl_store_size(st);
	uint8_t root[SL_HASH_LEN];

	size_t had = 0;
	uint64_t newest = 0;

	ck_assert_int_eq(sl_store_read_begin(&t, st, &e), 0);
	ck_assert_int_eq(sl_store_checkpoints(t, count_note, &had), 0);
	if (had)
		ck_assert_int_eq(sl_store_latest_checkpoint(&note, &n,
		    &newest, t), 0);
	sl_store_read_end(t);
	/* the count is reached by the fifth entry from now */
	ck_assert_int_eq(sl_writer_start(&w, st, kk->signer,
	    before - newest + 5, 3600000, on_done, NULL, &e), 0);
	submit_n(w, 1, 3);            /* below the count: no checkpoint */
	ck_assert_int_eq(sl_store_read_begin(&t, st, &e), 0);
	ck_assert_int_eq(sl_store_checkpoints(t, count_note, &notes), 0);
	sl_store_read_end(t);
	ck_assert_uint_eq(notes, had);
	submit_n(w, 10, 2);           /* crosses it */
	ck_assert_int_eq(sl_store_read_begin(&t, st, &e), 0);
	ck_assert_int_eq(sl_store_latest_checkpoint(&note, &n, &size, t), 0);
	ck_assert_uint_eq(size, before + 5);
	ck_assert_int_eq(sl_note_verifier_parse(&vf, kk->vkey,
	    strlen(kk->vkey), &e), 0);
	ck_assert_int_eq(sl_note_open(&vd, note, n, &vf, 1, &e), 0);
	ck_assert_uint_eq(vd.verified, 1);
	ck_assert_int_eq(sl_checkpoint_parse(&c, note, vd.text_len, &e), 0);
	ck_assert_uint_eq(c.size, before + 5);
	ck_assert_int_eq(sl_store_root(root, st, &size), 0);
	ck_assert_uint_eq(size, before + 5);
	ck_assert_mem_eq(c.root, root, SL_HASH_LEN);
	sl_note_verifier_free(vf);
	sl_store_read_end(t);
	sl_writer_stats(w, &ws);
	ck_assert_uint_eq(ws.commits, 2);
	ck_assert_uint_eq(ws.checkpoints, 1);
	ck_assert_uint_eq(sl_store_sealed_size(st), before + 5);
	ck_assert_int_eq(sl_writer_stop(w, &left, &e), 0);
	/* stopped, the store signs no more by itself */
	ck_assert_int_eq(sl_store_append(st, NULL, 0, &e), 0);
	ck_assert_uint_eq(sl_store_sealed_size(st), before + 5);
}
END_TEST

/*
 * A commit the store refuses (here its file may not grow: RLIMIT_FSIZE,
 * in this test's own process, SIGXFSZ ignored, as a full disk fails a
 * write) gives each of its jobs the store's reason, stores nothing, is
 * counted as refused and not as a commit, and marks the writer failing
 * until a commit succeeds: the same job, once there is room, is stored.
 */
START_TEST(test_writer_refused_commit_is_no_commit)
{
	enum { N = 64 };
	struct sl_job jobs[N];
	struct sl_store_item items[N];
	json_t *recs[N];
	struct sl_writer *w;
	struct sl_writer_stats ws;
	struct sl_job *j, *left, *refused = NULL;
	struct sl_err e;
	struct rlimit was, cap;
	struct stat sb;
	char path[300];
	size_t i, stored = 0;
	uint64_t size;

	fill_jobs(jobs, items, recs, 1, N);
	for (i = 0; i < N; i++)
		jobs[i].next = NULL;
	ck_assert_int_eq(sl_writer_start(&w, st, kk->signer, 1000000, 3600000,
	    on_done, NULL, &e), 0);
	snprintf(path, sizeof(path), "%s/s/data.mdb", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &was), 0);
	signal(SIGXFSZ, SIG_IGN);
	cap.rlim_cur = (rlim_t)sb.st_size;
	cap.rlim_max = was.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &cap), 0);
	for (i = 0; i < N && !refused; i++) {
		size = sl_store_size(st);
		sl_writer_submit(w, &jobs[i]);
		j = wait_done(w);
		ck_assert_ptr_eq(j, &jobs[i]);
		if (j->status) {
			refused = j;
			ck_assert_uint_eq(sl_store_size(st), size);
		} else {
			stored++;
		}
	}
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &was), 0);
	ck_assert_msg(refused, "the store took %zu decisions past its "
	    "file's limit", stored);
	/* the store's reason, and the room left, which tells a full disk
	 * from a failing one (LMDB may say "Input/output error" for both) */
	ck_assert_msg(strstr(refused->err.msg, "cannot append to the store") &&
	    strstr(refused->err.msg, "MiB free on the store's file system"),
	    "%s", refused->err.msg);
	sl_writer_stats(w, &ws);
	ck_assert_int_eq(ws.failing, 1);
	ck_assert_str_eq(ws.failure.msg, refused->err.msg);
	ck_assert_uint_eq(ws.append_failures, 1);
	ck_assert_uint_eq(ws.commits, stored);
	ck_assert_uint_eq(ws.entries, stored);
	/* room again: the same decision is taken, the writer is well */
	size = sl_store_size(st);
	sl_writer_submit(w, refused);
	ck_assert_ptr_eq(wait_done(w), refused);
	ck_assert_int_eq(refused->status, 0);
	ck_assert_uint_eq(refused->items[0].seq, size);
	ck_assert_uint_eq(sl_store_size(st), size + 1);
	sl_writer_stats(w, &ws);
	ck_assert_int_eq(ws.failing, 0);
	ck_assert_str_eq(ws.failure.msg, "");
	ck_assert_uint_eq(ws.append_failures, 1);
	ck_assert_uint_eq(ws.commits, stored + 1);
	ck_assert_int_eq(sl_writer_stop(w, &left, &e), 0);
	for (i = 0; i < N; i++)
		json_decref(recs[i]);
}
END_TEST

/* Lines of file @path that contain @s. */
static size_t lines_with(const char *path, const char *s)
{
	char line[2048];
	size_t n = 0;
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, s) != NULL;
	fclose(f);
	return n;
}

/*
 * A time-based checkpoint that cannot be stored is tried again (every
 * 200 ms when idle) and counted each time, but said once, not at every
 * attempt; once it can be, it is signed and the log says so.
 */
START_TEST(test_writer_failed_checkpoint_said_once)
{
	struct sl_writer *w;
	struct sl_writer_stats ws;
	struct sl_job *left;
	struct sl_err e;
	char log[300];
	int fd, saved;
	int i;

	snprintf(log, sizeof(log), "%s/stderr.log", dir);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	close(fd);
	ck_assert_int_eq(sl_writer_start(&w, st, kk->signer, 1000000, 50,
	    on_done, NULL, &e), 0);
	sl_store__fail_checkpoint(1);
	submit_n(w, 1, 2);
	for (i = 0; i < 300; i++) {
		sl_writer_stats(w, &ws);
		if (ws.checkpoint_failures >= 3)
			break;
		usleep(10000);
	}
	ck_assert_uint_ge(ws.checkpoint_failures, 3);
	ck_assert_uint_eq(ws.checkpoints, 0);
	sl_store__fail_checkpoint(0);
	for (i = 0; i < 300; i++) {
		sl_writer_stats(w, &ws);
		if (ws.checkpoints)
			break;
		usleep(10000);
	}
	ck_assert_uint_eq(ws.checkpoints, 1);
	ck_assert_int_eq(sl_writer_stop(w, &left, &e), 0);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	ck_assert_uint_eq(lines_with(log, "cannot sign a checkpoint"), 1);
	ck_assert_uint_eq(lines_with(log, "MiB free on the store's file "
	    "system"), 1);
	ck_assert_uint_eq(lines_with(log, "checkpoints are signed again"), 1);
}
END_TEST

Suite *sl_writer_suite(void)
{
	Suite *s = suite_create("writer");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_writer_list_is_one_commit_in_its_order);
	tcase_add_test(tc, test_writer_signs_checkpoints_inside_commits);
	tcase_add_test(tc, test_writer_refused_commit_is_no_commit);
	tcase_add_test(tc, test_writer_failed_checkpoint_said_once);
	suite_add_tcase(s, tc);
	return s;
}
