#define _GNU_SOURCE
/*
 * map_hash: the floor under any pack that proves the log first, on this
 * machine: map a store's data file, as LMDB readers do, and SHA-256 every
 * byte of it once, in pieces of an entry's mean size, on THREADS threads
 * taking 1 MiB slices in turn (as the integrity pass shares out its
 * chunks). No B-tree walk, no entry parsing, no tree, no reports: each
 * page's first touch (a page fault) and the hashing, nothing else.
 *
 *   map_hash FILE [THREADS [PIECE]]
 *
 * Prints the bytes, the seconds (wall) and the page faults taken.
 */
/* the low-level calls, as formats/hash.c: OpenSSL 3's one-shot SHA256()
 * fetches the digest through a shared store on every call, which keeps
 * two threads from hashing any faster than one */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "now.h"

#define SLICE ((size_t)1 << 20)

static const unsigned char *map;
static size_t size;
static size_t piece = 1400;
static atomic_size_t next_slice;
static atomic_uint sink;   /* keeps the digests from being optimised away */

static void *work(void *arg)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_CTX c;
	unsigned acc = 0;
	size_t s;

	while ((s = atomic_fetch_add(&next_slice, 1)) * SLICE < size) {
		size_t at = s * SLICE;
		size_t end = at + SLICE < size ? at + SLICE : size;

		for (; at < end; at += piece) {
			size_t n = end - at < piece ? end - at : piece;

			SHA256_Init(&c);
			SHA256_Update(&c, map + at, n);
			SHA256_Final(md, &c);
			acc += md[0];
		}
	}
	atomic_fetch_add(&sink, acc);
	(void)arg;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[64];
	struct rusage ru;
	struct stat st;
	int n = argc > 2 ? atoi(argv[2]) : 2;
	double t0, t1;
	int fd, i;

	if (argc < 2 || n < 1 || n > 64) {
		fprintf(stderr, "usage: map_hash FILE [THREADS [PIECE]]\n");
		return 2;
	}
	if (argc > 3)
		piece = (size_t)atol(argv[3]);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || !st.st_size || !piece) {
		perror(argv[1]);
		return 1;
	}
	size = (size_t)st.st_size;
	t0 = now();
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (i = 0; i < n; i++)
		pthread_create(&t[i], NULL, work, NULL);
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	t1 = now();
	getrusage(RUSAGE_SELF, &ru);
	printf("%zu bytes hashed in %zu-byte pieces on %d threads: %.3f s, "
	    "%ld page faults\n", size, piece, n, t1 - t0,
	    ru.ru_minflt + ru.ru_majflt);
	return 0;
}
