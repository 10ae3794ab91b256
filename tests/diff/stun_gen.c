// SPDX-License-Identifier: GPL-2.0
/*
 * What the differential test sends to shared ports: senders of a pool (most from countries the
 * meeting of their ufrag blocks) that send Binding Requests naming their ufrag, sometimes another
 * meeting's or one no meeting has, then DTLS and RTP; odd STUN (responses, indications, wrong
 * cookies and lengths, integrity or fingerprint before USERNAME, USERNAMEs without ':', empty or
 * too long, ufrags of 0-3 or 257 characters, hundreds of attributes); and media of every first
 * byte, also from senders no request named.
 */
#include <string.h>
#include "rng.h"
#include "stun_gen.h"

#define STUN_MAGIC		0x2112A442u
#define T_BINDING_REQUEST	0x0001
#define A_USERNAME		0x0006
#define A_MESSAGE_INTEGRITY	0x0008
#define A_MI_SHA256		0x001C
#define A_PRIORITY		0x0024
#define A_USE_CANDIDATE		0x0025
#define A_SOFTWARE		0x8022
#define A_FINGERPRINT		0x8028
#define A_ICE_CONTROLLED	0x8029
#define A_ICE_CONTROLLING	0x802A
#define A_NETWORK_COST		0xC057

static const char ice_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct msg {
	__u8 *b;
	size_t len, cap;
	struct rng *r;
};

static void put16(__u8 *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* An attribute (value random if v is NULL), padded to 4: zeros mostly, garbage sometimes. */
static void attr(struct msg *m, unsigned int type, const __u8 *v, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;
	bool garbage = rng_percent(m->r, 15);

	if (m->len + 4 + padded > m->cap)
		return;
	put16(m->b + m->len, type);
	put16(m->b + m->len + 2, len);
	for (size_t i = 0; i < padded; i++)
		m->b[m->len + 4 + i] = i < len ? (v ? v[i] : rng_next(m->r)) :
				       garbage ? rng_next(m->r) : 0;
	m->len += 4 + padded;
	put16(m->b + 2, m->len - 20);
}

/* An attribute a check carries around USERNAME (never USERNAME, integrity or fingerprint). */
static void other_attr(struct msg *m)
{
	static const unsigned int known[] = { A_PRIORITY, A_USE_CANDIDATE, A_ICE_CONTROLLED,
					      A_ICE_CONTROLLING, A_NETWORK_COST, A_SOFTWARE };
	unsigned int roll = rng_below(m->r, 100), type;
	size_t len;

	if (roll < 75) {
		type = known[rng_below(m->r, 6)];
		len = type == A_USE_CANDIDATE ? 0 : type == A_PRIORITY || type == A_NETWORK_COST ?
		      4 : type == A_SOFTWARE ? rng_below(m->r, 41) : 8;
	} else {
		do
			type = rng_below(m->r, 65536);
		while (type == A_USERNAME || type == A_MESSAGE_INTEGRITY || type == A_MI_SHA256 ||
		       type == A_FINGERPRINT);
		len = rng_percent(m->r, 80) ? rng_below(m->r, 24) : rng_below(m->r, 80);
	}
	attr(m, type, NULL, len);
}

static void header(struct msg *m, unsigned int type)
{
	put16(m->b, type);
	put16(m->b + 2, 0);
	put16(m->b + 4, STUN_MAGIC >> 16);
	put16(m->b + 6, STUN_MAGIC & 0xffff);
	for (int i = 8; i < 20; i++)
		m->b[i] = rng_next(m->r);
	m->len = 20;
}

/* The ways a Binding Request goes wrong, or names what no meeting has. */
enum {
	ODD_TYPE, ODD_COOKIE, ODD_LENGTH_NOT_4, ODD_LENGTH_PAST_END, ODD_LENGTH_SHORT,
	ODD_END_BEFORE_USERNAME, ODD_USERNAME_EMPTY, ODD_NO_COLON, ODD_SHORT_UFRAG, ODD_LONG_UFRAG,
	ODD_COLON_AT_256, ODD_ATTR_PAST_END, ODD_TRAILING, ODD_SHORT_PAYLOAD, ODD_MANY_ATTRS,
	ODD_NEAR_MISS, ODD_COUNT,
};

/* USERNAME for ufrag (text, len) with odd applied, written to user; returns its length. */
static size_t username(struct rng *r, const __u8 *text, size_t len, int odd, __u8 *user)
{
	size_t n = 0, client = rng_percent(r, 90) ? 4 + rng_below(r, 29) : rng_below(r, 4);

	memcpy(user, text, len);
	n = len;
	switch (odd) {
	case ODD_NEAR_MISS:
		switch (rng_below(r, 4)) {
		case 0:	/* one character changed */
			user[rng_below(r, len)] ^= 1 + rng_below(r, 3);
			break;
		case 1:	/* one character less */
			n--;
			break;
		case 2:	/* one more */
			if (n < GB_UFRAG_MAX + 8)
				user[n++] = ice_chars[rng_below(r, 64)];
			break;
		default: /* case changed */
			for (size_t i = 0; i < n; i++)
				if ((user[i] | 0x20) >= 'a' && (user[i] | 0x20) <= 'z')
					user[i] ^= 0x20;
			break;
		}
		break;
	case ODD_USERNAME_EMPTY:
		return 0;
	case ODD_NO_COLON:
		if (rng_percent(r, 50))
			return n;	/* the ufrag alone */
		for (size_t i = 0; i < client; i++)
			user[n++] = ice_chars[rng_below(r, 64)];
		return n;
	case ODD_SHORT_UFRAG:
		n = rng_below(r, 4);
		if (n > len)
			n = len;
		break;
	case ODD_LONG_UFRAG:
		/* 257 characters or more before ':', or none at all */
		while (n < GB_UFRAG_MAX + 1 + rng_below(r, 20))
			user[n++] = ice_chars[rng_below(r, 64)];
		if (rng_percent(r, 30))
			return n;
		break;
	case ODD_COLON_AT_256:
		/* the first 256 characters, ':' as the 257th: a 256-character ufrag */
		while (n < GB_UFRAG_MAX)
			user[n++] = ice_chars[rng_below(r, 64)];
		n = GB_UFRAG_MAX;
		break;
	}
	user[n++] = ':';
	for (size_t i = 0; i < client; i++)
		user[n++] = rng_percent(r, 3) ? ':' : ice_chars[rng_below(r, 64)];
	return n;
}

/* A Binding Request naming pool[k] as a browser sends it, or with odd (< ODD_COUNT) applied. */
static size_t binding_request(const struct rule_set *rs, struct rng *r, size_t k, int odd,
			      __u8 *out, size_t cap)
{
	struct msg m = { .b = out, .cap = cap, .r = r };
	__u8 user[GB_UFRAG_MAX + 64];
	size_t before, ulen, at;
	unsigned int roll = rng_below(r, 100);

	header(&m, T_BINDING_REQUEST);
	before = roll < 70 ? rng_below(r, 3) : roll < 90 ? 3 + rng_below(r, 6) :
		 9 + rng_below(r, 9);
	if (odd == ODD_MANY_ATTRS) {
		/* USERNAME about where the walk goes from its inline part to its steps, or on. */
		size_t step = rng_below(r, 3);

		before = GB_STUN_ATTRS_INLINE + step * GB_STUN_ATTRS_STEP - 3 + rng_below(r, 5);
		/* Past the inline part, empty ones (4 bytes each), so that they fit in a frame. */
		for (size_t i = 0; step && i < before; i++)
			attr(&m, 0x8000 | rng_below(r, 0x100), NULL, 0);
		if (step)
			before = 0;
	}
	for (size_t i = 0; i < before; i++)
		other_attr(&m);
	if (odd == ODD_END_BEFORE_USERNAME) {
		static const unsigned int ends[] = { A_MESSAGE_INTEGRITY, A_MI_SHA256,
						     A_FINGERPRINT };
		static const size_t lens[] = { 20, 32, 4 };
		int e = rng_below(r, 3);

		attr(&m, ends[e], NULL, lens[e]);
	}
	ulen = username(r, rs->pool[k].text, rs->pool[k].len, odd, user);
	at = m.len;
	attr(&m, A_USERNAME, user, ulen);
	if (rng_percent(r, 80)) {
		attr(&m, A_PRIORITY, NULL, 4);
		attr(&m, rng_percent(r, 50) ? A_ICE_CONTROLLING : A_ICE_CONTROLLED, NULL, 8);
		if (rng_percent(r, 30))
			attr(&m, A_USE_CANDIDATE, NULL, 0);
		if (rng_percent(r, 20))
			other_attr(&m);
		attr(&m, A_MESSAGE_INTEGRITY, NULL, 20);
		attr(&m, A_FINGERPRINT, NULL, 4);
	}

	switch (odd) {
	case ODD_TYPE: {
		static const unsigned int types[] = { 0x0101, 0x0111, 0x0011, 0x0002, 0x0003 };

		put16(m.b, rng_percent(r, 70) ? types[rng_below(r, 5)] : rng_below(r, 0x400));
		break;
	}
	case ODD_COOKIE:
		m.b[4 + rng_below(r, 4)] ^= 1 << rng_below(r, 8);
		break;
	case ODD_LENGTH_NOT_4:
		put16(m.b + 2, m.len - 20 - 1 - rng_below(r, 3));
		break;
	case ODD_LENGTH_PAST_END:
		put16(m.b + 2, m.len - 20 + 4 * (1 + rng_below(r, 8)));
		break;
	case ODD_LENGTH_SHORT:
		/* The message ends earlier, with what follows it still in the frame. */
		put16(m.b + 2, 4 * rng_below(r, (m.len - 20) / 4 + 1));
		break;
	case ODD_ATTR_PAST_END:
		/* USERNAME's length, or one before it, runs past the message. */
		if (at > 20 && rng_percent(r, 40))
			at = 20;
		put16(m.b + at + 2, m.len - at - 4 + 1 + rng_below(r, 64));
		break;
	case ODD_TRAILING: {
		/* Bytes after the message (Ethernet padding, or anything): ignored. */
		size_t n = 1 + rng_below(r, 40);

		for (size_t i = 0; i < n && m.len < cap; i++)
			m.b[m.len++] = rng_percent(r, 50) ? 0 : rng_next(r);
		break;
	}
	case ODD_SHORT_PAYLOAD:
		m.len = rng_below(r, 20);
		if (!m.len)
			m.b[0] = 0;	/* (an empty payload is media) */
		m.len += !m.len;
		break;
	}
	return m.len;
}

/* Media: DTLS, RTP/RTCP, TURN channel data, and the first bytes no protocol uses; or nothing. */
static size_t media(struct rng *r, __u8 *out, size_t cap)
{
	unsigned int roll = rng_below(r, 100);
	size_t len = rng_percent(r, 80) ? 1 + rng_below(r, 200) : 1 + rng_below(r, 1200);
	__u8 first;

	if (roll < 4)
		return 0;
	first = roll < 40 ? 20 + rng_below(r, 44) : roll < 75 ? 128 + rng_below(r, 64) :
		roll < 83 ? 64 + rng_below(r, 16) : roll < 88 ? 4 + rng_below(r, 16) :
		roll < 94 ? 80 + rng_below(r, 48) : 192 + rng_below(r, 64);
	if (len > cap)
		len = cap;
	for (size_t i = 0; i < len; i++)
		out[i] = rng_next(r);
	out[0] = first;
	return len;
}

static __u16 blocked_by(const struct rule_set *rs, struct rng *r, __u32 id)
{
	return id < GB_MAX_MEETINGS && rs->nblocked[id] ?
	       rs->blocked[id][rng_below(r, rs->nblocked[id])] : GB_COUNTRY_NONE;
}

/* A source for a packet naming meeting id: mostly in a country it blocks, else anywhere. */
static void source(const struct rule_set *rs, struct rng *r, int family, __u32 id, __u8 addr[16])
{
	const struct prefix_list *l = family == 4 ? &rs->table->v4 : &rs->table->v6;
	const struct ref_meeting *m = &rs->ref->meeting[id < GB_MAX_MEETINGS ? id : 0];

	memset(addr, 0, 16);
	if (rng_percent(r, 70) && rule_set_address(rs, r, family, blocked_by(rs, r, id), addr,
						   NULL))
		return;
	if (rng_percent(r, 30) && m->nallow) {
		const struct ref_cidr *c = &m->allow[rng_below(r, m->nallow)];

		if (c->family == family) {
			rule_set_fill(r, c->addr, c->len, addr);
			return;
		}
	}
	if (l->n) {
		const struct prefix *p = &l->v[rng_below(r, l->n)];

		rule_set_fill(r, p->addr, p->len, addr);
	}
	if (family == 4)
		memset(addr + 4, 0, 12);
}

void gen_sender(const struct rule_set *rs, __u64 seed, __u64 epoch, unsigned int k,
		struct gen_flow *fl, size_t *home)
{
	struct rng r = rng_stream(seed, RNG_SENDERS, epoch * GEN_POOL + k);

	fl->family = rng_percent(&r, 60) ? 4 : 6;
	/* Half of them for a meeting that drops, whatever the mix of the rule set. */
	if (rs->nenforced && rng_percent(&r, 50))
		*home = rs->enforced[rng_below(&r, rs->nenforced)];
	else
		*home = rng_below(&r, rs->npool);
	source(rs, &r, fl->family, rs->pool[*home].home, fl->saddr);
	fl->proto = 17;
	fl->sport = 1024 + rng_below(&r, 64512);
	fl->dport = rs->shared[rng_below(&r, rs->nshared)];
}

void gen_shared_flow(const struct rule_set *rs, struct rng *r, __u64 seed, __u64 index,
		     struct gen_flow *fl)
{
	unsigned int roll = rng_below(r, 100), what = rng_below(r, 100);
	size_t home, k;

	if (roll < 70) {
		gen_sender(rs, seed, index / GEN_EPOCH, rng_below(r, GEN_POOL), fl, &home);
		if (rng_percent(r, 8))
			fl->dport = rs->shared[rng_below(r, rs->nshared)];
		k = what < 38 && !rng_percent(r, 20) ? home : rng_below(r, rs->npool);
	} else {
		k = rng_below(r, rs->npool);
		fl->family = rng_percent(r, 55) ? 4 : 6;
		source(rs, r, fl->family, rs->pool[k].home, fl->saddr);
		/*
		 * Some, frame by frame, from an exception of the meeting of exceptions (one of each
		 * family in a network it blocks), naming its ufrag: "allowed" whatever the seed. (Senders
		 * are few per epoch: drawn per sender, the count swung from 0 to thousands by seed.)
		 */
		if (rs->allows_ufrag && rng_percent(r, 5)) {
			const struct ref_meeting *m = &rs->ref->meeting[rs->allows_id];

			k = rs->allows_ufrag - 1;
			for (size_t i = 0; i < m->nallow; i++)
				if (m->allow[i].family == fl->family) {
					rule_set_fill(r, m->allow[i].addr, m->allow[i].len, fl->saddr);
					break;
				}
		}
		fl->proto = 17;
		fl->sport = rng_below(r, 65536);
		fl->dport = rs->shared[rng_below(r, rs->nshared)];
		what = what < 25 ? what : what < 55 ? 38 + (what - 25) * 17 / 30 : 99;
	}
	if (rng_percent(r, 2))
		fl->proto = 6;		/* TCP to a shared port: no meeting */

	if (what < 38)
		fl->len = binding_request(rs, r, k, ODD_COUNT, fl->payload, sizeof(fl->payload));
	else if (what < 55)
		fl->len = binding_request(rs, r, k, rng_below(r, ODD_COUNT), fl->payload,
					  sizeof(fl->payload));
	else
		fl->len = media(r, fl->payload, sizeof(fl->payload));
}
