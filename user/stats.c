// SPDX-License-Identifier: GPL-2.0
/* `stats`: the per-CPU verdict and drop counters, summed, for people and for programs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "common.h"
#include "maps.h"
#include "meeting.h"
#include "geoblock.skel.h"

/* Stable names of enum verdict_reason, used in JSON and metrics. */
static const char *const reason_names[GB_REASON_COUNT] = {
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

const char *verdict_name(unsigned int reason)
{
	return reason < GB_REASON_COUNT ? reason_names[reason] : "unknown";
}

static struct json_object *counter(__u64 packets, __u64 bytes)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "packets", json_object_new_uint64(packets));
	json_object_object_add(o, "bytes", json_object_new_uint64(bytes));
	return o;
}

static int verdicts_json(const struct gb_ctx *ctx, struct json_object *top)
{
	int fd = bpf_map__fd(ctx->skel->maps.verdict_stats);
	struct json_object *v = json_object_new_object();
	__u64 passed[2] = {};

	json_object_object_add(top, "verdicts", v);
	for (__u32 r = 0; r < GB_REASON_COUNT; r++) {
		__u64 sum[2];
		int err = percpu_sum(fd, &r, sum, 2);

		if (err)
			return err;
		json_object_object_add(v, reason_names[r], counter(sum[0], sum[1]));
		if (r != GB_DROP) {
			passed[0] += sum[0];
			passed[1] += sum[1];
		}
	}
	json_object_object_add(top, "passed", counter(passed[0], passed[1]));
	return 0;
}

static int drops_json(const struct gb_ctx *ctx, const struct rules *r, struct json_object *top)
{
	int fd = bpf_map__fd(ctx->skel->maps.drop_stats);
	struct json_object *arr = json_object_new_array();
	struct drop_key key, *prev = NULL;

	json_object_object_add(top, "drops", arr);
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		__u64 sum[4];
		struct json_object *o;
		char cc[3];
		int err;

		prev = &key;
		err = percpu_sum(fd, &key, sum, 4);
		if (err == -ENOENT)
			continue;	/* deleted since get_next_key */
		if (err)
			return err;
		if (!key.meeting_id || key.meeting_id >= GB_MAX_MEETINGS ||
		    !r->policies[key.meeting_id].name[0])
			continue;	/* a meeting being deleted */
		country_code(key.country, cc);
		o = json_object_new_object();
		json_object_object_add(o, "meeting",
				       json_object_new_string(r->policies[key.meeting_id].name));
		json_object_object_add(o, "country", json_object_new_string(cc));
		json_object_object_add(o, "packets", json_object_new_uint64(sum[0]));
		json_object_object_add(o, "bytes", json_object_new_uint64(sum[1]));
		json_object_object_add(o, "monitor_packets", json_object_new_uint64(sum[2]));
		json_object_object_add(o, "monitor_bytes", json_object_new_uint64(sum[3]));
		json_object_array_add(arr, o);
	}
	return 0;
}

static unsigned long long field(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

static void print_human(struct json_object *top)
{
	struct json_object *v, *drops, *passed, *c;

	json_object_object_get_ex(top, "verdicts", &v);
	json_object_object_get_ex(top, "passed", &passed);
	json_object_object_get_ex(top, "drops", &drops);
	printf("%-20s %14s %16s\n", "VERDICT", "PACKETS", "BYTES");
	for (int r = 0; r < GB_REASON_COUNT; r++) {
		json_object_object_get_ex(v, reason_names[r], &c);
		printf("%-20s %14llu %16llu\n", reason_names[r], field(c, "packets"), field(c, "bytes"));
	}
	printf("%-20s %14llu %16llu\n", "passed (all)", field(passed, "packets"),
	       field(passed, "bytes"));
	printf("\n%-24s %-7s %14s %16s %14s\n", "MEETING", "COUNTRY", "DROPPED", "BYTES",
	       "MONITOR HITS");
	for (size_t i = 0; i < json_object_array_length(drops); i++) {
		struct json_object *d = json_object_array_get_idx(drops, i), *m, *cc;

		json_object_object_get_ex(d, "meeting", &m);
		json_object_object_get_ex(d, "country", &cc);
		printf("%-24s %-7s %14llu %16llu %14llu\n", json_object_get_string(m),
		       json_object_get_string(cc), field(d, "packets"), field(d, "bytes"),
		       field(d, "monitor_packets"));
	}
}

int cmd_stats(int argc, char **argv)
{
	bool json = argc == 2 && !strcmp(argv[1], "--json");
	struct json_object *top;
	struct gb_ctx ctx;
	struct rules r;
	int err, ret = GB_EXIT_FAIL;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: geoblock stats [--json]\n"
		       "  verdict totals (every packet counted under one reason) and drops per\n"
		       "  (meeting, country), summed over CPUs\n");
		return GB_EXIT_OK;
	}
	if (argc > 2 || (argc == 2 && !json)) {
		gb_err("unexpected argument \"%.64s\"; usage: stats [--json]", argv[argc - 1]);
		return GB_EXIT_USAGE;
	}
	if (gb_open(&ctx, 0))
		return GB_EXIT_FAIL;
	if (rules_read(&ctx, &r))
		goto out_close;
	top = json_object_new_object();
	err = verdicts_json(&ctx, top);
	if (!err)
		err = drops_json(&ctx, &r, top);
	if (err) {
		gb_err("cannot read counters: %s", strerror(-err));
	} else {
		if (json)
			printf("%s\n", json_object_to_json_string_ext(
					       top, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			print_human(top);
		ret = GB_EXIT_OK;
	}
	json_object_put(top);
	rules_free(&r);
out_close:
	gb_close(&ctx);
	return ret;
}
