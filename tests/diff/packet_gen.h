/* SPDX-License-Identifier: GPL-2.0 */
/* The differential test's frames: valid ones, mutated, truncated at every offset, and garbage. */
#ifndef GEOBLOCK_PACKET_GEN_H
#define GEOBLOCK_PACKET_GEN_H

#include <stddef.h>
#include <linux/types.h>
#include "rule_gen.h"

#define GEN_FRAME_MAX	3000	/* BPF_PROG_TEST_RUN takes up to 3520 bytes of XDP frame */
#define GEN_SWEEP_LEN	256	/* a sweep cuts one frame at each offset below this */

enum gen_class {
	GEN_VALID,		/* well-formed, mostly to meeting ports, from sources that matter */
	GEN_MUTATED,		/* a valid frame with a few bytes changed */
	GEN_CUT,		/* a valid frame cut at a random offset */
	GEN_SWEEP,		/* one of the cuts of a valid frame at every offset */
	GEN_GARBAGE,		/* random bytes, some behind an IP or VLAN EtherType */
	GEN_CLASS_COUNT,
};

extern const char *const gen_class_names[GEN_CLASS_COUNT];

/* Frame number index of the run of seed: the same two numbers always give the same frame. */
enum gen_class gen_packet(const struct rule_set *rs, __u64 seed, __u64 index, __u8 *frame,
			  size_t *len);

#endif /* GEOBLOCK_PACKET_GEN_H */
