/* SPDX-License-Identifier: GPL-2.0 */
/* MaxMind DB files (GeoLite2, DB-IP), walked with every record pointer checked. */
#ifndef GEOBLOCK_GEOIP_MMDB_H
#define GEOBLOCK_GEOIP_MMDB_H

#include <stddef.h>
#include "geoip/prefix.h"

/* The MaxMind DB at path (named name in messages) into t. */
int mmdb_read(const char *path, const char *name, const char *field, struct geoip_table *t,
	      char *err, size_t errlen);

#endif
