/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel side of the GeoIP table: compiled maps swapped in atomically, and read back. */
#ifndef GEOBLOCK_KERN_TABLE_H
#define GEOBLOCK_KERN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "geoip/geoip.h"
#include "kern/pins.h"

int table_install(const struct gb_ctx *ctx, const struct geoip_table *t, const char *source,
		  bool with_lpm);
/*
 * table_install with a check that runs while the new maps are built, under the caller's lock:
 * nonzero refuses the table (nothing is swapped, nothing printed here) and is returned.
 */
typedef int (*table_check_fn)(void *arg);
int table_install_checked(const struct gb_ctx *ctx, const struct geoip_table *t,
			  const char *source, bool with_lpm, table_check_fn check, void *arg);
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
void table_close(struct table_view *v);
/* Networks of the loaded table per country id, [0] IPv4 and [1] IPv6 (IPv6 aliases not counted). */
void table_country_networks(const struct table_view *v, __u32 counts[2][GB_COUNTRY_COUNT]);
/* The structures of a loaded table, and the kernel memory of each per family ([0] IPv4). */
enum { TABLE_COMPILED, TABLE_LPM, TABLE_NETWORKS, TABLE_KINDS };
void table_memory(const struct gb_ctx *ctx, __u64 bytes[TABLE_KINDS][2]);
/* Country of addr (IPv4 in the first 4 bytes) from the compiled table, or the LPM tries. */
int table_lookup(const struct table_view *v, bool lpm, int family, const __u8 *addr,
		 struct table_match *m);

#endif
