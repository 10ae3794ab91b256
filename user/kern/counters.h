/* SPDX-License-Identifier: GPL-2.0 */
/* Every figure `stats` and the metrics exporter show, read from the pinned maps in one pass. */
#ifndef GEOBLOCK_COUNTERS_H
#define GEOBLOCK_COUNTERS_H

#include <net/if.h>
#include "kern/links.h"
#include "kern/pins.h"
#include "kern/verdicts.h"

/* One (meeting, country) pair: configured (the meeting blocks the country) and/or counted. */
struct pair_counter {
	__u32 meeting_id;
	__u16 country;
	__u8 blocked;		/* the country is on the meeting's block list */
	__u8 counted;		/* the pair has seen a drop or a monitor hit */
	struct drop_counter c;
};

/* Drops on one interface (link_drops of the program attached to it), named after its link. */
struct iface_counter {
	__u32 ifindex;
	char name[IF_NAMESIZE];	/* the pinned link's name */
	__u64 packets;
	__u64 bytes;
};

struct counters {
	struct verdict_counter verdicts[GB_REASON_COUNT];
	struct verdict_counter passed;		/* every verdict but GB_DROP */
	struct meeting_policy *policies;	/* GB_MAX_MEETINGS slots, index = meeting id */
	__u32 meetings[2];			/* active meetings: [0] enforce, [1] monitor */
	struct pair_counter *pairs;		/* live meetings only, by meeting id then country */
	size_t n_pairs;
	struct iface_counter *ifaces;		/* by ifindex */
	size_t n_ifaces;
	struct link_state *links;		/* by name */
	size_t n_links;
	struct geoip_info geoip;
	__u64 ice[GB_ICE_STAT_COUNT];		/* senders to shared ports: enum ice_stat */
	/* Read by the exporter alone (2 MiB): counters_read leaves them false and 0. */
	bool ice_cache_known;			/* the two below read (ice_hot mapped) */
	size_t ice_cached;			/* entries in use in ice_hot */
	bool ice_cache_suspended;		/* its count odd: the data path leaves it alone */
};

/* The stable names of enum ice_stat, in `stats --json` and the metrics. */
extern const char *const ice_stat_names[GB_ICE_STAT_COUNT];

static inline bool meeting_live(const struct meeting_policy *p)
{
	return (p->flags & GB_MEETING_ACTIVE) && p->name[0];
}

/* Reads every counter and what names them; 0 or a negative errno (c is then empty). */
int counters_read(const struct gb_ctx *ctx, struct counters *c);
void counters_free(struct counters *c);
/* The drop counter of the interface a link is attached to; NULL if it has none. */
const struct iface_counter *counters_link_drops(const struct counters *c,
						const struct link_state *l);

#endif
