/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by map_probe.bpf.c and map_probe.c: the tables' sizes and the hash maps' keys. */
#ifndef GEOBLOCK_BENCH_MAP_PROBE_H
#define GEOBLOCK_BENCH_MAP_PROBE_H

#include <linux/types.h>

#define PROBE_LINES	524288
#define PROBE_INNER	256
#define PROBE_OUTER	(PROBE_LINES / PROBE_INNER)
#define PROBE_KEYS	262144
#define PROBE_HOT	1024
#define PROBE_CHAIN	64

/*
 * What `probe` measures (the variant map's value): a kind of table, and for the array how many of
 * its first lines it reads (its working set).
 */
enum probe_kind {
	PROBE_ARRAY,		/* random lines of `lines`, over the variant's working set */
	PROBE_SMALL_ARRAYS,
	PROBE_HASH,
	PROBE_HASH_PREALLOC,
	PROBE_HASH_HOT,
	PROBE_NO_READ,		/* the chain's arithmetic alone: what every other kind's time includes */
};

/*
 * lines: the working set, random lines among the first `lines` of the array or, with spread,
 * `lines` lines scattered by a hash over the first `spread` lines (PROBE_LINES: the whole array,
 * or the small arrays), as the learned senders' are: as many lines, on many more pages. lines 0:
 * the whole array, or the hash maps.
 */
struct probe_variant {
	__u32 kind;
	__u32 lines;
	__u32 spread;
};

struct probe_line {
	__u64 w[8];
};

/* As meeting_by_ufrag's key: a length and 32 bytes of text. */
struct probe_key {
	__u32 len;
	__u8 text[32];
};

/* A 32-bit mixer (the low bits of its result are as good as the high ones). */
static inline __u32 probe_mix(__u32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return x;
}

/* Key i of the hash maps. */
static inline void probe_key_of(__u32 i, struct probe_key *k)
{
	__u32 *w = (__u32 *)k->text;

	k->len = 32;
	for (int j = 0; j < 8; j++)
		w[j] = probe_mix(i * 8 + j + 1);
}

#endif
