/*
 * fuzz_policy: a completeness policy file (docs/COMPLETENESS.md), as an
 * inspector or an operator may write one, judged against sample records.
 *
 * For any bytes: sl_policy_parse refuses them with a sentence, or gives a
 * policy that judges every sample record without harm, within its bounds
 * (at most one hit a rule and a requirement, each naming a rule of the
 * policy that applies to the record and a schema field or none), the
 * same way from its kept form (open hits taken at the as-of time).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/buf.h"
#include "formats/jcs.h"
#include "formats/json.h"
#include "formats/record.h"
#include "formats/schema.h"
#include "verify/policy.h"
#include "tests/fuzz/fuzz.h"

#define NREC 8
#define DAY (24LL * 3600 * 1000)

static struct sl_buf canon[NREC];
static struct sl_record_view views[NREC];
static size_t nrec;

/* The intake seeds' records, as stored: the records judged. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const files[NREC] = { "rec00", "rec05", "rec12",
		"amendment1", "outcome1", "reconsideration1", "inform_update1",
		"escapes" };
	static struct sl_pseudo *key;
	size_t i;

	(void)argc;
	(void)argv;
	key = fuzz_pseudo();
	for (i = 0; i < NREC; i++) {
		char path[128], text[65536];
		struct sl_err e = { 0, "" };
		json_t *v = NULL;
		size_t n;
		FILE *f;

		snprintf(path, sizeof(path), "tests/fuzz/corpus/intake/%s.json",
		    files[i]);
		f = fopen(path, "rb");
		fuzz_assert(f != NULL, "%s: run from the repository", path);
		n = fread(text, 1, sizeof(text), f);
		fclose(f);
		sl_buf_init(&canon[nrec], 1 << 20);
		if (sl_json_parse(&v, text, n, sizeof(text), &e) ||
		    sl_record_prepare(v, key, "", &e) ||
		    sl_jcs_write(&canon[nrec], v, &e) ||
		    sl_record_view_scan(&views[nrec], canon[nrec].data,
		    canon[nrec].len, &e))
			fuzz_assert(0, "%s: %s", path, e.msg);
		json_decref(v);
		nrec++;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sl_policy_hit hits[SL_POLICY_MAX_HITS];
	static struct sl_policy_open_hit open[SL_POLICY_MAX_HITS];
	struct sl_err e = { 0, "" };
	struct sl_policy *p = NULL;
	size_t nf, i, j, k;

	sl_schema_fields(&nf);
	if (sl_policy_parse(&p, (const char *)data, size, "fuzz", &e)) {
		fuzz_assert(e.msg[0] != '\0', "policy refused without a "
		    "sentence");
		return 0;
	}
	for (i = 0; i < nrec; i++) {
		int64_t rec = views[i].type ? 1700000000000LL : 0;
		int64_t asof[3] = { rec, rec + 40 * DAY, INT64_MAX / 2 };
		size_t no = sl_policy_eval_open(p, &views[i], rec, open,
		    SL_POLICY_MAX_HITS);

		fuzz_assert(no <= SL_POLICY_MAX_HITS, "too many open hits");
		for (k = 0; k < 3; k++) {
			struct sl_policy_time t = { asof[k], rec };
			size_t nh = sl_policy_eval(p, &views[i], &t, hits,
			    SL_POLICY_MAX_HITS);
			size_t due = 0;

			for (j = 0; j < no; j++) {
				struct sl_policy_hit h;

				due += (size_t)sl_policy_hit_at(&h, &open[j],
				    asof[k]);
			}
			fuzz_assert(nh == due, "%zu hits live, %zu from the "
			    "kept form", nh, due);
			for (j = 0; j < nh; j++) {
				fuzz_assert(hits[j].rule < sl_policy_count(p),
				    "a hit of rule %u of %zu",
				    (unsigned)hits[j].rule,
				    sl_policy_count(p));
				fuzz_assert(hits[j].field >= -1 &&
				    hits[j].field < (int)nf, "a hit naming "
				    "field %d", hits[j].field);
				fuzz_assert(sl_policy_applies(p, hits[j].rule,
				    &views[i]), "a hit of a rule that does "
				    "not apply");
			}
		}
	}
	sl_policy_free(p);
	return 0;
}
