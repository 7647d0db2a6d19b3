/*
 * fuzz_intake: the submission body's fast way against its full way.
 *
 * sl_record_intake (formats/record.h) promises to take only a body that
 * sl_json_parse + sl_record_prepare + sl_jcs_write would accept and turn
 * into the very same bytes; the service stores what it takes without
 * asking the full way. Any body where the two disagree is a record the
 * service would store differently from what its own rules say: this
 * target makes libFuzzer look for one. It also checks that the full
 * way's output is canonical (sl_jcs_scan accepts it) and a fixed point
 * (parsed and written again, the same bytes), and that every refusal
 * comes with a sentence.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/buf.h"
#include "formats/entry.h"
#include "formats/jcs.h"
#include "formats/json.h"
#include "formats/pseudo.h"
#include "formats/record.h"
#include "tests/fuzz/fuzz.h"

#define CAP 1000                 /* the service's default max_batch */
#define BODY_MAX (4u << 20)      /* and max_body_bytes */

static struct sl_pseudo *key;
static struct sl_record_taken taken[CAP];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	key = fuzz_pseudo();
	return 0;
}

/* The full way, as auditd/server.c's post_decisions takes a body. */
static size_t full_way(struct sl_buf *out, size_t *off, size_t *len,
    json_t **recs, json_t *doc)
{
	size_t n = json_is_array(doc) ? json_array_size(doc) : 1;
	struct sl_err e = { 0, "" };
	size_t i;

	if (json_is_array(doc) && (n == 0 || n > CAP))
		return 0;
	for (i = 0; i < n; i++) {
		json_t *rec = json_is_array(doc) ? json_array_get(doc, i) : doc;

		if (!json_is_object(rec))
			return 0;
		if (sl_record_prepare(rec, key, "", &e)) {
			fuzz_assert(e.msg[0] != '\0', "a refusal without a "
			    "sentence");
			return 0;
		}
		off[i] = out->len;
		if (sl_jcs_write(out, rec, &e))
			return 0;
		len[i] = out->len - off[i];
		recs[i] = rec;
	}
	return n;
}

/* What the full way wrote is canonical, and writing it again changes
 * nothing. */
static void check_fixed_point(const uint8_t *p, size_t n)
{
	struct sl_jcs_member top[128];
	struct sl_err e = { 0, "" };
	struct sl_buf again;
	size_t ntop = 0;
	json_t *v = NULL;

	fuzz_assert(sl_jcs_scan(top, 128, &ntop, p, n, &e) == 0,
	    "sl_jcs_write wrote bytes sl_jcs_scan refuses");
	fuzz_assert(sl_json_parse(&v, (const char *)p, n, BODY_MAX, &e) == 0,
	    "sl_jcs_write wrote bytes sl_json_parse refuses");
	sl_buf_init(&again, BODY_MAX);
	fuzz_assert(sl_jcs_write(&again, v, &e) == 0 && again.len == n &&
	    memcmp(again.data, p, n) == 0, "canonical form not a fixed point");
	sl_buf_free(&again);
	json_decref(v);
}

static void same_str(const uint8_t *p, uint32_t n, json_t *rec,
    const char *field)
{
	const char *s = json_string_value(json_object_get(rec, field));

	if (!s) {
		fuzz_assert(n == 0, "the fast way found a %s the full way "
		    "has not", field);
		return;
	}
	fuzz_assert(strlen(s) == n && memcmp(s, p, n) == 0, "the fast way's "
	    "%s differs from the full way's", field);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t off[CAP], len[CAP];
	static json_t *recs[CAP];
	struct sl_err e = { 0, "" };
	struct sl_buf fast, full;
	json_t *doc = NULL;
	size_t nfast, nfull = 0;
	int batch = 0;
	int rc;
	size_t i;

	if (size > BODY_MAX)
		return 0;
	sl_buf_init(&fast, (size_t)SL_ENTRY_MAX * CAP + 4096);
	sl_buf_init(&full, (size_t)SL_ENTRY_MAX * CAP + 4096);
	nfast = sl_record_intake(&fast, taken, CAP, &batch, data, size, key);
	fuzz_assert(nfast <= CAP, "took more than its cap");
	rc = sl_json_parse(&doc, (const char *)data, size, BODY_MAX, &e);
	if (rc)
		fuzz_assert(e.msg[0] != '\0', "a parse error without a "
		    "sentence");
	else
		nfull = full_way(&full, off, len, recs, doc);
	if (nfast) {
		fuzz_assert(nfull == nfast, "the fast way took %zu records, "
		    "the full way %zu", nfast, nfull);
		fuzz_assert(batch == json_is_array(doc), "batch flag wrong");
		for (i = 0; i < nfast; i++) {
			const struct sl_record_taken *t = &taken[i];

			fuzz_assert(t->canon_len == len[i] &&
			    memcmp(fast.data + t->canon, full.data + off[i],
			    len[i]) == 0, "record %zu: the fast way's stored "
			    "bytes differ from the full way's", i);
			same_str(t->org, t->org_len, recs[i],
			    "organisation_id");
			same_str(t->rid, t->rid_len, recs[i], "record_id");
			same_str(t->did, t->did_len, recs[i], "decision_id");
			same_str(t->rtype, t->rtype_len, recs[i],
			    "record_type");
		}
	}
	for (i = 0; i < nfull; i++)
		check_fixed_point(full.data + off[i], len[i]);
	json_decref(doc);
	sl_buf_free(&fast);
	sl_buf_free(&full);
	return 0;
}
