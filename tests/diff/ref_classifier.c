// SPDX-License-Identifier: GPL-2.0
/*
 * The reference classifier of the differential test, written from DESIGN.md (decisions 3 and 4) and
 * docs/design.md, "What it decides", not from bpf/parse.h:
 *  - Ethernet, then at most two VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8); a third tag means the
 *    frame is not parsed further: not IP.
 *  - IPv4 with its options (IHL); a non-first fragment has no ports: "fragment".
 *  - IPv6, then at most 8 extension headers among hop-by-hop, routing, destination options and
 *    fragment, in any order; a 9th is "more than 8": parse error. A non-first fragment: "fragment".
 *  - UDP or TCP: the destination port. Anything else is "another protocol".
 *  - Every header the walk goes through must be in the frame whole, or the frame is truncated:
 *    parse error; of the UDP or TCP header, its two ports (4 bytes) are enough. Fields the
 *    decision does not need (lengths, checksums, TCP data offset) are not checked: the frame's
 *    own length is what counts.
 *  - Then, in the order of enum verdict_reason: a port of no meeting (or of a meeting that is not
 *    active), a protocol the meeting does not cover, an expired meeting, a source without a country
 *    (longest-prefix match; an IPv6 alias entry sends the 32 bits after its prefix to the IPv4
 *    table), a country the meeting does not block, a source inside one of the meeting's allow
 *    exceptions, a meeting in monitor mode; else the packet is dropped.
 *  - A port of no meeting marked shared, for UDP: the meeting is found by ICE (ref_ice.c), and
 *    the same policy applies to it; before one is found, a reason of ICE. TCP to it: no meeting.
 */
#include <string.h>
#include "ref_classifier.h"

/* As docs/design.md states them, not as bpf/geoblock.h defines them: a change shows as a difference. */
#define REF_VLAN_TAGS_MAX	2
#define REF_IPV6_EXT_MAX	8

#define ETHERTYPE_IPV4		0x0800
#define ETHERTYPE_IPV6		0x86dd
#define ETHERTYPE_8021Q		0x8100
#define ETHERTYPE_8021AD	0x88a8
#define PROTO_HOPOPTS		0
#define PROTO_TCP		6
#define PROTO_UDP		17
#define PROTO_ROUTING		43
#define PROTO_FRAGMENT		44
#define PROTO_DSTOPTS		60

struct headers {
	int cut_ext_next;	/* as in struct ref_verdict */
	int family;
	__u8 proto;
	__u16 sport, dport;
	__u8 saddr[16];
	size_t l4;		/* offset of the UDP or TCP header */
};

static unsigned int be16(const __u8 *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

/* Each returns -1 once its header is read, or the verdict reason that ends the walk there. */
static int read_ipv4(const __u8 *f, size_t len, size_t *off, struct headers *h)
{
	const __u8 *ip = f + *off;
	size_t hlen;

	if (len - *off < 20 || ip[0] >> 4 != 4)
		return GB_PASS_PARSE_ERROR;
	hlen = (size_t)(ip[0] & 0x0f) * 4;
	if (hlen < 20 || len - *off < hlen)
		return GB_PASS_PARSE_ERROR;
	if (be16(ip + 6) & 0x1fff)	/* fragment offset */
		return GB_PASS_FRAGMENT;
	h->family = 4;
	h->proto = ip[9];
	memcpy(h->saddr, ip + 12, 4);
	*off += hlen;
	return -1;
}

static bool ipv6_extension(unsigned int proto)
{
	return proto == PROTO_HOPOPTS || proto == PROTO_ROUTING || proto == PROTO_DSTOPTS ||
	       proto == PROTO_FRAGMENT;
}

static int read_ipv6(const __u8 *f, size_t len, size_t *off, struct headers *h)
{
	const __u8 *ip = f + *off;
	unsigned int next, n;

	if (len - *off < 40 || ip[0] >> 4 != 6)
		return GB_PASS_PARSE_ERROR;
	h->family = 6;
	memcpy(h->saddr, ip + 8, 16);
	next = ip[6];
	*off += 40;
	for (n = 0; ipv6_extension(next); n++) {
		const __u8 *ext = f + *off;
		size_t elen;

		if (n == REF_IPV6_EXT_MAX)
			return GB_PASS_PARSE_ERROR;
		if (next == PROTO_FRAGMENT) {
			elen = 8;
			if (len - *off < elen)
				return GB_PASS_PARSE_ERROR;
			if (be16(ext + 2) >> 3)		/* fragment offset */
				return GB_PASS_FRAGMENT;
		} else {
			if (len - *off < 2)
				return GB_PASS_PARSE_ERROR;
			elen = ((size_t)ext[1] + 1) * 8;
			if (len - *off < elen) {
				h->cut_ext_next = ext[0];
				return GB_PASS_PARSE_ERROR;
			}
		}
		next = ext[0];
		*off += elen;
	}
	h->proto = next;
	return -1;
}

static int read_headers(const __u8 *f, size_t len, struct headers *h)
{
	size_t off = 14;
	unsigned int type, tags = 0;
	int ret;

	if (len < 14)
		return GB_PASS_PARSE_ERROR;
	type = be16(f + 12);
	while (type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD) {
		if (tags == REF_VLAN_TAGS_MAX)
			return GB_PASS_NOT_IP;
		if (len - off < 4)
			return GB_PASS_PARSE_ERROR;
		type = be16(f + off + 2);
		off += 4;
		tags++;
	}
	if (type == ETHERTYPE_IPV4)
		ret = read_ipv4(f, len, &off, h);
	else if (type == ETHERTYPE_IPV6)
		ret = read_ipv6(f, len, &off, h);
	else
		return GB_PASS_NOT_IP;
	if (ret >= 0)
		return ret;

	if (h->proto != PROTO_UDP && h->proto != PROTO_TCP)
		return GB_PASS_OTHER_PROTO;
	if (len - off < 4u)
		return GB_PASS_PARSE_ERROR;
	h->sport = be16(f + off);
	h->dport = be16(f + off + 2);
	h->l4 = off;
	return -1;
}

static bool in_cidr(const struct ref_cidr *c, int family, const __u8 *addr)
{
	unsigned int full = c->len / 8, rest = c->len % 8;

	if (c->family != family || memcmp(c->addr, addr, full))
		return false;
	return !rest || !((c->addr[full] ^ addr[full]) & (0xff << (8 - rest)) & 0xff);
}

__u16 ref_country(const struct ref_rules *r, int family, const __u8 *addr)
{
	unsigned int len;
	__u8 v4[4] = {};
	__u16 value;

	if (family == 6) {
		if (!ref_lpm_find(r->country_v6, addr, &len, &value))
			return GB_COUNTRY_NONE;
		if (value != GB_COUNTRY_V4_ALIAS)
			return value < GB_COUNTRY_COUNT ? value : GB_COUNTRY_NONE;
		/* An alias: the IPv4 address is the 32 bits after the prefix, if there are 32. */
		if (len > 96)
			return GB_COUNTRY_NONE;
		for (unsigned int b = 0; b < 32; b++)
			if (addr[(len + b) / 8] & (0x80 >> ((len + b) % 8)))
				v4[b / 8] |= 0x80 >> (b % 8);
		addr = v4;
	}
	if (!ref_lpm_find(r->country_v4, addr, &len, &value))
		return GB_COUNTRY_NONE;
	return value < GB_COUNTRY_COUNT ? value : GB_COUNTRY_NONE;
}

/* The verdict of meeting id's policy on the packet of h (the same on any kind of port). */
static void judge(const struct ref_rules *r, __u32 id, const struct headers *h,
		  struct ref_verdict *v)
{
	const struct ref_meeting *m = id && id < GB_MAX_MEETINGS ? &r->meeting[id] : NULL;
	bool covered;

	if (!m || !(m->flags & GB_MEETING_ACTIVE)) {
		v->reason = GB_PASS_NO_MEETING;
		return;
	}
	covered = m->flags & (h->proto == PROTO_TCP ? GB_MEETING_TCP : GB_MEETING_UDP);
	if (!covered) {
		v->reason = GB_PASS_NOT_COVERED;
		return;
	}
	if (m->expires_tai_ns && r->now_tai_ns >= m->expires_tai_ns) {
		v->reason = GB_PASS_EXPIRED;
		return;
	}
	v->country = ref_country(r, h->family, h->saddr);
	if (v->country == GB_COUNTRY_NONE) {
		v->reason = GB_PASS_NO_COUNTRY;
		return;
	}
	if (!(m->blocked[v->country / 64] & (1ULL << (v->country % 64)))) {
		v->reason = GB_PASS_NOT_BLOCKED;
		v->country = GB_COUNTRY_NONE;
		return;
	}
	for (size_t i = 0; i < m->nallow; i++) {
		if (in_cidr(&m->allow[i], h->family, h->saddr)) {
			v->reason = GB_PASS_ALLOWED;
			v->country = GB_COUNTRY_NONE;
			return;
		}
	}
	v->meeting = id;
	v->reason = m->flags & GB_MEETING_MONITOR ? GB_PASS_MONITOR : GB_DROP;
}

void ref_classify(const struct ref_rules *r, struct ref_senders *s, __u64 now_ns,
		  const __u8 *frame, size_t len, struct ref_verdict *v)
{
	struct headers h = { .cut_ext_next = -1 };
	struct ref_ice_result ice;
	size_t payload;
	__u32 id;
	int ret;

	memset(v, 0, sizeof(*v));
	v->ice_stat = -1;
	ret = read_headers(frame, len, &h);
	v->cut_ext_next = h.cut_ext_next;
	if (ret >= 0) {
		v->reason = ret;
		return;
	}
	id = r->owner[h.dport];
	if (!id && (r->port_flags[h.dport] & GB_PORT_SHARED) && h.proto == PROTO_UDP) {
		v->shared = true;
		v->sender.family = h.family;
		memcpy(v->sender.saddr, h.saddr, 16);
		v->sender.sport = h.sport;
		v->sender.dport = h.dport;
		/* What follows the 8-byte UDP header, to the end of the frame. */
		payload = len - h.l4 > 8 ? h.l4 + 8 : len;
		v->stun = payload < len && frame[payload] <= 3;
		ref_ice_meeting(&r->ufrags, s, &v->sender, now_ns, frame + payload, len - payload,
				&ice);
		v->ice_stat = ice.stat;
		v->learn = ice.learn;
		if (ice.reason >= 0) {
			v->reason = ice.reason;
			return;
		}
		id = ice.meeting;
	}
	judge(r, id, &h, v);
}
