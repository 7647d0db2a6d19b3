#include "formats/record.h"
#include "formats/json.h"
#include "formats/schema.h"

int sl_record_prepare(json_t **out, const json_t *in,
    const struct sl_pseudo *key, const char *base, struct sl_err *e)
{
	char ref[SL_PSEUDO_LEN + 1];
	const json_t *id;
	json_t *rec;
	int rc;

	*out = NULL;
	rc = sl_json_check(in, base, e);
	if (!rc)
		rc = sl_schema_validate(in, base, e);
	if (rc)
		return rc;
	id = json_object_get(in, "child_id");
	rc = sl_pseudo_child(ref, key, json_string_value(id),
	    json_string_length(id));
	if (rc)
		return sl_err_set(e, rc, "cannot pseudonymise child_id");
	rec = json_deep_copy(in);
	if (!rec)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	if (json_object_del(rec, "child_id") ||
	    json_object_set_new(rec, "child_ref", json_string(ref))) {
		json_decref(rec);
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	}
	*out = rec;
	return 0;
}
