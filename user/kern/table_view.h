/* SPDX-License-Identifier: GPL-2.0 */
/* The loaded GeoIP table as the kernel holds it, mapped read-only and answered from. */
#ifndef GEOBLOCK_KERN_TABLE_VIEW_H
#define GEOBLOCK_KERN_TABLE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "kern/pins.h"

/* The structures of a loaded table. */
enum { TABLE_COMPILED, TABLE_LPM, TABLE_NETWORKS, TABLE_KINDS };
/*
 * The outer maps (map-in-map slots) of every kind and family, [kind][0 for IPv4, 1 for IPv6];
 * TABLE_COMPILED: the data path's tables (lookup_live4, lookup_live_v6).
 */
void table_outer_maps(const struct gb_ctx *ctx, int outer[TABLE_KINDS][2]);
/* Bytes between the elements of an array map of values of value_size, and a mapping of n. */
size_t table_elem_stride(size_t value_size);
size_t table_mapped_len(__u32 max_entries, size_t value_size);

struct table_match {
	__u16 country;
	__u8 prefixlen;		/* of the network that answered (0 with family 0: not known) */
	__u8 family;		/* of the table that answered: an IPv6 alias answers from IPv4 */
	__u8 addr[16];		/* the address that table was asked for */
};
/* The live tables, mapped read-only: compiled tables, network lists, LPM tries if loaded. */
struct table_view {
	const void *tab[2], *net[2];
	size_t tab_len[2], net_len[2], tab_entries[2], net_n[2];
	__u32 net_id[2];	/* map id of each network list, 0 for none: see table_networks_ids */
	int lpm[2];
};
int table_open(const struct gb_ctx *ctx, struct table_view *v);
/*
 * The map ids of the live network lists ([0] IPv4), 0 where a family has none. Every load makes
 * new maps and the kernel hands map ids out in turn (2^31 of them before one comes back), so
 * within a boot they name the loaded table.
 */
void table_networks_ids(const struct gb_ctx *ctx, __u32 ids[2]);
/* Takes the network list of family (0 IPv4, 1 IPv6) out of its slot, if it has one; -errno. */
int table_networks_drop(const struct gb_ctx *ctx, int family);
void table_close(struct table_view *v);
/* Networks of the loaded table per country id, [0] IPv4 and [1] IPv6 (IPv6 aliases not counted). */
void table_country_networks(const struct table_view *v, __u32 counts[2][GB_COUNTRY_COUNT]);
/* The kernel memory of each structure of the loaded table per family ([0] IPv4). */
void table_memory(const struct gb_ctx *ctx, __u64 bytes[TABLE_KINDS][2]);
/*
 * Where an answer comes from. TABLE_FROM_NETWORKS: the networks loaded (the database's own answer,
 * for every country); TABLE_FROM_LIVE: the data path's compiled table, which tells apart only the
 * countries live meetings block or monitor (GB_COUNTRY_OTHER for the rest); TABLE_FROM_LPM: the
 * LPM tries (geoip load --with-lpm).
 */
enum table_from { TABLE_FROM_NETWORKS, TABLE_FROM_LIVE, TABLE_FROM_LPM };
/* Country of addr (IPv4 in the first 4 bytes); -ENOENT for none. */
int table_lookup(const struct table_view *v, enum table_from from, int family, const __u8 *addr,
		 struct table_match *m);

#endif
