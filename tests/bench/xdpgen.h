/* SPDX-License-Identifier: GPL-2.0 */
/* What the benchmark generator (xdpgen.bpf.c) and its driver (xdp_bench.c) share. */
#ifndef XDPGEN_H
#define XDPGEN_H

#include <linux/types.h>

/* Element of the generator's sources: what it writes into the frame it sends next. */
struct source {
	__u8 addr[16];		/* IPv4 in the first 4 bytes */
	__be16 sport;		/* written only if sport_offset */
	__u8 pad[2];
	__u8 tag[4];		/* written only if tag_offset: a ufrag's last 4 characters, an SSRC */
};

_Static_assert(sizeof(struct source) == 24, "source layout");

#endif /* XDPGEN_H */
