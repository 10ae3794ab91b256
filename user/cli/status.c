// SPDX-License-Identifier: GPL-2.0
/* `status`: the attachments, the GeoIP table and the meetings, for people and programs. */
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "lib/errors.h"
#include "lib/parse.h"
#include "lib/version.h"
#include "kern/links.h"
#include "kern/pins.h"
#include "kern/table.h"
#include "state/context.h"
#include "state/countries.h"
#include "state/rules.h"
#include "cli/cmd.h"
#include "geoblock.skel.h"

/* Every pinned link: interface, mode, program. */
static struct json_object *attachments(const struct gb_ctx *ctx)
{
	struct json_object *arr = json_object_new_array();
	struct link_state *links;
	size_t n;

	if (links_read(ctx, &links, &n))
		return arr;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		const struct link_state *l = &links[i];

		json_object_object_add(o, "interface", json_object_new_string(l->name));
		json_object_object_add(o, "ifindex", json_object_new_int(l->ifindex));
		/* The name resolves only in the interface's own network namespace. */
		json_object_object_add(o, "attached", json_object_new_boolean(l->ifindex > 0));
		json_object_object_add(o, "mode", json_object_new_string(
					   link_attach_mode(l->ifindex, l->prog_id)));
		json_object_object_add(o, "lookup", json_object_new_string(link_lookup_kind(l->prog_id)));
		json_object_object_add(o, "prog_id", json_object_new_int64(l->prog_id));
		json_object_array_add(arr, o);
	}
	free(links);
	return arr;
}

static struct json_object *geoip_json(const struct gb_ctx *ctx)
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
	return o;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static long long get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

int cmd_status(const struct cmd_args *a)
{
	bool json = a->opt[OPT_JSON];
	struct json_object *top, *links, *geoip, *mem, *short_of;
	static struct country_census census;
	struct gb_ctx ctx;
	struct rules r;
	int meetings = 0;

	if (gb_open(&ctx, GB_OPEN_READ))
		return GB_EXIT_FAIL;
	if (rules_read(&ctx, &r)) {
		gb_close(&ctx);
		return GB_EXIT_FAIL;
	}
	if (countries_census(&ctx, &census)) {
		rules_free(&r);
		gb_close(&ctx);
		return GB_EXIT_FAIL;
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
	rules_free(&r);

	links = attachments(&ctx);
	geoip = geoip_json(&ctx);
	top = json_object_new_object();
	json_object_object_add(top, "version", json_object_new_string(GB_VERSION));
	json_object_object_add(top, "pin_dir", json_object_new_string(ctx.pin_dir));
	json_object_object_add(top, "state_dir", json_object_new_string(ctx.state_dir));
	json_object_object_add(top, "attachments", links);
	json_object_object_add(top, "geoip", geoip);
	json_object_object_add(top, "meetings", json_object_new_int(meetings));
	json_object_object_add(top, "meetings_blocking_countries_without_networks", short_of);
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		size_t n = json_object_array_length(links);

		printf("pin dir:   %s\nstate dir: %s\n", ctx.pin_dir, ctx.state_dir);
		printf("attached:  %s\n", n ? "" : "nowhere");
		for (size_t i = 0; i < n; i++) {
			struct json_object *l = json_object_array_get_idx(links, i);

			printf("  %-16s %s, %s lookup\n", get_str(l, "interface"), get_str(l, "mode"),
			       get_str(l, "lookup"));
		}
		if (get_int(geoip, "loaded_at")) {
			__s64 now = time(NULL);
			char built[64], loaded[64];

			format_time_age(get_int(geoip, "build_epoch"), now, built, sizeof(built));
			format_time_age(get_int(geoip, "loaded_at"), now, loaded, sizeof(loaded));
			printf("geoip:     %s, %lld IPv4 + %lld IPv6 prefixes\n"
			       "           built %s, loaded %s\n", get_str(geoip, "source"),
			       get_int(geoip, "v4_prefixes"), get_int(geoip, "v6_prefixes"), built,
			       loaded);
		} else {
			printf("geoip:     no table loaded (geoblock geoip load PATH)\n");
		}
		if (json_object_object_get_ex(geoip, "kernel_memory_bytes", &mem))
			printf("memory:    %.1f MiB compiled tables, %.1f MiB network lists, %.1f MiB LPM "
			       "tries\n", (get_int(mem, "table_v4") + get_int(mem, "table_v6")) / 1048576.0,
			       (get_int(mem, "networks_v4") + get_int(mem, "networks_v6")) / 1048576.0,
			       (get_int(mem, "lpm_v4") + get_int(mem, "lpm_v6")) / 1048576.0);
		printf("meetings:  %d", meetings);
		for (size_t i = 0; i < json_object_array_length(short_of); i++)
			printf("%s%s", i ? ", " : " (blocking a country without a network in the GeoIP "
			       "table: ", json_object_get_string(json_object_array_get_idx(short_of, i)));
		printf("%s\n", json_object_array_length(short_of) ? ")" : "");
	}
	json_object_put(top);
	gb_close(&ctx);
	return GB_EXIT_OK;
}
