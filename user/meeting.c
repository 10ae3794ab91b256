// SPDX-License-Identifier: GPL-2.0
/*
 * Meetings: which ports belong to which meeting and which countries it blocks. Every change runs
 * under the state lock and becomes visible to the data path in one step (the ACTIVE flag).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "common.h"
#include "maps.h"
#include "meeting.h"
#include "geoblock.skel.h"

int rules_read(const struct gb_ctx *ctx, struct rules *r)
{
	int err;

	memset(r, 0, sizeof(*r));
	r->policies = calloc(GB_MAX_MEETINGS, sizeof(*r->policies));
	r->owners = calloc(GB_PORT_COUNT, sizeof(*r->owners));
	if (!r->policies || !r->owners) {
		rules_free(r);
		return -ENOMEM;
	}
	err = read_array(bpf_map__fd(ctx->skel->maps.meeting_policy), GB_MAX_MEETINGS,
			 sizeof(*r->policies), r->policies);
	if (!err)
		err = read_array(bpf_map__fd(ctx->skel->maps.meeting_by_port), GB_PORT_COUNT,
				 sizeof(*r->owners), r->owners);
	if (err) {
		gb_err("cannot read the rule maps: %s", strerror(-err));
		rules_free(r);
	}
	return err;
}

void rules_free(struct rules *r)
{
	free(r->policies);
	free(r->owners);
	r->policies = NULL;
	r->owners = NULL;
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

/* Deletes every drop counter of meeting id, so a later meeting with that id starts at zero. */
static int clear_counters(const struct gb_ctx *ctx, __u32 id)
{
	int fd = bpf_map__fd(ctx->skel->maps.drop_stats);
	struct drop_key key, next, *doomed = NULL;
	size_t n = 0, cap = 0;
	void *prev = NULL;
	int err = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (next.meeting_id == id) {
			if (n == cap) {
				struct drop_key *d = realloc(doomed, (cap = cap ? cap * 2 : 64) * sizeof(*d));

				if (!d) {
					free(doomed);
					return -ENOMEM;
				}
				doomed = d;
			}
			doomed[n++] = next;
		}
		key = next;
		prev = &key;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_delete_elem(fd, &doomed[i]) && errno != ENOENT)
			err = -errno;
	free(doomed);
	return err;
}

/*
 * Removes meeting id in the order that keeps the data path consistent: stop enforcing first, then
 * release ports and counters, then free the slot. Also finishes a removal or an addition that a
 * killed process left half done.
 */
static int remove_meeting(const struct gb_ctx *ctx, struct rules *r, __u32 id)
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
	err = clear_counters(ctx, id);
	if (err)
		return err;
	memset(&p, 0, sizeof(p));
	return set_policy(ctx, r, id, &p);
}

int rules_repair(const struct gb_ctx *ctx, struct rules *r)
{
	int err;

	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		const struct meeting_policy *p = &r->policies[id];

		if (!(p->flags & GB_MEETING_ACTIVE) && (p->name[0] || p->flags)) {
			err = remove_meeting(ctx, r, id);
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
	return 0;
}

/* The rules file in the state dir: the rule set as `meeting add` lines, for restore. */
static int save_rules(const struct gb_ctx *ctx, const struct rules *r)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int err;

	if (!buf)
		return -ENOMEM;
	len = snprintf(buf, cap, "# geoblock rules, written by geoblock after every change\n");
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		const struct meeting_policy *p = &r->policies[id];
		char ports[8192], countries[GB_COUNTRY_COUNT * 3 + 1];
		__u8 set[GB_PORT_COUNT / 8];
		size_t need;

		if (!(p->flags & GB_MEETING_ACTIVE))
			continue;
		rules_ports_of(r, id, set);
		if (format_ports(set, ports, sizeof(ports)) ||
		    format_countries(p->blocked, countries, sizeof(countries))) {
			free(buf);
			return -ENOSPC;
		}
		need = strlen(p->name) + strlen(ports) + strlen(countries) + 64;
		if (len + need > cap) {
			char *b = realloc(buf, cap = (len + need) * 2);

			if (!b) {
				free(buf);
				return -ENOMEM;
			}
			buf = b;
		}
		len += snprintf(buf + len, cap - len, "meeting add %s --ports %s --block %s%s\n",
				p->name, ports, countries,
				p->flags & GB_MEETING_MONITOR ? " --monitor" : "");
	}
	err = gb_write_file_atomic(ctx->state_dir, "rules", buf, len);
	free(buf);
	return err;
}

static int finish_change(const struct gb_ctx *ctx, const struct rules *r)
{
	int err = save_rules(ctx, r);

	if (err)
		gb_err("rule applied, but %s/rules could not be written: %s", ctx->state_dir,
		       strerror(-err));
	return err;
}

static void add_usage(void)
{
	printf("Usage: geoblock meeting add NAME --ports LIST --block CC[,CC...] [--monitor]\n"
	       "  NAME      letters, digits, '.', '_', '-'; at most %d characters\n"
	       "  --ports   ports and ranges, e.g. 8801,8802-8810 (1-65535, owned by no other meeting)\n"
	       "  --block   ISO 3166-1 alpha-2 country codes, case-insensitive\n"
	       "  --monitor count what would be dropped, drop nothing\n",
	       GB_MEETING_NAME_LEN - 1);
}

static int meeting_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ports", required_argument, NULL, 'p' },
		{ "block", required_argument, NULL, 'b' },
		{ "monitor", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ports_arg = NULL, *block_arg = NULL, *name;
	struct meeting_policy policy = {};
	static __u8 ports[GB_PORT_COUNT / 8];
	struct gb_ctx ctx;
	struct rules r;
	bool monitor = false;
	char err_msg[160];
	__u32 id, done = 0;
	int opt, err, ret = GB_EXIT_FAIL;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			ports_arg = optarg;
			break;
		case 'b':
			block_arg = optarg;
			break;
		case 'm':
			monitor = true;
			break;
		case 'h':
			add_usage();
			return GB_EXIT_OK;
		default:
			return GB_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		gb_err("expected one meeting NAME; see -h");
		return GB_EXIT_USAGE;
	}
	name = argv[optind];
	if (!meeting_name_valid(name)) {
		gb_err("invalid meeting name \"%.64s\": use 1-%d letters, digits, '.', '_', '-'", name,
		       GB_MEETING_NAME_LEN - 1);
		return GB_EXIT_USAGE;
	}
	if (!ports_arg || !block_arg) {
		gb_err("--ports and --block are required; see -h");
		return GB_EXIT_USAGE;
	}
	if (parse_ports(ports_arg, ports, err_msg, sizeof(err_msg)) ||
	    parse_countries(block_arg, policy.blocked, err_msg, sizeof(err_msg))) {
		gb_err("%s", err_msg);
		return GB_EXIT_USAGE;
	}

	if (gb_open(&ctx, GB_OPEN_LOCKED))
		return GB_EXIT_FAIL;
	if (rules_read(&ctx, &r))
		goto out_close;
	err = rules_repair(&ctx, &r);
	if (err) {
		gb_err("cannot repair an interrupted change: %s", strerror(-err));
		goto out;
	}
	if (rules_find(&r, name)) {
		gb_err("meeting \"%s\" already exists; delete it first or pick another name", name);
		ret = GB_EXIT_USAGE;
		goto out;
	}
	for (__u32 p = 1; p < GB_PORT_COUNT; p++) {
		__u32 owner = r.owners[p].meeting_id;

		if (port_isset(ports, p) && owner) {
			gb_err("port %u already belongs to meeting \"%s\"", p, r.policies[owner].name);
			ret = GB_EXIT_USAGE;
			goto out;
		}
	}
	for (id = 1; id < GB_MAX_MEETINGS; id++)
		if (!r.policies[id].name[0] && !r.policies[id].flags)
			break;
	if (id == GB_MAX_MEETINGS) {
		gb_err("all %d meeting slots are in use; delete a meeting first", GB_MAX_MEETINGS - 1);
		goto out;
	}

	/* Written inactive first; the data path sees the meeting only once every port is set. */
	snprintf(policy.name, sizeof(policy.name), "%s", name);
	policy.created = time(NULL);
	err = set_policy(&ctx, &r, id, &policy);
	for (__u32 p = 1; p < GB_PORT_COUNT && !err; p++) {
		if (!port_isset(ports, p))
			continue;
		err = set_owner(&ctx, &r, p, id);
		done++;
	}
	if (!err) {
		policy.flags = GB_MEETING_ACTIVE | GB_MEETING_UDP | (monitor ? GB_MEETING_MONITOR : 0);
		err = set_policy(&ctx, &r, id, &policy);
	}
	if (err) {
		gb_err("cannot write meeting \"%s\" to the maps: %s", name, strerror(-err));
		if (remove_meeting(&ctx, &r, id))
			gb_warn("rollback incomplete; the next change finishes it");
		goto out;
	}
	if (finish_change(&ctx, &r))
		goto out;
	printf("meeting %s added: %u port%s, blocking %s%s\n", name, done, done == 1 ? "" : "s",
	       block_arg, monitor ? " (monitor mode: counting only)" : "");
	ret = GB_EXIT_OK;
out:
	rules_free(&r);
out_close:
	gb_close(&ctx);
	return ret;
}

static int meeting_del(int argc, char **argv)
{
	struct gb_ctx ctx;
	struct rules r;
	int err, ret = GB_EXIT_FAIL;
	__u32 id;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: geoblock meeting del NAME\n");
		return GB_EXIT_OK;
	}
	if (argc != 2) {
		gb_err("expected one meeting NAME");
		return GB_EXIT_USAGE;
	}
	if (gb_open(&ctx, GB_OPEN_LOCKED))
		return GB_EXIT_FAIL;
	if (rules_read(&ctx, &r))
		goto out_close;
	err = rules_repair(&ctx, &r);
	if (err) {
		gb_err("cannot repair an interrupted change: %s", strerror(-err));
		goto out;
	}
	id = rules_find(&r, argv[1]);
	if (!id) {
		gb_err("no meeting \"%.64s\"; see 'geoblock meeting list'", argv[1]);
		ret = GB_EXIT_USAGE;
		goto out;
	}
	err = remove_meeting(&ctx, &r, id);
	if (err) {
		gb_err("cannot remove meeting \"%s\": %s", argv[1], strerror(-err));
		goto out;
	}
	if (finish_change(&ctx, &r))
		goto out;
	printf("meeting %s deleted\n", argv[1]);
	ret = GB_EXIT_OK;
out:
	rules_free(&r);
out_close:
	gb_close(&ctx);
	return ret;
}

static struct json_object *meeting_json(const struct rules *r, __u32 id)
{
	const struct meeting_policy *p = &r->policies[id];
	struct json_object *o = json_object_new_object(), *block = json_object_new_array();
	static __u8 set[GB_PORT_COUNT / 8];
	static char ports[GB_PORT_COUNT * 7];

	rules_ports_of(r, id, set);
	format_ports(set, ports, sizeof(ports));
	for (__u16 c = 1; c < GB_COUNTRY_COUNT; c++) {
		char cc[3];

		if (!(p->blocked[c / 64] & (1ULL << (c % 64))))
			continue;
		country_code(c, cc);
		json_object_array_add(block, json_object_new_string(cc));
	}
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "ports", json_object_new_string(ports));
	json_object_object_add(o, "block", block);
	json_object_object_add(o, "mode", json_object_new_string(
				   p->flags & GB_MEETING_MONITOR ? "monitor" : "enforce"));
	json_object_object_add(o, "created", json_object_new_int64(p->created));
	return o;
}

static int meeting_list(int argc, char **argv)
{
	bool json = argc == 2 && !strcmp(argv[1], "--json");
	struct gb_ctx ctx;
	struct rules r;
	int ret = GB_EXIT_FAIL;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: geoblock meeting list [--json]\n");
		return GB_EXIT_OK;
	}
	if (argc > 2 || (argc == 2 && !json)) {
		gb_err("unexpected argument \"%.64s\"; usage: meeting list [--json]", argv[argc - 1]);
		return GB_EXIT_USAGE;
	}
	if (gb_open(&ctx, 0))
		return GB_EXIT_FAIL;
	if (rules_read(&ctx, &r))
		goto out_close;
	if (json) {
		struct json_object *arr = json_object_new_array();

		for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
			if (r.policies[id].flags & GB_MEETING_ACTIVE)
				json_object_array_add(arr, meeting_json(&r, id));
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(arr);
	} else {
		printf("%-24s %-8s %-24s %s\n", "MEETING", "MODE", "PORTS", "BLOCKED");
		for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
			const struct meeting_policy *p = &r.policies[id];
			static __u8 set[GB_PORT_COUNT / 8];
			static char ports[GB_PORT_COUNT * 7];
			char countries[GB_COUNTRY_COUNT * 3 + 1];

			if (!(p->flags & GB_MEETING_ACTIVE))
				continue;
			rules_ports_of(&r, id, set);
			format_ports(set, ports, sizeof(ports));
			format_countries(p->blocked, countries, sizeof(countries));
			printf("%-24s %-8s %-24s %s\n", p->name,
			       p->flags & GB_MEETING_MONITOR ? "monitor" : "enforce", ports, countries);
		}
	}
	ret = GB_EXIT_OK;
	rules_free(&r);
out_close:
	gb_close(&ctx);
	return ret;
}

static void meeting_usage(void)
{
	printf("Usage: geoblock meeting add NAME --ports LIST --block CC[,CC...] [--monitor]\n"
	       "       geoblock meeting del NAME\n"
	       "       geoblock meeting list [--json]\n");
}

int cmd_meeting(int argc, char **argv)
{
	static const struct cmd cmds[] = {
		{ "add", meeting_add },
		{ "del", meeting_del },
		{ "list", meeting_list },
		{ NULL, NULL },
	};

	return cmd_select(cmds, argc - 1, argv + 1, meeting_usage, "meeting");
}
