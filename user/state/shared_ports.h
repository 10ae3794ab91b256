/* SPDX-License-Identifier: GPL-2.0 */
/* Shared ports (meetings told apart by ICE ufrag): the set kept in the state dir and the maps. */
#ifndef GEOBLOCK_STATE_SHARED_PORTS_H
#define GEOBLOCK_STATE_SHARED_PORTS_H

#include <linux/types.h>
#include "geoblock.h"
#include "kern/pins.h"
#include "state/rules.h"

#define STATE_SHARED_FILE	"shared-ports"

/* The saved set (none when the file is missing); -errno after one line if it cannot be read. */
int shared_ports_read(const struct gb_ctx *ctx, __u8 ports[GB_PORT_COUNT / 8]);
/* Replaces the saved set (written whole, then renamed over the old one). */
int shared_ports_write(const struct gb_ctx *ctx, const __u8 ports[GB_PORT_COUNT / 8]);
/* The set in the maps. */
void shared_ports_live(const struct rules *r, __u8 ports[GB_PORT_COUNT / 8]);
/*
 * Makes the maps' set want: ports gained first, then lost; -EEXIST (nothing changed) if one of
 * want is a meeting's.
 */
int shared_ports_set(const struct gb_ctx *ctx, struct rules *r,
		     const __u8 want[GB_PORT_COUNT / 8]);

#endif
