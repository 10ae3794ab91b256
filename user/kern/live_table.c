// SPDX-License-Identifier: GPL-2.0
/*
 * The data path's tables compiled for the live policy. The world table answers "which country"
 * for every address; the data path only needs to know whether a source is in a country some live
 * meeting blocks or monitors, and which. Compiled for that set (every other country's ranges one
 * value, GB_COUNTRY_OTHER, merged with their neighbours) the tables are a few ranges and the
 * lookup stays in the cache. They are compiled from the network lists loaded with the table, and
 * always tell apart at least the countries of the active meetings: grown before a meeting names a
 * new country, shrunk after the last meeting naming one has gone.
 */
#include <errno.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "lib/errors.h"
#include "kern/live_table.h"
#include "kern/maps.h"
#include "kern/table.h"
#include "kern/table_view.h"
#include "geoblock.skel.h"

void live_countries(const struct meeting_policy *policies, size_t n,
		    __u64 out[GB_COUNTRY_WORDS])
{
	memset(out, 0, GB_COUNTRY_WORDS * sizeof(*out));
	for (size_t id = 1; id < n; id++)
		if (policies[id].flags & GB_MEETING_ACTIVE)
			for (int w = 0; w < GB_COUNTRY_WORDS; w++)
				out[w] |= policies[id].blocked[w];
}

int live_countries_read(const struct gb_ctx *ctx, __u64 out[GB_COUNTRY_WORDS])
{
	struct map_view view;
	int err;

	err = map_view_open(bpf_map__fd(ctx->skel->maps.meeting_policy), GB_MAX_MEETINGS,
			    sizeof(struct meeting_policy), &view);
	if (err)
		return err;
	live_countries(view.base, GB_MAX_MEETINGS, out);
	map_view_close(&view);
	return 0;
}

static bool told_apart(const __u64 have[GB_COUNTRY_WORDS], const __u64 want[GB_COUNTRY_WORDS],
		       bool exact)
{
	for (int w = 0; w < GB_COUNTRY_WORDS; w++)
		if (exact ? have[w] != want[w] : (want[w] & ~have[w]))
			return false;
	return true;
}

int live_table_cover(const struct gb_ctx *ctx, const struct meeting_policy *policies,
		     const __u64 *extra, bool exact)
{
	__u64 have[GB_COUNTRY_WORDS], want[GB_COUNTRY_WORDS];
	bool recorded = !table_cover(ctx, have);
	struct table_view v;
	int err;

	/* Growing: the active meetings' countries are told apart already (see the header). */
	if (extra && !exact && recorded && told_apart(have, extra, false))
		return 0;
	if (policies)
		live_countries(policies, GB_MAX_MEETINGS, want);
	else if ((err = live_countries_read(ctx, want)))
		return err;
	for (int w = 0; extra && w < GB_COUNTRY_WORDS; w++)
		want[w] |= extra[w];
	if (recorded && told_apart(have, want, exact))
		return 0;
	err = table_open(ctx, &v);
	if (err)
		return err;
	if (!v.net[0] && !v.net[1]) {	/* no table loaded: nothing to tell apart */
		table_close(&v);
		return 0;
	}
	err = table_compile_live(ctx, v.net, v.net_n, want);
	table_close(&v);
	if (err)
		gb_err("cannot compile the data path's table for the live meetings' countries: %s",
		       strerror(-err));
	return err;
}
