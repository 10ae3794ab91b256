// SPDX-License-Identifier: GPL-2.0
/*
 * The frames of the differential test. Valid frames stack Ethernet, 0 to 3 VLAN tags, IPv4 with
 * options and fragments or IPv6 with chains of 0 to 10 extension headers, and UDP, TCP or another
 * protocol; their destination ports are mostly the rule set's, their sources mostly in countries
 * that the port's meeting blocks (natively or through the IPv6 alias ranges) or inside its allow
 * exceptions; a share of them go to shared ports (stun_gen.c). The other classes mutate, cut and
 * replace them.
 */
#include <string.h>
#include "packet_gen.h"
#include "rng.h"
#include "stun_gen.h"

const char *const gen_class_names[GEN_CLASS_COUNT] = {
	[GEN_VALID] = "valid", [GEN_MUTATED] = "mutated", [GEN_CUT] = "cut",
	[GEN_SWEEP] = "sweep", [GEN_GARBAGE] = "garbage",
};

#define GEN_EXT_BUDGET	1024

struct builder {
	__u8 *f;
	size_t len;
	struct rng *r;
};

/* Appends n zero bytes; headers are bounded and payloads clamped to stay in GEN_FRAME_MAX. */
static __u8 *put(struct builder *b, size_t n)
{
	__u8 *p = b->f + b->len;

	memset(p, 0, n);
	b->len += n;
	return p;
}

static void put_payload(struct builder *b, size_t n)
{
	if (n > GEN_FRAME_MAX - b->len)
		n = GEN_FRAME_MAX - b->len;
	for (size_t i = 0; i < n; i++)
		put(b, 1)[0] = rng_next(b->r);
}

static void put16(__u8 *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void random_bytes(struct rng *r, __u8 *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = rng_next(r);
}

/* Mostly a port of the rule set (of any port, or of any meeting); *id is its owner (0: none). */
static unsigned int pick_port(const struct rule_set *rs, struct rng *r, __u32 *id)
{
	unsigned int roll = rng_below(r, 100), port;
	size_t slot = rng_below(r, rs->nids);

	if (roll < 3 && rs->nshared)
		port = rs->shared[rng_below(r, rs->nshared)];	/* any protocol, any payload */
	else if (roll < 35 && rs->nports)
		port = rs->ports[rng_below(r, rs->nports)];
	else if (roll < 75 && rs->nports_of[slot])
		port = rs->ports_of[slot][rng_below(r, rs->nports_of[slot])];
	else
		port = rng_below(r, GB_PORT_COUNT);
	*id = rs->ref->owner[port];
	return port;
}

static __u16 blocked_country(const struct rule_set *rs, struct rng *r, __u32 id)
{
	return id && rs->nblocked[id] ? rs->blocked[id][rng_below(r, rs->nblocked[id])] :
					GB_COUNTRY_NONE;
}

/* A source address of family for a packet to meeting id. */
static void pick_source(const struct rule_set *rs, struct rng *r, int family, __u32 id,
			__u8 addr[16])
{
	const struct ref_meeting *m = &rs->ref->meeting[id];
	unsigned int roll = rng_below(r, 100);
	const struct prefix_list *l;

	memset(addr, 0, 16);
	if (roll < 40 && rule_set_address(rs, r, family, blocked_country(rs, r, id), addr, NULL))
		return;
	if (roll < 60 && m->nallow) {
		const struct ref_cidr *c = &m->allow[rng_below(r, m->nallow)];

		for (size_t i = 0; i < m->nallow && c->family != family; i++)
			c = &m->allow[i];
		if (c->family == family) {
			rule_set_fill(r, c->addr, c->len, addr);
			return;
		}
	}
	l = family == 4 ? &rs->table->v4 : &rs->table->v6;
	if (roll < 75 && l->n) {
		const struct prefix *p = &l->v[rng_below(r, l->n)];

		rule_set_fill(r, p->addr, p->len, addr);
		return;
	}
	if (family == 6 && roll < 90 && rs->naliases) {
		/* An IPv4 source seen through an IPv6 alias range (::ffff:0:0/96, 2002::/16...). */
		const struct prefix *p = &rs->table->v6.v[rs->aliases[rng_below(r, rs->naliases)]];
		__u8 v4[16], a[16];

		if (!rule_set_address(rs, r, 4, blocked_country(rs, r, id), v4, NULL))
			random_bytes(r, v4, 4);
		rule_set_fill(r, p->addr, p->len, a);
		for (unsigned int b = 0; b < 32 && p->len + b < 128; b++) {
			unsigned int bit = p->len + b;
			__u8 mask = 0x80 >> (bit % 8);

			a[bit / 8] &= ~mask;
			if (v4[b / 8] & (0x80 >> (b % 8)))
				a[bit / 8] |= mask;
		}
		memcpy(addr, a, 16);
		return;
	}
	random_bytes(r, addr, family == 4 ? 4 : 16);
	if (family == 6 && rng_percent(r, 50))
		addr[0] = 0x20 | (addr[0] & 0x1f);	/* global unicast: most networks */
}

/* fl: the flow of a frame to a shared port (its ports and payload), NULL for the others. */
static void put_transport(struct builder *b, unsigned int proto, unsigned int dport,
			  const struct gen_flow *fl)
{
	struct rng *r = b->r;
	__u8 *h;

	if (fl) {
		size_t n = fl->len < GEN_FRAME_MAX - b->len - 20 ? fl->len :
			   GEN_FRAME_MAX - b->len - 20;

		h = put(b, proto == 6 ? 20 : 8);
		put16(h, fl->sport);
		put16(h + 2, dport);
		if (proto == 6)
			h[12] = 5 << 4;
		else
			put16(h + 4, 8 + fl->len);
		memcpy(put(b, n), fl->payload, n);
		return;
	}
	if (proto == 17) {
		h = put(b, 8);
		put16(h, 1024 + rng_below(r, 64512));
		put16(h + 2, dport);
	} else if (proto == 6) {
		unsigned int optlen = rng_percent(r, 20) ? 4 * rng_below(r, 11) : 0;

		h = put(b, 20 + optlen);
		put16(h, 1024 + rng_below(r, 64512));
		put16(h + 2, dport);
		random_bytes(r, h + 4, 8);	/* sequence and acknowledgement numbers */
		h[12] = (5 + optlen / 4) << 4;
		h[13] = rng_below(r, 256);	/* flags */
		put16(h + 14, rng_below(r, 65536));
		random_bytes(r, h + 20, optlen);
	} else {
		random_bytes(r, put(b, 8), 8);
	}
	put_payload(b, rng_percent(r, 90) ? rng_below(r, 64) : rng_below(r, 1400));
}

static unsigned int pick_proto(struct rng *r, bool v6)
{
	unsigned int roll = rng_below(r, 100);

	if (roll < 60)
		return 17;
	if (roll < 88)
		return 6;
	if (roll < 94)
		return v6 ? 58 : 1;	/* ICMP */
	return rng_below(r, 256);
}

static void put_ipv4(struct builder *b, const struct rule_set *rs, unsigned int dport, __u32 id,
		     const struct gen_flow *fl)
{
	struct rng *r = b->r;
	unsigned int optlen = rng_percent(r, 30) ? 4 * (1 + rng_below(r, 10)) : 0;
	unsigned int roll = rng_below(r, 100), frag = 0, proto = pick_proto(r, false);
	size_t start = b->len;
	__u8 *ip = put(b, 20 + optlen), src[16];

	ip[0] = 0x40 | (5 + optlen / 4);
	ip[1] = rng_below(r, 256);
	put16(ip + 4, rng_below(r, 65536));
	if (fl) {
		proto = fl->proto;
		roll = roll < 95 ? 0 : roll;	/* fewer fragments: what is in them is the test */
	}
	if (roll < 75)
		frag = rng_percent(r, 50) ? 0x4000 : 0;			/* DF or nothing */
	else if (roll < 85)
		frag = 0x2000;						/* first fragment */
	else
		frag = (rng_percent(r, 50) ? 0x2000 : 0) | (1 + rng_below(r, 0x1fff));
	put16(ip + 6, frag);
	ip[8] = 1 + rng_below(r, 255);
	ip[9] = proto;
	if (fl)
		memcpy(src, fl->saddr, 4);
	else
		pick_source(rs, r, 4, id, src);
	memcpy(ip + 12, src, 4);
	random_bytes(r, ip + 16, 4);
	if (rng_percent(r, 50))
		memset(ip + 20, 1, optlen);				/* NOP options */
	else
		random_bytes(r, ip + 20, optlen);
	put_transport(b, proto, dport, fl);
	ip = b->f + start;
	put16(ip + 2, b->len - start);
}

/* An extension header count: mostly none or a few, often right around the bound of 8. */
static unsigned int pick_ext_count(struct rng *r)
{
	unsigned int roll = rng_below(r, 100);

	if (roll < 45)
		return 0;
	if (roll < 75)
		return 1 + rng_below(r, 3);
	if (roll < 90)
		return 7 + rng_below(r, 3);
	return 4 + rng_below(r, 7);
}

static void put_ipv6(struct builder *b, const struct rule_set *rs, unsigned int dport, __u32 id,
		     const struct gen_flow *fl)
{
	static const __u8 ext_types[] = { 0, 43, 60, 44 };
	struct rng *r = b->r;
	unsigned int n = pick_ext_count(r), proto = pick_proto(r, true);

	if (fl) {
		proto = fl->proto;
		n = rng_percent(r, 70) ? 0 : n;
	}
	size_t start = b->len;
	__u8 *ip, *next;

	ip = put(b, 40);
	next = ip + 6;
	ip[0] = 0x60 | rng_below(r, 16);
	random_bytes(r, ip + 1, 3);
	ip[7] = 1 + rng_below(r, 255);
	if (fl)
		memcpy(ip + 8, fl->saddr, 16);
	else
		pick_source(rs, r, 6, id, ip + 8);
	random_bytes(r, ip + 24, 16);
	for (unsigned int i = 0; i < n; i++) {
		__u8 type = ext_types[rng_below(r, 4)], *ext;

		*next = type;
		if (type == 44) {
			unsigned int off = rng_percent(r, 85) ? 0 : 1 + rng_below(r, 0x1fff);

			ext = put(b, 8);
			put16(ext + 2, off << 3 | rng_below(r, 2));	/* offset, M flag */
			random_bytes(r, ext + 4, 4);
		} else {
			unsigned int roll = rng_below(r, 100);
			unsigned int units = roll < 70 ? 0 : roll < 95 ? 1 + rng_below(r, 3) :
							      4 + rng_below(r, 28);

			if (b->len > GEN_EXT_BUDGET)
				units = 0;	/* keeps headers below GEN_EXT_BUDGET + 256 bytes */

			ext = put(b, 8 * (units + 1));
			ext[1] = units;
			if (rng_percent(r, 30))
				random_bytes(r, ext + 2, 8 * (units + 1) - 2);
		}
		next = ext;
	}
	*next = proto;
	put_transport(b, proto, dport, fl);
	put16(b->f + start + 4, b->len - start - 40);
}

/*
 * A valid frame; rs->shared_percent of them to a shared port, from the sender pool of index's
 * epoch.
 */
static void build_valid(const struct rule_set *rs, struct rng *r, __u64 seed, __u64 index,
			__u8 *f, size_t *len)
{
	struct builder b = { .f = f, .r = r };
	unsigned int roll = rng_below(r, 100), tags, type, dport;
	__u8 *eth = put(&b, 14), *type_at = eth + 12;
	static struct gen_flow flow;
	struct gen_flow *fl = NULL;
	__u32 id;

	random_bytes(r, eth, 12);
	eth[0] &= 0xfe;		/* unicast destination */
	tags = roll < 60 ? 0 : roll < 80 ? 1 : roll < 95 ? 2 : 3;
	for (unsigned int i = 0; i < tags; i++) {
		__u8 *tag = put(&b, 4);

		put16(type_at, rng_percent(r, 50) ? 0x8100 : 0x88a8);
		put16(tag, rng_below(r, 65536));	/* PCP, DEI, VLAN id */
		type_at = tag + 2;
	}
	dport = pick_port(rs, r, &id);
	if (rs->nshared && rng_percent(r, rs->shared_percent)) {
		fl = &flow;
		gen_shared_flow(rs, r, seed, index, fl);
		dport = fl->dport;
		id = 0;
	}
	roll = rng_below(r, 100);
	if (fl)
		roll = fl->family == 4 ? 0 : 50;
	if (roll < 48) {
		type = 0x0800;
		put16(type_at, type);
		put_ipv4(&b, rs, dport, id, fl);
	} else if (roll < 95) {
		type = 0x86dd;
		put16(type_at, type);
		put_ipv6(&b, rs, dport, id, fl);
	} else {
		static const unsigned int others[] = { 0x0806, 0x88cc, 0x8847, 0x0842 };

		type = rng_percent(r, 70) ? others[rng_below(r, 4)] : rng_below(r, 65536);
		put16(type_at, type);
		put_payload(&b, 28 + rng_below(r, 40));
	}
	*len = b.len;
}

/* A few bytes changed, most in the headers. */
static void mutate(struct rng *r, __u8 *f, size_t len)
{
	unsigned int n = 1 + rng_below(r, 6);

	for (unsigned int i = 0; i < n && len; i++) {
		size_t at = rng_below(r, len);

		if (len > 12 && rng_percent(r, 80))	/* the headers, after the MAC addresses */
			at = 12 + rng_below(r, len < 140 ? len - 12 : 128);

		switch (rng_below(r, 4)) {
		case 0:
			f[at] = rng_next(r);
			break;
		case 1:
			f[at] ^= 1 << rng_below(r, 8);
			break;
		case 2:
			f[at] = 0;
			break;
		default:
			f[at] = 0xff;
			break;
		}
	}
}

static void build_garbage(struct rng *r, __u8 *f, size_t *len)
{
	static const unsigned int types[] = { 0x0800, 0x86dd, 0x8100, 0x88a8 };

	*len = rng_below(r, 201);
	random_bytes(r, f, *len);
	if (*len >= 15 && rng_percent(r, 60)) {
		unsigned int type = types[rng_below(r, 4)];

		put16(f + 12, type);
		if (type == 0x0800)
			f[14] = (f[14] & 0x0f) | 0x40;
		else if (type == 0x86dd)
			f[14] = (f[14] & 0x0f) | 0x60;
	}
}

enum gen_class gen_packet(const struct rule_set *rs, __u64 seed, __u64 index, __u8 *frame,
			  size_t *len)
{
	struct rng r = rng_stream(seed, RNG_PACKETS, index);
	__u64 block = index / GEN_SWEEP_LEN;
	unsigned int roll;

	/* A fifth of the blocks of GEN_SWEEP_LEN frames cut one valid frame at every offset. */
	if (rng_stream(seed, RNG_SWEEPS, block).state % 5 == 0) {
		struct rng sweep = rng_stream(seed, RNG_SWEEPS, block);
		size_t cut = index % GEN_SWEEP_LEN;

		build_valid(rs, &sweep, seed, block * GEN_SWEEP_LEN, frame, len);
		if (cut < *len) {
			*len = cut;
			return GEN_SWEEP;
		}
		mutate(&r, frame, *len);
		return GEN_MUTATED;
	}
	roll = rng_below(&r, 100);
	if (roll < 5) {
		build_garbage(&r, frame, len);
		return GEN_GARBAGE;
	}
	build_valid(rs, &r, seed, index, frame, len);
	if (roll < 50)
		return GEN_VALID;
	if (roll < 88) {
		mutate(&r, frame, *len);
		return GEN_MUTATED;
	}
	*len = rng_below(&r, *len);
	return GEN_CUT;
}
