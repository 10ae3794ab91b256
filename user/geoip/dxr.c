// SPDX-License-Identifier: GPL-2.0
/*
 * Compiles prefix lists into the kernel's range tables (see "compiled lookup tables" in
 * bpf/geoblock.h): one sweep over the sorted prefixes cuts the address space into intervals of one
 * value, longest prefix first; the intervals are then laid out as the kernel reads them (IPv4: a
 * directory of /16s and sorted ranges; IPv6: a directory, /24 sub-directories and refined /64 and
 * /112 blocks). dxr_find.c looks addresses up in them.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "geoip/dxr.h"
#include "geoip/prefix.h"

typedef dxr_u128 u128;

/*
 * The address space as intervals: interval i runs from its start to the next one's start - 1.
 * IPv4 starts are kept in 32 bits: on a VM, every page written first costs tens of microseconds.
 */
struct intervals {
	u128 *start;		/* IPv6 */
	__u32 *start4;		/* IPv4 */
	__u16 *value;
	size_t n;
};

struct dxr6 {
	const struct intervals *iv;
	__u64 *elem0;			/* directory, sub-directories, refined blocks */
	__u64 *ranges;			/* the range space; NULL while only sizing the table */
	size_t used, high;		/* ranges used, and the most ever written */
	__u32 subdirs, refines;
};

/* keep: the countries the table tells apart (NULL: all); the others' ranges are merged. */
static __u16 leaf_value(int family, const struct prefix *p, const __u64 *keep)
{
	/* An alias longer than /96 cannot carry an IPv4 address: no answer, as in the LPM. */
	if (family == 6 && p->country == GB_COUNTRY_V4_ALIAS)
		return p->len <= 96 ? GB_T6_ALIAS_BASE + p->len : GB_COUNTRY_NONE;
	if (keep && p->country != GB_COUNTRY_NONE && !(keep[p->country / 64] >> (p->country % 64) & 1))
		return GB_COUNTRY_OTHER;
	return p->country;
}

/* A value the table cannot hold would read as a refined block or an alias, a length as bits. */
static bool storable(int family, const struct prefix *p)
{
	if (p->len > (family == 4 ? 32 : 128))
		return false;
	return p->country < GB_COUNTRY_COUNT || (family == 6 && p->country == GB_COUNTRY_V4_ALIAS);
}

/* The host bits of a prefix of len bits in a space whose last address is max. */
static u128 host_mask(u128 max, unsigned int len)
{
	return len >= 128 ? 0 : max >> len;
}

/* The first address of p, host bits cleared. */
static u128 first_addr(int family, const struct prefix *p, u128 max)
{
	u128 a;

	if (family == 4) {
		__u32 v;

		memcpy(&v, p->addr, 4);
		a = be32toh(v);
	} else {
		__u64 hi, lo;

		memcpy(&hi, p->addr, 8);
		memcpy(&lo, p->addr + 8, 8);
		a = (u128)be64toh(hi) << 64 | be64toh(lo);
	}
	return a & ~host_mask(max, p->len);
}

/* From start on the value is v: replaces an interval that started there, joins an equal one. */
static void iv_set(struct intervals *iv, u128 start, __u16 v)
{
	if (iv->n && (iv->start4 ? iv->start4[iv->n - 1] : iv->start[iv->n - 1]) == start)
		iv->n--;
	if (iv->n && iv->value[iv->n - 1] == v)
		return;
	if (iv->start4)
		iv->start4[iv->n] = start;
	else
		iv->start[iv->n] = start;
	iv->value[iv->n++] = v;
}

static void iv_free(struct intervals *iv)
{
	free(iv->start);
	free(iv->start4);
	free(iv->value);
	memset(iv, 0, sizeof(*iv));
}

/* Prefixes by first address, then the shorter first, then in list order. */
struct sorted {
	u128 first;
	__u32 index;
	__u8 len;
};

static int sorted_cmp(const void *a, const void *b)
{
	const struct sorted *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * The networks compiled: a prefix list, or a network list as the kernel holds it (elements laid
 * out as struct prefix_v4_elem or prefix_v6_elem, each 8-byte aligned), read where it is.
 */
struct input {
	const struct prefix *v;
	const __u8 *elems;
	size_t n, stride, alen;
};

static void input_get(const struct input *in, size_t i, struct prefix *p)
{
	const __u8 *e;

	if (in->v) {
		*p = in->v[i];
		return;
	}
	e = in->elems + i * in->stride;
	memcpy(p->addr, e, in->alen);
	p->len = e[in->alen];
	memcpy(&p->country, e + in->alen + 2, 2);
}

/*
 * The intervals of a list of networks. Prefixes are taken by first address, shorter first; a
 * stack holds the prefixes around the current one, so that where one ends the one around it
 * resumes. The readers' lists are in that order already; others (tests, overlapping lists) are
 * sorted.
 */
static int sweep(int family, const struct input *l, const __u64 *keep, struct intervals *iv)
{
	struct open {
		u128 last;
		__u8 len;
		__u16 value;
	} stack[130];
	u128 max = family == 4 ? 0xffffffffU : ~(u128)0, prev = 0;
	struct sorted *order = NULL;
	unsigned int depth = 0, prev_len = 0;
	bool in_order = true;
	int err = 0;

	for (size_t i = 0; i < l->n; i++) {
		struct prefix p = {};
		u128 a;

		input_get(l, i, &p);
		if (!storable(family, &p))
			return -EINVAL;
		a = first_addr(family, &p, max);
		if (i && (a < prev || (a == prev && p.len < prev_len)))
			in_order = false;
		prev = a;
		prev_len = p.len;
	}
	if (l->n >= UINT32_MAX / 2)
		return -E2BIG;
	if (!in_order) {
		order = malloc(l->n * sizeof(*order));
		if (!order)
			return -ENOMEM;
		for (size_t i = 0; i < l->n; i++) {
			struct prefix p = {};

			input_get(l, i, &p);
			order[i] = (struct sorted){ first_addr(family, &p, max), i, p.len };
		}
		qsort(order, l->n, sizeof(*order), sorted_cmp);
	}
	/* Every prefix starts at most one interval and ends at most one. */
	memset(iv, 0, sizeof(*iv));
	if (family == 4)
		iv->start4 = malloc((2 * l->n + 1) * sizeof(*iv->start4));
	else
		iv->start = malloc((2 * l->n + 1) * sizeof(*iv->start));
	iv->value = malloc((2 * l->n + 1) * sizeof(*iv->value));
	if (!(iv->start || iv->start4) || !iv->value) {
		err = -ENOMEM;
		goto out;
	}
	iv_set(iv, 0, GB_COUNTRY_NONE);
	for (size_t i = 0; i < l->n; i++) {
		struct prefix q = {}, *p = &q;
		u128 first;
		__u16 v;

		input_get(l, order ? order[i].index : i, p);
		first = order ? order[i].first : first_addr(family, p, max);
		v = leaf_value(family, p, keep);

		while (depth && stack[depth - 1].last < first) {
			u128 next = stack[--depth].last + 1;

			iv_set(iv, next, depth ? stack[depth - 1].value : GB_COUNTRY_NONE);
		}
		if (depth && stack[depth - 1].len == p->len) {
			stack[depth - 1].value = v;	/* the same prefix again: the later wins */
		} else {
			/* Nested prefixes are strictly longer: at most one per length is open. */
			stack[depth++] = (struct open){ first | host_mask(max, p->len), p->len, v };
		}
		iv_set(iv, first, v);
	}
	while (depth) {
		u128 last = stack[--depth].last;

		if (last != max)
			iv_set(iv, last + 1, depth ? stack[depth - 1].value : GB_COUNTRY_NONE);
	}
out:
	free(order);
	if (err)
		iv_free(iv);
	return err;
}

static void *sink_alloc(const struct dxr_sink *sink, size_t len)
{
	return sink ? sink->alloc(len, sink->arg) : calloc(1, len);
}

/*
 * The IPv4 table: each /16 is one value (a directory leaf) or the intervals that cut it, written in
 * one pass into the table's one element, where it will stay (bpf/table_layout.h).
 */
static int build4(const struct intervals *iv, const struct dxr_sink *sink, void **out, size_t *len)
{
	__u8 *t = sink_alloc(sink, GB_DXR_ELEM_BYTES);
	__u64 *dir = (__u64 *)t;
	__u32 *ranges = (__u32 *)t + GB_DXR4_RANGES_OFF;
	size_t used = 0, k = 0;

	if (!t)
		return -ENOMEM;
	for (__u32 hi = 0; hi < 65536; hi++) {
		__u32 lo = hi << 16, end = lo | 0xffff;
		size_t j, n;
		__u32 *r;

		while (k + 1 < iv->n && iv->start4[k + 1] <= lo)
			k++;
		for (j = k + 1; j < iv->n && iv->start4[j] <= end; j++)
			;
		n = j - k;
		if (n == 1) {
			dir[hi] = GB_DXR_LEAF | iv->value[k];
			continue;
		}
		if (used + n > GB_DXR4_MAX_RANGES) {
			if (!sink)
				free(t);	/* a sink's map is its owner's to drop */
			return -E2BIG;
		}
		dir[hi] = (__u64)used << 32 | n;
		r = ranges + used;
		r[0] = iv->value[k];	/* the first range starts at the /16 */
		for (size_t i = 1; i < n; i++)
			r[i] = (iv->start4[k + i] & 0xffff) << 16 | iv->value[k + i];
		used += n;
		k = j - 1;
	}
	*len = GB_DXR_ELEM_BYTES;
	*out = t;
	return 0;
}

/* Index of the last interval starting at or below a. */
static size_t iv_find(const struct intervals *iv, u128 a)
{
	size_t lo = 0, hi = iv->n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (iv->start[mid] <= a)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

struct entries {
	__u64 *v;
	size_t n, cap;
};

static int ent_push(struct entries *e, __u64 key, __u32 value)
{
	if (e->n && (e->v[e->n - 1] & 0xffff) == value && value < GB_DXR6_REFINE)
		return 0;
	if (e->n && e->v[e->n - 1] >> 16 == key)
		e->n--;		/* a refined block replaces the range that started at its start */
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 64;
		__u64 *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n++] = key << 16 | value;
	return 0;
}

/* The slice a level keys on, and the size of the unit it cuts into (a /64, /112, /128). */
__u64 dxr6_slice_key(u128 a, int level)
{
	if (level == 1)
		return (__u64)(a >> 64) & 0xffffffffffffULL;
	if (level == 2)
		return (__u64)(a >> 16) & 0xffffffffffffULL;
	return ((__u64)a & 0xffff) << 32;
}

static unsigned int unit_bits(int level)
{
	return level == 1 ? 64 : level == 2 ? 16 : 0;
}

__u32 dxr6_tree_levels(size_t n, size_t *size)
{
	__u32 levels = 0;

	*size = 0;
	do
		*size += gb_dxr6_level_size(n, levels++);
	while (gb_dxr6_level_size(n, levels - 1) > GB_DXR6_FANOUT);
	return levels;
}

/* Writes the B+ tree of the ranges of e at r (see bpf/geoblock.h), the top level first. */
static void write_tree(const struct entries *e, __u32 levels, __u64 *r)
{
	for (int level = levels - 1; level >= 0; level--) {
		__u32 size = gb_dxr6_level_size(e->n, level);
		size_t stride = (size_t)1 << (3 * level);

		for (__u32 j = 0; j < size; j++) {
			size_t i = j * stride;

			if (!level)
				r[j] = e->v[i < e->n ? i : e->n - 1];
			else
				r[j] = i < e->n ? e->v[i] >> 16 : GB_DXR6_KEY_PAD;
		}
		r += size;
	}
}

/* Stores entries in the range space (never across an element) and returns their descriptor. */
static int store(struct dxr6 *b, const struct entries *e, __u64 *desc)
{
	__u32 levels;
	size_t size;

	if (e->n == 1) {
		*desc = GB_DXR_LEAF | (e->v[0] & 0xffff);
		return 0;
	}
	if (e->n >= GB_DXR6_MAX_RANGES)
		return -E2BIG;
	levels = dxr6_tree_levels(e->n, &size);
	if (size > GB_DXR6_ELEM_RANGES)
		return -E2BIG;
	/* Every group takes whole blocks, so base stays a multiple of GB_DXR6_FANOUT. */
	if (b->used % GB_DXR6_ELEM_RANGES + size > GB_DXR6_ELEM_RANGES)
		b->used = (b->used / GB_DXR6_ELEM_RANGES + 1) * GB_DXR6_ELEM_RANGES;
	if (b->ranges)
		write_tree(e, levels, b->ranges + b->used);
	*desc = (__u64)b->used << 32 | levels << GB_DXR6_LEVELS_SHIFT | e->n;
	b->used += size;
	if (b->used > b->high)
		b->high = b->used;
	return 0;
}

/* The group of the block [a0, a0 + 2^bits) at a level; units holding a cut become refined blocks. */
static int group(struct dxr6 *b, u128 a0, unsigned int bits, int level, __u64 *desc)
{
	const struct intervals *iv = b->iv;
	unsigned int ub = unit_bits(level);
	/* The block's last address, not its end: the block at the top of the space ends at 2^128. */
	u128 last = bits == 128 ? ~(u128)0 : a0 + (((u128)1 << bits) - 1), unit = (u128)1 << ub;
	struct entries e = {};
	size_t k = iv_find(iv, a0);
	int err;

	err = ent_push(&e, dxr6_slice_key(a0, level), iv->value[k]);
	for (k++; !err && k < iv->n && iv->start[k] <= last;) {
		u128 x = iv->start[k], u = x & ~(unit - 1);
		__u64 sub;

		if (x == u) {
			err = ent_push(&e, dxr6_slice_key(x, level), iv->value[k++]);
			continue;
		}
		/* A range starts inside this unit: the unit is cut by the next slice. */
		if (b->refines == GB_DXR6_MAX_REFINES) {
			err = -E2BIG;
			break;
		}
		err = group(b, u, ub, level + 1, &sub);
		if (err)
			break;
		b->elem0[GB_DXR6_REFINE_OFF + b->refines] = sub;
		err = ent_push(&e, dxr6_slice_key(u, level), GB_DXR6_REFINE + b->refines++);
		while (k < iv->n && iv->start[k] <= u + (unit - 1) && iv->start[k] > u)
			k++;
		if (!err && u + (unit - 1) != last && (k == iv->n || iv->start[k] != u + unit))
			err = ent_push(&e, dxr6_slice_key(u + unit, level), iv->value[iv_find(iv, u + unit)]);
	}
	if (!err)
		err = store(b, &e, desc);
	free(e.v);
	return err;
}

/* The groups of every /16 (of every /24 where a /16 has many ranges): the whole table. */
static int layout6(struct dxr6 *b)
{
	int err = 0;

	for (__u32 hi = 0; hi < 65536 && !err; hi++) {
		u128 a0 = (u128)hi << 112;
		size_t used = b->used;
		__u32 refines = b->refines;
		__u64 desc;

		err = group(b, a0, 112, 1, &desc);
		if (err && err != -E2BIG)
			break;
		/*
		 * A /16 of one range is a leaf. One of more ranges (or more than one group holds)
		 * gets one group per /24, which keeps the searches short, while sub-directories
		 * last; after that its own group, if that holds. The /16 group is dropped with the
		 * refined blocks it made.
		 */
		if (!err && ((desc & GB_DXR_LEAF) || b->subdirs == GB_DXR6_MAX_SUBDIRS)) {
			b->elem0[hi] = desc;
			continue;
		}
		if (b->subdirs == GB_DXR6_MAX_SUBDIRS)
			return -E2BIG;
		b->used = used;
		b->refines = refines;
		err = 0;
		for (__u32 mid = 0; mid < 256 && !err; mid++)
			err = group(b, a0 | (u128)mid << 104, 104, 1,
				    &b->elem0[GB_DXR6_SUBDIR_OFF + b->subdirs * 256 + mid]);
		b->elem0[hi] = GB_DXR6_SUBDIR | b->subdirs++;
	}
	return err;
}

/*
 * The IPv6 table, laid out twice: once to size it (the directory in scratch memory, no ranges
 * kept), then into the table itself, where it stays.
 */
static int build6(const struct intervals *iv, const struct dxr_sink *sink, void **out, size_t *len)
{
	struct dxr6 b = { .iv = iv };
	__u8 *t;
	int err;

	b.elem0 = calloc(1, GB_DXR_ELEM_BYTES);
	err = b.elem0 ? layout6(&b) : -ENOMEM;
	free(b.elem0);
	if (err)
		return err;
	/*
	 * Sized for the most ranges ever written, not the ranges kept: writing, the second layout
	 * writes a /16 group past the kept ranges before it drops it for /24 groups.
	 */
	*len = (1 + (b.high + GB_DXR6_ELEM_RANGES - 1) / GB_DXR6_ELEM_RANGES) *
	       (size_t)GB_DXR_ELEM_BYTES;
	t = sink_alloc(sink, *len);
	if (!t)
		return -ENOMEM;
	b = (struct dxr6){ .iv = iv, .elem0 = (__u64 *)t, .ranges = (__u64 *)(t + GB_DXR_ELEM_BYTES) };
	err = layout6(&b);
	if (err)	/* the same layout again: cannot fail where the first did not */
		return err;
	/* A dropped /16 group at the end leaves ranges past the last used one: clear them. */
	memset(b.ranges + b.used, 0, (b.high - b.used) * sizeof(*b.ranges));
	*out = t;
	return 0;
}

static int build(int family, const struct input *in, const __u64 *keep,
		 const struct dxr_sink *sink, void **out, size_t *len)
{
	struct intervals iv;
	int err;

	err = sweep(family, in, keep, &iv);
	if (err)
		return err;
	err = family == 4 ? build4(&iv, sink, out, len) : build6(&iv, sink, out, len);
	iv_free(&iv);
	return err;
}

int dxr_build_for(int family, const struct prefix_list *l, const __u64 *keep,
		  const struct dxr_sink *sink, void **out, size_t *len)
{
	struct input in = { .v = l->v, .n = l->n };

	return build(family, &in, keep, sink, out, len);
}

int dxr_build(int family, const struct prefix_list *l, const struct dxr_sink *sink, void **out,
	      size_t *len)
{
	return dxr_build_for(family, l, NULL, sink, out, len);
}

int dxr_build_networks(int family, const void *elems, size_t n, const __u64 *keep,
		       const struct dxr_sink *sink, void **out, size_t *len)
{
	size_t size = family == 4 ? sizeof(struct prefix_v4_elem) : sizeof(struct prefix_v6_elem);
	struct input in = { .elems = elems, .n = elems ? n : 0, .stride = (size + 7) & ~(size_t)7,
			    .alen = family == 4 ? 4 : 16 };

	return build(family, &in, keep, sink, out, len);
}
