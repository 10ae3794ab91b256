/* SPDX-License-Identifier: GPL-2.0 */
/* The ABI shared by the XDP program and the controller: limits, map keys and values, counters. */
#ifndef GEOBLOCK_H
#define GEOBLOCK_H

#include <linux/types.h>
#include "table_layout.h"

/*
 * The version of everything pinned under the pin dir: map names, types, key and value layouts,
 * the numbers below that index pinned maps, and the table layout (table_layout.h). Stored in the
 * pinned map abi_version and checked by every command that opens the pins. Raise it with any
 * change an older geoblock or an attached older program would misread; docs/design.md, "Pinned
 * ABI and upgrades", says what an upgrade across versions takes.
 */
#define GB_ABI_VERSION		3

/*
 * Meeting ids are 1..GB_MAX_MEETINGS-1 (0 means "none"): 16,384 meetings and 63 slots more, so
 * that a full rule set can still replace a meeting make-before-break.
 */
#define GB_MAX_MEETINGS		16448
#define GB_MEETING_NAME_LEN	48
#define GB_PORT_COUNT		65536
#define GB_DROP_COUNTERS	65536	/* counters of (meeting, country) pairs; 0 is none */
#define GB_ALLOW_MAX		65536	/* allow exceptions (CIDRs) over all meetings */
#define GB_V4_PREFIXES_MAX	(4U << 20)
#define GB_V6_PREFIXES_MAX	(4U << 20)
#define GB_VLAN_MAX		2	/* 802.1Q/802.1ad tags parsed before the network header */
#define GB_IPV6_EXT_MAX		8	/* IPv6 extension headers walked before giving up */

/*
 * Shared ports (meetings told apart by ICE): a server's ufrag is 4..256 ice-chars (RFC 8839);
 * ufrags over all meetings; learned senders (5-tuples) kept, the longest silent of a set evicted.
 */
#define GB_UFRAG_MIN		4
#define GB_UFRAG_MAX		256
#define GB_UFRAG_SHORT		32	/* ufrags up to this long are keyed in meeting_by_ufrag */
#define GB_UFRAGS_MAX		262144
/*
 * Short ufrags laid out as the learned senders are (ufrag_sets): GB_UFRAG_SETS lines of
 * GB_UFRAG_WAYS ways, each way a ufrag's slot in its low GB_UFRAG_SLOT_BITS bits and the rest of
 * its hash above them; a ufrag's hash picks its first line and its second, for when the first is
 * full. meeting_by_ufrag keeps every short ufrag too: what finds no way is looked up there.
 */
#define GB_UFRAG_SETS		65536
#define GB_UFRAG_WAYS		8
#define GB_UFRAG_SLOT_BITS	18
#define GB_UFRAG_SLOT_MASK	((1ULL << GB_UFRAG_SLOT_BITS) - 1)
/*
 * Learned senders: a set-associative table, GB_ICE_SETS sets of GB_ICE_WAYS ways (one 64-byte
 * cache line each, so a media packet's lookup reads one line, two for the few in their second
 * set); a sender's two sets and its tag are its hash. A new sender takes a free way of its first
 * set, else of its second, else the way of the longest silent sender of the two.
 */
#define GB_ICE_SETS		524288
#define GB_ICE_WAYS		4
#define GB_ICE_TUPLES_MAX	(GB_ICE_SETS * GB_ICE_WAYS)
/*
 * Senders heard lately (ice_hot): a cache of ice_sender_sets small enough to stay in the CPU's
 * caches for 100,000 active senders (2 MiB, against the sets' 32 MiB), so that a media packet
 * reads one line of it rather than one of the sets. GB_ICE_HOT_LINES lines of GB_ICE_HOT_WAYS
 * entries; an entry names a way of ice_sender_sets (its set and its tag: the tag's low bits are
 * the line, the rest is kept), the meeting its binding resolved to and the country the live
 * tables gave its source (gb_ice_hot_id | country << GB_ICE_HOT_COUNTRY_SHIFT | meeting), 0 a
 * free entry. The data path fills it from media packets and clears an entry whenever the way it
 * names changes; the controller clears a meeting's entries when it frees or moves a ufrag of it,
 * and every entry when it puts new tables live (user/kern/hot.h). The first word of the line past
 * the data path's counts the controller's clearings: odd while one runs (or one stopped half
 * way), when the data path neither reads nor puts entries. An entry is put marked used
 * (GB_ICE_HOT_REF), and marked again when a packet finds it unmarked; a put into a full line takes
 * an unmarked entry, or, if every one is marked, unmarks them all and takes one at random: so the
 * entries of senders gone quiet go before those of senders still sending (not recently used).
 */
#define GB_ICE_HOT_LINES	32768
#define GB_ICE_HOT_CONTROL	GB_ICE_HOT_LINES	/* a line past them: the controller's */
#define GB_ICE_HOT_WAYS		8
/* hot_put picks ways by a mask: a power of two. */
_Static_assert((GB_ICE_HOT_WAYS & (GB_ICE_HOT_WAYS - 1)) == 0, "GB_ICE_HOT_WAYS: a power of two");
#define GB_ICE_HOT_LINE_BITS	15
#define GB_ICE_HOT_MEETING_BITS	15
#define GB_ICE_HOT_MEETING_MASK	((1ULL << GB_ICE_HOT_MEETING_BITS) - 1)
#define GB_ICE_HOT_ID_SHIFT	28
#define GB_ICE_HOT_USED		(1ULL << (GB_ICE_HOT_ID_SHIFT - 1))	/* in every entry */
#define GB_ICE_HOT_REF		(1ULL << (GB_ICE_HOT_ID_SHIFT - 2))	/* used lately */
#define GB_ICE_HOT_COUNTRY_SHIFT GB_ICE_HOT_MEETING_BITS
#define GB_ICE_HOT_COUNTRY_MASK	0x3ffULL	/* GB_COUNTRY_NONE to GB_COUNTRY_OTHER */
/*
 * Consent checks of senders in ice_hot (ice_consent): beside each entry of ice_hot, in a line of
 * its own at the same index, what a Binding Request put there: the high half of the hash of the
 * ufrag the sender's way was bound to (gb_ufrag_hash), the meeting that ufrag had, and the way's
 * time (seen_ms >> 10, its low GB_ICE_CONSENT_STAMP_BITS bits). A Binding Request whose sender
 * has an entry, naming that ufrag, of that meeting, within GB_ICE_CONSENT_FRESH units of the time,
 * is judged by the entry and does not read ufrag_sets, ufrag_owner or its sender's set: a known
 * sender's consent checks then refresh its way's time every GB_ICE_CONSENT_FRESH units, not each.
 * An entry put by media has none (0): whatever puts an entry rewrites the word beside it, so a
 * word left by a cleared entry is never read with another.
 */
#define GB_ICE_CONSENT_STAMP_BITS 17
#define GB_ICE_CONSENT_FRESH	8	/* units of 1.024 s: about 8 s */
/*
 * A Binding Request's attributes are walked to USERNAME, GB_STUN_ATTRS_INLINE of them in line (a
 * real ICE stack's USERNAME is among them), then up to GB_STUN_ATTRS_MAX more by a function
 * GB_STUN_ATTRS_STEP at a time: as many as fit in the 16 KiB of a frame's linear part the walk
 * reads (4 bytes each at least), so that no USERNAME a server could read is out of its reach.
 */
#define GB_STUN_ATTRS_INLINE	16
#define GB_STUN_ATTRS_STEP	256
#define GB_STUN_ATTRS_MAX	4096
/*
 * A sender's binding to a meeting holds while its Binding Requests keep coming (consent checks,
 * RFC 7675, come every ~5 s, and a sender stops after 30 s without): one naming another meeting
 * moves it only after that long a silence.
 */
#define GB_ICE_STICKY_NS	(30ULL * 1000000000ULL)

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
/*
 * In the data path's tables (lookup_live4, lookup_live_v6), compiled for the countries live
 * meetings block or monitor: every other country's ranges, merged. A value past every code, so no
 * meeting blocks it: its packets pass as "not_blocked", as they would with the country itself.
 */
#define GB_COUNTRY_OTHER	GB_COUNTRY_COUNT

/*
 * Value of lookup_cover (one element): the countries the live data-path tables were compiled for,
 * and which tables those are (the map ids of the inner maps of lookup_live4 and lookup_live_v6,
 * 0 for none). A record whose ids are not the live tables' describes nothing.
 */
struct lookup_cover {
	__u32 table_ids[2];
	__u64 countries[GB_COUNTRY_WORDS];
};

/* Bits of port_owner.flags (pinned). */
enum port_flags {
	GB_PORT_SHARED		= 1 << 0,	/* UDP to it is demultiplexed by ICE ufrag */
};

/* Value of meeting_by_port, indexed by UDP destination port. */
struct port_owner {
	__u32 meeting_id;	/* 0: port not owned by any meeting */
	__u32 flags;		/* enum port_flags; only with meeting_id 0 */
};

/*
 * Key of meeting_by_ufrag: a server ufrag of at most GB_UFRAG_SHORT characters (every ICE stack
 * seen: aiortc and Janus 4, Chrome 4, pion 16, webrtcbin 32), zero past len, so that a Binding
 * Request hashes 36 bytes, not 260; longer ones are keys of meeting_by_long_ufrag. The value is
 * the ufrag's slot in ufrag_owner, where the meeting is: a ufrag moves to another meeting (a
 * meeting replaced) in one update of its slot, and a learned sender dies with its ufrag (the
 * slot's gen changes when it is freed).
 */
struct ufrag_key {
	__u32 len;
	__u8 text[GB_UFRAG_SHORT];
};

struct ufrag_long_key {
	__u32 len;
	__u8 text[GB_UFRAG_MAX];
};

/* Value of ufrag_owner, indexed by ufrag slot (0 is never used). */
struct ufrag_slot {
	__u32 meeting_id;	/* 0: free */
	__u32 gen;		/* raised each time the slot is freed */
};

/* Value of ufrag_sets: a cache line of ways, 0 a free one. */
struct ufrag_line {
	__u64 way[GB_UFRAG_WAYS];
};

/* A sender to a shared port: what ice_sender_sets is keyed by (its hash, gb_ice_hash). */
struct ice_tuple {
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__be16 sport;
	__u16 dport;		/* host order */
	__u8 family;
	__u8 pad[3];
};

/* A learned sender as the controller and the tests see it (user/kern/senders.h). */
struct ice_sender {
	__u32 slot;
	__u32 gen;
	__u64 seen_ns;		/* its last Binding Request naming that ufrag (coarse, ms precision) */
};

/*
 * A way of ice_sender_sets. Written in the order bind, seen_ms, tag and read tag first, so that
 * a reader that finds a tag sees a binding written for it (or, while the way is being given to
 * another sender, that sender's: a packet of the evicted sender may meet the new binding).
 */
struct ice_way {
	__u32 tag;		/* the high half of the sender's hash, never 0; 0: a free way */
	__u32 seen_ms;		/* its last Binding Request naming that ufrag (coarse, ms, wraps) */
	__u64 bind;		/* the ufrag it is bound to: slot | (__u64)gen << 32 */
};

/* Value of ice_sender_sets: a cache line. */
struct ice_sender_set {
	struct ice_way way[GB_ICE_WAYS];
};

/*
 * The hash of a sender under the pinned seed (ice_seed, random at the pins' making): it chooses
 * the sender's two sets, and its high half is the tag. Not a cryptographic hash; what a collision can
 * do, a forged Binding Request can do too (docs/design.md, threat model). The tuple's three words
 * are multiplied apart, so that the CPU overlaps their products, then mixed by MurmurHash3's
 * finalizer: a media packet waits for the hash before it reads its line of ice_hot, and six
 * rounds one after the other made RTP take 1.5-1.8 ns longer (docs/benchmarks.md).
 */
static inline __u64 gb_ice_hash(const struct ice_tuple *t, __u64 seed)
{
	__u64 w[3], a, b, c, h;

	__builtin_memcpy(w, t, sizeof(w));
	a = (w[0] ^ seed) * 0x9e3779b97f4a7c15ULL;
	b = (w[1] ^ (seed >> 21 | seed << 43)) * 0xc2b2ae3d27d4eb4fULL;
	c = (w[2] ^ (seed >> 42 | seed << 22)) * 0xff51afd7ed558ccdULL;
	h = a ^ (b >> 32 | b << 32) ^ c;
	h = (h ^ h >> 33) * 0xff51afd7ed558ccdULL;
	h = (h ^ h >> 33) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 33;
}

/* The sender's first (which 0) and second (1) set. */
static inline __u32 gb_ice_set_of(__u64 h, int which)
{
	if (which)
		h = (h ^ (h >> 29)) * 0xc4ceb9fe1a85ec53ULL;
	return (__u32)(h ^ (h >> 32)) & (GB_ICE_SETS - 1);
}

static inline __u32 gb_ice_tag_of(__u64 h)
{
	return (__u32)(h >> 32) ?: 1;
}

/* Value of ice_hot: a cache line of entries. */
struct ice_hot_line {
	__u64 e[GB_ICE_HOT_WAYS];
};

/* The line of ice_hot where the sender of tag has its entry. */
static inline __u32 gb_ice_hot_line_of(__u32 tag)
{
	return tag & (GB_ICE_HOT_LINES - 1);
}

/* What names the way (set, tag) in its entry: the set, the tag's bits above the line's, a mark. */
static inline __u64 gb_ice_hot_id(__u32 set, __u32 tag)
{
	return ((__u64)set << (32 - GB_ICE_HOT_LINE_BITS) | tag >> GB_ICE_HOT_LINE_BITS)
		<< GB_ICE_HOT_ID_SHIFT | GB_ICE_HOT_USED;
}

/* Whether entry e names the way whose id is id (what gb_ice_hot_id gives; a free entry none). */
static inline int gb_ice_hot_names(__u64 e, __u64 id)
{
	return !((e ^ id) >> (GB_ICE_HOT_ID_SHIFT - 1));
}

/* What ice_consent holds for ufrag hash uh of meeting at way time seen_ms. */
static inline __u64 gb_ice_consent(__u64 uh, __u32 meeting, __u32 seen_ms)
{
	return (uh >> 32) << 32 | (__u64)meeting << GB_ICE_CONSENT_STAMP_BITS |
	       (seen_ms >> 10 & ((1U << GB_ICE_CONSENT_STAMP_BITS) - 1));
}

/*
 * The high half of the ufrag hash a consent check may name to be judged by entry e, if c (its
 * ice_consent) is of e's meeting and fresh at now_ms; 0 if not.
 */
static inline __u32 gb_ice_consent_ufrag(__u64 c, __u64 e, __u32 now_ms)
{
	__u32 mask = (1U << GB_ICE_CONSENT_STAMP_BITS) - 1;

	if (((c >> GB_ICE_CONSENT_STAMP_BITS) & GB_ICE_HOT_MEETING_MASK) !=
	    (e & GB_ICE_HOT_MEETING_MASK) ||
	    (((now_ms >> 10) - ((__u32)c & mask)) & mask) >= GB_ICE_CONSENT_FRESH)
		return 0;
	return c >> 32;
}

/*
 * The hash of a short ufrag under ice_seed: w its text as 8-byte words in the host's order, zero
 * past len. Its low bits pick its lines, and its bits above GB_UFRAG_SLOT_BITS are kept in its way.
 * Inlined always: clang made it a function of its own in the data path, a call per request.
 */
static inline __attribute__((always_inline)) __u64 gb_ufrag_hash(const __u64 *w, __u32 len,
								   __u64 seed)
{
	__u64 h = (seed ^ 0x9e3779b97f4a7c15ULL) + len;
	int i;

#ifdef __bpf__
#pragma unroll
#endif
	for (i = 0; i < GB_UFRAG_SHORT / 8; i++) {
		if (i * 8 < (int)len) {
			h = (h ^ w[i]) * 0xff51afd7ed558ccdULL;
			h ^= h >> 32;
		}
	}
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}

/*
 * The ufrag's first (which 0) and second (1) line of ufrag_sets: the second from the hash mixed
 * again, so that two ufrags sharing it need not share any bits their ways compare.
 */
static inline __u32 gb_ufrag_line_of(__u64 h, int which)
{
	if (which)
		h = ((h ^ (h >> 29)) * 0xc4ceb9fe1a85ec53ULL) >> 32;
	return (__u32)h & (GB_UFRAG_SETS - 1);
}

/* Its way in either line, for slot: the hash's high bits, the slot in the low ones. */
static inline __u64 gb_ufrag_way(__u64 h, __u32 slot)
{
	return (h & ~GB_UFRAG_SLOT_MASK) | slot;
}

/* Bits of meeting_policy.flags (pinned): fixed values, as the verdict reasons. */
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
	__u16 pad[3];		/* to a multiple of 8, an array element's size: mapped as is */
};

/* Value of drop_counts (per-CPU array): what was dropped (or would be, in monitor mode). */
struct drop_counter {
	__u64 packets;
	__u64 bytes;
	__u64 monitor_packets;
	__u64 monitor_bytes;
};

/*
 * Why a packet got its verdict; every packet is counted under exactly one reason in verdict_stats.
 * The numbers index the pinned verdict_stats and name metrics and JSON fields (kern/verdicts.c):
 * they are numbered by hand and never change; a reason retired keeps its number, renamed
 * GB_REASON_UNUSED_n, and a new one takes the next number before GB_REASON_COUNT.
 */
enum verdict_reason {
	GB_PASS_NOT_IP		= 0,	/* not IPv4/IPv6 (ARP, LLDP, ...) */
	GB_PASS_OTHER_PROTO	= 1,	/* IP, but neither UDP nor TCP (ICMP, ESP, ...) */
	GB_PASS_FRAGMENT	= 2,	/* a non-first fragment: no ports to read */
	GB_PASS_PARSE_ERROR	= 3,	/* truncated or malformed headers */
	GB_PASS_NO_MEETING	= 4,	/* destination port belongs to no meeting */
	GB_PASS_NOT_COVERED	= 5,	/* TCP (UDP) to a meeting that covers only UDP (TCP) */
	GB_PASS_EXPIRED		= 6,	/* the meeting's rule has expired */
	GB_PASS_NO_COUNTRY	= 7,	/* source address has no country in the GeoIP table */
	GB_PASS_NOT_BLOCKED	= 8,	/* country not on the meeting's block list */
	GB_PASS_ALLOWED		= 9,	/* blocked country, but inside an allow exception */
	GB_PASS_MONITOR		= 10,	/* would be dropped, but the meeting is in monitor mode */
	GB_DROP			= 11,	/* dropped: meeting port, blocked country, enforce mode */
	/* On a shared port, before a meeting is found (after, the reasons above apply): */
	GB_PASS_ICE_NOT_REQUEST	= 12,	/* STUN, but not a Binding Request (responses, indications) */
	GB_PASS_ICE_MALFORMED	= 13,	/* STUN cut short or malformed; USERNAME without ':' */
	GB_PASS_ICE_NO_USERNAME	= 14,	/* a Binding Request without USERNAME in its first attributes */
	GB_PASS_ICE_UNKNOWN_UFRAG = 15,	/* a Binding Request to a ufrag no meeting has */
	GB_PASS_ICE_UNKNOWN_SENDER = 16,	/* not STUN, from a sender no Binding Request named */
	GB_REASON_COUNT		= 17,
};

/* Value of verdict_stats (per-CPU array indexed by enum verdict_reason). */
struct verdict_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * Indexes of ice_stats (per-CPU array of __u64): how senders on shared ports are learned. Numbered
 * by hand, as the verdict reasons.
 */
enum ice_stat {
	GB_ICE_LEARNED		= 0,	/* a sender new to ice_sender_sets (or evicted from it before) */
	GB_ICE_REFRESHED	= 1,	/* a learned sender's Binding Request naming the same ufrag */
	GB_ICE_MOVED		= 2,	/* a sender silent past GB_ICE_STICKY_NS, now naming another */
	GB_ICE_KEPT		= 3,	/* a sender naming another ufrag while its binding holds */
	GB_ICE_REBOUND		= 4,	/* a sender whose ufrag is gone, or of the same meeting */
	GB_ICE_STAT_COUNT	= 5,
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

_Static_assert(sizeof(struct port_owner) == 8, "port_owner layout");
_Static_assert(sizeof(struct meeting_policy) == 24 + 8 * GB_COUNTRY_WORDS + GB_MEETING_NAME_LEN,
	       "meeting_policy layout");
_Static_assert(sizeof(struct lpm_v4_key) == 8, "lpm_v4_key layout");
_Static_assert(sizeof(struct lpm_v6_key) == 20, "lpm_v6_key layout");
_Static_assert(sizeof(struct country_entry) == 4, "country_entry layout");
_Static_assert(sizeof(struct drop_slots) == 2 * GB_COUNTRY_COUNT + 6 &&
	       sizeof(struct drop_slots) % 8 == 0 && GB_DROP_COUNTERS <= 65536,
	       "drop_slots layout");
_Static_assert(sizeof(struct prefix_v4_elem) == 8 && sizeof(struct prefix_v6_elem) == 20,
	       "prefix element layout");
_Static_assert(GB_T6_ALIAS_BASE + 128 < GB_DXR6_REFINE && GB_COUNTRY_COUNT < GB_T6_ALIAS_BASE,
	       "value ranges must not overlap");
_Static_assert(GB_COUNTRY_OTHER < 64 * GB_COUNTRY_WORDS && GB_COUNTRY_OTHER < GB_T6_ALIAS_BASE &&
	       GB_COUNTRY_OTHER != GB_COUNTRY_V4_ALIAS, "the other countries' value is no code");
_Static_assert(sizeof(struct lookup_cover) == 8 + 8 * GB_COUNTRY_WORDS, "lookup_cover layout");
_Static_assert(sizeof(struct geoip_info) == 8 * 4 + 4 * 4 + 256 + 64, "geoip_info layout");
_Static_assert(sizeof(struct ufrag_key) == 4 + GB_UFRAG_SHORT, "ufrag_key layout");
_Static_assert(sizeof(struct ufrag_long_key) == 4 + GB_UFRAG_MAX, "ufrag_long_key layout");
_Static_assert(sizeof(struct ufrag_slot) == 8, "ufrag_slot layout");
_Static_assert(sizeof(struct ufrag_line) == 64 && GB_UFRAGS_MAX <= (1 << GB_UFRAG_SLOT_BITS) &&
	       GB_UFRAG_SHORT % 8 == 0, "ufrag_sets layout");
_Static_assert(sizeof(struct ice_tuple) == 24, "ice_tuple layout");
_Static_assert(sizeof(struct ice_sender) == 16, "ice_sender layout");
_Static_assert(sizeof(struct ice_way) == 16, "ice_way layout");
_Static_assert(sizeof(struct ice_sender_set) == 64, "ice_sender_set layout");
_Static_assert(sizeof(struct ice_hot_line) == 64 && GB_ICE_SETS <= (1 << 19) &&
	       GB_ICE_HOT_LINES == (1 << GB_ICE_HOT_LINE_BITS) &&
	       GB_MAX_MEETINGS <= (1 << GB_ICE_HOT_MEETING_BITS) &&
	       GB_ICE_HOT_ID_SHIFT + 19 + 32 - GB_ICE_HOT_LINE_BITS == 64 &&
	       GB_ICE_HOT_MEETING_BITS < GB_ICE_HOT_ID_SHIFT - 1 &&
	       GB_ICE_CONSENT_STAMP_BITS + GB_ICE_HOT_MEETING_BITS <= 32 &&
	       GB_COUNTRY_OTHER <= GB_ICE_HOT_COUNTRY_MASK &&
	       GB_ICE_HOT_COUNTRY_MASK << GB_ICE_HOT_COUNTRY_SHIFT < GB_ICE_HOT_REF, "ice_hot layout");
_Static_assert(sizeof(struct allow_v4_key) == 12, "allow_v4_key layout");
_Static_assert(sizeof(struct allow_v6_key) == 24, "allow_v6_key layout");

#endif /* GEOBLOCK_H */
