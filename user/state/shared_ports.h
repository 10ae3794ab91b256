/* SPDX-License-Identifier: GPL-2.0 */
/* Shared ports (meetings told apart by ICE ufrag): the set kept in the state dir and the maps. */
#ifndef GEOBLOCK_STATE_SHARED_PORTS_H
#define GEOBLOCK_STATE_SHARED_PORTS_H

#include <linux/types.h>
#include "geoblock.h"
#include "kern/pins.h"
#include "state/rules.h"

#define STATE_SHARED_FILE	"shared-ports"

/*
 * The saved set (none when the file is missing); -errno after one line if it cannot be read, or
 * -EINVAL after a line for each damaged item, left out (ports holds the others); the lines only
 * if say.
 */
int shared_ports_read(const struct gb_ctx *ctx, __u8 ports[GB_PORT_COUNT / 8], bool say);
/*
 * One warning line naming what (a meeting, or an apply file) if it gave ufrags while no
 * port is saved as shared: a ufrag is looked for on shared ports only, so it matches nothing yet.
 */
void shared_ports_warn_none(const struct gb_ctx *ctx, const char *what);
/* That line (without "warning: ") in buf, or "" when a port is shared or the set is unreadable. */
const char *shared_ports_none_says(const struct gb_ctx *ctx, const char *what, char *buf,
				   size_t n);
/*
 * Takes out of want the ports a live meeting of the saved rule set has (the two records disagree:
 * a geoblock without shared ports gave it to a meeting since), each named in one line, as the
 * meeting's; returns how many.
 */
int shared_ports_unowned(const struct gb_ctx *ctx, __u8 want[GB_PORT_COUNT / 8]);
/* Replaces the saved set (written whole, then renamed over the old one). */
int shared_ports_write(const struct gb_ctx *ctx, const __u8 ports[GB_PORT_COUNT / 8]);
/*
 * 0, or -EOPNOTSUPP after one line if want shares a port r does not and this build's CPU is not
 * one whose memory order the data path's shared-port protocol relies on (x86-64's).
 */
int shared_ports_allowed(const struct rules *r, const __u8 want[GB_PORT_COUNT / 8]);
/* The set in the maps. */
void shared_ports_live(const struct rules *r, __u8 ports[GB_PORT_COUNT / 8]);
/*
 * Makes the maps' set want: ports gained first, then lost; -EEXIST (nothing changed) if one of
 * want is a meeting's, -EOPNOTSUPP (nothing changed, one line said) if shared_ports_allowed is not.
 */
int shared_ports_set(const struct gb_ctx *ctx, struct rules *r,
		     const __u8 want[GB_PORT_COUNT / 8]);

#endif
