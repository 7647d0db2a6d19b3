/*
 * fuzz_note: signed notes and checkpoints, as a verifier reads them from
 * a bundle or a server it does not trust.
 *
 * For any bytes: sl_note_open never crashes and, when it succeeds, the
 * text it names ends in a newline followed by the blank line, and a known
 * key's signature holds; sl_checkpoint_parse of that text (or of the raw
 * bytes) gives a checkpoint whose body, written again, begins the text.
 * And the other way round: the input's first lines, signed with the test
 * key, open with that key, and changing any one byte of the signed text
 * makes the note fail (a signature covers every byte of its text). A
 * verifier key string parsed is named by its text's first field.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/buf.h"
#include "formats/checkpoint.h"
#include "formats/note.h"
#include "tests/fuzz/fuzz.h"

/* tests/data/vectors/keys: test keys of FORMAT.md's vectors, never real */
#define KEY_DIR "tests/data/vectors/keys/"
#define NAME "example.lscp.gov.uk/sharelog"

static struct sl_signer *signer;
static struct sl_verifier *verifier;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sl_err e = { 0, "" };
	char vkey[SL_NOTE_VKEY_MAX];

	(void)argc;
	(void)argv;
	if (sl_note_signer_load(&signer, KEY_DIR "signing.key", NAME, &e) ||
	    sl_note_signer_vkey(vkey, sizeof(vkey), signer) ||
	    sl_note_verifier_parse(&verifier, vkey, strlen(vkey), &e)) {
		fprintf(stderr, "fuzz_note: %s (run from the repository)\n",
		    e.msg);
		exit(2);
	}
	return 0;
}

static void check_checkpoint(const char *text, size_t n)
{
	struct sl_checkpoint c;
	struct sl_err e = { 0, "" };
	struct sl_buf body;

	if (sl_checkpoint_parse(&c, text, n, &e)) {
		fuzz_assert(e.msg[0] != '\0', "checkpoint refused without a "
		    "sentence");
		return;
	}
	sl_buf_init(&body, 4096);
	fuzz_assert(sl_checkpoint_body(&body, &c) == 0 && body.len <= n &&
	    memcmp(body.data, text, body.len) == 0, "a parsed checkpoint "
	    "does not write back as the text it came from");
	sl_buf_free(&body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sl_verifier *const vs[1] = { verifier };
	struct sl_signer *const ss[1] = { signer };
	const char *in = (const char *)data;
	struct sl_note_verdict vd;
	struct sl_err e = { 0, "" };
	struct sl_buf note;
	size_t tn, i;

	if (sl_note_open(&vd, in, size, vs, 1, &e) == 0) {
		fuzz_assert(vd.text_len >= 1 && vd.text_len < size &&
		    in[vd.text_len - 1] == '\n' && in[vd.text_len] == '\n',
		    "an opened note's text does not end at a blank line");
		fuzz_assert(vd.verified >= 1 && vd.first_key == 0,
		    "opened without a known key's signature");
		check_checkpoint(in, vd.text_len);
	} else {
		fuzz_assert(e.msg[0] != '\0', "note refused without a "
		    "sentence");
	}
	check_checkpoint(in, size);

	/* the input as an inspector's --key: name+id+key, the name first */
	{
		struct sl_verifier *v = NULL;

		if (sl_note_verifier_parse(&v, in, size, &e) == 0) {
			const char *name = sl_note_verifier_name(v);
			size_t nl = strlen(name);

			fuzz_assert(nl < size && !memcmp(in, name, nl) &&
			    in[nl] == '+', "a key named \"%s\" from %.*s",
			    name, (int)size, in);
			sl_note_verifier_free(v);
		}
	}

	/* sign the input's text part and tamper with it */
	for (tn = 0; tn + 1 < size && !(in[tn] == '\n' && in[tn + 1] == '\n');
	    tn++)
		;
	if (tn == 0 || tn + 1 >= size)
		return 0;
	tn++;                   /* the text with its last newline */
	sl_buf_init(&note, SL_NOTE_MAX);
	if (sl_note_sign(&note, in, tn, ss, 1, &e) == 0) {
		fuzz_assert(sl_note_open(&vd, (const char *)note.data,
		    note.len, vs, 1, &e) == 0 && vd.text_len == tn &&
		    vd.verified == 1, "a note we signed does not open: %s",
		    e.msg);
		i = (data[0] * 257u + data[size - 1]) % tn;
		note.data[i] ^= (uint8_t)(1u << (data[size / 2] % 8));
		fuzz_assert(sl_note_open(&vd, (const char *)note.data,
		    note.len, vs, 1, &e) != 0, "byte %zu of a signed text "
		    "changed and the note still opens", i);
	}
	sl_buf_free(&note);
	return 0;
}
