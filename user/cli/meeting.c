// SPDX-License-Identifier: GPL-2.0
/*
 * The `meeting` commands: add, set, del, list, ports add|del. Every change runs under the state
 * lock, goes through state/ (which keeps the data path consistent at every step) and is audited
 * before returning.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/parse.h"
#include "lib/room_ids.h"
#include "kern/pins.h"
#include "state/expiry.h"
#include "state/context.h"
#include "state/countries.h"
#include "state/rules.h"
#include "state/rules_file.h"
#include "state/ops.h"
#include "state/ops_ice.h"
#include "state/shared_ports.h"
#include "api/spec_json.h"
#include "cli/cmd.h"
#include "cli/output.h"

/* The loaded table's networks per country: what meeting add checks and says, list marks. */
static struct country_census census;

/* A change's result as the command's exit code: bad input, a name or port taken: usage. */
static int exit_code(int err)
{
	if (!err)
		return GB_EXIT_OK;
	return err == -EINVAL || err == -ENOENT || err == -EEXIST ? GB_EXIT_USAGE : GB_EXIT_FAIL;
}

/* After name was given ufrags: a warning if no port is shared. */
static void warn_unshared(const struct gb_ctx *ctx, const char *name)
{
	char what[GB_MEETING_NAME_LEN + 16];

	snprintf(what, sizeof(what), "meeting %s", name);
	shared_ports_warn_none(ctx, what);
}

static void print_added(const struct meeting_spec *s)
{
	char countries[GB_COUNTRY_COUNT * 3 + 1], when[32];
	unsigned int ports = 0;

	for (__u32 p = 1; p < GB_PORT_COUNT; p++)
		ports += port_isset(s->ports, p);
	format_countries(s->blocked, countries, sizeof(countries));
	printf("meeting %s added: %u port%s (%s)", s->name, ports, ports == 1 ? "" : "s",
	       format_protos(s->flags));
	if (s->n_ufrags)
		printf(", %zu ufrag%s", s->n_ufrags, s->n_ufrags == 1 ? "" : "s");
	if (s->n_janus_rooms)
		printf(", %zu Janus room%s", s->n_janus_rooms, s->n_janus_rooms == 1 ? "" : "s");
	printf(", blocking %s", countries);
	if (s->n_allow)
		printf(", %zu exception%s", s->n_allow, s->n_allow == 1 ? "" : "s");
	if (s->expires && !format_rfc3339(s->expires, when, sizeof(when)))
		printf(", until %s", when);
	printf("%s\n", s->flags & GB_MEETING_MONITOR ? " (monitor mode: counting only)" : "");
}

int cmd_meeting_add(const struct cmd_args *a)
{
	struct meeting_spec s;
	struct gb_ctx ctx;
	char err_msg[512];
	int err;

	/* The grammar of apply files and the rules file too, hence not the table's parser. */
	err = spec_parse(a->argc, a->argv, time(NULL), 0, &s, err_msg, sizeof(err_msg));
	if (err == SPEC_HELP)
		return CMD_HELP;
	if (err) {
		gb_err("%s", err_msg);
		return GB_EXIT_USAGE;
	}
	if (gb_open(&ctx, GB_OPEN_LOCKED)) {
		spec_free(&s);
		return GB_EXIT_FAIL;
	}
	err = ops_meeting_add(&ctx, NULL, &s, &census);
	if (!err) {
		print_added(&s);
		countries_describe(&census, s.blocked, "  ", "  ", stdout);
		countries_warn(&census, s.blocked, s.name);
		if (s.n_ufrags)
			warn_unshared(&ctx, s.name);
	}
	gb_close(&ctx);
	spec_free(&s);
	return exit_code(err);
}

int cmd_meeting_set(const struct cmd_args *a)
{
	const char *name = a->pos[0];
	bool mode = a->opt[OPT_MONITOR], already;
	struct gb_ctx ctx;
	int err;

	if (gb_open(&ctx, GB_OPEN_LOCKED))
		return GB_EXIT_FAIL;
	err = ops_meeting_set(&ctx, NULL, name, mode, a->opt[OPT_REASON], &already);
	if (!err && already)
		printf("meeting %s is already in %s mode\n", name, mode ? "monitor" : "enforce");
	else if (!err)
		printf("meeting %s: %s mode%s\n", name, mode ? "monitor" : "enforce",
		       mode ? " (counting only)" : "");
	gb_close(&ctx);
	return exit_code(err);
}

int cmd_meeting_del(const struct cmd_args *a)
{
	struct gb_ctx ctx;
	int err;

	if (gb_open(&ctx, GB_OPEN_LOCKED))
		return GB_EXIT_FAIL;
	err = ops_meeting_del(&ctx, NULL, a->pos[0], a->opt[OPT_REASON]);
	if (!err)
		printf("meeting %s deleted\n", a->pos[0]);
	gb_close(&ctx);
	return exit_code(err);
}

/* meeting ports add|del NAME LIST: only the meeting's ports change (state/ports.c). */
static int meeting_ports(const struct cmd_args *a, bool add)
{
	static char ports[GB_PORT_COUNT * 7], owned[GB_PORT_COUNT * 7], held[GB_PORT_COUNT * 7];
	__u8 list[GB_PORT_COUNT / 8];
	static struct ops_ports done;
	const char *name = a->pos[0];
	char err_msg[512];
	struct gb_ctx ctx;
	int err;

	if (parse_ports(a->pos[1], list, err_msg, sizeof(err_msg))) {
		gb_err("%s", err_msg);
		return GB_EXIT_USAGE;
	}
	if (gb_open(&ctx, GB_OPEN_LOCKED))
		return GB_EXIT_FAIL;
	err = ops_meeting_ports(&ctx, NULL, name, add ? list : NULL, add ? NULL : list,
				a->opt[OPT_REASON], &done);
	if (!err) {
		for (size_t i = 0; i < sizeof(list); i++) {
			list[i] &= add ? done.before[i] & ~done.claimed[i] : 0;
			done.after[i] &= ~done.handles[i];
		}
		format_ports(done.after, ports, sizeof(ports));
		format_ports(list, owned, sizeof(owned));
		format_ports(done.handles, held, sizeof(held));
		/* Its ufrags or Janus rooms may be all it has left. */
		printf("meeting %s: ports %s (%u %s%s%s)%s%s\n", name, *ports ? ports : "none",
		       done.changed, add ? "added" : "removed",
		       *owned ? "; already its own: " : "", owned,
		       *held ? "; its Janus handles hold " : "", held);
	}
	gb_close(&ctx);
	return exit_code(err);
}

int cmd_meeting_ports_add(const struct cmd_args *a)
{
	return meeting_ports(a, true);
}

int cmd_meeting_ports_del(const struct cmd_args *a)
{
	return meeting_ports(a, false);
}

/* meeting ufrag add|del NAME LIST: only the meeting's ufrags change. */
static int meeting_ufrags(const struct cmd_args *a, bool add)
{
	const char *name = a->pos[0];
	struct ops_ufrags done;
	char err_msg[512], **list;
	struct gb_ctx ctx;
	size_t n;
	int err;

	if (parse_ufrags(a->pos[1], &list, &n, err_msg, sizeof(err_msg))) {
		gb_err("%s", err_msg);
		return GB_EXIT_USAGE;
	}
	if (gb_open(&ctx, GB_OPEN_LOCKED)) {
		ufrag_list_free(list, n);
		return GB_EXIT_FAIL;
	}
	err = ops_meeting_ufrags(&ctx, NULL, name, add ? list : NULL, add ? n : 0,
				 add ? NULL : list, add ? 0 : n, a->opt[OPT_REASON], &done);
	if (!err && add) {
		printf("meeting %s: %u ufrag%s added%s\n", name, done.added,
		       done.added == 1 ? "" : "s", done.added < n ? " (the others were its own)" : "");
		warn_unshared(&ctx, name);
	} else if (!err) {
		printf("meeting %s: %u ufrag%s removed\n", name, done.removed,
		       done.removed == 1 ? "" : "s");
	}
	gb_close(&ctx);
	ufrag_list_free(list, n);
	ufrag_list_free(done.after, done.n_after);
	return exit_code(err);
}

int cmd_meeting_ufrag_add(const struct cmd_args *a)
{
	return meeting_ufrags(a, true);
}

int cmd_meeting_ufrag_del(const struct cmd_args *a)
{
	return meeting_ufrags(a, false);
}

/*
 * The ports Janus handles in the meeting's rooms hold now (not the operator's: not in "ports"),
 * those the maps still give the meeting.
 */
static struct json_object *janus_ports_json(const struct rules *r, __u32 id)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < r->janus.n_ports; i++) {
		const struct janus_port *jp = &r->janus.ports[i];
		struct json_object *o;

		if (r->owners[jp->port].meeting_id != id ||
		    strcmp(jp->meeting, r->policies[id].name))
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "port", json_object_new_int(jp->port));
		json_object_object_add(o, "room", json_object_new_uint64(jp->room));
		json_object_object_add(o, "session", json_object_new_uint64(jp->session));
		json_object_object_add(o, "handle", json_object_new_uint64(jp->handle));
		json_object_array_add(arr, o);
	}
	return arr;
}

/*
 * A meeting as `meeting list --json` shows it: the spec as the API gives it (spec_to_json), ports
 * as its array of strings too, and what the maps add: id, expiry passed, creation time, and
 * warnings.
 */
static struct json_object *meeting_json(const struct rules *r, __u32 id,
					const struct meeting_spec *s)
{
	struct json_object *o = spec_to_json(s), *warnings = json_object_new_array();
	char none[GB_COUNTRY_COUNT * 3 + 1], line[GB_COUNTRY_COUNT * 3 + 64];
	const struct meeting_policy *p = &r->policies[id];

	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "expired", json_object_new_boolean(expiry_passed(p)));
	json_object_object_add(o, "created", json_object_new_int64(p->created));
	countries_without_networks(&census, p->blocked, none, sizeof(none));
	if (*none) {
		snprintf(line, sizeof(line), "the loaded GeoIP table has no network in %s", none);
		json_object_array_add(warnings, json_object_new_string(line));
	}
	json_object_object_add(o, "warnings", warnings);
	json_object_object_add(o, "janus_ports", janus_ports_json(r, id));
	return o;
}

/*
 * A line of `meeting list`: its columns of fixed width, then those whose width the longest value
 * sets (the last, the ufrags, is not padded).
 */
enum { TAIL_ALLOWED, TAIL_ROOMS, TAIL_PORTS, TAIL_UFRAGS, TAIL_COUNT };
struct list_line {
	char *head;
	char *tail[TAIL_COUNT];
};

static const char *const tail_names[TAIL_COUNT] = { "ALLOWED", "JANUS-ROOMS", "JANUS-PORTS",
						    "UFRAGS" };

/* The meeting's tail columns, each "-" when empty; 0 or -ENOMEM. */
static int list_tail(const struct rules *r, __u32 id, const struct meeting_spec *s,
		     struct list_line *l)
{
	size_t len[TAIL_COUNT], shown = 0;
	FILE *f[TAIL_COUNT];
	int err = 0, i;

	for (i = 0; i < TAIL_COUNT; i++) {
		f[i] = open_memstream(&l->tail[i], &len[i]);
		if (!f[i])
			err = -ENOMEM;
	}
	if (err)
		goto out;
	for (size_t k = 0; k < s->n_allow; k++) {
		char net[64];

		format_cidr(&s->allow[k], net, sizeof(net));
		fprintf(f[TAIL_ALLOWED], "%s%s", k ? "," : "", net);
	}
	if (s->n_janus_rooms)
		print_room_ids(f[TAIL_ROOMS], s->janus_rooms, s->n_janus_rooms);
	/* The ports the handles of its Janus rooms hold now. */
	for (size_t k = 0; k < r->janus.n_ports; k++) {
		const struct janus_port *jp = &r->janus.ports[k];

		if (r->owners[jp->port].meeting_id == id && !strcmp(jp->meeting, s->name))
			fprintf(f[TAIL_PORTS], "%s%u", shown++ ? "," : "", jp->port);
	}
	/* A meeting of a busy shared port may have thousands: the first few, then how many. */
	for (size_t k = 0; k < s->n_ufrags && k < 4; k++)
		fprintf(f[TAIL_UFRAGS], "%s%s", k ? "," : "", s->ufrags[k]);
	if (s->n_ufrags > 4)
		fprintf(f[TAIL_UFRAGS], " (+%zu more)", s->n_ufrags - 4);
out:
	for (i = 0; i < TAIL_COUNT; i++) {
		if (f[i] && ftell(f[i]) == 0)
			fputc('-', f[i]);
		if (f[i] && fclose(f[i]))
			err = -ENOMEM;
	}
	return err;
}

/* A meeting's line; *marked set when its countries get a mark (one the table has no network in). */
static int list_line(const struct rules *r, __u32 id, const struct meeting_spec *s,
		     struct list_line *l, int *marked)
{
	const struct meeting_policy *p = &r->policies[id];
	static char ports[GB_PORT_COUNT * 7];
	char countries[GB_COUNTRY_COUNT * 3 + 2], when[40] = "-", none[GB_COUNTRY_COUNT * 3 + 1];

	format_ports(s->ports, ports, sizeof(ports));
	if (!*ports)
		strcpy(ports, "-");
	format_countries(p->blocked, countries, sizeof(countries));
	countries_without_networks(&census, p->blocked, none, sizeof(none));
	if (*none) {
		strcat(countries, "!");
		*marked = 1;
	}
	if (s->expires && !format_rfc3339(s->expires, when, sizeof(when)) && expiry_passed(p))
		strcat(when, "(expired)");
	if (asprintf(&l->head, "%-24s %-8s %-8s %-24s %-12s %-30s", p->name,
		     p->flags & GB_MEETING_MONITOR ? "monitor" : "enforce",
		     format_protos(p->flags), ports, countries, when) < 0) {
		l->head = NULL;
		return -ENOMEM;
	}
	return list_tail(r, id, s, l);
}

/* The lines under a header, the tail columns as wide as their longest value or name. */
static void print_list(const struct list_line *v, size_t n)
{
	int w[TAIL_COUNT - 1];

	for (int i = 0; i < TAIL_COUNT - 1; i++) {
		w[i] = strlen(tail_names[i]);
		for (size_t k = 0; k < n; k++)
			if ((int)strlen(v[k].tail[i]) > w[i])
				w[i] = strlen(v[k].tail[i]);
	}
	printf("%-24s %-8s %-8s %-24s %-12s %-30s %-*s %-*s %-*s %s\n", "MEETING", "MODE", "PROTO",
	       "PORTS", "BLOCKED", "EXPIRES", w[0], tail_names[0], w[1], tail_names[1], w[2],
	       tail_names[2], tail_names[3]);
	for (size_t k = 0; k < n; k++)
		printf("%s %-*s %-*s %-*s %s\n", v[k].head, w[0], v[k].tail[0], w[1], v[k].tail[1],
		       w[2], v[k].tail[2], v[k].tail[3]);
}

static void list_lines_free(struct list_line *v, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		free(v[k].head);
		for (int i = 0; i < TAIL_COUNT; i++)
			free(v[k].tail[i]);
	}
	free(v);
}

int cmd_meeting_list(const struct cmd_args *a)
{
	bool json = a->opt[OPT_JSON];
	struct json_object *arr = NULL;
	struct list_line *lines = NULL;
	size_t n = 0;
	struct gb_ctx ctx;
	struct rules r;
	int ret = GB_EXIT_FAIL, marked = 0;

	if (gb_open(&ctx, GB_OPEN_READ))
		return GB_EXIT_FAIL;
	warn_interrupted(&ctx);
	if (countries_census(&ctx, &census) || rules_read(&ctx, &r))
		goto out_close;
	if (json)
		arr = json_object_new_array();
	else if (!(lines = calloc(GB_MAX_MEETINGS, sizeof(*lines)))) {
		gb_err("out of memory");
		goto out;
	}
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		struct meeting_spec s;
		int err = 0;

		if (!(r.policies[id].flags & GB_MEETING_ACTIVE))
			continue;
		if (rules_spec(&r, id, &s)) {
			gb_err("out of memory");
			goto out;
		}
		if (json)
			json_object_array_add(arr, meeting_json(&r, id, &s));
		else
			err = list_line(&r, id, &s, &lines[n++], &marked);
		spec_free(&s);
		if (err) {
			gb_err("out of memory");
			goto out;
		}
	}
	if (json) {
		print_json(arr);
		arr = NULL;
	} else {
		print_list(lines, n);
		if (marked)
			printf("! blocks a country the loaded GeoIP table has no network in: nothing "
			       "is blocked from it\n");
	}
	ret = GB_EXIT_OK;
out:
	if (lines)
		list_lines_free(lines, n);
	json_object_put(arr);
	rules_free(&r);
out_close:
	gb_close(&ctx);
	return ret;
}
