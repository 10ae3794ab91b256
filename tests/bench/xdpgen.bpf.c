// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark programs: `gen` rewrites the source address of a crafted UDP frame from a table of
 * addresses (and, for the shared-port runs, its source port and four bytes of its payload: a
 * sender's ICE ufrag or RTP SSRC) and redirects it out of a veth (run by BPF_PROG_TEST_RUN with
 * live frames); `bare_drop` and `bare_pass` are the baselines on the receiving side.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include "xdpgen.h"

#define MAX_SOURCES (4 << 20)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SOURCES);
	__type(key, __u32);
	__type(value, struct source);
} sources SEC(".maps");

const volatile __u32 ifindex;		/* where `gen` sends */
const volatile __u32 nsources;
const volatile __u32 addr_offset;	/* of the source address in the frame */
const volatile bool ipv6;
/* Of the UDP source port and of the tag in the frame; 0: not written (fixed at load). */
const volatile __u32 sport_offset;
const volatile __u32 tag_offset;
__u32 next;

SEC("xdp")
int gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 i = next++ % nsources;	/* one CPU runs the generator: no atomics needed */
	struct source *s = bpf_map_lookup_elem(&sources, &i);
	__u8 *p = data + addr_offset;

	if (!s || addr_offset > 64 || (void *)(p + 16) > end)
		return XDP_ABORTED;
	if (ipv6)
		__builtin_memcpy(p, s->addr, 16);
	else
		__builtin_memcpy(p, s->addr, 4);
	if (sport_offset) {
		p = data + sport_offset;
		if (sport_offset > 128 || (void *)(p + 2) > end)
			return XDP_ABORTED;
		__builtin_memcpy(p, &s->sport, 2);
	}
	if (tag_offset) {
		p = data + tag_offset;
		if (tag_offset > 512 || (void *)(p + 4) > end)
			return XDP_ABORTED;
		__builtin_memcpy(p, s->tag, 4);
	}
	return bpf_redirect(ifindex, 0);
}

SEC("xdp")
int bare_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int bare_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
