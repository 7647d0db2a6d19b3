#include "tests/testutil.h"
#include "auditd/admin.h"
#include "auditd/keys.h"
#include "formats/enc.h"
#include "formats/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void tu_tmpdir(char *out, size_t cap)
{
	const char *t = getenv("TMPDIR");

	snprintf(out, cap, "%s/sl-test-XXXXXX", t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(out));
}

int tu_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void tu_rmdir(const char *path)
{
	if (strncmp(path, "/tmp/", 5) && strncmp(path, getenv("TMPDIR") ?
	    getenv("TMPDIR") : "/tmp/", 4))
		return;
	tu_sh("rm -rf '%s'", path);
}

void tu_log_open(char *dir, const char *origin, struct sl_store **st,
    struct sl_keys **kk)
{
	char store[300];
	char keys[300];
	struct sl_err e;

	tu_tmpdir(dir, 256);
	snprintf(store, sizeof(store), "%s/s", dir);
	snprintf(keys, sizeof(keys), "%s/k", dir);
	ck_assert_msg(sl_admin_init(store, keys, origin, &e) == 0, "%s", e.msg);
	ck_assert_msg(sl_store_open(st, store, 0, &e) == 0, "%s", e.msg);
	ck_assert_msg(sl_keys_open(kk, keys, origin, &e) == 0, "%s", e.msg);
}

void tu_log_close(const char *dir, struct sl_store *st, struct sl_keys *kk)
{
	sl_keys_close(kk);
	sl_store_close(st);
	tu_rmdir(dir);
}

json_t *tu_record(unsigned i)
{
	static const char crock[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	char rid[27];
	char did[40];
	char child[40];
	unsigned v = i;
	int k;

	/* A ULID whose random part encodes i: unique and deterministic. */
	memcpy(rid, "01JGFJJZ00", 10);
	for (k = 25; k >= 10; k--) {
		rid[k] = crock[v & 31];
		v >>= 5;
	}
	rid[26] = '\0';
	snprintf(did, sizeof(did), "D-%06u", i);
	snprintf(child, sizeof(child), "LA881-%06u", i % 97);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
	    "s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:s,s:b,s:b,s:s,s:s,s:s,"
	    "s:[{s:s,s:s}],s:s,s:s,s:[s]}",
	    "schema_version", "1",
	    "record_id", rid,
	    "record_type", "decision",
	    "decision_id", did,
	    "decided_at", "2026-03-01T09:30:00Z",
	    "organisation_id", "URN-118832",
	    "deciding_agency_type", "school",
	    "practitioner_id", "P-00017",
	    "practitioner_role", "dsl",
	    "case_ref", "C-000123",
	    "child_id", child,
	    "child_age_band", "5_9",
	    "trigger", "proactive_concern",
	    "harm_threshold", "child_in_need",
	    "decision", "share",
	    "purpose", "referral_to_csc",
	    "special_category", 0,
	    "criminal_offence_data", 0,
	    "consent_status", "given",
	    "family_informed", "informed_before",
	    "advice_sought", 0,
	    "identities_at_risk", 0,
	    "rationale", "Attendance fell sharply and the child disclosed "
	    "worries at home; the DSL judged a referral necessary.",
	    "lawful_basis", "public_task_6_1_e",
	    "shared_at", "2026-03-01T10:00:00Z",
	    "recipients", "agency_type", "la_childrens_social_care", "org",
	    "LA-881",
	    "information_shared", "Attendance record and summary of concern",
	    "method", "secure_email",
	    "info_categories", "education");
}

void tu_hex(char out[65], const uint8_t *h)
{
	sl_enc_hex(out, h, 32);
}

void tu_unhex(uint8_t out[32], const char *hex)
{
	ck_assert_int_eq(sl_enc_unhex(out, 32, hex, strlen(hex)), 0);
}
