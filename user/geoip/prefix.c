// SPDX-License-Identifier: GPL-2.0
/*
 * Country-tagged prefix lists: filled in address order (networks, or ranges split into networks),
 * merged into parents as siblings complete, and combined from several sources into one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "geoip/prefix.h"

static int bit_at(const __u8 *addr, unsigned int bit)
{
	return (addr[bit / 8] >> (7 - bit % 8)) & 1;
}

/* a and b are the two halves of one parent prefix, in that order, with the same country. */
static bool siblings(const struct prefix *a, const struct prefix *b)
{
	unsigned int bit = a->len - 1;
	__u8 mask;

	if (a->len != b->len || a->len == 0 || a->country != b->country ||
	    a->country == GB_COUNTRY_V4_ALIAS)
		return false;
	if (bit_at(a->addr, bit) != 0 || bit_at(b->addr, bit) != 1)
		return false;
	if (memcmp(a->addr, b->addr, bit / 8))
		return false;
	mask = (__u8)(0xff00 >> (bit % 8));
	return (a->addr[bit / 8] & mask) == (b->addr[bit / 8] & mask);
}

size_t prefix_list_max(int family)
{
	return family == 4 ? GB_V4_PREFIXES_MAX : GB_V6_PREFIXES_MAX;
}

/*
 * Adds a network; callers add in address order without overlaps (as a search-tree walk yields
 * them), so merging the last two entries while they are siblings gives the aggregated list.
 * The list holds at most prefix_list_max(family) networks after merging: a small crafted input
 * (ranges that each split into a hundred networks) could otherwise ask for any amount of memory.
 */
int prefix_list_add(struct prefix_list *l, int family, const __u8 *addr, unsigned int len,
		    __u16 country)
{
	size_t max = prefix_list_max(family);
	struct prefix p = { .len = len, .country = country };

	if (len > 128)
		return -EINVAL;
	memcpy(p.addr, addr, (len + 7) / 8);
	if (len % 8)
		p.addr[len / 8] &= (__u8)(0xff00 >> (len % 8));

	if (l->n && siblings(&l->v[l->n - 1], &p)) {
		/* p completes the parent of the last network: it takes no slot of its own. */
		l->v[l->n - 1].len--;
	} else {
		if (l->n >= max)
			return -E2BIG;
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 4096;
			struct prefix *v;

			if (cap > max)
				cap = max;
			v = realloc(l->v, cap * sizeof(*v));
			if (!v)
				return -ENOMEM;
			l->v = v;
			l->cap = cap;
		}
		l->v[l->n++] = p;
	}
	l->added++;

	while (l->n >= 2 && siblings(&l->v[l->n - 2], &l->v[l->n - 1])) {
		l->n--;
		l->v[l->n - 1].len--;
	}
	return 0;
}

void prefix_list_free(struct prefix_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

typedef unsigned __int128 u128;

static u128 addr_value(const __u8 *addr, unsigned int bytes)
{
	u128 v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v = v << 8 | addr[i];
	return v;
}

static void addr_bytes(u128 v, unsigned int bytes, __u8 *addr)
{
	for (unsigned int i = bytes; i-- > 0; v >>= 8)
		addr[i] = (__u8)v;
}

static unsigned int trailing_zeros(u128 v, unsigned int bits)
{
	__u64 lo = (__u64)v, hi = (__u64)(v >> 64);

	if (lo)
		return __builtin_ctzll(lo);
	if (hi)
		return 64 + __builtin_ctzll(hi);
	return bits;
}

/*
 * Adds the inclusive range [start, end] as its minimal cover of networks, in address order: at
 * each start the largest aligned block that does not pass end.
 */
int prefix_list_add_range(struct prefix_list *l, int family, const __u8 *start, const __u8 *end,
			  __u16 country)
{
	unsigned int bytes = family == 4 ? 4 : 16, bits = bytes * 8;
	u128 s = addr_value(start, bytes), e = addr_value(end, bytes);
	__u8 addr[16] = {};
	int err;

	if (s > e)
		return -EINVAL;
	for (;;) {
		unsigned int k = trailing_zeros(s, bits);
		u128 span;	/* block size - 1 */

		if (k > bits)
			k = bits;
		for (;; k--) {
			span = k == 128 ? ~(u128)0 : ((u128)1 << k) - 1;
			if (e - s >= span)
				break;
		}
		addr_bytes(s, bytes, addr);
		err = prefix_list_add(l, family, addr, bits - k, country);
		if (err)
			return err;
		if (e - s == span)
			return 0;
		s += span + 1;
	}
}

/* By address, then the shorter prefix first: a network comes before the networks inside it. */
static int prefix_cmp(const struct prefix *a, const struct prefix *b)
{
	int c = memcmp(a->addr, b->addr, sizeof(a->addr));

	return c ? c : (int)a->len - (int)b->len;
}

static bool prefix_contains(const struct prefix *outer, const struct prefix *inner)
{
	unsigned int full = outer->len / 8, rest = outer->len % 8;

	if (outer->len > inner->len || memcmp(outer->addr, inner->addr, full))
		return false;
	return !rest || !((outer->addr[full] ^ inner->addr[full]) & (__u8)(0xff00 >> rest));
}

/*
 * Merges n lists, each in address order with disjoint networks (as the readers make them), into
 * out, in address order and merged as prefix_list_add merges. A network inside a network of
 * another list is dropped when both name the same country (the union is the same) and refused
 * otherwise, with *c saying which two collided; an IPv4-alias range only matches itself.
 */
int prefix_list_union(struct prefix_list *out, int family, const struct prefix_list *in, size_t n,
		      struct prefix_conflict *c)
{
	size_t *pos = calloc(n ? n : 1, sizeof(*pos));
	struct prefix cur;
	size_t cur_list = SIZE_MAX;
	int err = 0;

	if (!pos)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	for (;;) {
		const struct prefix *p = NULL;
		size_t from = 0;

		for (size_t i = 0; i < n; i++) {
			if (pos[i] < in[i].n && (!p || prefix_cmp(&in[i].v[pos[i]], p) < 0)) {
				p = &in[i].v[pos[i]];
				from = i;
			}
		}
		if (!p)
			break;
		pos[from]++;
		/* Networks added so far are disjoint: only the last one can hold p. */
		if (cur_list != SIZE_MAX && prefix_contains(&cur, p)) {
			if (cur.country == p->country &&
			    (cur.country != GB_COUNTRY_V4_ALIAS || cur.len == p->len))
				continue;
			if (c)
				*c = (struct prefix_conflict){ cur_list, from, cur, *p };
			err = -EEXIST;
			break;
		}
		err = prefix_list_add(out, family, p->addr, p->len, p->country);
		if (err)
			break;
		cur = *p;
		cur_list = from;
	}
	free(pos);
	if (err) {
		prefix_list_free(out);
		return err;
	}
	out->added = 0;
	for (size_t i = 0; i < n; i++)
		out->added += in[i].added;
	return 0;
}

void geoip_table_free(struct geoip_table *t)
{
	prefix_list_free(&t->v4);
	prefix_list_free(&t->v6);
}
