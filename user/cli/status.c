// SPDX-License-Identifier: GPL-2.0
/* `status`: the attachments, the GeoIP table and the meetings, for people and programs. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "lib/parse.h"
#include "kern/pins.h"
#include "lib/errors.h"
#include "state/context.h"
#include "state/report.h"
#include "cli/cmd.h"
#include "cli/output.h"

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

static bool get_bool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/* What the compiled tables tell apart: "for N countries", "for every country", or not known. */
static const char *table_for(struct json_object *geoip, char *buf, size_t len)
{
	struct json_object *c;
	size_t n;

	if (!json_object_object_get_ex(geoip, "table_countries", &c) || !c)
		return "for countries not recorded";
	n = json_object_array_length(c);
	if (n >= GB_COUNTRY_COUNT - 1)
		return "for every country";
	snprintf(buf, len, "for %zu countr%s", n, n == 1 ? "y" : "ies");
	return buf;
}

/* Maps an earlier version left: a line only if there are (the first change unpins the unread). */
static void print_retired(struct json_object *top)
{
	struct json_object *a, *m, *v;
	double read = 0, unread = 0;
	size_t n_read = 0, n;

	if (!json_object_object_get_ex(top, "retired_maps", &a) || !(n = json_object_array_length(a)))
		return;
	for (size_t i = 0; i < n; i++) {
		m = json_object_array_get_idx(a, i);
		json_object_object_get_ex(m, "read_by_a_program", &v);
		if (json_object_get_boolean(v)) {
			n_read++;
			read += get_int(m, "kernel_memory_bytes") / 1048576.0;
		} else {
			unread += get_int(m, "kernel_memory_bytes") / 1048576.0;
		}
	}
	printf("retired:   %zu map%s of an earlier version", n, n == 1 ? "" : "s");
	if (n_read)
		printf(", %zu still read by a loaded program, as one attached before the upgrade "
		       "(%.1f MiB; detach and attach again to free)", n_read, read);
	if (n_read < n)
		printf(", %zu read by none (%.1f MiB; the daemon or the next change unpins them)",
		       n - n_read, unread);
	printf("\n");
}

int cmd_status(const struct cmd_args *a)
{
	bool json = a->opt[OPT_JSON];
	struct json_object *top, *links, *geoip, *mem, *short_of, *ice, *cut, *missing;
	struct gb_ctx ctx;
	char told[32];
	bool interrupted, geoip_cut;
	int meetings;

	if (gb_open(&ctx, GB_OPEN_READ))
		return GB_EXIT_FAIL;
	if (status_json(&ctx, &top)) {
		gb_close(&ctx);
		return GB_EXIT_FAIL;
	}
	/* Said on stderr for --json, as by the other commands that read the maps; else in the text. */
	interrupted = json ? warn_interrupted(&ctx) : report_interrupted(&ctx);
	if (!json)
		warn_lost(&ctx);
	/* For programs too (the daemon's /v1/status leaves it out: its own changes roll one back). */
	json_object_object_add(top, "change_interrupted", json_object_new_boolean(interrupted));
	json_object_object_get_ex(top, "geoip_load_interrupted", &cut);
	geoip_cut = json_object_get_boolean(cut);
	json_object_object_get_ex(top, "attachments", &links);
	json_object_object_get_ex(top, "attachments_not_pinned", &missing);
	json_object_object_get_ex(top, "geoip", &geoip);
	json_object_object_get_ex(top, "meetings_blocking_countries_without_networks", &short_of);
	meetings = get_int(top, "meetings");
	if (json) {
		print_json(json_object_get(top));
	} else {
		size_t n = json_object_array_length(links);

		printf("pin dir:   %s\nstate dir: %s\n", ctx.pin_dir, ctx.state_dir);
		printf("attached:%s\n", n ? "" : "  nowhere");
		for (size_t i = 0; i < n; i++) {
			struct json_object *l = json_object_array_get_idx(links, i), *here, *rec = NULL;
			const char *name = get_str(l, "interface");
			long long idx = get_int(l, "ifindex");

			printf("  %-16s %s, %s lookup", name, get_str(l, "mode"),
			       get_str(l, "lookup"));
			json_object_object_get_ex(l, "interface_here", &here);
			if (idx > 0 && !here)
				printf(" (its interface, index %lld, is in another network "
				       "namespace)", idx);
			else if (here && strcmp(json_object_get_string(here), name))
				printf(" (its interface, index %lld, is %s here: renamed, or in "
				       "another network namespace)", idx,
				       json_object_get_string(here));
			/* Attach records it where the interface has the name (else it says why). */
			if (json_object_object_get_ex(l, "recorded", &rec) && rec &&
			    !json_object_get_boolean(rec) && here &&
			    !strcmp(json_object_get_string(here), name))
				printf(" (not recorded for restore: 'geoblock attach %s' records it)",
				       name);
			else if (rec && !json_object_get_boolean(rec))
				printf(" (not recorded for restore)");
			printf("\n");
		}
		for (size_t i = 0; i < json_object_array_length(missing); i++)
			printf("  %-16s recorded for restore, but no link is pinned for it "
			       "(geoblock restore attaches it)\n", json_object_get_string(
				       json_object_array_get_idx(missing, i)));
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
			printf("memory:    %.1f MiB compiled tables (%s), %.1f MiB network lists, %.1f "
			       "MiB LPM tries\n",
			       (get_int(mem, "table_v4") + get_int(mem, "table_v6")) / 1048576.0,
			       table_for(geoip, told, sizeof(told)),
			       (get_int(mem, "networks_v4") + get_int(mem, "networks_v6")) / 1048576.0,
			       (get_int(mem, "lpm_v4") + get_int(mem, "lpm_v6")) / 1048576.0);
		if (json_object_object_get_ex(top, "ice", &ice) &&
		    json_object_object_get_ex(ice, "kernel_memory_bytes", &mem))
			printf("ice:       %lld shared ports, %lld ufrags, %lld senders cached%s; "
			       "%.1f MiB senders (preallocated), %.1f MiB ufrags\n",
			       get_int(ice, "shared_ports"), get_int(ice, "ufrags"),
			       get_int(ice, "senders_cached"),
			       get_bool(ice, "senders_cache_suspended") ? " (cache unused until "
			       "a running daemon or the next change repairs it)" : "",
			       get_int(mem, "senders") / 1048576.0,
			       (get_int(mem, "ufrags") + get_int(mem, "ufrag_slots")) / 1048576.0);
		print_retired(top);
		printf("meetings:  %d", meetings);
		for (size_t i = 0; i < json_object_array_length(short_of); i++)
			printf("%s%s", i ? ", " : " (blocking a country without a network in the GeoIP "
			       "table: ", json_object_get_string(json_object_array_get_idx(short_of, i)));
		printf("%s\n", json_object_array_length(short_of) ? ")" : "");
		if (geoip_cut)
			printf("geoip:     a load died midway; the next change, or geoblock "
			       "restore, keeps the copy of the table that is live\n");
		if (interrupted)
			printf("change:    one died midway, not rolled back yet (the next change, or "
			       "geoblock restore, puts back the saved rule set)\n");
	}
	json_object_put(top);
	gb_close(&ctx);
	return GB_EXIT_OK;
}
