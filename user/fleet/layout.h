/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fleet store's key layout (docs/fleet.md) and what one node takes from it: under PREFIX/,
 * meetings/NAME for every node, nodes/NODE/meetings/NAME for one (it wins over a global meeting
 * of the same name), shared-ports, geoip, status/NODE (the nodes' own), and fleet (the prefix is a
 * fleet's, even one holding no meeting).
 */
#ifndef GEOBLOCK_FLEET_LAYOUT_H
#define GEOBLOCK_FLEET_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "state/countries.h"
#include "state/rules_file.h"
#include "fleet/etcd.h"

#define FLEET_DEFAULT_ETCD	"http://127.0.0.1:2379"
#define FLEET_DEFAULT_PREFIX	"/geoblock"
#define FLEET_VALUE_MAX		(64u << 10)
#define FLEET_PREFIX_MAX	200

/* A key the node does not take, and why. */
struct fleet_refusal {
	char *key;
	__s64 mod_revision;
	char name[GB_MEETING_NAME_LEN];	/* a meeting key's meeting, else "" */
	char reason[240];
};

/* What a node's rule set should be, from the store. */
struct fleet_want {
	struct spec_list meetings;
	__u8 shared[GB_PORT_COUNT / 8];	/* the shared ports */
	bool geoip_given;		/* PREFIX/geoip was there */
	__u64 geoip_build_epoch;
	char geoip_sha256[65];		/* lower-case hex; "" when not given */
	struct fleet_refusal *refused;
	size_t n_refused;
};

/*
 * What a node applied from the keys other than meetings: a new value of one that is refused
 * keeps it (a bad write must not lift the shared ports' blocks on every node).
 */
struct fleet_kept {
	bool shared_known;		/* shared holds the shared ports here */
	__u8 shared[GB_PORT_COUNT / 8];
	bool geoip_given;
	__u64 geoip_build_epoch;
	char geoip_sha256[65];
};

/* What a key is in the layout under a prefix. */
enum fleet_key_kind {
	FLEET_KEY_ELSEWHERE,		/* not under the prefix */
	FLEET_KEY_OUTSIDE,		/* under it, in no place of the layout: every node refuses it */
	FLEET_KEY_MEETING,		/* meetings/NAME, or nodes/NODE/meetings/NAME (node set) */
	FLEET_KEY_SHARED_PORTS,		/* shared-ports */
	FLEET_KEY_GEOIP,		/* geoip */
	FLEET_KEY_STATUS,		/* status/NODE, a node's own report */
	FLEET_KEY_MARK,			/* fleet: the prefix is a fleet's (fleet init, fleet put) */
};

struct fleet_key {
	enum fleet_key_kind kind;
	char node[GB_MEETING_NAME_LEN + 16];	/* a node's meeting's or status's node, else "" */
	char name[GB_MEETING_NAME_LEN + 16];	/* a meeting key's meeting, else "" */
};

/* What key is under prefix (as fleet_prefix gives it); names too long for k are OUTSIDE. */
void fleet_key_parse(const char *prefix, const char *key, struct fleet_key *k);
/*
 * Whether node takes k into account (taken or refused): everything under the prefix but statuses
 * and other nodes' meetings. What a node follows, and what fleet status expects it to have seen.
 */
bool fleet_key_concerns(const struct fleet_key *k, const char *node);
/* The same of a key under prefix (fleet_key_parse, then fleet_key_concerns). */
bool fleet_concerns(const char *prefix, const char *key, const char *node);
/*
 * Whether the keys under prefix are a fleet's: a meeting (any node's), shared-ports, geoip or the
 * fleet key. Statuses are not (a node writes its own under any prefix it is given).
 */
bool fleet_store_named(const struct etcd_kv *kvs, size_t n, const char *prefix);
/* PREFIX/fleet, the key that names an empty fleet. */
int fleet_mark_key(const char *prefix, char *out, size_t len);
/* prefix as keys start: one '/' at its end ("/geoblock" -> "/geoblock/"); -EINVAL if unfit. */
int fleet_prefix(const char *given, char *out, size_t len);
/* A node name: a meeting name's characters, no '/'. */
bool fleet_node_valid(const char *node);
/*
 * --etcd-prefix given (into out, as fleet_prefix) and --node node (NULL: none): 0, or -EINVAL
 * after one line saying which is unfit.
 */
int fleet_names_check(const char *given, const char *node, char *out, size_t len);
/* PREFIX/meetings/NAME, or PREFIX/nodes/NODE/meetings/NAME with node. */
int fleet_meeting_key(const char *prefix, const char *node, const char *name, char *out,
		      size_t len);
/*
 * A meeting key's value read as a node reads it: 0 and s; 1 (s empty) if the meeting has
 * expired; -EINVAL with why.
 */
int fleet_meeting_read(const struct etcd_kv *kv, const char *name,
		       const struct country_census *census, struct meeting_spec *s, char *why,
		       size_t len);
/*
 * The want of node from every key under prefix (kvs in any order), its countries checked against
 * census: bad keys refused one by one (of two meetings claiming one port, ufrag or room, the one
 * written later), the rest taken; meetings whose expiry has passed left out. A refused
 * shared-ports or geoip key gives what kept holds (NULL: nothing). A refused meeting key of the
 * node's own leaves out the global one of its name too (the version applied before is kept:
 * fleet_keep_refused).
 */
int fleet_want_build(const struct etcd_kv *kvs, size_t n, const char *prefix, const char *node,
		     const struct country_census *census, const struct fleet_kept *kept,
		     struct fleet_want *w);
void fleet_want_free(struct fleet_want *w);
void fleet_refusals_free(struct fleet_refusal *r, size_t n);
/* Whether r (key and revision) is among v's n. */
bool fleet_refusal_in(const struct fleet_refusal *v, size_t n, const struct fleet_refusal *r);
/* Logs each refusal of now that was not among before (each once); returns how many. */
unsigned int fleet_refusals_say(const struct fleet_refusal *before, size_t n_before,
				const struct fleet_refusal *now, size_t n_now);

#endif
