// SPDX-License-Identifier: GPL-2.0
/*
 * The reference for shared ports (issue 15), written from the rules as the design states them and
 * from the RFCs, not from bpf/geoblock.bpf.c:
 *  - The payload is what follows the 8-byte UDP header, up to the end of the frame (the UDP length
 *    field is not read). Empty, or a first byte above 3 (RFC 7983: 20-63 DTLS, 64-79 TURN
 *    channels, 128-191 RTP/RTCP, and anything else that is not STUN): media, whose meeting is the
 *    one its sender (address, port, destination port) was learned for, if that ufrag is still
 *    the one learned (same slot, same generation) and has a meeting; else "unknown sender".
 *  - STUN (RFC 8489): a 20-byte header (type, length, magic cookie 0x2112A442, transaction id).
 *    Shorter, another cookie, or a length that is not a multiple of 4: malformed. Not a Binding
 *    Request (0x0001): "not a request". Bytes after the message (Ethernet padding) are ignored; a
 *    message longer than the frame (a first IP fragment) is read as far as the frame goes.
 *  - The attributes (type, length, value padded to 4), all of them, whatever they are (a server
 *    may read past an integrity check): the first USERNAME (0x0006) ends the walk; fewer than 4
 *    bytes left in the message: no USERNAME. A value past the message, or the frame ending before
 *    an attribute's type and length or before USERNAME's value: malformed.
 *  - USERNAME is SERVER:CLIENT (RFC 8445 7.2.2); the server ufrag is 4 to 256 characters (RFC 8839).
 *    Empty, or without ':' (in its first 256 bytes, all it has): malformed. Longer than 256 bytes
 *    without ':' in its first 257: a ufrag no meeting can have. Shorter than 4: the same.
 *  - The ufrag's slot, and the slot's meeting: none is "unknown ufrag". Found, the sender is
 *    learned for that ufrag (new, or the same ufrag again: bound to it now), unless it is bound to
 *    another meeting by a ufrag still live and was bound or refreshed less than 30 s ago (RFC
 *    7675's consent window): then it keeps its binding. The Binding Request itself goes to its
 *    ufrag's meeting either way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "geoblock.h"
#include "ref_ice.h"

#define STUN_HEADER		20
#define STUN_MAGIC		0x2112A442u
#define STUN_BINDING_REQUEST	0x0001
#define ATTR_USERNAME		0x0006

static unsigned int be16(const __u8 *p)
{
	return (unsigned int)p[0] << 8 | p[1];
}

static __u32 be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

int ref_stun_walk(const __u8 *p, size_t len, const __u8 **ufrag, size_t *ufrag_len)
{
	size_t end, at, user_len, look, alen = 0;
	const __u8 *user, *colon;

	if (len == 0 || p[0] > 3)
		return REF_STUN_MEDIA;
	if (len < STUN_HEADER || be32(p + 4) != STUN_MAGIC || be16(p + 2) % 4)
		return GB_PASS_ICE_MALFORMED;
	if (be16(p) != STUN_BINDING_REQUEST)
		return GB_PASS_ICE_NOT_REQUEST;
	end = STUN_HEADER + be16(p + 2);

	for (at = STUN_HEADER;; at += 4 + (alen + 3) / 4 * 4) {
		unsigned int type;

		if (end < at + 4)
			return GB_PASS_ICE_NO_USERNAME;
		if (len < at + 4)
			return GB_PASS_ICE_MALFORMED;
		type = be16(p + at);
		alen = be16(p + at + 2);
		if (alen > end - at - 4)
			return GB_PASS_ICE_MALFORMED;
		if (type == ATTR_USERNAME)
			break;
	}
	if (alen > len - at - 4)
		return GB_PASS_ICE_MALFORMED;
	user = p + at + 4;
	user_len = alen;
	if (!user_len)
		return GB_PASS_ICE_MALFORMED;
	/* A ufrag of at most 256 characters: its ':' is one of the first 257 bytes, or none is. */
	look = user_len < REF_UFRAG_MAX + 1 ? user_len : REF_UFRAG_MAX + 1;
	colon = memchr(user, ':', look);
	if (!colon)
		return user_len > REF_UFRAG_MAX ? GB_PASS_ICE_UNKNOWN_UFRAG : GB_PASS_ICE_MALFORMED;
	if ((size_t)(colon - user) < REF_UFRAG_MIN)
		return GB_PASS_ICE_UNKNOWN_UFRAG;
	*ufrag = user;
	*ufrag_len = colon - user;
	return REF_STUN_UFRAG;
}

__u32 ref_ufrag_meeting(const struct ref_ufrags *u, __u32 slot, __u32 gen)
{
	if (slot >= u->nslots || u->slot[slot].gen != gen)
		return 0;
	return u->slot[slot].meeting;
}

const struct ref_ufrag *ref_ufrag_find(const struct ref_ufrags *u, const __u8 *text, size_t len)
{
	for (size_t i = 0; i < u->nkeys; i++)
		if (u->key[i].len == len && !memcmp(u->key[i].text, text, len))
			return &u->key[i];
	return NULL;
}

static bool same_tuple(const struct ref_tuple *a, const struct ref_tuple *b)
{
	return a->family == b->family && a->sport == b->sport && a->dport == b->dport &&
	       !memcmp(a->saddr, b->saddr, 16);
}

static size_t tuple_hash(const struct ref_tuple *t)
{
	__u64 h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (int i = 0; i < 16; i++)
		h = (h ^ t->saddr[i]) * 0x100000001b3ULL;
	h = (h ^ t->sport) * 0x100000001b3ULL;
	h = (h ^ t->dport) * 0x100000001b3ULL;
	h = (h ^ (unsigned int)t->family) * 0x100000001b3ULL;
	return h ^ (h >> 31);
}

struct ref_sender *ref_senders_find(const struct ref_senders *s, const struct ref_tuple *t)
{
	if (!s->cap)
		return NULL;
	for (size_t i = tuple_hash(t) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->v[i].used)
			return NULL;
		if (same_tuple(&s->v[i].t, t))
			return &s->v[i];
	}
}

static struct ref_sender *place(struct ref_senders *s, const struct ref_tuple *t)
{
	size_t i = tuple_hash(t) & (s->cap - 1);

	while (s->v[i].used)
		i = (i + 1) & (s->cap - 1);
	memset(&s->v[i], 0, sizeof(s->v[i]));
	s->v[i].t = *t;
	s->v[i].used = true;
	s->n++;
	return &s->v[i];
}

struct ref_sender *ref_senders_add(struct ref_senders *s, const struct ref_tuple *t)
{
	if ((s->n + 1) * 2 > s->cap) {
		struct ref_senders bigger = { .cap = s->cap ? s->cap * 2 : 1024 };

		bigger.v = calloc(bigger.cap, sizeof(*bigger.v));
		if (!bigger.v) {
			fprintf(stderr, "ref_ice: out of memory\n");
			abort();
		}
		for (size_t i = 0; i < s->cap; i++) {
			if (s->v[i].used) {
				struct ref_sender *e = place(&bigger, &s->v[i].t);

				*e = s->v[i];
			}
		}
		free(s->v);
		*s = bigger;
	}
	return place(s, t);
}

void ref_senders_free(struct ref_senders *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* The sender t names ufrag slot (slot, its gen) of meeting: bind it, refresh it, or keep it. */
static int learn(const struct ref_ufrags *u, struct ref_senders *s, const struct ref_tuple *t,
		 __u32 slot, __u64 now_ns)
{
	const struct ref_ufrag_slot *named = &u->slot[slot];
	struct ref_sender *e = ref_senders_find(s, t);
	__u32 bound;
	int stat;

	if (!e) {
		e = ref_senders_add(s, t);
		stat = GB_ICE_LEARNED;
	} else if (e->slot == slot && e->gen == named->gen) {
		e->seen_ns = now_ns;
		return GB_ICE_REFRESHED;
	} else {
		bound = ref_ufrag_meeting(u, e->slot, e->gen);
		if (bound && bound != named->meeting && now_ns - e->seen_ns < REF_STICKY_NS)
			return GB_ICE_KEPT;
		stat = bound && bound != named->meeting ? GB_ICE_MOVED : GB_ICE_REBOUND;
	}
	e->slot = slot;
	e->gen = named->gen;
	e->seen_ns = now_ns;
	return stat;
}

void ref_ice_meeting(const struct ref_ufrags *u, struct ref_senders *s, const struct ref_tuple *t,
		     __u64 now_ns, const __u8 *payload, size_t len, struct ref_ice_result *res)
{
	const struct ref_ufrag *key;
	const struct ref_sender *e;
	const __u8 *ufrag = NULL;
	size_t ufrag_len = 0;
	int walk;

	memset(res, 0, sizeof(*res));
	res->stat = -1;
	walk = ref_stun_walk(payload, len, &ufrag, &ufrag_len);
	if (walk == REF_STUN_MEDIA) {
		e = ref_senders_find(s, t);
		res->meeting = e ? ref_ufrag_meeting(u, e->slot, e->gen) : 0;
		res->reason = res->meeting ? -1 : GB_PASS_ICE_UNKNOWN_SENDER;
		return;
	}
	if (walk != REF_STUN_UFRAG) {
		res->reason = walk;
		return;
	}
	key = ref_ufrag_find(u, ufrag, ufrag_len);
	if (!key || key->slot >= u->nslots || !u->slot[key->slot].meeting) {
		res->reason = GB_PASS_ICE_UNKNOWN_UFRAG;
		return;
	}
	res->learn = true;
	res->stat = learn(u, s, t, key->slot, now_ns);
	res->meeting = u->slot[key->slot].meeting;
	res->reason = -1;
}
