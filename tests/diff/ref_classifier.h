/* SPDX-License-Identifier: GPL-2.0 */
/* The reference classifier: what DESIGN.md and docs/design.md say the XDP program decides. */
#ifndef GEOBLOCK_REF_CLASSIFIER_H
#define GEOBLOCK_REF_CLASSIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "geoblock.h"
#include "ref_lpm.h"
#include "ref_ice.h"

struct ref_cidr {
	__u8 family;		/* 4 or 6 */
	__u8 len;
	__u8 addr[16];		/* IPv4 in the first 4 bytes */
};

struct ref_meeting {
	__u32 flags;		/* enum meeting_flags; 0 for a free slot */
	__u64 expires_tai_ns;	/* 0: never */
	__u64 blocked[GB_COUNTRY_WORDS];
	struct ref_cidr *allow;	/* the allow exceptions */
	size_t nallow;
};

/* A rule set and a GeoIP table, as the reference sees them. */
struct ref_rules {
	__u32 owner[GB_PORT_COUNT];	/* meeting id by destination port; 0: none */
	__u32 port_flags[GB_PORT_COUNT];	/* enum port_flags: GB_PORT_SHARED */
	struct ref_ufrags ufrags;		/* the ufrags of meetings on shared ports */
	struct ref_meeting meeting[GB_MAX_MEETINGS];
	const struct ref_lpm *country_v4, *country_v6;	/* values: country ids (v6: or alias) */
	__u64 now_tai_ns;
};

/* A verdict: the reason it is counted under, and the pair of a drop or monitor hit. */
struct ref_verdict {
	int reason;		/* enum verdict_reason */
	__u32 meeting;
	__u16 country;
	/*
	 * -1, or when the walk stopped at an IPv6 extension header that runs past the end of the
	 * frame: the protocol that header says comes next (see the known differences in
	 * diff_packets.c).
	 */
	int cut_ext_next;
	/* On a shared port: */
	bool shared;		/* UDP to a shared port: decided by ICE */
	bool stun;		/* ... and the payload is STUN (else media) */
	int ice_stat;		/* enum ice_stat the frame counts, -1 for none */
	bool learn;		/* a Binding Request of a ufrag: its sender's entry considered */
	struct ref_tuple sender;	/* the sender, with shared */
};

/*
 * The verdict of a frame; frames to shared ports learn their senders in s, now_ns the time
 * (CLOCK_MONOTONIC) the program sees.
 */
void ref_classify(const struct ref_rules *r, struct ref_senders *s, __u64 now_ns,
		  const __u8 *frame, size_t len, struct ref_verdict *v);
/* The country of a source address (IPv4 in the first 4 bytes); GB_COUNTRY_NONE for none. */
__u16 ref_country(const struct ref_rules *r, int family, const __u8 *addr);

#endif /* GEOBLOCK_REF_CLASSIFIER_H */
