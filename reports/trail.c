#include "reports/trail.h"
#include "formats/csv.h"
#include "formats/enc.h"
#include "formats/entry.h"
#include "formats/merkle.h"
#include "formats/pseudo.h"
#include "formats/record.h"
#include "formats/rfc3339.h"
#include "reports/source.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The columns of domain.md §8c, in order: where each comes from. */
enum src { S_FIELD, S_ENTRY, S_RECIPIENTS, S_DUE, S_HASH, S_SIG, S_FLAGS,
	S_SIZE, S_PROOF };

static const struct {
	const char *col;
	enum src src;
	const char *field;         /* record field, or entry key */
} cols[] = {
	{ "event_datetime", S_FIELD, "decided_at" },
	{ "recorded_at", S_ENTRY, "recorded_at" },
	{ "seq", S_ENTRY, "seq" },
	{ "record_id", S_FIELD, "record_id" },
	{ "record_type", S_ENTRY, "type" },
	{ "decision_id", S_FIELD, "decision_id" },
	{ "refers_to_record_id", S_FIELD, "refers_to_record_id" },
	{ "source_agency_type", S_FIELD, "deciding_agency_type" },
	{ "source_org", S_FIELD, "organisation_id" },
	{ "practitioner_role", S_FIELD, "practitioner_role" },
	{ "practitioner_id", S_FIELD, "practitioner_id" },
	{ "trigger", S_FIELD, "trigger" },
	{ "requester_agency_type", S_FIELD, "requester_agency_type" },
	{ "requester_role", S_FIELD, "requester_role" },
	{ "request_received_at", S_FIELD, "request_received_at" },
	{ "harm_threshold", S_FIELD, "harm_threshold" },
	{ "decision", S_FIELD, "decision" },
	{ "purpose", S_FIELD, "purpose" },
	{ "information_summary", S_FIELD, "information_shared" },
	{ "information_withheld", S_FIELD, "information_withheld" },
	{ "recipients", S_RECIPIENTS, "recipients" },
	{ "shared_at", S_FIELD, "shared_at" },
	{ "method", S_FIELD, "method" },
	{ "lawful_basis", S_FIELD, "lawful_basis" },
	{ "sc_condition", S_FIELD, "sc_condition" },
	{ "consent_status", S_FIELD, "consent_status" },
	{ "consent_not_sought_reason", S_FIELD, "consent_not_sought_reason" },
	{ "family_informed", S_FIELD, "family_informed" },
	{ "not_informed_reason", S_FIELD, "not_informed_reason" },
	{ "advice_from", S_FIELD, "advice_from" },
	{ "rationale", S_FIELD, "rationale" },
	{ "new_information_summary", S_FIELD, "new_information_summary" },
	{ "outcome_type", S_FIELD, "outcome_type" },
	{ "due_at", S_DUE, NULL },
	{ "record_hash", S_HASH, NULL },
	{ "signature_valid", S_SIG, NULL },
	{ "completeness_flags", S_FLAGS, NULL },
	{ "tree_size", S_SIZE, NULL },
	{ "inclusion_proof", S_PROOF, NULL },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

struct row {
	uint64_t seq;
	int64_t when;
};

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A record value as text: a string decoded, a set or list joined with
 * "; ", anything else as its JSON. NULL when absent. */
static char *value_text(const uint8_t *p, size_t n)
{
	json_error_t je;
	json_t *j;
	char *out = NULL;

	if (!p)
		return NULL;
	if (p[0] == '"') {
		sl_record_value_dup(&out, p, n);
		return out;
	}
	j = json_loadb((const char *)p, n, JSON_DECODE_ANY, &je);
	if (json_is_array(j)) {
		size_t i, len = 1;
		json_t *x;

		json_array_foreach(j, i, x)
			len += (json_is_string(x) ? json_string_length(x) : 0) +
			    2;
		out = calloc(1, len);
		json_array_foreach(j, i, x)
			if (out && json_is_string(x)) {
				if (i)
					strcat(out, "; ");
				strcat(out, json_string_value(x));
			}
	} else if (j) {
		out = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
	}
	json_decref(j);
	return out;
}

/* recipients as "agency_type:role; ..." */
static char *recipients_text(const uint8_t *p, size_t n)
{
	json_error_t je;
	json_t *j, *x;
	size_t i, len = 1;
	char *out;

	if (!p)
		return NULL;
	j = json_loadb((const char *)p, n, 0, &je);
	if (!json_is_array(j)) {
		json_decref(j);
		return NULL;
	}
	json_array_foreach(j, i, x) {
		const char *a = json_string_value(json_object_get(x,
		    "agency_type"));
		const char *r = json_string_value(json_object_get(x, "role"));

		len += (a ? strlen(a) : 0) + (r ? strlen(r) : 0) + 3;
	}
	out = calloc(1, len);
	json_array_foreach(j, i, x) {
		const char *a = json_string_value(json_object_get(x,
		    "agency_type"));
		const char *r = json_string_value(json_object_get(x, "role"));

		if (!out)
			break;
		if (i)
			strcat(out, "; ");
		strcat(out, a ? a : "");
		strcat(out, ":");
		strcat(out, r ? r : "");
	}
	json_decref(j);
	return out;
}

static int write_row(FILE *out, struct sl_rsource *src,
    const struct sl_trail_opts *o, struct sl_hash *h,
    struct sl_record_view *v, uint64_t seq, struct sl_err *e)
{
	const char *cell[NCOLS];
	char *own[NCOLS];
	char seqs[24], size[24], hex[65];
	char rec[SL_RFC3339_MS_LEN + 1];
	char flags[512];
	uint8_t leaf[SL_HASH_LEN];
	uint8_t path[SL_MERKLE_MAX_PATH][SL_HASH_LEN];
	char *proof = NULL;
	size_t np, i;
	const uint8_t *p;
	size_t n;
	struct sl_entry_view ev;
	uint64_t text = 0;
	int rc;

	memset(own, 0, sizeof(own));
	rc = sl_rsource_entry(src, seq, &p, &n);
	if (!rc && (sl_entry_peek(&ev, p, n) ||
	    sl_record_view_scan(v, ev.record, ev.record_len, NULL)))
		rc = SL_EINTEGRITY;
	if (rc)
		return sl_err_set(e, rc, "cannot read entry %llu",
		    (unsigned long long)seq);
	/* the proof, checked against the checkpoint before it is shown */
	rc = sl_hash_leaf(leaf, h, p, n);
	if (!rc)
		rc = sl_merkle_inclusion(path, &np, h, sl_rsource_node, src,
		    seq, src->size);
	if (!rc)
		rc = sl_merkle_verify_inclusion(h, seq, src->size, leaf,
		    (const uint8_t (*)[SL_HASH_LEN])path, np, src->root);
	if (rc)
		return sl_err_set(e, SL_EINTEGRITY, "entry %llu: its inclusion "
		    "proof does not lead to the checkpoint's root; run "
		    "sharelog-verify", (unsigned long long)seq);
	proof = malloc(np * 65 + 1);
	if (!proof)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	proof[0] = '\0';
	for (i = 0; i < np; i++) {
		sl_enc_hex(proof + i * 65, path[i], SL_HASH_LEN);
		proof[i * 65 + 64] = i + 1 < np ? ' ' : '\0';
	}
	snprintf(seqs, sizeof(seqs), "%llu", (unsigned long long)seq);
	snprintf(size, sizeof(size), "%llu", (unsigned long long)src->size);
	sl_rfc3339_format(rec, ev.recorded_ms);
	sl_enc_hex(hex, leaf, SL_HASH_LEN);
	flags[0] = '\0';
	if (o->policy && (ev.type == SL_ET_DECISION ||
	    ev.type == SL_ET_RECONSIDERATION || ev.type == SL_ET_AMENDMENT ||
	    ev.type == SL_ET_OUTCOME || ev.type == SL_ET_INFORM_UPDATE)) {
		struct sl_policy_hit hits[SL_POLICY_MAX_HITS];
		struct sl_policy_time t = { o->as_of_ms, ev.recorded_ms };
		size_t nh = sl_policy_eval(o->policy, v, &t, hits,
		    SL_POLICY_MAX_HITS), k;

		for (k = 0; k < nh; k++) {
			const char *id = sl_policy_rule(o->policy,
			    hits[k].rule)->id;

			if (strstr(flags, id))
				continue;
			if (strlen(flags) + strlen(id) + 2 < sizeof(flags)) {
				if (flags[0])
					strcat(flags, " ");
				strcat(flags, id);
			}
		}
	}
	for (i = 0; i < NCOLS; i++) {
		int f = cols[i].field ? sl_record_field_index(cols[i].field,
		    strlen(cols[i].field)) : -1;

		cell[i] = "";
		switch (cols[i].src) {
		case S_FIELD:
			if (f >= 0)
				own[i] = value_text(v->val[f], v->len[f]);
			text |= UINT64_C(1) << i;
			break;
		case S_RECIPIENTS:
			own[i] = recipients_text(v->val[f], v->len[f]);
			text |= UINT64_C(1) << i;
			break;
		case S_ENTRY:
			cell[i] = !strcmp(cols[i].field, "seq") ? seqs :
			    !strcmp(cols[i].field, "type") ?
			    sl_entry_type_name(ev.type) : rec;
			break;
		case S_DUE: {
			int fi = sl_record_field_index("inform_due_at", 13);
			int fr = sl_record_field_index("review_due_at", 13);
			int use = v->val[fr] ? fr : fi;

			own[i] = value_text(v->val[use], v->len[use]);
			text |= UINT64_C(1) << i;
			break;
		}
		case S_HASH:
			cell[i] = hex;
			break;
		case S_SIG:
			/* per-practitioner signatures are optional (DESIGN.md)
			 * and not yet checked: say so rather than guess */
			f = sl_record_field_index("signature", 9);
			cell[i] = f >= 0 && v->val[f] ? "not_checked" :
			    "not_signed";
			break;
		case S_FLAGS:
			cell[i] = flags;
			break;
		case S_SIZE:
			cell[i] = size;
			break;
		case S_PROOF:
			cell[i] = proof;
			break;
		}
		if (own[i])
			cell[i] = own[i];
	}
	rc = sl_csv_row(out, cell, NCOLS, text);
	for (i = 0; i < NCOLS; i++)
		free(own[i]);
	free(proof);
	return rc ? sl_err_set(e, SL_EIO, "cannot write the trail") : 0;
}

int sl_trail_write(FILE *f, const struct sl_trail_opts *o,
    struct sl_trail_result *r, struct sl_err *e)
{
	struct sl_rsource *src = NULL;
	struct sl_record_view *v = malloc(sizeof(*v));
	struct sl_hash *h = NULL;
	uint64_t *hit = NULL, *all = NULL;
	const uint8_t **dids = NULL;
	size_t *lens = NULL;
	struct row *rows = NULL;
	size_t nhit = 0, nall = 0, nd = 0, i, j;
	int f_did = sl_record_field_index("decision_id", 11);
	int f_dec = sl_record_field_index("decided_at", 10);
	const char *head[NCOLS];
	int rc;

	memset(r, 0, sizeof(*r));
	if (!v)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	rc = sl_hash_new(&h);
	if (!rc)
		rc = o->store ? sl_rsource_open_store(&src, o->store, o->at,
		    1, 0, e) : sl_rsource_open(&src, o->path, o->at, 1, 0, e);
	if (rc)
		goto out;
	r->size = src->size;
	snprintf(r->origin, sizeof(r->origin), "%s", src->origin);
	/* 1. the entries about the child or case, 2. their threads */
	rc = sl_rsource_find(src, o->child_ref, o->child_ref ? NULL :
	    o->case_ref, &hit, &nhit, e);
	if (rc)
		goto out;
	dids = calloc(nhit + 1, sizeof(*dids));
	lens = calloc(nhit + 1, sizeof(*lens));
	if (!dids || !lens) {
		rc = sl_err_set(e, SL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nhit; i++) {
		const uint8_t *p;
		size_t n;
		struct sl_entry_view ev;

		if (sl_rsource_entry(src, hit[i], &p, &n) ||
		    sl_entry_peek(&ev, p, n) ||
		    sl_record_view_scan(v, ev.record, ev.record_len, NULL) ||
		    !v->val[f_did])
			continue;
		for (j = 0; j < nd; j++)
			if (lens[j] == v->len[f_did] &&
			    !memcmp(dids[j], v->val[f_did], lens[j]))
				break;
		if (j == nd) {
			/* the slice stays valid: it points into the log */
			dids[nd] = v->val[f_did];
			lens[nd++] = v->len[f_did];
		}
	}
	r->threads = nd;
	rc = sl_rsource_threads(src, dids, lens, nd, &all, &nall, e);
	if (rc)
		goto out;
	/* an entry found directly but outside every thread (none expected
	 * for client records) still belongs in the trail */
	{
		uint64_t *m = realloc(all, (nall + nhit + 1) * sizeof(*m));

		if (!m) {
			rc = sl_err_set(e, SL_ENOMEM, "out of memory");
			goto out;
		}
		all = m;
		for (i = 0; i < nhit; i++) {
			for (j = 0; j < nall && all[j] != hit[i]; j++)
				;
			if (j == nall)
				all[nall++] = hit[i];
		}
	}
	rows = calloc(nall + 1, sizeof(*rows));
	if (!rows) {
		rc = sl_err_set(e, SL_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nall; i++) {
		const uint8_t *p;
		size_t n;
		struct sl_entry_view ev;

		rows[i].seq = all[i];
		rows[i].when = INT64_MIN;
		if (!sl_rsource_entry(src, all[i], &p, &n) &&
		    !sl_entry_peek(&ev, p, n)) {
			rows[i].when = ev.recorded_ms;
			if (!sl_record_view_scan(v, ev.record, ev.record_len,
			    NULL) && v->val[f_dec])
				sl_record_value_time(&rows[i].when,
				    v->val[f_dec], v->len[f_dec]);
		}
	}
	if (nall > 1)
		qsort(rows, nall, sizeof(*rows), row_cmp);
	for (i = 0; i < NCOLS; i++)
		head[i] = cols[i].col;
	if (sl_csv_row(f, head, NCOLS, 0)) {
		rc = sl_err_set(e, SL_EIO, "cannot write the trail");
		goto out;
	}
	for (i = 0; i < nall && !rc; i++)
		rc = write_row(f, src, o, h, v, rows[i].seq, e);
	r->rows = rc ? 0 : nall;
out:
	free(rows);
	free(all);
	free(hit);
	free(dids);
	free(lens);
	sl_rsource_close(src);
	sl_hash_free(h);
	free(v);
	return rc;
}
