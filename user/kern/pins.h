/* SPDX-License-Identifier: GPL-2.0 */
/* The pinned objects under the pin dir, opened through the embedded skeleton; the context. */
#ifndef GEOBLOCK_KERN_PINS_H
#define GEOBLOCK_KERN_PINS_H

#include <stdbool.h>
#include <linux/types.h>
#include "geoblock.h"

#define GB_DEFAULT_PIN_DIR	"/sys/fs/bpf/geoblock"
#define GB_DEFAULT_STATE_DIR	"/var/lib/geoblock"

struct geoblock;	/* the libbpf skeleton */

/* What a command works on: the two directories, the opened skeleton, the state lock if held. */
struct gb_ctx {
	char pin_dir[256];
	char state_dir[256];
	struct geoblock *skel;
	int lock_fd;
};

enum gb_open_flags {
	GB_OPEN_PROGRAM	= 1 << 0,	/* load the XDP program too (attach) */
	GB_OPEN_LOCKED	= 1 << 1,	/* take the state lock first (every change) */
	GB_OPEN_LPM	= 1 << 2,	/* with GB_OPEN_PROGRAM: a program that looks up the LPM tries */
	GB_OPEN_READ	= 1 << 3,	/* create nothing: a read-only command; fails if nothing is pinned */
	GB_OPEN_EMPTY_OK = 1 << 4,	/* with GB_OPEN_READ: nothing pinned reads as empty maps */
};

/* Empty ctx, its directories from GEOBLOCK_PIN_DIR and GEOBLOCK_STATE_DIR (or the defaults). */
void pins_init(struct gb_ctx *ctx);
/*
 * Opens the pinned maps, creating and pinning those missing (none with GB_OPEN_READ: those stand
 * in empty, unpinned); one error line if it cannot, but -ENOMEDIUM, unsaid, if GB_OPEN_READ (without
 * GB_OPEN_EMPTY_OK) finds nothing pinned.
 */
int pins_load(struct gb_ctx *ctx, unsigned int flags);
void pins_unload(struct gb_ctx *ctx);
/*
 * 0 if the maps pinned in the pin dir are the ones ctx opened; -ENOENT if they were removed,
 * -ESTALE if made anew since (a long-running process then holds maps nothing else sees), another
 * -errno if the pin cannot be opened.
 */
int gb_pins_current(const struct gb_ctx *ctx);

#endif
