/* SPDX-License-Identifier: GPL-2.0 */
/* The pinned links (link_IFNAME in the pin dir), one per interface attached to. */
#ifndef GEOBLOCK_KERN_LINKS_H
#define GEOBLOCK_KERN_LINKS_H

#include <stddef.h>
#include <linux/types.h>
#include "kern/pins.h"

#define GB_LINK_PREFIX "link_"

struct link_state {
	char name[16];		/* the interface's name when it was attached (IF_NAMESIZE) */
	__u32 ifindex;		/* 0 once that interface is gone */
	__u32 prog_id;
};
/* Every pinned link, sorted by name; *links is NULL when there are none. */
int links_read(const struct gb_ctx *ctx, struct link_state **links, size_t *n);
/* The ifindex a pinned link's fd is attached to: 0 once its interface is gone, <0 if unreadable. */
int link_ifindex(int fd, __u32 *prog_id);

/* How a link of program prog_id is attached to ifindex: native, generic, offload, detached. */
const char *link_attach_mode(int ifindex, __u32 prog_id);
/* "lpm" or "table": read back from the program's read-only data (use_lpm). */
const char *link_lookup_kind(__u32 prog_id);
/*
 * The ids of the maps program prog_id reads: *ids (to free, also after an error) and *n (0 after
 * an error); 0, or -errno (-ENOENT: the program is gone).
 */
int prog_map_ids(__u32 prog_id, __u32 **ids, __u32 *n);

#endif
