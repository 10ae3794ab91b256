// SPDX-License-Identifier: GPL-2.0
/*
 * What one lookup of a state table costs the data path, by the kind of BPF map that holds it
 * (`make bench-maps`): `probe` makes PROBE_CHAIN lookups of random entries, each entry chosen
 * from what the one before it read, so that the misses come one after the other as a packet's
 * do. The tables, each as the data path has (or might have) them:
 *   array:          ice_sender_sets' layout: one array of 524,288 lines of 64 bytes (vmalloc'd)
 *   small arrays:   the same lines in 2,048 arrays of 256 lines, each small enough for kmalloc
 *                   (the kernel's direct map, on 2 MiB pages where the array is on 4 KiB ones)
 *   hash:           meeting_by_ufrag's layout: 262,144 keys of a length and 32 bytes of text,
 *                   BPF_F_NO_PREALLOC
 *   hash prealloc:  the same keys in a preallocated hash map
 *   hash, hot:      the hash map (no prealloc), but only 1,024 of its keys
 *   no read:        the chain's arithmetic alone, which every other kind's time includes
 * The arrays are read over a working set of their lines: all of them, the first N, or N
 * scattered over the first M (struct probe_variant), the ladder of `make bench-maps`.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "map_probe.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct probe_variant);
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
	__u32 zero = 0, next = bpf_get_prandom_u32(), kind, nlines, spread;
	struct probe_variant *v = bpf_map_lookup_elem(&variant, &zero);
	struct probe_key key;

	if (!v)
		return XDP_ABORTED;
	kind = v->kind;
	nlines = v->lines ? v->lines : PROBE_LINES;
	spread = v->spread;
	for (int n = 0; n < PROBE_CHAIN; n++) {
		__u32 r = probe_mix(next + n), i, o, *u;
		struct probe_line *l = NULL;
		void *in;

		/* The line: one of the first nlines, or one of nlines scattered over the first spread. */
		r = spread ? probe_mix((r % nlines) ^ 0x9e3779b9) % spread : r % nlines;
		switch (kind) {
		case PROBE_ARRAY:
			i = r;
			l = bpf_map_lookup_elem(&lines, &i);
			break;
		case PROBE_SMALL_ARRAYS:
			o = r / PROBE_INNER;
			i = r % PROBE_INNER;
			in = bpf_map_lookup_elem(&small_lines, &o);
			if (in)
				l = bpf_map_lookup_elem(in, &i);
			break;
		case PROBE_HASH:
		case PROBE_HASH_PREALLOC:
		case PROBE_HASH_HOT:
			probe_key_of(r % (kind == PROBE_HASH_HOT ? PROBE_HOT : PROBE_KEYS), &key);
			u = bpf_map_lookup_elem(kind == PROBE_HASH_PREALLOC ? (void *)&keys_prealloc :
						(void *)&keys, &key);
			next += u ? *u : 0;
			continue;
		case PROBE_NO_READ:
			next += r & 1;
			continue;
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
