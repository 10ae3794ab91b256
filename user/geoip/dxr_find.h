/* SPDX-License-Identifier: GPL-2.0 */
/* Lookups in the kernel's range tables, as the XDP program makes them. */
#ifndef GEOBLOCK_DXR_FIND_H
#define GEOBLOCK_DXR_FIND_H

#include <stddef.h>
#include <linux/types.h>
#include "geoblock.h"

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
