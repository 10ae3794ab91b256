/* SPDX-License-Identifier: GPL-2.0 */
/* Bounds-checked packet parsing helpers for the XDP program: each advances a cursor over one header. */
#ifndef GEOBLOCK_PARSE_H
#define GEOBLOCK_PARSE_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "geoblock.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

#define GB_IP_MF	0x2000
#define GB_IP_OFFSET	0x1fff
#define GB_IP6_OFFSET	0xfff8

struct cursor {
	void *pos;
	void *end;
};

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

struct ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 id;
};

/* The start of a UDP or TCP header. */
struct l4_ports {
	__be16 source;
	__be16 dest;
};

/* What the decision needs from a packet that reached a UDP or TCP header. */
struct packet {
	__u8 family;		/* 4 or 6 */
	__u8 proto;		/* IPPROTO_UDP or IPPROTO_TCP */
	__u16 dport;		/* host order */
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
};

/* Returns the EtherType after up to GB_VLAN_MAX VLAN tags, or -1 when the frame is too short. */
static __always_inline int parse_ethhdr(struct cursor *c)
{
	struct ethhdr *eth = c->pos;
	__u16 proto;

	if ((void *)(eth + 1) > c->end)
		return -1;
	c->pos = eth + 1;
	proto = bpf_ntohs(eth->h_proto);

#pragma unroll
	for (int i = 0; i < GB_VLAN_MAX; i++) {
		struct vlan_tag *tag = c->pos;

		if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
			break;
		if ((void *)(tag + 1) > c->end)
			return -1;
		c->pos = tag + 1;
		proto = bpf_ntohs(tag->proto);
	}
	return proto;
}

/*
 * Parses IPv4 up to the transport header. Returns the IP protocol, or a negative verdict_reason
 * (as -1 - reason) for fragments and malformed headers.
 */
static __always_inline int parse_ipv4(struct cursor *c, struct packet *pkt)
{
	struct iphdr *ip = c->pos;
	__u32 hdrlen;

	if ((void *)(ip + 1) > c->end)
		return -1 - GB_PASS_PARSE_ERROR;
	if (ip->version != 4 || ip->ihl < 5)
		return -1 - GB_PASS_PARSE_ERROR;
	hdrlen = ip->ihl * 4;
	if (c->pos + hdrlen > c->end)
		return -1 - GB_PASS_PARSE_ERROR;
	/* Only the first fragment carries the UDP header; reading "ports" from a later one is a bypass. */
	if (ip->frag_off & bpf_htons(GB_IP_OFFSET))
		return -1 - GB_PASS_FRAGMENT;
	__builtin_memcpy(pkt->saddr, &ip->saddr, 4);
	pkt->family = 4;
	c->pos += hdrlen;
	return ip->protocol;
}

/* As parse_ipv4, walking at most GB_IPV6_EXT_MAX extension headers. */
static __always_inline int parse_ipv6(struct cursor *c, struct packet *pkt)
{
	struct ipv6hdr *ip6 = c->pos;
	__u8 nexthdr;

	if ((void *)(ip6 + 1) > c->end)
		return -1 - GB_PASS_PARSE_ERROR;
	if (ip6->version != 6)
		return -1 - GB_PASS_PARSE_ERROR;
	__builtin_memcpy(pkt->saddr, &ip6->saddr, 16);
	pkt->family = 6;
	c->pos = ip6 + 1;
	nexthdr = ip6->nexthdr;

#pragma unroll
	for (int i = 0; i < GB_IPV6_EXT_MAX; i++) {
		struct ipv6_ext *ext = c->pos;
		struct ipv6_frag *frag = c->pos;

		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(ext + 1) > c->end)
				return -1 - GB_PASS_PARSE_ERROR;
			/* The whole header must be there: one cut short is a parse error. */
			if (c->pos + (ext->hdrlen + 1) * 8 > c->end)
				return -1 - GB_PASS_PARSE_ERROR;
			nexthdr = ext->nexthdr;
			c->pos += (ext->hdrlen + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if ((void *)(frag + 1) > c->end)
				return -1 - GB_PASS_PARSE_ERROR;
			if (frag->frag_off & bpf_htons(GB_IP6_OFFSET))
				return -1 - GB_PASS_FRAGMENT;
			nexthdr = frag->nexthdr;
			c->pos = frag + 1;
			break;
		default:
			return nexthdr;
		}
	}
	/* GB_IPV6_EXT_MAX headers walked; still an extension header next: let it pass as unparsed. */
	if (nexthdr == IPPROTO_HOPOPTS || nexthdr == IPPROTO_ROUTING || nexthdr == IPPROTO_DSTOPTS ||
	    nexthdr == IPPROTO_FRAGMENT)
		return -1 - GB_PASS_PARSE_ERROR;
	return nexthdr;
}

/* Parses a frame down to the UDP or TCP destination port; returns -1 - reason when there is none. */
static __always_inline int parse_packet(struct cursor *c, struct packet *pkt)
{
	struct l4_ports *ports;
	int proto;

	proto = parse_ethhdr(c);
	if (proto < 0)
		return -1 - GB_PASS_PARSE_ERROR;
	if (proto == ETH_P_IP)
		proto = parse_ipv4(c, pkt);
	else if (proto == ETH_P_IPV6)
		proto = parse_ipv6(c, pkt);
	else
		return -1 - GB_PASS_NOT_IP;
	if (proto < 0)
		return proto;

	if (proto != IPPROTO_UDP && proto != IPPROTO_TCP)
		return -1 - GB_PASS_OTHER_PROTO;
	/*
	 * The two ports, which UDP and TCP both begin with, are all the decision needs. Asking for
	 * more (a whole TCP header) would pass a first fragment cut inside the TCP header, which
	 * the kernel reassembles: the whole segment would get past the filter.
	 */
	ports = c->pos;
	if ((void *)(ports + 1) > c->end)
		return -1 - GB_PASS_PARSE_ERROR;
	pkt->dport = bpf_ntohs(ports->dest);
	pkt->proto = proto;
	return 0;
}

#endif /* GEOBLOCK_PARSE_H */
