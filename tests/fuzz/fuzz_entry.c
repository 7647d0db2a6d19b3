/*
 * fuzz_entry: one line of a bundle's entries.jsonl, as sharelog-verify
 * and sharelog-report read it from a log they do not trust.
 *
 * For any bytes: sl_entry_scan either refuses them with a sentence or
 * describes an entry that sl_entry_build writes back byte for byte (an
 * entry has one canonical layout), that sl_jcs_scan calls canonical and
 * that sl_entry_peek (the reports' quick look) reads the same; its
 * record's summary survives its kept form (encode, decode, encode). And
 * sl_entry_peek on anything is memory-safe.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/buf.h"
#include "formats/entry.h"
#include "formats/hash.h"
#include "formats/jcs.h"
#include "formats/record.h"
#include "formats/summary.h"
#include "tests/fuzz/fuzz.h"

static struct sl_hash *hash;
static struct sl_record_view view;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sl_hash_new(&hash))
		abort();
	return 0;
}

static void check_summary(const struct sl_entry_view *ev)
{
	uint8_t k1[SL_SUMMARY_LEN], k2[SL_SUMMARY_LEN];
	struct sl_summary s, d;

	memset(&s, 0, sizeof(s));
	(void)sl_summary_of_record(&s, &view, ev->record, ev->record_len,
	    ev->type, ev->recorded_ms, hash);
	sl_summary_encode(k1, &s);
	fuzz_assert(sl_summary_decode(&d, k1, sizeof(k1)) == 0,
	    "a summary's kept form does not decode");
	sl_summary_encode(k2, &d);
	fuzz_assert(!memcmp(k1, k2, sizeof(k1)), "a summary changes "
	    "through its kept form");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_entry_view ev, pk;
	struct sl_jcs_member top[16];
	struct sl_err e = { 0, "" };
	struct sl_buf again;
	char by[256];
	size_t ntop;

	(void)sl_entry_peek(&pk, data, size);
	if (sl_entry_scan(&ev, data, size, &e)) {
		fuzz_assert(e.msg[0] != '\0', "entry refused without a "
		    "sentence");
		return 0;
	}
	fuzz_assert(sl_jcs_scan(top, 16, &ntop, data, size, &e) == 0,
	    "an entry that is not canonical: %s", e.msg);
	fuzz_assert(sl_entry_peek(&pk, data, size) == 0 &&
	    pk.seq == ev.seq && pk.type == ev.type &&
	    pk.recorded_ms == ev.recorded_ms && pk.record == ev.record &&
	    pk.record_len == ev.record_len, "the quick look reads another "
	    "entry than the scan");
	if (ev.submitted_by_len < sizeof(by) &&
	    !memchr(ev.submitted_by, '\\', ev.submitted_by_len)) {
		memcpy(by, ev.submitted_by, ev.submitted_by_len);
		by[ev.submitted_by_len] = '\0';
		sl_buf_init(&again, size + 64);
		fuzz_assert(sl_entry_build(&again, ev.prev, ev.record,
		    ev.record_len, ev.recorded_ms, ev.seq, by, ev.type,
		    &e) == 0 && again.len == size &&
		    !memcmp(again.data, data, size), "an entry that does not "
		    "build back to its bytes");
		sl_buf_free(&again);
	}
	check_summary(&ev);
	return 0;
}
