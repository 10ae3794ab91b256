// SPDX-License-Identifier: GPL-2.0
/*
 * What one lookup of a state table costs the data path, by the kind of BPF map that holds it
 * (`make bench-maps`): `probe` makes PROBE_CHAIN lookups of random entries, each entry chosen
 * from what the one before it read, so that the misses come one after the other as a packet's
 * do. The tables, each as the data path has (or might have) them:
 *   0 array:        ice_sender_sets' layout: one array of 524,288 lines of 64 bytes (vmalloc'd)
 *   1 small arrays: the same lines in 2,048 arrays of 256 lines, each small enough for kmalloc
 *                   (the kernel's direct map, on 2 MiB pages where the array is on 4 KiB ones)
 *   2 hash:         meeting_by_ufrag's layout: 262,144 keys of a length and 32 bytes of text,
 *                   BPF_F_NO_PREALLOC
 *   3 hash prealloc: the same keys in a preallocated hash map
 *   4 array, hot:   the array, but only 1,024 of its lines: the cost without a cache miss
 *   5 hash, hot:    the hash map (no prealloc), but only 1,024 of its keys
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "map_probe.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} variant SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PROBE_LINES);
	__type(key, __u32);
	__type(value, struct probe_line);
	__uint(map_flags, BPF_F_MMAPABLE);
} lines SEC(".maps");

struct inner_lines {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PROBE_INNER);
	__type(key, __u32);
	__type(value, struct probe_line);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, PROBE_OUTER);
	__type(key, __u32);
	__array(values, struct inner_lines);
} small_lines SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PROBE_KEYS);
	__type(key, struct probe_key);
	__type(value, __u32);
} keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROBE_KEYS);
	__type(key, struct probe_key);
	__type(value, __u32);
} keys_prealloc SEC(".maps");

__u64 sink;

SEC("xdp")
int probe(struct xdp_md *ctx)
{
	__u32 zero = 0, *v = bpf_map_lookup_elem(&variant, &zero);
	__u32 next = bpf_get_prandom_u32(), which;
	struct probe_key key;

	if (!v)
		return XDP_ABORTED;
	which = *v;
	for (int n = 0; n < PROBE_CHAIN; n++) {
		__u32 r = probe_mix(next + n), i, o, *u;
		struct probe_line *l = NULL;
		void *in;

		switch (which) {
		case 0:
			i = r % PROBE_LINES;
			l = bpf_map_lookup_elem(&lines, &i);
			break;
		case 1:
			o = (r % PROBE_LINES) / PROBE_INNER;
			i = r % PROBE_INNER;
			in = bpf_map_lookup_elem(&small_lines, &o);
			if (in)
				l = bpf_map_lookup_elem(in, &i);
			break;
		case 2:
		case 3:
		case 5:
			probe_key_of(r % (which == 5 ? PROBE_HOT : PROBE_KEYS), &key);
			u = bpf_map_lookup_elem(which == 3 ? (void *)&keys_prealloc : (void *)&keys,
						&key);
			next += u ? *u : 0;
			continue;
		case 4:
			i = r % PROBE_HOT;
			l = bpf_map_lookup_elem(&lines, &i);
			break;
		default:
			return XDP_ABORTED;
		}
		/* The next entry depends on what this one held: one miss after the other. */
		if (l)
			next += (__u32)l->w[0];
	}
	sink += next;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
