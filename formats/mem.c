/*
 * mem: large arrays backed by huge pages where the kernel allows
 * (transparent huge pages in "madvise" mode, Debian's default).
 */
#include "formats/mem.h"

#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE ((size_t)2 << 20)

/* The whole huge pages inside p[0..n): a large block has a mapping of
 * its own (own_mappings), so the advice reaches no other block. */
static void advise(void *p, size_t n)
{
	uintptr_t lo = ((uintptr_t)p + HUGE - 1) & ~(uintptr_t)(HUGE - 1);
	uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)(HUGE - 1);

	if (n >= 2 * HUGE && hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

/*
 * Blocks of a MiB and more get a mapping of their own, always: glibc
 * otherwise raises that bound as large blocks are freed (up to 32 MiB),
 * and then puts them on the heap, where calloc zeroes them by touching
 * every page before the advice can take effect, and realloc copies them
 * instead of moving their mapping.
 */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void own_mappings(void)
{
	(void)mallopt(M_MMAP_THRESHOLD, 1 << 20);
}

void *sl_mem_malloc(size_t n)
{
	void *p;

	pthread_once(&once, own_mappings);
	p = malloc(n ? n : 1);
	if (p)
		advise(p, n);
	return p;
}

void *sl_mem_calloc(size_t n, size_t size)
{
	void *p;

	if (size && n > SIZE_MAX / size)
		return NULL;
	pthread_once(&once, own_mappings);
	/* a fresh mapping, zero and untouched until the advice is given */
	p = calloc(n ? n : 1, size ? size : 1);
	if (p)
		advise(p, n * size);
	return p;
}

void *sl_mem_realloc(void *p, size_t n)
{
	void *q;

	pthread_once(&once, own_mappings);
	/* A block that grows past 64 KiB gets its own mapping at once (a
	 * MiB, the bound above): from there it grows by moving the mapping
	 * (mremap), not by copying into fresh pages as on the heap, and the
	 * pages it does not use yet are never touched. */
	if (n >= ((size_t)64 << 10) && n < ((size_t)1 << 20))
		n = (size_t)1 << 20;
	q = realloc(p, n ? n : 1);
	if (q)
		advise(q, n);
	return q;
}

void sl_mem_forget(uintptr_t lo, uintptr_t hi, uintptr_t map_lo,
    uintptr_t map_hi)
{
	/* the kernel maps the aligned 64 KiB around each page fault
	 * ("fault-around"); a neighbour still in use reads its page from
	 * the page cache again */
	const uintptr_t win = (uintptr_t)64 << 10;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = lo & ~(win - 1);
	uintptr_t b = (hi + win - 1) & ~(win - 1);

	map_lo = (map_lo + pg - 1) & ~(pg - 1);
	map_hi = (map_hi + pg - 1) & ~(pg - 1);
	if (a < map_lo)
		a = map_lo;
	if (b > map_hi)
		b = map_hi;
	if (hi > lo && b > a)
		(void)madvise((void *)a, b - a, MADV_DONTNEED);
}
