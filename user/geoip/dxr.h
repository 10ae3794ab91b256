/* SPDX-License-Identifier: GPL-2.0 */
/* The compiler of the kernel's range tables (the fast path) and their userspace lookup. */
#ifndef GEOBLOCK_DXR_H
#define GEOBLOCK_DXR_H

#include <stdbool.h>
#include <stdint.h>
#include "geoip/prefix.h"
#include "geoblock.h"

/*
 * Where a compiled table is written: alloc(len, arg) returns len bytes, zeroed, or NULL. table.c
 * hands out the memory of the new map itself, so the table is written once, in place. After a
 * failed build, what the sink gave stays the sink owner's to drop.
 */
struct dxr_sink {
	void *(*alloc)(size_t len, void *arg);
	void *arg;
};

/*
 * Compiles a prefix list of one family (4 or 6) into its range table (layout in bpf/geoblock.h):
 * the longest prefix holding an address decides, the later of two equal ones; prefixes may nest
 * and come in any order (the readers' lists, sorted and disjoint, cost least). *out, *len: the
 * table, from sink (NULL: calloc, for the caller to free). -EINVAL for a value the table cannot
 * hold, -E2BIG when the layout's limits are passed, -ENOMEM.
 */
int dxr_build(int family, const struct prefix_list *l, const struct dxr_sink *sink, void **out,
	      size_t *len);
/*
 * The same, telling apart only the countries in keep (a bit per country id): the ranges of every
 * other country read GB_COUNTRY_OTHER, and neighbours of one value merge. NULL keeps all.
 */
int dxr_build_for(int family, const struct prefix_list *l, const __u64 *keep,
		  const struct dxr_sink *sink, void **out, size_t *len);
/*
 * dxr_build_for from the n elements of a network list as the kernel holds it (bpf/geoblock.h:
 * struct prefix_v4_elem or prefix_v6_elem, 8-byte aligned), read where they are.
 */
int dxr_build_networks(int family, const void *elems, size_t n, const __u64 *keep,
		       const struct dxr_sink *sink, void **out, size_t *len);

/* Addresses as integers: an IPv4 address in the low 32 bits. */
typedef unsigned __int128 dxr_u128;
/* The 48 bits of an IPv6 address (as an integer) that level 1, 2 or 3 of the table keys on. */
__u64 dxr6_slice_key(dxr_u128 a, int level);
/* The levels of the B+ tree of a group of n ranges (n >= 2), and the entries they take. */
__u32 dxr6_tree_levels(size_t n, size_t *size);

#endif
