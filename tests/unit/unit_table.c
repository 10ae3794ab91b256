// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the table compiler (user/geoip/dxr.c): random prefix sets, nested and long
 * ones included, compiled into range tables, give for every probed address the answer of a naive
 * longest-prefix match over the same prefixes. UNIT_TABLE_SEED reproduces a run.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include "geoip/dxr.h"
#include "geoip/dxr_find.h"
#include "geoip/prefix.h"
#include "check.h"

static unsigned long long rng;

static unsigned long long rnd(void)
{
	unsigned long long z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static bool covers(const struct prefix *p, const __u8 *a)
{
	unsigned int full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->addr, a, full))
		return false;
	return !rest || !((p->addr[full] ^ a[full]) & (__u8)(0xff00 >> rest));
}

/* The reference: the longest prefix that covers a, by brute force. */
static __u32 naive(const struct prefix_list *l, int family, const __u8 *a)
{
	int best = -1;
	__u32 v = GB_COUNTRY_NONE;

	for (size_t i = 0; i < l->n; i++) {
		const struct prefix *p = &l->v[i];

		/* ">=": of two equal prefixes the later wins, in the compiler as here */
		if ((int)p->len >= best && covers(p, a)) {
			best = p->len;
			v = family == 6 && p->country == GB_COUNTRY_V4_ALIAS ? GB_T6_ALIAS_BASE + p->len :
									   p->country;
		}
	}
	return v;
}

static int cmp_prefix(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/*
 * n random prefixes around a few base addresses, so that they nest, touch and overlap; lengths
 * spread over the whole range, long ones (past /64 and /112 in IPv6) included.
 */
static void random_list(struct prefix_list *l, int family, int n)
{
	int bits = family == 4 ? 32 : 128;
	struct prefix *tmp = calloc(n, sizeof(*tmp));
	__u8 bases[4][16];

	for (int b = 0; b < 4; b++)
		for (int i = 0; i < 16; i++)
			bases[b][i] = rnd();
	for (int i = 0; i < n; i++) {
		struct prefix *p = &tmp[i];
		unsigned int len = rnd() % (bits + 1);

		memcpy(p->addr, bases[rnd() % 4], 16);
		for (int k = 0; k < 3; k++) {	/* flip a few bits deep down */
			unsigned int bit = rnd() % bits;

			p->addr[bit / 8] ^= 0x80 >> (bit % 8);
		}
		p->len = len;
		p->country = 1 + rnd() % 5;
		if (family == 6 && len <= 96 && rnd() % 8 == 0)
			p->country = GB_COUNTRY_V4_ALIAS;
	}
	/* prefix_list_add keeps host bits clear; order does not matter to the compiler. */
	qsort(tmp, n, sizeof(*tmp), cmp_prefix);
	for (int i = 0; i < n; i++)
		prefix_list_add(l, family, tmp[i].addr, tmp[i].len, tmp[i].country);
	free(tmp);
}

/*
 * n random IPv4 prefixes of /17 to /32 inside two /16s, of many countries: /16s cut into hundreds
 * or thousands of ranges, as the busiest /16s of a world database are.
 */
static void dense_list(struct prefix_list *l, int n)
{
	struct prefix *tmp = calloc(n, sizeof(*tmp));
	__u32 base[2] = { (__u32)rnd() & 0xffff0000, (__u32)rnd() & 0xffff0000 };

	for (int i = 0; i < n; i++) {
		__u32 a = base[rnd() % 2] | ((__u32)rnd() & 0xffff);

		tmp[i].len = 17 + rnd() % 16;
		a &= ~0U << (32 - tmp[i].len);
		tmp[i].addr[0] = a >> 24;
		tmp[i].addr[1] = a >> 16;
		tmp[i].addr[2] = a >> 8;
		tmp[i].addr[3] = a;
		tmp[i].country = 1 + rnd() % 200;
	}
	qsort(tmp, n, sizeof(*tmp), cmp_prefix);
	for (int i = 0; i < n; i++)
		prefix_list_add(l, 4, tmp[i].addr, tmp[i].len, tmp[i].country);
	free(tmp);
}

/* Addresses at and around every prefix boundary, and random ones. */
static void probe(const struct prefix_list *l, int family, const void *tab, size_t len,
		  const char *name)
{
	int bytes = family == 4 ? 4 : 16, bad = 0, probes = 0;

	for (size_t i = 0; i < l->n * 4 + 2000; i++) {
		__u8 a[16] = {};
		__u32 want, got;

		if (i < l->n * 4) {
			const struct prefix *p = &l->v[i / 4];

			memcpy(a, p->addr, 16);
			for (int b = p->len; b < bytes * 8; b++)	/* first, last, and next */
				if (i % 4 == 1 || (i % 4 == 2 && rnd() & 1))
					a[b / 8] |= 0x80 >> (b % 8);
			if (i % 4 == 3) {
				for (int b = p->len; b < bytes * 8; b++)
					a[b / 8] |= 0x80 >> (b % 8);
				for (int k = bytes - 1; k >= 0 && ++a[k] == 0; k--)
					;
			}
		} else {
			for (int k = 0; k < bytes; k++)
				a[k] = rnd();
		}
		want = naive(l, family, a);
		got = family == 4 ? dxr_lookup(tab, len, a) : dxr6_lookup(tab, len, a);
		probes++;
		if (want != got && bad++ < 5)
			fprintf(stderr, "  %s: probe %zu: expected %u, got %u\n", name, i, want, got);
	}
	CHECK_INT(name, 0, bad);
	(void)probes;
}

/*
 * One /16 with more ranges than one group can hold (2^19), spread over its /24s: the compiler
 * must cut it into /24 groups rather than give up; and /16s whose refined /64s are dropped with
 * their /16 group must not use up the refined blocks.
 */
static void crowded_v6(void)
{
	struct prefix_list l = {};
	const int n = 600000;
	size_t len;
	void *tab;
	int err;

	for (int i = 0; i < n; i++) {
		/* 2001:MMxx:xx00::/40 by i: 256 /24s of 2,344 networks, neighbours of two countries */
		__u8 a[16] = { 0x20, 0x01, (__u8)(i % 256), (__u8)(i / 256 >> 8), (__u8)(i / 256) };

		prefix_list_add(&l, 6, a, 40, 1 + i / 256 % 2);
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_prefix);
	err = dxr_build(6, &l, NULL, &tab, &len);
	CHECK_INT("crowded_ipv6_16_cut_into_24s", 0, err);
	if (!err) {
		int bad = 0;

		/* The networks are disjoint: each one's country is known without a naive search. */
		for (int k = 0; k < 20000; k++) {
			int i = rnd() % (n + 256 * 8);	/* past n: after the last network of a /24 */
			__u8 a[16] = { 0x20, 0x01, (__u8)(i % 256), (__u8)(i / 256 >> 8),
				       (__u8)(i / 256) };
			__u32 want = i < n ? 1 + i / 256 % 2 : GB_COUNTRY_NONE;

			for (int b = 5; b < 16 && rnd() % 2; b++)
				a[b] = rnd();	/* anywhere inside the /40 */
			if (dxr6_lookup(tab, len, a) != want && bad++ < 5)
				fprintf(stderr, "  crowded: network %d: expected %u\n", i, want);
		}
		CHECK_INT("crowded_ipv6_16_answers_every_network", 0, bad);
		free(tab);
	}
	prefix_list_free(&l);
}

/*
 * More /16s of more than one range than there are sub-directories (1,024): the /16s past those
 * keep one group each, rather than the table being refused.
 */
static void many_split_v6(void)
{
	struct prefix_list l = {};
	const int n = 1500;
	size_t len;
	void *tab;
	int err, bad = 0;

	for (int i = 0; i < n; i++) {
		/* 2400::/16 onwards: one /32 of a country each, the rest of its /16 none */
		__u8 a[16] = { (__u8)(0x24 + i / 256), (__u8)(i % 256), 0xab, 0xcd };

		prefix_list_add(&l, 6, a, 32, 1 + i % 3);
	}
	err = dxr_build(6, &l, NULL, &tab, &len);
	CHECK_INT("ipv6_more_split_16s_than_subdirectories", 0, err);
	if (!err) {
		for (int k = 0; k < 20000; k++) {
			int i = rnd() % n;
			__u8 a[16] = { (__u8)(0x24 + i / 256), (__u8)(i % 256), 0xab, 0xcd };
			bool in = rnd() % 2;
			__u32 want = in ? 1 + i % 3 : GB_COUNTRY_NONE;

			for (int b = 4; b < 16; b++)
				a[b] = rnd();
			if (!in)
				a[2] ^= 1 + rnd() % 255;	/* another /32 of the /16 */
			if (dxr6_lookup(tab, len, a) != want && bad++ < 5)
				fprintf(stderr, "  many split: /16 %d: expected %u\n", i, want);
		}
		CHECK_INT("ipv6_more_split_16s_answer_every_network", 0, bad);
		free(tab);
	}
	prefix_list_free(&l);
}

/*
 * The IPv4 table is one element: 14 /16s of alternating /32s are the GB_DXR4_MAX_RANGES ranges it
 * holds, found where they are; one more /16 cut in three is refused, not written past the end.
 */
static void full_v4(void)
{
	struct prefix_list l = {};
	size_t len;
	void *tab;
	int err, bad = 0;

	for (__u32 a = 0x0a000000; a < 0x0a000000 + GB_DXR4_MAX_RANGES; a++) {
		__u8 b[4] = { a >> 24, a >> 16, a >> 8, a };

		prefix_list_add(&l, 4, b, 32, 1 + a % 2);
	}
	err = dxr_build(4, &l, NULL, &tab, &len);
	CHECK_INT("ipv4_table_holds_its_most_ranges", 0, err);
	if (!err) {
		for (int k = 0; k < 20000; k++) {
			__u32 a = 0x0a000000 + rnd() % (GB_DXR4_MAX_RANGES + 65536);
			__u8 b[4] = { a >> 24, a >> 16, a >> 8, a };
			__u32 want = a < 0x0a000000 + GB_DXR4_MAX_RANGES ? 1 + a % 2 : GB_COUNTRY_NONE;

			if (dxr_lookup(tab, len, b) != want && bad++ < 5)
				fprintf(stderr, "  full: %u.%u.%u.%u: expected %u\n", b[0], b[1], b[2],
					b[3], want);
		}
		CHECK_INT("ipv4_table_full_answers_every_range", 0, bad);
		free(tab);
	}
	prefix_list_add(&l, 4, (__u8[4]){ 10, 200, 0, 1 }, 32, 3);
	err = dxr_build(4, &l, NULL, &tab, &len);
	CHECK_INT("ipv4_table_refuses_one_range_more", -E2BIG, err);
	if (!err)
		free(tab);
	prefix_list_free(&l);
}

int main(void)
{
	const char *seed = getenv("UNIT_TABLE_SEED");

	rng = seed ? strtoull(seed, NULL, 0) : (unsigned long long)time(NULL);
	printf("unit_table: seed %llu\n", rng);
	for (int round = 0; round < 20; round++) {
		for (int family = 4; family <= 6; family += 2) {
			struct prefix_list l = {};
			char name[96];
			size_t len;
			void *tab;
			int err;

			bool dense = family == 4 && round % 2;

			if (dense)
				dense_list(&l, 1 + rnd() % 3000);
			else
				random_list(&l, family, 1 + rnd() % 300);
			snprintf(name, sizeof(name), "compiled_table_matches_naive_lpm[IPv%d%s,round %d]",
				 family, dense ? ",dense /16s" : "", round);
			err = dxr_build(family, &l, NULL, &tab, &len);
			CHECK_INT(name, 0, err);
			if (!err) {
				probe(&l, family, tab, len, name);
				free(tab);
			}
			prefix_list_free(&l);
		}
	}
	crowded_v6();
	many_split_v6();
	full_v4();
	return check_summary();
}
