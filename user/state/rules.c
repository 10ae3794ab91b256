// SPDX-License-Identifier: GPL-2.0
/*
 * The rule set in the maps: read it, and change one meeting at a time in an order the data path
 * can follow at every step (a meeting becomes visible only when complete); finish what an
 * interrupted change left.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/parse.h"
#include "kern/live_table.h"
#include "kern/maps.h"
#include "kern/pins.h"
#include "state/expiry.h"
#include "state/rules.h"
#include "state/rules_file.h"
#include "geoblock.skel.h"

bool rules_slot_occupied(const struct meeting_policy *p)
{
	return p->name[0] || p->flags;
}

/* Marks drop counter i held or free, keeping counters_free in step; counter 0 is nobody's. */
static void mark_counter(struct rules *r, __u16 i, bool held)
{
	__u64 bit = 1ULL << (i % 64);

	if (!i || !(r->counter_used[i / 64] & bit) == !held)
		return;
	r->counter_used[i / 64] ^= bit;
	if (held)
		r->counters_free--;
	else
		r->counters_free++;
}

/* Marks every counter of s held or free; most countries have none, skipped four at a time. */
static void mark_slots(struct rules *r, const struct drop_slots *s, bool held)
{
	for (int cc = 0; cc < GB_COUNTRY_COUNT; cc += 4) {
		__u64 four = 0;

		memcpy(&four, &s->slot[cc], sizeof(four));
		if (!four)
			continue;
		for (int k = cc; k < cc + 4 && k < GB_COUNTRY_COUNT; k++)
			mark_counter(r, s->slot[k], held);
	}
}

/* Whether s holds any drop counter. */
static bool holds_slots(const struct drop_slots *s)
{
	static const struct drop_slots none;

	return memcmp(s->slot, none.slot, sizeof(none.slot)) != 0;
}

_Static_assert(RULES_SLOT_CHUNK * sizeof(struct drop_slots) % 4096 == 0,
	       "a chunk of drop_slot entries fills whole pages");

/* Meeting id's drop counters (drop_slot), its chunk of the map mapped at first use; NULL: -errno. */
static const struct drop_slots *slots_of(struct rules *r, __u32 id, int *err)
{
	struct map_view *v = &r->slot_views[id / RULES_SLOT_CHUNK];
	__u32 first = id / RULES_SLOT_CHUNK * RULES_SLOT_CHUNK;

	if (!v->base) {
		*err = map_view_open_part(r->slot_fd, GB_MAX_MEETINGS, sizeof(struct drop_slots),
					  first, RULES_SLOT_CHUNK, v);
		if (*err)
			return NULL;
	}
	return (const struct drop_slots *)v->base + (id - first);
}

/*
 * The drop counters of every occupied meeting id (a half-written one too), and which are free. A
 * meeting holds counters only for countries its policy blocks: its policy is written before its
 * counters are assigned, and cleared after they are given back; so only those are looked at.
 */
static int read_slots(struct rules *r)
{
	int err = 0;

	r->counter_used = calloc(GB_DROP_COUNTERS / 64, sizeof(__u64));
	if (!r->counter_used)
		return -ENOMEM;
	r->counter_used[0] = 1;		/* counter 0 is nobody's */
	r->counters_free = GB_DROP_COUNTERS - 1;
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		const struct meeting_policy *p = &r->policies[id];
		const struct drop_slots *held;

		if (!rules_slot_occupied(p))
			continue;
		held = slots_of(r, id, &err);
		if (!held)
			return err;
		for (int w = 0; w < GB_COUNTRY_WORDS; w++)
			for (__u64 bits = p->blocked[w]; bits; bits &= bits - 1) {
				int cc = w * 64 + __builtin_ctzll(bits);

				if (cc < GB_COUNTRY_COUNT)
					mark_counter(r, held->slot[cc], true);
			}
	}
	return 0;
}

/* Takes port out of the list of id, its owner until now (if it was in one). */
static void unlink_port(struct rules *r, __u32 port, __u32 id)
{
	__u32 prev = r->prev_port[port], next = r->next_port[port];

	if (!port || !id || id >= GB_MAX_MEETINGS)
		return;
	if (prev)
		r->next_port[prev] = next;
	else
		r->first_port[id] = next;
	if (next)
		r->prev_port[next] = prev;
	r->prev_port[port] = r->next_port[port] = 0;
}

/* Puts port, owned by owners[port], at the head of its owner's list. */
static void link_port(struct rules *r, __u32 port)
{
	__u32 id = r->owners[port].meeting_id;

	if (!port || !id || id >= GB_MAX_MEETINGS)
		return;
	r->prev_port[port] = 0;
	r->next_port[port] = r->first_port[id];
	if (r->first_port[id])
		r->prev_port[r->first_port[id]] = port;
	r->first_port[id] = port;
}

int rules_read(const struct gb_ctx *ctx, struct rules *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	err = map_view_open(bpf_map__fd(ctx->skel->maps.meeting_policy), GB_MAX_MEETINGS,
			    sizeof(*r->policies), &r->views[0]);
	if (!err)
		err = map_view_open(bpf_map__fd(ctx->skel->maps.meeting_by_port), GB_PORT_COUNT,
				    sizeof(*r->owners), &r->views[1]);
	if (err)
		goto err_out;
	r->policies = r->views[0].base;
	r->owners = r->views[1].base;
	r->slot_fd = bpf_map__fd(ctx->skel->maps.drop_slot);
	r->first_port = calloc(GB_MAX_MEETINGS, sizeof(*r->first_port));
	r->next_port = calloc(GB_PORT_COUNT, sizeof(*r->next_port));
	r->prev_port = calloc(GB_PORT_COUNT, sizeof(*r->prev_port));
	if (!r->first_port || !r->next_port || !r->prev_port) {
		err = -ENOMEM;
		goto err_out;
	}
	for (__u32 port = GB_PORT_COUNT - 1; port > 0; port--)
		link_port(r, port);
	err = read_slots(r);
	if (!err)
		err = ufrags_read(&r->uf, ctx->skel);
	if (!err)
		err = map_keys(bpf_map__fd(ctx->skel->maps.allow_v4), sizeof(*r->allow4),
				(void **)&r->allow4, &r->n_allow4);
	if (!err)
		err = map_keys(bpf_map__fd(ctx->skel->maps.allow_v6), sizeof(*r->allow6),
				(void **)&r->allow6, &r->n_allow6);
	if (!err && !(err = janus_read(ctx->state_dir, &r->janus)))
		janus_validate(&r->janus, r->policies, r->owners);
	if (!err)
		return 0;
err_out:
	gb_err("cannot read the rule maps: %s", strerror(-err));
	rules_free(r);
	return err;
}

void rules_free(struct rules *r)
{
	for (size_t i = 0; i < sizeof(r->views) / sizeof(r->views[0]); i++)
		map_view_close(&r->views[i]);
	for (size_t i = 0; i < sizeof(r->slot_views) / sizeof(r->slot_views[0]); i++)
		map_view_close(&r->slot_views[i]);
	free(r->first_port);
	free(r->next_port);
	free(r->prev_port);
	free(r->allow4);
	free(r->allow6);
	free(r->counter_used);
	ufrag_set_free(&r->uf);
	janus_free(&r->janus);
	memset(r, 0, sizeof(*r));
}

__u32 rules_find(const struct rules *r, const char *name)
{
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if (r->policies[id].name[0] && !strcmp(r->policies[id].name, name))
			return id;
	return 0;
}

void rules_ports_of(const struct rules *r, __u32 id, __u8 ports[GB_PORT_COUNT / 8])
{
	memset(ports, 0, GB_PORT_COUNT / 8);
	if (!id || id >= GB_MAX_MEETINGS)
		return;
	for (__u32 p = r->first_port[id]; p; p = r->next_port[p])
		ports[p / 8] |= 1u << (p % 8);
}

static int cidr_sort_cmp(const void *a, const void *b)
{
	return cidr_cmp(a, b);
}

int rules_spec(const struct rules *r, __u32 id, struct meeting_spec *s)
{
	const struct meeting_policy *p = &r->policies[id];
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", p->name);
	rules_ports_of(r, id, s->ports);
	memcpy(s->blocked, p->blocked, sizeof(s->blocked));
	s->flags = p->flags & GB_SPEC_MODE_FLAGS;
	s->expires = expiry_unix(p);
	if (ufrags_of(&r->uf, id, &s->ufrags, &s->n_ufrags) || janus_spec(&r->janus, s))
		return -ENOMEM;
	for (size_t i = 0; i < r->n_allow4; i++)
		n += ntohl(r->allow4[i].meeting_id) == id;
	for (size_t i = 0; i < r->n_allow6; i++)
		n += ntohl(r->allow6[i].meeting_id) == id;
	if (!n)
		return 0;
	s->allow = calloc(n, sizeof(*s->allow));
	if (!s->allow) {
		spec_free(s);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_allow4; i++) {
		if (ntohl(r->allow4[i].meeting_id) != id)
			continue;
		s->allow[s->n_allow] = (struct cidr){ .family = 4, .len = r->allow4[i].prefixlen - 32 };
		memcpy(s->allow[s->n_allow++].addr, r->allow4[i].addr, 4);
	}
	for (size_t i = 0; i < r->n_allow6; i++) {
		if (ntohl(r->allow6[i].meeting_id) != id)
			continue;
		s->allow[s->n_allow] = (struct cidr){ .family = 6, .len = r->allow6[i].prefixlen - 32 };
		memcpy(s->allow[s->n_allow++].addr, r->allow6[i].addr, 16);
	}
	qsort(s->allow, s->n_allow, sizeof(*s->allow), cidr_sort_cmp);
	return 0;
}

int rules_specs(const struct rules *r, struct spec_list *l)
{
	int err;

	memset(l, 0, sizeof(*l));
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		struct meeting_spec s;

		if (!(r->policies[id].flags & GB_MEETING_ACTIVE))
			continue;
		err = rules_spec(r, id, &s);
		if (!err)
			err = spec_list_push(l, &s);
		if (err) {
			spec_free(&s);
			spec_list_free(l);
			return err;
		}
	}
	return 0;
}

/* The data path's tables tell p's countries apart before p is active. */
static int set_policy(const struct gb_ctx *ctx, struct rules *r, __u32 id,
		      const struct meeting_policy *p)
{
	int err = p->flags & GB_MEETING_ACTIVE ? live_table_cover(ctx, r->policies, p->blocked,
								  false) : 0;

	if (err)
		return err;
	/* r->policies is the map's memory: it holds p now */
	if (bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.meeting_policy), &id, p, BPF_ANY))
		return -errno;
	return 0;
}

int rules_set_owner(const struct gb_ctx *ctx, struct rules *r, __u32 port, __u32 id)
{
	struct port_owner o = { .meeting_id = id };
	__u32 was = r->owners[port].meeting_id;

	if (bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.meeting_by_port), &port, &o, BPF_ANY))
		return -errno;
	unlink_port(r, port, was);
	link_port(r, port);
	return 0;
}

/* Adds one allow exception of meeting id to the trie, and to r. */
static int add_allow(const struct gb_ctx *ctx, struct rules *r, __u32 id, const struct cidr *c)
{
	__u32 one = 1;

	if (c->family == 4) {
		struct allow_v4_key k = { .prefixlen = 32 + c->len, .meeting_id = htonl(id) };
		struct allow_v4_key *v = realloc(r->allow4, (r->n_allow4 + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->allow4 = v;
		memcpy(k.addr, c->addr, 4);
		if (bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.allow_v4), &k, &one, BPF_ANY))
			return -errno;
		r->allow4[r->n_allow4++] = k;
	} else {
		struct allow_v6_key k = { .prefixlen = 32 + c->len, .meeting_id = htonl(id) };
		struct allow_v6_key *v = realloc(r->allow6, (r->n_allow6 + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->allow6 = v;
		memcpy(k.addr, c->addr, 16);
		if (bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.allow_v6), &k, &one, BPF_ANY))
			return -errno;
		r->allow6[r->n_allow6++] = k;
	}
	return 0;
}

/* Deletes the allow exceptions of meeting id (every id whose slot is free, if id is 0). */
static int clear_allows(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	int fd4 = bpf_map__fd(ctx->skel->maps.allow_v4), fd6 = bpf_map__fd(ctx->skel->maps.allow_v6);
	size_t kept = 0;

#define DOOMED(key) (id ? ntohl((key).meeting_id) == id :				\
		      ntohl((key).meeting_id) >= GB_MAX_MEETINGS ||			\
		      !r->policies[ntohl((key).meeting_id)].name[0])
	for (size_t i = 0; i < r->n_allow4; i++) {
		if (!DOOMED(r->allow4[i])) {
			r->allow4[kept++] = r->allow4[i];
			continue;
		}
		if (bpf_map_delete_elem(fd4, &r->allow4[i]) && errno != ENOENT)
			return -errno;
	}
	r->n_allow4 = kept;
	kept = 0;
	for (size_t i = 0; i < r->n_allow6; i++) {
		if (!DOOMED(r->allow6[i])) {
			r->allow6[kept++] = r->allow6[i];
			continue;
		}
		if (bpf_map_delete_elem(fd6, &r->allow6[i]) && errno != ENOENT)
			return -errno;
	}
	r->n_allow6 = kept;
#undef DOOMED
	return 0;
}

/* Gives meeting id's drop counters back; their values stay until a meeting takes them again. */
static int release_counters(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	struct drop_slots none = {}, held;
	const struct drop_slots *now;
	int err;

	now = slots_of(r, id, &err);
	if (!now)
		return err;
	held = *now;
	if (bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.drop_slot), &id, &none, BPF_ANY))
		return -errno;
	mark_slots(r, &held, false);
	return 0;
}

/*
 * A zeroed drop counter for each country meeting id blocks, written to drop_slot before the meeting
 * becomes active; -ENOBUFS when not enough are free.
 */
static int assign_counters(const struct gb_ctx *ctx, struct rules *r, __u32 id,
			   const __u64 blocked[GB_COUNTRY_WORDS])
{
	int fd = bpf_map__fd(ctx->skel->maps.drop_counts), ncpu = libbpf_num_possible_cpus();
	struct drop_slots s = {};
	struct drop_counter *zero;
	size_t need = 0;
	__u32 next = 1;
	int err = 0;

	for (int cc = 0; cc < GB_COUNTRY_COUNT; cc++)
		need += country_isset(blocked, cc);
	if (need > r->counters_free)
		return -ENOBUFS;
	if (ncpu < 0)
		return ncpu;
	zero = calloc(ncpu, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	for (int cc = 0; cc < GB_COUNTRY_COUNT && !err; cc++) {
		if (!country_isset(blocked, cc))
			continue;
		while (r->counter_used[next / 64] & (1ULL << (next % 64)))
			next++;
		if (bpf_map_update_elem(fd, &next, zero, BPF_ANY))
			err = -errno;
		s.slot[cc] = next++;
	}
	free(zero);
	if (!err && bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.drop_slot), &id, &s, BPF_ANY))
		err = -errno;
	if (err)
		return err;
	mark_slots(r, &s, true);
	return 0;
}

/*
 * Removes meeting id in the order that keeps the data path consistent: stop enforcing first, then
 * release ports, exceptions and counters, then free the slot. Also finishes a removal or an
 * addition that a killed process left half done.
 */
int rules_remove(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	struct meeting_policy p = r->policies[id];
	int err;

	if (p.flags & GB_MEETING_ACTIVE) {
		p.flags &= ~GB_MEETING_ACTIVE;
		err = set_policy(ctx, r, id, &p);
		if (err)
			return err;
	}
	while (r->first_port[id]) {
		err = rules_set_owner(ctx, r, r->first_port[id], 0);
		if (err)
			return err;
	}
	for (int w = 0; w < GB_COUNTRY_WORDS; w++)
		r->countries_left |= p.blocked[w] != 0;
	err = ufrags_release(&r->uf, id);
	if (!err)
		err = clear_allows(ctx, r, id);
	if (!err)
		err = release_counters(ctx, r, id);
	if (err)
		return err;
	memset(&p, 0, sizeof(p));
	return set_policy(ctx, r, id, &p);
}

/*
 * Live meetings that block countries but hold no drop counter (written by a geoblock that counted
 * drops in a hash: pins kept across an upgrade) get theirs; until then their drops go uncounted.
 */
static int give_counters(const struct gb_ctx *ctx, struct rules *r)
{
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		const struct meeting_policy *p = &r->policies[id];
		const struct drop_slots *held;
		bool blocks = false;
		int err = 0;

		if (!(p->flags & GB_MEETING_ACTIVE) || !p->name[0])
			continue;
		for (int w = 0; w < GB_COUNTRY_WORDS; w++)
			blocks |= p->blocked[w] != 0;
		if (!blocks)
			continue;
		held = slots_of(r, id, &err);
		if (!held)
			return err;
		if (holds_slots(held))
			continue;
		err = assign_counters(ctx, r, id, p->blocked);
		if (err == -ENOBUFS)
			gb_warn("meeting \"%s\" holds no drop counters and not enough are free: its "
				"drops are not counted", p->name);
		else if (err)
			return err;
	}
	return 0;
}

int rules_repair(const struct gb_ctx *ctx, struct rules *r)
{
	int err;

	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		const struct meeting_policy *p = &r->policies[id];

		if (!(p->flags & GB_MEETING_ACTIVE) && (p->name[0] || p->flags)) {
			err = rules_remove(ctx, r, id);
			if (err)
				return err;
		}
	}
	for (__u32 port = 0; port < GB_PORT_COUNT; port++) {
		__u32 id = r->owners[port].meeting_id;

		if (!id)
			continue;
		if (port == 0 || id >= GB_MAX_MEETINGS || !r->policies[id].name[0]) {
			err = rules_set_owner(ctx, r, port, 0);
			if (err)
				return err;
		}
	}
	/* The TAI offset changed since an expiry was written (NTP set it): the data path's copy. */
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		struct meeting_policy p = r->policies[id];

		if (!(p.flags & GB_MEETING_ACTIVE) || !p.expires_unix ||
		    p.expires_tai_ns == expiry_tai(p.expires_unix))
			continue;
		p.expires_tai_ns = expiry_tai(p.expires_unix);
		err = set_policy(ctx, r, id, &p);
		if (err)
			return err;
	}
	err = ufrags_repair(&r->uf, r->policies);
	if (!err)
		err = give_counters(ctx, r);
	return err ?: clear_allows(ctx, r, 0);
}

__u32 rules_free_slot(const struct rules *r)
{
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if (!rules_slot_occupied(&r->policies[id]))
			return id;
	return 0;
}

/* After 2106 only the TAI form is kept (u32): an own rules file may name such a time. */
static void set_expiry(struct meeting_policy *p, __s64 expires)
{
	p->expires_unix = expires > 0 && expires <= UINT32_MAX ? (__u32)expires : 0;
	p->expires_tai_ns = expiry_tai(expires);
}

/*
 * Writes meeting s into slot id: inactive first, then its exceptions (and its ports, if
 * with_ports), then the ACTIVE flag, so the data path never sees it incomplete.
 */
int rules_write_meeting(const struct gb_ctx *ctx, struct rules *r, const struct meeting_spec *s,
			__u32 id, bool with_ports)
{
	struct meeting_policy p = { .created = time(NULL) };
	int err;

	snprintf(p.name, sizeof(p.name), "%s", s->name);
	set_expiry(&p, s->expires);
	memcpy(p.blocked, s->blocked, sizeof(p.blocked));
	err = set_policy(ctx, r, id, &p);
	if (!err)
		err = assign_counters(ctx, r, id, p.blocked);
	for (__u32 port = port_next(s->ports, 1); port < GB_PORT_COUNT && with_ports && !err;
	     port = port_next(s->ports, port + 1))
		err = rules_set_owner(ctx, r, port, id);
	if (with_ports && !err)
		err = ufrags_add(&r->uf, id, s->ufrags, s->n_ufrags);
	for (size_t i = 0; i < s->n_allow && !err; i++)
		err = add_allow(ctx, r, id, &s->allow[i]);
	if (err)
		return err;
	p.flags = GB_MEETING_ACTIVE | (s->flags & GB_SPEC_MODE_FLAGS) |
		  (s->n_allow ? GB_MEETING_ALLOWS : 0);
	return set_policy(ctx, r, id, &p);
}

int rules_add(const struct gb_ctx *ctx, struct rules *r, const struct meeting_spec *s, __u32 *id)
{
	int err;

	*id = rules_free_slot(r);
	if (!*id)
		return -ENOSPC;
	err = rules_write_meeting(ctx, r, s, *id, true);
	if (err && rules_remove(ctx, r, *id))
		gb_warn("rollback incomplete; the next change finishes it");
	return err;
}

int rules_set_mode(const struct gb_ctx *ctx, struct rules *r, __u32 id, bool monitor,
		   const __s64 *expires)
{
	struct meeting_policy p = r->policies[id];

	p.flags = monitor ? p.flags | GB_MEETING_MONITOR : p.flags & ~GB_MEETING_MONITOR;
	if (expires)
		set_expiry(&p, *expires);
	return set_policy(ctx, r, id, &p);
}

