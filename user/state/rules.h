/* SPDX-License-Identifier: GPL-2.0 */
/* The rule set in the maps (struct rules), read whole and changed one meeting at a time. */
#ifndef GEOBLOCK_STATE_RULES_H
#define GEOBLOCK_STATE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "kern/maps.h"
#include "kern/pins.h"
#include "state/janus_rooms.h"
#include "state/rules_file.h"
#include "state/ufrags.h"

/*
 * policies, owners and slots are the maps' own memory (mapped read-only), so always what the data
 * path sees; the rest is kept in step with them by the functions below.
 */
struct rules {
	const struct meeting_policy *policies;	/* GB_MAX_MEETINGS slots, index = meeting id */
	const struct port_owner *owners;	/* GB_PORT_COUNT entries, index = port */
	/* Each meeting's ports as a list, kept with owners: first[id], then next[port] (0 ends). */
	__u32 *first_port, *next_port, *prev_port;
	struct allow_v4_key *allow4;		/* every allow exception, all meetings */
	struct allow_v6_key *allow6;
	size_t n_allow4, n_allow6;
	__u64 *counter_used;			/* bit per drop counter a meeting holds */
	size_t counters_free;			/* drop counters no meeting holds */
	struct ufrag_set uf;			/* shared ports' ufrags (state/ufrags.c) */
	struct janus_set janus;			/* Janus rooms and handles' ports (janus_rooms.c) */
	/* A meeting that blocked countries was removed: the data path's tables may shrink. */
	bool countries_left;
	struct map_view views[2];
	/* drop_slot (per meeting id) mapped in chunks of RULES_SLOT_CHUNK ids, each when needed. */
	int slot_fd;
	struct map_view slot_views[(GB_MAX_MEETINGS + 255) / 256];
};
#define RULES_SLOT_CHUNK	256	/* ids whose drop_slot entries fill whole pages */

int rules_read(const struct gb_ctx *ctx, struct rules *r);
void rules_free(struct rules *r);
__u32 rules_find(const struct rules *r, const char *name);
void rules_ports_of(const struct rules *r, __u32 id, __u8 ports[GB_PORT_COUNT / 8]);
/*
 * Finishes what an interrupted change left: inactive slots, ports and exceptions of no meeting;
 * and converts expiries for the data path again when the TAI offset has changed since.
 */
int rules_repair(const struct gb_ctx *ctx, struct rules *r);
int rules_spec(const struct rules *r, __u32 id, struct meeting_spec *s);
int rules_specs(const struct rules *r, struct spec_list *l);	/* every active meeting */
static inline bool rules_port_shared(const struct rules *r, __u32 port)
{
	return !r->owners[port].meeting_id && (r->owners[port].flags & GB_PORT_SHARED);
}
/* How many ports are shared. */
static inline unsigned int rules_shared_count(const struct rules *r)
{
	unsigned int n = 0;

	for (__u32 p = 1; p < GB_PORT_COUNT; p++)
		n += rules_port_shared(r, p);
	return n;
}
/* Adds one meeting; the data path sees it only once it is complete. */
int rules_add(const struct gb_ctx *ctx, struct rules *r, const struct meeting_spec *s, __u32 *id);
int rules_remove(const struct gb_ctx *ctx, struct rules *r, __u32 id);
/* Meeting id's mode, and with expires its expiry, changed in place (its counters kept). */
int rules_set_mode(const struct gb_ctx *ctx, struct rules *r, __u32 id, bool monitor,
		   const __s64 *expires);

/* The steps a plan is carried out with (plan.c). */
/* A slot in use, by a meeting or by one half written (not yet active). */
bool rules_slot_occupied(const struct meeting_policy *p);
/* The first free meeting slot, 0 if none. */
__u32 rules_free_slot(const struct rules *r);
/* Gives port to meeting id (0: to nobody) in one update. */
int rules_set_owner(const struct gb_ctx *ctx, struct rules *r, __u32 port, __u32 id);
/*
 * Writes meeting s into slot id: inactive first, then its exceptions (and its ports and ufrags, if
 * with_ports), then active.
 */
int rules_write_meeting(const struct gb_ctx *ctx, struct rules *r, const struct meeting_spec *s,
			__u32 id, bool with_ports);

#endif
