// SPDX-License-Identifier: GPL-2.0
/*
 * The `shared-port` commands: add, del, list. A shared port's packets find their meeting by the
 * ICE ufrag their sender's Binding Request named (meeting ... --ufrag), not by the port.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "kern/counters.h"
#include "kern/hot.h"
#include "kern/maps.h"
#include "kern/pins.h"
#include "kern/senders.h"
#include "state/context.h"
#include "state/ops_ice.h"
#include "state/rules.h"
#include "state/report.h"
#include "state/shared_ports.h"
#include "api/spec_json.h"
#include "cli/cmd.h"
#include "cli/output.h"
#include "geoblock.skel.h"

static int shared_change(const struct cmd_args *a, bool add)
{
	static char now[GB_PORT_COUNT * 7];
	__u8 list[GB_PORT_COUNT / 8];
	struct ops_shared done;
	char err_msg[512];
	struct gb_ctx ctx;
	int err;

	if (parse_ports(a->pos[0], list, err_msg, sizeof(err_msg))) {
		gb_err("%s", err_msg);
		return GB_EXIT_USAGE;
	}
	if (gb_open(&ctx, GB_OPEN_LOCKED))
		return GB_EXIT_FAIL;
	err = ops_shared_ports(&ctx, NULL, add ? list : NULL, add ? NULL : list,
			       a->opt[OPT_REASON], &done);
	if (!err) {
		format_ports(done.after, now, sizeof(now));
		printf("shared ports: %s (%u %s)\n", *now ? now : "none", done.changed,
		       add ? "added" : "removed");
	}
	gb_close(&ctx);
	if (!err)
		return GB_EXIT_OK;
	return err == -EINVAL || err == -ENOENT || err == -EEXIST ? GB_EXIT_USAGE : GB_EXIT_FAIL;
}

int cmd_shared_port_add(const struct cmd_args *a)
{
	return shared_change(a, true);
}

int cmd_shared_port_del(const struct cmd_args *a)
{
	return shared_change(a, false);
}

int cmd_shared_port_list(const struct cmd_args *a)
{
	size_t live = 0, cached;
	bool suspended;
	__u64 evicted;
	static char text[GB_PORT_COUNT * 7];
	__u8 ports[GB_PORT_COUNT / 8];
	struct counters c;
	struct gb_ctx ctx;
	struct rules r;
	int ret = GB_EXIT_FAIL;

	if (gb_open(&ctx, GB_OPEN_READ))
		return GB_EXIT_FAIL;
	if (rules_read(&ctx, &r))
		goto out_close;
	if (counters_read(&ctx, &c)) {
		gb_err("cannot read the counters");
		goto out_rules;
	}
	/* Read whole (32 MiB, a fraction of a second), so only here, not in every scrape. */
	if (senders_count(bpf_map__fd(ctx.skel->maps.ice_sender_sets), &live)) {
		gb_err("cannot read the senders of shared ports");
		counters_free(&c);
		goto out_rules;
	}
	evicted = c.ice[GB_ICE_LEARNED] > live ? c.ice[GB_ICE_LEARNED] - live : 0;
	hot_census(&r.uf.hot, &cached, &suspended);
	shared_ports_live(&r, ports);
	if (a->opt[OPT_JSON]) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "ports", ports_to_json(ports));
		json_object_object_add(o, "ufrags", json_object_new_uint64(r.uf.used));
		json_object_object_add(o, "ufrags_max", json_object_new_uint64(GB_UFRAGS_MAX - 1));
		json_object_object_add(o, "senders", json_object_new_uint64(live));
		json_object_object_add(o, "senders_max", json_object_new_uint64(GB_ICE_TUPLES_MAX));
		json_object_object_add(o, "senders_evicted", json_object_new_uint64(evicted));
		json_object_object_add(o, "senders_cached", json_object_new_uint64(cached));
		json_object_object_add(o, "senders_cached_max",
				       json_object_new_uint64(GB_ICE_HOT_LINES * GB_ICE_HOT_WAYS));
		json_object_object_add(o, "senders_cache_suspended",
				       json_object_new_boolean(suspended));
		json_object_object_add(o, "ice_senders", ice_senders_json(&c));
		print_json(o);
	} else {
		format_ports(ports, text, sizeof(text));
		printf("shared ports: %s\n", *text ? text : "none");
		printf("ufrags:       %zu of %d\n", r.uf.used, GB_UFRAGS_MAX - 1);
		printf("senders:      %zu remembered of %d, %llu evicted\n", live, GB_ICE_TUPLES_MAX,
		       (unsigned long long)evicted);
		printf("cached:       %zu of %d senders%s\n", cached, GB_ICE_HOT_LINES * GB_ICE_HOT_WAYS,
		       suspended ? ", unused: a change is clearing it, or stopped doing so (a "
				   "running daemon or the next change repairs it)" : "");
		printf("requests:     %llu learned, %llu refreshed, %llu moved, %llu kept, %llu "
		       "rebound\n", (unsigned long long)c.ice[GB_ICE_LEARNED],
		       (unsigned long long)c.ice[GB_ICE_REFRESHED],
		       (unsigned long long)c.ice[GB_ICE_MOVED],
		       (unsigned long long)c.ice[GB_ICE_KEPT],
		       (unsigned long long)c.ice[GB_ICE_REBOUND]);
	}
	ret = GB_EXIT_OK;
	counters_free(&c);
out_rules:
	rules_free(&r);
out_close:
	gb_close(&ctx);
	return ret;
}
