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
 * hands out the memory of the new map itself, so the table is written once, in place.
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

/* The range tables as mapped from the kernel: [0] IPv4, [1] IPv6; n: their bytes. */
struct dxr_view {
	const void *e[2];	/* NULL: no table of that family */
	size_t n[2];
};

/*
 * The country of addr, found as the XDP program finds it. *answer_family tells which table
 * answered (4 for an IPv6 address in an alias range) and v4addr the IPv4 address it was asked.
 */
__u32 dxr_find(const struct dxr_view *t, int family, const __u8 *addr, int *answer_family,
	       __u8 v4addr[4]);
/* The country of an IPv4 address in a range table of len bytes. */
__u32 dxr_lookup(const void *table, size_t len, const __u8 addr[4]);
/* The value (country, alias) of an IPv6 address in an IPv6 range table of len bytes. */
__u32 dxr6_lookup(const void *table, size_t len, const __u8 addr[16]);

/* The 32 bits after the first len bits of an IPv6 address. */
void alias_v4_addr(const __u8 *addr6, unsigned int len, __u8 out[4]);

#endif
