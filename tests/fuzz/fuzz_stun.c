// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: the payload of a UDP datagram to a shared port, through the XDP program under
 * BPF_PROG_TEST_RUN (loaded once, unpinned: needs root), against the differential test's
 * reference classifier (tests/diff/ref_classifier.c and ref_ice.c, the STUN walk and the learning
 * of senders). Each input is sent from IPv4 and from IPv6, by a sender not learned, one learned
 * for a meeting's ufrag a moment ago, and one learned 31 s ago: the verdict and its reason, the
 * pair's drop counter, the ICE counter moved and the sender's entry afterwards must be the
 * reference's. Meetings: "standup" (enforce, blocks CN) with ufrags of 4, 32 and 256 characters,
 * "us" (enforce, blocks US), "watch" (monitor, blocks CN); a ufrag key on a freed slot. The
 * sources are in CN.
 */
#include <errno.h>
#include <stdarg.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/country.h"
#include "geoip/geoip.h"
#include "geoip/prefix.h"
#include "kern/pins.h"
#include "kern/senders.h"
#include "kern/table.h"
#include "kern/ufrag_ways.h"
#include "kern/verdicts.h"
#include "frames.h"
#include "fuzz.h"
#include "geoblock.skel.h"
#include "../diff/ref_classifier.h"

#define SHARED		3478
#define SPORT		40000
#define M_STANDUP	1
#define M_US		2
#define M_WATCH		3
#define SRC4		"198.51.100.7"	/* CN in the table below */
#define SRC6		"2001:db8:1::5"	/* CN */
#define PAYLOAD_MAX	(FRAME_MAX - 14 - 40 - 8)

/* The ufrags: slot, text, meeting (0: the key is on a freed slot). */
static const struct {
	__u32 slot;
	const char *text;
	__u32 meeting;
} ufrags[] = {
	{ 1, "abcd", M_STANDUP },
	{ 2, "Hk3sP9vQx2LmT7cRb5nWz8dFj4GabaXY", M_STANDUP },
	{ 3, NULL, M_STANDUP },		/* 256 characters: long_ufrag() */
	{ 4, "wxyz", M_US },
	{ 5, "mon1", M_WATCH },
	{ 6, "free", 0 },
};

static struct {
	struct geoblock *skel;
	int prog, verdicts, drops, ice, senders, seed, hot, ncpus;
	struct ref_rules *ref;
	struct ref_lpm v4, v6;
	struct ref_senders senders_ref;
} env;

static const char *long_ufrag(void)
{
	static char s[GB_UFRAG_MAX + 1];

	for (int i = 0; i < GB_UFRAG_MAX; i++)
		s[i] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/"[i % 64];
	return s;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

static int add_prefix(struct prefix_list *l, struct ref_lpm *ref, int family, const char *addr,
		      unsigned int len, const char *cc)
{
	__u8 a[16] = {};

	if (inet_pton(family, addr, a) != 1)
		return -EINVAL;
	return prefix_list_add(l, family == AF_INET ? 4 : 6, a, len, country_id(cc)) ?:
	       ref_lpm_add(ref, a, len, country_id(cc));
}

static int install_meeting(__u32 id, __u32 flags, const char *cc)
{
	struct meeting_policy p = { .flags = flags };
	struct drop_slots slots = {};
	__u16 c = country_id(cc);

	p.blocked[c / 64] |= 1ULL << (c % 64);
	slots.slot[c] = id;	/* counter id: each meeting blocks one country */
	snprintf(p.name, sizeof(p.name), "m%u", id);
	env.ref->meeting[id].flags = flags;
	env.ref->meeting[id].blocked[c / 64] |= 1ULL << (c % 64);
	if (bpf_map_update_elem(bpf_map__fd(env.skel->maps.meeting_policy), &id, &p, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(env.skel->maps.drop_slot), &id, &slots, BPF_ANY))
		return -errno;
	return 0;
}

static int install_ufrags(void)
{
	struct ref_ufrags *u = &env.ref->ufrags;
	size_t n = sizeof(ufrags) / sizeof(ufrags[0]);

	u->key = calloc(n, sizeof(*u->key));
	u->slot = calloc(n + 1, sizeof(*u->slot));
	if (!u->key || !u->slot)
		return -ENOMEM;
	u->nslots = n + 1;
	for (size_t i = 0; i < n; i++) {
		const char *text = ufrags[i].text ? ufrags[i].text : long_ufrag();
		struct ufrag_slot s = { .meeting_id = ufrags[i].meeting, .gen = 7 };
		struct ufrag_long_key k = { .len = strlen(text) };
		__u32 slot = ufrags[i].slot;

		memcpy(k.text, text, k.len);
		u->slot[slot] = (struct ref_ufrag_slot){ s.meeting_id, s.gen };
		u->key[u->nkeys].len = k.len;
		u->key[u->nkeys].slot = slot;
		memcpy(u->key[u->nkeys++].text, text, k.len);
		if (bpf_map_update_elem(bpf_map__fd(env.skel->maps.ufrag_owner), &slot, &s, BPF_ANY) ||
		    bpf_map_update_elem(bpf_map__fd(k.len <= GB_UFRAG_SHORT ?
						    env.skel->maps.meeting_by_ufrag :
						    env.skel->maps.meeting_by_long_ufrag), &k, &slot,
					BPF_ANY))
			return -errno;
		/* A way in ufrag_sets for the short ones but "wxyz", found by its key alone. */
		if (k.len <= GB_UFRAG_SHORT && slot != 4 &&
		    ufrag_ways_put(bpf_map__fd(env.skel->maps.ufrag_sets), text, 0, slot))
			return -EIO;
	}
	return 0;
}

static int setup(void)
{
	struct geoip_table t = { .build_epoch = 1 };
	struct port_owner shared = { .flags = GB_PORT_SHARED };
	__u32 port = SHARED;
	struct bpf_map *map;
	struct gb_ctx ctx;
	int err;

	libbpf_set_print(quiet);
	env.ncpus = libbpf_num_possible_cpus();
	env.ref = calloc(1, sizeof(*env.ref));
	if (env.ncpus <= 0 || !env.ref)
		return -ENOMEM;
	env.skel = geoblock__open();
	if (!env.skel)
		return -errno;
	bpf_object__for_each_map(map, env.skel->obj) {
		err = bpf_map__set_pin_path(map, NULL);
		if (err)
			return err;
	}
	err = geoblock__load(env.skel);
	if (err)
		return err;
	env.prog = bpf_program__fd(env.skel->progs.geoblock_xdp);
	env.verdicts = bpf_map__fd(env.skel->maps.verdict_stats);
	env.drops = bpf_map__fd(env.skel->maps.drop_counts);
	env.ice = bpf_map__fd(env.skel->maps.ice_stats);
	env.senders = bpf_map__fd(env.skel->maps.ice_sender_sets);
	env.seed = bpf_map__fd(env.skel->maps.ice_seed);
	env.hot = bpf_map__fd(env.skel->maps.ice_hot);

	err = ref_lpm_init(&env.v4, 32) ?: ref_lpm_init(&env.v6, 128);
	err = err ?: add_prefix(&t.v4, &env.v4, AF_INET, "198.51.100.0", 24, "CN");
	err = err ?: add_prefix(&t.v4, &env.v4, AF_INET, "203.0.113.0", 24, "US");
	err = err ?: add_prefix(&t.v6, &env.v6, AF_INET6, "2001:db8:1::", 48, "CN");
	ctx = (struct gb_ctx){ .skel = env.skel };
	snprintf(t.database_type, sizeof(t.database_type), "fuzz_stun");
	err = err ?: table_install(&ctx, &t, "fuzz_stun", false);
	prefix_list_free(&t.v4);
	prefix_list_free(&t.v6);
	if (err)
		return err;
	env.ref->country_v4 = &env.v4;
	env.ref->country_v6 = &env.v6;
	env.ref->port_flags[SHARED] = GB_PORT_SHARED;
	if (bpf_map_update_elem(bpf_map__fd(env.skel->maps.meeting_by_port), &port, &shared,
				BPF_ANY))
		return -errno;
	err = install_meeting(M_STANDUP, GB_MEETING_ACTIVE | GB_MEETING_UDP, "CN");
	err = err ?: install_meeting(M_US, GB_MEETING_ACTIVE | GB_MEETING_UDP, "US");
	err = err ?: install_meeting(M_WATCH, GB_MEETING_ACTIVE | GB_MEETING_UDP |
				     GB_MEETING_MONITOR, "CN");
	return err ?: install_ufrags();
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* What a run changed: the reasons counted, the ICE counters, the drop counters 1..3. */
struct counts {
	__u64 verdict[GB_REASON_COUNT * 2];
	__u64 ice[GB_ICE_STAT_COUNT];
	__u64 drops[4 * 4];
};

/* Elements 0..n-1 of a per-CPU array of `words` counters, summed, in one batch lookup. */
static void sums(int fd, __u32 n, size_t words, __u64 *out)
{
	static __u64 vals[GB_REASON_COUNT * 2 * 512];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 keys[GB_REASON_COUNT], count = n, next;

	FUZZ_ASSERT(n <= GB_REASON_COUNT && n * words * env.ncpus <= sizeof(vals) / sizeof(*vals),
		    "%d CPUs", env.ncpus);
	FUZZ_ASSERT(!bpf_map_lookup_batch(fd, NULL, &next, keys, vals, &count, &opts) ||
		    errno == ENOENT, "reading counters: %s", strerror(errno));
	FUZZ_ASSERT(count == n, "read %u counters of %u", count, n);
	memset(out, 0, n * words * sizeof(*out));
	for (__u32 i = 0; i < n; i++)
		for (int c = 0; c < env.ncpus; c++)
			for (size_t w = 0; w < words; w++)
				out[keys[i] * words + w] += vals[(i * env.ncpus + c) * words + w];
}

static void read_counts(struct counts *c)
{
	sums(env.verdicts, GB_REASON_COUNT, 2, c->verdict);
	sums(env.ice, GB_ICE_STAT_COUNT, 1, c->ice);
	sums(env.drops, 4, 4, c->drops);
}

/*
 * The sender's state before the frame: 0 not learned, 1 learned for "abcd" (standup) just now,
 * 2 the same 31 s ago. In the program's map and in the reference alike.
 */
static void set_sender(const struct ref_tuple *t, int state, __u64 now)
{
	struct ice_tuple key = { .sport = htons(t->sport), .dport = t->dport, .family = t->family };
	struct ice_sender s = { .slot = 1, .gen = 7, .seen_ns = now - (state == 2 ? 31 : 0) *
						       1000000000ULL };
	struct ref_sender *e;
	int err;

	memcpy(key.saddr, t->saddr, 16);
	ref_senders_free(&env.senders_ref);
	senders_del(env.senders, env.seed, env.hot, &key);
	if (!state)
		return;
	e = ref_senders_add(&env.senders_ref, t);
	e->slot = s.slot;
	e->gen = s.gen;
	e->seen_ns = s.seen_ns;
	err = senders_put(env.senders, env.seed, env.hot, &key, &s);
	FUZZ_ASSERT(!err, "preset sender: %s", strerror(-err));
}

static void run_one(const uint8_t *payload, size_t size, int family, int state)
{
	struct frame f;
	struct ref_verdict v;
	struct ref_tuple t = { .family = family, .sport = SPORT, .dport = SHARED };
	struct counts b, a;
	struct ice_tuple key = { .sport = htons(SPORT), .dport = SHARED, .family = family };
	struct ice_sender got = {};
	const struct ref_sender *want;
	int reason = -1, hits = 0, found;
	__u64 now;

	frame_eth(&f, family == 4 ? ETH_P_IP : ETH_P_IPV6);
	if (family == 4)
		frame_ipv4(&f, SRC4, "192.0.2.10", IPPROTO_UDP, 0, 0);
	else
		frame_ipv6(&f, SRC6, "2001:db8:ff::10", IPPROTO_UDP);
	frame_udp(&f, SPORT, SHARED);
	if (size)
		memcpy(frame_put(&f, size), payload, size);
	frame_finish(&f);
	inet_pton(family == 4 ? AF_INET : AF_INET6, family == 4 ? SRC4 : SRC6, t.saddr);
	memcpy(key.saddr, t.saddr, 16);

	now = now_ns();
	set_sender(&t, state, now);
	read_counts(&b);
	{
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f.data, .data_size_in = f.len,
			    .repeat = 1);

		now = now_ns();
		ref_classify(env.ref, &env.senders_ref, now, f.data, f.len, &v);
		FUZZ_ASSERT(!bpf_prog_test_run_opts(env.prog, &opts), "test run: %s",
			    strerror(errno));
		read_counts(&a);
		for (int r = 0; r < GB_REASON_COUNT; r++) {
			__u64 d = a.verdict[2 * r] - b.verdict[2 * r];

			hits += d;
			if (d)
				reason = r;
		}
		FUZZ_ASSERT(hits == 1 && reason == v.reason, "IPv%d, sender %s: %s, the "
			    "reference says %s (%d reasons counted)", family,
			    state ? state == 1 ? "learned" : "silent 31 s" : "new",
			    verdict_name(reason), verdict_name(v.reason), hits);
		FUZZ_ASSERT(opts.retval == (v.reason == GB_DROP ? XDP_DROP : XDP_PASS),
			    "IPv%d: action %u for reason %d", family, opts.retval, v.reason);
		FUZZ_ASSERT(a.verdict[2 * reason + 1] - b.verdict[2 * reason + 1] == f.len,
			    "IPv%d: bytes counted", family);
	}
	for (int k = 0; k < GB_ICE_STAT_COUNT; k++)
		FUZZ_ASSERT(a.ice[k] - b.ice[k] == (__u64)(k == v.ice_stat),
			    "IPv%d, state %d: ice_stats[%d] moved by %llu, the reference counts %d",
			    family, state, k, (unsigned long long)(a.ice[k] - b.ice[k]), v.ice_stat);
	for (int m = 1; m < 4; m++) {
		bool pair = v.meeting == (__u32)m && (v.reason == GB_DROP ||
						      v.reason == GB_PASS_MONITOR);
		__u64 pk = a.drops[4 * m] - b.drops[4 * m];
		__u64 mon = a.drops[4 * m + 2] - b.drops[4 * m + 2];

		FUZZ_ASSERT(pk == (pair && v.reason == GB_DROP) &&
			    mon == (pair && v.reason == GB_PASS_MONITOR),
			    "IPv%d: drop counter of meeting %d moved %llu/%llu", family, m,
			    (unsigned long long)pk, (unsigned long long)mon);
	}
	want = ref_senders_find(&env.senders_ref, &t);
	found = !senders_get(env.senders, env.seed, &key, &got);
	FUZZ_ASSERT(found == !!want, "IPv%d, state %d: sender %s, the reference %s", family, state,
		    found ? "learned" : "not learned", want ? "learned" : "not");
	FUZZ_ASSERT(!want || (got.slot == want->slot && got.gen == want->gen),
		    "IPv%d, state %d: sender bound to slot %u gen %u, the reference %u %u", family,
		    state, got.slot, got.gen, want->slot, want->gen);
}

/* Loads the program once (libFuzzer, and the replay before it forks for each input). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static bool ready;
	int err;

	(void)argc;
	(void)argv;
	if (ready)
		return 0;
	err = setup();
	FUZZ_ASSERT(!err, "setup (as root?): %s", strerror(err < 0 ? -err : err));
	ready = true;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	LLVMFuzzerInitialize(NULL, NULL);
	if (size > PAYLOAD_MAX)
		size = PAYLOAD_MAX;
	for (int family = 4; family <= 6; family += 2)
		for (int state = 0; state < 3; state++)
			run_one(data, size, family, state);
	return 0;
}
