/* SPDX-License-Identifier: GPL-2.0 */
/* `geoip load` again, for the daemon's --watch. */
#ifndef GEOBLOCK_CLI_GEOIP_H
#define GEOBLOCK_CLI_GEOIP_H

#include "kern/pins.h"

/* `geoip load PATH...` as the last load was made (--field, --with-lpm); 0 when loaded. */
int geoip_reload(const struct gb_ctx *ctx, char *const *paths, int n);

#endif
