/* SPDX-License-Identifier: GPL-2.0 */
/* Which country codes a meeting may block, and what the loaded GeoIP table gives each of them. */
#ifndef GEOBLOCK_STATE_COUNTRIES_H
#define GEOBLOCK_STATE_COUNTRIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include "kern/pins.h"
#include "kern/table_view.h"
#include "geoblock.h"

struct json_object;

/* The networks per country of the loaded table ([0] IPv4, [1] IPv6); none if not loaded. */
struct country_census {
	bool loaded;
	__u32 networks[2][GB_COUNTRY_COUNT];
};

/* The state dir's file keeping the census of the loaded table (countries_census_record). */
#define STATE_CENSUS_FILE	"census"

/*
 * The loaded table's networks per country (loaded false: no table): from the census kept when it
 * was loaded, or else counted from its network lists (and kept, when ctx holds the lock); one line
 * on error.
 */
int countries_census(const struct gb_ctx *ctx, struct country_census *c);
/*
 * Counts the networks of the table just loaded and keeps them for countries_census, tied to that
 * table; under the state lock. A warning line if they cannot be kept: each change counts then.
 */
int countries_census_record(const struct gb_ctx *ctx);
/* The same from a table already open. */
void countries_census_of(const struct table_view *v, struct country_census *c);
/*
 * Accepts a block list when each code is officially assigned (ISO 3166-1) or used by the loaded
 * table (XK); else -EINVAL and err, one line naming the first code refused and, where there is
 * one, what was meant ("UK is not a country code; the United Kingdom is GB").
 */
int countries_check(const struct country_census *c, const __u64 *blocked, char *err,
		    size_t errlen);
/* The codes of blocked the loaded table has no network for, "XA,XB" ("": none, or no table). */
void countries_without_networks(const struct country_census *c, const __u64 *blocked, char *out,
				size_t outlen);
/* What loads a table where none is: after a reboot the maps are new and empty. */
#define COUNTRIES_LOAD_HINT "geoblock geoip load PATH, or geoblock restore after a reboot"
/*
 * The warning line for meeting: no table is loaded while it blocks countries, or the table has
 * no network in some (countries_without_networks); else "". Returns out.
 */
#define COUNTRIES_WARNING_LEN (GB_COUNTRY_COUNT * 3 + GB_MEETING_NAME_LEN + 96)
const char *countries_warning(const struct country_census *c, const __u64 *blocked,
			      const char *meeting, char *out, size_t len);
struct spec_list;
/*
 * With no table loaded while a meeting of l blocks a country, the one warning line for them all
 * ("WHERE: no GeoIP table is loaded: its meetings block nothing until one is (...)"); else "".
 * Returns out.
 */
const char *countries_set_warning(const struct country_census *c, const struct spec_list *l,
				  const char *where, char *out, size_t len);
/* countries_warning's line as a warning, if any; returns 1 then, else 0. */
int countries_warn(const struct country_census *c, const __u64 *blocked, const char *meeting);
/* A line per blocked country, first after first then after rest: "CN China: 8,231 IPv4 + ..." */
void countries_describe(const struct country_census *c, const __u64 *blocked, const char *first,
			const char *rest, FILE *out);
/* The same as a JSON array of {"code","name","ipv4_networks","ipv6_networks"}. */
struct json_object *countries_json(const struct country_census *c, const __u64 *blocked);

#endif
