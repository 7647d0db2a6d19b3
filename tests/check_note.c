#include "tests/testutil.h"
#include "formats/buf.h"
#include "formats/checkpoint.h"
#include "formats/note.h"

#include <stdio.h>
#include <string.h>

static struct sl_signer *mk(const char *dir, const char *file,
    const char *name)
{
	char path[400];
	struct sl_signer *s;
	struct sl_err e;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	ck_assert_int_eq(sl_note_keygen(path, &e), 0);
	ck_assert_int_eq(sl_note_signer_load(&s, path, name, &e), 0);
	return s;
}

static struct sl_verifier *vk(struct sl_signer *s)
{
	char v[SL_NOTE_VKEY_MAX];
	struct sl_verifier *out;
	struct sl_err e;

	ck_assert_int_eq(sl_note_signer_vkey(v, sizeof(v), s), 0);
	ck_assert_int_eq(sl_note_verifier_parse(&out, v, strlen(v), &e), 0);
	return out;
}

START_TEST(test_note_sign_verify_and_format)
{
	char dir[256];
	struct sl_signer *s;
	struct sl_verifier *v;
	struct sl_buf b;
	struct sl_err e;
	struct sl_note_verdict nv;
	const char *text = "example.org/log\n5\nAAAA\n";
	char *sig;

	tu_tmpdir(dir, sizeof(dir));
	s = mk(dir, "k", "example.org/log");
	v = vk(s);
	sl_buf_init(&b, 4096);
	ck_assert_int_eq(sl_note_sign(&b, text, strlen(text), &s, 1, &e), 0);
	/* text, blank line, em dash, name, 92 base64 characters */
	ck_assert_int_eq(memcmp(b.data, text, strlen(text)), 0);
	sig = (char *)b.data + strlen(text);
	ck_assert_int_eq(memcmp(sig, "\n\xe2\x80\x94 example.org/log ", 21),
	    0);
	ck_assert_uint_eq(strlen(sig + 21), 93);
	ck_assert_int_eq(sl_note_open(&nv, (char *)b.data, b.len, &v, 1, &e),
	    0);
	ck_assert_uint_eq(nv.verified, 1);
	ck_assert_uint_eq(nv.text_len, strlen(text));
	/* what sl_note_open would refuse to read is not signed (found by
	 * tests/fuzz/fuzz_note) */
	{
		static const char *const unreadable[] = { "a\tb\n",
			"a\x7f\n", "caf\xc3\n", "\xed\xa0\x80\n" };
		size_t i, len = b.len;

		for (i = 0; i < 4; i++) {
			ck_assert_int_eq(sl_note_sign(&b, unreadable[i],
			    strlen(unreadable[i]), &s, 1, &e), SL_EINVAL);
			ck_assert_ptr_nonnull(strstr(e.msg, "UTF-8"));
			ck_assert_uint_eq(b.len, len);
		}
	}
	/* any change to the text breaks it */
	b.data[16] = '6';
	ck_assert_int_eq(sl_note_open(&nv, (char *)b.data, b.len, &v, 1, &e),
	    SL_EINTEGRITY);
	sl_buf_free(&b);
	sl_note_verifier_free(v);
	sl_note_signer_free(s);
	tu_rmdir(dir);
}
END_TEST

START_TEST(test_note_several_signatures_unknown_ignored)
{
	char dir[256];
	struct sl_signer *a;
	struct sl_signer *b2;
	struct sl_signer *both[2];
	struct sl_verifier *va;
	struct sl_verifier *vb;
	struct sl_buf b;
	struct sl_err e;
	struct sl_note_verdict nv;
	const char *text = "o\n1\nAAAA\n";

	tu_tmpdir(dir, sizeof(dir));
	a = mk(dir, "a", "o");
	b2 = mk(dir, "b", "witness");
	va = vk(a);
	vb = vk(b2);
	both[0] = a;
	both[1] = b2;
	sl_buf_init(&b, 4096);
	ck_assert_int_eq(sl_note_sign(&b, text, strlen(text), both, 2, &e), 0);
	/* Only a's key known: b's signature is ignored. */
	ck_assert_int_eq(sl_note_open(&nv, (char *)b.data, b.len, &va, 1, &e),
	    0);
	ck_assert_uint_eq(nv.sigs, 2);
	ck_assert_uint_eq(nv.unknown, 1);
	/* Only b known (key rotation): still verifies. */
	ck_assert_int_eq(sl_note_open(&nv, (char *)b.data, b.len, &vb, 1, &e),
	    0);
	sl_note_verifier_free(vb);
	sl_note_signer_free(b2);
	/* A note signed by an unknown key only: rejected. */
	b2 = mk(dir, "c", "o");   /* same name, other key */
	vb = vk(b2);
	ck_assert_int_eq(sl_note_open(&nv, (char *)b.data, b.len, &vb, 1, &e),
	    SL_EINTEGRITY);
	ck_assert_ptr_nonnull(strstr(e.msg, "trust"));
	sl_buf_free(&b);
	sl_note_verifier_free(va);
	sl_note_verifier_free(vb);
	sl_note_signer_free(a);
	sl_note_signer_free(b2);
	tu_rmdir(dir);
}
END_TEST

START_TEST(test_note_rejects_malformed)
{
	static const char *const bad[] = {
		"text\n",                              /* no signatures */
		"text\n\n",                            /* blank, none */
		"text\n\n- o AAAA\n",                  /* not an em dash */
		"text\n\n\xe2\x80\x94 o !!!!\n",       /* not base64 */
		"te\x01xt\n\n\xe2\x80\x94 o AAAAAAAA\n",
		"text\n\n\xe2\x80\x94 o AAAAAAAA",     /* no final newline */
	};
	struct sl_note_verdict nv;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_err e;

		ck_assert_msg(sl_note_open(&nv, bad[i], strlen(bad[i]), NULL,
		    0, &e) == SL_EINVAL, "#%zu", i);
	}
}
END_TEST

START_TEST(test_note_vkey_checks_id)
{
	struct sl_verifier *v;
	struct sl_err e;
	/* key id does not match name and key */
	const char *bad = "o+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAA=";

	ck_assert_int_eq(sl_note_verifier_parse(&v, bad, strlen(bad), &e),
	    SL_EINVAL);
	ck_assert_int_eq(sl_note_verifier_parse(&v, "o+1", 3, &e), SL_EINVAL);
}
END_TEST

Suite *sl_note_suite(void)
{
	Suite *s = suite_create("note");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_note_sign_verify_and_format);
	tcase_add_test(tc, test_note_several_signatures_unknown_ignored);
	tcase_add_test(tc, test_note_rejects_malformed);
	tcase_add_test(tc, test_note_vkey_checks_id);
	suite_add_tcase(s, tc);
	return s;
}
