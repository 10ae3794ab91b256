// SPDX-License-Identifier: GPL-2.0
/*
 * Compiles a prefix list into the multibit trie of the fast path (see "compiled lookup tables" in
 * bpf/geoblock.h), and looks addresses up in a compiled trie the way the XDP program does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "mbt.h"

static __u32 get(const struct mbt *m, size_t i)
{
	return m->entry_size == 2 ? ((const __u16 *)m->e)[i] : ((const __u32 *)m->e)[i];
}

static void set(struct mbt *m, size_t i, __u32 v)
{
	if (m->entry_size == 2)
		((__u16 *)m->e)[i] = v;
	else
		((__u32 *)m->e)[i] = v;
}

static size_t root_entries(const struct mbt *m)
{
	return (size_t)1 << m->first_bits;
}

size_t mbt_entries(const struct mbt *m)
{
	return root_entries(m) + m->chunks * GB_CHUNK_ENTRIES;
}

/* A new chunk whose entries all answer v (the leaf it replaces: leaves are pushed down). */
static int new_chunk(struct mbt *m, __u32 v, __u32 *chunk)
{
	size_t base;

	if (m->chunks == m->max_chunks)
		return -E2BIG;
	if (mbt_entries(m) + GB_CHUNK_ENTRIES > m->cap) {
		size_t cap = m->cap * 3 / 2 + GB_CHUNK_ENTRIES * 64;
		void *e = realloc(m->e, cap * m->entry_size);

		if (!e)
			return -ENOMEM;
		m->e = e;
		m->cap = cap;
	}
	base = mbt_entries(m);
	for (size_t i = 0; i < GB_CHUNK_ENTRIES; i++)
		set(m, base + i, v);
	*chunk = m->chunks++;
	return 0;
}

/* Sets entry i to v; a chunk below it gets v everywhere, as prefixes come shortest first. */
static void fill(struct mbt *m, size_t i, __u32 v)
{
	__u32 e = get(m, i);

	if (e < m->chunk_base) {
		set(m, i, v);
		return;
	}
	for (size_t j = 0; j < GB_CHUNK_ENTRIES; j++)
		fill(m, root_entries(m) + (size_t)(e - m->chunk_base) * GB_CHUNK_ENTRIES + j, v);
}

/* Bits [from, from + n) of a big-endian address, n <= 24. */
static __u32 bits(const __u8 *addr, unsigned int from, unsigned int n)
{
	__u32 v = 0;

	for (unsigned int b = from; b < from + n; b++)
		v = (v << 1) | ((addr[b / 8] >> (7 - b % 8)) & 1);
	return v;
}

static int insert(struct mbt *m, const __u8 *addr, unsigned int len, __u32 v)
{
	unsigned int consumed = 0, width = m->first_bits;
	size_t base = 0;
	int err;

	for (;;) {
		__u32 idx = bits(addr, consumed, width), e, chunk;

		if (len <= consumed + width) {
			size_t span = (size_t)1 << (consumed + width - len);

			idx &= ~(__u32)(span - 1);
			for (size_t i = 0; i < span; i++)
				fill(m, base + idx + i, v);
			return 0;
		}
		e = get(m, base + idx);
		if (e >= m->chunk_base) {
			chunk = e - m->chunk_base;
		} else {
			err = new_chunk(m, e, &chunk);
			if (err)
				return err;
			set(m, base + idx, m->chunk_base + chunk);
		}
		base = root_entries(m) + (size_t)chunk * GB_CHUNK_ENTRIES;
		consumed += width;
		width = 8;
	}
}

static __u32 leaf_value(int family, const struct prefix *p)
{
	/* An alias longer than /96 cannot carry an IPv4 address: no answer, as in the LPM. */
	if (family == 6 && p->country == GB_COUNTRY_V4_ALIAS)
		return p->len <= 96 ? GB_T6_ALIAS_BASE + p->len : GB_COUNTRY_NONE;
	return p->country;
}

/* A value the table cannot hold would read as a chunk number, a length beyond it as bits: refuse. */
static bool storable(int family, const struct prefix *p)
{
	if (p->len > (family == 4 ? 32 : 128))
		return false;
	return p->country < GB_COUNTRY_COUNT || (family == 6 && p->country == GB_COUNTRY_V4_ALIAS);
}

int mbt_build(int family, const struct prefix_list *l, struct mbt *m)
{
	size_t count[129] = {}, start[130] = {}, *order;
	int err = 0;

	memset(m, 0, sizeof(*m));
	m->family = family;
	m->entry_size = family == 4 ? 2 : 4;
	m->first_bits = family == 4 ? GB_T4_FIRST_BITS : GB_T6_FIRST_BITS;
	m->chunk_base = family == 4 ? GB_T4_CHUNK_BASE : GB_T6_CHUNK_BASE;
	m->max_chunks = family == 4 ? GB_T4_MAX_CHUNKS : GB_T6_MAX_CHUNKS;
	m->cap = root_entries(m);
	m->e = calloc(m->cap, m->entry_size);
	order = malloc((l->n + 1) * sizeof(*order));
	if (!m->e || !order) {
		err = -ENOMEM;
		goto out;
	}
	/* Shortest prefixes first, so that longer ones overwrite them: longest-prefix-match. */
	for (size_t i = 0; i < l->n; i++) {
		if (!storable(family, &l->v[i])) {
			err = -EINVAL;
			goto out;
		}
		count[l->v[i].len]++;
	}
	for (int len = 0; len <= 128; len++)
		start[len + 1] = start[len] + count[len];
	for (size_t i = 0; i < l->n; i++)
		order[start[l->v[i].len]++] = i;
	for (size_t i = 0; i < l->n && !err; i++) {
		const struct prefix *p = &l->v[order[i]];

		err = insert(m, p->addr, p->len, leaf_value(family, p));
	}
out:
	free(order);
	if (err)
		mbt_free(m);
	return err;
}

void mbt_free(struct mbt *m)
{
	free(m->e);
	m->e = NULL;
	m->chunks = m->cap = 0;
}

void alias_v4_addr(const __u8 *addr6, unsigned int len, __u8 out[4])
{
	memset(out, 0, 4);
	for (unsigned int b = 0; b < 32; b++) {
		unsigned int bit = len + b;

		if (addr6[bit / 8] & (0x80 >> (bit % 8)))
			out[b / 8] |= 0x80 >> (b % 8);
	}
}

__u32 mbt_lookup(const struct mbt_view *t, int family, const __u8 *addr, int *answer_family,
		 __u8 v4addr[4])
{
	__u32 e;

	*answer_family = family;
	if (family == 6) {
		if (!t->e[1])
			return GB_COUNTRY_NONE;
		e = dxr6_lookup(t->e[1], t->n[1], addr);
		if (e < GB_T6_ALIAS_BASE || e > GB_T6_ALIAS_BASE + 96)
			return e < GB_COUNTRY_COUNT ? e : GB_COUNTRY_NONE;
		/* An alias: the IPv4 address that follows the alias prefix decides. */
		alias_v4_addr(addr, e - GB_T6_ALIAS_BASE, v4addr);
		*answer_family = 4;
	} else {
		memcpy(v4addr, addr, 4);
	}
	if (!t->e[0])
		return GB_COUNTRY_NONE;
	return dxr_lookup(t->e[0], t->n[0], v4addr);
}
