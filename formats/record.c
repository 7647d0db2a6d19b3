#include "formats/record.h"
#include "formats/json.h"
#include "formats/schema.h"

int sl_record_prepare(json_t *rec, const struct sl_pseudo *key,
    const char *base, struct sl_err *e)
{
	char ref[SL_PSEUDO_LEN + 1];
	const json_t *id;
	int rc;

	rc = sl_json_check(rec, base, e);
	if (!rc)
		rc = sl_schema_validate(rec, base, e);
	if (rc)
		return rc;
	id = json_object_get(rec, "child_id");
	rc = sl_pseudo_child(ref, key, json_string_value(id),
	    json_string_length(id));
	if (rc)
		return sl_err_set(e, rc, "cannot pseudonymise child_id");
	/* set first, so a failure leaves the record as it was */
	if (json_object_set_new(rec, "child_ref", json_string(ref)))
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	json_object_del(rec, "child_id");
	return 0;
}
