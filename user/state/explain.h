/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What decides one packet, over the live maps: for `explain` and /v1/explain (a packet to a
 * port), `check` and /v1/meetings/{name}/check (an address joining a meeting).
 */
#ifndef GEOBLOCK_STATE_EXPLAIN_H
#define GEOBLOCK_STATE_EXPLAIN_H

#include <stdbool.h>
#include <linux/types.h>
#include "kern/pins.h"
#include "state/countries.h"
#include "geoblock.h"

struct json_object;

struct explanation {
	char address[64];
	int port;			/* 0: a check, which has no port (nor protocol) */
	bool tcp;
	bool shared;			/* the port is shared: the meeting is found by ufrag */
	char ufrag[GB_UFRAG_MAX + 1];	/* explain --ufrag: a Binding Request naming it */
	int sport;			/* explain --sport: a sender's media, from this port; 0 */
	bool learned;			/* --sport: the sender's way is bound to a live ufrag: */
	char learned_ufrag[GB_UFRAG_MAX + 1];
	long long learned_age_s;	/* since the way's time (refreshed about every 8 s) */
	unsigned int reason;		/* enum verdict_reason */
	const char *verdict;		/* its name, as stats and the metrics give it */
	char meeting[GB_MEETING_NAME_LEN];
	bool no_table;			/* no GeoIP table is loaded (a reboot's new maps) */
	char country[3];		/* "" when the address has none */
	const char *country_name;	/* NULL when the address has none */
	char network[64];		/* the GeoIP network that answered, "" if none */
	char rule[96];			/* "block DE", "allow 203.0.113.0/24", "" */
	char exception[64];		/* the allow exception that passes it, "" if none */
	char why[GB_COUNTRY_COUNT * 3 + 512];
	bool has_meeting;
	bool janus;			/* the port is a Janus handle's (dynamic), in this room: */
	__u64 janus_room, janus_session, janus_handle;
	/* The meeting's, when has_meeting. */
	__u32 flags;
	__u64 blocked[GB_COUNTRY_WORDS];
	char expires[32];		/* RFC 3339, "" for never */
	struct country_census census;	/* of the table that answered; explain only */
	int attached;			/* interfaces the filter runs on (-1: unknown); explain */
};

/*
 * A packet from address to port (to a shared port with ufrag: a Binding Request naming it; with
 * sport: another packet of the sender from that source port; neither: one of a sender none
 * named): -EINVAL after one error line for bad input (a ufrag or sport for a port not shared
 * too); ctx NULL: the input checked only.
 */
int explain_packet(const struct gb_ctx *ctx, const char *address, const char *port,
		   const char *proto, const char *ufrag, const char *sport, struct explanation *e);
/*
 * An address joining meeting: what the data path decides for its packets to any of the meeting's
 * ports. After one error line: -EINVAL a bad address, -ENOENT no such meeting; ctx NULL: the
 * address checked only.
 */
int explain_check(const struct gb_ctx *ctx, const char *meeting, const char *address,
		  struct explanation *e);
/* explain's JSON, or check's when e->port is 0. */
struct json_object *explanation_json(const struct explanation *e);

#endif
