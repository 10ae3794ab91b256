/* SPDX-License-Identifier: GPL-2.0 */
/* Attaching the filter to an interface, for `attach` and for `restore`. */
#ifndef GEOBLOCK_CLI_ATTACH_H
#define GEOBLOCK_CLI_ATTACH_H

#include <stdbool.h>
#include "kern/pins.h"

/*
 * Whether a live link is pinned under ifname's name, on the interface of that name here (or on one
 * renamed since, if none has the name now).
 */
bool attach_live(const struct gb_ctx *ctx, const char *ifname);
/* Attaches; the caller holds the lock when `locked`. Returns an exit code. */
int attach_iface(const char *ifname, const char *mode, const char *lookup, bool locked);

#endif
