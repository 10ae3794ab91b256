// SPDX-License-Identifier: GPL-2.0
/* Reads every figure `stats` and the metrics exporter show from the pinned maps, in one place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kern/counters.h"
#include "kern/links.h"
#include "kern/maps.h"
#include "kern/pins.h"
#include "geoblock.skel.h"

const char *const ice_stat_names[GB_ICE_STAT_COUNT] = {
	[GB_ICE_LEARNED] = "learned",
	[GB_ICE_REFRESHED] = "refreshed",
	[GB_ICE_MOVED] = "moved",
	[GB_ICE_KEPT] = "kept",
	[GB_ICE_REBOUND] = "rebound",
};

static int read_verdicts(const struct gb_ctx *ctx, struct counters *c)
{
	int fd = bpf_map__fd(ctx->skel->maps.verdict_stats);

	for (__u32 r = 0; r < GB_REASON_COUNT; r++) {
		__u64 sum[2];
		int err = percpu_sum(fd, &r, sum, 2);

		if (err)
			return err;
		c->verdicts[r].packets = sum[0];
		c->verdicts[r].bytes = sum[1];
		if (r != GB_DROP) {
			c->passed.packets += sum[0];
			c->passed.bytes += sum[1];
		}
	}
	return 0;
}

static int by_name_then_age(const void *a, const void *b, void *arg)
{
	const struct meeting_policy *policies = arg;
	const struct meeting_policy *x = &policies[*(const __u32 *)a];
	const struct meeting_policy *y = &policies[*(const __u32 *)b];
	int d = strcmp(x->name, y->name);

	if (d)
		return d;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return *(const __u32 *)a < *(const __u32 *)b ? -1 : 1;
}

/*
 * One meeting per name. A change replacing a meeting writes the new version complete before the
 * ports move to it, so while it runs (or after it stopped midway) two versions are live: as[id] is
 * the newer one (by creation, then id) for each, 0 for an id not live. Returns how many are not
 * the one shown, or -ENOMEM.
 */
static int name_versions(const struct meeting_policy *policies, __u32 *as)
{
	__u32 *ids = malloc(GB_MAX_MEETINGS * sizeof(*ids));
	size_t n = 0;
	int older = 0;

	if (!ids)
		return -ENOMEM;
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if (meeting_live(&policies[id]))
			ids[n++] = id;
	qsort_r(ids, n, sizeof(*ids), by_name_then_age, (void *)policies);
	for (size_t i = n; i-- > 0;) {
		const char *name = policies[ids[i]].name;
		bool newest = i + 1 == n || strcmp(name, policies[ids[i + 1]].name);

		as[ids[i]] = newest ? ids[i] : as[ids[i + 1]];
		older += !newest;
	}
	free(ids);
	return older;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct pair_counter *x = a, *y = b;

	if (x->meeting_id != y->meeting_id)
		return x->meeting_id < y->meeting_id ? -1 : 1;
	return x->country < y->country ? -1 : x->country > y->country;
}

/* The pairs of older versions summed into the shown one's (the same meeting, named once). */
static void fold_pairs(struct counters *c)
{
	size_t n = 0;

	qsort(c->pairs, c->n_pairs, sizeof(*c->pairs), pair_cmp);
	for (size_t i = 0; i < c->n_pairs; i++) {
		struct pair_counter *to = n ? &c->pairs[n - 1] : NULL, *from = &c->pairs[i];

		if (!to || to->meeting_id != from->meeting_id || to->country != from->country) {
			c->pairs[n++] = *from;
			continue;
		}
		to->c.packets += from->c.packets;
		to->c.bytes += from->c.bytes;
		to->c.monitor_packets += from->c.monitor_packets;
		to->c.monitor_bytes += from->c.monitor_bytes;
		to->counted |= from->counted;
	}
	c->n_pairs = n;
}

/*
 * The pairs: every (live meeting, blocked country), with its drop counter, so that a series exists
 * from the moment a meeting is added. Counters of a meeting being deleted (no longer active) are
 * left out; those of a version being replaced are summed into the meeting's.
 */
static int read_pairs(const struct gb_ctx *ctx, struct counters *c, const __u32 *as, int older)
{
	int slot_fd = bpf_map__fd(ctx->skel->maps.drop_slot);
	struct drop_slots *slots = NULL;
	__u64 *sums = NULL;
	size_t n_blocked = 0, n = 0;
	__u32 hi = 0;
	int err = 0;

	slots = calloc(GB_MAX_MEETINGS, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (__u32 id = 1; id < GB_MAX_MEETINGS && !err; id++) {
		if (!meeting_live(&c->policies[id]))
			continue;
		if (bpf_map_lookup_elem(slot_fd, &id, &slots[id]))
			err = -errno;
		for (int cc = 0; cc < GB_COUNTRY_COUNT; cc++)
			if (slots[id].slot[cc] >= hi)
				hi = slots[id].slot[cc] + 1;
		for (int w = 0; w < GB_COUNTRY_WORDS; w++)
			n_blocked += __builtin_popcountll(c->policies[id].blocked[w]);
	}
	if (err)
		goto out;
	c->pairs = calloc(n_blocked + 1, sizeof(*c->pairs));
	sums = calloc((size_t)hi * 4 + 1, sizeof(*sums));
	if (!c->pairs || !sums) {
		err = -ENOMEM;
		goto out;
	}
	err = percpu_array_sums(bpf_map__fd(ctx->skel->maps.drop_counts), hi,
				sizeof(struct drop_counter) / sizeof(__u64), sums);
	if (err)
		goto out;
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		const struct meeting_policy *p = &c->policies[id];

		if (!meeting_live(p))
			continue;
		/* Set bits only: a scrape visits thousands of meetings. */
		for (int w = 0; w < GB_COUNTRY_WORDS; w++)
			for (__u64 bits = p->blocked[w]; bits; bits &= bits - 1) {
				__u16 cc = w * 64 + __builtin_ctzll(bits), i;
				struct pair_counter *pc;

				if (cc >= GB_COUNTRY_COUNT)
					break;
				pc = &c->pairs[n++];
				*pc = (struct pair_counter){ .meeting_id = as[id], .country = cc,
							     .blocked = 1 };
				i = slots[id].slot[cc];
				if (i)
					memcpy(&pc->c, sums + (size_t)i * 4, sizeof(pc->c));
				pc->counted = pc->c.packets || pc->c.monitor_packets;
			}
	}
	c->n_pairs = n;
	if (older)
		fold_pairs(c);
out:
	free(slots);
	free(sums);
	return err;
}

static int iface_cmp(const void *a, const void *b)
{
	const struct iface_counter *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

/*
 * The link_drops map of the program behind a link: the drops on that link's interface. All the
 * program's maps are looked at: which of them comes first follows the program's code.
 */
static int link_counter(__u32 prog_id, __u64 sum[2])
{
	__u32 *ids, n;
	int err = prog_map_ids(prog_id, &ids, &n);

	if (err)
		return err;
	err = -ENOENT;
	for (__u32 i = 0; i < n && err == -ENOENT; i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi), zero = 0;
		int fd = bpf_map_get_fd_by_id(ids[i]);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &mi, &mlen) && !strcmp(mi.name, "link_drops"))
			err = percpu_sum(fd, &zero, sum, 2);
		close(fd);
	}
	free(ids);
	return err;
}

/* One counter per pinned link still attached to an interface. */
static int read_ifaces(const struct gb_ctx *ctx, struct counters *c)
{
	int err;

	err = links_read(ctx, &c->links, &c->n_links);
	if (err)
		return err;
	c->ifaces = calloc(c->n_links + 1, sizeof(*c->ifaces));
	if (!c->ifaces)
		return -ENOMEM;
	for (size_t l = 0; l < c->n_links; l++) {
		struct iface_counter *ic = &c->ifaces[c->n_ifaces];
		__u64 sum[2];

		if (!c->links[l].ifindex || link_counter(c->links[l].prog_id, sum))
			continue;	/* interface gone, or detached since links_read */
		ic->ifindex = c->links[l].ifindex;
		/*
		 * Named after the link: the ifindex resolves only in the interface's own network
		 * namespace, which need not be the reader's.
		 */
		snprintf(ic->name, sizeof(ic->name), "%s", c->links[l].name);
		ic->packets = sum[0];
		ic->bytes = sum[1];
		c->n_ifaces++;
	}
	qsort(c->ifaces, c->n_ifaces, sizeof(*c->ifaces), iface_cmp);
	return 0;
}

int counters_read(const struct gb_ctx *ctx, struct counters *c)
{
	__u32 zero = 0, *as;
	int err, older = 0;

	memset(c, 0, sizeof(*c));
	c->policies = calloc(GB_MAX_MEETINGS, sizeof(*c->policies));
	as = calloc(GB_MAX_MEETINGS, sizeof(*as));
	if (!c->policies || !as) {
		err = -ENOMEM;
		goto err_out;
	}
	err = read_array(bpf_map__fd(ctx->skel->maps.meeting_policy), GB_MAX_MEETINGS,
			 sizeof(*c->policies), c->policies);
	if (!err)
		err = older = name_versions(c->policies, as);
	if (err < 0)
		goto err_out;
	if (bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.geoip_info), &zero, &c->geoip)) {
		err = -errno;
		goto err_out;
	}
	c->geoip.source[sizeof(c->geoip.source) - 1] = '\0';
	c->geoip.database_type[sizeof(c->geoip.database_type) - 1] = '\0';
	err = read_verdicts(ctx, c);
	if (!err)
		err = percpu_array_sums(bpf_map__fd(ctx->skel->maps.ice_stats), GB_ICE_STAT_COUNT, 1,
					c->ice);
	if (!err)
		err = read_pairs(ctx, c, as, older);
	if (!err)
		err = read_ifaces(ctx, c);
	if (err)
		goto err_out;
	/* Older versions out of the copy read: whatever reads it sees each meeting once. */
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		if (as[id] && as[id] != id)
			c->policies[id].flags &= ~GB_MEETING_ACTIVE;
		if (meeting_live(&c->policies[id]))
			c->meetings[!!(c->policies[id].flags & GB_MEETING_MONITOR)]++;
	}
	free(as);
	return 0;

err_out:
	free(as);
	counters_free(c);
	return err;
}

void counters_free(struct counters *c)
{
	free(c->policies);
	free(c->pairs);
	free(c->ifaces);
	free(c->links);
	memset(c, 0, sizeof(*c));
}

const struct iface_counter *counters_link_drops(const struct counters *c,
						const struct link_state *l)
{
	for (size_t i = 0; i < c->n_ifaces && l->ifindex; i++)
		if (c->ifaces[i].ifindex == l->ifindex && !strcmp(c->ifaces[i].name, l->name))
			return &c->ifaces[i];
	return NULL;
}
