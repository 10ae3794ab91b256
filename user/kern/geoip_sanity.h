/* SPDX-License-Identifier: GPL-2.0 */
/* Whether a compiled table may replace the loaded one. */
#ifndef GEOBLOCK_KERN_GEOIP_SANITY_H
#define GEOBLOCK_KERN_GEOIP_SANITY_H

#include <stdbool.h>
#include <stddef.h>
#include "geoip/geoip.h"
#include "kern/pins.h"

bool geoip_table_empty(const struct geoip_table *t);
int geoip_check_shrink(const struct gb_ctx *ctx, const struct geoip_table *t, double max_shrink,
		       char *err, size_t errlen);

#endif
