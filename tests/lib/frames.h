/* SPDX-License-Identifier: GPL-2.0 */
/* Builders of test frames (Ethernet, VLAN, IPv4, IPv6 and its extension headers, UDP, TCP). */
#ifndef GEOBLOCK_TEST_FRAMES_H
#define GEOBLOCK_TEST_FRAMES_H

#include <assert.h>
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/tcp.h>

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

#define FRAME_MAX	3072	/* BPF_PROG_TEST_RUN takes up to 3520 bytes of XDP frame */
/* IPv4 frag_off flags, host order; the offset beside them counts 8-byte units. */
#define FRAME_IP_DF	0x4000
#define FRAME_IP_MF	0x2000

/*
 * A frame under construction: each frame_*() call appends one header (zeroed, then filled) and
 * returns it, so a test can still break a field; frame_finish() fills in the length fields.
 */
struct frame {
	__u8 headroom[2];	/* with the 14-byte Ethernet header, aligns IP headers to 8 bytes */
	__u8 data[FRAME_MAX];
	size_t len;
	int l3;		/* offset of the IPv4/IPv6 header, -1 if none */
	int udp;	/* offset of the UDP header, -1 if none */
} __attribute__((aligned(8)));

static inline void *frame_put(struct frame *f, size_t n)
{
	void *p = f->data + f->len;

	assert(f->len + n <= FRAME_MAX);
	memset(p, 0, n);
	f->len += n;
	return p;
}

/* Starts a frame: Ethernet header whose EtherType (or first TPID) is proto. */
static inline struct ethhdr *frame_eth(struct frame *f, __u16 proto)
{
	static const __u8 dst[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const __u8 src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x02 };
	struct ethhdr *eth;

	f->len = 0;
	f->l3 = f->udp = -1;
	eth = frame_put(f, sizeof(*eth));
	memcpy(eth->h_dest, dst, ETH_ALEN);
	memcpy(eth->h_source, src, ETH_ALEN);
	eth->h_proto = htons(proto);
	return eth;
}

/* A VLAN tag (the TPID is the previous header's protocol field); proto is what follows it. */
static inline void frame_vlan(struct frame *f, __u16 vid, __u16 proto)
{
	__be16 *tag = frame_put(f, 4);

	tag[0] = htons(vid & 0x0fff);
	tag[1] = htons(proto);
}

/* IPv4 with optlen bytes of NOP options (a multiple of 4, at most 40); frag_off in host order. */
static inline struct iphdr *frame_ipv4(struct frame *f, const char *src, const char *dst,
				       __u8 proto, unsigned int optlen, __u16 frag_off)
{
	struct iphdr *ip;

	assert(optlen % 4 == 0 && optlen <= 40);
	f->l3 = f->len;
	ip = frame_put(f, sizeof(*ip) + optlen);
	ip->version = 4;
	ip->ihl = 5 + optlen / 4;
	ip->ttl = 64;
	ip->protocol = proto;
	ip->frag_off = htons(frag_off);
	memset(ip + 1, 1, optlen);	/* IPOPT_NOOP */
	inet_pton(AF_INET, src, &ip->saddr);
	inet_pton(AF_INET, dst, &ip->daddr);
	return ip;
}

static inline struct ipv6hdr *frame_ipv6(struct frame *f, const char *src, const char *dst,
					 __u8 nexthdr)
{
	struct ipv6hdr *ip6;

	f->l3 = f->len;
	ip6 = frame_put(f, sizeof(*ip6));
	ip6->version = 6;
	ip6->nexthdr = nexthdr;
	ip6->hop_limit = 64;
	inet_pton(AF_INET6, src, &ip6->saddr);
	inet_pton(AF_INET6, dst, &ip6->daddr);
	return ip6;
}

/*
 * A hop-by-hop, routing or destination options header of len bytes (a multiple of 8). The zero
 * bytes after the first two are Pad1 options, or an ignored type 0 routing header.
 */
static inline void frame_ipv6_ext(struct frame *f, __u8 nexthdr, unsigned int len)
{
	__u8 *ext;

	assert(len >= 8 && len % 8 == 0 && len <= 2048);
	ext = frame_put(f, len);
	ext[0] = nexthdr;
	ext[1] = len / 8 - 1;
}

/* An IPv6 fragment header; offset in bytes (a multiple of 8). */
static inline void frame_ipv6_frag(struct frame *f, __u8 nexthdr, unsigned int offset, int more)
{
	__u8 *frag = frame_put(f, 8);
	__be16 off = htons((offset & 0xfff8) | (more ? 1 : 0));

	frag[0] = nexthdr;
	memcpy(frag + 2, &off, 2);
	memcpy(frag + 4, "\x12\x34\x56\x78", 4);
}

static inline struct udphdr *frame_udp(struct frame *f, __u16 sport, __u16 dport)
{
	struct udphdr *udp;

	f->udp = f->len;
	udp = frame_put(f, sizeof(*udp));
	udp->source = htons(sport);
	udp->dest = htons(dport);
	return udp;
}

static inline struct tcphdr *frame_tcp(struct frame *f, __u16 sport, __u16 dport)
{
	struct tcphdr *tcp = frame_put(f, sizeof(*tcp));

	tcp->source = htons(sport);
	tcp->dest = htons(dport);
	tcp->doff = sizeof(*tcp) / 4;
	tcp->syn = 1;
	tcp->window = htons(65535);
	return tcp;
}

static inline void frame_bytes(struct frame *f, size_t n, __u8 fill)
{
	memset(frame_put(f, n), fill, n);
}

static inline __u16 frame_csum(const void *data, size_t len)
{
	const __u8 *p = data;
	__u32 sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len % 2)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((__u16)~sum);
}

/*
 * Fills the IP and UDP length fields and the IPv4 header checksum from what was appended. The UDP
 * checksum stays 0 ("none"), which IPv6 receivers would refuse but the XDP program never reads.
 */
static inline void frame_finish(struct frame *f)
{
	if (f->l3 >= 0 && (f->data[f->l3] >> 4) == 4) {
		struct iphdr *ip = (struct iphdr *)(f->data + f->l3);

		ip->tot_len = htons(f->len - f->l3);
		ip->check = 0;
		ip->check = frame_csum(ip, ip->ihl * 4);
	} else if (f->l3 >= 0) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(f->data + f->l3);

		ip6->payload_len = htons(f->len - f->l3 - sizeof(*ip6));
	}
	if (f->udp >= 0) {
		struct udphdr *udp = (struct udphdr *)(f->data + f->udp);

		udp->len = htons(f->len - f->udp);
	}
}

#endif /* GEOBLOCK_TEST_FRAMES_H */
