// SPDX-License-Identifier: GPL-2.0
/* Looks addresses up in the kernel's range tables (dxr.c compiles them) the way the XDP program does. */
#include <string.h>
#include "geoip/dxr.h"
#include "geoip/dxr_find.h"

typedef dxr_u128 u128;

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
	if (!n || (GB_DXR4_RANGES_OFF + (d >> 32) + n) * 4 > len)
		return GB_COUNTRY_NONE;
	r = (const __u32 *)table + GB_DXR4_RANGES_OFF + (d >> 32);
	while (n > 1) {
		__u32 half = n / 2;

		if (r[lo + half] >> 16 <= key)
			lo += half;
		n -= half;
	}
	return r[lo] & 0xffff;
}

/* The value of the range of group d (a directory entry) that holds key, searched as in XDP. */
static __u32 group_value(const void *table, size_t len, __u64 d, __u64 key)
{
	__u32 n = d & GB_DXR6_COUNT_MASK, levels = (__u32)d >> GB_DXR6_LEVELS_SHIFT, idx = 0, c;
	size_t pos = d >> 32, size;
	const __u64 *r;

	if (d & GB_DXR_LEAF)
		return d & 0xffff;
	if (n < 2 || n >= GB_DXR6_MAX_RANGES || levels != dxr6_tree_levels(n, &size) ||
	    GB_DXR_ELEM_BYTES + (pos + size) * 8 > len)
		return GB_COUNTRY_NONE;
	r = (const __u64 *)((const __u8 *)table + GB_DXR_ELEM_BYTES);
	for (int level = levels - 1; level > 0; level--) {
		for (c = 0; c < GB_DXR6_FANOUT && r[pos + idx * GB_DXR6_FANOUT + c] <= key; c++)
			;
		if (!c)
			return GB_COUNTRY_NONE;
		pos += gb_dxr6_level_size(n, level);
		idx = idx * GB_DXR6_FANOUT + c - 1;
	}
	r += pos + idx * GB_DXR6_FANOUT;
	for (c = 0; c < GB_DXR6_FANOUT && r[c] >> 16 <= key; c++)
		;
	return c ? r[c - 1] & 0xffff : GB_COUNTRY_NONE;
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
	v = group_value(table, len, d, dxr6_slice_key(a, 1));
	for (int level = 2; level <= 3 && v >= GB_DXR6_REFINE; level++)
		v = group_value(table, len, dir[GB_DXR6_REFINE_OFF + (v - GB_DXR6_REFINE)],
				dxr6_slice_key(a, level));
	return v;
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

__u32 dxr_find(const struct dxr_view *t, int family, const __u8 *addr, int *answer_family,
	       __u8 v4addr[4])
{
	__u32 e;

	*answer_family = family;
	if (family == 6) {
		if (!t->e[1])
			return GB_COUNTRY_NONE;
		e = dxr6_lookup(t->e[1], t->n[1], addr);
		if (e < GB_T6_ALIAS_BASE || e > GB_T6_ALIAS_BASE + 96)
			return e <= GB_COUNTRY_OTHER ? e : GB_COUNTRY_NONE;
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
