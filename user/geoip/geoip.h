/* SPDX-License-Identifier: GPL-2.0 */
/* Reading GeoIP databases (any mix of formats) into one country-tagged table. */
#ifndef GEOBLOCK_GEOIP_GEOIP_H
#define GEOBLOCK_GEOIP_GEOIP_H

#include <stddef.h>
#include <linux/types.h>
#include "geoip/prefix.h"

/* The most files one table is loaded from (and restore loads again). */
#define GEOIP_MAX_FILES 16

int geoip_read(const char *path, const char *field, struct geoip_table *t, char *err, size_t errlen);
/* Several files (any mix of formats) into one table; overlapping networks must agree. */
int geoip_read_files(char *const *paths, int n, const char *field, struct geoip_table *t,
		     char *err, size_t errlen);

#endif
