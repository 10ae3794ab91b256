// SPDX-License-Identifier: GPL-2.0
/*
 * The read-only reports as JSON, one builder each for the CLI's `stats --json` and `status
 * --json` and the control API's /v1/stats and /v1/status, so that the two never drift.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/version.h"
#include "kern/counters.h"
#include "kern/links.h"
#include "kern/maps.h"
#include "kern/pins.h"
#include "kern/retired.h"
#include "kern/table.h"
#include "kern/table_view.h"
#include "kern/verdicts.h"
#include "state/changelog.h"
#include "state/countries.h"
#include "state/records.h"
#include "state/geoip_kept.h"
#include "state/rules.h"
#include "state/report.h"
#include "geoblock.skel.h"

static struct json_object *counter(__u64 packets, __u64 bytes)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "packets", json_object_new_uint64(packets));
	json_object_object_add(o, "bytes", json_object_new_uint64(bytes));
	return o;
}

static struct json_object *verdicts_json(const struct counters *c)
{
	struct json_object *v = json_object_new_object();

	for (int r = 0; r < GB_REASON_COUNT; r++)
		json_object_object_add(v, verdict_names[r],
				       counter(c->verdicts[r].packets, c->verdicts[r].bytes));
	return v;
}

/* The pairs that have seen a drop or a monitor hit (configured pairs with no entry are zero). */
static struct json_object *drops_json(const struct counters *c)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < c->n_pairs; i++) {
		const struct pair_counter *p = &c->pairs[i];
		struct json_object *o;
		char cc[3];

		if (!p->counted)
			continue;
		country_code(p->country, cc);
		o = json_object_new_object();
		json_object_object_add(o, "meeting",
				       json_object_new_string(c->policies[p->meeting_id].name));
		json_object_object_add(o, "country", json_object_new_string(cc));
		json_object_object_add(o, "packets", json_object_new_uint64(p->c.packets));
		json_object_object_add(o, "bytes", json_object_new_uint64(p->c.bytes));
		json_object_object_add(o, "monitor_packets",
				       json_object_new_uint64(p->c.monitor_packets));
		json_object_object_add(o, "monitor_bytes",
				       json_object_new_uint64(p->c.monitor_bytes));
		json_object_array_add(arr, o);
	}
	return arr;
}

/* Every interface with a pinned link. */
static struct json_object *interfaces_json(const struct counters *c)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < c->n_links; i++) {
		const struct link_state *l = &c->links[i];
		const struct iface_counter *ic = counters_link_drops(c, l);
		struct json_object *o = json_object_new_object();
		__u64 packets = ic ? ic->packets : 0, bytes = ic ? ic->bytes : 0;

		json_object_object_add(o, "interface", json_object_new_string(l->name));
		json_object_object_add(o, "ifindex", json_object_new_int64(l->ifindex));
		json_object_object_add(o, "attached", json_object_new_boolean(l->ifindex > 0));
		json_object_object_add(o, "dropped_packets", json_object_new_uint64(packets));
		json_object_object_add(o, "dropped_bytes", json_object_new_uint64(bytes));
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *geoip_json(const struct geoip_info *g)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "source", json_object_new_string(g->source));
	json_object_object_add(o, "database_type", json_object_new_string(g->database_type));
	json_object_object_add(o, "v4_prefixes", json_object_new_uint64(g->v4_prefixes));
	json_object_object_add(o, "v6_prefixes", json_object_new_uint64(g->v6_prefixes));
	json_object_object_add(o, "build_epoch", json_object_new_uint64(g->build_epoch));
	json_object_object_add(o, "loaded_at", json_object_new_uint64(g->loaded_at));
	json_object_object_add(o, "failed_reloads", json_object_new_uint64(g->failed_reloads));
	json_object_object_add(o, "last_failure_at", json_object_new_uint64(g->last_failure_at));
	return o;
}

struct json_object *ice_senders_json(const struct counters *c)
{
	struct json_object *o = json_object_new_object();

	for (int i = 0; i < GB_ICE_STAT_COUNT; i++)
		json_object_object_add(o, ice_stat_names[i], json_object_new_uint64(c->ice[i]));
	return o;
}

struct json_object *stats_json(const struct counters *c)
{
	struct json_object *top = json_object_new_object(), *m = json_object_new_object();

	json_object_object_add(top, "verdicts", verdicts_json(c));
	json_object_object_add(top, "passed", counter(c->passed.packets, c->passed.bytes));
	json_object_object_add(top, "drops", drops_json(c));
	json_object_object_add(top, "interfaces", interfaces_json(c));
	json_object_object_add(top, "geoip", geoip_json(&c->geoip));
	json_object_object_add(m, "enforce", json_object_new_int64(c->meetings[0]));
	json_object_object_add(m, "monitor", json_object_new_int64(c->meetings[1]));
	json_object_object_add(top, "meetings", m);
	json_object_object_add(top, "ice_senders", ice_senders_json(c));
	return top;
}

/*
 * The interfaces the attachments record (rec: none when it cannot be read, which restore says)
 * names, for restore to attach, without a pinned link: a link pin removed by hand, say.
 */
static struct json_object *unpinned(const struct state_attachment *rec, size_t n_rec,
				    const struct link_state *links, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t r = 0; r < n_rec; r++) {
		bool pinned = false;

		for (size_t i = 0; i < n && !pinned; i++)
			pinned = !strcmp(links[i].name, rec[r].ifname);
		if (!pinned)
			json_object_array_add(arr, json_object_new_string(rec[r].ifname));
	}
	return arr;
}

/* Whether rec (known: read; else null) names ifname: restore attaches it after a reboot. */
static struct json_object *recorded(bool known, const struct state_attachment *rec, size_t n_rec,
				    const char *ifname)
{
	bool found = false;

	for (size_t r = 0; r < n_rec && !found; r++)
		found = !strcmp(rec[r].ifname, ifname);
	return known ? json_object_new_boolean(found) : NULL;
}

/* Every pinned link: interface, mode, program; *missing: the recorded ones not pinned. */
static struct json_object *attachments(const struct gb_ctx *ctx, struct json_object **missing)
{
	struct json_object *arr = json_object_new_array();
	struct state_attachment *rec = NULL;
	struct link_state *links;
	size_t n, n_rec = 0;
	bool known;

	if (links_read(ctx, &links, &n)) {
		*missing = json_object_new_array();	/* nothing known either way */
		return arr;
	}
	known = !state_attachments_read(ctx, &rec, &n_rec);
	if (!known) {
		free(rec);
		rec = NULL;
		n_rec = 0;
	}
	*missing = unpinned(rec, n_rec, links, n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		const struct link_state *l = &links[i];
		char here[IF_NAMESIZE];

		json_object_object_add(o, "interface", json_object_new_string(l->name));
		json_object_object_add(o, "ifindex", json_object_new_int(l->ifindex));
		/*
		 * Its ifindex's name here: another after a rename, or where the link was attached
		 * in another network namespace (ifindexes are per namespace); null for none.
		 */
		json_object_object_add(o, "interface_here", l->ifindex > 0 &&
				       if_indextoname(l->ifindex, here) ?
				       json_object_new_string(here) : NULL);
		/* The name resolves only in the interface's own network namespace. */
		json_object_object_add(o, "attached", json_object_new_boolean(l->ifindex > 0));
		/* Not: an attach killed before it recorded it (attach again records it). */
		json_object_object_add(o, "recorded", recorded(known, rec, n_rec, l->name));
		json_object_object_add(o, "mode", json_object_new_string(
					   link_attach_mode(l->ifindex, l->prog_id)));
		json_object_object_add(o, "lookup", json_object_new_string(link_lookup_kind(l->prog_id)));
		json_object_object_add(o, "prog_id", json_object_new_int64(l->prog_id));
		json_object_array_add(arr, o);
	}
	free(links);
	free(rec);
	return arr;
}

/* The countries the data path's compiled tables tell apart; null when that is not recorded. */
static struct json_object *table_countries_json(const struct gb_ctx *ctx)
{
	__u64 countries[GB_COUNTRY_WORDS];
	struct json_object *a;
	char cc[3];

	if (table_cover(ctx, countries))
		return NULL;
	a = json_object_new_array();
	for (__u16 id = 1; id < GB_COUNTRY_COUNT; id++) {
		if (!(countries[id / 64] >> (id % 64) & 1))
			continue;
		country_code(id, cc);
		json_object_array_add(a, json_object_new_string(cc));
	}
	return a;
}

static struct json_object *table_json(const struct gb_ctx *ctx)
{
	struct json_object *o = json_object_new_object(), *mo = json_object_new_object();
	__u64 mem[TABLE_KINDS][2];
	struct geoip_info info = {};
	__u32 zero = 0;

	bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.geoip_info), &zero, &info);
	json_object_object_add(o, "loaded", json_object_new_boolean(info.loaded_at != 0));
	json_object_object_add(o, "source", json_object_new_string(info.source));
	json_object_object_add(o, "database_type", json_object_new_string(info.database_type));
	json_object_object_add(o, "build_epoch", json_object_new_int64(info.build_epoch));
	json_object_object_add(o, "loaded_at", json_object_new_int64(info.loaded_at));
	json_object_object_add(o, "v4_prefixes", json_object_new_int64(info.v4_prefixes));
	json_object_object_add(o, "v6_prefixes", json_object_new_int64(info.v6_prefixes));
	json_object_object_add(o, "v4_networks", json_object_new_int64(info.v4_networks));
	json_object_object_add(o, "v6_networks", json_object_new_int64(info.v6_networks));
	table_memory(ctx, mem);
	json_object_object_add(mo, "table_v4", json_object_new_int64(mem[TABLE_COMPILED][0]));
	json_object_object_add(mo, "table_v6", json_object_new_int64(mem[TABLE_COMPILED][1]));
	json_object_object_add(mo, "networks_v4", json_object_new_int64(mem[TABLE_NETWORKS][0]));
	json_object_object_add(mo, "networks_v6", json_object_new_int64(mem[TABLE_NETWORKS][1]));
	json_object_object_add(mo, "lpm_v4", json_object_new_int64(mem[TABLE_LPM][0]));
	json_object_object_add(mo, "lpm_v6", json_object_new_int64(mem[TABLE_LPM][1]));
	json_object_object_add(o, "kernel_memory_bytes", mo);
	json_object_object_add(o, "table_countries", table_countries_json(ctx));
	return o;
}

/* Shared ports: how many, the ufrags, and what the ICE maps cost the kernel. */
static struct json_object *ice_json(const struct gb_ctx *ctx, const struct rules *r)
{
	struct json_object *o = json_object_new_object(), *mo = json_object_new_object();
	bool suspended;
	size_t cached;

	json_object_object_add(o, "shared_ports", json_object_new_int(rules_shared_count(r)));
	json_object_object_add(o, "ufrags", json_object_new_uint64(r->uf.used));
	hot_census(&r->uf.hot, &cached, &suspended);
	json_object_object_add(o, "senders_cached", json_object_new_uint64(cached));
	json_object_object_add(o, "senders_cache_suspended", json_object_new_boolean(suspended));
	json_object_object_add(mo, "senders", json_object_new_uint64(
				       map_memlock(bpf_map__fd(ctx->skel->maps.ice_sender_sets)) +
				       map_memlock(bpf_map__fd(ctx->skel->maps.ice_hot)) +
				       map_memlock(bpf_map__fd(ctx->skel->maps.ice_consent))));
	json_object_object_add(mo, "ufrags", json_object_new_uint64(
				       map_memlock(bpf_map__fd(ctx->skel->maps.meeting_by_ufrag)) +
				       map_memlock(bpf_map__fd(ctx->skel->maps.meeting_by_long_ufrag)) +
				       map_memlock(bpf_map__fd(ctx->skel->maps.ufrag_sets))));
	json_object_object_add(mo, "ufrag_slots", json_object_new_uint64(
				       map_memlock(bpf_map__fd(ctx->skel->maps.ufrag_owner))));
	json_object_object_add(o, "kernel_memory_bytes", mo);
	return o;
}

/* Maps an earlier version left pinned, and whether a loaded program still reads each. */
static struct json_object *retired_json(const struct gb_ctx *ctx)
{
	struct json_object *a = json_object_new_array();
	struct retired_map maps[RETIRED_MAPS_MAX];
	int n = retired_read(ctx, maps, RETIRED_MAPS_MAX);

	for (int i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(maps[i].name));
		json_object_object_add(o, "read_by_a_program", json_object_new_boolean(maps[i].in_use));
		json_object_object_add(o, "kernel_memory_bytes", json_object_new_uint64(maps[i].bytes));
		json_object_array_add(a, o);
	}
	return a;
}

int status_json(const struct gb_ctx *ctx, struct json_object **out)
{
	struct json_object *ice;
	struct country_census census;
	struct json_object *top, *short_of, *missing;
	struct rules r;
	int meetings = 0, err;

	err = rules_read(ctx, &r);
	if (err)
		return err;
	err = countries_census(ctx, &census);
	if (err) {
		rules_free(&r);
		return err;
	}
	/* Meetings blocking a country the loaded table has no network for: they block nothing there. */
	short_of = json_object_new_array();
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		const struct meeting_policy *p = &r.policies[id];
		char none[GB_COUNTRY_COUNT * 3 + 1];

		if (!(p->flags & GB_MEETING_ACTIVE))
			continue;
		meetings++;
		countries_without_networks(&census, p->blocked, none, sizeof(none));
		if (*none)
			json_object_array_add(short_of, json_object_new_string(p->name));
	}
	ice = ice_json(ctx, &r);
	rules_free(&r);

	top = json_object_new_object();
	json_object_object_add(top, "version", json_object_new_string(GB_VERSION));
	json_object_object_add(top, "pin_dir", json_object_new_string(ctx->pin_dir));
	json_object_object_add(top, "state_dir", json_object_new_string(ctx->state_dir));
	json_object_object_add(top, "attachments", attachments(ctx, &missing));
	json_object_object_add(top, "attachments_not_pinned", missing);
	json_object_object_add(top, "geoip", table_json(ctx));
	json_object_object_add(top, "meetings", json_object_new_int(meetings));
	json_object_object_add(top, "ice", ice);
	json_object_object_add(top, "retired_maps", retired_json(ctx));
	json_object_object_add(top, "meetings_blocking_countries_without_networks", short_of);
	/* A geoip load killed between staging its copy for restore and putting it in place. */
	json_object_object_add(top, "geoip_load_interrupted",
			       json_object_new_boolean(geoip_kept_pending(ctx)));
	*out = top;
	return 0;
}

bool report_interrupted(const struct gb_ctx *ctx)
{
	char path[PATH_MAX];
	bool under_way = false;
	int fd;

	/* Without a log no change was ever made here (and a reader creates none). */
	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, GB_LOG_FILE);
	if (access(path, F_OK))
		return false;
	snprintf(path, sizeof(path), "%s/lock", ctx->state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	/* Held by a change being made now, it is not interrupted; else no change starts meanwhile. */
	if (!flock(fd, LOCK_SH | LOCK_NB) && changelog_under_way(ctx, &under_way))
		under_way = false;
	close(fd);
	return under_way;
}
