// SPDX-License-Identifier: GPL-2.0
/*
 * Random rule sets for the differential test: meetings, ports, countries, allow exceptions; shared
 * ports and the ufrags of meetings, and the changes of ufrags during a run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "rng.h"
#include "rule_gen.h"

#define SEC_NS	1000000000ULL
#define DAY_NS	(86400 * SEC_NS)

/* Gives port to the meeting of ids[slot], unless another meeting has it already. */
static int set_port(struct rule_set *rs, unsigned int port, size_t slot)
{
	__u16 *p;

	if (port == 0 || port >= GB_PORT_COUNT || rs->ref->owner[port])
		return 0;	/* taken: a collision between meetings, the first keeps it */
	p = realloc(rs->ports_of[slot], (rs->nports_of[slot] + 1) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	rs->ports_of[slot] = p;
	p[rs->nports_of[slot]++] = port;
	rs->ref->owner[port] = rs->ids[slot];
	rs->ports[rs->nports++] = port;
	return 0;
}

/* A country drawn by prefix count: the big countries of the table come up most. */
static __u16 draw_country(const struct rule_set *rs, struct rng *r)
{
	for (int tries = 0; tries < 64; tries++) {
		const struct prefix_list *l = rng_percent(r, 60) ? &rs->table->v4 : &rs->table->v6;
		__u16 c;

		if (!l->n)
			continue;
		c = l->v[rng_below(r, l->n)].country;
		if (c != GB_COUNTRY_V4_ALIAS && c != GB_COUNTRY_NONE)
			return c;
	}
	return 1 + rng_below(r, GB_COUNTRY_COUNT - 1);
}

bool rule_set_address(const struct rule_set *rs, struct rng *r, int family, __u16 c, __u8 addr[16],
		      unsigned int *plen)
{
	int fam = family == 6;
	const struct prefix_list *l = fam ? &rs->table->v6 : &rs->table->v4;
	const struct prefix *p;

	if (c >= GB_COUNTRY_COUNT || !rs->nby_country[fam][c])
		return false;
	p = &l->v[rs->by_country[fam][c][rng_below(r, rs->nby_country[fam][c])]];
	rule_set_fill(r, p->addr, p->len, addr);
	if (plen)
		*plen = p->len;
	return true;
}

void rule_set_fill(struct rng *r, const __u8 *prefix, unsigned int len, __u8 addr[16])
{
	for (int i = 0; i < 16; i++)
		addr[i] = rng_next(r);
	for (unsigned int b = 0; b < len; b++) {
		__u8 bit = 0x80 >> (b % 8);

		addr[b / 8] = (addr[b / 8] & ~bit) | (prefix[b / 8] & bit);
	}
}

/*
 * Allow exceptions, most around sources of a country the meeting blocks; with both, the first two
 * are (IPv4, then IPv6) in such a network, so that frames from them are "allowed" whatever the seed.
 */
static int add_allows(struct rule_set *rs, struct rng *r, struct ref_meeting *m, __u32 id,
		      bool both)
{
	size_t n = (both ? 2 : 1) + rng_below(r, 6);

	m->allow = calloc(n, sizeof(*m->allow));
	if (!m->allow)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct ref_cidr *c = &m->allow[m->nallow++];
		__u16 country = rs->nblocked[id] ? rs->blocked[id][rng_below(r, rs->nblocked[id])] :
						   GB_COUNTRY_NONE;
		bool sure = both && i < 2;
		/* IPv4, IPv6, IPv4-mapped IPv6 */
		unsigned int kind = sure ? (i ? 60 : 0) : rng_below(r, 100);
		unsigned int bits = kind >= 50 && kind < 90 ? 128 : 32, plen = 0, len;
		__u8 a[16];

		/* Most inside a network of a blocked country, some spanning several networks. */
		if ((!sure && !rng_percent(r, 80)) ||
		    !rule_set_address(rs, r, bits == 128 ? 6 : 4, country, a, &plen))
			rule_set_fill(r, a, 0, a);
		if (plen && (sure || rng_percent(r, 75)))
			len = plen + rng_below(r, 9);
		else
			len = 8 + rng_below(r, bits - 7);
		len = len > bits ? bits : len;
		if (kind < 50) {
			c->family = 4;
			c->len = len;
			memcpy(c->addr, a, 4);
		} else if (kind < 90) {
			c->family = 6;
			c->len = len;
			memcpy(c->addr, a, 16);
		} else {
			/* An IPv6 rule for IPv4-mapped sources; IPv4 sources never match it. */
			c->family = 6;
			c->len = 96 + len;
			c->addr[10] = c->addr[11] = 0xff;
			memcpy(c->addr + 12, a, 4);
		}
		for (unsigned int b = c->len; b < 128; b++)
			c->addr[b / 8] &= ~(0x80 >> (b % 8));
	}
	return 0;
}

/* The first meetings of every set, so that each kind is there whatever the seed. */
enum { KIND_RANDOM, KIND_ENFORCE, KIND_MONITOR, KIND_EXPIRED, KIND_ALLOWS, KIND_INACTIVE,
       KIND_TCP_ONLY, KIND_COUNT };

static int add_meeting(struct rule_set *rs, struct rng *r, size_t slot, int kind, __u64 now)
{
	__u32 id = rs->ids[slot];
	struct ref_meeting *m = &rs->ref->meeting[id];
	int err = 0;
	size_t items = 1 + rng_below(r, 4), ncountries;
	unsigned int cover = rng_below(r, 100);

	m->flags = rng_percent(r, 92) ? GB_MEETING_ACTIVE : 0;
	m->flags |= cover < 50 ? GB_MEETING_UDP : cover < 85 ? GB_MEETING_UDP | GB_MEETING_TCP :
		    cover < 97 ? GB_MEETING_TCP : 0;
	if (rng_percent(r, 20))
		m->flags |= GB_MEETING_MONITOR;
	if (rng_percent(r, 15))
		m->expires_tai_ns = now + DAY_NS + rng_below(r, 30 * DAY_NS);
	else if (rng_percent(r, 18))
		m->expires_tai_ns = now - 3600 * SEC_NS - rng_below(r, 30 * DAY_NS);
	if (kind != KIND_RANDOM) {
		m->flags = kind == KIND_INACTIVE ? GB_MEETING_UDP | GB_MEETING_TCP :
			   kind == KIND_TCP_ONLY ? GB_MEETING_ACTIVE | GB_MEETING_TCP :
			   GB_MEETING_ACTIVE | GB_MEETING_UDP | GB_MEETING_TCP;
		m->flags |= kind == KIND_MONITOR ? GB_MEETING_MONITOR : 0;
		m->expires_tai_ns = kind == KIND_EXPIRED ? now - 3600 * SEC_NS : 0;
	}

	ncountries = rng_percent(r, 90) ? 1 + rng_below(r, 8) : 20 + rng_below(r, 80);
	rs->blocked[id] = calloc(ncountries, sizeof(__u16));
	if (!rs->blocked[id])
		return -ENOMEM;
	for (size_t i = 0; i < ncountries; i++) {
		__u16 c = rng_percent(r, 95) ? draw_country(rs, r) :
					       1 + rng_below(r, GB_COUNTRY_COUNT - 1);

		if (m->blocked[c / 64] & (1ULL << (c % 64)))
			continue;
		m->blocked[c / 64] |= 1ULL << (c % 64);
		rs->blocked[id][rs->nblocked[id]++] = c;
	}
	if (kind == KIND_ALLOWS || (kind == KIND_RANDOM && rng_percent(r, 30))) {
		err = add_allows(rs, r, m, id, kind == KIND_ALLOWS);
		if (kind == KIND_ALLOWS)
			rs->allows_id = id;
		if (err)
			return err;
	}
	if (m->nallow || rng_percent(r, 3))
		m->flags |= GB_MEETING_ALLOWS;

	for (size_t i = 0; i < items; i++) {
		unsigned int first = rng_percent(r, 60) ? 8000 + rng_below(r, 2000) :
							  1 + rng_below(r, GB_PORT_COUNT - 1);
		unsigned int n = rng_percent(r, 70) ? 1 : 2 + rng_below(r, 63);

		for (unsigned int p = first; p < first + n && !err; p++)
			err = set_port(rs, p, slot);
	}
	return err;
}


/* A ufrag of ice-chars (RFC 8839) new to the pool, of a length drawn around those in use. */
static void new_ufrag(struct rule_set *rs, struct rng *r, struct rule_ufrag *u)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned int roll;
	bool taken;

	do {
		roll = rng_below(r, 100);
		/* aiortc and Janus: 4; pion: 16; webrtcbin: 32; the bounds 4..256 */
		u->len = roll < 25 ? 4 : roll < 40 ? 16 : roll < 55 ? 32 : roll < 65 ? 24 :
			 roll < 75 ? GB_UFRAG_MAX : roll < 80 ? GB_UFRAG_MAX - 1 :
			 5 + rng_below(r, GB_UFRAG_MAX - 5);
		memset(u->text, 0, sizeof(u->text));
		for (size_t i = 0; i < u->len; i++)
			u->text[i] = chars[rng_below(r, 64)];
		taken = false;
		for (size_t i = 0; i < rs->npool && !taken; i++)
			taken = rs->pool[i].len == u->len && !memcmp(rs->pool[i].text, u->text, u->len);
	} while (taken);
}

/* Whether a key of the rules names slot. */
static bool slot_keyed(const struct ref_ufrags *u, __u32 slot)
{
	for (size_t i = 0; i < u->nkeys; i++)
		if (u->key[i].slot == slot)
			return true;
	return false;
}

/* The key of pool[k] in the rules, or NULL. */
static struct ref_ufrag *key_of(const struct rule_set *rs, size_t k)
{
	return (struct ref_ufrag *)ref_ufrag_find(&rs->ref->ufrags, rs->pool[k].text,
						  rs->pool[k].len);
}

/* A slot with no meeting and no key (taken again with the gen it was freed with), or a new one. */
static __u32 free_slot(const struct rule_set *rs, struct rng *r)
{
	const struct ref_ufrags *u = &rs->ref->ufrags;
	__u32 start = 1 + rng_below(r, u->nslots - 1);

	if (u->nslots < RULES_MAX_SLOTS && rng_percent(r, 50))
		return u->nslots;
	for (__u32 k = 0; k < u->nslots - 1; k++) {
		__u32 slot = 1 + (start - 1 + k) % (u->nslots - 1);

		if (!u->slot[slot].meeting && !slot_keyed(u, slot))
			return slot;
	}
	return u->nslots < RULES_MAX_SLOTS ? u->nslots : 0;
}

/* Gives pool[k] (not held) to meeting in a free slot: the slot, then the key. */
static size_t hold_ufrag(struct rule_set *rs, struct rng *r, size_t k, __u32 meeting,
			 struct ufrag_change *out)
{
	struct ref_ufrags *u = &rs->ref->ufrags;
	__u32 slot = free_slot(rs, r);
	struct ref_ufrag *key;

	if (!slot)
		return 0;
	if (slot == u->nslots)
		u->slot[u->nslots++].gen = rng_below(r, 4);
	u->slot[slot].meeting = meeting;
	key = &u->key[u->nkeys++];
	memcpy(key->text, rs->pool[k].text, sizeof(key->text));
	key->len = rs->pool[k].len;
	key->slot = slot;
	if (!out)
		return 0;
	out[0] = (struct ufrag_change){ .op = UFRAG_SLOT, .slot = slot, .value = u->slot[slot] };
	out[1] = (struct ufrag_change){ .op = UFRAG_KEY_SET, .slot = slot, .ufrag = k };
	return 2;
}

/* Pool ufrags for meeting ids[i] (or the id given): n new ones, held from the start. */
static void add_ufrags(struct rule_set *rs, struct rng *r, __u32 id, size_t n, bool hold)
{
	for (size_t j = 0; j < n && rs->npool < RULES_MAX_UFRAGS - 1; j++) {
		struct rule_ufrag *p = &rs->pool[rs->npool];

		new_ufrag(rs, r, p);
		p->home = id;
		rs->npool++;
		if (hold)
			hold_ufrag(rs, r, rs->npool - 1, id, NULL);
	}
}

/*
 * Shared ports and ufrags: every meeting of a kind and most others get some; a deleted meeting's
 * id holds one (no policy: no meeting), a key stays on a freed slot (as a removal cut short
 * leaves it), and spare ufrags wait to be added during the run.
 */
static int add_shared(struct rule_set *rs, struct rng *r)
{
	struct ref_ufrags *u = &rs->ref->ufrags;
	size_t n = 1 + rng_below(r, 3);

	u->key = calloc(RULES_MAX_UFRAGS + 1, sizeof(*u->key));
	u->slot = calloc(RULES_MAX_SLOTS, sizeof(*u->slot));
	if (!u->key || !u->slot)
		return -ENOMEM;
	u->nslots = 1;		/* slot 0 is never used */
	/* 3478 first, unless a meeting owns it (a random set may): it looped there for good. */
	for (unsigned int tries = 0; rs->nshared < n; tries++) {
		unsigned int port = rs->nshared || tries ? 1 + rng_below(r, GB_PORT_COUNT - 1) : 3478;

		if (rs->ref->owner[port] || rs->ref->port_flags[port])
			continue;
		rs->ref->port_flags[port] = GB_PORT_SHARED;
		rs->shared[rs->nshared++] = port;
	}
	if (rs->nports) {
		rs->owned_shared = rs->ports[rng_below(r, rs->nports)];
		rs->ref->port_flags[rs->owned_shared] = GB_PORT_SHARED;
	}
	for (size_t i = 0; i < rs->nids; i++) {
		__u32 id = rs->ids[i];
		bool gone = !rs->ref->meeting[id].flags && !rs->blocked[id];

		if (i < KIND_COUNT - 1 || (!gone && rng_percent(r, 60)) || (gone && i + 1 == rs->nids)) {
			if (id == rs->allows_id)
				rs->allows_ufrag = rs->npool + 1;
			add_ufrags(rs, r, id, gone ? 1 : 1 + rng_below(r, 4), true);
			rs->ufrag_meetings[rs->nufrag_meetings++] = id;
		}
	}
	/* A key left on a freed slot: a Binding Request naming it finds no meeting. */
	add_ufrags(rs, r, rs->ids[0], 1, true);
	if (key_of(rs, rs->npool - 1)) {
		__u32 slot = key_of(rs, rs->npool - 1)->slot;

		u->slot[slot].meeting = 0;
		u->slot[slot].gen++;
	}
	/* Spares, for the changes during the run. */
	for (int i = 0; i < 12; i++)
		add_ufrags(rs, r, rs->ufrag_meetings[rng_below(r, rs->nufrag_meetings)], 1, false);
	for (size_t k = 0; k < rs->npool; k++) {
		const struct ref_meeting *m = &rs->ref->meeting[rs->pool[k].home];

		if ((m->flags & (GB_MEETING_ACTIVE | GB_MEETING_UDP | GB_MEETING_MONITOR)) ==
		    (GB_MEETING_ACTIVE | GB_MEETING_UDP) &&
		    (!m->expires_tai_ns || m->expires_tai_ns > rs->ref->now_tai_ns))
			rs->enforced[rs->nenforced++] = k;
	}
	return 0;
}

static int index_table(struct rule_set *rs)
{
	for (int fam = 0; fam < 2; fam++) {
		const struct prefix_list *l = fam ? &rs->table->v6 : &rs->table->v4;

		for (size_t i = 0; i < l->n; i++) {
			__u16 c = l->v[i].country;

			if (c < GB_COUNTRY_COUNT)
				rs->nby_country[fam][c]++;
			else if (fam && c == GB_COUNTRY_V4_ALIAS)
				rs->naliases++;
		}
		for (int c = 0; c < GB_COUNTRY_COUNT; c++) {
			if (!rs->nby_country[fam][c])
				continue;
			rs->by_country[fam][c] = malloc(rs->nby_country[fam][c] * sizeof(__u32));
			if (!rs->by_country[fam][c])
				return -ENOMEM;
			rs->nby_country[fam][c] = 0;
		}
		for (size_t i = 0; i < l->n; i++) {
			__u16 c = l->v[i].country;

			if (c < GB_COUNTRY_COUNT)
				rs->by_country[fam][c][rs->nby_country[fam][c]++] = i;
		}
	}
	rs->aliases = calloc(rs->naliases + 1, sizeof(__u32));
	if (!rs->aliases)
		return -ENOMEM;
	rs->naliases = 0;
	for (size_t i = 0; i < rs->table->v6.n; i++)
		if (rs->table->v6.v[i].country == GB_COUNTRY_V4_ALIAS)
			rs->aliases[rs->naliases++] = i;
	return 0;
}

static bool id_used(const struct rule_set *rs, __u32 id)
{
	for (size_t i = 0; i < rs->nids; i++)
		if (rs->ids[i] == id)
			return true;
	return false;
}

int rule_set_generate(struct rule_set *rs, const struct geoip_table *t, __u64 seed,
		      __u64 now_tai_ns)
{
	struct rng r = rng_stream(seed, RNG_RULES, 0);
	size_t meetings = KIND_COUNT + rng_below(&r, RULES_MAX_MEETINGS - KIND_COUNT - 2);
	int err, kind;

	memset(rs, 0, sizeof(*rs));
	rs->table = t;
	rs->ref = calloc(1, sizeof(*rs->ref));
	rs->ports = calloc(GB_PORT_COUNT, sizeof(*rs->ports));
	if (!rs->ref || !rs->ports)
		return -ENOMEM;
	rs->ref->now_tai_ns = now_tai_ns;
	err = index_table(rs);
	while (!err && rs->nids < meetings) {
		__u32 id = 1 + rng_below(&r, GB_MAX_MEETINGS - 1);

		if (id_used(rs, id))
			continue;
		rs->ids[rs->nids++] = id;
		/* The first meetings are one of each kind (kinds count from 1), the rest random. */
		kind = rs->nids < KIND_COUNT ? rs->nids : KIND_RANDOM;
		err = add_meeting(rs, &r, rs->nids - 1, kind, now_tai_ns);
	}
	/* Two ports whose meeting is gone (a deletion cut short): their slot holds no policy. */
	for (int i = 0; !err && i < 2; i++) {
		__u32 id = 1 + rng_below(&r, GB_MAX_MEETINGS - 1);

		if (id_used(rs, id))
			continue;
		rs->ids[rs->nids++] = id;
		err = set_port(rs, 8000 + rng_below(&r, 2000), rs->nids - 1);
	}
	return err ?: add_shared(rs, &r);
}

size_t rule_set_churn(struct rule_set *rs, __u64 seed, __u64 step,
		      struct ufrag_change out[RULES_MAX_CHANGES])
{
	struct rng r = rng_stream(seed, RNG_CHURN, step);
	struct ref_ufrags *u = &rs->ref->ufrags;
	size_t n = 0, actions = 1 + rng_below(&r, 3);

	for (size_t a = 0; a < actions && n + 2 <= RULES_MAX_CHANGES; a++) {
		size_t k = rng_below(&r, rs->npool);
		struct ref_ufrag *key = key_of(rs, k);
		unsigned int roll = rng_below(&r, 100);
		__u32 meeting = rs->ufrag_meetings[rng_below(&r, rs->nufrag_meetings)];

		if (!key) {
			/* Added, to the meeting it was made for or to another. */
			n += hold_ufrag(rs, &r, k, roll < 70 ? rs->pool[k].home : meeting, out + n);
		} else if (!u->slot[key->slot].meeting) {
			continue;	/* the key on a freed slot stays so */
		} else if (roll < 60) {
			/* Taken away: the key, then the slot freed. */
			__u32 slot = key->slot;

			out[n++] = (struct ufrag_change){ .op = UFRAG_KEY_DEL, .slot = slot,
							  .ufrag = k };
			*key = u->key[--u->nkeys];
			u->slot[slot].meeting = 0;
			u->slot[slot].gen++;
			out[n++] = (struct ufrag_change){ .op = UFRAG_SLOT, .slot = slot,
							  .value = u->slot[slot] };
		} else {
			/* Moved to another meeting (a meeting replaced): its senders follow it. */
			u->slot[key->slot].meeting = meeting;
			out[n++] = (struct ufrag_change){ .op = UFRAG_SLOT, .slot = key->slot,
							  .value = u->slot[key->slot] };
		}
	}
	return n;
}

void rule_set_free(struct rule_set *rs)
{
	if (rs->ref) {
		for (size_t i = 0; i < GB_MAX_MEETINGS; i++)
			free(rs->ref->meeting[i].allow);
		free(rs->ref->ufrags.key);
		free(rs->ref->ufrags.slot);
	}
	for (size_t i = 0; i < GB_MAX_MEETINGS; i++)
		free(rs->blocked[i]);
	for (int fam = 0; fam < 2; fam++)
		for (int c = 0; c < GB_COUNTRY_COUNT; c++)
			free(rs->by_country[fam][c]);
	for (size_t i = 0; i < RULES_MAX_MEETINGS; i++)
		free(rs->ports_of[i]);
	free(rs->aliases);
	free(rs->ports);
	free(rs->ref);
	memset(rs, 0, sizeof(*rs));
}
