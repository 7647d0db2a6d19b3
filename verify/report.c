#include "verify/report.h"
#include "formats/enc.h"

#include <jansson.h>

static const char *src_name(const struct sl_verify_result *r)
{
	return r->source == SL_SRC_STORE ? "store" : "bundle";
}

void sl_report_text(FILE *out, const char *path,
    const struct sl_verify_result *r)
{
	char hex[65];
	size_t i;

	fprintf(out, "sharelog-verify: %s\n", r->verified ? "VERIFIED" :
	    "FAILED");
	fprintf(out, "  log:          %s (%s %s)\n", r->origin[0] ? r->origin :
	    "?", src_name(r), path);
	if (!r->verified) {
		fprintf(out, "  entries:      %llu checked and sound before the "
		    "first problem (%.2f s)\n", (unsigned long long)
		    (r->entries < r->bad_from ? r->entries : r->bad_from),
		    r->seconds);
		if (r->bad_from == r->bad_to)
			fprintf(out, "  first bad entry: %llu\n",
			    (unsigned long long)r->bad_from);
		else
			fprintf(out, "  bad entries:  %llu to %llu\n",
			    (unsigned long long)r->bad_from,
			    (unsigned long long)r->bad_to);
		fprintf(out, "  problem:      %s\n", r->problem);
		fprintf(out, "  The log cannot be relied on from that point: "
		    "keep this output, and compare with a bundle or a "
		    "checkpoint taken earlier.\n");
		return;
	}
	fprintf(out, "  entries:      %llu (%.1f MB) checked in %.2f s\n",
	    (unsigned long long)r->entries, (double)r->bytes / 1e6,
	    r->seconds);
	sl_enc_hex(hex, r->root, 32);
	fprintf(out, "  chain:        every entry is canonical JSON, seq runs "
	    "0..%llu without gaps, every prev links to the entry before\n",
	    (unsigned long long)(r->entries - 1));
	fprintf(out, "  root:         %s\n", hex);
	fprintf(out, "  checkpoint:   size %llu, signed by %s%s\n",
	    (unsigned long long)r->newest.size, r->trusted_key,
	    r->trust_from_log ? " (the key named in the log itself; pass "
	    "--key to check it against a key you hold)" : " (a key you "
	    "trust)");
	fprintf(out, "  checkpoints:  %zu checked, all consistent with the "
	    "entries\n", r->checkpoints);
	for (i = 0; i < r->nheld; i++)
		fprintf(out, "  held:         %s (size %llu): the log has only "
		    "been appended to since\n", r->held[i].from,
		    (unsigned long long)r->held[i].size);
	if (r->unsealed)
		fprintf(out, "  note:         the newest %llu entr%s not yet "
		    "covered by a signed checkpoint (the service signs one "
		    "every few seconds)\n", (unsigned long long)r->unsealed,
		    r->unsealed == 1 ? "y is" : "ies are");
}

void sl_report_json(FILE *out, const char *path,
    const struct sl_verify_result *r)
{
	char hex[65];
	json_t *o = json_object();
	json_t *held = json_array();
	size_t i;
	char *s;

	json_object_set_new(o, "verified", json_boolean(r->verified));
	json_object_set_new(o, "path", json_string(path));
	json_object_set_new(o, "source", json_string(src_name(r)));
	json_object_set_new(o, "origin", json_string(r->origin));
	json_object_set_new(o, "entries", json_integer((json_int_t)r->entries));
	json_object_set_new(o, "bytes", json_integer((json_int_t)r->bytes));
	json_object_set_new(o, "seconds", json_real(r->seconds));
	if (r->verified) {
		sl_enc_hex(hex, r->root, 32);
		json_object_set_new(o, "root", json_string(hex));
		json_object_set_new(o, "checkpoint_size",
		    json_integer((json_int_t)r->newest.size));
		json_object_set_new(o, "checkpoint_key",
		    json_string(r->trusted_key));
		json_object_set_new(o, "key_from_log",
		    json_boolean(r->trust_from_log));
		json_object_set_new(o, "checkpoints_checked",
		    json_integer((json_int_t)r->checkpoints));
		json_object_set_new(o, "unsealed_entries",
		    json_integer((json_int_t)r->unsealed));
		for (i = 0; i < r->nheld; i++)
			json_array_append_new(held, json_pack("{s:s,s:I}",
			    "file", r->held[i].from, "size",
			    (json_int_t)r->held[i].size));
		json_object_set_new(o, "held_checkpoints", held);
	} else {
		json_decref(held);
		json_object_set_new(o, "bad_from",
		    json_integer((json_int_t)r->bad_from));
		json_object_set_new(o, "bad_to",
		    json_integer((json_int_t)r->bad_to));
		json_object_set_new(o, "problem", json_string(r->problem));
	}
	s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (s)
		fprintf(out, "%s\n", s);
	free(s);
	json_decref(o);
}
