// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: the prefix-list merger (user/geoip/prefix.c) and the table compiler (user/geoip/dxr.c) against a
 * naive longest-prefix match over the same networks. (Named for the multibit trie the compiler
 * once went through; the name keeps its corpus and regressions.)
 *   1. The input draws two search trees (IPv4, IPv6 with alias entries): their leaves, in address
 *      order, go through prefix_list_add. The merged list must be sorted, disjoint, fully merged,
 *      and answer every probe address as the unmerged networks do.
 *   2. dxr_build compiles the merged lists; dxr_find must answer as the naive match does, IPv6
 *      aliases sending the 32 bits after their prefix to the IPv4 list.
 *   3. The rest of the input is a list of arbitrary, overlapping networks, compiled as they are:
 *      the longest prefix wins, the later of two equal ones. A list holding a value no reader
 *      makes (a country id beyond the table, an IPv4 alias, an IPv4 /33) must be refused.
 */
#include <errno.h>
#include "geoip/dxr.h"
#include "geoip/dxr_find.h"
#include "geoip/prefix.h"
#include "fuzz.h"

#define MAX_NETS	256

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned int next(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static void set_bit(__u8 *addr, unsigned int bit, int v)
{
	if (v)
		addr[bit / 8] |= 0x80 >> (bit % 8);
	else
		addr[bit / 8] &= ~(0x80 >> (bit % 8));
}

static int get_bit(const __u8 *addr, unsigned int bit)
{
	return (addr[bit / 8] >> (7 - bit % 8)) & 1;
}

/* A country from a few bits: a handful of ids (so that siblings merge), or an IPv6 alias. */
static __u16 country_of(unsigned int v, bool v6)
{
	v %= 8;
	if (!v)
		return v6 ? GB_COUNTRY_V4_ALIAS : 1;
	return 1 + (v - 1) * 96;
}

/*
 * The leaves of a search tree, in address order: each input byte decides a node: empty, a leaf,
 * two children, or a run of up to 32 levels with one child (so that long prefixes cost little).
 */
static void draw_tree(struct input *in, unsigned int bits, __u8 *addr, unsigned int depth,
		      struct prefix *out, size_t *n)
{
	unsigned int b = next(in), run;

	if (*n >= MAX_NETS || !b)
		return;
	switch (b & 3) {
	case 1:
		memset(&out[*n], 0, sizeof(out[*n]));
		memcpy(out[*n].addr, addr, 16);
		out[*n].len = depth;
		out[*n].country = country_of(b >> 2, bits == 128);
		(*n)++;
		return;
	case 2:
		if (depth == bits)
			return;
		for (int side = 0; side < 2; side++) {
			set_bit(addr, depth, side);
			draw_tree(in, bits, addr, depth + 1, out, n);
		}
		set_bit(addr, depth, 0);
		return;
	case 3:
		run = 1 + (b >> 2) % 32;
		if (run > bits - depth)
			return;
		for (unsigned int i = 0; i < run; i++)
			set_bit(addr, depth + i, next(in) & 1);
		draw_tree(in, bits, addr, depth + run, out, n);
		for (unsigned int i = 0; i < run; i++)
			set_bit(addr, depth + i, 0);
		return;
	default:
		return;
	}
}

static bool contains(const struct prefix *p, const __u8 *addr)
{
	unsigned int full = p->len / 8, rest = p->len % 8;

	if (memcmp(p->addr, addr, full))
		return false;
	return !rest || !((p->addr[full] ^ addr[full]) & (0xff00 >> rest));
}

/* The longest prefix of v[0..n) holding addr, the later of equal ones; NULL if none. */
static const struct prefix *naive(const struct prefix *v, size_t n, const __u8 *addr)
{
	const struct prefix *best = NULL;

	for (size_t i = 0; i < n; i++)
		if (contains(&v[i], addr) && (!best || v[i].len >= best->len))
			best = &v[i];
	return best;
}

/* The country the data path should find for addr, by the naive match. */
static __u16 expect(const struct prefix *v4, size_t n4, const struct prefix *v6, size_t n6,
		    int family, const __u8 *addr)
{
	const struct prefix *p;
	__u8 a4[4];

	if (family == 6) {
		p = naive(v6, n6, addr);
		if (!p)
			return GB_COUNTRY_NONE;
		if (p->country != GB_COUNTRY_V4_ALIAS)
			return p->country;
		if (p->len > 96)
			return GB_COUNTRY_NONE;	/* no 32 bits after it: no IPv4 address */
		for (unsigned int b = 0; b < 32; b++)
			set_bit(a4, b, get_bit(addr, p->len + b));
		addr = a4;
	}
	p = naive(v4, n4, addr);
	return p ? p->country : GB_COUNTRY_NONE;
}

/* Probe addresses around a network: its first and last address, and one step outside each. */
static size_t probes_of(const struct prefix *p, unsigned int bits, struct input *in,
			__u8 out[5][16])
{
	memcpy(out[0], p->addr, 16);
	memcpy(out[1], p->addr, 16);
	for (unsigned int b = p->len; b < bits; b++)
		set_bit(out[1], b, 1);
	memcpy(out[2], p->addr, 16);
	for (unsigned int b = p->len; b < bits; b++)
		set_bit(out[2], b, next(in) & 1);
	memcpy(out[3], out[0], 16);
	memcpy(out[4], out[1], 16);
	/* minus one and plus one, as bits-wide numbers (wrapping at the ends of the space) */
	for (int b = bits - 1; b >= 0; b--) {
		set_bit(out[3], b, !get_bit(out[3], b));
		if (!get_bit(out[3], b))
			break;
	}
	for (int b = bits - 1; b >= 0; b--) {
		set_bit(out[4], b, !get_bit(out[4], b));
		if (get_bit(out[4], b))
			break;
	}
	return 5;
}

static void show(char *out, size_t len, int family, const __u8 *addr)
{
	size_t pos = 0;

	for (int i = 0; i < (family == 4 ? 4 : 16) && pos < len; i++)
		pos += snprintf(out + pos, len - pos, "%02x", addr[i]);
}

/*
 * Every probe of every network of both lists: the tables of view answer as the naive match, or,
 * compiled for the countries in keep, GB_COUNTRY_OTHER for any other country.
 */
static void check_probes(const struct dxr_view *view, const struct prefix *v4, size_t n4,
			 const struct prefix *v6, size_t n6, struct input *in, const char *what,
			 const __u64 *keep)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		const struct prefix *v = fam == 4 ? v4 : v6;
		size_t n = fam == 4 ? n4 : n6;

		for (size_t i = 0; i < n; i++) {
			__u8 probe[5][16] = {}, v4addr[4];
			size_t np = probes_of(&v[i], fam == 4 ? 32 : 128, in, probe);

			for (size_t k = 0; k < np; k++) {
				__u16 want = expect(v4, n4, v6, n6, fam, probe[k]);
				int answer_family;
				__u32 got = dxr_find(view, fam, probe[k], &answer_family, v4addr);
				char a[40];

				if (keep && want != GB_COUNTRY_NONE &&
				    !(keep[want / 64] >> (want % 64) & 1))
					want = GB_COUNTRY_OTHER;
				show(a, sizeof(a), fam, probe[k]);
				FUZZ_ASSERT(got == want, "%s: IPv%d %s: table%s says %u, naive match %u",
					    what, fam, a, keep ? " for half the countries" : "", got,
					    want);
			}
		}
	}
}

/* The lists as the kernel's network lists hold them (struct prefix_v4_elem / _v6_elem, 8-aligned). */
static void *as_elems(const struct prefix *v, size_t n, int family)
{
	size_t size = family == 4 ? sizeof(struct prefix_v4_elem) : sizeof(struct prefix_v6_elem);
	size_t stride = (size + 7) & ~(size_t)7, alen = family == 4 ? 4 : 16;
	__u8 *e = calloc(n ? n : 1, stride);

	FUZZ_ASSERT(e, "out of memory");
	for (size_t i = 0; i < n; i++) {
		memcpy(e + i * stride, v[i].addr, alen);
		e[i * stride + alen] = v[i].len;
		memcpy(e + i * stride + alen + 2, &v[i].country, 2);
	}
	return e;
}

/*
 * Tables compiled from the network lists for half the countries (dxr_build_networks, as for the
 * live meetings): the naive match's country where kept, GB_COUNTRY_OTHER for any other country,
 * no country where there is none.
 */
static void check_kept(const struct prefix *v4, size_t n4, const struct prefix *v6, size_t n6,
		       struct input *in, const char *what)
{
	__u64 keep[GB_COUNTRY_WORDS] = {};
	void *e4 = as_elems(v4, n4, 4), *e6 = as_elems(v6, n6, 6), *t4 = NULL, *t6 = NULL;
	struct dxr_view view = {};
	size_t len4 = 0, len6 = 0;
	int err4, err6;

	for (__u32 id = 1; id < GB_COUNTRY_COUNT; id++)
		if ((id * 2654435761U) >> 7 & 1)
			keep[id / 64] |= 1ULL << (id % 64);
	err4 = n4 ? dxr_build_networks(4, e4, n4, keep, NULL, &t4, &len4) : 0;
	err6 = dxr_build_networks(6, e6, n6, keep, NULL, &t6, &len6);
	FUZZ_ASSERT(!err4 && !err6, "%s: dxr_build_networks: %d, %d", what, err4, err6);
	view = (struct dxr_view){ { t4, t6 }, { len4, len6 } };
	check_probes(&view, v4, n4, v6, n6, in, what, keep);
	free(e4);
	free(e6);
	free(t4);
	free(t6);
}

/* The compiled tables answer every probe of every network of both lists as the naive match. */
static void check_tables(const struct prefix *v4, size_t n4, const struct prefix *v6, size_t n6,
			 struct input *in, const char *what, bool valid)
{
	struct prefix_list l4 = { .v = (struct prefix *)v4, .n = n4 };
	struct prefix_list l6 = { .v = (struct prefix *)v6, .n = n6 };
	struct dxr_view view = {};
	void *t4 = NULL, *t6 = NULL;
	size_t len4 = 0, len6 = 0;
	int err4, err6;

	err4 = n4 ? dxr_build(4, &l4, NULL, &t4, &len4) : 0;
	err6 = dxr_build(6, &l6, NULL, &t6, &len6);
	if (!valid) {
		FUZZ_ASSERT(err4 == -EINVAL || err6 == -EINVAL,
			    "%s: a list with an invalid network compiled (%d, %d)", what, err4, err6);
		free(t4);
		free(t6);
		return;
	}
	FUZZ_ASSERT(!err4, "%s: dxr_build(4) of %zu networks: %d", what, n4, err4);
	FUZZ_ASSERT(!err6, "%s: dxr_build(6) of %zu networks: %d", what, n6, err6);
	view.e[0] = t4;
	view.n[0] = len4;
	view.e[1] = t6;
	view.n[1] = len6;

	check_probes(&view, v4, n4, v6, n6, in, what, NULL);
	free(t4);
	free(t6);
	check_kept(v4, n4, v6, n6, in, what);
}

/* p and q are the two halves of one network, of one country: the merger should have joined them. */
static bool mergeable(const struct prefix *p, const struct prefix *q)
{
	struct prefix parent = *p;

	if (p->len != q->len || !p->len || p->country != q->country ||
	    p->country == GB_COUNTRY_V4_ALIAS || get_bit(p->addr, p->len - 1))
		return false;
	parent.len--;
	return contains(&parent, q->addr);
}

/* The merged list: sorted, disjoint, host bits clear, no two mergeable neighbours left. */
static void check_merged(const struct prefix_list *l, const struct prefix *raw, size_t nraw,
			 unsigned int bits, struct input *in)
{
	FUZZ_ASSERT(l->added == nraw, "%zu added, %zu counted", nraw, l->added);
	for (size_t i = 0; i < l->n; i++) {
		const struct prefix *p = &l->v[i], *q = &l->v[i + 1];

		for (unsigned int b = p->len; b < 128; b++)
			FUZZ_ASSERT(!get_bit(p->addr, b), "entry %zu has host bit %u", i, b);
		if (i + 1 == l->n)
			break;
		FUZZ_ASSERT(memcmp(p->addr, q->addr, 16) < 0 && !contains(p, q->addr),
			    "entries %zu and %zu out of order or overlapping", i, i + 1);
		FUZZ_ASSERT(!mergeable(p, q), "entries %zu and %zu are siblings of one country, "
			    "not merged", i, i + 1);
	}
	/* The same answers as the networks it was given. */
	for (size_t i = 0; i < nraw; i++) {
		__u8 probe[5][16] = {};
		size_t np = probes_of(&raw[i], bits, in, probe);

		for (size_t k = 0; k < np; k++) {
			const struct prefix *a = naive(raw, nraw, probe[k]);
			const struct prefix *b = naive(l->v, l->n, probe[k]);

			FUZZ_ASSERT((a ? a->country : 0) == (b ? b->country : 0),
				    "merging changed the country of a probe of network %zu", i);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct prefix raw[2][MAX_NETS], any[2][MAX_NETS];
	struct input in = { data, size };
	struct prefix_list l[2] = {};
	size_t nraw[2] = {}, nany[2] = {}, short6 = 0;
	__u8 addr[16] = {};
	bool v4, valid = true;

	/*
	 * A quarter of the inputs have IPv4 networks: the IPv4 table's directory and first range
	 * element are 8 MiB, which the sanitizers allocate and clear for each such input.
	 */
	v4 = next(&in) % 4 == 0;
	for (int f = !v4; f < 2; f++) {
		/*
		 * The IPv4 tree hangs below one /8 from the input: the compiled table writes 2^(24 - len)
		 * root entries for a network of len <= 24 bits, and shorter networks would cost each
		 * input seconds without reaching other code.
		 */
		unsigned int top = f ? 0 : 8;

		memset(addr, 0, sizeof(addr));
		addr[0] = f ? 0 : next(&in);
		draw_tree(&in, f ? 128 : 32, addr, top, raw[f], &nraw[f]);
		for (size_t i = 0; i < nraw[f]; i++) {
			int err = prefix_list_add(&l[f], f ? 6 : 4, raw[f][i].addr,
						  raw[f][i].len, raw[f][i].country);

			FUZZ_ASSERT(!err, "prefix_list_add: %d", err);
		}
		check_merged(&l[f], raw[f], nraw[f], f ? 128 : 32, &in);
	}
	check_tables(l[0].v, l[0].n, l[1].v, l[1].n, &in, "merged lists", true);

	/*
	 * Arbitrary networks, overlapping, in any order: 20 bytes each. IPv4 networks of /8 or longer
	 * and one IPv6 network shorter than /8 (see above: each fills up to a whole root block).
	 */
	while (in.n >= 20 && nany[0] + nany[1] < MAX_NETS) {
		int f = (next(&in) & 1) || !v4;
		struct prefix *p = &any[f][nany[f]++];
		unsigned int b = next(&in);

		memset(p, 0, sizeof(*p));
		p->len = f ? next(&in) % 129 : 8 + next(&in) % 25;
		if (f && p->len < 8 && short6++)
			p->len += 8;
		p->country = country_of(b, f);
		/* Now and then a value no reader makes: dxr_build must refuse the list, not use it. */
		if ((b & 0xf8) == 0xf8) {
			p->country = b & 1 ? GB_COUNTRY_COUNT + (b >> 1) % 4 : GB_COUNTRY_V4_ALIAS;
			if (b & 2 && !f)
				p->len = 33 + b % 8;
			valid &= p->len <= (f ? 128 : 32) && (p->country < GB_COUNTRY_COUNT ||
							      (f && p->country == GB_COUNTRY_V4_ALIAS));
		}
		for (int i = 0; i < (f ? 16 : 4); i++)
			p->addr[i] = next(&in);
		for (unsigned int bit = p->len; bit < 128; bit++)
			set_bit(p->addr, bit, 0);
		if (f == 0)
			for (int i = 0; i < 12; i++)
				next(&in);
	}
	if (nany[0] + nany[1])
		check_tables(any[0], nany[0], any[1], nany[1], &in, "overlapping lists", valid);
	prefix_list_free(&l[0]);
	prefix_list_free(&l[1]);
	return 0;
}
