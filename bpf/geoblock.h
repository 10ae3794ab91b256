/* SPDX-License-Identifier: GPL-2.0 */
/* The ABI shared by the XDP program and the controller: limits, map keys and values, counters. */
#ifndef GEOBLOCK_H
#define GEOBLOCK_H

#include <linux/types.h>

#define GB_MAX_MEETINGS		4096	/* meeting ids are 1..GB_MAX_MEETINGS-1; 0 means "none" */
#define GB_MEETING_NAME_LEN	48
#define GB_PORT_COUNT		65536
#define GB_DROP_COUNTERS	65536	/* counters of (meeting, country) pairs; 0 is none */
#define GB_ALLOW_MAX		65536	/* allow exceptions (CIDRs) over all meetings */
#define GB_V4_PREFIXES_MAX	(4U << 20)
#define GB_V6_PREFIXES_MAX	(4U << 20)
#define GB_VLAN_MAX		2	/* 802.1Q/802.1ad tags parsed before the network header */
#define GB_IPV6_EXT_MAX		8	/* IPv6 extension headers walked before giving up */

/*
 * Countries are ISO 3166-1 alpha-2 codes packed as 1 + (c0 - 'A') * 26 + (c1 - 'A'), so every code
 * fits in a bit of struct meeting_policy's block set; 0 means "no country known".
 */
#define GB_COUNTRY_NONE		0
#define GB_COUNTRY_COUNT	(1 + 26 * 26)
#define GB_COUNTRY_WORDS	((GB_COUNTRY_COUNT + 63) / 64)
/*
 * Value of an IPv6 table entry whose prefix is an alias of the IPv4 table (as ::ffff:0:0/96 and
 * 2002::/16 are in MaxMind databases): the IPv4 address is the 32 bits that follow the prefix.
 */
#define GB_COUNTRY_V4_ALIAS	0xffff

/* Value of meeting_by_port, indexed by UDP destination port. */
struct port_owner {
	__u32 meeting_id;	/* 0: port not owned by any meeting */
};

enum meeting_flags {
	GB_MEETING_ACTIVE	= 1 << 0,	/* set last when adding, cleared first when deleting */
	GB_MEETING_MONITOR	= 1 << 1,	/* count what would be dropped, drop nothing */
	GB_MEETING_UDP		= 1 << 2,	/* the meeting covers UDP to its ports */
	GB_MEETING_TCP		= 1 << 3,	/* ... and TCP (ICE-TCP, TLS fallback) */
	GB_MEETING_ALLOWS	= 1 << 4,	/* has allow exceptions: consult allow_v4/allow_v6 */
};

/* Value of meeting_policy, indexed by meeting id. */
struct meeting_policy {
	__u32 flags;				/* enum meeting_flags */
	__u32 expires_unix;			/* the expiry as given, unix seconds; 0: never */
	__u64 created;				/* unix seconds */
	__u64 expires_tai_ns;			/* the same in CLOCK_TAI, checked in the data path */
	__u64 blocked[GB_COUNTRY_WORDS];	/* bit per country id */
	char name[GB_MEETING_NAME_LEN];		/* NUL-terminated; empty for a free slot */
};

/*
 * Keys of the allow-exception LPM tries: the meeting id (big-endian, so that it is part of the
 * matched prefix) then the address; prefixlen counts the 32 meeting bits too.
 */
struct allow_v4_key {
	__u32 prefixlen;
	__be32 meeting_id;
	__u8 addr[4];
};

struct allow_v6_key {
	__u32 prefixlen;
	__be32 meeting_id;
	__u8 addr[16];
};

/* Key and value of the GeoIP LPM tries (inner maps of country_v4 / country_v6). */
struct lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct lpm_v6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct country_entry {
	__u16 country;		/* country id, or GB_COUNTRY_V4_ALIAS in the IPv6 table */
	__u8 prefixlen;		/* prefix length of the network, so lookups can name the match */
	__u8 pad;
};

/*
 * The compiled lookup tables, the fast path (the LPM tries stay as the reference): one array map
 * per family, swapped as a whole; the cost of a lookup does not grow with the number of prefixes.
 *
 * IPv4 is a range table (after DXR): elements of GB_DXR_ELEM_BYTES. Element 0 is the directory,
 * 2^16 __u64 entries indexed by the top 16 bits of the address: either GB_DXR_LEAF | country, for
 * a /16 of one country, or (base << 32) | count: the /16 is cut into count ranges, __u32 entries
 * base .. base + count - 1 of the range space (range i is entry i % GB_DXR_ELEM_RANGES of element
 * 1 + i / GB_DXR_ELEM_RANGES; a /16's ranges never straddle two elements), sorted, the first
 * starting at 0. A range entry is (first address of the range, low 16 bits) << 16 | country. A
 * lookup is a directory read and a binary search of at most 16 steps in 3-4 MiB that stay in cache.
 *
 * IPv6 is a range table over three slices of the address: bits 16..63, 64..111 and 112..127.
 * Element 0 holds the directory (2^16 __u64 by the top 16 bits), from GB_DXR6_SUBDIR_OFF the
 * sub-directories (256 __u64 each, by bits 16..23, for /16s with many ranges), and from
 * GB_DXR6_REFINE_OFF one __u64 per refined block. Each of these is GB_DXR_LEAF | value, or
 * GB_DXR6_SUBDIR | sub-directory number (directory only), or a group of count sorted ranges:
 * (base << 32) | levels << GB_DXR6_LEVELS_SHIFT | count, in the range space from base on (as for
 * IPv4, GB_DXR6_ELEM_RANGES __u64 per element, a group never straddling two). A range is
 * key << 16 | value, key the slice's 48 bits where it starts (bits 112..127 are shifted left by
 * 32). A value is a country id, GB_T6_ALIAS_BASE + prefix length (an alias of the IPv4 table: the
 * 32 bits after the prefix are the IPv4 address), or GB_DXR6_REFINE + n: the /64 (or /112) that
 * starts there is cut further by the next slice, in refined block n.
 *
 * A group is a static B+ tree of blocks of GB_DXR6_FANOUT __u64, one cache line each (base is a
 * multiple of GB_DXR6_FANOUT, and elements are page-aligned), so that a lookup reads one line per
 * level instead of one per binary search step. Level 0 holds the ranges, padded to whole blocks
 * with copies of the last one; level i + 1 holds the key (not shifted) of the first range of each
 * block of level i, padded with GB_DXR6_KEY_PAD, which is above every key. Level i has
 * gb_dxr6_level_size(count, i) entries; the top level, levels - 1, is one block. The levels are
 * stored from the top down: the top at base, each next one right after the one above it.
 */
#define GB_DXR_ELEM_BYTES	(1U << 22)	/* the largest array value the kernel accepts */
#define GB_DXR_ELEM_RANGES	(GB_DXR_ELEM_BYTES / 4)
#define GB_DXR_LEAF		(1ULL << 63)
#define GB_DXR_MAX_STEPS	17		/* binary search over at most 2^16 ranges */
#define GB_T6_ALIAS_BASE	1024
#define GB_DXR6_ELEM_RANGES	(GB_DXR_ELEM_BYTES / 8)
#define GB_DXR6_SUBDIR		(1ULL << 62)
#define GB_DXR6_SUBDIR_OFF	65536
#define GB_DXR6_MAX_SUBDIRS	1024
#define GB_DXR6_REFINE_OFF	(GB_DXR6_SUBDIR_OFF + GB_DXR6_MAX_SUBDIRS * 256)
#define GB_DXR6_MAX_REFINES	32768
#define GB_DXR6_REFINE		0x8000
#define GB_DXR6_FANOUT		8		/* __u64 per block: a cache line */
#define GB_DXR6_MAX_LEVELS	7		/* 8^7 ranges in a group: more than GB_DXR6_MAX_RANGES */
#define GB_DXR6_MAX_RANGES	(1U << 20)
#define GB_DXR6_LEVELS_SHIFT	28
#define GB_DXR6_COUNT_MASK	((1U << GB_DXR6_LEVELS_SHIFT) - 1)
#define GB_DXR6_KEY_PAD		(1ULL << 62)

/* Entries of level i of a B+ tree group of count ranges: blocks of GB_DXR6_FANOUT, rounded up. */
static inline __u32 gb_dxr6_level_size(__u32 count, __u32 level)
{
	__u32 shift = 3 * (level + 1);

	return ((count + (1U << shift) - 1) >> shift) << 3;
}

/* Elements of the prefix lists (read by the controller only): the networks of the loaded table. */
struct prefix_v4_elem {
	__u8 addr[4];
	__u8 len;
	__u8 pad;
	__u16 country;
};

struct prefix_v6_elem {
	__u8 addr[16];
	__u8 len;
	__u8 pad;
	__u16 country;
};

/*
 * Value of drop_slot, indexed by meeting id: for each country the meeting blocks, the index of its
 * counter in drop_counts (0, a counter nobody reads, for the others). The controller assigns the
 * counters when it writes the meeting and frees them with it; a meeting's block list never
 * changes under its id (a change makes a new meeting), so neither does this.
 */
struct drop_slots {
	__u16 slot[GB_COUNTRY_COUNT];
	__u16 pad;
};

/* Value of drop_counts (per-CPU array): what was dropped (or would be, in monitor mode). */
struct drop_counter {
	__u64 packets;
	__u64 bytes;
	__u64 monitor_packets;
	__u64 monitor_bytes;
};

/* Why a packet got its verdict; every packet is counted under exactly one reason in verdict_stats. */
enum verdict_reason {
	GB_PASS_NOT_IP,		/* not IPv4/IPv6 (ARP, LLDP, ...) */
	GB_PASS_OTHER_PROTO,	/* IP, but neither UDP nor TCP (ICMP, ESP, unknown header, ...) */
	GB_PASS_FRAGMENT,	/* a non-first fragment: no ports to read */
	GB_PASS_PARSE_ERROR,	/* truncated or malformed headers */
	GB_PASS_NO_MEETING,	/* destination port belongs to no meeting */
	GB_PASS_NOT_COVERED,	/* TCP (UDP) to a meeting that covers only UDP (TCP) */
	GB_PASS_EXPIRED,	/* the meeting's rule has expired */
	GB_PASS_NO_COUNTRY,	/* source address has no country in the GeoIP table */
	GB_PASS_NOT_BLOCKED,	/* country not on the meeting's block list */
	GB_PASS_ALLOWED,	/* blocked country, but inside one of the meeting's allow exceptions */
	GB_PASS_MONITOR,	/* would be dropped, but the meeting is in monitor mode */
	GB_DROP,		/* dropped: meeting port, blocked country, enforce mode */
	GB_REASON_COUNT,
};

/* Value of verdict_stats (per-CPU array indexed by enum verdict_reason). */
struct verdict_counter {
	__u64 packets;
	__u64 bytes;
};

/* Value of geoip_info[0]: what the loaded GeoIP table is; written by the controller only. */
struct geoip_info {
	__u64 loaded_at;	/* unix seconds of the last successful load; 0: nothing loaded */
	__u64 build_epoch;	/* the database's own build time */
	__u32 v4_prefixes;
	__u32 v6_prefixes;
	__u32 v4_networks;	/* networks read from the source, before merging */
	__u32 v6_networks;
	__u64 failed_reloads;	/* loads refused since the pins were created (kept across loads) */
	__u64 last_failure_at;	/* unix seconds of the last refused load */
	char source[256];
	char database_type[64];
};

_Static_assert(sizeof(struct port_owner) == 4, "port_owner layout");
_Static_assert(sizeof(struct meeting_policy) == 24 + 8 * GB_COUNTRY_WORDS + GB_MEETING_NAME_LEN,
	       "meeting_policy layout");
_Static_assert(sizeof(struct lpm_v4_key) == 8, "lpm_v4_key layout");
_Static_assert(sizeof(struct lpm_v6_key) == 20, "lpm_v6_key layout");
_Static_assert(sizeof(struct country_entry) == 4, "country_entry layout");
_Static_assert(sizeof(struct drop_slots) == 2 * GB_COUNTRY_COUNT + 2 && GB_DROP_COUNTERS <= 65536,
	       "drop_slots layout");
_Static_assert((GB_DXR6_REFINE_OFF + GB_DXR6_MAX_REFINES) * 8 <= GB_DXR_ELEM_BYTES,
	       "the IPv6 directory area fits one element");
_Static_assert((1U << 16) * 8 <= GB_DXR_ELEM_BYTES, "the IPv4 directory fits one element");
_Static_assert(sizeof(struct prefix_v4_elem) == 8 && sizeof(struct prefix_v6_elem) == 20,
	       "prefix element layout");
_Static_assert(GB_T6_ALIAS_BASE + 128 < GB_DXR6_REFINE && GB_COUNTRY_COUNT < GB_T6_ALIAS_BASE,
	       "value ranges must not overlap");
_Static_assert(sizeof(struct geoip_info) == 8 * 4 + 4 * 4 + 256 + 64, "geoip_info layout");
_Static_assert(sizeof(struct allow_v4_key) == 12, "allow_v4_key layout");
_Static_assert(sizeof(struct allow_v6_key) == 24, "allow_v6_key layout");

#endif /* GEOBLOCK_H */
