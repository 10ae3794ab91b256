// SPDX-License-Identifier: GPL-2.0
/*
 * The rule set in the maps: read it, change it in an order the data path can follow at every step
 * (a meeting becomes visible only when complete), finish or roll back interrupted changes, expire
 * meetings, and keep the state dir's rules file in step.
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
#include <json-c/json.h>
#include "common.h"
#include "maps.h"
#include "meeting.h"
#include "geoblock.skel.h"

#define NSEC		1000000000LL
#define RULES_FILE	"rules"
#define JOURNAL_FILE	"rules.journal"

/* Seconds CLOCK_TAI is ahead of CLOCK_REALTIME (the kernel's TAI offset; 0 until NTP sets it). */
static __s64 tai_offset(void)
{
	struct timespec real, tai;
	__s64 d;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_TAI, &tai);
	d = (tai.tv_sec - real.tv_sec) * NSEC + (tai.tv_nsec - real.tv_nsec);
	return (d + (d >= 0 ? NSEC / 2 : -NSEC / 2)) / NSEC;
}

/* The data path compares expiry with bpf_ktime_get_tai_ns(), which reads CLOCK_TAI. */
static __u64 expires_to_tai(__s64 unix_s)
{
	return unix_s ? (__u64)(unix_s + tai_offset()) * NSEC : 0;
}

/*
 * The expiry is kept as given (expires_unix) beside its CLOCK_TAI form: the TAI offset changes
 * when NTP sets it after boot, and an expiry converted back with the new offset moved by it
 * (37 s earlier at each restore). Policies written by an older version have only the TAI form.
 */
__s64 rules_expires_unix(const struct meeting_policy *p)
{
	if (p->expires_unix)
		return p->expires_unix;
	return p->expires_tai_ns ? (__s64)(p->expires_tai_ns / NSEC) - tai_offset() : 0;
}

bool rules_expired(const struct meeting_policy *p)
{
	struct timespec now;

	if (p->expires_unix)
		return time(NULL) >= (time_t)p->expires_unix;
	clock_gettime(CLOCK_TAI, &now);
	return p->expires_tai_ns && (__u64)now.tv_sec * NSEC + now.tv_nsec >= p->expires_tai_ns;
}

/* Every key of an allow-exception trie. */
static int read_keys(int fd, size_t ksz, void **out, size_t *n)
{
	__u8 key[sizeof(struct allow_v6_key)], next[sizeof(struct allow_v6_key)];
	size_t cap = 0;
	void *prev = NULL;
	int err;

	*out = NULL;
	*n = 0;
	while (!(err = bpf_map_get_next_key(fd, prev, next))) {
		if (*n == cap) {
			void *v = realloc(*out, (cap = cap ? cap * 2 : 64) * ksz);

			if (!v)
				return -ENOMEM;
			*out = v;
		}
		memcpy((__u8 *)*out + *n * ksz, next, ksz);
		(*n)++;
		memcpy(key, next, ksz);
		prev = key;
	}
	return err == -ENOENT ? 0 : err;
}

static bool slot_occupied(const struct meeting_policy *p)
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

/* The drop counters of every occupied meeting id (a half-written one too), and which are free. */
static int read_slots(const struct gb_ctx *ctx, struct rules *r)
{
	int fd = bpf_map__fd(ctx->skel->maps.drop_slot);

	r->slots = calloc(GB_MAX_MEETINGS, sizeof(*r->slots));
	r->counter_used = calloc(GB_DROP_COUNTERS / 64, sizeof(__u64));
	if (!r->slots || !r->counter_used)
		return -ENOMEM;
	r->counter_used[0] = 1;		/* counter 0 is nobody's */
	r->counters_free = GB_DROP_COUNTERS - 1;
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		if (!slot_occupied(&r->policies[id]))
			continue;
		if (bpf_map_lookup_elem(fd, &id, &r->slots[id]))
			return -errno;
		for (int cc = 0; cc < GB_COUNTRY_COUNT; cc++)
			mark_counter(r, r->slots[id].slot[cc], true);
	}
	return 0;
}

int rules_read(const struct gb_ctx *ctx, struct rules *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->policies = calloc(GB_MAX_MEETINGS, sizeof(*r->policies));
	r->owners = calloc(GB_PORT_COUNT, sizeof(*r->owners));
	if (!r->policies || !r->owners) {
		err = -ENOMEM;
		goto err_out;
	}
	err = read_array(bpf_map__fd(ctx->skel->maps.meeting_policy), GB_MAX_MEETINGS,
			 sizeof(*r->policies), r->policies);
	if (!err)
		err = read_array(bpf_map__fd(ctx->skel->maps.meeting_by_port), GB_PORT_COUNT,
				 sizeof(*r->owners), r->owners);
	if (!err)
		err = read_slots(ctx, r);
	if (!err)
		err = read_keys(bpf_map__fd(ctx->skel->maps.allow_v4), sizeof(*r->allow4),
				(void **)&r->allow4, &r->n_allow4);
	if (!err)
		err = read_keys(bpf_map__fd(ctx->skel->maps.allow_v6), sizeof(*r->allow6),
				(void **)&r->allow6, &r->n_allow6);
	if (!err)
		return 0;
err_out:
	gb_err("cannot read the rule maps: %s", strerror(-err));
	rules_free(r);
	return err;
}

void rules_free(struct rules *r)
{
	free(r->policies);
	free(r->owners);
	free(r->allow4);
	free(r->allow6);
	free(r->slots);
	free(r->counter_used);
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
	for (__u32 p = 1; p < GB_PORT_COUNT; p++)
		if (r->owners[p].meeting_id == id)
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
	s->expires = rules_expires_unix(p);
	for (size_t i = 0; i < r->n_allow4; i++)
		n += ntohl(r->allow4[i].meeting_id) == id;
	for (size_t i = 0; i < r->n_allow6; i++)
		n += ntohl(r->allow6[i].meeting_id) == id;
	if (!n)
		return 0;
	s->allow = calloc(n, sizeof(*s->allow));
	if (!s->allow)
		return -ENOMEM;
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

static int set_policy(const struct gb_ctx *ctx, struct rules *r, __u32 id,
		      const struct meeting_policy *p)
{
	if (bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.meeting_policy), &id, p, BPF_ANY))
		return -errno;
	r->policies[id] = *p;
	return 0;
}

static int set_owner(const struct gb_ctx *ctx, struct rules *r, __u32 port, __u32 id)
{
	struct port_owner o = { .meeting_id = id };

	if (bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.meeting_by_port), &port, &o, BPF_ANY))
		return -errno;
	r->owners[port] = o;
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
	struct drop_slots none = {};

	if (bpf_map_update_elem(bpf_map__fd(ctx->skel->maps.drop_slot), &id, &none, BPF_ANY))
		return -errno;
	for (int cc = 0; cc < GB_COUNTRY_COUNT; cc++)
		mark_counter(r, r->slots[id].slot[cc], false);
	r->slots[id] = none;
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
	r->slots[id] = s;
	for (int cc = 0; cc < GB_COUNTRY_COUNT; cc++)
		mark_counter(r, s.slot[cc], true);
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
	for (__u32 port = 1; port < GB_PORT_COUNT; port++) {
		if (r->owners[port].meeting_id != id)
			continue;
		err = set_owner(ctx, r, port, 0);
		if (err)
			return err;
	}
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
		bool blocks = false, holds = false;
		int err;

		if (!(p->flags & GB_MEETING_ACTIVE) || !p->name[0])
			continue;
		for (int cc = 0; cc < GB_COUNTRY_COUNT; cc++) {
			blocks |= country_isset(p->blocked, cc);
			holds |= r->slots[id].slot[cc] != 0;
		}
		if (!blocks || holds)
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
			err = set_owner(ctx, r, port, 0);
			if (err)
				return err;
		}
	}
	/* The TAI offset changed since an expiry was written (NTP set it): the data path's copy. */
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		struct meeting_policy p = r->policies[id];

		if (!(p.flags & GB_MEETING_ACTIVE) || !p.expires_unix ||
		    p.expires_tai_ns == expires_to_tai(p.expires_unix))
			continue;
		p.expires_tai_ns = expires_to_tai(p.expires_unix);
		err = set_policy(ctx, r, id, &p);
		if (err)
			return err;
	}
	err = give_counters(ctx, r);
	return err ?: clear_allows(ctx, r, 0);
}

static __u32 free_slot(const struct rules *r)
{
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if (!slot_occupied(&r->policies[id]))
			return id;
	return 0;
}

/*
 * Writes meeting s into slot id: inactive first, then its exceptions (and its ports, if
 * with_ports), then the ACTIVE flag, so the data path never sees it incomplete.
 */
static int write_meeting(const struct gb_ctx *ctx, struct rules *r, const struct meeting_spec *s,
			 __u32 id, bool with_ports)
{
	struct meeting_policy p = {};
	int err;

	snprintf(p.name, sizeof(p.name), "%s", s->name);
	p.created = time(NULL);
	/* After 2106 only the TAI form is kept (u32): an own rules file may name such a time. */
	p.expires_unix = s->expires > 0 && s->expires <= UINT32_MAX ? (__u32)s->expires : 0;
	p.expires_tai_ns = expires_to_tai(s->expires);
	memcpy(p.blocked, s->blocked, sizeof(p.blocked));
	err = set_policy(ctx, r, id, &p);
	if (!err)
		err = assign_counters(ctx, r, id, p.blocked);
	for (__u32 port = 1; port < GB_PORT_COUNT && with_ports && !err; port++)
		if (port_isset(s->ports, port))
			err = set_owner(ctx, r, port, id);
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

	*id = free_slot(r);
	if (!*id)
		return -ENOSPC;
	err = write_meeting(ctx, r, s, *id, true);
	if (err && rules_remove(ctx, r, *id))
		gb_warn("rollback incomplete; the next change finishes it");
	return err;
}

int rules_set_monitor(const struct gb_ctx *ctx, struct rules *r, __u32 id, bool monitor)
{
	struct meeting_policy p = r->policies[id];

	if (monitor)
		p.flags |= GB_MEETING_MONITOR;
	else
		p.flags &= ~GB_MEETING_MONITOR;
	return set_policy(ctx, r, id, &p);
}

void rules_plan_free(struct rules_plan *p)
{
	free(p->action);
	free(p->old_id);
	free(p->doomed);
	memset(p, 0, sizeof(*p));
}

/* A live meeting by name: rules_plan sorts them so that a name's copies sit together. */
struct live_name {
	const char *name;
	__u32 id;
};

static int live_name_cmp(const void *a, const void *b)
{
	const struct live_name *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->id > y->id) - (x->id < y->id);
}

/*
 * The live meeting that wanted meeting s is matched with, among the n copies of its name at live,
 * and what to do with it. A change that died midway can leave two copies of a name, the new one
 * written and the old one not yet removed: a copy equal to s is kept as it is (with its drop
 * counters), else the copy that owns ports (the one enforced) is changed. Matching another would
 * replace an intact meeting, and need room for a third copy where the maps may have none.
 */
static int match_live(const struct rules *r, const struct live_name *live, size_t n,
		      const bool *owns_port, const struct meeting_spec *s, __u32 *id,
		      enum plan_action *action)
{
	*id = 0;
	for (size_t k = 0; k < n; k++) {
		struct meeting_spec cur;
		enum plan_action a;
		int err = rules_spec(r, live[k].id, &cur);

		if (err)
			return err;
		a = spec_equal(&cur, s, false) ? PLAN_KEEP :
		    spec_equal(&cur, s, true) ? PLAN_MODE : PLAN_REPLACE;
		spec_free(&cur);
		if (a == PLAN_KEEP || !*id || (owns_port[live[k].id] && !owns_port[*id])) {
			*id = live[k].id;
			*action = a;
		}
		if (a == PLAN_KEEP)
			break;
	}
	return 0;
}

int rules_plan(const struct rules *r, const struct spec_list *want, struct rules_plan *p)
{
	bool *wanted = calloc(GB_MAX_MEETINGS, sizeof(*wanted));
	bool *owns_port = calloc(GB_MAX_MEETINGS, sizeof(*owns_port));
	struct live_name *live = calloc(GB_MAX_MEETINGS, sizeof(*live));
	size_t n_live = 0;
	int err = 0;

	memset(p, 0, sizeof(*p));
	p->want = want;
	p->action = calloc(want->n + 1, sizeof(*p->action));
	p->old_id = calloc(want->n + 1, sizeof(*p->old_id));
	p->doomed = calloc(GB_MAX_MEETINGS, sizeof(*p->doomed));
	if (!wanted || !owns_port || !live || !p->action || !p->old_id || !p->doomed) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if ((r->policies[id].flags & GB_MEETING_ACTIVE) && r->policies[id].name[0])
			live[n_live++] = (struct live_name){ r->policies[id].name, id };
	qsort(live, n_live, sizeof(*live), live_name_cmp);
	for (__u32 port = 1; port < GB_PORT_COUNT; port++)
		if (r->owners[port].meeting_id < GB_MAX_MEETINGS)
			owns_port[r->owners[port].meeting_id] = true;
	for (size_t i = 0; i < want->n; i++) {
		struct live_name key = { want->v[i].name, 0 };
		size_t lo = 0, hi = n_live, n = 0;
		__u32 id;

		/* The first copy of the name (ids sort after 0), then how many there are. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (live_name_cmp(&live[mid], &key) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		while (lo + n < n_live && !strcmp(live[lo + n].name, key.name))
			n++;
		if (!n) {
			p->action[i] = PLAN_ADD;
			p->n_add++;
			continue;
		}
		err = match_live(r, live + lo, n, owns_port, &want->v[i], &id, &p->action[i]);
		if (err)
			goto out;
		p->old_id[i] = id;
		wanted[id] = true;
		p->n_keep += p->action[i] == PLAN_KEEP;
		p->n_mode += p->action[i] == PLAN_MODE;
		p->n_replace += p->action[i] == PLAN_REPLACE;
	}
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if ((r->policies[id].flags & GB_MEETING_ACTIVE) && !wanted[id])
			p->doomed[p->n_doomed++] = id;
out:
	free(wanted);
	free(owns_port);
	free(live);
	if (err)
		rules_plan_free(p);
	return err;
}

static void print_change(FILE *out, struct json_object *changes, char sign, const char *line)
{
	char *full;

	if (!line)
		return;
	if (out)
		fprintf(out, "%c %s\n", sign, line);
	if (changes && asprintf(&full, "%c %s", sign, line) >= 0) {
		json_object_array_add(changes, json_object_new_string(full));
		free(full);
	}
}

static void print_live(const struct rules *r, __u32 id, FILE *out, struct json_object *changes)
{
	struct meeting_spec s;
	char *line;

	if (rules_spec(r, id, &s))
		return;
	line = spec_format(&s, false);
	print_change(out, changes, '-', line);
	free(line);
	spec_free(&s);
}

void rules_plan_print(const struct rules *r, const struct rules_plan *p, FILE *out,
		      struct json_object *changes)
{
	for (size_t i = 0; i < p->want->n; i++) {
		char *line;

		if (p->action[i] == PLAN_KEEP)
			continue;
		if (p->action[i] != PLAN_ADD)
			print_live(r, p->old_id[i], out, changes);
		line = spec_format(&p->want->v[i], true);
		print_change(out, changes, '+', line);
		free(line);
	}
	for (size_t i = 0; i < p->n_doomed; i++)
		print_live(r, p->doomed[i], out, changes);
}

/* Removes the live meetings the plan keeps no version of. */
static int remove_doomed(const struct gb_ctx *ctx, struct rules *r, const struct rules_plan *p)
{
	int err = 0;

	for (size_t i = 0; i < p->n_doomed && !err; i++)
		err = rules_remove(ctx, r, p->doomed[i]);
	return err;
}

/*
 * Carries out a plan, make-before-break: mode switches in place (counters kept); new versions
 * written complete and active but owning no port yet; then each port moved to its new owner in
 * one update (a packet sees the old meeting or the new one, never none); then what is left of
 * old versions and deleted meetings removed.
 */
static int plan_execute(const struct gb_ctx *ctx, struct rules *r, const struct rules_plan *p)
{
	const struct spec_list *want = p->want;
	__u32 *new_id = calloc(want->n + 1, sizeof(*new_id));
	__u32 *owner = calloc(GB_PORT_COUNT, sizeof(*owner));
	size_t free_slots = 0, need4 = r->n_allow4, need6 = r->n_allow6, counters = 0;
	int err = 0;

	if (!new_id || !owner) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		free_slots += !slot_occupied(&r->policies[id]);
	for (size_t i = 0; i < want->n; i++) {
		if (p->action[i] < PLAN_ADD)
			continue;
		for (size_t k = 0; k < want->v[i].n_allow; k++)
			*(want->v[i].allow[k].family == 4 ? &need4 : &need6) += 1;
		for (int w = 0; w < GB_COUNTRY_WORDS; w++)
			counters += __builtin_popcountll(want->v[i].blocked[w]);
	}
	if (free_slots < p->n_add + p->n_replace || need4 > GB_ALLOW_MAX || need6 > GB_ALLOW_MAX ||
	    counters > r->counters_free) {
		err = -ENOSPC;
		goto out;
	}

	for (size_t i = 0; i < want->n && !err; i++)
		if (p->action[i] == PLAN_MODE)
			err = rules_set_monitor(ctx, r, p->old_id[i],
						want->v[i].flags & GB_MEETING_MONITOR);
	for (size_t i = 0; i < want->n && !err; i++) {
		if (p->action[i] < PLAN_ADD)
			continue;
		new_id[i] = free_slot(r);
		err = write_meeting(ctx, r, &want->v[i], new_id[i], false);
	}
	for (size_t i = 0; i < want->n && !err; i++) {
		__u32 id = p->action[i] < PLAN_ADD ? p->old_id[i] : new_id[i];

		for (__u32 port = 1; port < GB_PORT_COUNT; port++)
			if (port_isset(want->v[i].ports, port))
				owner[port] = id;
	}
	for (__u32 port = 1; port < GB_PORT_COUNT && !err; port++)
		if (owner[port] && r->owners[port].meeting_id != owner[port])
			err = set_owner(ctx, r, port, owner[port]);
	for (size_t i = 0; i < want->n && !err; i++)
		if (p->action[i] == PLAN_REPLACE)
			err = rules_remove(ctx, r, p->old_id[i]);
	if (!err)
		err = remove_doomed(ctx, r, p);
out:
	free(new_id);
	free(owner);
	return err;
}

static int journal_write(const struct gb_ctx *ctx)
{
	static const char text[] = "# geoblock: a change of the rule set is under way; if this file "
				   "outlives it, the next change makes the maps match the rules "
				   "file again\n";

	return gb_write_file_atomic(ctx->state_dir, JOURNAL_FILE, text, sizeof(text) - 1);
}

static int journal_remove(const struct gb_ctx *ctx)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, JOURNAL_FILE);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return gb_sync_dir(ctx->state_dir);
}

static bool journal_exists(const struct gb_ctx *ctx)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, JOURNAL_FILE);
	return !access(path, F_OK);
}

/* Re-reads the maps and brings them back to prev; 0 if that worked. */
static int roll_back(const struct gb_ctx *ctx, struct rules *r, const struct spec_list *prev)
{
	struct rules_plan p;
	int err;

	rules_free(r);
	err = rules_read(ctx, r);
	if (err)
		return err;
	err = rules_repair(ctx, r);
	if (!err)
		err = rules_plan(r, prev, &p);
	if (err)
		return err;
	err = plan_execute(ctx, r, &p);
	rules_plan_free(&p);
	if (!err)
		err = rules_save(ctx, r);
	if (!err)
		err = journal_remove(ctx);
	return err;
}

/*
 * A recovery without the room to switch every meeting without a gap (a change that died midway
 * leaves two copies of many meetings, and the copy that owns the ports may not be the one the
 * file names): the meetings the file does not name are removed first, then the rest is planned
 * again. A port one of those owned passes unfiltered until the meeting the file gives it to owns
 * it, a moment later; the maps are out of step with the file until then anyway.
 */
static int execute_doomed_first(const struct gb_ctx *ctx, struct rules *r,
				const struct spec_list *want, struct rules_plan *p)
{
	int err = remove_doomed(ctx, r, p);

	rules_plan_free(p);
	if (!err)
		err = rules_plan(r, want, p);
	if (!err)
		err = plan_execute(ctx, r, p);
	return err;
}

/*
 * from_file: want is the rules file, which stays the authority. A failure then leaves the journal
 * (the next change tries again) instead of rolling back to the maps and saving them over the file:
 * after a reboot those hold nothing.
 */
static int converge(const struct gb_ctx *ctx, struct rules *r, const struct spec_list *want,
		    struct json_object *changes, bool from_file)
{
	struct spec_list prev;
	struct rules_plan p;
	int err;

	err = rules_specs(r, &prev);
	if (err)
		return err;
	err = rules_plan(r, want, &p);
	if (err)
		goto out_prev;
	if (changes)
		rules_plan_print(r, &p, NULL, changes);
	err = journal_write(ctx);
	if (err) {
		gb_err("cannot write %s/%s: %s; nothing changed", ctx->state_dir, JOURNAL_FILE,
		       strerror(-err));
		goto out;
	}
	err = plan_execute(ctx, r, &p);
	if (err == -ENOSPC && from_file)
		err = execute_doomed_first(ctx, r, want, &p);
	if (!err)
		err = rules_save(ctx, r);
	if (!err)
		err = journal_remove(ctx);
	if (err && from_file) {
		gb_err("cannot make the maps match %s/%s: %s; the next change tries again",
		       ctx->state_dir, RULES_FILE, strerror(-err));
	} else if (err) {
		int rb = roll_back(ctx, r, &prev);

		if (err == -ENOSPC && !rb)
			gb_err("not enough free meeting slots, drop counters or exception "
			       "entries to switch every meeting without a gap; nothing changed "
			       "(apply in two steps)");
		else
			gb_err("cannot change the rule set: %s; %s", strerror(-err), rb ?
			       "rollback incomplete, the next change finishes it" :
			       "rolled back to the previous rule set");
	}
out:
	rules_plan_free(&p);
out_prev:
	spec_list_free(&prev);
	return err;
}

int rules_converge(const struct gb_ctx *ctx, struct rules *r, const struct spec_list *want,
		   struct json_object *changes)
{
	return converge(ctx, r, want, changes, false);
}

/* The state dir's rules file (none: no meeting); one error line if it cannot be read. */
static int read_rules_file(const struct gb_ctx *ctx, struct spec_list *want)
{
	char path[512], err_msg[512];
	int err;

	memset(want, 0, sizeof(*want));
	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, RULES_FILE);
	if (access(path, F_OK))
		return 0;
	err = rules_file_read(path, time(NULL), SPEC_PAST_OK, want, err_msg, sizeof(err_msg));
	if (err)
		gb_err("%s", err_msg);
	return err;
}

int rules_recover(const struct gb_ctx *ctx, struct rules *r, struct json_object *changes)
{
	struct spec_list want;
	int err;

	err = read_rules_file(ctx, &want);
	if (!err)
		err = converge(ctx, r, &want, changes, true);
	spec_list_free(&want);
	return err;
}

/* The rules file's text: the active meetings of r but skip (0: none), as `meeting add` lines. */
static int rules_text(const struct rules *r, __u32 skip, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int err = 0;

	if (!f)
		return -ENOMEM;
	fprintf(f, "# geoblock rules, written by geoblock after every change (restore reads it)\n");
	for (__u32 id = 1; id < GB_MAX_MEETINGS && !err; id++) {
		struct meeting_spec s;
		char *line;

		if (!(r->policies[id].flags & GB_MEETING_ACTIVE) || id == skip)
			continue;
		err = rules_spec(r, id, &s);
		if (err)
			break;
		line = spec_format(&s, false);
		if (line)
			fprintf(f, "%s\n", line);
		else
			err = -ENOMEM;
		free(line);
		spec_free(&s);
	}
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(*buf);
		*buf = NULL;
	}
	return err;
}

/* Writes the rules file without meeting skip; no message. */
static int write_rules(const struct gb_ctx *ctx, const struct rules *r, __u32 skip)
{
	char *buf = NULL;
	size_t len = 0;
	int err;

	err = rules_text(r, skip, &buf, &len);
	if (!err)
		err = gb_write_file_atomic(ctx->state_dir, RULES_FILE, buf, len);
	free(buf);
	return err;
}

int rules_save(const struct gb_ctx *ctx, const struct rules *r)
{
	int err = write_rules(ctx, r, 0);

	if (err)
		gb_err("cannot write %s/%s: %s", ctx->state_dir, RULES_FILE, strerror(-err));
	return err;
}

/*
 * meeting add/set/del, kept in step with the rules file so that a command which fails has changed
 * nothing: an add or a mode switch that cannot be written to the file (a full disk) is undone in
 * the maps; a deletion is written to the file first and only then made in the maps, so the
 * meeting and its counters stay if the file cannot be written. One error line, saying what was
 * left. Each runs under the journal, which goes once the maps and the file agree again: a command
 * killed between the two, or whose undo failed, leaves it for the next change to put right.
 */
int rules_change_begin(const struct gb_ctx *ctx)
{
	int err = journal_write(ctx);

	if (err)
		gb_err("cannot write %s/%s: %s; nothing changed", ctx->state_dir, JOURNAL_FILE,
		       strerror(-err));
	return err;
}

/* A journal that cannot be removed only makes the next change check the maps against the file. */
void rules_change_end(const struct gb_ctx *ctx)
{
	journal_remove(ctx);
}

static void save_failed(const struct gb_ctx *ctx, int err, int undo)
{
	if (!undo) {
		gb_err("cannot write %s/%s: %s; nothing changed", ctx->state_dir, RULES_FILE,
		       strerror(-err));
		rules_change_end(ctx);
	} else {
		gb_err("cannot write %s/%s: %s; undoing the change in the maps failed too (%s), "
		       "so they differ from the file until the next change", ctx->state_dir,
		       RULES_FILE, strerror(-err), strerror(-undo));
	}
}

int rules_save_added(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	int err = write_rules(ctx, r, 0);

	if (err)
		save_failed(ctx, err, rules_remove(ctx, r, id));
	else
		rules_change_end(ctx);
	return err;
}

int rules_save_switched(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	int err = write_rules(ctx, r, 0);

	if (err)
		save_failed(ctx, err, rules_set_monitor(ctx, r, id, !(r->policies[id].flags &
								      GB_MEETING_MONITOR)));
	else
		rules_change_end(ctx);
	return err;
}

int rules_remove_saved(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	char name[GB_MEETING_NAME_LEN];
	int err;

	snprintf(name, sizeof(name), "%s", r->policies[id].name);
	err = write_rules(ctx, r, id);
	if (err) {
		save_failed(ctx, err, 0);
		return err;
	}
	err = rules_remove(ctx, r, id);
	if (!err) {
		rules_change_end(ctx);
		return 0;
	}
	/* Still active: the kernel refused the first step, so the file is put back as it was. */
	if (r->policies[id].flags & GB_MEETING_ACTIVE) {
		int undo = write_rules(ctx, r, 0);

		gb_err("cannot remove meeting \"%s\": %s; %s", name, strerror(-err), undo ?
		       "and the rules file could not be put back: it no longer lists it, so the "
		       "next change finishes removing it" : "nothing changed");
		if (!undo)
			rules_change_end(ctx);
	} else {
		gb_err("cannot remove meeting \"%s\": %s; it no longer filters, and the next "
		       "change finishes removing it", name, strerror(-err));
	}
	return err;
}

/* Deletes expired meetings, one audit record each; returns how many or -errno. */
static int expire_meetings(const struct gb_ctx *ctx, struct rules *r)
{
	int n = 0, err = 0;

	for (__u32 id = 1; id < GB_MAX_MEETINGS && !err; id++) {
		const struct meeting_policy *p = &r->policies[id];
		struct json_object *changes;
		char when[32], reason[64];

		if (!(p->flags & GB_MEETING_ACTIVE) || !rules_expired(p))
			continue;
		changes = json_object_new_array();
		print_live(r, id, NULL, changes);
		format_rfc3339(rules_expires_unix(p), when, sizeof(when));
		snprintf(reason, sizeof(reason), "expired at %s", when);
		err = rules_remove(ctx, r, id);
		if (err)
			gb_err("cannot remove an expired meeting: %s", strerror(-err));
		if (audit_log(ctx, "expire", reason, err ? "failed" : "ok", changes) && !err)
			err = -EIO;
		n++;
	}
	if (n && !err)
		err = rules_save(ctx, r);
	return err ? err : n;
}

/*
 * Makes the maps hold want, the rules file, audited as a recovery for reason; err: reading the
 * file failed (audited as failed too).
 */
static int recover_audited(const struct gb_ctx *ctx, struct rules *r, const struct spec_list *want,
			   int err, const char *reason)
{
	struct json_object *changes = json_object_new_array();

	if (!err)
		err = converge(ctx, r, want, changes, true);
	if (audit_log(ctx, "recover", reason, err ? "failed" : "ok", changes) && !err)
		err = -EIO;
	return err;
}

/* Rolls back a change of the rule set (apply, meeting add/set/del) that died midway, audited. */
static int recover_journal(const struct gb_ctx *ctx, struct rules *r)
{
	struct spec_list want;
	int err;

	if (!journal_exists(ctx))
		return 0;
	err = read_rules_file(ctx, &want);
	err = recover_audited(ctx, r, &want, err, "a change of the rule set died midway; back to "
			      "the rules file");
	spec_list_free(&want);
	if (!err)
		gb_warn("an interrupted change was rolled back to %s/%s", ctx->state_dir,
			RULES_FILE);
	return err;
}

/*
 * Maps without a meeting beside a rules file that lists some: the pins were lost (a reboot
 * before `restore`, or removed) and the maps made anew. A change made on them would write the
 * rules file from them and drop every meeting it lists, so the file is put back first, audited.
 */
static int recover_lost_maps(const struct gb_ctx *ctx, struct rules *r)
{
	struct spec_list want;
	int err;

	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if (slot_occupied(&r->policies[id]))
			return 0;
	err = read_rules_file(ctx, &want);
	if (!err && want.n) {
		err = recover_audited(ctx, r, &want, 0, "the maps held no meeting (their pins were "
				      "made anew); back to the rules file");
		if (!err)
			gb_warn("the maps held no meeting while %s/%s lists %zu (pins lost: after a "
				"reboot, run 'geoblock restore'); put them back first",
				ctx->state_dir, RULES_FILE, want.n);
	}
	spec_list_free(&want);
	return err;
}

int rules_begin(const struct gb_ctx *ctx, struct rules *r, bool lost_back)
{
	int err;

	err = rules_read(ctx, r);
	if (err)
		return err;
	err = rules_repair(ctx, r);
	if (err) {
		gb_err("cannot repair an interrupted change: %s", strerror(-err));
		goto err_out;
	}
	err = recover_journal(ctx, r);
	if (!err && lost_back)
		err = recover_lost_maps(ctx, r);
	if (!err)
		err = expire_meetings(ctx, r);
	if (err < 0)
		goto err_out;
	return 0;
err_out:
	rules_free(r);
	return err;
}

int rules_expire(const struct gb_ctx *ctx)
{
	struct rules r;
	int lock_fd = -1, n;

	/* A daemon holds its context for long; it takes the lock only for each pass. */
	if (ctx->lock_fd < 0) {
		lock_fd = gb_lock(ctx->state_dir);
		if (lock_fd < 0)
			return lock_fd;
	}
	n = rules_read(ctx, &r);
	if (!n) {
		n = rules_repair(ctx, &r);
		if (!n)
			n = recover_journal(ctx, &r);
		if (!n)
			n = expire_meetings(ctx, &r);
		rules_free(&r);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	return n;
}
