/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Maps that earlier geoblock versions of this ABI pinned and this one no longer uses (renamed when
 * their layout changed: docs/design.md, "ABI and upgrades"). A program attached before the upgrade
 * may still read one; once none does, the first change (or the daemon's pass) unpins it, and the
 * kernel frees it.
 */
#ifndef GEOBLOCK_KERN_RETIRED_H
#define GEOBLOCK_KERN_RETIRED_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "kern/pins.h"

#define RETIRED_MAPS_MAX	8	/* how many names the list may grow to */

struct retired_map {
	const char *name;
	bool in_use;		/* a loaded program still reads it */
	__u64 bytes;		/* what the kernel charges for it, with an inner map's */
};

/* The retired maps pinned under ctx's pin dir, at most max: how many, or -errno. */
int retired_read(const struct gb_ctx *ctx, struct retired_map *out, size_t max);
/*
 * Unpins those no loaded program reads, saying so on stderr: how many, or -errno (a warning, if
 * warn).
 */
int retired_remove(const struct gb_ctx *ctx, bool warn);

#endif
