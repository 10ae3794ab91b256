// SPDX-License-Identifier: GPL-2.0
/* The XDP filter: drops UDP packets to a meeting's ports from the countries that meeting blocks. */
#include "parse.h"

struct lpm_v4 {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GB_V4_PREFIXES_MAX);
	/* sizes rather than types: the structs are not otherwise complete in this object's BTF */
	__uint(key_size, sizeof(struct lpm_v4_key));
	__uint(value_size, sizeof(struct country_entry));
};

struct lpm_v6 {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GB_V6_PREFIXES_MAX);
	/* sizes rather than types: the structs are not otherwise complete in this object's BTF */
	__uint(key_size, sizeof(struct lpm_v6_key));
	__uint(value_size, sizeof(struct country_entry));
};

/* One slot each, holding the live table; the controller swaps in a new inner map in one update. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct lpm_v4);
} country_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct lpm_v6);
} country_v6 SEC(".maps");

/*
 * The compiled tables, filled through mmap: IPv4's of one element (its lookup inlined by the
 * verifier), IPv6's sized per table (BPF_F_INNER_MAP). Value sizes rather than types in inner maps:
 * their structs are not otherwise complete in the BTF.
 */
struct table_v4 {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GB_DXR_ELEM_BYTES);
};

struct table_v6 {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GB_DXR_ELEM_BYTES);
};

/*
 * The data path's tables, compiled from the loaded networks for the countries live meetings block
 * or monitor (every other country's ranges are GB_COUNTRY_OTHER); the controller compiles and
 * swaps them when that set grows (before a meeting names a new country) or shrinks (after).
 *
 * New names for what they hold: a program of an earlier geoblock, attached before an upgrade, does
 * not know the other countries' value; it keeps reading its own maps (lookup_v4, and lookup_v6_tree
 * or lookup_v6: world tables, no longer updated) until the interface is attached again.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct table_v4);
} lookup_live4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct table_v6);
} lookup_live_v6 SEC(".maps");

/* Read by the controller only: which countries the live tables were compiled for. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lookup_cover);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lookup_cover SEC(".maps");

/* The networks of the loaded table, for `geoip lookup` and `explain`; the data path never reads them. */
struct prefixes_v4 {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct prefix_v4_elem));
};

struct prefixes_v6 {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE | BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct prefix_v6_elem));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct prefixes_v4);
} networks_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct prefixes_v6);
} networks_v6 SEC(".maps");

/* Set before load by `attach --lookup lpm`: use the LPM tries instead of the compiled tables. */
const volatile bool use_lpm = false;
/*
 * Set only by `make bench` for its ceiling run (xdp_bench attach IFINDEX nolookup): every source
 * is of this country, read from no table, which measures the filter without its lookup. The
 * controller never sets it; at 0 the verifier drops the branch.
 */
const volatile __u16 bench_country = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GB_PORT_COUNT);
	__type(key, __u32);
	__type(value, struct port_owner);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} meeting_by_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GB_MAX_MEETINGS);
	__type(key, __u32);
	__type(value, struct meeting_policy);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} meeting_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GB_MAX_MEETINGS);
	__type(key, __u32);
	__type(value, struct drop_slots);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} drop_slot SEC(".maps");

/* Arrays, not hashes, for every counter the drop path touches: a hash update costs it ~10 ns. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GB_DROP_COUNTERS);
	__type(key, __u32);
	__type(value, struct drop_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} drop_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GB_REASON_COUNT);
	__type(key, __u32);
	__type(value, struct verdict_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} verdict_stats SEC(".maps");

/*
 * The drops of this attachment, so of its interface: not pinned, each attached program has its
 * own (one per interface), read through the link. It starts at zero when the filter is attached.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct verdict_counter);
} link_drops SEC(".maps");

/* Shared ports: a server ufrag's slot in ufrag_owner, by the ufrag's length (bpf/geoblock.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GB_UFRAGS_MAX);
	__type(key, struct ufrag_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} meeting_by_ufrag SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GB_UFRAGS_MAX);
	__type(key, struct ufrag_long_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} meeting_by_long_ufrag SEC(".maps");

/* Short ufrags by their hash, a line per lookup (bpf/geoblock.h); meeting_by_ufrag has them too. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GB_UFRAG_SETS);
	__type(key, __u32);
	__type(value, struct ufrag_line);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ufrag_sets SEC(".maps");

/* Where a long ufrag's key is built: 260 bytes do not fit beside the rest on the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ufrag_long_key);
} long_ufrag_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GB_UFRAGS_MAX);
	__type(key, __u32);
	__type(value, struct ufrag_slot);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ufrag_owner SEC(".maps");

/*
 * Senders to shared ports, learned from their Binding Requests (struct ice_sender_set). Arrays, not
 * a hash map: a media packet reads one cache line of a table under a third of the LRU hash map's
 * size (docs/benchmarks.md, shared ports).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GB_ICE_SETS);
	__type(key, __u32);
	__type(value, struct ice_sender_set);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ice_sender_sets SEC(".maps");

/* Senders heard lately: a cache of ice_sender_sets for media packets (bpf/geoblock.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GB_ICE_HOT_LINES + 1);
	__type(key, __u32);
	__type(value, struct ice_hot_line);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ice_hot SEC(".maps");

/* Consent checks of the senders in ice_hot, entry by entry at the same index (bpf/geoblock.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GB_ICE_HOT_LINES);
	__type(key, __u32);
	__type(value, struct ice_hot_line);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ice_consent SEC(".maps");

/* The seed of gb_ice_hash, written once when the pins are made. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ice_seed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GB_ICE_STAT_COUNT);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ice_stats SEC(".maps");

/* Allow exceptions, per meeting; only consulted for a packet that would otherwise be dropped. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GB_ALLOW_MAX);
	__type(key, struct allow_v4_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow_v4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GB_ALLOW_MAX);
	__type(key, struct allow_v6_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow_v6 SEC(".maps");

/*
 * abi_version[0]: GB_ABI_VERSION of the geoblock that created the pins. Read by the controller
 * only, which refuses pins of another version (kern/pins.c); declared here to be pinned with the
 * rest.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} abi_version SEC(".maps");

/* Read by the controller only; declared here so that it is created and pinned with the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct geoip_info);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} geoip_info SEC(".maps");

/* The IPv4 address that follows an alias prefix of len bits (len <= 96) in an IPv6 address. */
static __always_inline __u32 alias_v4(const __u8 *addr, __u32 len)
{
	__u64 hi, lo, v4;
	__u32 shift = 96 - len;

	__builtin_memcpy(&hi, addr, 8);
	__builtin_memcpy(&lo, addr + 8, 8);
	hi = bpf_be64_to_cpu(hi);
	lo = bpf_be64_to_cpu(lo);
	if (shift >= 64)
		v4 = hi >> (shift - 64);
	else if (shift == 0)
		v4 = lo;
	else
		v4 = (lo >> shift) | (hi << (64 - shift));
	return (__u32)v4;
}

static __always_inline __u16 lpm_lookup_v4(__u32 addr_be)
{
	struct lpm_v4_key key = { .prefixlen = 32 };
	struct country_entry *entry;
	__u32 zero = 0;
	void *table;

	table = bpf_map_lookup_elem(&country_v4, &zero);
	if (!table)
		return GB_COUNTRY_NONE;
	__builtin_memcpy(key.addr, &addr_be, 4);
	entry = bpf_map_lookup_elem(table, &key);
	return entry ? entry->country : GB_COUNTRY_NONE;
}

static __always_inline __u16 lpm_lookup_v6(const __u8 *addr)
{
	struct lpm_v6_key key = { .prefixlen = 128 };
	struct country_entry *entry;
	__u32 zero = 0;
	void *table;

	table = bpf_map_lookup_elem(&country_v6, &zero);
	if (!table)
		return GB_COUNTRY_NONE;
	__builtin_memcpy(key.addr, addr, 16);
	entry = bpf_map_lookup_elem(table, &key);
	if (!entry)
		return GB_COUNTRY_NONE;
	if (entry->country != GB_COUNTRY_V4_ALIAS)
		return entry->country;

	if (entry->prefixlen > 96)
		return GB_COUNTRY_NONE;
	/* The IPv4 address is the 32 bits after the alias prefix (the controller keeps it <= 96). */
	return lpm_lookup_v4(bpf_htonl(alias_v4(addr, entry->prefixlen)));
}

/*
 * All ones if start <= key, else zero; both below 2^63. Arithmetic, not a branch: the binary
 * searches below go left or right at random for random sources, and a mispredicted branch per
 * step would cost more than the memory reads. The barrier keeps the compiler from turning the
 * mask back into a conditional jump (BPF has no conditional move).
 */
static __always_inline __u32 not_below(__u64 key, __u64 start)
{
	__u64 diff = key - start;

	asm volatile("" : "+r"(diff));
	return (__u32)(diff >> 63) - 1;
}

/* addr in host order. */
static __always_inline __u16 table_lookup_v4(__u32 addr)
{
	__u32 zero = 0, key = addr & 0xffff, lo = 0, len, off;
	void *table;
	__u64 d;
	__u32 *t;

	table = bpf_map_lookup_elem(&lookup_live4, &zero);
	if (!table)
		return GB_COUNTRY_NONE;
	t = bpf_map_lookup_elem(table, &zero);
	if (!t)
		return GB_COUNTRY_NONE;
	d = ((__u64 *)t)[addr >> 16];
	if (d & GB_DXR_LEAF)
		return (__u16)d;
	len = (__u32)d;
	off = GB_DXR4_RANGES_OFF + (__u32)(d >> 32);
	if (!len)
		return GB_COUNTRY_NONE;
	/* The last range that starts at or below the address. */
	for (int step = 0; step < GB_DXR_MAX_STEPS && len > 1; step++) {
		__u32 half = len / 2;

		lo += half & not_below(key, t[(off + lo + half) & (GB_DXR_ELEM_RANGES - 1)] >> 16);
		len -= half;
	}
	return t[(off + lo) & (GB_DXR_ELEM_RANGES - 1)] & 0xffff;
}

/* The range element a lookup last read: the groups of one address are mostly in the same one. */
struct elem_cache {
	__u32 elem;
	__u64 *r;
};

/* 1 if start <= key, else 0; both below 2^63. Arithmetic, as not_below. */
static __always_inline __u32 at_or_below(__u64 start, __u64 key)
{
	__u64 diff = key - start;

	asm volatile("" : "+r"(diff));
	return 1 - (__u32)(diff >> 63);
}

/* How many of the GB_DXR6_FANOUT entries of a block, shifted right by shift, are <= key. */
static __always_inline __u32 count_at_or_below(const __u64 *blk, __u64 key, int shift)
{
	__u32 c = 0;

#pragma unroll
	for (int i = 0; i < GB_DXR6_FANOUT; i++)
		c += at_or_below(blk[i] >> shift, key);
	return c;
}

/*
 * The value of the range of a group (directory entry d) that holds key: one block per level of
 * the group's B+ tree (see bpf/geoblock.h). Every block's first entry is at or below key (the
 * level above chose the block by it; the top block starts the group), so counts are >= 1.
 */
static __always_inline __u32 dxr6_group(void *table, __u64 d, __u64 key, struct elem_cache *c)
{
	__u32 n = d & GB_DXR6_COUNT_MASK, levels = (__u32)d >> GB_DXR6_LEVELS_SHIFT;
	__u32 elem, pos, idx = 0, k;
	__u64 *r, *blk;

	if (d & GB_DXR_LEAF)
		return (__u16)d;
	elem = 1 + (__u32)(d >> 32) / GB_DXR6_ELEM_RANGES;
	pos = (__u32)(d >> 32) % GB_DXR6_ELEM_RANGES;
	if (elem != c->elem || !c->r) {
		c->r = bpf_map_lookup_elem(table, &elem);
		c->elem = elem;
	}
	r = c->r;
	if (!r || n < 2)
		return GB_COUNTRY_NONE;
	for (int i = 1; i < GB_DXR6_MAX_LEVELS && i < levels; i++) {
		__u32 level = levels - i;

		blk = &r[(pos + idx * GB_DXR6_FANOUT) & (GB_DXR6_ELEM_RANGES - GB_DXR6_FANOUT)];
		k = count_at_or_below(blk, key, 0);
		pos += gb_dxr6_level_size(n, level);
		idx = idx * GB_DXR6_FANOUT + k - 1;
	}
	blk = &r[(pos + idx * GB_DXR6_FANOUT) & (GB_DXR6_ELEM_RANGES - GB_DXR6_FANOUT)];
	k = count_at_or_below(blk, key, 16);
	return blk[(k - 1) & (GB_DXR6_FANOUT - 1)] & 0xffff;
}

static __always_inline __u16 table_lookup_v6(const __u8 *addr)
{
	struct elem_cache cache = {};
	__u32 zero = 0, v;
	__u64 hi, lo, *dir, d;
	void *table;

	table = bpf_map_lookup_elem(&lookup_live_v6, &zero);
	if (!table)
		return GB_COUNTRY_NONE;
	dir = bpf_map_lookup_elem(table, &zero);
	if (!dir)
		return GB_COUNTRY_NONE;
	__builtin_memcpy(&hi, addr, 8);
	__builtin_memcpy(&lo, addr + 8, 8);
	hi = bpf_be64_to_cpu(hi);
	lo = bpf_be64_to_cpu(lo);

	d = dir[hi >> 48];
	if (d & GB_DXR6_SUBDIR)
		d = dir[GB_DXR6_SUBDIR_OFF + (d & (GB_DXR6_MAX_SUBDIRS - 1)) * 256 + ((hi >> 40) & 0xff)];
	v = dxr6_group(table, d, hi & 0xffffffffffffULL, &cache);
	if (v >= GB_DXR6_REFINE) {
		d = dir[GB_DXR6_REFINE_OFF + ((v - GB_DXR6_REFINE) & (GB_DXR6_MAX_REFINES - 1))];
		v = dxr6_group(table, d, lo >> 16, &cache);
	}
	if (v >= GB_DXR6_REFINE) {
		d = dir[GB_DXR6_REFINE_OFF + ((v - GB_DXR6_REFINE) & (GB_DXR6_MAX_REFINES - 1))];
		v = dxr6_group(table, d, (lo & 0xffff) << 32, &cache);
	}
	if (v >= GB_T6_ALIAS_BASE && v <= GB_T6_ALIAS_BASE + 96)
		return table_lookup_v4(alias_v4(addr, v - GB_T6_ALIAS_BASE));
	return v <= GB_COUNTRY_OTHER ? v : GB_COUNTRY_NONE;
}

static __always_inline void count_verdict(__u32 reason, __u64 bytes)
{
	struct verdict_counter *vc = bpf_map_lookup_elem(&verdict_stats, &reason);

	if (vc) {
		vc->packets++;
		vc->bytes += bytes;
	}
}

static __always_inline bool allowed(__u32 meeting_id, const struct packet *pkt)
{
	if (pkt->family == 4) {
		struct allow_v4_key key = { .prefixlen = 64, .meeting_id = bpf_htonl(meeting_id) };

		__builtin_memcpy(key.addr, pkt->saddr, 4);
		return bpf_map_lookup_elem(&allow_v4, &key) != NULL;
	} else {
		struct allow_v6_key key = { .prefixlen = 160, .meeting_id = bpf_htonl(meeting_id) };

		__builtin_memcpy(key.addr, pkt->saddr, 16);
		return bpf_map_lookup_elem(&allow_v6, &key) != NULL;
	}
}

static __always_inline void count_link_drop(__u64 bytes)
{
	__u32 zero = 0;
	struct verdict_counter *vc = bpf_map_lookup_elem(&link_drops, &zero);

	if (vc) {
		vc->packets++;
		vc->bytes += bytes;
	}
}

/* country < GB_COUNTRY_COUNT, blocked by the meeting. */
static __always_inline void count_drop(__u32 meeting_id, __u16 country, __u64 bytes, bool monitor)
{
	struct drop_slots *slots = bpf_map_lookup_elem(&drop_slot, &meeting_id);
	struct drop_counter *dc;
	__u32 slot;

	if (!slots)
		return;
	slot = slots->slot[country];
	dc = bpf_map_lookup_elem(&drop_counts, &slot);
	if (!dc)
		return;
	if (monitor) {
		dc->monitor_packets++;
		dc->monitor_bytes += bytes;
	} else {
		dc->packets++;
		dc->bytes += bytes;
	}
}

/* The country of pkt's source by the live tables (or the LPM tries), GB_COUNTRY_NONE if none. */
static __always_inline __u16 source_country(const struct packet *pkt)
{
	__u16 country;

	if (bench_country)
		return bench_country;
	if (pkt->family == 4) {
		__u32 addr;

		__builtin_memcpy(&addr, pkt->saddr, 4);
		country = use_lpm ? lpm_lookup_v4(addr) : table_lookup_v4(bpf_ntohl(addr));
	} else {
		country = use_lpm ? lpm_lookup_v6(pkt->saddr) : table_lookup_v6(pkt->saddr);
	}
	return country <= GB_COUNTRY_OTHER ? country : GB_COUNTRY_NONE;
}

/* judge's country argument when the packet's source is still to be looked up. */
#define LOOK_UP_COUNTRY	(-1)

/*
 * The verdict of meeting_id's policy on pkt: the same for a port's meeting and a shared port's.
 * known: its source's country (a learned sender's, cached in ice_hot), or LOOK_UP_COUNTRY.
 */
static __always_inline int judge(__u32 meeting_id, const struct packet *pkt, __u64 bytes,
				 int known)
{
	struct meeting_policy *policy;
	__u64 country;

	policy = bpf_map_lookup_elem(&meeting_policy, &meeting_id);
	if (!policy || !(policy->flags & GB_MEETING_ACTIVE))
		return GB_PASS_NO_MEETING;
	if (!(policy->flags & (pkt->proto == IPPROTO_TCP ? GB_MEETING_TCP : GB_MEETING_UDP)))
		return GB_PASS_NOT_COVERED;
	/* Enforced here, so a rule stops when it should even if no controller runs. */
	if (policy->expires_tai_ns && bpf_ktime_get_tai_ns() >= policy->expires_tai_ns)
		return GB_PASS_EXPIRED;

	country = known == LOOK_UP_COUNTRY ? source_country(pkt) : (__u64)(__u32)known;
	/* One register for the checks below and the index: the verifier bounds that one. */
	asm volatile("" : "+r"(country));
	/* GB_COUNTRY_OTHER: a country no live meeting blocks, so not this one either. */
	if (country == GB_COUNTRY_NONE || country > GB_COUNTRY_OTHER)
		return GB_PASS_NO_COUNTRY;
	if (!(policy->blocked[country / 64] & (1ULL << (country % 64))))
		return GB_PASS_NOT_BLOCKED;
	if ((policy->flags & GB_MEETING_ALLOWS) && allowed(meeting_id, pkt))
		return GB_PASS_ALLOWED;

	if (policy->flags & GB_MEETING_MONITOR) {
		count_drop(meeting_id, country, bytes, true);
		return GB_PASS_MONITOR;
	}
	count_drop(meeting_id, country, bytes, false);
	count_link_drop(bytes);
	return GB_DROP;
}

static __always_inline void count_ice(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&ice_stats, &stat);

	if (n)
		(*n)++;
}

/* Shared with other CPUs, read and written whole: the compiler neither splits nor merges. */
#define READ_ONCE(x)		(*(const volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile typeof(x) *)&(x) = (v))

/* The meeting of a binding (slot | gen << 32), 0 if its ufrag is gone. */
static __always_inline __u32 bound_meeting(__u64 bind)
{
	__u32 slot = (__u32)bind;
	struct ufrag_slot *u = bpf_map_lookup_elem(&ufrag_owner, &slot);

	return u && u->gen == (__u32)(bind >> 32) ? u->meeting_id : 0;
}

/* The hash of sender t under the pinned seed. */
static __always_inline __u64 sender_hash(const struct ice_tuple *t)
{
	__u32 zero = 0;
	__u64 *seed = bpf_map_lookup_elem(&ice_seed, &zero);

	return gb_ice_hash(t, seed ? *seed : 0);
}

/* The two sets of ice_sender_sets where the sender of hash h may be (their indexes in idx). */
static __always_inline int sender_sets(__u64 h, __u32 idx[2], struct ice_sender_set **first,
				       struct ice_sender_set **second)
{
	idx[0] = gb_ice_set_of(h, 0);
	*first = bpf_map_lookup_elem(&ice_sender_sets, &idx[0]);
	idx[1] = gb_ice_set_of(h, 1);
	*second = bpf_map_lookup_elem(&ice_sender_sets, &idx[1]);
	return *first && *second ? 0 : -1;
}

/*
 * Orders the stores before it ahead of the loads after it (x86's lock prefix): a CPU that puts an
 * entry in ice_hot and one that changes the way it names each see what the other wrote, so that
 * one of them clears it.
 */
static __always_inline void full_barrier(__u64 *p)
{
	__sync_fetch_and_add(p, 0);
}

/* Clears the entries of ice_hot naming the way (set, tag), changed since (after full_barrier). */
static __always_inline void hot_forget(__u32 set, __u32 tag)
{
	__u32 idx = gb_ice_hot_line_of(tag);
	struct ice_hot_line *line = bpf_map_lookup_elem(&ice_hot, &idx);
	__u64 id = gb_ice_hot_id(set, tag);
	int w;

	if (!line)
		return;
#pragma unroll
	for (w = 0; w < GB_ICE_HOT_WAYS; w++)
		if (gb_ice_hot_names(READ_ONCE(line->e[w]), id))
			WRITE_ONCE(line->e[w], 0);
}

/* The way of set holding tag, or NULL. */
static __always_inline struct ice_way *sender_way(struct ice_sender_set *set, __u32 tag)
{
	int w;

#pragma unroll
	for (w = 0; w < GB_ICE_WAYS; w++)
		if (READ_ONCE(set->way[w].tag) == tag)
			return &set->way[w];
	return NULL;
}

/* The way the sender of tag has in its first set, else in its second (*set: its index), or NULL. */
static __always_inline struct ice_way *sender_find(struct ice_sender_set *first,
						   struct ice_sender_set *second,
						   const __u32 idx[2], __u32 tag, __u32 *set)
{
	struct ice_way *way = sender_way(first, tag);

	*set = idx[0];
	if (way)
		return way;
	*set = idx[1];
	return sender_way(second, tag);
}

/*
 * The way a new sender takes: a free one of set (and *found set), else its longest silent; *at is
 * the index of the set the way returned is in (set's, or what it was for victim).
 */
static __always_inline struct ice_way *sender_victim(struct ice_sender_set *set, __u32 idx,
						     __u32 now, struct ice_way *victim, __u32 *at,
						     __u32 *oldest, bool *found)
{
	__u32 age;
	int w;

#pragma unroll
	for (w = 0; w < GB_ICE_WAYS; w++) {
		if (!READ_ONCE(set->way[w].tag)) {
			*found = true;
			*at = idx;
			return &set->way[w];
		}
		age = now - READ_ONCE(set->way[w].seen_ms);
		if ((__s32)age >= 0 && age >= *oldest) {
			*oldest = age;
			victim = &set->way[w];
			*at = idx;
		}
	}
	return victim;
}

/* The way a Binding Request left its sender bound to the ufrag it named, for ice_consent. */
struct bound_way {
	struct ice_way *way;
	__u64 bind;
	__u32 set;
	__u32 tag;
	__u32 seen_ms;
};

/*
 * Binds the sender of hash h to ufrag (slot, u) at now (ms, coarse): a new sender, or one
 * silent past GB_ICE_STICKY_NS, or one whose ufrag is gone or was of the same meeting. A sender
 * bound to another meeting stays bound while its checks keep coming, so that a Binding Request
 * forged from its address cannot move its media to a meeting that does not block it. A new sender
 * takes a free way of its first set, else of its second, else the way of the longest silent
 * sender of the two. Returns whether the sender is now bound to that ufrag (its way in *b).
 */
static __always_inline bool learn_sender(__u64 h, __u32 slot, const struct ufrag_slot *u,
					 __u32 now, struct bound_way *b)
{
	__u64 bind = slot | (__u64)u->gen << 32;
	struct ice_sender_set *first, *second;
	__u32 tag = gb_ice_tag_of(h), idx[2], set, bound, seen, old, oldest = 0;
	struct ice_way *way;
	bool found = false;
	__u64 cur;

	if (sender_sets(h, idx, &first, &second))
		return false;
	*b = (struct bound_way){ .bind = bind, .tag = tag, .seen_ms = now };
	way = sender_find(first, second, idx, tag, &set);
	if (way) {
		b->way = way;
		b->set = set;
		/* Read once each: other CPUs write them, and each decision below is on one value. */
		cur = READ_ONCE(way->bind);
		seen = READ_ONCE(way->seen_ms);
		if (cur == bind) {
			/* Written once a second at most: a line other CPUs read stays clean meanwhile. */
			if ((__s32)(now - seen) >= 1000)
				WRITE_ONCE(way->seen_ms, now);
			else
				b->seen_ms = seen;
			count_ice(GB_ICE_REFRESHED);
			return true;
		}
		bound = bound_meeting(cur);
		/* Signed: a time ahead of the coarse clock (another CPU's tick) is recent. */
		if (bound && bound != u->meeting_id &&
		    (__s32)(now - seen) < (__s32)(GB_ICE_STICKY_NS / 1000000)) {
			count_ice(GB_ICE_KEPT);
			return false;
		}
		WRITE_ONCE(way->bind, bind);
		WRITE_ONCE(way->seen_ms, now);
		full_barrier(&way->bind);
		hot_forget(set, tag);
		count_ice(bound && bound != u->meeting_id ? GB_ICE_MOVED : GB_ICE_REBOUND);
		return true;
	}
	set = idx[0];
	way = sender_victim(first, idx[0], now, &first->way[0], &set, &oldest, &found);
	if (!found)
		way = sender_victim(second, idx[1], now, way, &set, &oldest, &found);
	old = READ_ONCE(way->tag);
	WRITE_ONCE(way->bind, bind);
	WRITE_ONCE(way->seen_ms, now);
	WRITE_ONCE(way->tag, tag);
	if (old) {
		full_barrier(&way->bind);
		hot_forget(set, old);
	}
	count_ice(GB_ICE_LEARNED);
	b->way = way;
	b->set = set;
	return true;
}

/*
 * Whether the way (tag, bound as bind), its ufrag slot u (of meeting_id) and the controller's
 * count ctl (seq) are still what a CPU that put an entry read: after its full barrier, so that a
 * CPU or the controller changing one of them either saw the entry or is seen here.
 */
static __always_inline bool hot_still(const struct ice_way *way, __u32 tag, __u64 bind,
				      const struct ufrag_slot *u, __u32 meeting_id,
				      const __u64 *ctl, __u64 seq)
{
	return READ_ONCE(way->tag) == tag && READ_ONCE(way->bind) == bind &&
	       READ_ONCE(u->gen) == (__u32)(bind >> 32) && READ_ONCE(u->meeting_id) == meeting_id &&
	       READ_ONCE(*ctl) == seq;
}

/*
 * Marks entry w of line, read as e, used lately. A controller of an earlier build clears an entry
 * only if it is still exactly what it read (a CPU may have put another since): if its count ctl
 * left seq meanwhile, it may have read the entry unmarked and left it, so it is cleared here.
 */
static __always_inline void hot_ref(struct ice_hot_line *line, __u32 w, __u64 e, const __u64 *ctl,
				    __u64 seq)
{
	if (w >= GB_ICE_HOT_WAYS)
		return;
	/* A locked instruction: a full barrier too. */
	if (__sync_val_compare_and_swap(&line->e[w], e, e | GB_ICE_HOT_REF) == e &&
	    READ_ONCE(*ctl) != seq)
		__sync_val_compare_and_swap(&line->e[w], e | GB_ICE_HOT_REF, 0);
}

/*
 * Puts the way (set, tag) of ice_sender_sets, bound as bind to the meeting of ufrag slot u, in
 * ice_hot with its source's country, marked used: a free entry of its line, else one not used
 * lately (the first from a way at random), else (each marked) one at random, the others
 * unmarked; and c at the same index of cons (its line of ice_consent: 0 for media, a consent
 * check's for a Binding Request), first. If the way, the slot or the controller's count ctl (seq
 * when this packet began, so before its tables were read) changed meanwhile, the CPU or the
 * controller changing them may have looked at the line before the entry was there: it is cleared
 * again, and so are the entries it unmarked (a controller of an earlier build may have read them
 * marked and, its clearing comparing the whole entry, left them).
 */
static __always_inline void hot_put(struct ice_hot_line *line, struct ice_hot_line *cons, __u64 c,
				    const __u64 *ctl, __u64 seq, __u32 set, __u32 tag,
				    const struct ice_way *way, __u64 bind,
				    const struct ufrag_slot *u, __u32 meeting_id, __u16 country)
{
	__u64 e = gb_ice_hot_id(set, tag) | (__u64)country << GB_ICE_HOT_COUNTRY_SHIFT |
		  meeting_id | GB_ICE_HOT_REF;
	__u32 w = GB_ICE_HOT_WAYS, r = bpf_get_prandom_u32(), i, j;
	__u64 v[GB_ICE_HOT_WAYS];
	bool swept = false;

#pragma unroll
	for (i = 0; i < GB_ICE_HOT_WAYS; i++)
		v[i] = READ_ONCE(line->e[i]);
#pragma unroll
	for (i = 0; i < GB_ICE_HOT_WAYS; i++)
		if (!v[i]) {
			w = i;
			break;
		}
	if (w >= GB_ICE_HOT_WAYS) {
		/*
		 * The first unmarked from a way at random: of senders taking turns in a line of
		 * more than it holds, the unmarked are those not back since the marks went, so the
		 * first from way 0 on would as often as not be the next to come
		 * (tests/bench/ice_hot_model.py).
		 */
#pragma unroll
		for (i = 0; i < GB_ICE_HOT_WAYS; i++) {
			j = (r + i) & (GB_ICE_HOT_WAYS - 1);
			if (!(READ_ONCE(line->e[j]) & GB_ICE_HOT_REF)) {
				w = j;
				break;
			}
		}
	}
	if (w >= GB_ICE_HOT_WAYS) {
		w = r & (GB_ICE_HOT_WAYS - 1);
		swept = true;
#pragma unroll
		for (i = 0; i < GB_ICE_HOT_WAYS; i++)
			__sync_val_compare_and_swap(&line->e[i], v[i], v[i] & ~GB_ICE_HOT_REF);
	}
	if (w >= GB_ICE_HOT_WAYS)
		return;
	WRITE_ONCE(cons->e[w], c);
	WRITE_ONCE(line->e[w], e);
	full_barrier(&line->e[w]);
	if (hot_still(way, tag, bind, u, meeting_id, ctl, seq))
		return;
	WRITE_ONCE(line->e[w], 0);
	if (swept) {
#pragma unroll
		for (i = 0; i < GB_ICE_HOT_WAYS; i++)
			__sync_val_compare_and_swap(&line->e[i], v[i] & ~GB_ICE_HOT_REF, 0);
	}
}

/* The entry of line naming the way whose id is id (its index in *at), 0 if none. */
static __always_inline __u64 hot_entry(const struct ice_hot_line *line, __u64 id, __u32 *at)
{
	__u64 e;
	int w;

#pragma unroll
	for (w = 0; w < GB_ICE_HOT_WAYS; w++) {
		e = READ_ONCE(line->e[w]);
		if (gb_ice_hot_names(e, id)) {
			*at = w;
			return e;
		}
	}
	return 0;
}

/*
 * The meeting of a media packet's sender t, 0 if none, and in *country its source's: its entry
 * in ice_hot, else its way in ice_sender_sets and the tables, which then go into ice_hot. While
 * the controller clears entries (its count odd), ice_hot is neither read nor filled.
 */
static __always_inline __u32 sender_meeting(const struct ice_tuple *t, const struct packet *pkt,
					    int *country)
{
	__u64 h = sender_hash(t), e, bind, seq;
	__u32 tag = gb_ice_tag_of(h), idx[2], set, slot, meeting_id, line_idx, w = 0;
	__u32 control = GB_ICE_HOT_CONTROL;
	struct ice_hot_line *line, *ctl, *cons;
	struct ice_sender_set *first, *second;
	struct ice_way *way;
	struct ufrag_slot *u;

	*country = LOOK_UP_COUNTRY;
	line_idx = gb_ice_hot_line_of(tag);
	line = bpf_map_lookup_elem(&ice_hot, &line_idx);
	ctl = bpf_map_lookup_elem(&ice_hot, &control);
	if (!line || !ctl)
		return 0;
	/* Read before the tables (x86 keeps loads in order): see hot_put. */
	seq = READ_ONCE(ctl->e[0]);
	if (!(seq & 1)) {
		/* The entry of its way in its first set, else in its second (the few there). */
		e = hot_entry(line, gb_ice_hot_id(gb_ice_set_of(h, 0), tag), &w) ?:
		    hot_entry(line, gb_ice_hot_id(gb_ice_set_of(h, 1), tag), &w);
		if (e) {
			if (!(e & GB_ICE_HOT_REF))
				hot_ref(line, w, e, &ctl->e[0], seq);
			*country = (e >> GB_ICE_HOT_COUNTRY_SHIFT) & GB_ICE_HOT_COUNTRY_MASK;
			return e & GB_ICE_HOT_MEETING_MASK;
		}
	}
	if (sender_sets(h, idx, &first, &second))
		return 0;
	way = sender_find(first, second, idx, tag, &set);
	if (!way)
		return 0;
	bind = READ_ONCE(way->bind);
	slot = (__u32)bind;
	u = bpf_map_lookup_elem(&ufrag_owner, &slot);
	if (!u || READ_ONCE(u->gen) != (__u32)(bind >> 32))
		return 0;
	meeting_id = READ_ONCE(u->meeting_id);
	if (meeting_id && meeting_id < GB_MAX_MEETINGS && !(seq & 1)) {
		*country = source_country(pkt);
		cons = bpf_map_lookup_elem(&ice_consent, &line_idx);
		if (cons)
			hot_put(line, cons, 0, &ctl->e[0], seq, set, tag, way, bind, u, meeting_id,
				*country);
	}
	return meeting_id;
}

/* A Binding Request's sender in ice_hot: its lines, the controller's count, its entry's index. */
struct consent {
	struct ice_hot_line *line, *cons, *ctl;
	__u64 seq;
	__u64 e;		/* its entry, 0 if none */
	__u32 w;
};

/*
 * Looks up the sender of hash h in ice_hot for a Binding Request at now (ms, coarse): returns the
 * high half of the hash of the ufrag it may name to be judged by its entry (c->e) alone, 0 if
 * none (no entry, none put by a Binding Request, one of another meeting or past
 * GB_ICE_CONSENT_FRESH, or the controller clearing).
 */
static __always_inline __u32 consent_of(__u64 h, __u32 now, struct consent *c)
{
	__u32 tag = gb_ice_tag_of(h), idx = gb_ice_hot_line_of(tag), control = GB_ICE_HOT_CONTROL;
	__u64 id0 = gb_ice_hot_id(gb_ice_set_of(h, 0), tag);
	__u64 id1 = gb_ice_hot_id(gb_ice_set_of(h, 1), tag);
	__u64 e;
	int w;

	c->line = bpf_map_lookup_elem(&ice_hot, &idx);
	c->cons = bpf_map_lookup_elem(&ice_consent, &idx);
	c->ctl = bpf_map_lookup_elem(&ice_hot, &control);
	c->e = 0;
	c->w = 0;
	c->seq = 1;
	if (!c->line || !c->cons || !c->ctl)
		return 0;
	c->seq = READ_ONCE(c->ctl->e[0]);
	if (c->seq & 1)
		return 0;
#pragma unroll
	for (w = 0; w < GB_ICE_HOT_WAYS; w++) {
		e = READ_ONCE(c->line->e[w]);
		if (gb_ice_hot_names(e, id0) || gb_ice_hot_names(e, id1)) {
			c->e = e;
			c->w = w;
			if (!(e & GB_ICE_HOT_REF))
				hot_ref(c->line, w, e, &c->ctl->e[0], c->seq);
			return gb_ice_consent_ufrag(READ_ONCE(c->cons->e[w]), e, now);
		}
	}
	return 0;
}

/*
 * After a Binding Request bound its sender to ufrag slot u (way b; uh the ufrag's hash, 0 for a
 * long one): what a consent check naming it needs in ice_consent, beside the sender's entry of
 * ice_hot, put now with its source's country if it has none. As hot_put, cleared again if the
 * way, the slot or the controller's count changed meanwhile.
 */
static __always_inline void consent_put(const struct consent *c, const struct bound_way *b,
					const struct ufrag_slot *u, __u32 meeting_id, __u64 uh,
					__u16 country)
{
	__u64 id = gb_ice_hot_id(b->set, b->tag), v = gb_ice_consent(uh, meeting_id, b->seen_ms);
	__u32 w = c->w;

	if (!c->line || !c->cons || !c->ctl || (c->seq & 1))
		return;
	if (!gb_ice_hot_names(c->e, id)) {
		hot_put(c->line, c->cons, v, &c->ctl->e[0], c->seq, b->set, b->tag, b->way, b->bind,
			u, meeting_id, country);
		return;
	}
	if (w >= GB_ICE_HOT_WAYS)
		return;
	WRITE_ONCE(c->cons->e[w], v);
	full_barrier(&c->cons->e[w]);
	if (!gb_ice_hot_names(READ_ONCE(c->line->e[w]), id) ||
	    !hot_still(b->way, b->tag, b->bind, u, meeting_id, &c->ctl->e[0], c->seq))
		WRITE_ONCE(c->cons->e[w], 0);
}

struct stun_attr {
	__be16 type;
	__be16 len;
};

#define STUN_HDR_LEN		20
#define STUN_COOKIE		0x2112A442
#define STUN_BINDING_REQUEST	0x0001
#define STUN_USERNAME		0x0006

/* USERNAME's first bytes, read for its ':' eight at a time: a short ufrag and its ':'. */
#define HEAD_WORDS		((GB_UFRAG_SHORT + 1 + 7) / 8)

/* Built for the host's byte order (-target bpf): the words below are read as x86's. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "first_colon and the ufrag key read USERNAME's bytes as little-endian words"
#endif

/*
 * The index of the first ':' in w's bytes (the first byte the lowest), or n if there is none
 * before n (n or past it if the bytes from n on are not zero). Per word: x has a zero byte where
 * w has ':'; the lowest flag of (x - 0x01..) & ~x & 0x80.. is at the first of them (a borrow only
 * flags bytes above it); that flag, bit 8k + 7, shifted down to 1 << 8k and multiplied by bytes
 * 7, 6, ... 0, puts k in the top byte.
 */
static __always_inline __u32 first_colon(const __u64 *w, __u32 n)
{
	__u64 x, m;
	int i;

#pragma unroll
	for (i = 0; i < HEAD_WORDS; i++) {
		x = w[i] ^ 0x3a3a3a3a3a3a3a3aULL;
		m = (x - 0x0101010101010101ULL) & ~x & 0x8080808080808080ULL;
		if (m)
			return i * 8 + ((((m & -m) >> 7) * 0x0001020304050607ULL) >> 56);
	}
	return n;
}

/* The slot of the ufrag of hash h in its line which of ufrag_sets, 0 if no way has it. */
static __always_inline __u32 ufrag_in_line(__u64 h, int which)
{
	__u32 idx = gb_ufrag_line_of(h, which);
	struct ufrag_line *line = bpf_map_lookup_elem(&ufrag_sets, &idx);
	__u64 v;
	int w;

	if (!line)
		return 0;
#pragma unroll
	for (w = 0; w < GB_UFRAG_WAYS; w++) {
		/* Written whole or zero by the controller: slot 0 is no slot. */
		v = READ_ONCE(line->way[w]);
		if (!((v ^ h) & ~GB_UFRAG_SLOT_MASK) && (v & GB_UFRAG_SLOT_MASK))
			return v & GB_UFRAG_SLOT_MASK;
	}
	return 0;
}

/* walk_attrs's answer: USERNAME's offset, or a verdict reason, so flagged; else where to go on. */
#define WALK_FOUND		(1U << 30)
#define WALK_VERDICT		(1U << 31)

/*
 * Walks at most n attributes of a STUN message that ends at end (an offset in the frame, past its
 * end in a first IP fragment) from pos (the offset of one) to USERNAME, whose value must be in the
 * frame (its length in *ulen); see WALK_*.
 */
static __always_inline __u32 walk_attrs(void *data, void *data_end, __u32 pos, __u32 end, int n,
					__u32 *ulen)
{
	__u32 held = (__u32)(data_end - data), alen;
	struct stun_attr *a;
	int i;

	for (i = 0; i < n; i++) {
		if (pos + sizeof(*a) > end)
			return WALK_VERDICT | GB_PASS_ICE_NO_USERNAME;
		/*
		 * The frame's linear part is well under 16 KiB, the bound under which the verifier
		 * follows a variable packet offset.
		 */
		if (pos > 0x3fff)
			return WALK_VERDICT | GB_PASS_ICE_MALFORMED;
		/* Past the frame: the rest is in a later IP fragment, which cannot be read. */
		a = data + (pos & 0x3fff);
		if ((void *)(a + 1) > data_end)
			return WALK_VERDICT | GB_PASS_ICE_MALFORMED;
		alen = bpf_ntohs(a->len);
		if (pos + sizeof(*a) + alen > end)
			return WALK_VERDICT | GB_PASS_ICE_MALFORMED;
		if (a->type == bpf_htons(STUN_USERNAME)) {
			if (pos + sizeof(*a) + alen > held)
				return WALK_VERDICT | GB_PASS_ICE_MALFORMED;
			*ulen = alen;
			return WALK_FOUND | pos;
		}
		pos += sizeof(*a) + ((alen + 3) & ~3U);
	}
	return pos;
}

/*
 * The walk past the first GB_STUN_ATTRS_INLINE attributes, GB_STUN_ATTRS_STEP at a time: a
 * function of its own, so that the verifier follows each step once, not the whole walk's jumps.
 */
__noinline int stun_walk_on(struct xdp_md *ctx, __u32 pos, __u32 end)
{
	__u32 ulen;

	return (int)walk_attrs((void *)(long)ctx->data, (void *)(long)ctx->data_end, pos, end,
			       GB_STUN_ATTRS_STEP, &ulen);
}

/*
 * The ufrag slot a Binding Request names, at off (from the frame's start) to end (past the
 * frame's end in a first IP fragment, which holds only the message's start): returns the slot <<
 * 8, or a verdict reason; or 0 if the ufrag is short and its hash's high half is known (not 0),
 * without looking it up. *uh: the short ufrag's hash (else left). The server's ufrag is the first
 * USERNAME's part before ':' (RFC 8445 7.2.2; RFC 8489 14: the first of an attribute counts). A
 * function of its own, verified once: inlined, each way its loops end would be a state the
 * verifier walks the rest of the program with.
 */
__noinline int stun_ufrag(struct xdp_md *ctx, __u32 off, __u32 end, __u32 known, __u64 *uh)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ufrag_long_key *long_key;
	union {
		struct ufrag_key k;
		__u32 w[1 + GB_UFRAG_SHORT / 4];
	} key;
	__u32 zero = 0;
	__u64 head[HEAD_WORDS], kw[GB_UFRAG_SHORT / 8], h, *seed;
	__s32 left;
	struct stun_attr *a;
	__u8 *p;
	__u32 pos, alen, n, colon, slot;
	__u32 *found;
	int i;

	/*
	 * Every attribute up to the message's end or the frame's, whatever comes before USERNAME:
	 * a server may read USERNAME after an integrity check (RFC 8489 14.5 says to ignore it,
	 * not every stack does), so none that a server could take is out of the walk's reach.
	 */
	pos = walk_attrs(data, data_end, off + STUN_HDR_LEN, end, GB_STUN_ATTRS_INLINE, &alen);
	if (!(pos & (WALK_FOUND | WALK_VERDICT))) {
		for (i = 0; i < GB_STUN_ATTRS_MAX / GB_STUN_ATTRS_STEP; i++) {
			pos = (__u32)stun_walk_on(ctx, pos, end);
			if (pos & (WALK_FOUND | WALK_VERDICT))
				break;
		}
		if (!(pos & (WALK_FOUND | WALK_VERDICT)))
			return GB_PASS_ICE_MALFORMED;
		/* Found by the function: USERNAME's length read again (checked there). */
		if (pos & WALK_FOUND) {
			a = data + (pos & 0x3fff);
			if ((pos & ~WALK_FOUND) > 0x3fff || (void *)(a + 1) > data_end)
				return GB_PASS_ICE_MALFORMED;
			alen = bpf_ntohs(a->len);
		}
	}
	if (pos & WALK_VERDICT)
		return pos & 0xff;
	pos = (pos & ~WALK_FOUND) + sizeof(*a);

	/* Most ufrags are short: their ':' is within the first GB_UFRAG_SHORT + 1 bytes. */
	n = alen < GB_UFRAG_SHORT + 1 ? alen : GB_UFRAG_SHORT + 1;
	if (n == 0)
		return GB_PASS_ICE_MALFORMED;
	p = data + (pos & 0x3fff);
	if ((void *)(p + sizeof(head)) <= data_end) {
		/*
		 * Read in place (what follows USERNAME, at least its integrity checks, is there):
		 * the bytes past n are the packet's next, and a ':' among them, at n or past it,
		 * is taken below as none.
		 */
#pragma unroll
		for (i = 0; i < HEAD_WORDS; i++)
			head[i] = *(__u64 *)(p + i * 8);
		colon = first_colon(head, n);
	} else {
		__builtin_memset(head, 0, sizeof(head));
		if (bpf_xdp_load_bytes(ctx, pos, head, n))
			return GB_PASS_ICE_MALFORMED;
		colon = first_colon(head, n);
	}
	if (colon < n) {
		if (colon < GB_UFRAG_MIN || colon > GB_UFRAG_SHORT)
			return GB_PASS_ICE_UNKNOWN_UFRAG;
		/* The ufrag: the bytes of head, zero from its ':' on. */
#pragma unroll
		for (i = 0; i < GB_UFRAG_SHORT / 8; i++) {
			left = colon - i * 8;
			kw[i] = left <= 0 ? 0 : left < 8 ? head[i] & ((1ULL << (left * 8)) - 1) :
				head[i];
		}
		seed = bpf_map_lookup_elem(&ice_seed, &zero);
		h = gb_ufrag_hash(kw, colon, seed ? *seed : 0);
		if (uh)
			*uh = h;
		if (known && (__u32)(h >> 32) == known)
			return 0;
		slot = ufrag_in_line(h, 0) ?: ufrag_in_line(h, 1);
		if (slot)
			return slot << 8;
		/* Not in its lines (no room there, or written by an older controller): its key. */
		key.k.len = colon;
#pragma unroll
		for (i = 0; i < GB_UFRAG_SHORT / 8; i++) {
			key.w[1 + 2 * i] = (__u32)kw[i];
			key.w[2 + 2 * i] = (__u32)(kw[i] >> 32);
		}
		found = bpf_map_lookup_elem(&meeting_by_ufrag, &key.k);
		return found ? *found << 8 : GB_PASS_ICE_UNKNOWN_UFRAG;
	}
	if (n == alen)
		return GB_PASS_ICE_MALFORMED;

	/* A longer ufrag (or none): the ':' within the first GB_UFRAG_MAX + 1 bytes. */
	long_key = bpf_map_lookup_elem(&long_ufrag_scratch, &zero);
	if (!long_key)
		return GB_PASS_ICE_MALFORMED;
	__builtin_memset(long_key, 0, sizeof(*long_key));
	n = alen < GB_UFRAG_MAX ? alen : GB_UFRAG_MAX;
	if (bpf_xdp_load_bytes(ctx, pos, long_key->text, n))
		return GB_PASS_ICE_MALFORMED;
	for (colon = GB_UFRAG_SHORT; colon < GB_UFRAG_MAX; colon++)
		if (colon >= n || long_key->text[colon] == ':')
			break;
	if (colon == n && n < alen) {
		/* No ':' in the first GB_UFRAG_MAX bytes: a ufrag of exactly that length, or too long. */
		__u8 next;

		if (bpf_xdp_load_bytes(ctx, pos + n, &next, 1) || next != ':')
			return GB_PASS_ICE_UNKNOWN_UFRAG;
	} else if (colon == n) {
		return GB_PASS_ICE_MALFORMED;
	}
	/* The key is the ufrag alone, zero after it: read again, as long as it is. */
	__builtin_memset(long_key, 0, sizeof(*long_key));
	long_key->len = colon;
	if (bpf_xdp_load_bytes(ctx, pos, long_key->text, colon))
		return GB_PASS_ICE_MALFORMED;
	found = bpf_map_lookup_elem(&meeting_by_long_ufrag, long_key);
	return found ? *found << 8 : GB_PASS_ICE_UNKNOWN_UFRAG;
}

/*
 * A UDP packet to a shared port: its meeting is the one of the server ufrag its Binding Request
 * names, or, for anything but STUN (DTLS, SRTP, TURN channel data: RFC 7983), the one its sender
 * was learned for. Returns the meeting's verdict, or a reason to pass before one is found.
 */
static __always_inline int decide_shared(struct xdp_md *ctx, const struct cursor *c,
					 const struct packet *pkt, __u64 bytes)
{
	void *data = (void *)(long)ctx->data;
	__u8 *payload = c->pos + sizeof(struct udphdr);
	struct ice_tuple t = { .dport = pkt->dport, .family = pkt->family };
	struct l4_ports *ports = c->pos;
	__u32 slot, meeting_id, off, end, known, now;
	struct consent cs;
	struct bound_way b;
	struct ufrag_slot *u;
	__u64 h, uh = 0;
	int ret, country;

	if ((void *)(payload + 1) > c->end || *payload > 3) {
		__builtin_memcpy(t.saddr, pkt->saddr, 16);
		t.sport = ports->source;
		meeting_id = sender_meeting(&t, pkt, &country);
		if (!meeting_id)
			return GB_PASS_ICE_UNKNOWN_SENDER;
		return judge(meeting_id, pkt, bytes, country);
	}

	/* STUN (RFC 8489): a 20-byte header, then attributes, as long as its length says. */
	if ((void *)(payload + STUN_HDR_LEN) > c->end)
		return GB_PASS_ICE_MALFORMED;
	if (*(__be32 *)(payload + 4) != bpf_htonl(STUN_COOKIE) ||
	    (*(__be16 *)(payload + 2) & bpf_htons(3)))
		return GB_PASS_ICE_MALFORMED;
	if (*(__be16 *)payload != bpf_htons(STUN_BINDING_REQUEST))
		return GB_PASS_ICE_NOT_REQUEST;
	/* Past the frame: a first IP fragment (or a message cut short), read as far as it goes. */
	off = (void *)payload - data;
	end = off + STUN_HDR_LEN + bpf_ntohs(*(__be16 *)(payload + 2));

	__builtin_memcpy(t.saddr, pkt->saddr, 16);
	t.sport = ports->source;
	h = sender_hash(&t);
	/* The coarse clock: a tick's precision is plenty for 30 s, and it costs no clock read. */
	now = bpf_ktime_get_coarse_ns() / 1000000;
	/* Its entry read first, so that its line's miss overlaps the walk to USERNAME. */
	known = consent_of(h, now, &cs);
	ret = stun_ufrag(ctx, off, end, known, &uh);
	if (!ret) {
		/* A consent check of a sender bound to the ufrag it names: as a refresh. */
		count_ice(GB_ICE_REFRESHED);
		return judge(cs.e & GB_ICE_HOT_MEETING_MASK, pkt, bytes,
			     (cs.e >> GB_ICE_HOT_COUNTRY_SHIFT) & GB_ICE_HOT_COUNTRY_MASK);
	}
	if (ret & 0xff)
		return ret & 0xff;
	slot = (__u32)ret >> 8;
	u = bpf_map_lookup_elem(&ufrag_owner, &slot);
	if (!u)
		return GB_PASS_ICE_UNKNOWN_UFRAG;
	meeting_id = READ_ONCE(u->meeting_id);
	if (!meeting_id)
		return GB_PASS_ICE_UNKNOWN_UFRAG;
	country = LOOK_UP_COUNTRY;
	if (learn_sender(h, slot, u, now, &b) && meeting_id < GB_MAX_MEETINGS) {
		country = source_country(pkt);
		consent_put(&cs, &b, u, meeting_id, uh, country);
	}
	return judge(meeting_id, pkt, bytes, country);
}

static __always_inline int decide(struct xdp_md *ctx, __u64 bytes)
{
	struct cursor c = { .pos = (void *)(long)ctx->data, .end = (void *)(long)ctx->data_end };
	struct packet pkt = {};
	struct port_owner *owner;
	__u32 port;
	int ret;

	ret = parse_packet(&c, &pkt);
	if (ret < 0)
		return -1 - ret;

	port = pkt.dport;
	owner = bpf_map_lookup_elem(&meeting_by_port, &port);
	if (!owner)
		return GB_PASS_NO_MEETING;
	if (owner->meeting_id)
		return judge(owner->meeting_id, &pkt, bytes, LOOK_UP_COUNTRY);
	if ((owner->flags & GB_PORT_SHARED) && pkt.proto == IPPROTO_UDP)
		return decide_shared(ctx, &c, &pkt, bytes);
	return GB_PASS_NO_MEETING;
}

SEC("xdp")
int geoblock_xdp(struct xdp_md *ctx)
{
	__u64 bytes = ctx->data_end - ctx->data;
	__u32 reason = decide(ctx, bytes);

	count_verdict(reason, bytes);
	return reason == GB_DROP ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
