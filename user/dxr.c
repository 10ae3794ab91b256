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
