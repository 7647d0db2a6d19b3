#include "tests/testutil.h"
#include "formats/mem.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

START_TEST(test_mem_calloc_is_zero_and_checks_overflow)
{
	size_t n = (size_t)24 << 20, i;
	uint8_t *p = sl_mem_calloc(n / 8, 8);
	uint8_t *q;

	ck_assert_ptr_nonnull(p);
	for (i = 0; i < n; i += 4093)
		ck_assert_uint_eq(p[i], 0);
	ck_assert_uint_eq(p[n - 1], 0);
	memset(p, 0xab, n);
	free(p);
	/* a freed block's bytes do not come back in a new one */
	q = sl_mem_calloc(n, 1);
	ck_assert_ptr_nonnull(q);
	for (i = 0; i < n; i += 4093)
		ck_assert_uint_eq(q[i], 0);
	free(q);
	ck_assert_ptr_null(sl_mem_calloc(SIZE_MAX / 2, 4));
	p = sl_mem_calloc(0, 8);
	ck_assert_ptr_nonnull(p);
	free(p);
}
END_TEST

START_TEST(test_mem_realloc_keeps_what_was_written)
{
	uint32_t *v = NULL;
	size_t cap = 16, n = 0, i;

	/* from the heap to a mapping of its own, then grown in place */
	while (cap <= ((size_t)64 << 20) / sizeof(*v)) {
		uint32_t *nv = sl_mem_realloc(v, cap * sizeof(*v));

		ck_assert_ptr_nonnull(nv);
		v = nv;
		for (; n < cap; n++)
			v[n] = (uint32_t)(n * 2654435761u);
		cap *= 4;
	}
	for (i = 0; i < n; i++)
		if (v[i] != (uint32_t)(i * 2654435761u))
			ck_abort_msg("element %zu changed when the array grew", i);
	free(v);
	v = sl_mem_malloc((size_t)8 << 20);
	ck_assert_ptr_nonnull(v);
	v[((size_t)8 << 20) / sizeof(*v) - 1] = 7;
	free(v);
}
END_TEST

/* A file mapping that does not end on a 64 KiB window, with anonymous
 * memory right after it: letting go of the file's last bytes gives
 * them back from the page cache and leaves the neighbour alone. */
START_TEST(test_mem_forget_stays_inside_the_mapping)
{
	const size_t win = (size_t)64 << 10;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t flen = win + pg;
	char path[] = "/tmp/sl_mem_XXXXXX";
	uint8_t *area, *file, *anon;
	size_t i;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	area = mmap(NULL, 4 * win, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(area, MAP_FAILED);
	/* the file starts on a window, so its end is mid-window */
	file = (uint8_t *)(((uintptr_t)area + win - 1) & ~(uintptr_t)(win - 1));
	anon = file + flen;
	for (i = 0; i < flen; i++) {
		uint8_t b = (uint8_t)(i * 7 + 1);

		ck_assert_int_eq(write(fd, &b, 1), 1);
	}
	ck_assert_ptr_eq(mmap(file, flen, PROT_READ, MAP_SHARED | MAP_FIXED,
	    fd, 0), file);
	close(fd);
	memset(anon, 0x5a, 2 * pg);
	ck_assert_uint_eq(file[flen - 1], (uint8_t)((flen - 1) * 7 + 1));
	sl_mem_forget((uintptr_t)file + win, (uintptr_t)file + flen,
	    (uintptr_t)file, (uintptr_t)file + flen);
	for (i = 0; i < 2 * pg; i++)
		if (anon[i] != 0x5a)
			ck_abort_msg("byte %zu after the file's mapping was "
			    "zeroed", i);
	for (i = 0; i < flen; i++)
		if (file[i] != (uint8_t)(i * 7 + 1))
			ck_abort_msg("byte %zu of the file reads differently "
			    "once forgotten", i);
	munmap(area, 4 * win);
}
END_TEST

Suite *sl_mem_suite(void)
{
	Suite *s = suite_create("mem");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_mem_calloc_is_zero_and_checks_overflow);
	tcase_add_test(tc, test_mem_realloc_keeps_what_was_written);
	tcase_add_test(tc, test_mem_forget_stays_inside_the_mapping);
	suite_add_tcase(s, tc);
	return s;
}
