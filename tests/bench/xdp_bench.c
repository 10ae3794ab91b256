// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark driver (scripts/bench.sh runs it):
 *   xdp_bench gen IFINDEX 4|6 SOURCES DST_MAC DPORT FRAMES  send FRAMES UDP frames out of IFINDEX
 *       with BPF_PROG_TEST_RUN live frames, sources cycling through the addresses in file SOURCES;
 *       prints "FRAMES SECONDS MPPS". With BENCH_PERF_CTL and BENCH_PERF_ACK (the fifos of
 *       `perf record -D -1 --control fifo:CTL,ACK`), perf samples only while frames are sent.
 *   xdp_bench attach IFINDEX drop|pass PIN                  attach a baseline program (bpf_link)
 *   xdp_bench attach IFINDEX nolookup PIN  attach geoblock (its maps pinned in GEOBLOCK_PIN_DIR)
 *       with every source of country CN, read from no table: the filter without its lookup
 *   xdp_bench detach PIN
 *   xdp_bench nspp LINK_PIN 4|6 SRC_ALLOWED SRC_DROPPED PORT_MEETING PORT_OTHER ROUNDS
 *       ns per packet (BPF_PROG_TEST_RUN) of the program behind LINK_PIN and of a bare XDP_PASS,
 *       for a non-meeting port, a meeting port with an allowed source, and a dropped source
 *   xdp_bench lines LINK_PIN
 *       the source lines of the program behind LINK_PIN and where their machine code starts:
 *       "OFFSET FILE:LINE TEXT" per line-info record, OFFSET in bytes from the program's symbol, so
 *       that perf samples (symbol+offset) can be counted per source line
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "geoblock.skel.h"
#include "xdpgen.skel.h"

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

static int craft(__u8 *f, int family, const __u8 *src, const __u8 *dst_mac, int dport)
{
	struct ethhdr *eth = (struct ethhdr *)f;
	struct udphdr *udp;
	int len;

	memset(f, 0, 128);
	memcpy(eth->h_dest, dst_mac, 6);
	eth->h_source[0] = 0x02;
	eth->h_source[5] = 0x01;
	if (family == 4) {
		struct iphdr *ip = (struct iphdr *)(eth + 1);

		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		ip->tot_len = htons(20 + 8 + 32);
		memcpy(&ip->saddr, src, 4);
		inet_pton(AF_INET, "192.0.2.1", &ip->daddr);
		udp = (struct udphdr *)(ip + 1);
		len = 14 + 20 + 8 + 32;
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(eth + 1);

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = 64;
		ip6->payload_len = htons(8 + 32);
		memcpy(&ip6->saddr, src, 16);
		inet_pton(AF_INET6, "2001:db8::1", &ip6->daddr);
		udp = (struct udphdr *)(ip6 + 1);
		len = 14 + 40 + 8 + 32;
	}
	udp->source = htons(40000);
	udp->dest = htons(dport);
	udp->len = htons(8 + 32);
	return len;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Tells a `perf record --control` to enable or disable its events, and waits for its ack. */
static int perf_ctl(const char *cmd)
{
	const char *ctl = getenv("BENCH_PERF_CTL"), *ack = getenv("BENCH_PERF_ACK");
	char reply[8] = "";
	FILE *f;

	if (!ctl || !ack)
		return 0;
	f = fopen(ctl, "w");
	if (!f || fprintf(f, "%s\n", cmd) < 0 || fclose(f))
		return fprintf(stderr, "xdp_bench: %s: %s\n", ctl, strerror(errno)), -1;
	f = fopen(ack, "r");
	if (!f || !fgets(reply, sizeof(reply), f) || strncmp(reply, "ack", 3)) {
		fprintf(stderr, "xdp_bench: no ack from perf on %s\n", ack);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static int parse_mac(const char *s, __u8 mac[6])
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ? 0 : -EINVAL;
}

static int cmd_gen(char **argv)
{
	int ifindex = atoi(argv[0]), family = atoi(argv[1]), dport = atoi(argv[4]);
	unsigned long frames = strtoul(argv[5], NULL, 0);
	/* +2: the IP header after the 14-byte Ethernet header lands 4-byte aligned */
	__u8 mac[6], storage[130] __attribute__((aligned(4))), *frame = storage + 2, addr[16] = {};
	struct xdpgen *skel;
	char line[128];
	__u32 n = 0;
	FILE *f;
	int len, err;
	double t0, t1;

	if (parse_mac(argv[3], mac))
		return fprintf(stderr, "xdp_bench: bad MAC %s\n", argv[3]), 1;
	skel = xdpgen__open();
	if (!skel)
		return 2;
	skel->rodata->ifindex = ifindex;
	skel->rodata->ipv6 = family == 6;
	skel->rodata->addr_offset = family == 4 ? 14 + 12 : 14 + 8;
	f = fopen(argv[2], "r");
	if (!f)
		return perror(argv[2]), 2;
	/* Count first: nsources is read-only data, fixed before load. */
	while (fgets(line, sizeof(line), f))
		n++;
	skel->rodata->nsources = n;
	bpf_program__set_autoload(skel->progs.bare_drop, false);
	bpf_program__set_autoload(skel->progs.bare_pass, false);
	err = xdpgen__load(skel);
	if (err || !n)
		return fprintf(stderr, "xdp_bench: load: %d (%u sources)\n", err, n), 2;
	rewind(f);
	for (__u32 i = 0; i < n && fgets(line, sizeof(line), f); i++) {
		line[strcspn(line, " \n")] = '\0';
		memset(addr, 0, sizeof(addr));
		if (inet_pton(family == 4 ? AF_INET : AF_INET6, line, addr) != 1)
			return fprintf(stderr, "xdp_bench: bad address %s\n", line), 2;
		bpf_map_update_elem(bpf_map__fd(skel->maps.sources), &i, addr, BPF_ANY);
	}
	fclose(f);
	len = craft(frame, family, addr, mac, dport);

	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
	if (perf_ctl("enable"))
		return 2;
	t0 = now();
	for (unsigned long sent = 0; sent < frames;) {
		unsigned long chunk = frames - sent > 1000000 ? 1000000 : frames - sent;

		opts.repeat = chunk;
		err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.gen), &opts);
		if (err)
			return fprintf(stderr, "xdp_bench: test run: %s\n", strerror(errno)), 2;
		sent += chunk;
	}
	t1 = now();
	if (perf_ctl("disable"))
		return 2;
	printf("%lu %.3f %.3f\n", frames, t1 - t0, frames / (t1 - t0) / 1e6);
	xdpgen__destroy(skel);
	return 0;
}

/* The geoblock program, sharing the pinned maps, with bench_country set: see geoblock.bpf.c. */
static int attach_nolookup(int ifindex, const char *pin)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
	LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = getenv("GEOBLOCK_PIN_DIR"));
	struct geoblock *skel;
	int fd;

	if (!oopts.pin_root_path)
		return fprintf(stderr, "xdp_bench: attach nolookup: GEOBLOCK_PIN_DIR not set\n"), 2;
	skel = geoblock__open_opts(&oopts);
	if (!skel)
		return 2;
	/*
	 * CN, which the bench meeting (every code of the table) and both typical policies block, so
	 * that the packets take the drop path; meeting "other" (AQ) passes them. Not AA (1): no
	 * table holds it, so no meeting can block it, and every packet would pass.
	 */
	skel->rodata->bench_country = 1 + ('C' - 'A') * 26 + ('N' - 'A');
	if (geoblock__load(skel))
		return fprintf(stderr, "xdp_bench: attach nolookup: cannot load geoblock\n"), 2;
	fd = bpf_link_create(bpf_program__fd(skel->progs.geoblock_xdp), ifindex, BPF_XDP, &opts);
	if (fd < 0 || bpf_obj_pin(fd, pin))
		return fprintf(stderr, "xdp_bench: attach: %s\n", strerror(errno)), 2;
	return 0;
}

static int cmd_attach(char **argv)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
	struct xdpgen *skel;
	struct bpf_program *prog;
	int fd;

	if (!strcmp(argv[1], "nolookup"))
		return attach_nolookup(atoi(argv[0]), argv[2]);
	skel = xdpgen__open();
	if (!skel)
		return 2;
	bpf_program__set_autoload(skel->progs.gen, false);
	if (xdpgen__load(skel))
		return 2;
	prog = !strcmp(argv[1], "drop") ? skel->progs.bare_drop : skel->progs.bare_pass;
	fd = bpf_link_create(bpf_program__fd(prog), atoi(argv[0]), BPF_XDP, &opts);
	if (fd < 0 || bpf_obj_pin(fd, argv[2]))
		return fprintf(stderr, "xdp_bench: attach: %s\n", strerror(errno)), 2;
	return 0;
}

static int cmd_detach(char **argv)
{
	int fd = bpf_obj_get(argv[0]);

	if (fd < 0)
		return 2;
	bpf_link_detach(fd);
	close(fd);
	return unlink(argv[0]) ? 2 : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The kernel-measured average run time per packet of 1,000,000 runs, or -1. */
static double run_ns(int prog_fd, __u8 *frame, int len)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .repeat = 1000000);

	return bpf_prog_test_run_opts(prog_fd, &opts) ? -1.0 : (double)opts.duration;
}

/*
 * Medians over rounds of both programs' time per packet, run in turn within each round, so that
 * a busy spell of the shared VM weighs on both alike.
 */
static void ns_per_packet(int prog_fd, int bare_fd, __u8 *frame, int len, int rounds, double *g,
			  double *b)
{
	double vg[64], vb[64];

	rounds = rounds < 1 ? 1 : rounds > 64 ? 64 : rounds;
	for (int r = 0; r < rounds; r++) {
		vg[r] = run_ns(prog_fd, frame, len);
		vb[r] = run_ns(bare_fd, frame, len);
	}
	qsort(vg, rounds, sizeof(vg[0]), cmp_double);
	qsort(vb, rounds, sizeof(vb[0]), cmp_double);
	*g = vg[rounds / 2];
	*b = vb[rounds / 2];
}

static int cmd_nspp(char **argv)
{
	int family = atoi(argv[1]), rounds = atoi(argv[6]), link_fd, prog_fd, bare_fd, len;
	struct bpf_link_info info = {};
	__u32 ilen = sizeof(info);
	__u8 allowed[16] = {}, dropped[16] = {}, mac[6] = { 2, 0, 0, 0, 0, 2 };
	__u8 storage[130] __attribute__((aligned(4))), *frame = storage + 2;	/* as in cmd_gen */
	struct xdpgen *skel;
	struct {
		const char *name;
		const __u8 *src;
		int port;
	} kinds[] = {
		{ "non-meeting port", allowed, atoi(argv[5]) },
		{ "meeting port, allowed", allowed, atoi(argv[4]) },
		{ "meeting port, dropped", dropped, atoi(argv[4]) },
	};

	link_fd = bpf_obj_get(argv[0]);
	if (link_fd < 0 || bpf_obj_get_info_by_fd(link_fd, &info, &ilen))
		return fprintf(stderr, "xdp_bench: %s: %s\n", argv[0], strerror(errno)), 2;
	prog_fd = bpf_prog_get_fd_by_id(info.prog_id);
	inet_pton(family == 4 ? AF_INET : AF_INET6, argv[2], allowed);
	inet_pton(family == 4 ? AF_INET : AF_INET6, argv[3], dropped);
	skel = xdpgen__open();
	bpf_program__set_autoload(skel->progs.gen, false);
	if (prog_fd < 0 || xdpgen__load(skel))
		return 2;
	bare_fd = bpf_program__fd(skel->progs.bare_pass);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		double g, b;

		len = craft(frame, family, kinds[k].src, mac, kinds[k].port);
		ns_per_packet(prog_fd, bare_fd, frame, len, rounds, &g, &b);
		printf("IPv%d %-24s geoblock %6.1f ns  bare XDP_PASS %6.1f ns  difference %6.1f ns\n",
		       family, kinds[k].name, g, b, g - b);
	}
	xdpgen__destroy(skel);
	return 0;
}

static int cmd_lines(char **argv)
{
	struct bpf_link_info link = {};
	struct bpf_prog_info info = {};
	__u32 len = sizeof(link), nli, njli, nksyms;
	struct bpf_line_info *li = NULL;
	__u64 *jli = NULL, *ksyms = NULL;
	struct btf *btf = NULL;
	int link_fd, fd, ret = 2;

	link_fd = bpf_obj_get(argv[0]);
	if (link_fd < 0 || bpf_obj_get_info_by_fd(link_fd, &link, &len))
		return fprintf(stderr, "xdp_bench: %s: %s\n", argv[0], strerror(errno)), 2;
	fd = bpf_prog_get_fd_by_id(link.prog_id);
	len = sizeof(info);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return fprintf(stderr, "xdp_bench: program %u: %s\n", link.prog_id, strerror(errno)), 2;
	nli = info.nr_line_info;
	njli = info.nr_jited_line_info;
	nksyms = info.nr_jited_ksyms;
	li = calloc(nli, sizeof(*li));
	jli = calloc(njli, sizeof(*jli));
	ksyms = calloc(nksyms, sizeof(*ksyms));
	if (!li || !jli || !ksyms || !nli || nli != njli || !nksyms)
		goto out;
	memset(&info, 0, sizeof(info));
	info.nr_line_info = nli;
	info.line_info_rec_size = sizeof(*li);
	info.line_info = (__u64)(unsigned long)li;
	info.nr_jited_line_info = njli;
	info.jited_line_info_rec_size = sizeof(*jli);
	info.jited_line_info = (__u64)(unsigned long)jli;
	info.nr_jited_ksyms = nksyms;
	info.jited_ksyms = (__u64)(unsigned long)ksyms;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		goto out;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		goto out;
	/* Every function of the program is inlined: offsets are from its one symbol. */
	for (__u32 i = 0; i < nli; i++) {
		const char *text = btf__name_by_offset(btf, li[i].line_off);
		const char *file = btf__name_by_offset(btf, li[i].file_name_off);

		if (jli[i] < ksyms[0])
			continue;
		file = file && strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
		printf("%llu %s:%u ", (unsigned long long)(jli[i] - ksyms[0]), file ? file : "?",
		       BPF_LINE_INFO_LINE_NUM(li[i].line_col));
		for (; text && *text == '\t'; text++)
			;
		printf("%s\n", text && *text ? text : "-");
	}
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "xdp_bench: no line information for program %u\n", link.prog_id);
	btf__free(btf);
	free(li);
	free(jli);
	free(ksyms);
	return ret;
}

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	if (argc == 8 && !strcmp(argv[1], "gen"))
		return cmd_gen(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "attach"))
		return cmd_attach(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "detach"))
		return cmd_detach(argv + 2);
	if (argc == 9 && !strcmp(argv[1], "nspp"))
		return cmd_nspp(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "lines"))
		return cmd_lines(argv + 2);
	fprintf(stderr, "usage: see the comment at the top of tests/bench/xdp_bench.c\n");
	return 1;
}
