#include "tests/testutil.h"
#include "formats/buf.h"
#include "formats/jcs.h"
#include "formats/json.h"
#include "formats/pseudo.h"
#include "formats/record.h"
#include "formats/schema.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_record_pseudonymises_child_id)
{
	char dir[256];
	char path[300];
	struct sl_pseudo *p;
	struct sl_err e;
	json_t *out = tu_record(5);
	char ref[65];
	char *id = strdup(json_string_value(json_object_get(out, "child_id")));

	tu_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/p.key", dir);
	ck_assert_int_eq(sl_pseudo_generate(path, &e), 0);
	ck_assert_int_eq(sl_pseudo_generate(path, &e), SL_EEXIST);
	ck_assert_int_eq(sl_pseudo_load(&p, path, &e), 0);
	ck_assert_uint_eq(strlen(sl_pseudo_key_id(p)), 8);
	ck_assert_int_eq(sl_record_prepare(out, p, "", &e), 0);
	ck_assert_ptr_null(json_object_get(out, "child_id"));
	sl_pseudo_child(ref, p, id, strlen(id));
	ck_assert_str_eq(json_string_value(json_object_get(out, "child_ref")),
	    ref);
	/* the raw id appears nowhere in the stored record */
	{
		char *s = json_dumps(out, 0);

		ck_assert_ptr_null(strstr(s, id));
		free(s);
	}
	json_decref(out);
	free(id);
	sl_pseudo_free(p);
	tu_rmdir(dir);
}
END_TEST

static int fi(const char *name)
{
	int i = sl_record_field_index(name, strlen(name));

	ck_assert_int_ge(i, 0);
	return i;
}

static void assert_slice(const struct sl_record_view *v, const char *name,
    const char *want)
{
	int i = fi(name);

	ck_assert_ptr_nonnull(v->val[i]);
	ck_assert_uint_eq(v->len[i], strlen(want));
	ck_assert(!memcmp(v->val[i], want, strlen(want)));
}

/* Views walk strings sixteen bytes at a time: quotes and backslashes at
 * every offset of a chunk, escaped quotes, a backslash before a closing
 * quote, and coded values (enumerations, sets, booleans). */
START_TEST(test_record_view_slices_and_codes)
{
	char rec[4096];
	char rationale[200];
	struct sl_record_view v;
	struct sl_err e;
	int pad;

	for (pad = 0; pad < 40; pad++) {
		char *r = rationale;
		int k;

		for (k = 0; k < pad; k++)
			*r++ = 'a';
		/* an escaped quote, then an escaped backslash just before
		 * the closing quote */
		strcpy(r, "\\\"q\\\\");
		snprintf(rec, sizeof(rec), "{\"advice_from\":[\"dsl\","
		    "\"manager_supervisor\"],\"advice_sought\":true,"
		    "\"consent_status\":\"refused\",\"decision\":"
		    "\"not_share\",\"legal_gateway\":[\"ca1989_s47\","
		    "\"no_such_gateway\"],\"rationale\":\"%s\","
		    "\"record_type\":\"decision\",\"special_category\":"
		    "false,\"trigger\":\"other\",\"trigger_text\":"
		    "\"a \\\"quoted\\\" reason that runs past sixteen "
		    "bytes\",\"zz_newer_field\":{\"a\":[1,\"}\"]}}",
		    rationale);
		ck_assert_int_eq(sl_record_view_scan(&v, (const uint8_t *)rec,
		    strlen(rec), &e), 0);
		{
			char want[220];

			snprintf(want, sizeof(want), "\"%s\"", rationale);
			assert_slice(&v, "rationale", want);
		}
		assert_slice(&v, "decision", "\"not_share\"");
		assert_slice(&v, "special_category", "false");
		ck_assert_ptr_nonnull(v.text[fi("trigger")]);
		ck_assert_uint_eq(v.type, SL_RT_DECISION);
		/* codes: the position in the enumeration, sets OR'ed */
		ck_assert_uint_eq(v.code[fi("decision")], UINT32_C(1) <<
		    sl_record_enum_code(fi("decision"), "not_share", 9));
		ck_assert_uint_eq(v.code[fi("advice_from")],
		    (UINT32_C(1) << sl_record_enum_code(fi("advice_from"),
		    "dsl", 3)) | (UINT32_C(1) << sl_record_enum_code(
		    fi("advice_from"), "manager_supervisor", 18)));
		ck_assert_uint_eq(v.code[fi("advice_sought")], 2);
		ck_assert_uint_eq(v.code[fi("special_category")], 1);
		ck_assert(v.code[fi("legal_gateway")] & SL_RECORD_CODE_BAD);
		ck_assert(!(v.code[fi("consent_status")] & SL_RECORD_CODE_BAD));
		ck_assert_uint_eq(v.code[fi("rationale")], 0);   /* not coded */
		ck_assert_uint_eq(v.code[fi("method")], 0);      /* absent */
	}
	ck_assert_int_eq(sl_record_enum_code(fi("decision"), "nope", 4), -1);
	/* a record cut short is refused, not over-read */
	{
		const char *cut = "{\"rationale\":\"abc}";

		ck_assert_int_ne(sl_record_view_scan(&v, (const uint8_t *)cut,
		    strlen(cut), &e), 0);
	}
}
END_TEST

/* A view scanned where earlier records have been scanned (the walk then
 * tries the keys and values it saw before) against the same record
 * scanned on a fresh thread (nothing seen): they must be the same. */
struct fresh {
	const char *rec;
	struct sl_record_view v;
	int rc;
};

static void *scan_fresh(void *arg)
{
	struct fresh *f = arg;
	struct sl_err e;

	f->rc = sl_record_view_scan(&f->v, (const uint8_t *)f->rec,
	    strlen(f->rec), &e);
	return NULL;
}

static void assert_same_as_fresh(const char *rec)
{
	struct fresh *f = calloc(1, sizeof(*f));
	struct sl_record_view v;
	struct sl_err e;
	pthread_t th;
	int rc, i;

	ck_assert_ptr_nonnull(f);
	f->rec = rec;
	ck_assert_int_eq(pthread_create(&th, NULL, scan_fresh, f), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	rc = sl_record_view_scan(&v, (const uint8_t *)rec, strlen(rec), &e);
	ck_assert_msg(rc == f->rc, "%s: %d here, %d fresh", rec, rc, f->rc);
	if (!rc) {
		for (i = 0; i < SL_RECORD_VIEW_FIELDS; i++) {
			ck_assert_msg(v.val[i] == f->v.val[i] &&
			    v.len[i] == f->v.len[i] &&
			    v.code[i] == f->v.code[i] &&
			    v.text[i] == f->v.text[i] &&
			    v.tlen[i] == f->v.tlen[i],
			    "%s: field %d differs", rec, i);
		}
		ck_assert_uint_eq(v.type, f->v.type);
	}
	free(f);
}

START_TEST(test_record_view_guesses_checked)
{
	static const char *const seen =
	    "{\"consent_status\":\"given\",\"decision\":\"share\","
	    "\"record_type\":\"decision\",\"trigger\":\"other\","
	    "\"zz_newer_field\":1}";
	static const char *const next[] = {
		/* the key seen next is a prefix of this one */
		"{\"consent_status\":\"given\",\"decision_id\":\"D-1\","
		"\"record_type\":\"decision\"}",
		/* the value seen is a prefix of this one, and the other way */
		"{\"decision\":\"share_more\"}",
		"{\"decision\":\"shar\"}",
		"{\"decision\":\"not_share\",\"trigger\":\"other\","
		"\"trigger_text\":\"why\"}",
		/* escapes where the seen value was */
		"{\"decision\":\"sh\\\"re\"}",
		/* cut where a seen key or value would run past the end */
		"{\"consent_status\":\"given\",\"decisio",
		"{\"consent_status\":\"given\",\"decision\":\"share",
		"{\"consent_status\":\"given\",\"decision\":\"shar}",
		"{\"decision\"}",
		/* a key we do not know, then one we do */
		"{\"aa_unknown\":\"x\",\"consent_status\":\"given\"}",
		seen,
	};
	struct sl_record_view v;
	struct sl_err e;
	size_t i, k;

	for (k = 0; k < 3; k++)
		ck_assert_int_eq(sl_record_view_scan(&v, (const uint8_t *)seen,
		    strlen(seen), &e), 0);
	for (i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
		assert_same_as_fresh(next[i]);
		/* and straight after the record it differs from */
		ck_assert_int_eq(sl_record_view_scan(&v, (const uint8_t *)seen,
		    strlen(seen), &e), 0);
	}
	/* the prefix key is found as itself */
	ck_assert_int_eq(sl_record_view_scan(&v, (const uint8_t *)next[0],
	    strlen(next[0]), &e), 0);
	ck_assert_ptr_null(v.val[fi("decision")]);
	assert_slice(&v, "decision_id", "\"D-1\"");
	ck_assert_int_eq(sl_record_view_scan(&v, (const uint8_t *)next[1],
	    strlen(next[1]), &e), 0);
	ck_assert(v.code[fi("decision")] & SL_RECORD_CODE_BAD);
}
END_TEST

/* ---- the fast way in, against the full way -------------------------- */

#define LANE_CAP 4

/* What a body becomes, written out for comparing: each record's stored
 * bytes, then its organisation, record id, decision id and type. */
static void describe(struct sl_buf *d, const uint8_t *canon, size_t n,
    const char *org, size_t on, const char *rid, size_t rn,
    const char *did, size_t dn, const char *rt, size_t tn)
{
	sl_buf_add(d, canon, n);
	sl_buf_addc(d, '\n');
	sl_buf_add(d, org, on);
	sl_buf_addc(d, '|');
	sl_buf_add(d, rid, rn);
	sl_buf_addc(d, '|');
	sl_buf_add(d, did, dn);
	sl_buf_addc(d, '|');
	sl_buf_add(d, rt, tn);
	sl_buf_addc(d, '\n');
}

/* The full way: 1 when it accepts the body, with d describing it. */
static int full_way(struct sl_buf *d, int *batch, const char *b, size_t n,
    const struct sl_pseudo *key)
{
	struct sl_buf c;
	struct sl_err e;
	json_t *doc = NULL;
	size_t i, k;
	int ok = 0;

	sl_buf_init(&c, 1 << 22);
	if (sl_json_parse(&doc, b, n, 1 << 22, &e))
		goto out;
	*batch = json_is_array(doc);
	k = *batch ? json_array_size(doc) : 1;
	if (k == 0 || k > LANE_CAP)
		goto out;
	for (i = 0; i < k; i++) {
		json_t *r = *batch ? json_array_get(doc, i) : doc;
		const char *s[4];
		int j;

		if (!json_is_object(r) || sl_record_prepare(r, key, "", &e))
			goto out;
		sl_buf_reset(&c);
		if (sl_jcs_write(&c, r, &e))
			goto out;
		s[0] = json_string_value(json_object_get(r, "organisation_id"));
		s[1] = json_string_value(json_object_get(r, "record_id"));
		s[2] = json_string_value(json_object_get(r, "decision_id"));
		s[3] = json_string_value(json_object_get(r, "record_type"));
		for (j = 0; j < 4; j++)
			if (!s[j])
				s[j] = "";
		describe(d, c.data, c.len, s[0], strlen(s[0]), s[1],
		    strlen(s[1]), s[2], strlen(s[2]), s[3], strlen(s[3]));
	}
	ok = 1;
out:
	json_decref(doc);
	sl_buf_free(&c);
	return ok;
}

/* Run both ways on b[0..n): whatever the fast way takes, the full way
 * accepts and makes the same bytes of. 1 when the fast way took it. */
static int both_ways(const char *b, size_t n, const struct sl_pseudo *key)
{
	struct sl_record_taken t[LANE_CAP];
	struct sl_buf out, fd, sd;
	int fb = -1, sb = -1;
	size_t k, i;

	sl_buf_init(&out, 1 << 22);
	sl_buf_init(&fd, 1 << 22);
	sl_buf_init(&sd, 1 << 22);
	k = sl_record_intake(&out, t, LANE_CAP, &fb, (const uint8_t *)b, n,
	    key);
	for (i = 0; i < k; i++)
		describe(&fd, out.data + t[i].canon, t[i].canon_len,
		    (const char *)t[i].org, t[i].org_len,
		    (const char *)t[i].rid, t[i].rid_len,
		    (const char *)t[i].did, t[i].did_len,
		    (const char *)t[i].rtype, t[i].rtype_len);
	if (k) {
		if (!full_way(&sd, &sb, b, n, key))
			ck_abort_msg("the fast way took what the full way "
			    "refuses: %.*s", (int)(n < 400 ? n : 400), b);
		ck_assert_int_eq(fb, sb);
		sl_buf_addc(&fd, 0);
		sl_buf_addc(&sd, 0);
		ck_assert_str_eq((const char *)fd.data, (const char *)sd.data);
	}
	sl_buf_free(&out);
	sl_buf_free(&fd);
	sl_buf_free(&sd);
	return k > 0;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Good records of every shape the schema has, as texts. */
static size_t lane_corpus(char **texts, size_t cap)
{
	static const char *const text[] = {
		"plain words", "a line\nbreak and a \"quote\" and a \\",
		"tab\there, bell \x01 and del \x7f", "caf\xc3\xa9 \xf0\x9f\x98\x80",
		"",
	};
	static const size_t flags[] = {
		JSON_COMPACT, JSON_COMPACT | JSON_SORT_KEYS, JSON_INDENT(2),
	};
	char sig[89];
	size_t n = 0;
	unsigned i;
	size_t f;

	memset(sig, 'A', 86);
	memcpy(sig + 86, "==", 3);
	for (i = 0; i < 12 && n + 4 <= cap; i++) {
		json_t *r = tu_record(i);
		json_t *arr;

		json_object_set_new(r, "rationale", json_string(text[i % 5]));
		if (i % 3 == 1) {
			json_object_set_new(r, "deciding_agency_type",
			    json_string("other"));
			json_object_set_new(r, "deciding_agency_type_text",
			    json_string(text[(i + 1) % 5]));
			json_object_set_new(r, "signature", json_string(sig));
			json_object_set_new(r, "info_categories", json_pack(
			    "[s,s]", "education", "health"));
			json_object_set_new(r, "recipients", json_pack(
			    "[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s}]",
			    "role", "dsl", "org", "PF-1", "agency_type",
			    "police", "agency_type", "other",
			    "agency_type_text", text[i % 5], "org", "C 2",
			    "agency_type", "housing"));
		}
		if (i % 3 == 0) {       /* room for the odd members below */
			json_object_del(r, "recipients");
			json_object_del(r, "info_categories");
		}
		if (i % 3 == 2) {       /* a follow-up, few fields */
			json_object_set_new(r, "record_type",
			    json_string(i % 2 ? "amendment" : "outcome"));
			json_object_del(r, "deciding_agency_type");
			json_object_set_new(r, "recipients", json_array());
			json_object_set_new(r, "info_categories", json_array());
		}
		for (f = 0; f < sizeof(flags) / sizeof(flags[0]); f++)
			texts[n++] = json_dumps(r, flags[f]);
		arr = json_pack("[O,O]", r, r);
		texts[n++] = json_dumps(arr, i % 2 ? JSON_INDENT(1) :
		    JSON_COMPACT);
		json_decref(arr);
		json_decref(r);
	}
	return n;
}

START_TEST(test_record_intake_as_the_full_way)
{
	static const char alphabet[] = "\"\\{}[],: \n\t0aAu/\x01\x7f\xc3\xa9"
	    "truefalsnl-";
	static const char *const odd[] = {
		"{\"decision\":\"share\",", "\"child_ref\":\"x\",",
		"\"recorded_at\":\"2026-01-01T00:00:00Z\",",
		"\"views_child\":null,", "\"views_child\":7,",
		"\"views_child\":1.5,", "\"aa_unknown\":\"x\",",
		"\"rationale\":\"\\u001f\",", "\"views_family\":\"\\u00e9\",",
		"\"views_family\":\"\\/\",", "\"views_family\":\"\\u001F\",",
		"\"views_family\":\"\\u0000\",", "\"views_family\":\"\\u000a\",",
		"\"views_family\":\"a\\qb\",", "\"views_family\":\"\x01\",",
		"\"views_family\":\"\xc3\",", "\"views_family\":\"\xed\xa0\x80\",",
		"\"dsa_ref\":\"a\\tb\",", "\"dsa_ref\":\"\",",
		"\"info_categories\":[\"health\",\"health\"],",
		"\"info_categories\":[\"nope\"],", "\"recipients\":[{}],",
		"\"recipients\":[{\"org\":\"x\"}],",
		"\"recipients\":[{\"agency_type\":\"police\",\"agency_type\":"
		"\"mash\"}],", "\"recipients\":[{\"agency_type\":\"police\","
		"\"role\":\"\"}],", "\"record_id_text\":\"x\",",
		"\"decision_text\":\"x\",", "\"recipients\":{},",
		"\"special_category\":\"true\",", "\xef\xbb\xbf",
	};
	static const char *const good[] = {   /* canonical already */
		"\"views_family\":\"\\u001f \\\" \\\\ \\n\x7f\",",
		"\"views_child\" : \"\xe2\x80\xa8\" , ",
	};
	char dir[256], path[300];
	struct sl_pseudo *key;
	struct sl_err e;
	char *texts[64];
	size_t nt, i, m;
	size_t taken = 0, mutated_taken = 0;

	tu_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/p.key", dir);
	ck_assert_int_eq(sl_pseudo_generate(path, &e), 0);
	ck_assert_int_eq(sl_pseudo_load(&key, path, &e), 0);
	nt = lane_corpus(texts, 64);
	/* every good record goes the fast way, into the same bytes */
	for (i = 0; i < nt; i++)
		taken += (size_t)both_ways(texts[i], strlen(texts[i]), key);
	ck_assert_uint_eq(taken, nt);
	for (i = 0; i < nt; i++) {
		size_t n = strlen(texts[i]);
		char *b = malloc(n + 256);
		size_t o;

		/* each odd member put in at the start of the record */
		o = (size_t)(strchr(texts[i], '{') - texts[i]);
		for (m = 0; m < sizeof(odd) / sizeof(odd[0]); m++) {
			size_t on = strlen(odd[m]);

			memcpy(b, texts[i], o + 1);
			memcpy(b + o + 1, odd[m], on);
			memcpy(b + o + 1 + on, texts[i] + o + 1, n - o - 1);
			ck_assert_msg(!both_ways(b, n + on, key),
			    "%s", odd[m]);
		}
		for (m = 0; m < sizeof(good) / sizeof(good[0]); m++) {
			size_t on = strlen(good[m]);

			memcpy(b, texts[i], o + 1);
			memcpy(b + o + 1, good[m], on);
			memcpy(b + o + 1 + on, texts[i] + o + 1, n - o - 1);
			ck_assert_msg(both_ways(b, n + on, key), "%s", good[m]);
		}
		/* ... and a BOM, a batch too large, trailing bytes */
		b[0] = (char)0xef, b[1] = (char)0xbb, b[2] = (char)0xbf;
		memcpy(b + 3, texts[i], n);
		ck_assert(!both_ways(b, n + 3, key));
		memcpy(b, texts[i], n);
		memcpy(b + n, " x", 2);
		ck_assert(!both_ways(b, n + 2, key));
		/* random damage: a byte dropped, doubled or replaced, or a
		 * piece of the record copied elsewhere */
		for (m = 0; m < 400; m++) {
			size_t at = (size_t)(rnd() % n), len = n;
			uint64_t op = rnd() % 4;

			memcpy(b, texts[i], n);
			if (op == 0) {
				memmove(b + at, b + at + 1, n - at - 1);
				len--;
			} else if (op == 1) {
				memmove(b + at + 1, b + at, n - at);
				len++;
			} else if (op == 2) {
				b[at] = alphabet[rnd() % (sizeof(alphabet) - 1)];
			} else {
				size_t from = (size_t)(rnd() % n);
				size_t cl = 1 + (size_t)(rnd() % 40);

				if (from + cl > n)
					cl = n - from;
				if (cl > 200)
					cl = 200;
				memmove(b + at + cl, b + at, n - at);
				memcpy(b + at, texts[i] + from, cl);
				len += cl;
			}
			mutated_taken += (size_t)both_ways(b, len, key);
		}
		free(b);
	}
	/* a record without a field it cannot be placed without */
	{
		size_t nf, f;
		const struct sl_field *fs = sl_schema_fields(&nf);

		for (f = 0; f < nf; f++) {
			json_t *r;
			char *b;

			if (fs[f].req != SL_REQ_STRUCT ||
			    !(fs[f].types & SL_RT_DECISION))
				continue;
			r = tu_record(3);
			ck_assert_ptr_nonnull(json_object_get(r, fs[f].name));
			json_object_del(r, fs[f].name);
			b = json_dumps(r, JSON_COMPACT);
			ck_assert_msg(!both_ways(b, strlen(b), key), "%s",
			    fs[f].name);
			free(b);
			json_decref(r);
		}
	}
	/* some damage leaves a good record (a space, a letter of text):
	 * those were compared byte for byte too */
	ck_assert_uint_gt(mutated_taken, 0);
	for (i = 0; i < nt; i++)
		free(texts[i]);
	sl_pseudo_free(key);
	tu_rmdir(dir);
}
END_TEST

START_TEST(test_record_intake_limits)
{
	char dir[256], path[300];
	struct sl_pseudo *key;
	struct sl_err e;
	json_t *r = tu_record(1);
	char *s;
	char *big;
	size_t n;

	tu_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/p.key", dir);
	ck_assert_int_eq(sl_pseudo_generate(path, &e), 0);
	ck_assert_int_eq(sl_pseudo_load(&key, path, &e), 0);
	big = malloc(10002);
	memset(big, 'x', 10001);
	big[10001] = '\0';
	/* free text: 10,000 bytes is the limit, escapes counted once */
	big[10000] = '\0';
	json_object_set_new(r, "rationale", json_string(big));
	s = json_dumps(r, JSON_COMPACT);
	ck_assert(both_ways(s, strlen(s), key));
	free(s);
	big[0] = '\n';
	json_object_set_new(r, "rationale", json_string(big));
	s = json_dumps(r, JSON_COMPACT);
	ck_assert(both_ways(s, strlen(s), key));
	free(s);
	big[10000] = 'x';
	json_object_set_new(r, "rationale", json_string(big));
	s = json_dumps(r, JSON_COMPACT);
	ck_assert(!both_ways(s, strlen(s), key));
	free(s);
	/* identifiers: 128 bytes is the limit */
	big[0] = 'x';
	big[128] = '\0';
	json_object_set_new(r, "rationale", json_string("ok"));
	json_object_set_new(r, "case_ref", json_string(big));
	s = json_dumps(r, JSON_COMPACT);
	ck_assert(both_ways(s, strlen(s), key));
	free(s);
	big[128] = 'x';
	big[129] = '\0';
	json_object_set_new(r, "case_ref", json_string(big));
	s = json_dumps(r, JSON_COMPACT);
	ck_assert(!both_ways(s, strlen(s), key));
	free(s);
	/* recipients: 64 at most */
	{
		json_t *rs = json_array();
		int k;

		json_object_set_new(r, "case_ref", json_string("C-1"));
		for (k = 0; k < 64; k++)
			json_array_append_new(rs, json_pack("{s:s}",
			    "agency_type", "police"));
		json_object_set(r, "recipients", rs);
		s = json_dumps(r, JSON_COMPACT);
		ck_assert(both_ways(s, strlen(s), key));
		free(s);
		json_array_append_new(rs, json_pack("{s:s}", "agency_type",
		    "police"));
		s = json_dumps(r, JSON_COMPACT);
		ck_assert(!both_ways(s, strlen(s), key));
		free(s);
		json_object_del(r, "recipients");
		json_decref(rs);
	}
	/* a batch of more records than the caller has room for */
	json_object_set_new(r, "case_ref", json_string("C-1"));
	s = json_dumps(r, JSON_COMPACT);
	n = strlen(s);
	{
		char *b = malloc(6 * (n + 1) + 2);
		size_t o = 0;
		int k;

		b[o++] = '[';
		for (k = 0; k < LANE_CAP + 1; k++) {
			if (k)
				b[o++] = ',';
			memcpy(b + o, s, n);
			o += n;
		}
		b[o++] = ']';
		ck_assert(!both_ways(b, o, key));
		o = 1 + LANE_CAP * (n + 1);     /* LANE_CAP of them: taken */
		b[o - 1] = ']';
		ck_assert(both_ways(b, o, key));
		ck_assert(!both_ways("[]", 2, key));
		ck_assert(!both_ways("[1]", 3, key));
		free(b);
	}
	free(s);
	free(big);
	json_decref(r);
	sl_pseudo_free(key);
	tu_rmdir(dir);
}
END_TEST

Suite *sl_record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_record_pseudonymises_child_id);
	tcase_add_test(tc, test_record_view_slices_and_codes);
	tcase_add_test(tc, test_record_view_guesses_checked);
	tcase_add_test(tc, test_record_intake_as_the_full_way);
	tcase_add_test(tc, test_record_intake_limits);
	suite_add_tcase(s, tc);
	return s;
}
