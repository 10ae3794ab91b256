// SPDX-License-Identifier: GPL-2.0
/* Crafted frames through the XDP program (BPF_PROG_TEST_RUN): each verdict, reason and counter. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/country.h"
#include "geoip/geoip.h"
#include "geoip/prefix.h"
#include "kern/hot.h"
#include "kern/pins.h"
#include "kern/senders.h"
#include "kern/ufrag_ways.h"
#include "kern/table.h"
#include "kern/verdicts.h"
#include "frames.h"
#include "check.h"
#include "geoblock.skel.h"

#define SERVER4		"192.0.2.10"
#define SERVER6		"2001:db8:ff::10"
#define CN4		"198.51.100.7"	/* 198.51.100.0/24 is CN in the test table */
#define CN4_HIGH	"198.51.100.200"
#define US4		"203.0.113.9"	/* 203.0.113.0/24 is US */
#define NONE4		"192.0.2.1"	/* in no network of the table */
#define CN6		"2001:db8:1::5"	/* 2001:db8:1::/48 is CN */
#define CN6_ALLOWED	"2001:db8:1:1::5"
#define US6		"2001:db8:2::5"	/* 2001:db8:2::/48 is US */
#define NONE6		"2001:db8:3::5"
#define SPORT		40000
#define PAYLOAD		18		/* bytes of media after the UDP header */

/* Meeting ids; the comment is the policy installed for it. */
enum {
	M_STANDUP = 1,		/* enforce, blocks CN, UDP 8801-8810 */
	M_MONITOR = 2,		/* monitor, blocks CN, UDP 9000 */
	M_INACTIVE = 3,		/* not active (half added or deleted), blocks CN, UDP 9100 */
	M_TCP = 4,		/* enforce, blocks CN, UDP and TCP 9200 */
	M_TCP_ONLY = 5,		/* enforce, blocks CN, TCP 9250 */
	M_EXPIRED = 6,		/* expired a minute ago, blocks CN, UDP 9300 */
	M_EXPIRES = 7,		/* expires in an hour, blocks CN, UDP 9350 */
	M_ALLOWS = 8,		/* blocks CN but 198.51.100.0/25 2001:db8:1:1::/64, UDP 9400 */
	M_US = 9,		/* blocks US only, UDP 9500 */
};

struct meeting {
	__u32 id;
	const char *name;
	__u32 flags;
	const char *block;
	__u16 first_port, last_port;
	int expires_in;		/* seconds from now; 0: never */
};

static const struct meeting meetings[] = {
	{ M_STANDUP, "standup", GB_MEETING_ACTIVE | GB_MEETING_UDP, "CN", 8801, 8810, 0 },
	{ M_MONITOR, "monitored", GB_MEETING_ACTIVE | GB_MEETING_UDP | GB_MEETING_MONITOR, "CN",
	  9000, 9000, 0 },
	{ M_INACTIVE, "inactive", GB_MEETING_UDP, "CN", 9100, 9100, 0 },
	{ M_TCP, "tcp", GB_MEETING_ACTIVE | GB_MEETING_UDP | GB_MEETING_TCP, "CN", 9200, 9200, 0 },
	{ M_TCP_ONLY, "tcp-only", GB_MEETING_ACTIVE | GB_MEETING_TCP, "CN", 9250, 9250, 0 },
	{ M_EXPIRED, "expired", GB_MEETING_ACTIVE | GB_MEETING_UDP, "CN", 9300, 9300, -60 },
	{ M_EXPIRES, "expires", GB_MEETING_ACTIVE | GB_MEETING_UDP, "CN", 9350, 9350, 3600 },
	{ M_ALLOWS, "allows", GB_MEETING_ACTIVE | GB_MEETING_UDP | GB_MEETING_ALLOWS, "CN", 9400,
	  9400, 0 },
	{ M_US, "us", GB_MEETING_ACTIVE | GB_MEETING_UDP, "US", 9500, 9500, 0 },
};

/* What a frame should do; meeting and cc name the drop counter of a drop or monitor hit. */
struct expect {
	__u32 action;
	int reason;
	__u32 meeting;
	const char *cc;
};

#define EXPECT_PASS(r)		((struct expect){ XDP_PASS, (r), 0, NULL })
#define EXPECT_DROP(m, cc)	((struct expect){ XDP_DROP, GB_DROP, (m), (cc) })
#define EXPECT_MONITOR(m, cc)	((struct expect){ XDP_PASS, GB_PASS_MONITOR, (m), (cc) })

struct env {
	struct geoblock *skel;
	int prog_fd;
	int ncpus;
	__u64 *percpu;		/* one per-CPU value of every possible CPU */
	__u64 *range;		/* the per-CPU values of drop_counts 0..SLOTS-1 */
};

/*
 * The drop counter of (meeting id, country), as the test assigns them in drop_slot: every
 * counter a meeting here can use lies below SLOTS, and counter 0 (nobody's) is read too.
 */
#define SLOT(id, cc)	(1 + ((id) - 1) * GB_COUNTRY_COUNT + (cc))
#define SLOTS		SLOT(M_US + 1, 0)

/* Counters summed over CPUs (and, for "all", over every counter of drop_counts below SLOTS). */
struct counters {
	struct verdict_counter verdict[GB_REASON_COUNT];
	struct drop_counter pair;
	struct drop_counter all;
	struct verdict_counter iface;
};

static int print_warnings(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

/* Sums the n __u64 fields of a per-CPU value over every possible CPU; a missing key reads as 0. */
static int read_percpu(const struct env *env, int fd, const void *key, __u64 *out, size_t n)
{
	memset(out, 0, n * sizeof(*out));
	if (bpf_map_lookup_elem(fd, key, env->percpu))
		return errno == ENOENT ? 0 : -errno;
	for (int cpu = 0; cpu < env->ncpus; cpu++)
		for (size_t i = 0; i < n; i++)
			out[i] += env->percpu[cpu * n + i];
	return 0;
}

static int sum_drop_counts(const struct env *env, struct drop_counter *out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 keys[SLOTS], count = SLOTS, next;
	__u64 *o = (__u64 *)out;

	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_batch(bpf_map__fd(env->skel->maps.drop_counts), NULL, &next, keys,
				 env->range, &count, &opts) && errno != ENOENT)
		return -errno;
	if (count != SLOTS)
		return -EIO;
	for (size_t i = 0; i < (size_t)SLOTS * env->ncpus; i++)
		for (int w = 0; w < 4; w++)
			o[w] += env->range[i * 4 + w];
	return 0;
}

static int read_counters(const struct env *env, __u32 slot, struct counters *c)
{
	const struct geoblock *skel = env->skel;
	__u32 zero = 0;
	int err = 0;

	for (__u32 r = 0; r < GB_REASON_COUNT && !err; r++)
		err = read_percpu(env, bpf_map__fd(skel->maps.verdict_stats), &r,
				  (__u64 *)&c->verdict[r], 2);
	if (!err)
		err = read_percpu(env, bpf_map__fd(skel->maps.drop_counts), &slot,
				  (__u64 *)&c->pair, 4);
	if (!err)
		err = sum_drop_counts(env, &c->all);
	if (!err)
		err = read_percpu(env, bpf_map__fd(skel->maps.link_drops), &zero,
				  (__u64 *)&c->iface, 2);
	return err;
}

static int run(const struct env *env, const void *data, size_t len, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = len, .repeat = 1);

	if (bpf_prog_test_run_opts(env->prog_fd, &opts))
		return -errno;
	*retval = opts.retval;
	return 0;
}

static const char *action_name(__u32 action)
{
	return action == XDP_DROP ? "XDP_DROP" : action == XDP_PASS ? "XDP_PASS" : "other";
}

static void check_str(const char *name, const char *what, const char *expected, const char *actual)
{
	char label[256];

	snprintf(label, sizeof(label), "%s: %s", name, what);
	CHECK_STR(label, expected, actual);
}

static void format_drops(char *out, size_t len, __u64 pk, __u64 b, __u64 mpk, __u64 mb)
{
	snprintf(out, len, "%llu packets %llu bytes, monitor %llu packets %llu bytes",
		 (unsigned long long)pk, (unsigned long long)b, (unsigned long long)mpk,
		 (unsigned long long)mb);
}

/*
 * Runs one frame and checks its verdict, that exactly one reason counted it (with its length),
 * that drop_counts moved for the expected pair only, and that link_drops counted drops only.
 */
static void check_frame(const struct env *env, const char *name, const void *data, size_t len,
			struct expect exp)
{
	__u32 slot = exp.meeting ? SLOT(exp.meeting, country_id(exp.cc)) : 0;
	bool pair = exp.reason == GB_DROP || exp.reason == GB_PASS_MONITOR;
	bool mon = exp.reason == GB_PASS_MONITOR;
	struct counters b, a;
	char e[128], got[128];
	int err, reason = -1, hits = 0;
	__u32 retval = 0;

	err = read_counters(env, slot, &b);
	if (!err)
		err = run(env, data, len, &retval);
	if (!err)
		err = read_counters(env, slot, &a);
	check_str(name, "test run", "ok", err ? strerror(-err) : "ok");
	if (err)
		return;

	check_str(name, "verdict", action_name(exp.action), action_name(retval));

	for (int r = 0; r < GB_REASON_COUNT; r++) {
		__u64 d = a.verdict[r].packets - b.verdict[r].packets;

		hits += d;
		if (d)
			reason = r;
	}
	check_str(name, "reason", verdict_name(exp.reason),
		  hits == 1 ? verdict_name(reason) : hits ? "several" : "none");
	snprintf(e, sizeof(e), "%zu bytes", len);
	snprintf(got, sizeof(got), "%llu bytes",
		 (unsigned long long)(a.verdict[exp.reason].bytes - b.verdict[exp.reason].bytes));
	check_str(name, "reason bytes", e, got);

	if (pair) {
		char what[64];

		snprintf(what, sizeof(what), "drop_counts(%u,%s)", exp.meeting, exp.cc);
		format_drops(e, sizeof(e), !mon, mon ? 0 : len, mon, mon ? len : 0);
		format_drops(got, sizeof(got), a.pair.packets - b.pair.packets,
			     a.pair.bytes - b.pair.bytes,
			     a.pair.monitor_packets - b.pair.monitor_packets,
			     a.pair.monitor_bytes - b.pair.monitor_bytes);
		check_str(name, what, e, got);
	}
	/* Every other pair: the whole map's change less the expected pair's. */
	format_drops(e, sizeof(e), 0, 0, 0, 0);
	format_drops(got, sizeof(got),
		     (a.all.packets - b.all.packets) - (a.pair.packets - b.pair.packets),
		     (a.all.bytes - b.all.bytes) - (a.pair.bytes - b.pair.bytes),
		     (a.all.monitor_packets - b.all.monitor_packets) -
			     (a.pair.monitor_packets - b.pair.monitor_packets),
		     (a.all.monitor_bytes - b.all.monitor_bytes) -
			     (a.pair.monitor_bytes - b.pair.monitor_bytes));
	check_str(name, pair ? "drop_counts of other pairs" : "drop_counts", e, got);

	snprintf(e, sizeof(e), "%d packets %zu bytes", exp.reason == GB_DROP,
		 exp.reason == GB_DROP ? len : 0);
	snprintf(got, sizeof(got), "%llu packets %llu bytes",
		 (unsigned long long)(a.iface.packets - b.iface.packets),
		 (unsigned long long)(a.iface.bytes - b.iface.bytes));
	check_str(name, "link_drops", e, got);
}

static void check(const struct env *env, const char *name, const struct frame *f, struct expect exp)
{
	check_frame(env, name, f->data, f->len, exp);
}

/*
 * Runs every prefix of f: shorter than need (the end of the last header the decision reads) it
 * must pass as parse_error, longer it must get the whole frame's verdict, since the program does
 * not check the IP or UDP length fields against the frame. Below ETH_HLEN the kernel may refuse
 * to run the program at all (EINVAL), which is as good as a pass.
 */
/* What the filter needs of a UDP or TCP header: its source and destination ports. */
#define PORTS_LEN 4

static void check_truncations(const struct env *env, const char *name, const struct frame *f,
			      size_t need, struct expect whole)
{
	char label[128];
	__u32 retval;

	for (size_t cut = 0; cut < f->len; cut++) {
		snprintf(label, sizeof(label), "%s[cut %zu of %zu]", name, cut, f->len);
		if (cut < ETH_HLEN) {
			int err = run(env, f->data, cut, &retval);

			if (err == -EINVAL) {
				CHECK(label, 1);
				continue;
			}
		}
		check_frame(env, label, f->data, cut,
			    cut < need ? EXPECT_PASS(GB_PASS_PARSE_ERROR) : whole);
	}
}

/* The common frames: Ethernet, IP, UDP (or TCP) to dport, PAYLOAD bytes of media. */
static void udp4(struct frame *f, const char *src, __u16 dport)
{
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, src, SERVER4, IPPROTO_UDP, 0, 0);
	frame_udp(f, SPORT, dport);
	frame_bytes(f, PAYLOAD, 0xab);
	frame_finish(f);
}

static void udp6(struct frame *f, const char *src, __u16 dport)
{
	frame_eth(f, ETH_P_IPV6);
	frame_ipv6(f, src, SERVER6, IPPROTO_UDP);
	frame_udp(f, SPORT, dport);
	frame_bytes(f, PAYLOAD, 0xab);
	frame_finish(f);
}

static void tcp4(struct frame *f, const char *src, __u16 dport)
{
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, src, SERVER4, IPPROTO_TCP, 0, 0);
	frame_tcp(f, SPORT, dport);
	frame_finish(f);
}

static void tcp6(struct frame *f, const char *src, __u16 dport)
{
	frame_eth(f, ETH_P_IPV6);
	frame_ipv6(f, src, SERVER6, IPPROTO_TCP);
	frame_tcp(f, SPORT, dport);
	frame_finish(f);
}

/* IPv6 to dport behind n destination options headers. */
static void udp6_ext_chain(struct frame *f, const char *src, __u16 dport, int n)
{
	frame_eth(f, ETH_P_IPV6);
	frame_ipv6(f, src, SERVER6, n ? IPPROTO_DSTOPTS : IPPROTO_UDP);
	for (int i = 0; i < n; i++)
		frame_ipv6_ext(f, i + 1 < n ? IPPROTO_DSTOPTS : IPPROTO_UDP, 8);
	frame_udp(f, SPORT, dport);
	frame_bytes(f, PAYLOAD, 0xab);
	frame_finish(f);
}

static void test_ipv4(const struct env *env)
{
	static const __u16 later[] = { FRAME_IP_MF | 1, FRAME_IP_MF | 185, 185, 0x1fff };
	struct frame f;

	udp4(&f, CN4, 8801);
	check(env, "drops_blocked_country_on_meeting_port", &f, EXPECT_DROP(M_STANDUP, "CN"));
	udp4(&f, CN4, 8810);
	check(env, "drops_on_last_port_of_meeting_range", &f, EXPECT_DROP(M_STANDUP, "CN"));
	udp4(&f, US4, 8801);
	check(env, "passes_country_not_blocked", &f, EXPECT_PASS(GB_PASS_NOT_BLOCKED));
	udp4(&f, NONE4, 8801);
	check(env, "passes_source_without_country", &f, EXPECT_PASS(GB_PASS_NO_COUNTRY));
	udp4(&f, CN4, 8811);
	check(env, "passes_port_of_no_meeting", &f, EXPECT_PASS(GB_PASS_NO_MEETING));
	udp4(&f, CN4, 8800);
	check(env, "passes_port_below_meeting_range", &f, EXPECT_PASS(GB_PASS_NO_MEETING));
	udp4(&f, CN4, 9100);
	check(env, "passes_meeting_not_active", &f, EXPECT_PASS(GB_PASS_NO_MEETING));
	udp4(&f, CN4, 9000);
	check(env, "counts_monitor_meeting_without_dropping", &f,
	      EXPECT_MONITOR(M_MONITOR, "CN"));
	udp4(&f, US4, 9000);
	check(env, "monitor_meeting_ignores_country_not_blocked", &f,
	      EXPECT_PASS(GB_PASS_NOT_BLOCKED));
	udp4(&f, US4, 9500);
	check(env, "drops_only_the_listed_country", &f, EXPECT_DROP(M_US, "US"));
	udp4(&f, CN4, 9500);
	check(env, "passes_country_listed_by_another_meeting", &f,
	      EXPECT_PASS(GB_PASS_NOT_BLOCKED));
	udp4(&f, CN4, 9300);
	check(env, "passes_expired_meeting", &f, EXPECT_PASS(GB_PASS_EXPIRED));
	udp4(&f, CN4, 9350);
	check(env, "drops_before_expiry", &f, EXPECT_DROP(M_EXPIRES, "CN"));
	udp4(&f, CN4, 9400);
	check(env, "passes_allow_exception", &f, EXPECT_PASS(GB_PASS_ALLOWED));
	udp4(&f, CN4_HIGH, 9400);
	check(env, "drops_outside_allow_exception", &f, EXPECT_DROP(M_ALLOWS, "CN"));
	udp4(&f, CN4, 8802);
	check(env, "allow_exception_is_per_meeting", &f, EXPECT_DROP(M_STANDUP, "CN"));
	udp4(&f, CN4, 9250);
	check(env, "passes_udp_to_tcp_only_meeting", &f, EXPECT_PASS(GB_PASS_NOT_COVERED));

	tcp4(&f, CN4, 8801);
	check(env, "passes_tcp_to_udp_only_meeting", &f, EXPECT_PASS(GB_PASS_NOT_COVERED));
	tcp4(&f, CN4, 9200);
	check(env, "drops_tcp_to_meeting_covering_tcp", &f, EXPECT_DROP(M_TCP, "CN"));
	tcp4(&f, CN4, 9250);
	check(env, "drops_tcp_to_tcp_only_meeting", &f, EXPECT_DROP(M_TCP_ONLY, "CN"));
	udp4(&f, CN4, 9200);
	check(env, "drops_udp_to_meeting_covering_tcp", &f, EXPECT_DROP(M_TCP, "CN"));

	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, CN4, SERVER4, IPPROTO_ICMP, 0, 0);
	frame_bytes(&f, 8, 0);
	frame_finish(&f);
	check(env, "passes_icmp", &f, EXPECT_PASS(GB_PASS_OTHER_PROTO));

	frame_eth(&f, ETH_P_ARP);
	frame_bytes(&f, 28, 0);
	check(env, "passes_arp", &f, EXPECT_PASS(GB_PASS_NOT_IP));

	for (int v = 0; v < 16; v += 5) {	/* 0, 5, 10, 15 */
		char name[64];

		udp4(&f, CN4, 8801);
		((struct iphdr *)(f.data + f.l3))->version = v;
		snprintf(name, sizeof(name), "passes_ipv4_version_%d", v);
		check(env, name, &f, EXPECT_PASS(GB_PASS_PARSE_ERROR));
	}
	udp6(&f, CN6, 8801);
	((struct ethhdr *)f.data)->h_proto = htons(ETH_P_IP);
	check(env, "passes_ipv6_header_under_ipv4_ethertype", &f, EXPECT_PASS(GB_PASS_PARSE_ERROR));

	for (int ihl = 0; ihl < 5; ihl++) {
		char name[64];

		udp4(&f, CN4, 8801);
		((struct iphdr *)(f.data + f.l3))->ihl = ihl;
		snprintf(name, sizeof(name), "passes_ipv4_ihl_%d_below_5", ihl);
		check(env, name, &f, EXPECT_PASS(GB_PASS_PARSE_ERROR));
	}
	for (int ihl = 6; ihl <= 15; ihl++) {
		char name[64];

		frame_eth(&f, ETH_P_IP);
		frame_ipv4(&f, CN4, SERVER4, IPPROTO_UDP, (ihl - 5) * 4, 0);
		frame_udp(&f, SPORT, 8801);
		frame_bytes(&f, PAYLOAD, 0xab);
		frame_finish(&f);
		snprintf(name, sizeof(name), "drops_ipv4_with_options_ihl_%d", ihl);
		check(env, name, &f, EXPECT_DROP(M_STANDUP, "CN"));
	}
	/* IHL 15 says 60 bytes of header, but only the 20 fixed ones are there before UDP. */
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, CN4, SERVER4, IPPROTO_UDP, 0, 0)->ihl = 15;
	frame_udp(&f, SPORT, 8801);
	check(env, "passes_ipv4_ihl_beyond_frame", &f, EXPECT_PASS(GB_PASS_PARSE_ERROR));

	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, CN4, SERVER4, IPPROTO_UDP, 0, FRAME_IP_DF);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "drops_ipv4_dont_fragment", &f, EXPECT_DROP(M_STANDUP, "CN"));

	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, CN4, SERVER4, IPPROTO_UDP, 0, FRAME_IP_MF);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "drops_ipv4_first_fragment", &f, EXPECT_DROP(M_STANDUP, "CN"));

	/* Later fragments whose payload happens to look like a UDP header to a meeting port. */
	for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
		char name[64];

		frame_eth(&f, ETH_P_IP);
		frame_ipv4(&f, CN4, SERVER4, IPPROTO_UDP, 0, later[i]);
		frame_udp(&f, SPORT, 8801);
		frame_bytes(&f, PAYLOAD, 0xab);
		frame_finish(&f);
		snprintf(name, sizeof(name), "passes_ipv4_later_fragment_0x%04x", later[i]);
		check(env, name, &f, EXPECT_PASS(GB_PASS_FRAGMENT));
	}
}

static void test_ipv6(const struct env *env)
{
	static const unsigned int offsets[] = { 8, 1232, 0xfff8 };
	struct frame f;

	udp6(&f, CN6, 8801);
	check(env, "drops_blocked_country_on_meeting_port_v6", &f, EXPECT_DROP(M_STANDUP, "CN"));
	udp6(&f, US6, 8801);
	check(env, "passes_country_not_blocked_v6", &f, EXPECT_PASS(GB_PASS_NOT_BLOCKED));
	udp6(&f, NONE6, 8801);
	check(env, "passes_source_without_country_v6", &f, EXPECT_PASS(GB_PASS_NO_COUNTRY));
	udp6(&f, CN6, 8811);
	check(env, "passes_port_of_no_meeting_v6", &f, EXPECT_PASS(GB_PASS_NO_MEETING));
	udp6(&f, CN6, 9100);
	check(env, "passes_meeting_not_active_v6", &f, EXPECT_PASS(GB_PASS_NO_MEETING));
	udp6(&f, CN6, 9000);
	check(env, "counts_monitor_meeting_without_dropping_v6", &f,
	      EXPECT_MONITOR(M_MONITOR, "CN"));
	udp6(&f, CN6_ALLOWED, 9400);
	check(env, "passes_allow_exception_v6", &f, EXPECT_PASS(GB_PASS_ALLOWED));
	udp6(&f, CN6, 9400);
	check(env, "drops_outside_allow_exception_v6", &f, EXPECT_DROP(M_ALLOWS, "CN"));
	udp6(&f, CN6_ALLOWED, 8801);
	check(env, "allow_exception_is_per_meeting_v6", &f, EXPECT_DROP(M_STANDUP, "CN"));
	udp6(&f, CN6, 9300);
	check(env, "passes_expired_meeting_v6", &f, EXPECT_PASS(GB_PASS_EXPIRED));

	udp6(&f, "::ffff:" CN4, 8801);
	check(env, "drops_v4_mapped_source_via_alias", &f, EXPECT_DROP(M_STANDUP, "CN"));
	udp6(&f, "::ffff:" US4, 8801);
	check(env, "passes_v4_mapped_source_not_blocked", &f, EXPECT_PASS(GB_PASS_NOT_BLOCKED));
	udp6(&f, "::ffff:" NONE4, 8801);
	check(env, "passes_v4_mapped_source_without_country", &f, EXPECT_PASS(GB_PASS_NO_COUNTRY));
	udp6(&f, "2002:c633:6407::1", 8801);	/* 6to4 of 198.51.100.7 */
	check(env, "drops_6to4_source_via_alias", &f, EXPECT_DROP(M_STANDUP, "CN"));
	udp6(&f, "::ffff:" CN4_HIGH, 9400);
	check(env, "drops_v4_mapped_source_outside_allow_exception", &f,
	      EXPECT_DROP(M_ALLOWS, "CN"));

	tcp6(&f, CN6, 8801);
	check(env, "passes_tcp_to_udp_only_meeting_v6", &f, EXPECT_PASS(GB_PASS_NOT_COVERED));
	tcp6(&f, CN6, 9200);
	check(env, "drops_tcp_to_meeting_covering_tcp_v6", &f, EXPECT_DROP(M_TCP, "CN"));

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_ICMPV6);
	frame_bytes(&f, 8, 0);
	frame_finish(&f);
	check(env, "passes_icmpv6", &f, EXPECT_PASS(GB_PASS_OTHER_PROTO));

	udp4(&f, CN4, 8801);
	((struct ethhdr *)f.data)->h_proto = htons(ETH_P_IPV6);
	frame_bytes(&f, 40, 0);		/* long enough for an IPv6 header */
	check(env, "passes_ipv4_header_under_ipv6_ethertype", &f,
	      EXPECT_PASS(GB_PASS_PARSE_ERROR));

	/* Extension headers, in the recommended order and in others. */
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_HOPOPTS);
	frame_ipv6_ext(&f, IPPROTO_UDP, 8);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "drops_after_hop_by_hop", &f, EXPECT_DROP(M_STANDUP, "CN"));

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_HOPOPTS);
	frame_ipv6_ext(&f, IPPROTO_DSTOPTS, 8);
	frame_ipv6_ext(&f, IPPROTO_ROUTING, 16);
	frame_ipv6_ext(&f, IPPROTO_FRAGMENT, 24);
	frame_ipv6_frag(&f, IPPROTO_DSTOPTS, 0, 1);
	frame_ipv6_ext(&f, IPPROTO_UDP, 8);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "drops_after_extension_headers_in_rfc8200_order", &f,
	      EXPECT_DROP(M_STANDUP, "CN"));

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_FRAGMENT);
	frame_ipv6_frag(&f, IPPROTO_ROUTING, 0, 1);
	frame_ipv6_ext(&f, IPPROTO_DSTOPTS, 8);
	frame_ipv6_ext(&f, IPPROTO_HOPOPTS, 8);
	frame_ipv6_ext(&f, IPPROTO_UDP, 8);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "drops_after_extension_headers_in_any_order", &f,
	      EXPECT_DROP(M_STANDUP, "CN"));

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_DSTOPTS);
	frame_ipv6_ext(&f, IPPROTO_UDP, 256);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "drops_after_long_destination_options", &f, EXPECT_DROP(M_STANDUP, "CN"));

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_FRAGMENT);
	frame_ipv6_frag(&f, IPPROTO_UDP, 0, 0);		/* atomic fragment (RFC 6946) */
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "drops_ipv6_atomic_fragment", &f, EXPECT_DROP(M_STANDUP, "CN"));

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_FRAGMENT);
	frame_ipv6_frag(&f, IPPROTO_UDP, 0, 1);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "drops_ipv6_first_fragment", &f, EXPECT_DROP(M_STANDUP, "CN"));

	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		char name[64];

		for (int more = 0; more < 2; more++) {
			frame_eth(&f, ETH_P_IPV6);
			frame_ipv6(&f, CN6, SERVER6, IPPROTO_HOPOPTS);
			frame_ipv6_ext(&f, IPPROTO_FRAGMENT, 8);
			frame_ipv6_frag(&f, IPPROTO_UDP, offsets[i], more);
			frame_udp(&f, SPORT, 8801);
			frame_bytes(&f, PAYLOAD, 0xab);
			frame_finish(&f);
			snprintf(name, sizeof(name), "passes_ipv6_later_fragment_offset_%u%s",
				 offsets[i], more ? "_more" : "_last");
			check(env, name, &f, EXPECT_PASS(GB_PASS_FRAGMENT));
		}
	}

	for (int n = 1; n <= GB_IPV6_EXT_MAX + 2; n++) {
		char name[64];

		udp6_ext_chain(&f, CN6, 8801, n);
		if (n <= GB_IPV6_EXT_MAX) {
			snprintf(name, sizeof(name), "drops_after_%d_extension_headers", n);
			check(env, name, &f, EXPECT_DROP(M_STANDUP, "CN"));
		} else {
			snprintf(name, sizeof(name), "passes_%d_extension_headers_beyond_bound", n);
			check(env, name, &f, EXPECT_PASS(GB_PASS_PARSE_ERROR));
		}
	}

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_NONE);
	frame_bytes(&f, PAYLOAD, 0);
	frame_finish(&f);
	check(env, "passes_ipv6_no_next_header", &f, EXPECT_PASS(GB_PASS_OTHER_PROTO));

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_HOPOPTS);
	frame_ipv6_ext(&f, IPPROTO_NONE, 8);
	frame_finish(&f);
	check(env, "passes_no_next_header_after_hop_by_hop", &f, EXPECT_PASS(GB_PASS_OTHER_PROTO));

	/* AH is an extension header the walk does not know: fail open, as another protocol. */
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_AH);
	frame_ipv6_ext(&f, IPPROTO_UDP, 24);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "passes_udp_behind_unwalked_ah", &f, EXPECT_PASS(GB_PASS_OTHER_PROTO));

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_ROUTING);
	frame_ipv6_ext(&f, IPPROTO_UDP, 64);	/* says 64 bytes; the frame ends first */
	f.len -= 56;
	frame_udp(&f, SPORT, 8801);
	check(env, "passes_extension_header_beyond_frame", &f, EXPECT_PASS(GB_PASS_PARSE_ERROR));
}

static void test_vlan(const struct env *env)
{
	struct frame f;

	frame_eth(&f, ETH_P_8021Q);
	frame_vlan(&f, 100, ETH_P_IP);
	frame_ipv4(&f, CN4, SERVER4, IPPROTO_UDP, 0, 0);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "drops_behind_8021q_tag", &f, EXPECT_DROP(M_STANDUP, "CN"));

	frame_eth(&f, ETH_P_8021Q);
	frame_vlan(&f, 100, ETH_P_IP);
	frame_ipv4(&f, US4, SERVER4, IPPROTO_UDP, 0, 0);
	frame_udp(&f, SPORT, 8801);
	frame_finish(&f);
	check(env, "passes_country_not_blocked_behind_8021q_tag", &f,
	      EXPECT_PASS(GB_PASS_NOT_BLOCKED));

	frame_eth(&f, ETH_P_8021AD);
	frame_vlan(&f, 100, ETH_P_8021Q);
	frame_vlan(&f, 200, ETH_P_IP);
	frame_ipv4(&f, CN4, SERVER4, IPPROTO_UDP, 0, 0);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "drops_behind_qinq_tags", &f, EXPECT_DROP(M_STANDUP, "CN"));

	frame_eth(&f, ETH_P_8021Q);
	frame_vlan(&f, 100, ETH_P_8021Q);
	frame_vlan(&f, 200, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_UDP);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "drops_ipv6_behind_two_8021q_tags", &f, EXPECT_DROP(M_STANDUP, "CN"));

	frame_eth(&f, ETH_P_8021AD);
	frame_vlan(&f, 100, ETH_P_8021Q);
	frame_vlan(&f, 200, ETH_P_8021Q);
	frame_vlan(&f, 300, ETH_P_IP);
	frame_ipv4(&f, CN4, SERVER4, IPPROTO_UDP, 0, 0);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check(env, "passes_three_vlan_tags_as_not_ip", &f, EXPECT_PASS(GB_PASS_NOT_IP));

	frame_eth(&f, ETH_P_8021Q);
	frame_vlan(&f, 100, ETH_P_ARP);
	frame_bytes(&f, 28, 0);
	check(env, "passes_arp_behind_8021q_tag", &f, EXPECT_PASS(GB_PASS_NOT_IP));
}

static void test_truncation(const struct env *env)
{
	struct frame f;
	size_t need;

	udp4(&f, CN4, 8801);
	check_truncations(env, "truncated_ipv4_udp", &f, f.udp + PORTS_LEN,
			  EXPECT_DROP(M_STANDUP, "CN"));

	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, CN4, SERVER4, IPPROTO_UDP, 12, FRAME_IP_MF);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check_truncations(env, "truncated_ipv4_options_first_fragment", &f,
			  f.udp + PORTS_LEN, EXPECT_DROP(M_STANDUP, "CN"));

	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, CN6, SERVER6, IPPROTO_HOPOPTS);
	frame_ipv6_ext(&f, IPPROTO_ROUTING, 8);
	frame_ipv6_ext(&f, IPPROTO_FRAGMENT, 16);
	frame_ipv6_frag(&f, IPPROTO_DSTOPTS, 0, 1);
	frame_ipv6_ext(&f, IPPROTO_UDP, 8);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check_truncations(env, "truncated_ipv6_extension_chain", &f,
			  f.udp + PORTS_LEN, EXPECT_DROP(M_STANDUP, "CN"));

	frame_eth(&f, ETH_P_8021AD);
	frame_vlan(&f, 100, ETH_P_8021Q);
	frame_vlan(&f, 200, ETH_P_IP);
	frame_ipv4(&f, CN4, SERVER4, IPPROTO_UDP, 0, 0);
	frame_udp(&f, SPORT, 8801);
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check_truncations(env, "truncated_qinq_ipv4_udp", &f, f.udp + PORTS_LEN,
			  EXPECT_DROP(M_STANDUP, "CN"));

	/* Cut inside the TCP header after its ports: decided (a first fragment can be that short). */
	tcp4(&f, CN4, 9200);
	need = f.len - sizeof(struct tcphdr) + PORTS_LEN;
	frame_bytes(&f, PAYLOAD, 0xab);
	frame_finish(&f);
	check_truncations(env, "truncated_ipv4_tcp", &f, need, EXPECT_DROP(M_TCP, "CN"));
}

/*
 * Shared ports (issue 15): meetings on one UDP port told apart by the server ufrag of a STUN
 * Binding Request's USERNAME, then by the sender learned from it. The ufrags, their slots in
 * ufrag_owner and their meetings:
 */
#define SHARED		3478		/* shared ports: no meeting, GB_PORT_SHARED */
#define SHARED2		3479
#define OWNED_SHARED	8820		/* M_STANDUP's, with GB_PORT_SHARED set too: the meeting wins */
#define M_GONE		100		/* a meeting id without a policy (deleted) */

enum {
	S_ABCD = 1, S_LONG256, S_WXYZ, S_LONG255, S_MONI, S_INAC, S_TCPO, S_EXPD, S_ALOW, S_FREE,
	S_GONE, S_TCP, S_MOVE, S_TEMP, S_LEN, S_COUNT
};

struct shared_ufrag {
	__u32 slot;
	const char *text;	/* NULL: the 255 or 256 characters of long_ufrag() */
	__u32 meeting;		/* 0: the key is there, its slot free (a removal cut short) */
};

static const struct shared_ufrag shared_ufrags[] = {
	{ S_ABCD, "abcd", M_STANDUP },		/* 4 characters, the shortest */
	{ S_LONG256, NULL, M_STANDUP },		/* 256, the longest */
	{ S_WXYZ, "wxyz", M_US },
	{ S_LONG255, NULL, M_US },
	{ S_MONI, "moni", M_MONITOR },
	{ S_INAC, "inac", M_INACTIVE },
	{ S_TCPO, "tcpo", M_TCP_ONLY },
	{ S_EXPD, "expd", M_EXPIRED },
	{ S_ALOW, "alow", M_ALLOWS },
	{ S_FREE, "free", 0 },
	{ S_GONE, "gone", M_GONE },
	{ S_TCP, "ab+/", M_TCP },
	{ S_MOVE, "mvmv", M_STANDUP },
	{ S_TEMP, "tmp1", M_STANDUP },
};

/* Ice-chars that differ along the string: 256 of them, or the first 255 (another ufrag). */
static const char *long_ufrag(size_t len)
{
	static char s[2][GB_UFRAG_MAX + 1];
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = s[len == GB_UFRAG_MAX];

	for (size_t i = 0; i < len; i++)
		out[i] = chars[(i * 7 + len) % 64];
	out[len] = '\0';
	return out;
}

static const char *ufrag_text(const struct shared_ufrag *u)
{
	if (u->text)
		return u->text;
	return long_ufrag(u->slot == S_LONG256 ? GB_UFRAG_MAX : GB_UFRAG_MAX - 1);
}

/*
 * The map a ufrag of len characters is keyed in; a struct ufrag_long_key holds either key (the
 * short one is its first bytes).
 */
static int ufrag_map(struct geoblock *skel, size_t len)
{
	return bpf_map__fd(len <= GB_UFRAG_SHORT ? skel->maps.meeting_by_ufrag :
				  skel->maps.meeting_by_long_ufrag);
}

static __u64 ice_seed_of(const struct env *env)
{
	__u32 zero = 0;
	__u64 seed = 0;

	bpf_map_lookup_elem(bpf_map__fd(env->skel->maps.ice_seed), &zero, &seed);
	return seed;
}

/* After a ufrag of meeting id is freed or moved, its entries of ice_hot go, as the controller's. */
static int hot_clear_meeting(const struct env *env, __u32 id)
{
	struct hot h;
	int err = hot_open(bpf_map__fd(env->skel->maps.ice_hot), &h);

	if (err)
		return err;
	hot_mark(&h, id);
	hot_forget(&h);
	hot_close(&h);
	return 0;
}

/* Which of a ufrag's entries set_ufrag writes: its key, its way of ufrag_sets (short ones). */
enum { UFRAG_KEY = 1, UFRAG_WAY = 2, UFRAG_BOTH = 3 };

/*
 * Writes a ufrag as the controller does (ufrags_add): its slot first, then its key, then (a short
 * one) its way; with only one of them, as an older controller or a full pair of lines leaves it.
 */
static int set_ufrag_as(const struct env *env, const char *text, __u32 slot, __u32 meeting,
			int what)
{
	struct ufrag_long_key k = { .len = strlen(text) };
	struct ufrag_slot u = {};
	int owner_fd = bpf_map__fd(env->skel->maps.ufrag_owner);

	__u32 was;

	memcpy(k.text, text, k.len);
	if (bpf_map_lookup_elem(owner_fd, &slot, &u))
		return -errno;
	was = u.meeting_id;
	u.meeting_id = meeting;
	if (bpf_map_update_elem(owner_fd, &slot, &u, BPF_ANY) ||
	    ((what & UFRAG_KEY) &&
	     bpf_map_update_elem(ufrag_map(env->skel, k.len), &k, &slot, BPF_ANY)))
		return -errno;
	if (was && was != meeting && hot_clear_meeting(env, was))
		return -EIO;
	if ((what & UFRAG_WAY) && k.len <= GB_UFRAG_SHORT)
		return ufrag_ways_put(bpf_map__fd(env->skel->maps.ufrag_sets), text,
				      ice_seed_of(env), slot);
	return 0;
}

static int set_ufrag(const struct env *env, const char *text, __u32 slot, __u32 meeting)
{
	return set_ufrag_as(env, text, slot, meeting, UFRAG_BOTH);
}

/*
 * Takes a ufrag's way and key away (either may be missing), its slot left as it is: alone, behind
 * the controller's back, so that a Binding Request naming it that is looked up finds nothing
 * (set_ufrag puts them back).
 */
static int hide_ufrag(const struct env *env, const char *text, __u32 slot)
{
	struct ufrag_long_key k = { .len = strlen(text) };
	int err;

	memcpy(k.text, text, k.len);
	if (k.len <= GB_UFRAG_SHORT &&
	    (err = ufrag_ways_del(bpf_map__fd(env->skel->maps.ufrag_sets), text, ice_seed_of(env),
				  slot)))
		return err;
	return bpf_map_delete_elem(ufrag_map(env->skel, k.len), &k) && errno != ENOENT ? -errno : 0;
}

/* Takes a ufrag away as the controller does: its way, its key, then its slot, freed (gen + 1). */
static int remove_ufrag(const struct env *env, const char *text, __u32 slot)
{
	int owner_fd = bpf_map__fd(env->skel->maps.ufrag_owner);
	struct ufrag_slot u;
	int err = hide_ufrag(env, text, slot);

	if (err)
		return err;
	if (bpf_map_lookup_elem(owner_fd, &slot, &u))
		return -errno;
	err = u.meeting_id;
	u.meeting_id = 0;
	u.gen++;
	if (bpf_map_update_elem(owner_fd, &slot, &u, BPF_ANY))
		return -errno;
	return err ? hot_clear_meeting(env, err) : 0;
}

static int install_shared(const struct env *env)
{
	int ports_fd = bpf_map__fd(env->skel->maps.meeting_by_port);
	struct port_owner shared = { .flags = GB_PORT_SHARED };
	struct port_owner owned = { .meeting_id = M_STANDUP, .flags = GB_PORT_SHARED };
	__u32 port;
	int err = 0;

	port = SHARED;
	if (bpf_map_update_elem(ports_fd, &port, &shared, BPF_ANY))
		return -errno;
	port = SHARED2;
	if (bpf_map_update_elem(ports_fd, &port, &shared, BPF_ANY))
		return -errno;
	port = OWNED_SHARED;
	if (bpf_map_update_elem(ports_fd, &port, &owned, BPF_ANY))
		return -errno;
	for (size_t i = 0; i < sizeof(shared_ufrags) / sizeof(shared_ufrags[0]) && !err; i++) {
		/* Each slot freed once before, as a slot taken again is: gen 1, not 0. */
		struct ufrag_slot u = { .gen = 1 };
		__u32 slot = shared_ufrags[i].slot;

		if (bpf_map_update_elem(bpf_map__fd(env->skel->maps.ufrag_owner), &slot, &u,
					BPF_ANY))
			return -errno;
		err = set_ufrag(env, ufrag_text(&shared_ufrags[i]), slot, shared_ufrags[i].meeting);
	}
	return err;
}

/* A STUN message under construction: the header's length follows the attributes appended. */
struct stun {
	__u8 b[FRAME_MAX];
	size_t len;
};

#define STUN_COOKIE		0x2112A442
#define STUN_BINDING_REQUEST	0x0001
#define STUN_USERNAME		0x0006
#define STUN_MI			0x0008
#define STUN_MI_SHA256		0x001C
#define STUN_PRIORITY		0x0024
#define STUN_USE_CANDIDATE	0x0025
#define STUN_SOFTWARE		0x8022
#define STUN_FINGERPRINT	0x8028
#define STUN_ICE_CONTROLLING	0x802A

static void put_be16(__u8 *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void stun_start(struct stun *s, unsigned int type)
{
	memset(s, 0, sizeof(*s));
	put_be16(s->b, type);
	put_be16(s->b + 4, STUN_COOKIE >> 16);
	put_be16(s->b + 6, STUN_COOKIE & 0xffff);
	for (int i = 8; i < 20; i++)
		s->b[i] = 0x40 + i;	/* transaction id */
	s->len = 20;
}

/* An attribute with len bytes of value (fill if value is NULL), padded to 4 with pad. */
static void stun_attr_pad(struct stun *s, unsigned int type, const void *value, size_t len,
			  __u8 fill, __u8 pad)
{
	size_t padded = (len + 3) & ~(size_t)3;

	assert(s->len + 4 + padded <= sizeof(s->b));
	put_be16(s->b + s->len, type);
	put_be16(s->b + s->len + 2, len);
	if (value)
		memcpy(s->b + s->len + 4, value, len);
	else
		memset(s->b + s->len + 4, fill, len);
	memset(s->b + s->len + 4 + len, pad, padded - len);
	s->len += 4 + padded;
	put_be16(s->b + 2, s->len - 20);
}

static void stun_attr(struct stun *s, unsigned int type, const void *value, size_t len)
{
	stun_attr_pad(s, type, value, len, 0x5a, 0);
}

static void stun_username(struct stun *s, const char *username)
{
	stun_attr(s, STUN_USERNAME, username, strlen(username));
}

/* The attributes a browser's check carries after USERNAME. */
static void stun_check_tail(struct stun *s)
{
	stun_attr(s, STUN_PRIORITY, "\x6e\x7f\x1e\xff", 4);
	stun_attr(s, STUN_ICE_CONTROLLING, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	stun_attr(s, STUN_MI, NULL, 20);
	stun_attr(s, STUN_FINGERPRINT, "\xde\xad\xbe\xef", 4);
}

/* A Binding Request naming server:client, as a browser sends it. */
static void stun_request(struct stun *s, const char *server, const char *client)
{
	char user[600];

	snprintf(user, sizeof(user), "%s:%s", server, client);
	stun_start(s, STUN_BINDING_REQUEST);
	stun_attr(s, STUN_USE_CANDIDATE, NULL, 0);
	stun_username(s, user);
	stun_check_tail(s);
}

/* A sender to a shared port: its address, its own source port, the port it sends to. */
struct sender {
	int family;
	const char *addr;
	__u16 sport, dport;
};

/* Each case its own senders, so that what one learns does not decide another. */
static __u16 next_sport;

static struct sender sender4(const char *addr)
{
	return (struct sender){ 4, addr, next_sport++, SHARED };
}

static struct sender sender6(const char *addr)
{
	return (struct sender){ 6, addr, next_sport++, SHARED };
}

/* A UDP (or TCP) frame from s to its port carrying len bytes of payload. */
static void shared_frame_proto(struct frame *f, const struct sender *s, __u8 proto,
			       const void *payload, size_t len)
{
	frame_eth(f, s->family == 4 ? ETH_P_IP : ETH_P_IPV6);
	if (s->family == 4)
		frame_ipv4(f, s->addr, SERVER4, proto, 0, 0);
	else
		frame_ipv6(f, s->addr, SERVER6, proto);
	if (proto == IPPROTO_TCP)
		frame_tcp(f, s->sport, s->dport);
	else
		frame_udp(f, s->sport, s->dport);
	if (len)
		memcpy(frame_put(f, len), payload, len);
	frame_finish(f);
}

static void shared_frame(struct frame *f, const struct sender *s, const void *payload, size_t len)
{
	shared_frame_proto(f, s, IPPROTO_UDP, payload, len);
}

static void stun_frame(struct frame *f, const struct sender *s, const struct stun *m)
{
	shared_frame(f, s, m->b, m->len);
}

/* The first held bytes of m from s (IPv4), in a first IP fragment if frag, else a whole frame. */
static void stun_fragment(struct frame *f, const struct sender *s, const struct stun *m,
			  size_t held, int frag)
{
	frame_eth(f, ETH_P_IP);
	frame_ipv4(f, s->addr, SERVER4, IPPROTO_UDP, 0, frag ? FRAME_IP_MF : 0);
	frame_udp(f, s->sport, s->dport);
	memcpy(frame_put(f, held), m->b, held);
	frame_finish(f);
}

/* Media of the first byte given (DTLS 20-63, TURN channel 64-79, RTP/RTCP 128-191...). */
static void media_frame(struct frame *f, const struct sender *s, __u8 first)
{
	__u8 p[PAYLOAD];

	memset(p, 0xab, sizeof(p));
	p[0] = first;
	shared_frame(f, s, p, sizeof(p));
}

#define DTLS	22	/* a DTLS handshake record */

static const char *const ice_stat_names[GB_ICE_STAT_COUNT] = {
	[GB_ICE_LEARNED] = "learned", [GB_ICE_REFRESHED] = "refreshed",
	[GB_ICE_MOVED] = "moved", [GB_ICE_KEPT] = "kept", [GB_ICE_REBOUND] = "rebound",
};

static int read_ice_stats(const struct env *env, __u64 out[GB_ICE_STAT_COUNT])
{
	int err = 0;

	for (__u32 i = 0; i < GB_ICE_STAT_COUNT && !err; i++)
		err = read_percpu(env, bpf_map__fd(env->skel->maps.ice_stats), &i, &out[i], 1);
	return err;
}

#define NO_STAT	(-1)

/* check_frame, and that ice_stats counted stat (NO_STAT: nothing). */
static void check_shared_data(const struct env *env, const char *name, const void *data,
			      size_t len, struct expect exp, int stat)
{
	__u64 b[GB_ICE_STAT_COUNT], a[GB_ICE_STAT_COUNT];
	char e[96] = "", got[96] = "", label[256];
	int err;

	err = read_ice_stats(env, b);
	check_frame(env, name, data, len, exp);
	err = err ?: read_ice_stats(env, a);
	snprintf(label, sizeof(label), "%s: ice_stats", name);
	if (err) {
		CHECK_STR(label, "read", strerror(-err));
		return;
	}
	for (int i = 0; i < GB_ICE_STAT_COUNT; i++) {
		if (i == stat)
			snprintf(e + strlen(e), sizeof(e) - strlen(e), " %s+1", ice_stat_names[i]);
		if (a[i] != b[i])
			snprintf(got + strlen(got), sizeof(got) - strlen(got), " %s+%llu",
				 ice_stat_names[i], (unsigned long long)(a[i] - b[i]));
	}
	CHECK_STR(label, e, got);
}

static void check_shared(const struct env *env, const char *name, const struct frame *f,
			 struct expect exp, int stat)
{
	check_shared_data(env, name, f->data, f->len, exp, stat);
}

static struct ice_tuple tuple_of(const struct sender *s)
{
	struct ice_tuple t = { .sport = htons(s->sport), .dport = s->dport, .family = s->family };

	inet_pton(s->family == 4 ? AF_INET : AF_INET6, s->addr, t.saddr);
	return t;
}

static int sender_entry(const struct env *env, const struct sender *s, struct ice_sender *out)
{
	struct ice_tuple t = tuple_of(s);

	return senders_get(bpf_map__fd(env->skel->maps.ice_sender_sets),
			   bpf_map__fd(env->skel->maps.ice_seed), &t, out);
}

/* The sender's entry names slot (0: the sender has none), with the slot's current gen. */
static void check_sender(const struct env *env, const char *name, const struct sender *s,
			 __u32 slot)
{
	struct ufrag_slot u = {};
	struct ice_sender e;
	char label[256], want[64], got[64];
	int err = sender_entry(env, s, &e);

	snprintf(label, sizeof(label), "%s: sender's entry", name);
	if (slot && bpf_map_lookup_elem(bpf_map__fd(env->skel->maps.ufrag_owner), &slot, &u))
		u.gen = ~0U;
	if (slot)
		snprintf(want, sizeof(want), "slot %u gen %u", slot, u.gen);
	else
		snprintf(want, sizeof(want), "none");
	if (err)
		snprintf(got, sizeof(got), "%s", err == -ENOENT ? "none" : strerror(-err));
	else
		snprintf(got, sizeof(got), "slot %u gen %u", e.slot, e.gen);
	CHECK_STR(label, want, got);
}

/* Moves the sender's last Binding Request back by ns, as if it had been silent that long. */
static void age_sender(const struct env *env, const char *name, const struct sender *s,
		       __u64 ns)
{
	struct ice_tuple t = tuple_of(s);
	struct ice_sender e;
	char label[256];

	snprintf(label, sizeof(label), "%s: age the sender", name);
	if (sender_entry(env, s, &e)) {
		CHECK(label, 0);
		return;
	}
	e.seen_ns -= ns;
	CHECK(label, !senders_put(bpf_map__fd(env->skel->maps.ice_sender_sets),
				  bpf_map__fd(env->skel->maps.ice_seed),
				  bpf_map__fd(env->skel->maps.ice_hot), &t, &e));
}

static void shared_basics(const struct env *env, int family)
{
	static const __u8 media[] = { 4, 19, 20, 63, 64, 79, 80, 127, 128, 191, 192, 255 };
	const char *cn = family == 4 ? CN4 : CN6, *us = family == 4 ? US4 : US6;
	const char *none = family == 4 ? NONE4 : NONE6;
	struct sender s = family == 4 ? sender4(cn) : sender6(cn);
	struct sender fresh = family == 4 ? sender4(cn) : sender6(cn);
	struct sender other = s, u, n;
	char name[128];
	struct frame f;
	struct stun m;

#define NAME(what)	(snprintf(name, sizeof(name), "shared_v%d_%s", family, what), name)
	media_frame(&f, &s, DTLS);
	check_shared(env, NAME("dtls_before_any_request_is_unknown_sender"), &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_SENDER), NO_STAT);
	stun_request(&m, "abcd", "cli1");
	stun_frame(&f, &s, &m);
	check_shared(env, NAME("binding_request_drops_blocked_country_and_learns"), &f,
		     EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
	check_sender(env, name, &s, S_ABCD);
	check_shared(env, NAME("binding_request_again_refreshes"), &f,
		     EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_REFRESHED);
	check_sender(env, name, &s, S_ABCD);
	for (size_t i = 0; i < sizeof(media); i++) {
		snprintf(name, sizeof(name), "shared_v%d_learned_sender_first_byte_%u_drops", family,
			 media[i]);
		media_frame(&f, &s, media[i]);
		check_shared(env, name, &f, EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
		snprintf(name, sizeof(name), "shared_v%d_unlearned_sender_first_byte_%u_passes",
			 family, media[i]);
		media_frame(&f, &fresh, media[i]);
		check_shared(env, name, &f, EXPECT_PASS(GB_PASS_ICE_UNKNOWN_SENDER), NO_STAT);
	}
	shared_frame(&f, &s, NULL, 0);
	check_shared(env, NAME("learned_sender_empty_payload_drops"), &f,
		     EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
	shared_frame(&f, &fresh, NULL, 0);
	check_shared(env, NAME("unlearned_sender_empty_payload_passes"), &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_SENDER), NO_STAT);
	check_sender(env, name, &fresh, 0);

	/* The sender is its address, its port and the port it sends to. */
	other.dport = SHARED2;
	media_frame(&f, &other, DTLS);
	check_shared(env, NAME("learned_sender_to_another_shared_port_is_unknown"), &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_SENDER), NO_STAT);
	other = s;
	other.sport++;
	media_frame(&f, &other, DTLS);
	check_shared(env, NAME("learned_address_from_another_port_is_unknown"), &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_SENDER), NO_STAT);
	next_sport++;

	u = family == 4 ? sender4(us) : sender6(us);
	stun_frame(&f, &u, &m);
	check_shared(env, NAME("binding_request_country_not_blocked_passes_and_learns"), &f,
		     EXPECT_PASS(GB_PASS_NOT_BLOCKED), GB_ICE_LEARNED);
	media_frame(&f, &u, DTLS);
	check_shared(env, NAME("its_media_country_not_blocked"), &f,
		     EXPECT_PASS(GB_PASS_NOT_BLOCKED), NO_STAT);
	u = family == 4 ? sender4(us) : sender6(us);
	stun_request(&m, "wxyz", "cli2");
	stun_frame(&f, &u, &m);
	check_shared(env, NAME("other_meeting_ufrag_drops_its_blocked_country"), &f,
		     EXPECT_DROP(M_US, "US"), GB_ICE_LEARNED);
	media_frame(&f, &u, 0x90);
	check_shared(env, NAME("its_rtp_drops"), &f, EXPECT_DROP(M_US, "US"), NO_STAT);
	n = family == 4 ? sender4(none) : sender6(none);
	stun_request(&m, "abcd", "cli3");
	stun_frame(&f, &n, &m);
	check_shared(env, NAME("source_without_country_passes"), &f,
		     EXPECT_PASS(GB_PASS_NO_COUNTRY), GB_ICE_LEARNED);

	/* The meeting's policy, whatever it is, as on its own ports. */
	{
		static const struct {
			const char *ufrag, *what;
			int reason;
			__u32 meeting;
		} kinds[] = {
			{ "moni", "monitor_meeting_counts_without_dropping", GB_PASS_MONITOR,
			  M_MONITOR },
			{ "inac", "inactive_meeting_is_no_meeting", GB_PASS_NO_MEETING, 0 },
			{ "tcpo", "tcp_only_meeting_does_not_cover_udp", GB_PASS_NOT_COVERED, 0 },
			{ "expd", "expired_meeting_passes", GB_PASS_EXPIRED, 0 },
			{ "gone", "deleted_meeting_is_no_meeting", GB_PASS_NO_MEETING, 0 },
			{ "ab+/", "udp_and_tcp_meeting_drops", GB_DROP, M_TCP },
		};

		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			struct sender k = family == 4 ? sender4(cn) : sender6(cn);
			struct expect e = EXPECT_PASS(kinds[i].reason);

			if (kinds[i].reason == GB_PASS_MONITOR)
				e = EXPECT_MONITOR(kinds[i].meeting, "CN");
			else if (kinds[i].reason == GB_DROP)
				e = EXPECT_DROP(kinds[i].meeting, "CN");
			stun_request(&m, kinds[i].ufrag, "cli4");
			stun_frame(&f, &k, &m);
			check_shared(env, NAME(kinds[i].what), &f, e, GB_ICE_LEARNED);
			media_frame(&f, &k, DTLS);
			snprintf(name, sizeof(name), "shared_v%d_%s_media", family, kinds[i].what);
			check_shared(env, name, &f, e, NO_STAT);
		}
	}
	s = family == 4 ? sender4(CN4) : sender6(CN6_ALLOWED);	/* in the exception */
	stun_request(&m, "alow", "cli5");
	stun_frame(&f, &s, &m);
	check_shared(env, NAME("allow_exception_passes"), &f, EXPECT_PASS(GB_PASS_ALLOWED),
		     GB_ICE_LEARNED);
	s = family == 4 ? sender4(CN4_HIGH) : sender6(CN6);
	stun_frame(&f, &s, &m);
	check_shared(env, NAME("outside_allow_exception_drops"), &f, EXPECT_DROP(M_ALLOWS, "CN"),
		     GB_ICE_LEARNED);

	s = family == 4 ? sender4(cn) : sender6(cn);
	stun_request(&m, "free", "cli6");
	stun_frame(&f, &s, &m);
	check_shared(env, NAME("ufrag_key_of_a_free_slot_is_unknown"), &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG), NO_STAT);
	check_sender(env, name, &s, 0);
	stun_request(&m, "ABCD", "cli6");
	stun_frame(&f, &s, &m);
	check_shared(env, NAME("ufrag_compared_case_sensitively"), &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG), NO_STAT);
	stun_request(&m, "abcde", "cli6");
	stun_frame(&f, &s, &m);
	check_shared(env, NAME("known_ufrag_with_a_character_more_is_unknown"), &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG), NO_STAT);
	check_sender(env, name, &s, 0);

	/* Not UDP, or a port a meeting owns: the port path, as before. */
	stun_request(&m, "abcd", "cli7");
	shared_frame_proto(&f, &s, IPPROTO_TCP, m.b, m.len);
	check_shared(env, NAME("tcp_to_shared_port_is_no_meeting"), &f,
		     EXPECT_PASS(GB_PASS_NO_MEETING), NO_STAT);
	s.dport = OWNED_SHARED;
	stun_request(&m, "wxyz", "cli7");
	stun_frame(&f, &s, &m);
	check_shared(env, NAME("shared_flag_on_a_meeting_port_is_its_meeting"), &f,
		     EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
	s.dport = 8801;
	stun_frame(&f, &s, &m);
	check_shared(env, NAME("stun_to_a_meeting_port_is_its_meeting"), &f,
		     EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
	s.dport = 8811;
	stun_frame(&f, &s, &m);
	check_shared(env, NAME("stun_to_a_port_of_no_meeting"), &f,
		     EXPECT_PASS(GB_PASS_NO_MEETING), NO_STAT);
	s.dport = SHARED;
	check_sender(env, name, &s, 0);
#undef NAME
}

/* Where USERNAME is, and what comes before it. */
static void shared_attributes(const struct env *env)
{
	static const size_t odd[] = { 1, 2, 3, 5, 6, 7, 9, 13, 255, 0 };
	struct sender s;
	char name[128];
	struct frame f;
	struct stun m;

	for (int pos = 1; pos <= GB_STUN_ATTRS_INLINE + 3; pos++) {
		stun_start(&m, STUN_BINDING_REQUEST);
		for (int i = 1; i < pos; i++) {
			if (i % 3 == 0)
				stun_attr(&m, STUN_PRIORITY, "\x01\x02\x03\x04", 4);
			else if (i % 3 == 1)
				stun_attr(&m, STUN_ICE_CONTROLLING, NULL, 8);
			else
				stun_attr(&m, STUN_SOFTWARE, "geoblock test", 13);
		}
		stun_username(&m, "abcd:cli");
		stun_check_tail(&m);
		s = sender4(CN4);
		stun_frame(&f, &s, &m);
		snprintf(name, sizeof(name), "shared_username_as_attribute_%d", pos);
		check_shared(env, name, &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
	}
	/*
	 * Past the walk's first steps, as far as a frame holds attributes (empty ones, 4 bytes
	 * each): a client cannot hide USERNAME from the filter behind others its server skips.
	 */
	{
		static const int far[] = {
			GB_STUN_ATTRS_INLINE + GB_STUN_ATTRS_STEP,
			GB_STUN_ATTRS_INLINE + GB_STUN_ATTRS_STEP + 1,
			GB_STUN_ATTRS_INLINE + 2 * GB_STUN_ATTRS_STEP,
			GB_STUN_ATTRS_INLINE + 2 * GB_STUN_ATTRS_STEP + 1,
			(FRAME_MAX - 14 - 40 - 8 - 20 - 64) / 4,
		};

		for (size_t k = 0; k < sizeof(far) / sizeof(far[0]); k++) {
			for (int six = 0; six < 2; six++) {
				stun_start(&m, STUN_BINDING_REQUEST);
				for (int i = 1; i < far[k]; i++)
					stun_attr(&m, 0x8000 | (i & 0xff), NULL, 0);
				stun_username(&m, "abcd:cli");
				stun_check_tail(&m);
				s = six ? sender6(CN6) : sender4(CN4);
				stun_frame(&f, &s, &m);
				snprintf(name, sizeof(name), "shared_username_as_attribute_%d_ipv%d",
					 far[k], six ? 6 : 4);
				check_shared(env, name, &f, EXPECT_DROP(M_STANDUP, "CN"),
					     GB_ICE_LEARNED);
			}
		}
		/* Every attribute but USERNAME, to the frame's end: none. */
		stun_start(&m, STUN_BINDING_REQUEST);
		for (int i = 1; i < far[4]; i++)
			stun_attr(&m, 0x8000 | (i & 0xff), NULL, 0);
		s = sender4(CN4);
		stun_frame(&f, &s, &m);
		check_shared(env, "shared_no_username_among_many_attributes", &f,
			     EXPECT_PASS(GB_PASS_ICE_NO_USERNAME), NO_STAT);
	}

	/* Odd lengths, padded with zeros or with garbage (padding is not read). */
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		for (int garbage = 0; garbage < 2; garbage++) {
			stun_start(&m, STUN_BINDING_REQUEST);
			stun_attr_pad(&m, 0x8000 | (__u16)i, NULL, odd[i], 0x3a, garbage ? 0xff : 0);
			stun_attr_pad(&m, STUN_SOFTWARE, NULL, odd[(i + 3) % 10], ':',
				      garbage ? ':' : 0);
			stun_username(&m, "abcd:cli");
			s = sender6(CN6);
			stun_frame(&f, &s, &m);
			snprintf(name, sizeof(name), "shared_username_after_lengths_%zu_%zu_%s_padding",
				 odd[i], odd[(i + 3) % 10], garbage ? "garbage" : "zero");
			check_shared(env, name, &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
		}
	}
	/* A USERNAME of odd length, the last attribute: its padding ends the message. */
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_username(&m, "abcd:c");
	s = sender4(CN4);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_username_of_odd_length_last", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_LEARNED);

	/*
	 * Integrity and fingerprint end what RFC 8489 (14.5, 14.7) has a receiver read, but a
	 * server that reads on would take a USERNAME after them: so does the filter.
	 */
	{
		static const struct {
			unsigned int type;
			size_t len;
			const char *what;
		} ends[] = {
			{ STUN_MI, 20, "message_integrity" },
			{ STUN_MI_SHA256, 32, "message_integrity_sha256" },
			{ STUN_FINGERPRINT, 4, "fingerprint" },
		};

		for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
			stun_start(&m, STUN_BINDING_REQUEST);
			stun_attr(&m, STUN_PRIORITY, "\x01\x02\x03\x04", 4);
			stun_attr(&m, ends[i].type, NULL, ends[i].len);
			stun_username(&m, "abcd:cli");
			s = sender4(CN4);
			stun_frame(&f, &s, &m);
			snprintf(name, sizeof(name), "shared_username_after_%s_is_read",
				 ends[i].what);
			check_shared(env, name, &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);

			/* What follows it is read as well: cut short, the message is malformed. */
			stun_start(&m, STUN_BINDING_REQUEST);
			stun_attr(&m, ends[i].type, NULL, ends[i].len);
			stun_attr(&m, 0x7777, NULL, 4);
			put_be16(m.b + m.len - 6, 400);	/* says 400 bytes of value */
			s = sender4(CN4);
			stun_frame(&f, &s, &m);
			snprintf(name, sizeof(name), "shared_bad_attribute_after_%s_is_malformed",
				 ends[i].what);
			check_shared(env, name, &f, EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
		}
	}
	stun_request(&m, "abcd", "cli");	/* USERNAME, ..., MESSAGE-INTEGRITY, FINGERPRINT */
	s = sender4(CN4);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_integrity_and_fingerprint_after_username", &f,
		     EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);

	stun_start(&m, STUN_BINDING_REQUEST);
	s = sender4(CN4);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_request_without_attributes", &f,
		     EXPECT_PASS(GB_PASS_ICE_NO_USERNAME), NO_STAT);
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_attr(&m, STUN_PRIORITY, "\x01\x02\x03\x04", 4);
	stun_attr(&m, STUN_ICE_CONTROLLING, NULL, 8);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_request_without_username", &f,
		     EXPECT_PASS(GB_PASS_ICE_NO_USERNAME), NO_STAT);

	/* An attribute's value past the message's end. */
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_username(&m, "abcd:cli");
	put_be16(m.b + 22, 12);		/* "abcd:cli" is 8 */
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_username_past_message_end", &f,
		     EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_attr(&m, STUN_PRIORITY, "\x01\x02\x03\x04", 4);
	put_be16(m.b + 22, 17);		/* 4 + 17 bytes, past a message of 20 */
	stun_username(&m, "abcd:cli");
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_attribute_before_username_past_message_end", &f,
		     EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	check_sender(env, "shared_attribute_before_username_past_message_end", &s, 0);
}

/* The server ufrag: lengths 3 to 257, and USERNAMEs without one. */
static void shared_ufrags_lengths(const struct env *env)
{
	const char *u256 = long_ufrag(GB_UFRAG_MAX);
	char text[600], u255[GB_UFRAG_MAX + 1];
	struct sender s;
	struct frame f;
	struct stun m;

	memcpy(u255, u256, GB_UFRAG_MAX - 1);
	u255[GB_UFRAG_MAX - 1] = '\0';

	s = sender4(CN4);
	stun_request(&m, "abc", "cli");
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_ufrag_of_3_is_unknown", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG), NO_STAT);
	stun_request(&m, "abcd", "cli");
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_ufrag_of_4_drops", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_LEARNED);

	s = sender4(US4);
	stun_request(&m, long_ufrag(GB_UFRAG_MAX - 1), "cli");
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_ufrag_of_255_drops", &f, EXPECT_DROP(M_US, "US"),
		     GB_ICE_LEARNED);
	check_sender(env, "shared_ufrag_of_255_drops", &s, S_LONG255);
	s = sender4(CN4);
	stun_request(&m, u255, "cli");
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_255_first_characters_of_a_256_ufrag_are_unknown", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG), NO_STAT);
	stun_request(&m, u256, "cli");
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_ufrag_of_256_drops", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_LEARNED);
	check_sender(env, "shared_ufrag_of_256_drops", &s, S_LONG256);
	s = sender6(CN6);
	snprintf(text, sizeof(text), "%s:", u256);	/* 257 bytes, ':' the last */
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_username(&m, text);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_ufrag_of_256_and_empty_client", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_LEARNED);
	snprintf(text, sizeof(text), "%s:client:more", u256);
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_username(&m, text);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_ufrag_of_256_then_colons", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_REFRESHED);

	s = sender4(CN4);
	snprintf(text, sizeof(text), "%sx", u256);
	stun_request(&m, text, "cli");
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_ufrag_of_257_is_unknown", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG), NO_STAT);
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_username(&m, u256);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_username_of_256_without_colon_is_malformed", &f,
		     EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	memset(text, 'q', 300);
	text[300] = '\0';
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_username(&m, text);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_username_of_300_without_colon_is_unknown", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG), NO_STAT);
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_username(&m, "abcdcli");
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_username_without_colon_is_malformed", &f,
		     EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_username(&m, "abcd");
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_username_of_a_known_ufrag_alone_is_malformed", &f,
		     EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	/* The same with ':'s right after it and room to read USERNAME's head in place. */
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_username(&m, "abcd");
	stun_attr_pad(&m, STUN_SOFTWARE, NULL, 7, ':', ':');
	stun_check_tail(&m);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_known_ufrag_alone_then_colons_is_malformed", &f,
		     EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_attr_pad(&m, STUN_USERNAME, "abcdcli", 7, 0, ':');
	stun_check_tail(&m);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_username_padded_with_a_colon_is_malformed", &f,
		     EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_username(&m, "");
	stun_check_tail(&m);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_empty_username_is_malformed", &f,
		     EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_username(&m, ":abcd");
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_empty_ufrag_is_unknown", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG), NO_STAT);
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_username(&m, "abcd:");
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_empty_client_ufrag_drops", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_LEARNED);
	check_sender(env, "shared_empty_client_ufrag_drops", &s, S_ABCD);

	/*
	 * Each length from the shortest to past GB_UFRAG_SHORT (the ':' is looked for eight bytes
	 * at a time): the ufrag is found, and so is no other text around it, one character shorter
	 * or longer (neither is a ufrag of the meeting).
	 */
	for (size_t len = GB_UFRAG_MIN; len <= GB_UFRAG_SHORT + 9; len++) {
		char u[GB_UFRAG_SHORT + 11], name[96];

		memcpy(u, long_ufrag(len), len + 1);
		snprintf(name, sizeof(name), "shared_ufrag_of_%zu: set", len);
		CHECK(name, !set_ufrag(env, u, S_LEN, M_STANDUP));
		stun_request(&m, u, "cli");
		stun_frame(&f, &s, &m);
		snprintf(name, sizeof(name), "shared_ufrag_of_%zu_drops", len);
		check_frame(env, name, f.data, f.len, EXPECT_DROP(M_STANDUP, "CN"));
		strcpy(u + len, "x");
		stun_request(&m, u, "cli");
		stun_frame(&f, &s, &m);
		snprintf(name, sizeof(name), "shared_ufrag_of_%zu_and_a_character_is_unknown", len);
		check_frame(env, name, f.data, f.len, EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG));
		u[len - 1] = '\0';
		stun_request(&m, u, "cli");
		stun_frame(&f, &s, &m);
		snprintf(name, sizeof(name), "shared_ufrag_of_%zu_less_a_character_is_unknown", len);
		check_frame(env, name, f.data, f.len, EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG));
		u[len - 1] = long_ufrag(len)[len - 1];
		u[len] = '\0';
		snprintf(name, sizeof(name), "shared_ufrag_of_%zu: remove", len);
		CHECK(name, !remove_ufrag(env, u, S_LEN));
	}
}

/* Writes line idx of ufrag_sets whole: every way v (0: free). */
static int fill_line(const struct env *env, __u32 idx, __u64 v)
{
	struct ufrag_line line;

	for (int w = 0; w < GB_UFRAG_WAYS; w++)
		line.way[w] = v;
	return bpf_map_update_elem(bpf_map__fd(env->skel->maps.ufrag_sets), &idx, &line, BPF_EXIST) ?
	       -errno : 0;
}

/*
 * A short ufrag is found by its way in ufrag_sets, and by its key when it has no way (an older
 * controller's, or both its lines full); a way names a slot, and slot 0 is none.
 */
static void shared_ufrag_ways(const struct env *env)
{
	struct sender s = sender4(CN4);
	__u64 h = ufrag_ways_hash("wayonly1", ice_seed_of(env));
	__u32 idx[2] = { gb_ufrag_line_of(h, 0), gb_ufrag_line_of(h, 1) }, was;
	struct ufrag_slot u;
	struct frame f;
	struct stun m;

	CHECK("ufrag_ways: way alone: set", !set_ufrag_as(env, "wayonly1", S_LEN, M_STANDUP,
							   UFRAG_WAY));
	stun_request(&m, "wayonly1", "cli");
	stun_frame(&f, &s, &m);
	check_frame(env, "shared_ufrag_of_a_way_alone_drops", f.data, f.len,
		    EXPECT_DROP(M_STANDUP, "CN"));
	/* Its slot freed, the way left: the way names no meeting. */
	CHECK("ufrag_ways: free the slot", !bpf_map_lookup_elem(bpf_map__fd(env->skel->maps.ufrag_owner),
							      &(__u32){ S_LEN }, &u));
	was = u.meeting_id;
	u.meeting_id = 0;
	u.gen++;
	CHECK("ufrag_ways: free the slot, write", !bpf_map_update_elem(
		      bpf_map__fd(env->skel->maps.ufrag_owner), &(__u32){ S_LEN }, &u, BPF_ANY) &&
	      !hot_clear_meeting(env, was));
	check_frame(env, "shared_way_of_a_freed_slot_is_unknown", f.data, f.len,
		    EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG));
	CHECK("ufrag_ways: way alone: remove", !remove_ufrag(env, "wayonly1", S_LEN));
	check_frame(env, "shared_ufrag_whose_way_is_gone_is_unknown", f.data, f.len,
		    EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG));

	/* The ufrag's hash in a way, but slot 0: no way. */
	CHECK("ufrag_ways: slot 0", !fill_line(env, idx[0], gb_ufrag_way(h, 0)));
	check_frame(env, "shared_way_of_slot_0_is_none", f.data, f.len,
		    EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG));
	CHECK("ufrag_ways: slot 0, cleared", !fill_line(env, idx[0], 0));

	/* Both lines full of other ufrags' ways: the key finds it. */
	for (int i = 0; i < 2; i++)
		CHECK("ufrag_ways: fill a line", !fill_line(env, idx[i], gb_ufrag_way(~h, S_FREE)));
	CHECK("ufrag_ways: lines full: no way", set_ufrag(env, "wayonly1", S_LEN, M_STANDUP) ==
							-ENOSPC);
	check_frame(env, "shared_ufrag_of_full_lines_drops_by_its_key", f.data, f.len,
		    EXPECT_DROP(M_STANDUP, "CN"));
	for (int i = 0; i < 2; i++)
		CHECK("ufrag_ways: empty a line", !fill_line(env, idx[i], 0));
	CHECK("ufrag_ways: lines full: remove", !remove_ufrag(env, "wayonly1", S_LEN));

	/* A key alone (written by an older controller): found by it. */
	CHECK("ufrag_ways: key alone: set", !set_ufrag_as(env, "keyonly1", S_LEN, M_STANDUP,
							   UFRAG_KEY));
	stun_request(&m, "keyonly1", "cli");
	stun_frame(&f, &s, &m);
	check_frame(env, "shared_ufrag_of_a_key_alone_drops", f.data, f.len,
		    EXPECT_DROP(M_STANDUP, "CN"));
	CHECK("ufrag_ways: key alone: remove", !remove_ufrag(env, "keyonly1", S_LEN));
	check_frame(env, "shared_ufrag_whose_key_is_gone_is_unknown", f.data, f.len,
		    EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG));
}

/* STUN that is not a Binding Request, or not well formed; and what is not STUN at all. */
static void shared_not_requests(const struct env *env)
{
	static const unsigned int types[] = { 0x0101, 0x0111, 0x0011, 0x0002, 0x0201, 0x0301,
					      0x0000, 0x0311 };
	struct sender s = sender4(CN4), s6 = sender6(CN6);
	char name[128];
	struct frame f;
	struct stun m;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		stun_request(&m, "abcd", "cli");
		put_be16(m.b, types[i]);
		stun_frame(&f, &s, &m);
		snprintf(name, sizeof(name), "shared_stun_type_0x%04x_is_not_a_request", types[i]);
		check_shared(env, name, &f, EXPECT_PASS(GB_PASS_ICE_NOT_REQUEST), NO_STAT);
		stun_frame(&f, &s6, &m);
		snprintf(name, sizeof(name), "shared_v6_stun_type_0x%04x_is_not_a_request",
			 types[i]);
		check_shared(env, name, &f, EXPECT_PASS(GB_PASS_ICE_NOT_REQUEST), NO_STAT);
	}
	check_sender(env, "shared_responses_learn_nothing", &s, 0);

	stun_request(&m, "abcd", "cli");
	m.b[7] ^= 1;
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_wrong_cookie_is_malformed", &f,
		     EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	stun_request(&m, "abcd", "cli");
	put_be16(m.b, 0x0101);
	m.b[4] = 0;
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_response_with_wrong_cookie_is_malformed", &f,
		     EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	stun_request(&m, "abcd", "cli");
	put_be16(m.b + 2, m.len - 20 - 2);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_length_not_a_multiple_of_4_is_malformed", &f,
		     EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	/*
	 * A message longer than its frame (a first IP fragment holds only its start) is read as far
	 * as the frame goes: a USERNAME there decides it, one cut by the frame's end or an attribute
	 * past it cannot be read (malformed).
	 */
	for (int frag = 0; frag < 2; frag++) {
		const char *how = frag ? "first_fragment" : "frame";

		stun_request(&m, "abcd", "cli");
		put_be16(m.b + 2, m.len - 20 + 4);
		s = sender4(CN4);
		stun_fragment(&f, &s, &m, m.len, frag);
		snprintf(name, sizeof(name), "shared_length_past_%s_end_username_read", how);
		check_shared(env, name, &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);

		stun_start(&m, STUN_BINDING_REQUEST);
		stun_attr(&m, STUN_SOFTWARE, NULL, 1600);
		stun_username(&m, "abcd:cli");
		stun_check_tail(&m);
		s = sender4(CN4);
		stun_fragment(&f, &s, &m, 1400, frag);
		snprintf(name, sizeof(name), "shared_username_past_%s_end_is_malformed", how);
		check_shared(env, name, &f, EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);

		stun_request(&m, "abcd", "cli");
		s = sender4(CN4);
		stun_fragment(&f, &s, &m, 20 + 4 + 4 + 6, frag);	/* "abcd:cli" cut */
		snprintf(name, sizeof(name), "shared_username_cut_by_%s_end_is_malformed", how);
		check_shared(env, name, &f, EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	}
	s = sender4(CN4);
	stun_request(&m, "abcd", "cli");
	memset(m.b + m.len, 0, 18);	/* Ethernet padding after the message */
	m.len += 18;
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_bytes_after_the_message_are_ignored", &f,
		     EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
	/* A message that ends before USERNAME: what follows it in the frame is not read. */
	stun_start(&m, STUN_BINDING_REQUEST);
	stun_attr(&m, STUN_PRIORITY, "\x01\x02\x03\x04", 4);
	stun_username(&m, "abcd:cli");
	put_be16(m.b + 2, 8);
	s = sender4(CN4);
	stun_frame(&f, &s, &m);
	check_shared(env, "shared_username_after_the_message_end_is_not_read", &f,
		     EXPECT_PASS(GB_PASS_ICE_NO_USERNAME), NO_STAT);
	for (size_t len = 1; len < 20; len++) {
		stun_request(&m, "abcd", "cli");
		shared_frame(&f, &s, m.b, len);
		snprintf(name, sizeof(name), "shared_stun_of_%zu_bytes_is_malformed", len);
		check_shared(env, name, &f, EXPECT_PASS(GB_PASS_ICE_MALFORMED), NO_STAT);
	}
	/*
	 * First bytes 0-3 are STUN whatever follows (0: the request learns the sender); 4 and above
	 * are not, whatever follows: media of the sender learned.
	 */
	for (unsigned int first = 0; first < 8; first++) {
		stun_request(&m, "abcd", "cli");
		m.b[0] = first;
		shared_frame(&f, &s, m.b, m.len);
		snprintf(name, sizeof(name), "shared_request_with_first_byte_%u", first);
		if (first == 0)
			check_shared(env, name, &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
		else if (first <= 3)
			check_shared(env, name, &f, EXPECT_PASS(GB_PASS_ICE_NOT_REQUEST), NO_STAT);
		else
			check_shared(env, name, &f, EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
	}
}

/* Learning: what moves a sender, what keeps it, and what forgets it. */
static void shared_learning(const struct env *env)
{
	struct sender s = sender4(CN4), t = sender6(CN6), w = sender4(CN4), x = sender4(CN4);
	struct frame f;
	struct stun m;

	stun_request(&m, "abcd", "a");
	stun_frame(&f, &s, &m);
	check_shared(env, "learn_first_meeting", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_LEARNED);
	stun_request(&m, "wxyz", "a");
	stun_frame(&f, &s, &m);
	check_shared(env, "request_naming_another_meeting_judged_by_it_binding_kept", &f,
		     EXPECT_PASS(GB_PASS_NOT_BLOCKED), GB_ICE_KEPT);
	check_sender(env, "request_naming_another_meeting_judged_by_it_binding_kept", &s, S_ABCD);
	media_frame(&f, &s, DTLS);
	check_shared(env, "kept_sender_media_still_first_meeting", &f,
		     EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
	age_sender(env, "kept_29s_ago", &s, 29ULL * 1000000000ULL);
	stun_frame(&f, &s, &m);
	check_shared(env, "binding_held_29s_after_last_request", &f,
		     EXPECT_PASS(GB_PASS_NOT_BLOCKED), GB_ICE_KEPT);
	media_frame(&f, &s, DTLS);
	check_shared(env, "binding_held_29s_media", &f, EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
	/* Its own ufrag again refreshes it: the 29 s start over. */
	stun_request(&m, "abcd", "a");
	stun_frame(&f, &s, &m);
	check_shared(env, "own_ufrag_refreshes_after_29s", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_REFRESHED);
	age_sender(env, "silent_31s", &s, 31ULL * 1000000000ULL);
	stun_request(&m, "wxyz", "a");
	stun_frame(&f, &s, &m);
	check_shared(env, "silent_31s_moves_to_the_named_meeting", &f,
		     EXPECT_PASS(GB_PASS_NOT_BLOCKED), GB_ICE_MOVED);
	check_sender(env, "silent_31s_moves_to_the_named_meeting", &s, S_WXYZ);
	media_frame(&f, &s, DTLS);
	check_shared(env, "moved_sender_media_judged_by_new_meeting", &f,
		     EXPECT_PASS(GB_PASS_NOT_BLOCKED), NO_STAT);
	/* Another ufrag of the same meeting: rebound at once (nothing to protect). */
	stun_request(&m, long_ufrag(GB_UFRAG_MAX - 1), "a");
	stun_frame(&f, &s, &m);
	check_shared(env, "other_ufrag_of_same_meeting_rebinds", &f,
		     EXPECT_PASS(GB_PASS_NOT_BLOCKED), GB_ICE_REBOUND);
	check_sender(env, "other_ufrag_of_same_meeting_rebinds", &s, S_LONG255);

	/* A ufrag taken away (gen changed): its senders are unknown, even once it is back. */
	stun_request(&m, "ab+/", "b");
	stun_frame(&f, &t, &m);
	check_shared(env, "learn_ufrag_then_remove_it", &f, EXPECT_DROP(M_TCP, "CN"),
		     GB_ICE_LEARNED);
	CHECK("remove ufrag ab+/", !remove_ufrag(env, "ab+/", S_TCP));
	media_frame(&f, &t, DTLS);
	check_shared(env, "removed_ufrag_sender_unknown", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_SENDER), NO_STAT);
	stun_frame(&f, &t, &m);
	check_shared(env, "removed_ufrag_unknown", &f, EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG),
		     NO_STAT);
	CHECK("add ufrag ab+/ again", !set_ufrag(env, "ab+/", S_TCP, M_TCP));
	media_frame(&f, &t, DTLS);
	check_shared(env, "ufrag_back_in_same_slot_old_sender_still_unknown", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_SENDER), NO_STAT);
	stun_frame(&f, &t, &m);
	check_shared(env, "ufrag_back_relearns", &f, EXPECT_DROP(M_TCP, "CN"), GB_ICE_REBOUND);
	check_sender(env, "ufrag_back_relearns", &t, S_TCP);
	media_frame(&f, &t, DTLS);
	check_shared(env, "ufrag_back_media_drops", &f, EXPECT_DROP(M_TCP, "CN"), NO_STAT);

	/* Bound to a ufrag that is gone, a sender is free to name another meeting's. */
	stun_request(&m, "tmp1", "c");
	stun_frame(&f, &w, &m);
	check_shared(env, "learn_temporary_ufrag", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_LEARNED);
	CHECK("remove ufrag tmp1", !remove_ufrag(env, "tmp1", S_TEMP));
	stun_request(&m, "wxyz", "c");
	stun_frame(&f, &w, &m);
	check_shared(env, "dead_binding_yields_to_other_meeting", &f,
		     EXPECT_PASS(GB_PASS_NOT_BLOCKED), GB_ICE_REBOUND);
	check_sender(env, "dead_binding_yields_to_other_meeting", &w, S_WXYZ);

	/* A ufrag moved to another meeting (a meeting replaced): its senders follow it. */
	stun_request(&m, "mvmv", "d");
	stun_frame(&f, &x, &m);
	check_shared(env, "learn_ufrag_then_move_it", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_LEARNED);
	CHECK("move ufrag mvmv", !set_ufrag(env, "mvmv", S_MOVE, M_US));
	media_frame(&f, &x, DTLS);
	check_shared(env, "moved_ufrag_senders_follow", &f, EXPECT_PASS(GB_PASS_NOT_BLOCKED),
		     NO_STAT);
	stun_frame(&f, &x, &m);
	check_shared(env, "moved_ufrag_request_refreshes", &f, EXPECT_PASS(GB_PASS_NOT_BLOCKED),
		     GB_ICE_REFRESHED);

	/* Bound to an inactive meeting's ufrag: still bound (the binding is the ufrag's). */
	x = sender4(CN4);
	stun_request(&m, "inac", "e");
	stun_frame(&f, &x, &m);
	check_shared(env, "learn_inactive_meeting", &f, EXPECT_PASS(GB_PASS_NO_MEETING),
		     GB_ICE_LEARNED);
	stun_request(&m, "abcd", "e");
	stun_frame(&f, &x, &m);
	check_shared(env, "inactive_meeting_binding_kept", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_KEPT);
	media_frame(&f, &x, DTLS);
	check_shared(env, "inactive_meeting_binding_media", &f, EXPECT_PASS(GB_PASS_NO_MEETING),
		     NO_STAT);

	/* An IPv4 sender is not its IPv4-mapped IPv6 address. */
	x = sender4(CN4);
	stun_request(&m, "abcd", "f");
	stun_frame(&f, &x, &m);
	check_shared(env, "learn_ipv4_sender", &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
	t = (struct sender){ 6, "::ffff:" CN4, x.sport, SHARED };
	media_frame(&f, &t, DTLS);
	check_shared(env, "ipv4_mapped_sender_is_another_sender", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_SENDER), NO_STAT);
	stun_frame(&f, &t, &m);
	check_shared(env, "ipv4_mapped_sender_request_drops_by_alias", &f,
		     EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
}

/*
 * The entry of ice_hot naming the way (set, tag), 0 if none (~0ULL: unread); with put, puts put
 * in its place (if there is one).
 */
static __u64 hot_entry_at(const struct env *env, __u32 set, __u32 tag, __u64 put)
{
	int fd = bpf_map__fd(env->skel->maps.ice_hot);
	__u32 idx = gb_ice_hot_line_of(tag);
	struct ice_hot_line line;

	if (bpf_map_lookup_elem(fd, &idx, &line))
		return ~0ULL;
	for (int w = 0; w < GB_ICE_HOT_WAYS; w++) {
		__u64 e = line.e[w];

		if (!gb_ice_hot_names(e, gb_ice_hot_id(set, tag)))
			continue;
		if (put) {
			line.e[w] = put;
			if (bpf_map_update_elem(fd, &idx, &line, BPF_EXIST))
				return ~0ULL;
		}
		return e;
	}
	return 0;
}

/* The meeting of the entry of ice_hot naming the way (set, tag); 0: none, ~0U: unread. */
static __u32 hot_meeting_at(const struct env *env, __u32 set, __u32 tag)
{
	__u64 e = hot_entry_at(env, set, tag, 0);

	return e == ~0ULL ? ~0U : e & GB_ICE_HOT_MEETING_MASK;
}

/* The entry of ice_hot naming sender s's way (either set), 0 if none; put as hot_entry_at. */
static __u64 hot_entry_of(const struct env *env, const struct sender *s, __u64 put)
{
	struct ice_tuple t = tuple_of(s);
	__u64 h = gb_ice_hash(&t, ice_seed_of(env));
	__u32 tag = gb_ice_tag_of(h);

	return hot_entry_at(env, gb_ice_set_of(h, 0), tag, put) ?:
	       hot_entry_at(env, gb_ice_set_of(h, 1), tag, put);
}

/* The meeting of the entry of ice_hot naming sender s's way (either set); 0: none. */
static __u32 hot_meeting_of(const struct env *env, const struct sender *s)
{
	return hot_entry_of(env, s, 0) & GB_ICE_HOT_MEETING_MASK;
}

static void check_hot(const struct env *env, const char *name, const struct sender *s,
		      __u32 meeting)
{
	char label[256];

	snprintf(label, sizeof(label), "%s: meeting in ice_hot", name);
	CHECK_INT(label, meeting, hot_meeting_of(env, s));
}

/* Writes set idx of ice_sender_sets: four ways of made-up tags 1..4 + base, bound to S_ABCD. */
static int fill_set(const struct env *env, __u32 idx, __u32 base, __u32 seen_ms)
{
	struct ufrag_slot u;
	struct ice_sender_set set = {};

	if (bpf_map_lookup_elem(bpf_map__fd(env->skel->maps.ufrag_owner), &(__u32){ S_ABCD }, &u))
		return -errno;
	for (int w = 0; w < GB_ICE_WAYS; w++)
		set.way[w] = (struct ice_way){ .tag = base + w + 1, .seen_ms = seen_ms,
					       .bind = S_ABCD | (__u64)u.gen << 32 };
	return bpf_map_update_elem(bpf_map__fd(env->skel->maps.ice_sender_sets), &idx, &set,
				   BPF_EXIST) ? -errno : 0;
}

static int clear_set(const struct env *env, __u32 idx)
{
	struct ice_sender_set set = {};

	return bpf_map_update_elem(bpf_map__fd(env->skel->maps.ice_sender_sets), &idx, &set,
				   BPF_EXIST) ? -errno : 0;
}

/* Entries of ice_hot for ways (set, tag), each of meeting M_STANDUP, in their lines. */
static int put_hot(const struct env *env, __u32 set, const __u32 *tags, int n)
{
	int fd = bpf_map__fd(env->skel->maps.ice_hot);

	for (int i = 0; i < n; i++) {
		__u32 idx = gb_ice_hot_line_of(tags[i]);
		struct ice_hot_line line;

		if (bpf_map_lookup_elem(fd, &idx, &line))
			return -errno;
		line.e[i] = gb_ice_hot_id(set, tags[i]) | M_STANDUP;
		if (bpf_map_update_elem(fd, &idx, &line, BPF_EXIST))
			return -errno;
	}
	return 0;
}

static __u32 coarse_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u32)(ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000);
}

/*
 * ice_hot: media put their sender's meeting there and are judged by it first; an entry goes when
 * the way it names changes (the sender moved to another meeting, or its way given to another).
 */
static void shared_hot(const struct env *env)
{
	struct sender s = sender4(CN4), x = sender6(CN6), n = sender4(CN4), y = sender4(CN4);
	int sets_fd = bpf_map__fd(env->skel->maps.ice_sender_sets);
	int seed_fd = bpf_map__fd(env->skel->maps.ice_seed);
	int hot_fd = bpf_map__fd(env->skel->maps.ice_hot);
	struct ice_tuple t = tuple_of(&s);
	__u64 h = gb_ice_hash(&t, ice_seed_of(env));
	__u32 idx[2], tags[2];
	struct frame f;
	struct stun m;

	stun_request(&m, "abcd", "h");
	stun_frame(&f, &s, &m);
	check_shared(env, "hot_learn", &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
	check_hot(env, "hot_binding_request_puts_its_entry", &s, M_STANDUP);
	CHECK("hot: entry cleared for media", !hot_forget_way(hot_fd, gb_ice_set_of(h, 0),
							       gb_ice_tag_of(h)));
	media_frame(&f, &s, DTLS);
	check_shared(env, "hot_media_of_a_learned_sender", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     NO_STAT);
	check_hot(env, "hot_media_put_the_senders_meeting", &s, M_STANDUP);
	/* Its way gone behind ice_hot's back: the entry still judges its media (read first). */
	CHECK("hot: way deleted by hand", !senders_del(sets_fd, seed_fd, -1, &t));
	check_shared(env, "hot_entry_read_before_the_sets", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     NO_STAT);
	CHECK("hot: entry cleared", !hot_forget_way(hot_fd, gb_ice_set_of(h, 0),
						    gb_ice_tag_of(h)));
	check_shared(env, "hot_entry_cleared_sender_unknown", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_SENDER), NO_STAT);
	check_hot(env, "hot_unknown_sender_puts_no_entry", &s, 0);

	/* A sender moved to another meeting: its entry goes with its binding. */
	stun_frame(&f, &x, &m);
	check_shared(env, "hot_learn_then_move", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_LEARNED);
	media_frame(&f, &x, 128);
	check_shared(env, "hot_media_before_the_move", &f, EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
	check_hot(env, "hot_entry_before_the_move", &x, M_STANDUP);
	age_sender(env, "hot_silent_31s", &x, 31ULL * 1000000000ULL);
	check_hot(env, "hot_senders_put_keeps_no_entry", &x, 0);
	media_frame(&f, &x, 128);
	check_shared(env, "hot_media_refills_the_entry", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     NO_STAT);
	stun_request(&m, "wxyz", "h");
	stun_frame(&f, &x, &m);
	check_shared(env, "hot_move", &f, EXPECT_PASS(GB_PASS_NOT_BLOCKED), GB_ICE_MOVED);
	check_hot(env, "hot_move_clears_the_entry", &x, 0);
	media_frame(&f, &x, 128);
	check_shared(env, "hot_media_after_the_move_judged_by_the_new_meeting", &f,
		     EXPECT_PASS(GB_PASS_NOT_BLOCKED), NO_STAT);
	check_hot(env, "hot_entry_after_the_move", &x, M_US);

	/*
	 * A way given to a new sender: the entry of the sender it had goes. Sender n's two sets
	 * full of made-up senders, the first way the longest silent, each of the first set's first
	 * two with an entry.
	 */
	t = tuple_of(&n);
	h = gb_ice_hash(&t, ice_seed_of(env));
	idx[0] = gb_ice_set_of(h, 0);
	idx[1] = gb_ice_set_of(h, 1);
	CHECK("hot: fill the first set", !fill_set(env, idx[0], 100, coarse_ms() - 5000));
	CHECK("hot: fill the second set", !fill_set(env, idx[1], 200, coarse_ms()));
	tags[0] = 101;
	tags[1] = 102;
	CHECK("hot: entries of the made-up senders", !put_hot(env, idx[0], tags, 2));
	{
		struct ice_sender_set set;

		bpf_map_lookup_elem(sets_fd, &idx[0], &set);
		set.way[0].seen_ms = coarse_ms() - 60000;
		CHECK("hot: the oldest", !bpf_map_update_elem(sets_fd, &idx[0], &set, BPF_EXIST));
	}
	stun_request(&m, "abcd", "h");
	stun_frame(&f, &n, &m);
	check_shared(env, "hot_learn_evicting", &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
	check_sender(env, "hot_learn_evicting", &n, S_ABCD);
	CHECK_INT("hot_evicted_senders_entry_cleared", 0, hot_meeting_at(env, idx[0], 101));
	CHECK_INT("hot_other_senders_entry_kept", M_STANDUP, hot_meeting_at(env, idx[0], 102));
	for (int i = 0; i < 2; i++)
		CHECK("hot: clear the made-up sets", !clear_set(env, idx[i]));

	/* A sender in its second set (its first full): found by the entry of that set. */
	t = tuple_of(&y);
	h = gb_ice_hash(&t, ice_seed_of(env));
	CHECK("hot: fill y's first set", !fill_set(env, gb_ice_set_of(h, 0), 300, coarse_ms()));
	stun_frame(&f, &y, &m);
	check_shared(env, "hot_learn_in_the_second_set", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_LEARNED);
	media_frame(&f, &y, 128);
	check_shared(env, "hot_media_second_set", &f, EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
	CHECK_INT("hot_entry_names_the_second_set", M_STANDUP,
		  hot_meeting_at(env, gb_ice_set_of(h, 1), gb_ice_tag_of(h)));
	CHECK("hot: way in the second set deleted by hand", !senders_del(sets_fd, seed_fd, -1, &t));
	check_shared(env, "hot_second_set_entry_read", &f, EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
	CHECK("hot: clear the entry", !hot_forget_way(hot_fd, gb_ice_set_of(h, 1),
						      gb_ice_tag_of(h)));
	check_shared(env, "hot_second_set_entry_cleared", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_SENDER), NO_STAT);
	CHECK("hot: clear y's first set", !clear_set(env, gb_ice_set_of(h, 0)));
}

/* Line idx of ice_hot: read into line, or (write) written from it. */
static int hot_line(const struct env *env, __u32 idx, struct ice_hot_line *line, bool write)
{
	int fd = bpf_map__fd(env->skel->maps.ice_hot);

	return (write ? bpf_map_update_elem(fd, &idx, line, BPF_EXIST) :
			bpf_map_lookup_elem(fd, &idx, line)) ? -errno : 0;
}

/* A made-up entry k of line idx, of meeting M_STANDUP; marked used if ref. */
static __u64 made_up_entry(__u32 idx, int k, bool ref)
{
	return gb_ice_hot_id(1000 + k, idx | (__u32)(k + 1) << GB_ICE_HOT_LINE_BITS) | M_STANDUP |
	       (ref ? GB_ICE_HOT_REF : 0);
}

/*
 * ice_hot's replacement: entries are put marked used and marked again when a packet finds them
 * unmarked; a put into a full line takes an unmarked entry, else unmarks them all and takes one.
 */
static void shared_hot_replacement(const struct env *env)
{
	struct sender s = sender4(CN4), n = sender6(CN6), q = sender4(CN4);
	struct ice_hot_line line;
	struct ice_tuple t;
	struct frame f;
	struct stun m;
	__u32 idx;
	__u64 e;
	int kept, marked, found;

	stun_request(&m, "abcd", "r");
	stun_frame(&f, &s, &m);
	check_shared(env, "replace_learn", &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
	e = hot_entry_of(env, &s, 0);
	CHECK_INT("replace_entry_put_marked", 1, !!(e & GB_ICE_HOT_REF));
	hot_entry_of(env, &s, e & ~GB_ICE_HOT_REF);
	media_frame(&f, &s, 128);
	check_shared(env, "replace_media_of_an_unmarked_entry", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     NO_STAT);
	CHECK_INT("replace_media_marks_the_entry_again", e, hot_entry_of(env, &s, 0));
	hot_entry_of(env, &s, e & ~GB_ICE_HOT_REF);
	stun_frame(&f, &s, &m);
	check_shared(env, "replace_check_of_an_unmarked_entry", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_REFRESHED);
	CHECK_INT("replace_check_marks_the_entry_again", 1,
		  !!(hot_entry_of(env, &s, 0) & GB_ICE_HOT_REF));

	/* Sender n's line full, every entry marked but the sixth: n's entry takes that one. */
	t = tuple_of(&n);
	idx = gb_ice_hot_line_of(gb_ice_tag_of(gb_ice_hash(&t, ice_seed_of(env))));
	for (int k = 0; k < GB_ICE_HOT_WAYS; k++)
		line.e[k] = made_up_entry(idx, k, k != 5);
	CHECK("replace: fill n's line", !hot_line(env, idx, &line, true));
	stun_frame(&f, &n, &m);
	check_shared(env, "replace_learn_into_a_full_line", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_LEARNED);
	CHECK("replace: read n's line", !hot_line(env, idx, &line, false));
	kept = 0;
	for (int k = 0; k < GB_ICE_HOT_WAYS; k++)
		kept += line.e[k] == made_up_entry(idx, k, true);
	CHECK_INT("replace_the_marked_entries_kept", GB_ICE_HOT_WAYS - 1, kept);
	e = hot_entry_of(env, &n, 0);
	CHECK_INT("replace_the_unmarked_entry_taken", 1, e && line.e[5] == e);

	/* Sender q's line full, every entry marked: they are unmarked, and one is taken. */
	t = tuple_of(&q);
	idx = gb_ice_hot_line_of(gb_ice_tag_of(gb_ice_hash(&t, ice_seed_of(env))));
	for (int k = 0; k < GB_ICE_HOT_WAYS; k++)
		line.e[k] = made_up_entry(idx, k, true);
	CHECK("replace: fill q's line", !hot_line(env, idx, &line, true));
	stun_frame(&f, &q, &m);
	check_shared(env, "replace_learn_into_a_line_all_marked", &f,
		     EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
	CHECK("replace: read q's line", !hot_line(env, idx, &line, false));
	kept = marked = found = 0;
	for (int k = 0; k < GB_ICE_HOT_WAYS; k++) {
		kept += line.e[k] == made_up_entry(idx, k, false);
		marked += !!(line.e[k] & GB_ICE_HOT_REF);
		found += line.e[k] == hot_entry_of(env, &q, 0);
	}
	CHECK_INT("replace_all_marked_others_unmarked", GB_ICE_HOT_WAYS - 1, kept);
	CHECK_INT("replace_all_marked_one_taken_marked", 1, marked);
	CHECK_INT("replace_all_marked_the_entry_there", 1, found);
	media_frame(&f, &q, 128);
	check_shared(env, "replace_media_after_the_sweep", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     NO_STAT);
	memset(&line, 0, sizeof(line));
	CHECK("replace: empty q's line", !hot_line(env, idx, &line, true));
	t = tuple_of(&n);
	idx = gb_ice_hot_line_of(gb_ice_tag_of(gb_ice_hash(&t, ice_seed_of(env))));
	CHECK("replace: empty n's line", !hot_line(env, idx, &line, true));
}

static int install_table(struct geoblock *skel, const char *cn4);

/* The control line's count of the controller's clearings (bpf/geoblock.h); set: writes it. */
static __u64 hot_count(const struct env *env, const __u64 *set)
{
	int fd = bpf_map__fd(env->skel->maps.ice_hot);
	__u32 idx = GB_ICE_HOT_CONTROL;
	struct ice_hot_line line;

	if (bpf_map_lookup_elem(fd, &idx, &line))
		return ~0ULL;
	if (set) {
		line.e[0] = *set;
		if (bpf_map_update_elem(fd, &idx, &line, BPF_EXIST))
			return ~0ULL;
	}
	return line.e[0];
}

/*
 * What ice_consent holds beside the entry of ice_hot of sender s, 0 if it has no entry (~0ULL:
 * unread); with put, writes *put there.
 */
static __u64 consent_of(const struct env *env, const struct sender *s, const __u64 *put)
{
	int hot_fd = bpf_map__fd(env->skel->maps.ice_hot);
	int fd = bpf_map__fd(env->skel->maps.ice_consent);
	struct ice_tuple t = tuple_of(s);
	__u64 h = gb_ice_hash(&t, ice_seed_of(env)), v;
	__u32 tag = gb_ice_tag_of(h), idx = gb_ice_hot_line_of(tag);
	struct ice_hot_line line, c;

	if (bpf_map_lookup_elem(hot_fd, &idx, &line) || bpf_map_lookup_elem(fd, &idx, &c))
		return ~0ULL;
	for (int w = 0; w < GB_ICE_HOT_WAYS; w++) {
		if (!gb_ice_hot_names(line.e[w], gb_ice_hot_id(gb_ice_set_of(h, 0), tag)) &&
		    !gb_ice_hot_names(line.e[w], gb_ice_hot_id(gb_ice_set_of(h, 1), tag)))
			continue;
		v = c.e[w];
		if (put) {
			c.e[w] = *put;
			if (bpf_map_update_elem(fd, &idx, &c, BPF_EXIST))
				return ~0ULL;
		}
		return v;
	}
	return 0;
}

/*
 * Consent's time set to units of 1.024 s before now, the rest kept. From now, not from the time
 * the entry was put: a unit's end between the two would make an entry FRESH - 1 units older than
 * its put FRESH units old by the check (seen once while another test ran beside this one).
 */
static __u64 consent_ago(__u64 c, __u32 units)
{
	__u64 mask = (1ULL << GB_ICE_CONSENT_STAMP_BITS) - 1;

	return (c & ~mask) | (((coarse_ms() >> 10) - units) & mask);
}

/* Moves sender s's last Binding Request back by ns, ice_hot and ice_consent left alone. */
static int age_way(const struct env *env, const struct sender *s, __u64 ns, struct ice_sender *e)
{
	struct ice_tuple t = tuple_of(s);

	if (sender_entry(env, s, e))
		return -ENOENT;
	e->seen_ns -= ns;
	return senders_put(bpf_map__fd(env->skel->maps.ice_sender_sets),
			   bpf_map__fd(env->skel->maps.ice_seed), -1, &t, e);
}

/*
 * ice_consent: a Binding Request that binds its sender puts its entry of ice_hot with what a
 * consent check needs; a check naming the same short ufrag, of the entry's meeting, within
 * GB_ICE_CONSENT_FRESH, is judged by the entry without reading the ufrag's way or key, nor the
 * sender's set. Anything else is looked up: seen here by taking the ufrag's way and key away
 * behind the controller's back, which makes a looked-up request's ufrag unknown.
 */
static void shared_consent(const struct env *env)
{
	struct sender s = sender4(CN4), l = sender6(CN6);
	__u64 uh = ufrag_ways_hash("abcd", ice_seed_of(env)), c, e, n;
	__u64 meeting_mask = GB_ICE_HOT_MEETING_MASK << GB_ICE_CONSENT_STAMP_BITS;
	struct ice_sender before, after;
	struct frame f, other, media;
	struct hot h;
	struct stun m;

	stun_request(&m, "abcd", "k");
	stun_frame(&f, &s, &m);
	check_shared(env, "consent_learn", &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
	check_hot(env, "consent_learn_puts_the_entry", &s, M_STANDUP);
	c = consent_of(env, &s, NULL);
	CHECK_INT("consent_holds_the_ufrags_hash", (__u32)(uh >> 32), (__u32)(c >> 32));
	CHECK_INT("consent_holds_the_meeting", M_STANDUP,
		  (c & meeting_mask) >> GB_ICE_CONSENT_STAMP_BITS);
	CHECK_INT("consent_is_fresh", (__u32)(uh >> 32),
		  gb_ice_consent_ufrag(c, hot_entry_of(env, &s, 0), coarse_ms()));

	/* Judged by the entry: neither the ufrag's way and key nor the sender's set are read. */
	CHECK("consent: hide abcd", !hide_ufrag(env, "abcd", S_ABCD));
	CHECK("consent: age the way", !age_way(env, &s, 20ULL * 1000000000ULL, &before));
	check_shared(env, "consent_check_judged_by_the_entry", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_REFRESHED);
	CHECK("consent_check_leaves_the_sets", !sender_entry(env, &s, &after) &&
	      after.seen_ns == before.seen_ns);
	c = consent_of(env, &s, &(__u64){ consent_ago(c, GB_ICE_CONSENT_FRESH - 1) });
	check_shared(env, "consent_check_within_its_time", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_REFRESHED);
	/* Past GB_ICE_CONSENT_FRESH: looked up, and a refresh writes the time again. */
	consent_of(env, &s, &(__u64){ consent_ago(c, GB_ICE_CONSENT_FRESH) });
	check_shared(env, "consent_stale_is_looked_up", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG), NO_STAT);
	CHECK("consent: abcd back", !set_ufrag(env, "abcd", S_ABCD, M_STANDUP));
	check_shared(env, "consent_stale_refreshes", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_REFRESHED);
	CHECK("consent_stale_refresh_writes_the_time", !sender_entry(env, &s, &after) &&
	      after.seen_ns > before.seen_ns);
	CHECK_INT("consent_stale_refresh_makes_it_fresh", (__u32)(uh >> 32),
		  gb_ice_consent_ufrag(consent_of(env, &s, NULL), hot_entry_of(env, &s, 0),
				       coarse_ms()));

	/* Another ufrag (of another meeting): looked up, judged by it, the binding kept. */
	stun_request(&m, "wxyz", "k");
	stun_frame(&other, &s, &m);
	check_shared(env, "consent_other_ufrag_is_looked_up", &other,
		     EXPECT_PASS(GB_PASS_NOT_BLOCKED), GB_ICE_KEPT);
	check_sender(env, "consent_other_ufrag_is_looked_up", &s, S_ABCD);

	/* An entry of another meeting than its consent's: looked up. */
	e = hot_entry_of(env, &s, 0);
	hot_entry_of(env, &s, (e & ~GB_ICE_HOT_MEETING_MASK) | M_US);
	CHECK("consent: hide abcd again", !hide_ufrag(env, "abcd", S_ABCD));
	check_shared(env, "consent_of_another_meeting_is_looked_up", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG), NO_STAT);
	hot_entry_of(env, &s, e);
	check_shared(env, "consent_of_its_meeting_again", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_REFRESHED);

	/* While the controller's count is odd: looked up. */
	n = hot_count(env, NULL);
	hot_count(env, &(__u64){ n + 1 });
	check_shared(env, "consent_count_odd_is_looked_up", &f,
		     EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG), NO_STAT);
	CHECK("consent: repair ice_hot", !hot_open(bpf_map__fd(env->skel->maps.ice_hot), &h));
	hot_repair(&h);
	hot_close(&h);
	CHECK("consent: abcd back again", !set_ufrag(env, "abcd", S_ABCD, M_STANDUP));

	/* An entry media put has none: the next check is looked up and puts it. */
	media_frame(&media, &s, DTLS);
	check_shared(env, "consent_media_after_clearing", &media, EXPECT_DROP(M_STANDUP, "CN"),
		     NO_STAT);
	CHECK_INT("consent_none_from_media", 0, consent_of(env, &s, NULL));
	check_shared(env, "consent_check_after_media", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     GB_ICE_REFRESHED);
	CHECK_INT("consent_put_beside_medias_entry", M_STANDUP,
		  (consent_of(env, &s, NULL) & meeting_mask) >> GB_ICE_CONSENT_STAMP_BITS);

	/* A long ufrag (past GB_UFRAG_SHORT): always looked up. */
	stun_request(&m, long_ufrag(GB_UFRAG_MAX - 1), "k");
	stun_frame(&f, &l, &m);
	check_shared(env, "consent_long_learn", &f, EXPECT_PASS(GB_PASS_NOT_BLOCKED),
		     GB_ICE_LEARNED);
	check_hot(env, "consent_long_puts_the_entry", &l, M_US);
	CHECK("consent: hide the long ufrag", !hide_ufrag(env, long_ufrag(GB_UFRAG_MAX - 1),
							   S_LONG255));
	check_shared(env, "consent_long_is_looked_up", &f, EXPECT_PASS(GB_PASS_ICE_UNKNOWN_UFRAG),
		     NO_STAT);
	CHECK("consent: the long ufrag back", !set_ufrag(env, long_ufrag(GB_UFRAG_MAX - 1),
							  S_LONG255, M_US));
}

/*
 * ice_hot keeps the source's country with the meeting: media are judged by it, every entry goes
 * when new tables go live, and while the controller's count is odd no entry is read or put.
 */
static void shared_hot_country(const struct env *env)
{
	__u64 cn = (__u64)country_id("CN") << GB_ICE_HOT_COUNTRY_SHIFT;
	__u64 us = (__u64)country_id("US") << GB_ICE_HOT_COUNTRY_SHIFT;
	__u64 mask = GB_ICE_HOT_COUNTRY_MASK << GB_ICE_HOT_COUNTRY_SHIFT;
	struct sender s = sender4(CN4);
	struct hot h;
	struct frame f;
	struct stun m;
	__u64 e, n;

	stun_request(&m, "abcd", "h");
	stun_frame(&f, &s, &m);
	check_shared(env, "hot_country_learn", &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
	media_frame(&f, &s, 128);
	check_shared(env, "hot_country_media", &f, EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
	e = hot_entry_of(env, &s, 0);
	CHECK_INT("hot_country_entry_has_the_sources_country", cn, e & mask);
	CHECK_INT("hot_country_entry_has_the_meeting", M_STANDUP, e & GB_ICE_HOT_MEETING_MASK);
	/* The entry's country, not the table's, judges the next packet. */
	hot_entry_of(env, &s, (e & ~mask) | us);
	check_shared(env, "hot_country_read_from_the_entry", &f, EXPECT_PASS(GB_PASS_NOT_BLOCKED),
		     NO_STAT);

	/* While the count is odd, the entry (still US) is not read, and none is put. */
	n = hot_count(env, NULL);
	CHECK("hot_country: count even", n != ~0ULL && !(n & 1));
	hot_count(env, &(__u64){ n + 1 });
	check_shared(env, "hot_count_odd_entry_not_read", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     NO_STAT);
	hot_entry_of(env, &s, GB_ICE_HOT_USED);	/* named by none */
	check_shared(env, "hot_count_odd_sets_read", &f, EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
	CHECK_INT("hot_count_odd_no_entry_put", 0, hot_entry_of(env, &s, 0));
	/* The controller's repair clears all and makes it even. */
	CHECK("hot_country: map ice_hot", !hot_open(bpf_map__fd(env->skel->maps.ice_hot), &h));
	hot_repair(&h);
	hot_close(&h);
	CHECK_INT("hot_repair_makes_the_count_even", n + 2, hot_count(env, NULL));
	check_shared(env, "hot_count_even_again", &f, EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
	CHECK_INT("hot_count_even_entry_put", cn, hot_entry_of(env, &s, 0) & mask);

	/* A new table (198.51.100.0/24 now US): every entry goes, and the next packet is US. */
	CHECK("hot_country: table with CN4 as US", !install_table(env->skel, "US"));
	CHECK_INT("hot_new_table_clears_the_entry", 0, hot_entry_of(env, &s, 0));
	CHECK_INT("hot_new_table_count_even", n + 4, hot_count(env, NULL));
	check_shared(env, "hot_new_table_judges_the_next_packet", &f,
		     EXPECT_PASS(GB_PASS_NOT_BLOCKED), NO_STAT);
	CHECK_INT("hot_new_table_entry_of_its_country", us, hot_entry_of(env, &s, 0) & mask);
	CHECK("hot_country: the test table again", !install_table(env->skel, "CN"));
	check_shared(env, "hot_table_again_drops", &f, EXPECT_DROP(M_STANDUP, "CN"), NO_STAT);
}

/* Headers in front of a shared port's packets, as on any port. */
static void shared_headers(const struct env *env)
{
	struct sender s = sender6(CN6), v = sender4(CN4);
	struct frame f;
	struct stun m;

	stun_request(&m, "abcd", "g");
	frame_eth(&f, ETH_P_IPV6);
	frame_ipv6(&f, s.addr, SERVER6, IPPROTO_HOPOPTS);
	frame_ipv6_ext(&f, IPPROTO_FRAGMENT, 8);
	frame_ipv6_frag(&f, IPPROTO_DSTOPTS, 0, 1);
	frame_ipv6_ext(&f, IPPROTO_UDP, 16);
	frame_udp(&f, s.sport, s.dport);
	memcpy(frame_put(&f, m.len), m.b, m.len);
	frame_finish(&f);
	check_shared(env, "shared_request_after_ipv6_extension_headers", &f,
		     EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);

	frame_eth(&f, ETH_P_8021AD);
	frame_vlan(&f, 100, ETH_P_8021Q);
	frame_vlan(&f, 200, ETH_P_IP);
	frame_ipv4(&f, v.addr, SERVER4, IPPROTO_UDP, 8, 0);
	frame_udp(&f, v.sport, v.dport);
	memcpy(frame_put(&f, m.len), m.b, m.len);
	frame_finish(&f);
	check_shared(env, "shared_request_behind_qinq_and_ipv4_options", &f,
		     EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
	frame_eth(&f, ETH_P_8021Q);
	frame_vlan(&f, 100, ETH_P_IP);
	frame_ipv4(&f, v.addr, SERVER4, IPPROTO_UDP, 0, 0);
	frame_udp(&f, v.sport, v.dport);
	frame_bytes(&f, PAYLOAD, DTLS);
	frame_finish(&f);
	check_shared(env, "shared_media_behind_a_vlan_tag", &f, EXPECT_DROP(M_STANDUP, "CN"),
		     NO_STAT);

	/* A later fragment to a shared port: no ports to read, whatever it holds. */
	frame_eth(&f, ETH_P_IP);
	frame_ipv4(&f, v.addr, SERVER4, IPPROTO_UDP, 0, 185);
	frame_udp(&f, v.sport, v.dport);
	memcpy(frame_put(&f, m.len), m.b, m.len);
	frame_finish(&f);
	check_shared(env, "shared_later_fragment_is_a_fragment", &f,
		     EXPECT_PASS(GB_PASS_FRAGMENT), NO_STAT);
}

/*
 * A Binding Request cut at every byte, from a sender not learned and from one learned: below the
 * ports, a parse error (or nothing run, below Ethernet); with the ports and up to the whole UDP
 * header, an empty payload, which is media (its learned sender's verdict); from 1 to 19 bytes of
 * STUN, malformed (no header); from 20, the message runs past the frame (as in a first IP
 * fragment) and is read as far as the frame goes: malformed until USERNAME is whole, then judged
 * by it (the first such cut learns the sender, the later ones refresh it).
 */
static void shared_truncations(const struct env *env, int family, bool learned)
{
	struct sender s = family == 4 ? sender4(CN4) : sender6(CN6);
	char label[160];
	struct frame f;
	struct stun m;
	__u32 retval;

	stun_start(&m, STUN_BINDING_REQUEST);
	stun_attr(&m, STUN_SOFTWARE, "odd", 3);
	stun_username(&m, "abcd:cut");
	stun_check_tail(&m);
	if (learned) {
		stun_frame(&f, &s, &m);
		snprintf(label, sizeof(label), "cut_v%d_learn_first", family);
		check_shared(env, label, &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_LEARNED);
	}
	stun_frame(&f, &s, &m);
	/* The frame's bytes up to USERNAME's end: "odd" (padded to 4), then "abcd:cut". */
	size_t whole_username = (size_t)f.udp + 8 + 20 + 4 + 4 + 4 + 8;

	for (size_t cut = 0; cut < f.len; cut++) {
		int stat = NO_STAT;
		struct expect e;

		snprintf(label, sizeof(label), "shared_v%d_%s_request[cut %zu of %zu]", family,
			 learned ? "learned" : "unlearned", cut, f.len);
		if (cut < ETH_HLEN && run(env, f.data, cut, &retval) == -EINVAL) {
			CHECK(label, 1);
			continue;
		}
		if (cut < (size_t)f.udp + PORTS_LEN)
			e = EXPECT_PASS(GB_PASS_PARSE_ERROR);
		else if (cut <= (size_t)f.udp + 8)
			e = learned ? EXPECT_DROP(M_STANDUP, "CN") :
				      EXPECT_PASS(GB_PASS_ICE_UNKNOWN_SENDER);
		else if (cut < whole_username)
			e = EXPECT_PASS(GB_PASS_ICE_MALFORMED);
		else
			e = EXPECT_DROP(M_STANDUP, "CN");
		if (cut >= whole_username)
			stat = learned || cut > whole_username ? GB_ICE_REFRESHED : GB_ICE_LEARNED;
		check_shared_data(env, label, f.data, cut, e, stat);
	}
	snprintf(label, sizeof(label), "shared_v%d_%s_request_whole", family,
		 learned ? "learned" : "unlearned");
	check_shared(env, label, &f, EXPECT_DROP(M_STANDUP, "CN"), GB_ICE_REFRESHED);
}

static int add_prefix(struct prefix_list *l, int family, const char *addr, unsigned int len,
		      __u16 country)
{
	__u8 a[16] = {};

	if (inet_pton(family, addr, a) != 1)
		return -EINVAL;
	return prefix_list_add(l, family == AF_INET ? 4 : 6, a, len, country);
}

/*
 * The GeoIP table, installed by the controller's own code; each list in address order. cn4: the
 * country of 198.51.100.0/24 (CN, but for the tests of a new table).
 */
static int install_table(struct geoblock *skel, const char *cn4)
{
	struct gb_ctx ctx = { .skel = skel };
	struct geoip_table t = { .build_epoch = 1 };
	int err;

	snprintf(t.database_type, sizeof(t.database_type), "bpf_packets test");
	err = add_prefix(&t.v4, AF_INET, "198.51.100.0", 24, country_id(cn4));
	err = err ?: add_prefix(&t.v4, AF_INET, "203.0.113.0", 24, country_id("US"));
	err = err ?: add_prefix(&t.v6, AF_INET6, "::ffff:0:0", 96, GB_COUNTRY_V4_ALIAS);
	err = err ?: add_prefix(&t.v6, AF_INET6, "2001:db8:1::", 48, country_id("CN"));
	err = err ?: add_prefix(&t.v6, AF_INET6, "2001:db8:2::", 48, country_id("US"));
	err = err ?: add_prefix(&t.v6, AF_INET6, "2002::", 16, GB_COUNTRY_V4_ALIAS);
	err = err ?: table_install(&ctx, &t, "test", true);
	prefix_list_free(&t.v4);
	prefix_list_free(&t.v6);
	return err;
}

static int install_meetings(struct geoblock *skel)
{
	int ports_fd = bpf_map__fd(skel->maps.meeting_by_port);
	int policy_fd = bpf_map__fd(skel->maps.meeting_policy);
	int slot_fd = bpf_map__fd(skel->maps.drop_slot);
	struct timespec now;
	char err[128];

	if (clock_gettime(CLOCK_TAI, &now))
		return -errno;
	for (size_t i = 0; i < sizeof(meetings) / sizeof(meetings[0]); i++) {
		const struct meeting *m = &meetings[i];
		struct meeting_policy p = { .flags = m->flags, .created = time(NULL) };
		struct port_owner owner = { .meeting_id = m->id };
		struct drop_slots slots = {};

		if (parse_countries(m->block, p.blocked, err, sizeof(err)))
			return -EINVAL;
		for (int cc = 0; cc < GB_COUNTRY_COUNT; cc++)
			if (p.blocked[cc / 64] & (1ULL << (cc % 64)))
				slots.slot[cc] = SLOT(m->id, cc);
		if (bpf_map_update_elem(slot_fd, &m->id, &slots, BPF_ANY))
			return -errno;
		if (m->expires_in)
			p.expires_tai_ns = (now.tv_sec + m->expires_in) * 1000000000ULL;
		snprintf(p.name, sizeof(p.name), "%s", m->name);
		if (bpf_map_update_elem(policy_fd, &m->id, &p, BPF_ANY))
			return -errno;
		for (__u32 port = m->first_port; port <= m->last_port; port++)
			if (bpf_map_update_elem(ports_fd, &port, &owner, BPF_ANY))
				return -errno;
	}
	return 0;
}

static int install_allows(struct geoblock *skel)
{
	struct allow_v4_key k4 = { .prefixlen = 32 + 25, .meeting_id = htonl(M_ALLOWS) };
	struct allow_v6_key k6 = { .prefixlen = 32 + 64, .meeting_id = htonl(M_ALLOWS) };
	__u32 id = M_ALLOWS;

	inet_pton(AF_INET, "198.51.100.0", k4.addr);
	inet_pton(AF_INET6, "2001:db8:1:1::", k6.addr);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.allow_v4), &k4, &id, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.allow_v6), &k6, &id, BPF_ANY))
		return -errno;
	return 0;
}

/*
 * Loads the skeleton with no pin paths, so that these maps are private to the test: pinned by
 * name under the default root they would be shared with (and reused from) anything else.
 */
/* Loads a program that looks countries up in the compiled table, or in the LPM tries. */
static int setup(struct env *env, bool use_lpm)
{
	struct bpf_map *map;
	int err;

	libbpf_set_print(print_warnings);
	env->ncpus = libbpf_num_possible_cpus();
	if (env->ncpus <= 0)
		return env->ncpus ? env->ncpus : -EINVAL;
	env->percpu = calloc(env->ncpus, sizeof(struct drop_counter));
	env->range = calloc((size_t)SLOTS * env->ncpus, sizeof(struct drop_counter));
	if (!env->percpu || !env->range)
		return -ENOMEM;
	env->skel = geoblock__open();
	if (!env->skel)
		return -errno;
	env->skel->rodata->use_lpm = use_lpm;
	bpf_object__for_each_map(map, env->skel->obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			return err;
	}
	err = geoblock__load(env->skel);
	if (err)
		return err;
	bpf_object__for_each_map(map, env->skel->obj) {
		char name[128];

		snprintf(name, sizeof(name), "loads_without_pinning: %s", bpf_map__name(map));
		CHECK(name, !bpf_map__is_pinned(map) && !bpf_map__pin_path(map));
	}
	env->prog_fd = bpf_program__fd(env->skel->progs.geoblock_xdp);
	err = install_table(env->skel, "CN");
	err = err ?: install_meetings(env->skel);
	err = err ?: install_allows(env->skel);
	return err ?: install_shared(env);
}

int main(void)
{
	/* Every case twice: with the compiled table (the default) and with the LPM tries. */
	for (int lpm = 0; lpm < 2; lpm++) {
		struct env env = {};
		int err;

		fprintf(stderr, "== country lookup: %s\n", lpm ? "LPM tries" : "compiled table");
		err = setup(&env, lpm);
		if (err) {
			fprintf(stderr, "FAIL: setup: %s\n", strerror(-err));
			checks_failed++;
		} else {
			test_ipv4(&env);
			test_ipv6(&env);
			test_vlan(&env);
			test_truncation(&env);
			next_sport = 20000;
			shared_basics(&env, 4);
			shared_basics(&env, 6);
			shared_attributes(&env);
			shared_ufrags_lengths(&env);
			shared_ufrag_ways(&env);
			shared_not_requests(&env);
			shared_learning(&env);
			shared_hot(&env);
			shared_hot_replacement(&env);
			shared_hot_country(&env);
			shared_consent(&env);
			shared_headers(&env);
			for (int fam = 4; fam <= 6; fam += 2) {
				shared_truncations(&env, fam, false);
				shared_truncations(&env, fam, true);
			}
		}
		geoblock__destroy(env.skel);
		free(env.percpu);
		free(env.range);
	}
	return check_summary();
}
