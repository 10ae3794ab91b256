// SPDX-License-Identifier: GPL-2.0
/* Reads every figure `stats` and the metrics exporter show from the pinned maps, in one place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "common.h"
#include "counters.h"
#include "maps.h"
#include "geoblock.skel.h"

const char *const verdict_names[GB_REASON_COUNT] = {
	[GB_PASS_NOT_IP] = "not_ip",
	[GB_PASS_OTHER_PROTO] = "other_proto",
	[GB_PASS_FRAGMENT] = "fragment",
	[GB_PASS_PARSE_ERROR] = "parse_error",
	[GB_PASS_NO_MEETING] = "no_meeting",
	[GB_PASS_NOT_COVERED] = "not_covered",
	[GB_PASS_EXPIRED] = "expired",
	[GB_PASS_NO_COUNTRY] = "no_country",
	[GB_PASS_NOT_BLOCKED] = "not_blocked",
	[GB_PASS_ALLOWED] = "allowed",
	[GB_PASS_MONITOR] = "monitor",
	[GB_DROP] = "dropped",
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

/* Index of country cc among the countries a meeting blocks (which must include cc). */
static size_t blocked_rank(const struct meeting_policy *p, __u16 cc)
{
	size_t rank = __builtin_popcountll(p->blocked[cc / 64] & ((1ULL << (cc % 64)) - 1));

	for (int w = 0; w < cc / 64; w++)
		rank += __builtin_popcountll(p->blocked[w]);
	return rank;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct pair_counter *x = a, *y = b;

	if (x->meeting_id != y->meeting_id)
		return x->meeting_id < y->meeting_id ? -1 : 1;
	return (int)x->country - (int)y->country;
}

/*
 * The pairs: every (live meeting, blocked country), counted or not, so that a series exists from
 * the moment a meeting is added; then every counted pair of a live meeting, blocked or not.
 * Counters of a meeting being deleted (no longer active) are left out.
 */
static int read_pairs(const struct gb_ctx *ctx, struct counters *c)
{
	struct drop_key *keys = NULL;
	__u64 *sums = NULL;
	__u32 *first = NULL;	/* meeting id -> index of its first configured pair */
	size_t n_keys = 0, n_blocked = 0, n = 0;
	int err;

	err = percpu_hash_read(bpf_map__fd(ctx->skel->maps.drop_stats), sizeof(*keys),
			       sizeof(struct drop_counter) / sizeof(__u64), (void **)&keys, &sums,
			       &n_keys);
	if (err)
		return err;
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if (meeting_live(&c->policies[id]))
			for (int w = 0; w < GB_COUNTRY_WORDS; w++)
				n_blocked += __builtin_popcountll(c->policies[id].blocked[w]);
	c->pairs = calloc(n_blocked + n_keys + 1, sizeof(*c->pairs));
	first = calloc(GB_MAX_MEETINGS, sizeof(*first));
	if (!c->pairs || !first) {
		err = -ENOMEM;
		goto out;
	}
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		const struct meeting_policy *p = &c->policies[id];

		if (!meeting_live(p))
			continue;
		first[id] = n;
		/* Set bits only: a scrape visits thousands of meetings. */
		for (int w = 0; w < GB_COUNTRY_WORDS; w++)
			for (__u64 bits = p->blocked[w]; bits; bits &= bits - 1) {
				__u16 cc = w * 64 + __builtin_ctzll(bits);

				if (cc >= GB_COUNTRY_COUNT)
					break;
				c->pairs[n++] = (struct pair_counter){
					.meeting_id = id, .country = cc, .blocked = 1 };
			}
	}
	c->n_pairs = n;
	for (size_t i = 0; i < n_keys; i++) {
		__u32 id = keys[i].meeting_id;
		__u16 cc = keys[i].country;
		const struct meeting_policy *mp;
		struct pair_counter *p;

		if (!id || id >= GB_MAX_MEETINGS || !meeting_live(&c->policies[id]))
			continue;
		mp = &c->policies[id];
		/* A configured pair is found by its rank; one outside them is appended. */
		if (cc < GB_COUNTRY_COUNT && (mp->blocked[cc / 64] & (1ULL << (cc % 64))))
			p = &c->pairs[first[id] + blocked_rank(mp, cc)];
		else
			p = &c->pairs[c->n_pairs++];
		p->meeting_id = id;
		p->country = cc;
		p->counted = 1;
		memcpy(&p->c, sums + i * 4, sizeof(p->c));
	}
	if (c->n_pairs > n_blocked)
		qsort(c->pairs, c->n_pairs, sizeof(*c->pairs), pair_cmp);
out:
	free(first);
	free(keys);
	free(sums);
	return err;
}

static int iface_cmp(const void *a, const void *b)
{
	const struct iface_counter *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

static int read_ifaces(const struct gb_ctx *ctx, struct counters *c)
{
	__u32 *keys = NULL;
	__u64 *sums = NULL;
	size_t n = 0;
	int err;

	err = links_read(ctx, &c->links, &c->n_links);
	if (err)
		return err;
	err = percpu_hash_read(bpf_map__fd(ctx->skel->maps.iface_stats), sizeof(*keys),
			       sizeof(struct verdict_counter) / sizeof(__u64), (void **)&keys,
			       &sums, &n);
	if (err)
		return err;
	c->ifaces = calloc(n + 1, sizeof(*c->ifaces));
	if (!c->ifaces) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct iface_counter *ic = &c->ifaces[i];

		ic->ifindex = keys[i];
		ic->packets = sums[i * 2];
		ic->bytes = sums[i * 2 + 1];
		/*
		 * Named after the link attached to that ifindex: the name resolves only in the
		 * interface's own network namespace, which need not be the reader's.
		 */
		for (size_t l = 0; l < c->n_links; l++)
			if (c->links[l].ifindex == ic->ifindex) {
				snprintf(ic->name, sizeof(ic->name), "%s", c->links[l].name);
				break;
			}
	}
	c->n_ifaces = n;
	qsort(c->ifaces, n, sizeof(*c->ifaces), iface_cmp);
out:
	free(keys);
	free(sums);
	return err;
}

int counters_read(const struct gb_ctx *ctx, struct counters *c)
{
	__u32 zero = 0;
	int err;

	memset(c, 0, sizeof(*c));
	c->policies = calloc(GB_MAX_MEETINGS, sizeof(*c->policies));
	if (!c->policies)
		return -ENOMEM;
	err = read_array(bpf_map__fd(ctx->skel->maps.meeting_policy), GB_MAX_MEETINGS,
			 sizeof(*c->policies), c->policies);
	if (err)
		goto err_out;
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if (meeting_live(&c->policies[id]))
			c->meetings[!!(c->policies[id].flags & GB_MEETING_MONITOR)]++;
	if (bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.geoip_info), &zero, &c->geoip)) {
		err = -errno;
		goto err_out;
	}
	c->geoip.source[sizeof(c->geoip.source) - 1] = '\0';
	c->geoip.database_type[sizeof(c->geoip.database_type) - 1] = '\0';
	err = read_verdicts(ctx, c);
	if (!err)
		err = read_pairs(ctx, c);
	if (!err)
		err = read_ifaces(ctx, c);
	if (err)
		goto err_out;
	return 0;

err_out:
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

void iface_label(const struct iface_counter *ic, char *out, size_t len)
{
	if (ic->name[0])
		snprintf(out, len, "%s", ic->name);
	else
		snprintf(out, len, "ifindex:%u", ic->ifindex);
}

const struct iface_counter *counters_link_drops(const struct counters *c,
						const struct link_state *l)
{
	for (size_t i = 0; i < c->n_ifaces && l->ifindex; i++)
		if (c->ifaces[i].ifindex == l->ifindex && !strcmp(c->ifaces[i].name, l->name))
			return &c->ifaces[i];
	return NULL;
}
