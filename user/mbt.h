/* SPDX-License-Identifier: GPL-2.0 */
/* The multibit-trie compiler of the fast path and its userspace lookup. */
#ifndef GEOBLOCK_MBT_H
#define GEOBLOCK_MBT_H

#include "common.h"

/*
 * The IPv4 trie is built here as DIR-24-8 (2^24 16-bit entries, then 256-entry chunks) and turned
 * into the kernel's range table by dxr.c; these constants never reach the kernel.
 */
#define GB_T4_FIRST_BITS	24
#define GB_T4_CHUNK_BASE	1024
#define GB_T4_MAX_CHUNKS	(65536 - GB_T4_CHUNK_BASE)
/* The IPv6 trie: 2^16 32-bit entries, then 256-entry chunks per 8 bits; dxr.c cuts it into ranges. */
#define GB_T6_FIRST_BITS	16
#define GB_T6_CHUNK_BASE	4096
#define GB_T6_MAX_CHUNKS	(1U << 19)
#define GB_T6_MAX_LEVELS	((128 - GB_T6_FIRST_BITS) / 8)
#define GB_CHUNK_ENTRIES	256

struct mbt {
	int family;
	unsigned int entry_size;	/* bytes: 2 (IPv4) or 4 (IPv6) */
	unsigned int first_bits;
	__u32 chunk_base, max_chunks;
	void *e;			/* the root block, then the chunks */
	size_t chunks, cap;		/* chunks used; entries allocated */
};

int mbt_build(int family, const struct prefix_list *l, struct mbt *m);
size_t mbt_entries(const struct mbt *m);
void mbt_free(struct mbt *m);
/* The range tables as mapped from the kernel: [0] IPv4, [1] IPv6; n: their bytes. */
struct mbt_view {
	const void *e[2];	/* NULL: no table of that family */
	size_t n[2];
};

/*
 * The country of addr, found as the XDP program finds it. *answer_family tells which table
 * answered (4 for an IPv6 address in an alias range) and v4addr the IPv4 address it was asked.
 */
__u32 mbt_lookup(const struct mbt_view *t, int family, const __u8 *addr, int *answer_family,
		 __u8 v4addr[4]);
/* dxr.c: the IPv4 range table from an IPv4 trie (mbt_build(4, ...)); *len bytes in *out. */
int dxr_build(const struct mbt *m, void **out, size_t *len);
/* The country of an IPv4 address in a range table of len bytes. */
__u32 dxr_lookup(const void *table, size_t len, const __u8 addr[4]);
/* The IPv6 range table from an IPv6 trie (mbt_build(6, ...)). */
int dxr6_build(const struct mbt *m, void **out, size_t *len);
/* The value (country, alias) of an IPv6 address in an IPv6 range table of len bytes. */
__u32 dxr6_lookup(const void *table, size_t len, const __u8 addr[16]);

/* The 32 bits after the first len bits of an IPv6 address. */
void alias_v4_addr(const __u8 *addr6, unsigned int len, __u8 out[4]);

#endif
