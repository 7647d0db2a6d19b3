#include "auditd/config.h"
#include "formats/bundle.h"
#include "formats/enc.h"
#include "formats/json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned sl_config_role(const char *name)
{
	static const struct { const char *n; unsigned bit; } r[] = {
		{ "submitter", SL_ROLE_SUBMITTER },
		{ "inspector", SL_ROLE_INSPECTOR },
		{ "reviewer", SL_ROLE_REVIEWER },
		{ "board", SL_ROLE_BOARD },
		{ "admin", SL_ROLE_ADMIN },
	};
	size_t i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		if (!strcmp(r[i].n, name))
			return r[i].bit;
	return 0;
}

static int str(char *out, size_t cap, json_t *o, const char *key,
    const char *def, const char *path, struct sl_err *e)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		if (!def)
			return sl_err_set(e, SL_EINVAL, "%s: \"%s\" is required",
			    path, key);
		snprintf(out, cap, "%s", def);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) >= cap)
		return sl_err_set(e, SL_EINVAL, "%s: \"%s\" must be a string "
		    "(at most %zu characters)", path, key, cap - 1);
	if (!def && json_string_length(v) == 0)
		return sl_err_set(e, SL_EINVAL, "%s: \"%s\" must not be "
		    "empty", path, key);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int num(uint64_t *out, json_t *o, const char *key, uint64_t def,
    uint64_t lo, uint64_t hi, const char *path, struct sl_err *e)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)lo ||
	    json_integer_value(v) > (json_int_t)hi)
		return sl_err_set(e, SL_EINVAL, "%s: \"%s\" must be an integer "
		    "from %llu to %llu", path, key, (unsigned long long)lo,
		    (unsigned long long)hi);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static const char *const known[] = {
	"listen", "store", "keys", "tls", "checkpoint_every_entries",
	"checkpoint_every_seconds", "max_body_bytes", "max_batch",
	"read_timeout_seconds", "request_deadline_seconds", "max_connections",
	"event_loops", "policy", "clients", NULL
};
static const char *const known_tls[] = {
	"cert", "key", "ca", "crl", "min_version", NULL
};
static const char *const known_client[] = {
	"cert_sha256", "subject_cn", "organisation_id", "roles", NULL
};

/* Every key of @o is one of @names: a misspelt setting is an error, not
 * a default silently kept. */
static int only_known(const json_t *o, const char *const *names,
    const char *where, struct sl_err *e)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		size_t i;

		for (i = 0; names[i] && strcmp(names[i], key); i++)
			;
		if (!names[i])
			return sl_err_set(e, SL_EINVAL, "%s: unknown setting "
			    "\"%s\"", where, key);
	}
	return 0;
}

static int load_clients(struct sl_config *c, json_t *arr, const char *path,
    struct sl_err *e)
{
	size_t i;
	json_t *v;

	/* @arr NULL: no "clients", a service nobody may use yet */
	if (arr && !json_is_array(arr))
		return sl_err_set(e, SL_EINVAL, "%s: \"clients\" must be an "
		    "array", path);
	c->clients = calloc(json_array_size(arr) + 1, sizeof(*c->clients));
	if (!c->clients)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	json_array_foreach(arr, i, v) {
		struct sl_client *cl = &c->clients[i];
		char where[300];
		json_t *roles;
		json_t *r;
		size_t j;
		int rc;

		snprintf(where, sizeof(where), "%s: clients[%zu]", path, i);
		if (!json_is_object(v))
			return sl_err_set(e, SL_EINVAL, "%s: must be an object",
			    where);
		rc = only_known(v, known_client, where, e);
		if (!rc)
			rc = str(cl->fingerprint, sizeof(cl->fingerprint), v,
			    "cert_sha256", "", where, e);
		if (!rc)
			rc = str(cl->subject_cn, sizeof(cl->subject_cn), v,
			    "subject_cn", "", where, e);
		if (!rc)
			rc = str(cl->organisation_id,
			    sizeof(cl->organisation_id), v, "organisation_id",
			    NULL, where, e);
		if (rc)
			return rc;
		if (!cl->fingerprint[0] == !cl->subject_cn[0])
			return sl_err_set(e, SL_EINVAL, "%s: give exactly one of "
			    "\"cert_sha256\" and \"subject_cn\"", where);
		for (j = 0; cl->fingerprint[j]; j++)
			if (!strchr("0123456789abcdef", cl->fingerprint[j]))
				return sl_err_set(e, SL_EINVAL, "%s: cert_sha256 "
				    "is 64 lowercase hex digits", where);
		if (cl->fingerprint[0] && j != 64)
			return sl_err_set(e, SL_EINVAL, "%s: cert_sha256 is 64 "
			    "lowercase hex digits", where);
		roles = json_object_get(v, "roles");
		if (!json_is_array(roles) || !json_array_size(roles))
			return sl_err_set(e, SL_EINVAL, "%s: \"roles\" must list "
			    "at least one of submitter, inspector, reviewer, "
			    "board, admin", where);
		json_array_foreach(roles, j, r) {
			unsigned bit = json_is_string(r) ?
			    sl_config_role(json_string_value(r)) : 0;

			if (!bit)
				return sl_err_set(e, SL_EINVAL, "%s: roles[%zu] is "
				    "not one of submitter, inspector, reviewer, "
				    "board, admin", where, j);
			cl->roles |= bit;
		}
		/* a certificate maps to one client: a second entry for it
		 * would be silently ignored */
		if (sl_config_client(c, cl->fingerprint, cl->subject_cn))
			return sl_err_set(e, SL_EINVAL, "%s: the same %s as an "
			    "earlier client", where, cl->fingerprint[0] ?
			    "cert_sha256" : "subject_cn");
		c->nclients++;
	}
	return 0;
}

int sl_config_load(struct sl_config **out, const char *path,
    struct sl_err *e)
{
	struct sl_config *c;
	json_t *root = NULL;
	json_t *tls;
	char *text = NULL;
	size_t len;
	char listen[128];
	char minv[8];
	uint64_t n = 0;
	char *colon;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return sl_err_set(e, SL_ENOMEM, "out of memory");
	rc = sl_bundle_slurp(&text, &len, path, 1 << 20, e);
	if (!rc)
		rc = sl_json_parse(&root, text, len, 1 << 20, e);
	if (rc) {
		sl_err_prefix(e, "%s", path);
		goto out;
	}
	if (!json_is_object(root)) {
		rc = sl_err_set(e, SL_EINVAL, "%s: must be a JSON object", path);
		goto out;
	}
	rc = only_known(root, known, path, e);
	if (rc)
		goto out;
	rc = str(listen, sizeof(listen), root, "listen", "127.0.0.1:8443", path,
	    e);
	if (rc)
		goto out;
	colon = strrchr(listen, ':');
	if (!colon || colon == listen || sl_enc_decimal(&n, colon + 1,
	    strlen(colon + 1)) || n == 0 || n > 65535 ||
	    (size_t)(colon - listen) >= sizeof(c->listen_host)) {
		rc = sl_err_set(e, SL_EINVAL, "%s: \"listen\" is HOST:PORT",
		    path);
		goto out;
	}
	memcpy(c->listen_host, listen, (size_t)(colon - listen));
	c->listen_port = (uint16_t)n;
	rc = str(c->store, sizeof(c->store), root, "store", NULL, path, e);
	if (!rc)
		rc = str(c->keys, sizeof(c->keys), root, "keys", "", path, e);
	if (!rc)
		rc = str(c->policy, sizeof(c->policy), root, "policy", "", path,
		    e);
	if (rc)
		goto out;
	if (!c->keys[0])
		snprintf(c->keys, sizeof(c->keys), "%.4090s.keys", c->store);
	tls = json_object_get(root, "tls");
	if (!json_is_object(tls)) {
		rc = sl_err_set(e, SL_EINVAL, "%s: \"tls\" (cert, key, ca) is "
		    "required: the service only speaks TLS with client "
		    "certificates", path);
		goto out;
	}
	rc = only_known(tls, known_tls, path, e);
	if (!rc)
		rc = str(c->tls_cert, sizeof(c->tls_cert), tls, "cert", NULL,
		    path, e);
	if (!rc)
		rc = str(c->tls_key, sizeof(c->tls_key), tls, "key", NULL, path,
		    e);
	if (!rc)
		rc = str(c->tls_ca, sizeof(c->tls_ca), tls, "ca", NULL, path, e);
	if (!rc)
		rc = str(c->tls_crl, sizeof(c->tls_crl), tls, "crl", "", path,
		    e);
	if (!rc)
		rc = str(minv, sizeof(minv), tls, "min_version", "1.3", path, e);
	if (rc)
		goto out;
	if (strcmp(minv, "1.3") && strcmp(minv, "1.2")) {
		rc = sl_err_set(e, SL_EINVAL, "%s: tls.min_version is \"1.3\" "
		    "(default) or \"1.2\"", path);
		goto out;
	}
	c->tls_min_version = minv[2] == '3' ? 13 : 12;
	rc = num(&c->checkpoint_every_entries, root,
	    "checkpoint_every_entries", 1000, 1, 100000000, path, e);
	if (!rc)
		rc = num(&n, root, "checkpoint_every_seconds", 5, 1, 86400, path,
		    e);
	c->checkpoint_every_ms = (unsigned)n * 1000;
	if (!rc)
		rc = num(&n, root, "max_body_bytes", 4 << 20, 1024, 64 << 20,
		    path, e);
	c->max_body = (size_t)n;
	if (!rc)
		rc = num(&n, root, "max_batch", 1000, 1, 1000, path, e);
	c->max_batch = (size_t)n;
	if (!rc)
		rc = num(&n, root, "read_timeout_seconds", 10, 1, 3600, path, e);
	c->read_timeout_s = (unsigned)n;
	if (!rc)
		rc = num(&n, root, "request_deadline_seconds", 30, 1, 3600,
		    path, e);
	c->request_deadline_s = (unsigned)n;
	if (!rc)
		rc = num(&n, root, "max_connections", 1000, 1, 100000, path,
		    e);
	c->max_connections = (unsigned)n;
	if (!rc)
		rc = num(&n, root, "event_loops", 0, 0, SL_CONFIG_LOOPS_MAX, path,
		    e);
	c->event_loops = (unsigned)n;
	if (rc)
		goto out;
	rc = load_clients(c, json_object_get(root, "clients"), path, e);
out:
	json_decref(root);
	free(text);
	if (rc) {
		sl_config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

const struct sl_client *sl_config_client(const struct sl_config *c,
    const char *fingerprint, const char *subject_cn)
{
	size_t i;

	/* A fingerprint names one certificate: it wins over a name. */
	for (i = 0; i < c->nclients; i++)
		if (c->clients[i].fingerprint[0] &&
		    !strcmp(c->clients[i].fingerprint, fingerprint))
			return &c->clients[i];
	for (i = 0; subject_cn && i < c->nclients; i++)
		if (c->clients[i].subject_cn[0] &&
		    !strcmp(c->clients[i].subject_cn, subject_cn))
			return &c->clients[i];
	return NULL;
}

void sl_config_free(struct sl_config *c)
{
	if (!c)
		return;
	free(c->clients);
	free(c);
}

void sl_config_template(FILE *out, const char *store, const char *pki,
    const char *listen)
{
	fprintf(out,
	    "{\n"
	    "  \"listen\": \"%s\",\n"
	    "  \"store\": \"%s\",\n"
	    "  \"keys\": \"%s.keys\",\n"
	    "  \"tls\": {\n"
	    "    \"cert\": \"%s/server.crt\",\n"
	    "    \"key\": \"%s/server.key\",\n"
	    "    \"ca\": \"%s/ca.crt\",\n"
	    "    \"crl\": \"%s/crl.pem\",\n"
	    "    \"min_version\": \"1.3\"\n"
	    "  },\n"
	    "  \"checkpoint_every_entries\": 1000,\n"
	    "  \"checkpoint_every_seconds\": 5,\n"
	    "  \"max_body_bytes\": 4194304,\n"
	    "  \"max_batch\": 1000,\n"
	    "  \"read_timeout_seconds\": 10,\n"
	    "  \"request_deadline_seconds\": 30,\n"
	    "  \"max_connections\": 1000,\n"
	    "  \"event_loops\": 0,\n"
	    "  \"clients\": [\n"
	    "    {\"subject_cn\": \"police-esx\", \"organisation_id\": "
	    "\"POL-ESX\", \"roles\": [\"submitter\"]},\n"
	    "    {\"subject_cn\": \"school-118832\", \"organisation_id\": "
	    "\"URN-118832\", \"roles\": [\"submitter\"]},\n"
	    "    {\"subject_cn\": \"ofsted-inspector\", \"organisation_id\": "
	    "\"OFSTED\", \"roles\": [\"inspector\"]},\n"
	    "    {\"subject_cn\": \"cspr-reviewer\", \"organisation_id\": "
	    "\"LSCP\", \"roles\": [\"reviewer\"]},\n"
	    "    {\"subject_cn\": \"sharelog-admin\", \"organisation_id\": "
	    "\"OPS\", \"roles\": [\"admin\"]}\n"
	    "  ]\n"
	    "}\n", listen, store, store, pki, pki, pki, pki);
}
