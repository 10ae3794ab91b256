/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The layout of the compiled GeoIP lookup tables, written by the controller's compiler
 * (user/geoip/dxr.c) and read by the XDP program: part of the pinned ABI (bpf/geoblock.h includes
 * it), kept apart from the map keys and values.
 */
#ifndef GEOBLOCK_TABLE_LAYOUT_H
#define GEOBLOCK_TABLE_LAYOUT_H

#include <linux/types.h>

/*
 * The compiled lookup tables, the fast path (the LPM tries stay as the reference): one array map
 * per family, swapped as a whole; the cost of a lookup does not grow with the number of prefixes.
 *
 * IPv4 is a range table (after DXR) of one element of GB_DXR_ELEM_BYTES: a directory, 2^16 __u64
 * entries indexed by the top 16 bits of the address, then the ranges, __u32 from entry
 * GB_DXR4_RANGES_OFF (as __u32) on. A directory entry is either GB_DXR_LEAF | country, for a /16 of
 * one country, or (base << 32) | count: the /16 is cut into count ranges, entries base .. base +
 * count - 1 of the ranges, sorted, the first starting at 0. A range is (first address of the
 * range, low 16 bits) << 16 | country. A lookup is a directory read and a binary search of at most
 * 16 steps. One element of a fixed size (GB_DXR4_MAX_RANGES ranges; a world database has about
 * 360,000) so that the program reads the table through one pointer, and the verifier inlines that
 * lookup rather than calling a function.
 *
 * IPv6 is a range table over three slices of the address: bits 16..63, 64..111 and 112..127.
 * Element 0 holds the directory (2^16 __u64 by the top 16 bits), from GB_DXR6_SUBDIR_OFF the
 * sub-directories (256 __u64 each, by bits 16..23, for /16s with many ranges), and from
 * GB_DXR6_REFINE_OFF one __u64 per refined block. Each of these is GB_DXR_LEAF | value, or
 * GB_DXR6_SUBDIR | sub-directory number (directory only), or a group of count sorted ranges:
 * (base << 32) | levels << GB_DXR6_LEVELS_SHIFT | count, in the range space from base on (as for
 * IPv4, GB_DXR6_ELEM_RANGES __u64 per element, a group never straddling two). A range is
 * key << 16 | value, key the slice's 48 bits where it starts (bits 112..127 are shifted left by
 * 32). A value is a country id, GB_T6_ALIAS_BASE + prefix length (an alias of the IPv4 table: the
 * 32 bits after the prefix are the IPv4 address), or GB_DXR6_REFINE + n: the /64 (or /112) that
 * starts there is cut further by the next slice, in refined block n.
 *
 * A group is a static B+ tree of blocks of GB_DXR6_FANOUT __u64, one cache line each (base is a
 * multiple of GB_DXR6_FANOUT, and elements are page-aligned), so that a lookup reads one line per
 * level instead of one per binary search step. Level 0 holds the ranges, padded to whole blocks
 * with copies of the last one; level i + 1 holds the key (not shifted) of the first range of each
 * block of level i, padded with GB_DXR6_KEY_PAD, which is above every key. Level i has
 * gb_dxr6_level_size(count, i) entries; the top level, levels - 1, is one block. The levels are
 * stored from the top down: the top at base, each next one right after the one above it.
 */
#define GB_DXR_ELEM_BYTES	(1U << 22)	/* the largest array value the kernel accepts */
#define GB_DXR_ELEM_RANGES	(GB_DXR_ELEM_BYTES / 4)
#define GB_DXR_LEAF		(1ULL << 63)
#define GB_DXR4_RANGES_OFF	((1U << 16) * 2)	/* after the directory, in __u32 */
#define GB_DXR4_MAX_RANGES	(GB_DXR_ELEM_RANGES - GB_DXR4_RANGES_OFF)
#define GB_DXR_MAX_STEPS	17		/* binary search over at most 2^16 ranges */
#define GB_T6_ALIAS_BASE	1024
#define GB_DXR6_ELEM_RANGES	(GB_DXR_ELEM_BYTES / 8)
#define GB_DXR6_SUBDIR		(1ULL << 62)
#define GB_DXR6_SUBDIR_OFF	65536
#define GB_DXR6_MAX_SUBDIRS	1024
#define GB_DXR6_REFINE_OFF	(GB_DXR6_SUBDIR_OFF + GB_DXR6_MAX_SUBDIRS * 256)
#define GB_DXR6_MAX_REFINES	32768
#define GB_DXR6_REFINE		0x8000
#define GB_DXR6_FANOUT		8		/* __u64 per block: a cache line */
#define GB_DXR6_MAX_LEVELS	7		/* 8^7 ranges in a group: more than GB_DXR6_MAX_RANGES */
#define GB_DXR6_MAX_RANGES	(1U << 20)
#define GB_DXR6_LEVELS_SHIFT	28
#define GB_DXR6_COUNT_MASK	((1U << GB_DXR6_LEVELS_SHIFT) - 1)
#define GB_DXR6_KEY_PAD		(1ULL << 62)

/* Entries of level i of a B+ tree group of count ranges: blocks of GB_DXR6_FANOUT, rounded up. */
static inline __u32 gb_dxr6_level_size(__u32 count, __u32 level)
{
	__u32 shift = 3 * (level + 1);

	return ((count + (1U << shift) - 1) >> shift) << 3;
}

_Static_assert((GB_DXR6_REFINE_OFF + GB_DXR6_MAX_REFINES) * 8 <= GB_DXR_ELEM_BYTES,
	       "the IPv6 directory area fits one element");
_Static_assert((1U << 16) * 8 <= GB_DXR_ELEM_BYTES, "the IPv4 directory fits one element");

#endif /* GEOBLOCK_TABLE_LAYOUT_H */
