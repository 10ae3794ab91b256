/* SPDX-License-Identifier: GPL-2.0 */
/* Country-tagged prefix lists, kept in address order and merged as they grow. */
#ifndef GEOBLOCK_GEOIP_PREFIX_H
#define GEOBLOCK_GEOIP_PREFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "geoblock.h"

struct prefix {
	__u8 addr[16];		/* IPv4 in the first 4 bytes */
	__u8 len;
	__u8 pad;
	__u16 country;
};

struct prefix_list {
	struct prefix *v;
	size_t n, cap;
	size_t added;		/* networks added, before merging */
};

/* The most networks a list of family (4 or 6) holds; adding past it fails with -E2BIG. */
size_t prefix_list_max(int family);
int prefix_list_add(struct prefix_list *l, int family, const __u8 *addr, unsigned int len,
		    __u16 country);
int prefix_list_add_range(struct prefix_list *l, int family, const __u8 *start, const __u8 *end,
			  __u16 country);
/* Two networks of different lists that overlap with different countries. */
struct prefix_conflict {
	size_t list_a, list_b;
	struct prefix a, b;
};
int prefix_list_union(struct prefix_list *out, int family, const struct prefix_list *in, size_t n,
		      struct prefix_conflict *c);
void prefix_list_free(struct prefix_list *l);

/* A GeoIP table as read: one prefix list per family, and what the database says of itself. */
struct geoip_table {
	struct prefix_list v4, v6;
	__u64 build_epoch;
	char database_type[64];
};
void geoip_table_free(struct geoip_table *t);

#endif
