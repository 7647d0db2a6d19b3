#include "tests/testutil.h"
#include "auditd/keys.h"
#include "auditd/writer.h"
#include "formats/entry.h"
#include "formats/store.h"

#include <string.h>
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

	memset(jobs, 0, sizeof(jobs));
	memset(items, 0, sizeof(items));
	for (i = 0; i < N; i++) {
		recs[i] = tu_record((unsigned)i + 1);
		items[i].record = recs[i];
		items[i].type = SL_ET_DECISION;
		items[i].submitted_by = "writer-test";
		jobs[i].items = &items[i];
		jobs[i].n = 1;
		jobs[i].next = i + 1 < N ? &jobs[i + 1] : NULL;
	}
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

Suite *sl_writer_suite(void)
{
	Suite *s = suite_create("writer");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_writer_list_is_one_commit_in_its_order);
	suite_add_tcase(s, tc);
	return s;
}
