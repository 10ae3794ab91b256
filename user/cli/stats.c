// SPDX-License-Identifier: GPL-2.0
/* `stats`: the figures of counters.c, the ones the exporter serves, for people and programs. */
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/parse.h"
#include "kern/counters.h"
#include "kern/links.h"
#include "kern/pins.h"
#include "state/context.h"
#include "state/report.h"
#include "cli/cmd.h"
#include "cli/output.h"

static void print_human(const struct counters *c)
{
	const struct geoip_info *g = &c->geoip;
	char built[64], loaded[64], failed[64];
	__s64 now = time(NULL);

	printf("%-20s %14s %16s\n", "VERDICT", "PACKETS", "BYTES");
	for (int r = 0; r < GB_REASON_COUNT; r++)
		printf("%-20s %14llu %16llu\n", verdict_names[r],
		       (unsigned long long)c->verdicts[r].packets,
		       (unsigned long long)c->verdicts[r].bytes);
	printf("%-20s %14llu %16llu\n", "passed (all)", (unsigned long long)c->passed.packets,
	       (unsigned long long)c->passed.bytes);

	printf("\n%-24s %-7s %14s %16s %14s %16s\n", "MEETING", "COUNTRY", "DROPPED", "BYTES",
	       "MONITOR HITS", "MONITOR BYTES");
	for (size_t i = 0; i < c->n_pairs; i++) {
		const struct pair_counter *p = &c->pairs[i];
		char cc[3];

		if (!p->counted)
			continue;
		country_code(p->country, cc);
		printf("%-24s %-7s %14llu %16llu %14llu %16llu\n", c->policies[p->meeting_id].name,
		       cc, (unsigned long long)p->c.packets, (unsigned long long)p->c.bytes,
		       (unsigned long long)p->c.monitor_packets,
		       (unsigned long long)p->c.monitor_bytes);
	}

	printf("\n%-24s %-9s %14s %16s\n", "INTERFACE", "ATTACHED", "DROPPED", "BYTES");
	for (size_t i = 0; i < c->n_links; i++) {
		const struct link_state *l = &c->links[i];
		const struct iface_counter *ic = counters_link_drops(c, l);
		unsigned long long packets = ic ? ic->packets : 0, bytes = ic ? ic->bytes : 0;

		printf("%-24s %-9s %14llu %16llu\n", l->name, l->ifindex ? "yes" : "no", packets,
		       bytes);
	}

	printf("\nmeetings:  %u enforcing, %u monitoring\n", c->meetings[0], c->meetings[1]);
	printf("ice:       senders to shared ports %llu learned, %llu refreshed, %llu moved, "
	       "%llu kept, %llu rebound\n", (unsigned long long)c->ice[GB_ICE_LEARNED],
	       (unsigned long long)c->ice[GB_ICE_REFRESHED],
	       (unsigned long long)c->ice[GB_ICE_MOVED], (unsigned long long)c->ice[GB_ICE_KEPT],
	       (unsigned long long)c->ice[GB_ICE_REBOUND]);
	format_time_age(g->build_epoch, now, built, sizeof(built));
	format_time_age(g->loaded_at, now, loaded, sizeof(loaded));
	format_time_age(g->last_failure_at, now, failed, sizeof(failed));
	printf("geoip:     %u IPv4 + %u IPv6 prefixes, built %s, loaded %s, %llu failed reloads "
	       "(last %s)\n", g->v4_prefixes, g->v6_prefixes, built, loaded,
	       (unsigned long long)g->failed_reloads, failed);
}

int cmd_stats(const struct cmd_args *a)
{
	bool json = a->opt[OPT_JSON];
	struct counters c;
	struct gb_ctx ctx;
	int err;

	if (gb_open(&ctx, GB_OPEN_READ))
		return GB_EXIT_FAIL;
	warn_interrupted(&ctx);
	err = counters_read(&ctx, &c);
	gb_close(&ctx);
	if (err) {
		gb_err("cannot read counters: %s", strerror(-err));
		return GB_EXIT_FAIL;
	}
	if (json)
		print_json(stats_json(&c));
	else
		print_human(&c);
	counters_free(&c);
	return GB_EXIT_OK;
}
