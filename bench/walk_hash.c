/*
 * walk_hash: the least a pack that proves the log can do, on this
 * machine: walk a store's entries table with LMDB cursors, as the
 * verifier reads it, and compute every entry's leaf hash
 * (SHA-256(0x00 || entry)), on THREADS threads, each its own share of
 * the seqs with its own read transaction. No chain or seq checks, no
 * tree, no summaries, no reports. Beside bench/map_hash.c, which hashes
 * the whole data file (LMDB's page slack included) without the walk.
 *
 *   walk_hash STORE [THREADS]
 *
 * Prints the entries, their bytes, the seconds (wall) and the page
 * faults taken.
 */
/* the low-level calls, as formats/hash.c (see bench/map_hash.c) */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "now.h"

struct share {
	pthread_t th;
	uint64_t from, to;          /* seqs [from, to) */
	uint64_t bytes;
	uint64_t seen;
	int rc;
};

static MDB_env *env;
static MDB_dbi entries;

static void be64(unsigned char b[8], uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
}

static void *walk(void *arg)
{
	static const unsigned char zero = 0x00;
	struct share *sh = arg;
	unsigned char kb[8], md[SHA256_DIGEST_LENGTH];
	MDB_val k = { 8, kb }, v;
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	SHA256_CTX x;
	int rc;

	rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	if (!rc)
		rc = mdb_cursor_open(txn, entries, &c);
	be64(kb, sh->from);
	if (!rc && sh->from < sh->to)
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (!rc && sh->seen < sh->to - sh->from) {
		SHA256_Init(&x);
		SHA256_Update(&x, &zero, 1);
		SHA256_Update(&x, v.mv_data, v.mv_size);
		SHA256_Final(md, &x);
		sh->bytes += v.mv_size;
		sh->seen++;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	sh->rc = rc == MDB_NOTFOUND ? 0 : rc;
	if (c)
		mdb_cursor_close(c);
	if (txn)
		mdb_txn_abort(txn);
	return NULL;
}

int main(int argc, char **argv)
{
	struct share sh[64];
	struct rusage ru;
	MDB_txn *txn;
	MDB_stat st;
	uint64_t n, bytes = 0, seen = 0;
	int t = argc > 2 ? atoi(argv[2]) : 2;
	double t0;
	int i, rc;

	if (argc < 2 || t < 1 || t > 64) {
		fprintf(stderr, "usage: walk_hash STORE [THREADS]\n");
		return 2;
	}
	t0 = now();
	rc = mdb_env_create(&env);
	if (!rc)
		rc = mdb_env_set_maxdbs(env, 16);
	if (!rc)
		rc = mdb_env_open(env, argv[1], MDB_RDONLY | MDB_NOTLS, 0600);
	if (!rc)
		rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
	if (!rc) {
		rc = mdb_dbi_open(txn, "entries", 0, &entries);
		if (!rc)
			rc = mdb_stat(txn, entries, &st);
		/* committed, not aborted: an abort would close the table's
		 * handle for the walkers */
		if (!rc)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
	}
	if (rc) {
		fprintf(stderr, "walk_hash: %s: %s\n", argv[1],
		    mdb_strerror(rc));
		return 1;
	}
	n = st.ms_entries;
	for (i = 0; i < t; i++) {
		memset(&sh[i], 0, sizeof(sh[i]));
		sh[i].from = n * (uint64_t)i / (uint64_t)t;
		sh[i].to = n * (uint64_t)(i + 1) / (uint64_t)t;
		if (pthread_create(&sh[i].th, NULL, walk, &sh[i])) {
			fprintf(stderr, "walk_hash: cannot start a thread\n");
			return 1;
		}
	}
	for (i = 0; i < t; i++) {
		pthread_join(sh[i].th, NULL);
		if (sh[i].rc) {
			fprintf(stderr, "walk_hash: %s\n",
			    mdb_strerror(sh[i].rc));
			return 1;
		}
		bytes += sh[i].bytes;
		seen += sh[i].seen;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("%llu entries (%llu bytes) walked and leaf-hashed on %d "
	    "threads: %.3f s, %ld page faults\n",
	    (unsigned long long)seen, (unsigned long long)bytes, t,
	    now() - t0, ru.ru_minflt + ru.ru_majflt);
	mdb_env_close(env);
	return 0;
}
