/*
 * mem: allocation of the large arrays a pass over a whole log keeps (one
 * element per entry: a million entries make tens of MiB each).
 *
 * They are asked for huge pages: on a virtual machine the first touch of
 * each 4 KiB page is a trap that costs microseconds, and a pass touches
 * hundreds of thousands of them. The request is a hint (madvise); where
 * the kernel gives none, the memory is the same memory.
 *
 * Every pointer returned is freed with free(), like malloc's.
 */
#ifndef SL_MEM_H
#define SL_MEM_H

#include <stddef.h>
#include <stdint.h>

/** calloc(n, size), huge pages asked for when it is large; NULL when
 *  out of memory or when n * size overflows. */
void *sl_mem_calloc(size_t n, size_t size);

/** malloc(n), likewise. */
void *sl_mem_malloc(size_t n);

/** realloc(p, n), likewise; on failure p is untouched (still the
 *  caller's). A block of 64 KiB or more is given at least a MiB, so that
 *  growing it is never a copy. */
void *sl_mem_realloc(void *p, size_t n);

/**
 * Let go of this process's pages of bytes [lo, hi) of a read-only file
 * mapping [map_lo, map_hi): a long read keeps its resident memory
 * bounded. The bytes stay in the page cache; a later touch maps them
 * again. Whole fault-around windows (64 KiB) are let go, never past the
 * mapping (MADV_DONTNEED would zero an anonymous neighbour's memory).
 */
void sl_mem_forget(uintptr_t lo, uintptr_t hi, uintptr_t map_lo,
    uintptr_t map_hi);

#endif
