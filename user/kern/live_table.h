/* SPDX-License-Identifier: GPL-2.0 */
/* The data path's tables compiled for the countries that live meetings block or monitor. */
#ifndef GEOBLOCK_KERN_LIVE_TABLE_H
#define GEOBLOCK_KERN_LIVE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "kern/pins.h"

/* The countries the active meetings of policies[1..n-1] block or monitor, a bit per country id. */
void live_countries(const struct meeting_policy *policies, size_t n,
		    __u64 out[GB_COUNTRY_WORDS]);
/* The same, of the meetings in the pinned maps. */
int live_countries_read(const struct gb_ctx *ctx, __u64 out[GB_COUNTRY_WORDS]);
/*
 * Makes the data path's tables tell apart every country of the active meetings of policies
 * (GB_MAX_MEETINGS slots; NULL: those in the pinned maps) and of extra (NULL: none): compiled anew from the loaded networks and
 * swapped in when they do not already (exact: when they tell apart any other, too, so that they
 * shrink). Nothing to do without a loaded table. Call it under the state lock, before an update
 * that makes a meeting block a country the tables may not tell apart (extra: its countries), and
 * after one that leaves a country to no meeting. With extra, and not exact, the tables are taken
 * to tell apart the active meetings' countries already when they tell apart extra's: every change
 * starts with a call without extra, which makes sure of it.
 */
int live_table_cover(const struct gb_ctx *ctx, const struct meeting_policy *policies,
		     const __u64 *extra, bool exact);

#endif
