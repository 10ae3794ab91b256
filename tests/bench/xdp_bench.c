// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark driver (scripts/bench.sh runs it):
 *   xdp_bench gen IFINDEX 4|6 SOURCES DST_MAC DPORT FRAMES [PAYLOAD]  send FRAMES UDP frames out
 *       of IFINDEX with BPF_PROG_TEST_RUN live frames, sources cycling through the addresses in file
 *       SOURCES; prints "FRAMES SECONDS MPPS". With BENCH_PERF_CTL and BENCH_PERF_ACK (the fifos of
 *       `perf record -D -1 --control fifo:CTL,ACK`), perf samples only while frames are sent.
 *       Without PAYLOAD the UDP payload is 32 zero bytes. With it, each line of SOURCES is
 *       "ADDR PORT TAG" (TAG four ufrag characters), the frame from that line has source port
 *       PORT, and its payload is PAYLOAD with TAG written into it:
 *         rtp                   an RTP header (SSRC = TAG) and 20 bytes: 32 bytes, as without
 *         stun:PREFIX:CLIENT    a STUN Binding Request, attributes in the order Chrome sends them
 *                               (USERNAME first); the server ufrag is PREFIX then TAG
 *         stun-libnice:PREFIX:CLIENT  the same in libnice's order (webrtcbin): PRIORITY,
 *                               USE-CANDIDATE, ICE-CONTROLLING, then USERNAME
 *   xdp_bench attach IFINDEX drop|pass PIN                  attach a baseline program (bpf_link)
 *   xdp_bench attach IFINDEX nolookup PIN  attach geoblock (its maps pinned in GEOBLOCK_PIN_DIR)
 *       with every source of country CN, read from no table: the filter without its lookup
 *   xdp_bench detach PIN
 *   xdp_bench nspp LINK_PIN 4|6 SRC_ALLOWED SRC_DROPPED PORT_MEETING PORT_OTHER ROUNDS
 *                  [PORT_SHARED UFRAG_SHORT UFRAG_LONG]
 *       ns per packet (BPF_PROG_TEST_RUN) of the program behind LINK_PIN and of a bare XDP_PASS,
 *       for a non-meeting port, a meeting port with an allowed source, and a dropped source; with
 *       PORT_SHARED (a shared port) and two ufrags of the meeting, also, from the dropped source:
 *       a Binding Request naming UFRAG_SHORT (Chrome's order, 4-character client ufrag), one
 *       naming UFRAG_LONG (libnice's order, 32-character client ufrag), and an RTP packet from
 *       the sender those learned
 *   xdp_bench nspp-ab LINK_NEW LINK_OLD 4|6 SRC_ALLOWED SRC_DROPPED PORT_MEETING PORT_OTHER ROUNDS
 *                     [PORT_SHARED UFRAG_SHORT UFRAG_LONG]
 *       the same kinds for two programs (two builds, each with its own pins) and a bare
 *       XDP_PASS, run in turn in every round; medians of ROUNDS of the ns per packet from the wall
 *       clock around 1,000,000 runs (to a hundredth of a ns, where the kernel's figure, printed
 *       after it, is whole ns; run it at SCHED_FIFO, so that only interrupts take the CPU)
 *   xdp_bench lines LINK_PIN
 *       the source lines of the program behind LINK_PIN and where their machine code starts:
 *       "FUNC OFFSET FILE:LINE TEXT" per line-info record, FUNC the BPF function (the program or
 *       one of its functions not inlined, each its own symbol) and OFFSET in bytes from its
 *       symbol, so that perf samples (symbol+offset) can be counted per source line
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
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
#include "xdpgen.h"
#include "xdpgen.skel.h"

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1)
#endif

#define FRAME_MAX	512
#define PAYLOAD_MAX	(FRAME_MAX - 14 - 40 - 8)
#define PAYLOAD_DEFAULT	32	/* bytes of zeros, the frames of every run but the shared-port ones */

/* What a frame carries after its UDP header. */
struct payload {
	__u8 data[PAYLOAD_MAX];
	int len;
	int tag_off;	/* where the generator writes a source's TAG; -1: nowhere */
};

static int craft(__u8 *f, int family, const __u8 *src, const __u8 *dst_mac, int dport,
		 const struct payload *pl)
{
	int plen = pl ? pl->len : PAYLOAD_DEFAULT;
	struct ethhdr *eth = (struct ethhdr *)f;
	struct udphdr *udp;
	int len;

	memset(f, 0, FRAME_MAX);
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
		ip->tot_len = htons(20 + 8 + plen);
		memcpy(&ip->saddr, src, 4);
		inet_pton(AF_INET, "192.0.2.1", &ip->daddr);
		udp = (struct udphdr *)(ip + 1);
		len = 14 + 20 + 8 + plen;
	} else {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)(eth + 1);

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->nexthdr = IPPROTO_UDP;
		ip6->hop_limit = 64;
		ip6->payload_len = htons(8 + plen);
		memcpy(&ip6->saddr, src, 16);
		inet_pton(AF_INET6, "2001:db8::1", &ip6->daddr);
		udp = (struct udphdr *)(ip6 + 1);
		len = 14 + 40 + 8 + plen;
	}
	udp->source = htons(40000);
	udp->dest = htons(dport);
	udp->len = htons(8 + plen);
	if (pl)
		memcpy(udp + 1, pl->data, pl->len);
	return len;
}

/* Appends a STUN attribute (zero padding to 4 bytes) at *pos of buf. */
static void stun_attr(__u8 *buf, int *pos, __u16 type, const void *value, __u16 len)
{
	__u16 t = htons(type), l = htons(len);

	memcpy(buf + *pos, &t, 2);
	memcpy(buf + *pos + 2, &l, 2);
	memcpy(buf + *pos + 4, value, len);
	memset(buf + *pos + 4 + len, 0, (4 - len % 4) % 4);
	*pos += 4 + ((len + 3) & ~3);
}

/*
 * A client's ICE connectivity check (RFC 8445 7.2.2) to the server: USERNAME "SERVER:CLIENT",
 * PRIORITY, ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT (their values made up:
 * XDP cannot check them), in Chrome's order (USERNAME first, and GOOG-NETWORK-INFO) or libnice's
 * (USERNAME after PRIORITY, USE-CANDIDATE, ICE-CONTROLLING). Returns the payload's length and sets
 * *ufrag_off, the offset of the server ufrag in it.
 */
static int stun_request(__u8 *buf, const char *server, const char *client, bool libnice,
			int *ufrag_off)
{
	static const __u8 txid[12] = { 0x5a, 0x1c, 0x03, 0x77, 0x9e, 0x42, 0x0b, 0xd8, 0x61, 0x2f,
				       0xc4, 0x10 };
	static const __u8 tiebreaker[8] = { 0x3b, 0x8e, 0x12, 0x07, 0xaa, 0x54, 0xf0, 0x9d };
	static const __u8 netinfo[4] = { 0x00, 0x01, 0x00, 0x0a };	/* network id 1, cost 10 */
	__u8 integrity[20], fingerprint[4] = { 0x8f, 0x3a, 0x61, 0x0c }, priority[4] = { 0x6e,
		0x7f, 0x1e, 0xff };
	char username[2 * 256 + 2];
	__u16 type = htons(0x0001), mlen;
	__be32 cookie = htonl(0x2112A442);
	int pos = 20;

	memset(integrity, 0xa5, sizeof(integrity));
	snprintf(username, sizeof(username), "%s:%s", server, client);
	if (libnice) {
		stun_attr(buf, &pos, 0x0024, priority, 4);		/* PRIORITY */
		stun_attr(buf, &pos, 0x0025, NULL, 0);			/* USE-CANDIDATE */
		stun_attr(buf, &pos, 0x802A, tiebreaker, 8);		/* ICE-CONTROLLING */
	}
	*ufrag_off = pos + 4;
	stun_attr(buf, &pos, 0x0006, username, strlen(username));	/* USERNAME */
	if (!libnice) {
		stun_attr(buf, &pos, 0xC057, netinfo, 4);		/* GOOG-NETWORK-INFO */
		stun_attr(buf, &pos, 0x802A, tiebreaker, 8);
		stun_attr(buf, &pos, 0x0025, NULL, 0);
		stun_attr(buf, &pos, 0x0024, priority, 4);
	}
	stun_attr(buf, &pos, 0x0008, integrity, 20);			/* MESSAGE-INTEGRITY */
	stun_attr(buf, &pos, 0x8028, fingerprint, 4);			/* FINGERPRINT */
	mlen = htons(pos - 20);
	memcpy(buf, &type, 2);
	memcpy(buf + 2, &mlen, 2);
	memcpy(buf + 4, &cookie, 4);
	memcpy(buf + 8, txid, 12);
	return pos;
}

/* An RTP packet (Opus, payload type 111) of 32 bytes; *ssrc_off is where its SSRC is. */
static int rtp_packet(__u8 *buf, int *ssrc_off)
{
	static const __u8 hdr[12] = { 0x80, 0x6f, 0x12, 0x34, 0x00, 0x01, 0xe2, 0x40 };

	memset(buf, 0x5c, PAYLOAD_DEFAULT);
	memcpy(buf, hdr, sizeof(hdr));
	*ssrc_off = 8;
	return PAYLOAD_DEFAULT;
}

/* The payload of a PAYLOAD argument (see the top of this file), its TAG at pl->tag_off. */
static int payload_parse(const char *spec, struct payload *pl)
{
	char prefix[256], client[257], server[261];
	bool libnice = !strncmp(spec, "stun-libnice:", 13);

	memset(pl, 0, sizeof(*pl));
	if (!strcmp(spec, "rtp")) {
		pl->len = rtp_packet(pl->data, &pl->tag_off);
		return 0;
	}
	if (strncmp(spec, "stun:", 5) && !libnice)
		return -EINVAL;
	spec = strchr(spec, ':') + 1;
	/* PREFIX may be empty (a 4-character server ufrag: the TAG alone) */
	if (sscanf(spec, "%255[^:]:%256s", prefix, client) != 2) {
		prefix[0] = '\0';
		if (sscanf(spec, ":%256s", client) != 1)
			return -EINVAL;
	}
	snprintf(server, sizeof(server), "%sTAG.", prefix);
	pl->len = stun_request(pl->data, server, client, libnice, &pl->tag_off);
	pl->tag_off += strlen(prefix);
	return 0;
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
	__u8 mac[6], storage[FRAME_MAX + 2] __attribute__((aligned(4))), *frame = storage + 2;
	int l4 = 14 + (family == 4 ? 20 : 40);
	struct payload payload, *pl = NULL;
	struct xdpgen *skel;
	char line[128], word[64];
	__u32 n = 0;
	FILE *f;
	int len, err;
	double t0, t1;

	if (parse_mac(argv[3], mac))
		return fprintf(stderr, "xdp_bench: bad MAC %s\n", argv[3]), 1;
	if (argv[6]) {
		if (payload_parse(argv[6], &payload))
			return fprintf(stderr, "xdp_bench: bad payload %s\n", argv[6]), 1;
		pl = &payload;
	}
	skel = xdpgen__open();
	if (!skel)
		return 2;
	skel->rodata->ifindex = ifindex;
	skel->rodata->ipv6 = family == 6;
	skel->rodata->addr_offset = family == 4 ? 14 + 12 : 14 + 8;
	if (pl) {
		skel->rodata->sport_offset = l4;
		skel->rodata->tag_offset = l4 + 8 + pl->tag_off;
	}
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
		struct source src = {};
		char tag[5] = "";
		unsigned int port = 0;

		if (sscanf(line, "%63s %u %4s", word, &port, tag) < 1 ||
		    inet_pton(family == 4 ? AF_INET : AF_INET6, word, src.addr) != 1)
			return fprintf(stderr, "xdp_bench: bad address %s", line), 2;
		if (pl && (!port || port > 65535 || strlen(tag) != 4))
			return fprintf(stderr, "xdp_bench: %s: want ADDR PORT TAG: %s", argv[2], line), 2;
		src.sport = htons(port);
		memcpy(src.tag, tag, 4);
		bpf_map_update_elem(bpf_map__fd(skel->maps.sources), &i, &src, BPF_ANY);
	}
	fclose(f);
	len = craft(frame, family, (__u8[16]){}, mac, dport, pl);

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

/*
 * The average run time per packet of 1,000,000 runs, or -1: the kernel's (whole ns), and in *wall
 * the wall clock's around them (to a fraction of a ns; the test run's own loop is in every
 * program's, and so is any time the CPU spent elsewhere: run it at SCHED_FIFO).
 */
static double run_ns(int prog_fd, __u8 *frame, int len, double *wall)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
		    .repeat = 1000000);
	double t0 = now();

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -1.0;
	if (wall)
		*wall = (now() - t0) * 1e9 / opts.repeat;
	return (double)opts.duration;
}

static double median_of(double *v, int n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return v[n / 2];
}

/*
 * Medians over rounds of the time per packet of each of n programs, run in turn within each
 * round, so that a busy spell of the shared VM weighs on all alike: the kernel's in out[], the
 * wall clock's in wall[] if not NULL.
 */
static void ns_per_packet(const int *fds, int n, __u8 *frame, int len, int rounds, double *out,
			  double *wall)
{
	double v[4][64], w[4][64];

	rounds = rounds < 1 ? 1 : rounds > 64 ? 64 : rounds;
	for (int r = 0; r < rounds; r++)
		for (int p = 0; p < n; p++)
			v[p][r] = run_ns(fds[p], frame, len, &w[p][r]);
	for (int p = 0; p < n; p++) {
		out[p] = median_of(v[p], rounds);
		if (wall)
			wall[p] = median_of(w[p], rounds);
	}
}

/* The program behind a pinned link, or -1. */
static int link_prog_fd(const char *pin)
{
	struct bpf_link_info info = {};
	__u32 ilen = sizeof(info);
	int link_fd = bpf_obj_get(pin);

	if (link_fd < 0 || bpf_obj_get_info_by_fd(link_fd, &info, &ilen)) {
		fprintf(stderr, "xdp_bench: %s: %s\n", pin, strerror(errno));
		return -1;
	}
	return bpf_prog_get_fd_by_id(info.prog_id);
}

/* A frame to time: what it is, its source, its destination port, its payload (NULL: zeros). */
struct kind {
	const char *name;
	const __u8 *src;
	int port;
	const struct payload *pl;
};

/* The payloads of the shared-port kinds: two Binding Requests, and RTP. */
struct shared_payloads {
	struct payload stun_short, stun_long, rtp;
};

/*
 * Appends to kinds the shared port's three, from src: Binding Requests naming ufrag_short
 * (Chrome's order) and ufrag_long (libnice's), then RTP from the sender they learned.
 */
static int add_shared_kinds(struct kind *kinds, int n, struct shared_payloads *p, int port,
			    const char *ufrag_short, const char *ufrag_long, const __u8 *src)
{
	/* The whole ufrag given: no TAG for a generator to write. */
	p->stun_short.len = stun_request(p->stun_short.data, ufrag_short, "Cl1e", false,
					 &p->stun_short.tag_off);
	p->stun_long.len = stun_request(p->stun_long.data, ufrag_long,
					"Gq7vK2mWx9TzR4pLbN8sYc3dHf6jQa1E", true,
					&p->stun_long.tag_off);
	payload_parse("rtp", &p->rtp);
	kinds[n++] = (struct kind){ "shared, Binding Request", src, port, &p->stun_short };
	kinds[n++] = (struct kind){ "shared, Binding libnice", src, port, &p->stun_long };
	kinds[n++] = (struct kind){ "shared, RTP, learned", src, port, &p->rtp };
	return n;
}

static int cmd_nspp(char **argv, bool shared)
{
	int family = atoi(argv[1]), rounds = atoi(argv[6]), fds[2], len;
	__u8 allowed[16] = {}, dropped[16] = {}, mac[6] = { 2, 0, 0, 0, 0, 2 };
	__u8 storage[FRAME_MAX + 2] __attribute__((aligned(4))), *frame = storage + 2;	/* as in cmd_gen */
	struct shared_payloads sp;
	struct xdpgen *skel;
	struct kind kinds[6] = {
		{ "non-meeting port", allowed, atoi(argv[5]), NULL },
		{ "meeting port, allowed", allowed, atoi(argv[4]), NULL },
		{ "meeting port, dropped", dropped, atoi(argv[4]), NULL },
	};
	int nkinds = 3;

	if (shared)
		nkinds = add_shared_kinds(kinds, nkinds, &sp, atoi(argv[7]), argv[8], argv[9],
					  dropped);
	fds[0] = link_prog_fd(argv[0]);
	inet_pton(family == 4 ? AF_INET : AF_INET6, argv[2], allowed);
	inet_pton(family == 4 ? AF_INET : AF_INET6, argv[3], dropped);
	skel = xdpgen__open();
	bpf_program__set_autoload(skel->progs.gen, false);
	if (fds[0] < 0 || xdpgen__load(skel))
		return 2;
	fds[1] = bpf_program__fd(skel->progs.bare_pass);
	for (int k = 0; k < nkinds; k++) {
		double t[2];

		len = craft(frame, family, kinds[k].src, mac, kinds[k].port, kinds[k].pl);
		ns_per_packet(fds, 2, frame, len, rounds, t, NULL);
		printf("IPv%d %-24s geoblock %6.1f ns  bare XDP_PASS %6.1f ns  difference %6.1f ns\n",
		       family, kinds[k].name, t[0], t[1], t[0] - t[1]);
	}
	xdpgen__destroy(skel);
	return 0;
}

/*
 * nspp-ab LINK_NEW LINK_OLD 4|6 SRC_ALLOWED SRC_DROPPED PORT_MEETING PORT_OTHER ROUNDS
 *         [PORT_SHARED UFRAG_SHORT UFRAG_LONG]
 */
static int cmd_nspp_ab(char **argv, bool shared)
{
	int family = atoi(argv[2]), rounds = atoi(argv[7]), fds[3], len;
	__u8 allowed[16] = {}, dropped[16] = {}, mac[6] = { 2, 0, 0, 0, 0, 2 };
	__u8 storage[FRAME_MAX + 2] __attribute__((aligned(4))), *frame = storage + 2;
	struct shared_payloads sp;
	struct xdpgen *skel;
	struct kind kinds[6] = {
		{ "non-meeting port", allowed, atoi(argv[6]), NULL },
		{ "meeting port, allowed", allowed, atoi(argv[5]), NULL },
		{ "meeting port, dropped", dropped, atoi(argv[5]), NULL },
	};
	int nkinds = 3;

	if (shared)
		nkinds = add_shared_kinds(kinds, nkinds, &sp, atoi(argv[8]), argv[9], argv[10],
					  dropped);

	fds[0] = link_prog_fd(argv[0]);
	fds[1] = link_prog_fd(argv[1]);
	inet_pton(family == 4 ? AF_INET : AF_INET6, argv[3], allowed);
	inet_pton(family == 4 ? AF_INET : AF_INET6, argv[4], dropped);
	skel = xdpgen__open();
	bpf_program__set_autoload(skel->progs.gen, false);
	if (fds[0] < 0 || fds[1] < 0 || xdpgen__load(skel))
		return 2;
	fds[2] = bpf_program__fd(skel->progs.bare_pass);
	for (int k = 0; k < nkinds; k++) {
		double t[3], w[3];

		len = craft(frame, family, kinds[k].src, mac, kinds[k].port, kinds[k].pl);
		ns_per_packet(fds, 3, frame, len, rounds, t, w);
		printf("IPv%d %-23s new %6.2f ns  old %6.2f ns  bare XDP_PASS %6.2f ns  "
		       "new - old %5.2f ns  (kernel: %.0f %.0f %.0f, %+.0f)\n", family, kinds[k].name,
		       w[0], w[1], w[2], w[0] - w[1], t[0], t[1], t[2], t[0] - t[1]);
	}
	xdpgen__destroy(skel);
	return 0;
}

/* The name of BPF function k of a program, from its func_info. */
static const char *func_name(const struct btf *btf, const struct bpf_func_info *fi, __u32 nfi,
			     __u32 k)
{
	const struct btf_type *t = k < nfi ? btf__type_by_id(btf, fi[k].type_id) : NULL;
	const char *name = t ? btf__name_by_offset(btf, t->name_off) : NULL;

	return name && *name ? name : "?";
}

static int cmd_lines(char **argv)
{
	struct bpf_link_info link = {};
	struct bpf_prog_info info = {};
	__u32 len = sizeof(link), nli, njli, nksyms, nfi, k;
	struct bpf_line_info *li = NULL;
	struct bpf_func_info *fi = NULL;
	__u64 *jli = NULL, *ksyms = NULL;
	__u32 *flens = NULL;
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
	nfi = info.nr_func_info;
	li = calloc(nli, sizeof(*li));
	jli = calloc(njli, sizeof(*jli));
	ksyms = calloc(nksyms, sizeof(*ksyms));
	flens = calloc(nksyms, sizeof(*flens));
	fi = calloc(nfi ?: 1, sizeof(*fi));
	if (!li || !jli || !ksyms || !flens || !fi || !nli || nli != njli || !nksyms ||
	    info.nr_jited_func_lens != nksyms)
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
	info.nr_jited_func_lens = nksyms;
	info.jited_func_lens = (__u64)(unsigned long)flens;
	info.nr_func_info = nfi;
	info.func_info_rec_size = sizeof(*fi);
	info.func_info = (__u64)(unsigned long)fi;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		goto out;
	btf = btf__load_from_kernel_by_id(info.btf_id);
	if (!btf)
		goto out;
	/* Each function's code is its own symbol: a line is in the function whose code holds it. */
	for (__u32 i = 0; i < nli; i++) {
		const char *text = btf__name_by_offset(btf, li[i].line_off);
		const char *file = btf__name_by_offset(btf, li[i].file_name_off);

		for (k = 0; k < nksyms; k++)
			if (jli[i] >= ksyms[k] && jli[i] < ksyms[k] + flens[k])
				break;
		if (k == nksyms)
			continue;
		file = file && strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
		printf("%s %llu %s:%u ", func_name(btf, fi, nfi, k),
		       (unsigned long long)(jli[i] - ksyms[k]), file ? file : "?",
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
	free(flens);
	free(fi);
	return ret;
}

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	if ((argc == 8 || argc == 9) && !strcmp(argv[1], "gen"))
		return cmd_gen(argv + 2);
	if (argc == 5 && !strcmp(argv[1], "attach"))
		return cmd_attach(argv + 2);
	if (argc == 3 && !strcmp(argv[1], "detach"))
		return cmd_detach(argv + 2);
	if ((argc == 9 || argc == 12) && !strcmp(argv[1], "nspp"))
		return cmd_nspp(argv + 2, argc == 12);
	if ((argc == 10 || argc == 13) && !strcmp(argv[1], "nspp-ab"))
		return cmd_nspp_ab(argv + 2, argc == 13);
	if (argc == 3 && !strcmp(argv[1], "lines"))
		return cmd_lines(argv + 2);
	fprintf(stderr, "usage: see the comment at the top of tests/bench/xdp_bench.c\n");
	return 1;
}
