// SPDX-License-Identifier: GPL-2.0
/*
 * `make bench-maps`: map_probe [ROUNDS] loads map_probe.bpf.c, fills its tables, and runs its
 * `probe` (BPF_PROG_TEST_RUN, 20,000 runs of PROBE_CHAIN dependent lookups) for each table in
 * turn, ROUNDS times (default 5) interleaved; prints each table's median ns per lookup, the same
 * less the chain's arithmetic (the `no read` run: what the memory costs), and the ratio to the
 * whole array's (ice_sender_sets' layout), measured side by side. The array is read over a ladder
 * of working sets, from 32 KiB (a core's L1 data cache) to its 32 MiB: what one dependent read
 * costs the data path for a table of that size read at random.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "map_probe.h"
#include "map_probe.skel.h"

#define PROBE_RUNS	20000
#define PROBE_ROUNDS_MAX 100

static const struct {
	struct probe_variant v;
	const char *name;
} variants[] = {
	{ { PROBE_ARRAY, 0, 0 }, "array, 32 MiB (ice_sender_sets' layout)" },
	{ { PROBE_SMALL_ARRAYS, 0, 0 }, "2,048 small arrays (kmalloc)" },
	{ { PROBE_HASH, 0, 0 }, "hash, no prealloc (meeting_by_ufrag)" },
	{ { PROBE_HASH_PREALLOC, 0, 0 }, "hash, preallocated" },
	{ { PROBE_HASH_HOT, 0, 0 }, "hash, no prealloc, 1,024 keys (hot)" },
	{ { PROBE_ARRAY, 128, 0 }, "array, 128 lines (8 KiB)" },
	{ { PROBE_ARRAY, 512, 0 }, "array, 512 lines (32 KiB)" },
	{ { PROBE_ARRAY, 4096, 0 }, "array, 4,096 lines (256 KiB)" },
	{ { PROBE_ARRAY, 11264, 0 }, "array, 11,264 lines (704 KiB)" },
	{ { PROBE_ARRAY, 16384, 0 }, "array, 16,384 lines (1 MiB)" },
	{ { PROBE_ARRAY, 25000, 0 }, "array, 25,000 lines (1.6 MB)" },
	{ { PROBE_ARRAY, 65536, 0 }, "array, 65,536 lines (4 MiB)" },
	{ { PROBE_ARRAY, 100000, 0 }, "array, 100,000 lines (6.4 MB)" },
	{ { PROBE_ARRAY, 100000, 131072 }, "array, 100,000 lines spread over 8 MiB" },
	{ { PROBE_ARRAY, 100000, 262144 }, "array, 100,000 lines spread over 16 MiB" },
	{ { PROBE_ARRAY, 100000, PROBE_LINES }, "array, 100,000 lines spread over 32 MiB" },
	{ { PROBE_SMALL_ARRAYS, 100000, PROBE_LINES }, "small arrays, 100,000 lines spread" },
	{ { PROBE_NO_READ, 512, 0 }, "no read (the chain's arithmetic)" },
	{ { PROBE_NO_READ, 100000, PROBE_LINES }, "no read, spread" },
};

#define PROBE_VARIANTS	(sizeof(variants) / sizeof(variants[0]))

/* The run whose time is variant v's arithmetic: the same index computed, no read. */
static size_t base_of(size_t v)
{
	return PROBE_VARIANTS - (variants[v].v.spread ? 1 : 2);
}

static int fill(struct map_probe *skel)
{
	int outer = bpf_map__fd(skel->maps.small_lines);
	int fds[2] = { bpf_map__fd(skel->maps.keys), bpf_map__fd(skel->maps.keys_prealloc) };
	struct probe_key k;

	for (__u32 o = 0; o < PROBE_OUTER; o++) {
		int in = bpf_map_create(BPF_MAP_TYPE_ARRAY, "probe_inner", 4, 64, PROBE_INNER, NULL);

		if (in < 0 || bpf_map_update_elem(outer, &o, &in, BPF_ANY)) {
			fprintf(stderr, "map_probe: inner array %u: %s\n", o, strerror(errno));
			return -1;
		}
		close(in);
	}
	for (__u32 i = 0; i < PROBE_KEYS; i++) {
		__u32 v = 0;

		probe_key_of(i, &k);
		for (int m = 0; m < 2; m++)
			if (bpf_map_update_elem(fds[m], &k, &v, BPF_NOEXIST)) {
				fprintf(stderr, "map_probe: key %u: %s\n", i, strerror(errno));
				return -1;
			}
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5, tmpl, prog, var_fd, err = 1;
	static double ns[PROBE_VARIANTS][PROBE_ROUNDS_MAX];
	struct map_probe *skel;
	char frame[64] = {};

	if (rounds < 1 || rounds > PROBE_ROUNDS_MAX) {
		fprintf(stderr, "usage: map_probe [ROUNDS 1-%d]\n", PROBE_ROUNDS_MAX);
		return 2;
	}
	skel = map_probe__open();
	tmpl = bpf_map_create(BPF_MAP_TYPE_ARRAY, "probe_tmpl", 4, 64, PROBE_INNER, NULL);
	if (!skel || tmpl < 0 || bpf_map__set_inner_map_fd(skel->maps.small_lines, tmpl) ||
	    map_probe__load(skel)) {
		fprintf(stderr, "map_probe: cannot load the probe: %s\n", strerror(errno));
		goto out;
	}
	if (fill(skel))
		goto out;
	prog = bpf_program__fd(skel->progs.probe);
	var_fd = bpf_map__fd(skel->maps.variant);
	for (int r = 0; r < rounds; r++) {
		for (size_t v = 0; v < PROBE_VARIANTS; v++) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame,
				    .data_size_in = sizeof(frame), .repeat = PROBE_RUNS);
			__u32 zero = 0;

			if (bpf_map_update_elem(var_fd, &zero, &variants[v].v, BPF_ANY) ||
			    bpf_prog_test_run_opts(prog, &o)) {
				fprintf(stderr, "map_probe: run: %s\n", strerror(errno));
				goto out;
			}
			ns[v][r] = o.duration / (double)PROBE_CHAIN;
		}
	}
	printf("%-42s %10s %12s %10s\n", "table", "ns/lookup", "less no read", "vs array");
	for (size_t v = 0; v < PROBE_VARIANTS; v++)
		qsort(ns[v], rounds, sizeof(double), cmp_double);
	for (size_t v = 0; v < PROBE_VARIANTS; v++)
		printf("%-42s %10.1f %12.1f %10.2f\n", variants[v].name, ns[v][rounds / 2],
		       ns[v][rounds / 2] - ns[base_of(v)][rounds / 2],
		       ns[v][rounds / 2] / ns[0][rounds / 2]);
	err = 0;
out:
	map_probe__destroy(skel);
	if (tmpl >= 0)
		close(tmpl);
	return err;
}
