/* SPDX-License-Identifier: GPL-2.0 */
/* CSV range files: "start,end,CC" lines. */
#ifndef GEOBLOCK_GEOIP_CSV_H
#define GEOBLOCK_GEOIP_CSV_H

#include "geoip/prefix.h"
#include "geoip/input.h"

/* "start,end,CC" ranges into t. */
int csv_read(struct input *in, struct geoip_table *t);

#endif
