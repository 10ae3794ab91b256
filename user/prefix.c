// SPDX-License-Identifier: GPL-2.0
/* Country-tagged prefix lists, filled in address order and merged into parents as siblings complete. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"

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

/*
 * Adds a network; callers add in address order without overlaps (as a search-tree walk yields
 * them), so merging the last two entries while they are siblings gives the aggregated list.
 */
int prefix_list_add(struct prefix_list *l, const __u8 *addr, unsigned int len, __u16 country)
{
	struct prefix *p;

	if (len > 128)
		return -EINVAL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4096;
		struct prefix *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	p = &l->v[l->n++];
	memset(p, 0, sizeof(*p));
	memcpy(p->addr, addr, (len + 7) / 8);
	if (len % 8)
		p->addr[len / 8] &= (__u8)(0xff00 >> (len % 8));
	p->len = len;
	p->country = country;
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
