/* SPDX-License-Identifier: GPL-2.0 */
/* Opening what a command works on: the pinned objects, under the state lock for a change. */
#ifndef GEOBLOCK_STATE_CONTEXT_H
#define GEOBLOCK_STATE_CONTEXT_H

#include "kern/pins.h"

/*
 * Fills ctx from the environment and opens the pins (flags: enum gb_open_flags); with
 * GB_OPEN_LOCKED takes the state lock first, puts right an audit record cut short, and settles
 * the kept copy of a geoip load cut short (geoip_kept_settle).
 */
int gb_open(struct gb_ctx *ctx, unsigned int flags);
void gb_close(struct gb_ctx *ctx);

#endif
