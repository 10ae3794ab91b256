/* SPDX-License-Identifier: GPL-2.0 */
/* The reference for shared ports: the STUN walk to a server ufrag, and the senders it learns. */
#ifndef GEOBLOCK_REF_ICE_H
#define GEOBLOCK_REF_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* As the design and RFCs 8445, 8489 and 8839 state them, not as bpf/geoblock.h defines them. */
#define REF_UFRAG_MIN		4
#define REF_UFRAG_MAX		256
#define REF_STICKY_NS		(30ULL * 1000000000ULL)

/* A ufrag the rules hold (a key of meeting_by_ufrag and its value). */
struct ref_ufrag {
	__u8 text[REF_UFRAG_MAX];
	size_t len;
	__u32 slot;
};

/* What ufrag_owner holds at a slot. */
struct ref_ufrag_slot {
	__u32 meeting;		/* 0: free */
	__u32 gen;
};

struct ref_ufrags {
	struct ref_ufrag *key;		/* the ufrags present, in no order */
	size_t nkeys;
	struct ref_ufrag_slot *slot;	/* by slot number */
	size_t nslots;
};

/* A sender to a shared port. */
struct ref_tuple {
	int family;		/* 4 or 6 */
	__u8 saddr[16];		/* IPv4 in the first 4 bytes, zero after */
	__u16 sport, dport;	/* host order */
};

struct ref_sender {
	struct ref_tuple t;
	__u32 slot, gen;	/* the ufrag its Binding Requests named */
	__u64 seen_ns;		/* the last one that bound or refreshed it */
	bool used;
};

/* The learned senders: no bound and no eviction, so a test keeps the number of senders low. */
struct ref_senders {
	struct ref_sender *v;
	size_t cap, n;
};

/* What the STUN walk makes of a payload, when it is not a verdict reason. */
enum { REF_STUN_MEDIA = -2, REF_STUN_UFRAG = -1 };

/*
 * The payload (len bytes, bounded by the frame) of a UDP datagram to a shared port:
 * REF_STUN_MEDIA for anything that is not STUN (RFC 7983's first byte), REF_STUN_UFRAG for a
 * Binding Request whose USERNAME names a server ufrag (*ufrag, *ufrag_len point into p), or the
 * verdict reason of a STUN message that names none.
 */
int ref_stun_walk(const __u8 *p, size_t len, const __u8 **ufrag, size_t *ufrag_len);

/* What a payload to a shared port leads to. */
struct ref_ice_result {
	int reason;		/* -1: a meeting was found, else the verdict reason */
	__u32 meeting;
	int stat;		/* enum ice_stat counted, -1 for none */
	bool learn;		/* a Binding Request of a ufrag: the sender's entry was considered */
};

/*
 * The meeting of a payload to a shared port from sender t at now_ns (CLOCK_MONOTONIC), learning
 * the sender from a Binding Request as the program does. Aborts if memory runs out.
 */
void ref_ice_meeting(const struct ref_ufrags *u, struct ref_senders *s, const struct ref_tuple *t,
		     __u64 now_ns, const __u8 *payload, size_t len, struct ref_ice_result *res);
/* The meeting of ufrag slot (slot, gen): 0 if the slot has been freed since, or is free. */
__u32 ref_ufrag_meeting(const struct ref_ufrags *u, __u32 slot, __u32 gen);
/* The ufrag of text, or NULL. */
const struct ref_ufrag *ref_ufrag_find(const struct ref_ufrags *u, const __u8 *text, size_t len);

struct ref_sender *ref_senders_find(const struct ref_senders *s, const struct ref_tuple *t);
/* Inserts t (not present) with the fields given; aborts if memory runs out. */
struct ref_sender *ref_senders_add(struct ref_senders *s, const struct ref_tuple *t);
void ref_senders_free(struct ref_senders *s);

#endif /* GEOBLOCK_REF_ICE_H */
