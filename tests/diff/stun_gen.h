/* SPDX-License-Identifier: GPL-2.0 */
/* The differential test's traffic to shared ports: senders, STUN Binding Requests and media. */
#ifndef GEOBLOCK_STUN_GEN_H
#define GEOBLOCK_STUN_GEN_H

#include <stddef.h>
#include <linux/types.h>
#include "rule_gen.h"

/*
 * Senders come from a pool renewed every GEN_EPOCH frames (GEN_POOL of them), so that each one
 * lives a few seconds of a run: well inside the 30 s a binding holds, and the number learned over
 * a run stays far below what ice_senders holds (no eviction).
 */
#define GEN_EPOCH	16384
#define GEN_POOL	48
#define GEN_PAYLOAD_MAX	2400	/* room for USERNAME past two of the walk's steps */

/* A datagram to a shared port (or a TCP segment, sometimes). */
struct gen_flow {
	int family;
	__u8 saddr[16];
	unsigned int proto, sport, dport;
	__u8 payload[GEN_PAYLOAD_MAX];
	size_t len;
};

/* Sender k of the pool of epoch (family, address, ports), and the ufrag it names most. */
void gen_sender(const struct rule_set *rs, __u64 seed, __u64 epoch, unsigned int k,
		struct gen_flow *fl, size_t *home);
/* A flow to a shared port for frame index of the run of seed: its sender and its payload. */
void gen_shared_flow(const struct rule_set *rs, struct rng *r, __u64 seed, __u64 index,
		     struct gen_flow *fl);

#endif /* GEOBLOCK_STUN_GEN_H */
