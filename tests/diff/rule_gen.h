/* SPDX-License-Identifier: GPL-2.0 */
/* Random rule sets for the differential test, with what the packet generator draws from them. */
#ifndef GEOBLOCK_RULE_GEN_H
#define GEOBLOCK_RULE_GEN_H

#include "geoip/geoip.h"
#include "ref_classifier.h"

#define RULES_MAX_MEETINGS	64
#define RULES_MAX_SHARED	4	/* shared ports */
#define RULES_MAX_UFRAGS	320	/* ufrags the frames name (held, or added later) */
#define RULES_MAX_SLOTS		(2 * RULES_MAX_UFRAGS + 8)

/* A ufrag frames can name: held by the rules now, or taken away, or added later. */
struct rule_ufrag {
	__u8 text[GB_UFRAG_MAX];
	size_t len;
	__u32 home;		/* the meeting it was made for: frames naming it come from there */
};

/* A change of ufrag_owner (slot) or meeting_by_ufrag (key of pool[ufrag]), applied in order. */
struct ufrag_change {
	enum { UFRAG_SLOT, UFRAG_KEY_SET, UFRAG_KEY_DEL } op;
	__u32 slot;
	struct ref_ufrag_slot value;	/* UFRAG_SLOT */
	size_t ufrag;			/* UFRAG_KEY_*: an index of pool */
};
#define RULES_MAX_CHANGES	16

struct rule_set {
	struct ref_rules *ref;			/* owners, meetings, allow exceptions... */
	__u32 ids[RULES_MAX_MEETINGS];		/* ids of the meetings (and of orphaned ports) */
	size_t nids;
	__u16 *ports;				/* every port with an owner */
	size_t nports;
	__u16 *ports_of[RULES_MAX_MEETINGS];	/* the ports of ids[i] */
	size_t nports_of[RULES_MAX_MEETINGS];
	__u16 *blocked[GB_MAX_MEETINGS];	/* each meeting's blocked countries, as a list */
	size_t nblocked[GB_MAX_MEETINGS];
	/* The GeoIP table, and its prefixes by family (0: IPv4, 1: IPv6) and country. */
	const struct geoip_table *table;
	__u32 *by_country[2][GB_COUNTRY_COUNT];
	size_t nby_country[2][GB_COUNTRY_COUNT];
	__u32 *aliases;				/* indexes of the IPv6 alias entries */
	size_t naliases;
	/* Shared ports (GB_PORT_SHARED, no meeting), and the ufrags of meetings. */
	__u16 shared[RULES_MAX_SHARED];
	size_t nshared;
	__u16 owned_shared;			/* a meeting's port with the flag set too; 0: none */
	unsigned int shared_percent;		/* of valid frames, to a shared port (DIFF_SHARED) */
	struct rule_ufrag pool[RULES_MAX_UFRAGS];
	size_t npool;
	__u32 ufrag_meetings[RULES_MAX_MEETINGS];	/* the meetings that have ufrags */
	size_t nufrag_meetings;
	size_t enforced[RULES_MAX_UFRAGS];	/* pool ufrags made for meetings that drop */
	size_t nenforced;
	/* The meeting of exceptions: one of each family in a blocked country's network, at least. */
	__u32 allows_id;
	size_t allows_ufrag;		/* 1 + the pool index of a ufrag it holds from the start */
};

/*
 * A random rule set over table t: meetings with random ids, ports (colliding with each other's and
 * with random ports), blocked countries drawn by prefix count so that many sources are blocked,
 * allow exceptions around blocked sources, monitor mode, UDP/TCP coverage, expiry, inactive
 * meetings and ports whose meeting is gone; shared ports, and ufrags for most meetings (see
 * add_shared in rule_gen.c). ref is filled in, with country_v4/v6 from the caller.
 */
int rule_set_generate(struct rule_set *rs, const struct geoip_table *t, __u64 seed,
		      __u64 now_tai_ns);
void rule_set_free(struct rule_set *rs);
/*
 * Step step (from 1) of the ufrag changes of the run of seed: ufrags taken away (key, then slot
 * freed with its gen raised), added (slot, then key) or moved to another meeting (the slot alone),
 * as the controller makes them. Changes rs->ref and lists the map writes in out; returns how many.
 */
size_t rule_set_churn(struct rule_set *rs, __u64 seed, __u64 step,
		      struct ufrag_change out[RULES_MAX_CHANGES]);

struct rng;
/*
 * Some address (random bits after the prefix) in a network of country c, and the network's length
 * in *plen if plen is not NULL; false if c has no network of that family.
 */
bool rule_set_address(const struct rule_set *rs, struct rng *r, int family, __u16 c, __u8 addr[16],
		      unsigned int *plen);
/* addr: the first len bits of prefix, random bits after them. */
void rule_set_fill(struct rng *r, const __u8 *prefix, unsigned int len, __u8 addr[16]);

#endif /* GEOBLOCK_RULE_GEN_H */
