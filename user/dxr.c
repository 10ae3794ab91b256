// SPDX-License-Identifier: GPL-2.0
/*
 * The IPv4 range table of the kernel (see bpf/geoblock.h): cuts the address space into ranges of
 * one country per /16, from the DIR-24-8 trie the compiler builds, and looks addresses up in it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "common.h"
#include "mbt.h"

static __u16 entry(const struct mbt *m, size_t i)
{
	return ((const __u16 *)m->e)[i];
}

/* Appends a range unless it continues the previous one with the same country. */
static void push(__u32 *r, size_t *n, size_t first, __u32 start, __u16 value)
{
	if (*n > first && (r[*n - 1] & 0xffff) == value)
		return;
	r[(*n)++] = start << 16 | value;
}

int dxr_build(const struct mbt *m, void **out, size_t *len)
{
	static __u32 group[65536];	/* the ranges of one /16 */
	size_t used = 0, elems = 1, cap = 2;
	__u8 *t = calloc(cap, GB_DXR_ELEM_BYTES);
	__u64 *dir;

	if (!t)
		return -ENOMEM;
	for (__u32 hi = 0; hi < 65536; hi++) {
		size_t n = 0;

		for (__u32 mid = 0; mid < 256; mid++) {
			__u16 e = entry(m, hi << 8 | mid);

			if (e < GB_T4_CHUNK_BASE) {
				push(group, &n, 0, mid << 8, e);
				continue;
			}
			for (__u32 low = 0; low < 256; low++)
				push(group, &n, 0, mid << 8 | low,
				     entry(m, ((size_t)1 << GB_T4_FIRST_BITS) +
						      (size_t)(e - GB_T4_CHUNK_BASE) * GB_CHUNK_ENTRIES + low));
		}
		dir = (__u64 *)t;
		if (n == 1) {
			dir[hi] = GB_DXR_LEAF | (group[0] & 0xffff);
			continue;
		}
		/* A /16's ranges stay inside one element: the kernel reads them through one pointer. */
		if (used % GB_DXR_ELEM_RANGES + n > GB_DXR_ELEM_RANGES)
			used = (used / GB_DXR_ELEM_RANGES + 1) * GB_DXR_ELEM_RANGES;
		if (1 + (used + n - 1) / GB_DXR_ELEM_RANGES >= cap) {
			__u8 *bigger = realloc(t, (cap + 2) * (size_t)GB_DXR_ELEM_BYTES);

			if (!bigger) {
				free(t);
				return -ENOMEM;
			}
			memset(bigger + cap * (size_t)GB_DXR_ELEM_BYTES, 0, 2 * (size_t)GB_DXR_ELEM_BYTES);
			t = bigger;
			cap += 2;
			dir = (__u64 *)t;
		}
		memcpy(t + GB_DXR_ELEM_BYTES + used * 4, group, n * 4);
		dir[hi] = (__u64)used << 32 | n;
		used += n;
		elems = 1 + (used + GB_DXR_ELEM_RANGES - 1) / GB_DXR_ELEM_RANGES;
	}
	*out = t;
	*len = elems * (size_t)GB_DXR_ELEM_BYTES;
	return 0;
}

__u32 dxr_lookup(const void *table, size_t len, const __u8 addr[4])
{
	const __u64 *dir = table;
	__u32 key = addr[2] << 8 | addr[3], lo = 0, n;
	const __u32 *r;
	__u64 d;

	if (len < GB_DXR_ELEM_BYTES)
		return GB_COUNTRY_NONE;
	d = dir[addr[0] << 8 | addr[1]];
	if (d & GB_DXR_LEAF)
		return d & 0xffff;
	n = (__u32)d;
	if (!n || GB_DXR_ELEM_BYTES + ((d >> 32) + n) * 4 > len)
		return GB_COUNTRY_NONE;
	r = (const __u32 *)((const __u8 *)table + GB_DXR_ELEM_BYTES) + (d >> 32);
	while (n > 1) {
		__u32 half = n / 2;

		if (r[lo + half] >> 16 <= key)
			lo += half;
		n -= half;
	}
	return r[lo] & 0xffff;
}

/*
 * IPv6. Addresses as 128-bit integers; the trie is flattened into intervals (start, value), each
 * running to the next start, then cut into the groups of the kernel's layout.
 */
typedef unsigned __int128 u128;

struct intervals {
	u128 *start;
	__u16 *value;
	size_t n, cap;
};

struct dxr6 {
	const struct intervals *iv;
	__u64 *elem0;			/* directory, sub-directories, refined blocks */
	__u64 *ranges;			/* the range space */
	size_t used, cap;		/* ranges */
	__u32 subdirs, refines;
};

static int iv_push(struct intervals *iv, u128 start, __u16 value)
{
	if (iv->n && iv->value[iv->n - 1] == value)
		return 0;
	if (iv->n == iv->cap) {
		size_t cap = iv->cap ? iv->cap * 2 : 1 << 16;
		u128 *s = realloc(iv->start, cap * sizeof(*s));
		__u16 *v;

		if (!s)
			return -ENOMEM;
		iv->start = s;
		v = realloc(iv->value, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		iv->value = v;
		iv->cap = cap;
	}
	iv->start[iv->n] = start;
	iv->value[iv->n++] = value;
	return 0;
}

/* Flattens the block of 256 (or 2^16 at the root) entries at base, covering from prefix on. */
static int flatten(const struct mbt *m, size_t base, size_t count, unsigned int depth, u128 prefix,
		   struct intervals *iv)
{
	unsigned int width = depth ? 8 : GB_T6_FIRST_BITS;
	int err = 0;

	for (size_t i = 0; i < count && !err; i++) {
		__u32 e = ((const __u32 *)m->e)[base + i];
		u128 start = prefix | (u128)i << (128 - depth - width);

		if (e >= GB_T6_CHUNK_BASE)
			err = flatten(m, ((size_t)1 << GB_T6_FIRST_BITS) +
						 (size_t)(e - GB_T6_CHUNK_BASE) * GB_CHUNK_ENTRIES,
				      GB_CHUNK_ENTRIES, depth + width, start, iv);
		else
			err = iv_push(iv, start, e);
	}
	return err;
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
static __u64 slice_key(u128 a, int level)
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

/* Stores entries in the range space (never across an element) and returns their descriptor. */
static int store(struct dxr6 *b, const struct entries *e, __u64 *desc)
{
	if (e->n == 1) {
		*desc = GB_DXR_LEAF | (e->v[0] & 0xffff);
		return 0;
	}
	if (e->n > GB_DXR6_ELEM_RANGES || e->n >= 1U << GB_DXR6_MAX_STEPS)
		return -E2BIG;
	if (b->used % GB_DXR6_ELEM_RANGES + e->n > GB_DXR6_ELEM_RANGES)
		b->used = (b->used / GB_DXR6_ELEM_RANGES + 1) * GB_DXR6_ELEM_RANGES;
	if (b->used + e->n > b->cap) {
		size_t cap = (b->used + e->n) * 2;
		__u64 *r = realloc(b->ranges, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		memset(r + b->cap, 0, (cap - b->cap) * sizeof(*r));
		b->ranges = r;
		b->cap = cap;
	}
	memcpy(b->ranges + b->used, e->v, e->n * sizeof(*e->v));
	*desc = (__u64)b->used << 32 | e->n;
	b->used += e->n;
	return 0;
}

/* The group of the block [a0, a0 + 2^bits) at a level; units holding a cut become refined blocks. */
static int group(struct dxr6 *b, u128 a0, unsigned int bits, int level, __u64 *desc)
{
	const struct intervals *iv = b->iv;
	unsigned int ub = unit_bits(level);
	u128 end = bits == 128 ? 0 : a0 + ((u128)1 << bits), unit = (u128)1 << ub;
	struct entries e = {};
	size_t k = iv_find(iv, a0);
	int err;

	err = ent_push(&e, slice_key(a0, level), iv->value[k]);
	for (k++; !err && k < iv->n && (bits == 128 || iv->start[k] < end);) {
		u128 x = iv->start[k], u = x & ~(unit - 1);
		__u64 sub;

		if (x == u) {
			err = ent_push(&e, slice_key(x, level), iv->value[k++]);
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
		err = ent_push(&e, slice_key(u, level), GB_DXR6_REFINE + b->refines++);
		while (k < iv->n && iv->start[k] < u + unit && iv->start[k] > u)
			k++;
		if (!err && u + unit != end && (k == iv->n || iv->start[k] != u + unit))
			err = ent_push(&e, slice_key(u + unit, level), iv->value[iv_find(iv, u + unit)]);
	}
	if (!err)
		err = store(b, &e, desc);
	free(e.v);
	return err;
}

int dxr6_build(const struct mbt *m, void **out, size_t *len)
{
	struct intervals iv = {};
	struct dxr6 b = { .iv = &iv };
	size_t elems;
	__u8 *t;
	int err;

	b.elem0 = calloc(1, GB_DXR_ELEM_BYTES);
	err = b.elem0 ? flatten(m, 0, (size_t)1 << GB_T6_FIRST_BITS, 0, 0, &iv) : -ENOMEM;
	for (__u32 hi = 0; hi < 65536 && !err; hi++) {
		u128 a0 = (u128)hi << 112;
		__u64 desc;

		err = group(&b, a0, 112, 1, &desc);
		if (err || (desc & GB_DXR_LEAF) || (__u32)desc <= 256) {
			b.elem0[hi] = desc;
			continue;
		}
		/* Many ranges in this /16: one group per /24 keeps the searches short. */
		if (b.subdirs == GB_DXR6_MAX_SUBDIRS) {
			err = -E2BIG;
			break;
		}
		b.used = desc >> 32;	/* drop the /16 group just stored */
		for (__u32 mid = 0; mid < 256 && !err; mid++)
			err = group(&b, a0 | (u128)mid << 104, 104, 1,
				    &b.elem0[GB_DXR6_SUBDIR_OFF + b.subdirs * 256 + mid]);
		b.elem0[hi] = GB_DXR6_SUBDIR | b.subdirs++;
	}
	elems = 1 + (b.used + GB_DXR6_ELEM_RANGES - 1) / GB_DXR6_ELEM_RANGES;
	t = err ? NULL : calloc(elems, GB_DXR_ELEM_BYTES);
	if (!err && !t)
		err = -ENOMEM;
	if (!err) {
		memcpy(t, b.elem0, GB_DXR_ELEM_BYTES);
		if (b.used)	/* none when every /16 is one value (an empty family) */
			memcpy(t + GB_DXR_ELEM_BYTES, b.ranges, b.used * sizeof(__u64));
		*out = t;
		*len = elems * (size_t)GB_DXR_ELEM_BYTES;
	}
	free(b.elem0);
	free(b.ranges);
	free(iv.start);
	free(iv.value);
	return err;
}

static __u32 group_value(const void *table, size_t len, __u64 d, __u64 key)
{
	const __u64 *r;
	__u32 n = (__u32)d, lo = 0;

	if (d & GB_DXR_LEAF)
		return d & 0xffff;
	if (!n || GB_DXR_ELEM_BYTES + ((d >> 32) + n) * 8 > len)
		return GB_COUNTRY_NONE;
	r = (const __u64 *)((const __u8 *)table + GB_DXR_ELEM_BYTES) + (d >> 32);
	while (n > 1) {
		__u32 half = n / 2;

		if (r[lo + half] >> 16 <= key)
			lo += half;
		n -= half;
	}
	return r[lo] & 0xffff;
}

__u32 dxr6_lookup(const void *table, size_t len, const __u8 addr[16])
{
	const __u64 *dir = table;
	u128 a = 0;
	__u64 d;
	__u32 v;

	if (len < GB_DXR_ELEM_BYTES)
		return GB_COUNTRY_NONE;
	for (int i = 0; i < 16; i++)
		a = a << 8 | addr[i];
	d = dir[(__u32)(a >> 112)];
	if (d & GB_DXR6_SUBDIR)
		d = dir[GB_DXR6_SUBDIR_OFF + (d & (GB_DXR6_MAX_SUBDIRS - 1)) * 256 +
			(__u32)(a >> 104 & 0xff)];
	v = group_value(table, len, d, slice_key(a, 1));
	for (int level = 2; level <= 3 && v >= GB_DXR6_REFINE; level++)
		v = group_value(table, len, dir[GB_DXR6_REFINE_OFF + (v - GB_DXR6_REFINE)],
				slice_key(a, level));
	return v;
}
