/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel side of the GeoIP table: compiled maps swapped in atomically, and read back. */
#ifndef GEOBLOCK_KERN_TABLE_H
#define GEOBLOCK_KERN_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "geoip/geoip.h"
#include "geoip/prefix.h"
#include "kern/pins.h"

/*
 * Loads table t: its network lists (and LPM tries when in use), and the data path's compiled
 * tables, telling apart every country (see table_compile_live).
 */
int table_install(const struct gb_ctx *ctx, const struct geoip_table *t, const char *source,
		  bool with_lpm);
/* What a load runs beside the build of a new table (any may be NULL). */
typedef int (*table_check_fn)(void *arg);
struct table_hooks {
	/* Runs while the new maps are built; nonzero refuses the table and is returned. */
	table_check_fn check;
	/*
	 * Runs once every new map is built, just before the switch, with the map ids of the new
	 * network lists (0 for a family without): what identifies the table once it is live (see
	 * table_networks_ids). Nonzero refuses the table and is returned.
	 */
	int (*stage)(void *arg, const __u32 net_ids[2]);
	void *arg;
};
/*
 * table_install with keep and hooks, under the caller's lock: a refusal swaps nothing and prints
 * nothing here. The network lists are switched first, so a table whose lists are live is one
 * whose switch began.
 */
int table_install_checked(const struct gb_ctx *ctx, const struct geoip_table *t,
			  const char *source, bool with_lpm, const __u64 *keep,
			  const struct table_hooks *hooks);
/*
 * Compiles the data path's tables anew from the network lists loaded (networks[0], n[0]: the IPv4
 * list as mapped, see table_open; NULL for none) for the countries in keep (a bit per country id;
 * NULL: all), every other country's ranges GB_COUNTRY_OTHER, and swaps them in (one update per
 * family), recording keep for table_cover.
 */
int table_compile_live(const struct gb_ctx *ctx, const void *const networks[2],
		       const size_t n[2], const __u64 *keep);
/*
 * The countries the live compiled tables tell apart; -ESTALE when the record is not of them (a
 * change died between the two updates, or tables from before the record).
 */
int table_cover(const struct gb_ctx *ctx, __u64 countries[GB_COUNTRY_WORDS]);

#endif
