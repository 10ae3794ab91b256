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
#include "kern/pins.h"
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

static int add_prefix(struct prefix_list *l, int family, const char *addr, unsigned int len,
		      __u16 country)
{
	__u8 a[16] = {};

	if (inet_pton(family, addr, a) != 1)
		return -EINVAL;
	return prefix_list_add(l, family == AF_INET ? 4 : 6, a, len, country);
}

/* The GeoIP table, installed by the controller's own code; each list in address order. */
static int install_table(struct geoblock *skel)
{
	struct gb_ctx ctx = { .skel = skel };
	struct geoip_table t = { .build_epoch = 1 };
	int err;

	snprintf(t.database_type, sizeof(t.database_type), "bpf_packets test");
	err = add_prefix(&t.v4, AF_INET, "198.51.100.0", 24, country_id("CN"));
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
	err = install_table(env->skel);
	err = err ?: install_meetings(env->skel);
	return err ?: install_allows(env->skel);
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
		}
		geoblock__destroy(env.skel);
		free(env.percpu);
		free(env.range);
	}
	return check_summary();
}
