/* SPDX-License-Identifier: GPL-2.0 */
/* A meeting's expiry: as given, in the data path's CLOCK_TAI form, and whether it has passed. */
#ifndef GEOBLOCK_STATE_EXPIRY_H
#define GEOBLOCK_STATE_EXPIRY_H

#include <stdbool.h>
#include <linux/types.h>
#include "geoblock.h"

/* Seconds CLOCK_TAI is ahead of CLOCK_REALTIME (the kernel's TAI offset; 0 until NTP sets it). */
__s64 expiry_tai_offset(void);
/* unix_s (0: never) in CLOCK_TAI nanoseconds, as the data path compares it. */
__u64 expiry_tai(__s64 unix_s);
/* The expiry of p as given, in unix seconds (0: never). */
__s64 expiry_unix(const struct meeting_policy *p);
bool expiry_passed(const struct meeting_policy *p);

#endif
