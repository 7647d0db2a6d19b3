/*
 * now.h: the one clock of the single-file benchmark tools in bench/
 * (each built with one gcc command; "now.h" is found beside them).
 */
#ifndef BENCH_NOW_H
#define BENCH_NOW_H

#include <time.h>

/* Seconds on the monotonic clock. */
static inline double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

#endif
