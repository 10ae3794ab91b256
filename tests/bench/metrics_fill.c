// SPDX-License-Identifier: GPL-2.0
/*
 * Fixture of the scrape benchmark: metrics_fill MEETINGS COUNTRIES writes MEETINGS meetings that
 * block COUNTRIES countries each into the pinned maps, as `meeting add` leaves them (active, one
 * port each from 20001), and a drop counter with distinct per-CPU values for every (meeting,
 * country) pair, as if each had dropped traffic (counters numbered from 1 in meeting order).
 * Prints "pairs N packets P bytes B" (the sums a scrape must show). Direct map writes because
 * 1,000 `meeting add` runs take minutes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/country.h"
#include "kern/pins.h"
#include "state/context.h"
#include "geoblock.skel.h"

static const char *const codes[] = {
	"DE", "FR", "US", "JP", "CN", "RU", "BR", "IN", "GB", "IT", "ES", "CA", "AU", "NL",
	"SE", "PL", "TR", "MX", "KR", "ZA", "AR", "BE", "CH", "AT", "NO", "DK", "FI", "IE",
	"PT", "GR", "CZ", "HU", "RO", "UA", "IL", "EG", "NG", "KE", "ID", "TH",
};

int main(int argc, char **argv)
{
	int ncpu = libbpf_num_possible_cpus(), pol_fd, port_fd, slot_fd, drop_fd;
	unsigned long long sum_packets = 0, sum_bytes = 0, pairs = 0;
	unsigned int meetings, countries;
	struct drop_counter *vals;
	struct gb_ctx ctx;
	__u32 counter = 1;

	if (argc != 3 || (meetings = atoi(argv[1])) < 1 || meetings >= GB_MAX_MEETINGS ||
	    (countries = atoi(argv[2])) < 1 || countries > sizeof(codes) / sizeof(codes[0])) {
		fprintf(stderr, "usage: metrics_fill MEETINGS(1-%d) COUNTRIES(1-%zu)\n",
			GB_MAX_MEETINGS - 1, sizeof(codes) / sizeof(codes[0]));
		return 1;
	}
	if (ncpu < 1 || gb_open(&ctx, GB_OPEN_LOCKED))
		return 2;
	vals = calloc(ncpu, sizeof(*vals));
	pol_fd = bpf_map__fd(ctx.skel->maps.meeting_policy);
	port_fd = bpf_map__fd(ctx.skel->maps.meeting_by_port);
	slot_fd = bpf_map__fd(ctx.skel->maps.drop_slot);
	drop_fd = bpf_map__fd(ctx.skel->maps.drop_counts);
	for (__u32 id = 1; id <= meetings; id++) {
		struct meeting_policy p = { .created = time(NULL) };
		struct port_owner owner = { .meeting_id = id };
		struct drop_slots slots = {};
		__u32 port = 20000 + id;

		snprintf(p.name, sizeof(p.name), "meeting-%04u", id);
		for (unsigned int k = 0; k < countries; k++) {
			__u16 cc = country_id(codes[k]);

			p.blocked[cc / 64] |= 1ULL << (cc % 64);
		}
		/* The order `meeting add` uses: inactive policy, counters, ports, then active. */
		if (bpf_map_update_elem(pol_fd, &id, &p, BPF_ANY))
			goto err;
		for (unsigned int k = 0; k < countries; k++, counter++) {
			slots.slot[country_id(codes[k])] = counter;
			for (int c = 0; c < ncpu; c++) {
				vals[c].packets = id * 1000ULL + k * 10 + c + 1;
				vals[c].bytes = vals[c].packets * 100;
				sum_packets += vals[c].packets;
				sum_bytes += vals[c].bytes;
			}
			if (bpf_map_update_elem(drop_fd, &counter, vals, BPF_ANY))
				goto err;
			pairs++;
		}
		if (bpf_map_update_elem(slot_fd, &id, &slots, BPF_ANY) ||
		    bpf_map_update_elem(port_fd, &port, &owner, BPF_ANY))
			goto err;
		p.flags = GB_MEETING_ACTIVE | GB_MEETING_UDP;
		if (bpf_map_update_elem(pol_fd, &id, &p, BPF_ANY))
			goto err;
	}
	printf("pairs %llu packets %llu bytes %llu\n", pairs, sum_packets, sum_bytes);
	free(vals);
	gb_close(&ctx);
	return 0;
err:
	fprintf(stderr, "metrics_fill: map update: %s\n", strerror(errno));
	free(vals);
	gb_close(&ctx);
	return 2;
}
