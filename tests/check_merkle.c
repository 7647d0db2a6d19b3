#include "tests/testutil.h"
#include "formats/merkle.h"
#include "formats/err.h"

#include <string.h>

/* The Certificate Transparency reference leaves and roots (RFC 6962). */
static const char *const ct_leaves[8] = {
	"", "\x00", "\x10", "\x20\x21", "\x30\x31", "\x40\x41\x42\x43",
	"\x50\x51\x52\x53\x54\x55\x56\x57",
	"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"
};
static const size_t ct_len[8] = { 0, 1, 1, 2, 2, 4, 8, 16 };
static const char *const ct_roots[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* A test tree: leaf hashes in memory, nodes computed on demand. */
struct mem {
	uint8_t (*leaf)[32];
	uint64_t n;
	struct sl_hash *h;
};

static int mem_get(uint8_t out[32], void *ctx, unsigned level, uint64_t idx)
{
	struct mem *m = ctx;
	uint64_t w = UINT64_C(1) << level;
	uint8_t l[32];
	uint8_t r[32];

	if ((idx + 1) * w > m->n)
		return SL_ENOTFOUND;
	if (level == 0) {
		memcpy(out, m->leaf[idx], 32);
		return 0;
	}
	mem_get(l, ctx, level - 1, 2 * idx);
	mem_get(r, ctx, level - 1, 2 * idx + 1);
	return sl_hash_node(out, m->h, l, r);
}

/* Straight from the RFC 6962 definition, for cross-checking. */
static void mth(uint8_t out[32], struct sl_hash *h, uint8_t (*lv)[32],
    uint64_t n)
{
	uint64_t k = 1;
	uint8_t a[32];
	uint8_t b[32];

	if (n == 0) {
		memcpy(out, sl_hash_empty, 32);
		return;
	}
	if (n == 1) {
		memcpy(out, lv[0], 32);
		return;
	}
	while (k << 1 < n)
		k <<= 1;
	mth(a, h, lv, k);
	mth(b, h, lv + k, n - k);
	sl_hash_node(out, h, a, b);
}

static void ct_setup(struct mem *m, uint8_t (*lv)[32])
{
	int i;

	ck_assert_int_eq(sl_hash_new(&m->h), 0);
	for (i = 0; i < 8; i++)
		sl_hash_leaf(lv[i], m->h, ct_leaves[i], ct_len[i]);
	m->leaf = lv;
	m->n = 8;
}

START_TEST(test_merkle_rfc6962_roots)
{
	uint8_t lv[8][32];
	struct mem m;
	struct sl_merkle_range r;
	uint8_t root[32];
	char hex[65];
	int n;

	ct_setup(&m, lv);
	sl_merkle_range_init(&r);
	sl_merkle_range_root(root, &r, m.h);
	tu_hex(hex, root);
	ck_assert_str_eq(hex, ct_roots[0]);
	for (n = 1; n <= 8; n++) {
		sl_merkle_range_push(&r, m.h, lv[n - 1]);
		sl_merkle_range_root(root, &r, m.h);
		tu_hex(hex, root);
		ck_assert_str_eq(hex, ct_roots[n]);
		m.n = (uint64_t)n;
		sl_merkle_subtree(root, m.h, mem_get, &m, 0, (uint64_t)n);
		tu_hex(hex, root);
		ck_assert_str_eq(hex, ct_roots[n]);
	}
	sl_hash_free(m.h);
}
END_TEST

static void expect_path(uint8_t path[][32], size_t n, const char *const *want,
    size_t nwant)
{
	size_t i;
	char hex[65];

	ck_assert_uint_eq(n, nwant);
	for (i = 0; i < n; i++) {
		tu_hex(hex, path[i]);
		ck_assert_str_eq(hex, want[i]);
	}
}

START_TEST(test_merkle_rfc6962_inclusion_vectors)
{
	static const char *const p0[] = {
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	};
	static const char *const p5[] = {
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	};
	static const char *const p2_3[] = {
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	};
	static const char *const p1_5[] = {
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	};
	uint8_t lv[8][32];
	uint8_t path[64][32];
	uint8_t root[32];
	struct mem m;
	size_t n;

	ct_setup(&m, lv);
	sl_merkle_inclusion(path, &n, m.h, mem_get, &m, 0, 8);
	expect_path(path, n, p0, 3);
	tu_unhex(root, ct_roots[8]);
	ck_assert_int_eq(sl_merkle_verify_inclusion(m.h, 0, 8, lv[0],
	    (const uint8_t (*)[32])path, n, root), 0);
	sl_merkle_inclusion(path, &n, m.h, mem_get, &m, 5, 8);
	expect_path(path, n, p5, 3);
	m.n = 3;
	sl_merkle_inclusion(path, &n, m.h, mem_get, &m, 2, 3);
	expect_path(path, n, p2_3, 1);
	m.n = 5;
	sl_merkle_inclusion(path, &n, m.h, mem_get, &m, 1, 5);
	expect_path(path, n, p1_5, 3);
	tu_unhex(root, ct_roots[5]);
	ck_assert_int_eq(sl_merkle_verify_inclusion(m.h, 1, 5, lv[1],
	    (const uint8_t (*)[32])path, n, root), 0);
	ck_assert_int_eq(sl_merkle_verify_inclusion(m.h, 2, 5, lv[1],
	    (const uint8_t (*)[32])path, n, root), SL_EINTEGRITY);
	sl_hash_free(m.h);
}
END_TEST

START_TEST(test_merkle_rfc6962_consistency_vectors)
{
	static const char *const c1_8[] = {
		"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
	};
	static const char *const c6_8[] = {
		"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	};
	static const char *const c2_5[] = {
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	};
	uint8_t lv[8][32];
	uint8_t path[64][32];
	uint8_t r1[32];
	uint8_t r2[32];
	struct mem m;
	size_t n;

	ct_setup(&m, lv);
	sl_merkle_consistency(path, &n, m.h, mem_get, &m, 1, 8);
	expect_path(path, n, c1_8, 3);
	sl_merkle_consistency(path, &n, m.h, mem_get, &m, 6, 8);
	expect_path(path, n, c6_8, 3);
	tu_unhex(r1, ct_roots[6]);
	tu_unhex(r2, ct_roots[8]);
	ck_assert_int_eq(sl_merkle_verify_consistency(m.h, 6, 8, r1, r2,
	    (const uint8_t (*)[32])path, n), 0);
	ck_assert_int_eq(sl_merkle_verify_consistency(m.h, 5, 8, r1, r2,
	    (const uint8_t (*)[32])path, n), SL_EINTEGRITY);
	m.n = 5;
	sl_merkle_consistency(path, &n, m.h, mem_get, &m, 2, 5);
	expect_path(path, n, c2_5, 2);
	sl_merkle_consistency(path, &n, m.h, mem_get, &m, 5, 5);
	ck_assert_uint_eq(n, 0);
	sl_hash_free(m.h);
}
END_TEST

START_TEST(test_merkle_all_sizes_and_last_leaf)
{
	uint8_t lv[70][32];
	uint8_t roots[71][32];
	uint8_t path[64][32];
	struct mem m = { lv, 0, NULL };
	struct sl_merkle_range r;
	uint64_t n;
	uint64_t i;
	size_t np;

	ck_assert_int_eq(sl_hash_new(&m.h), 0);
	sl_merkle_range_init(&r);
	memcpy(roots[0], sl_hash_empty, 32);
	for (i = 0; i < 70; i++) {
		uint8_t b[2] = { (uint8_t)i, (uint8_t)(i * 7) };

		sl_hash_leaf(lv[i], m.h, b, 2);
		sl_merkle_range_push(&r, m.h, lv[i]);
		sl_merkle_range_root(roots[i + 1], &r, m.h);
		{
			uint8_t want[32];

			mth(want, m.h, lv, i + 1);
			ck_assert_mem_eq(roots[i + 1], want, 32);
		}
	}
	for (n = 1; n <= 70; n++) {
		m.n = n;
		for (i = 0; i < n; i++) {
			uint8_t bad[32];

			ck_assert_int_eq(sl_merkle_inclusion(path, &np, m.h,
			    mem_get, &m, i, n), 0);
			ck_assert_msg(sl_merkle_verify_inclusion(m.h, i, n,
			    lv[i], (const uint8_t (*)[32])path, np,
			    roots[n]) == 0, "inclusion %llu/%llu",
			    (unsigned long long)i, (unsigned long long)n);
			memcpy(bad, lv[i], 32);
			bad[0] ^= 1;
			ck_assert_int_eq(sl_merkle_verify_inclusion(m.h, i, n,
			    bad, (const uint8_t (*)[32])path, np, roots[n]),
			    SL_EINTEGRITY);
			if (np) {
				path[np - 1][3] ^= 0x40;
				ck_assert_int_eq(sl_merkle_verify_inclusion(m.h,
				    i, n, lv[i], (const uint8_t (*)[32])path,
				    np, roots[n]), SL_EINTEGRITY);
			}
		}
		for (i = 0; i <= n; i++) {
			ck_assert_int_eq(sl_merkle_consistency(path, &np, m.h,
			    mem_get, &m, i, n), 0);
			ck_assert_msg(sl_merkle_verify_consistency(m.h, i, n,
			    roots[i], roots[n], (const uint8_t (*)[32])path,
			    np) == 0, "consistency %llu->%llu",
			    (unsigned long long)i, (unsigned long long)n);
			if (i > 0 && i < n)
				ck_assert_int_eq(sl_merkle_verify_consistency(
				    m.h, i, n, roots[i - 1], roots[n],
				    (const uint8_t (*)[32])path, np),
				    SL_EINTEGRITY);
		}
	}
	sl_hash_free(m.h);
}
END_TEST

Suite *sl_merkle_suite(void)
{
	Suite *s = suite_create("merkle");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_merkle_rfc6962_roots);
	tcase_add_test(tc, test_merkle_rfc6962_inclusion_vectors);
	tcase_add_test(tc, test_merkle_rfc6962_consistency_vectors);
	tcase_add_test(tc, test_merkle_all_sizes_and_last_leaf);
	suite_add_tcase(s, tc);
	return s;
}
