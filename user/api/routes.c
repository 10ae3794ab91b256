// SPDX-License-Identifier: GPL-2.0
/*
 * The control API's routes: one table (docs/api.yaml is its contract) and a handler per route,
 * each calling the same state/ functions as the CLI's command.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include "lib/errors.h"
#include "kern/counters.h"
#include "state/audit.h"
#include "state/countries.h"
#include "state/explain.h"
#include "state/ops.h"
#include "state/ops_ice.h"
#include "state/ops_steps.h"
#include "state/report.h"
#include "state/rules.h"
#include "state/shared_ports.h"
#include "api/body.h"
#include "api/spec_json.h"
#include "api/routes.h"

struct api_reply api_error(unsigned int status, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	return (struct api_reply){ status, o };
}

/*
 * An ops result as HTTP: its one error line, the status its errno means (-EPERM: a rule set a
 * fleet store manages refused the change; other EPERMs reach here as -EIO, ops_failure).
 */
static struct api_reply ops_reply(int err, struct json_object *ok)
{
	const char *msg = gb_last_error();

	if (!err)
		return (struct api_reply){ MHD_HTTP_OK, ok };
	json_object_put(ok);
	return api_error(err == -EINVAL ? MHD_HTTP_BAD_REQUEST : err == -ENOENT ?
			   MHD_HTTP_NOT_FOUND : err == -EEXIST ? MHD_HTTP_CONFLICT : err == -EPERM ?
			   MHD_HTTP_FORBIDDEN : MHD_HTTP_INTERNAL_SERVER_ERROR, *msg ? msg : strerror(-err));
}

/* Warnings of meeting's blocked countries the loaded table has no network in: the CLI's line. */
static struct json_object *warnings_of(const struct country_census *census, const __u64 *blocked,
				       const char *meeting)
{
	struct json_object *arr = json_object_new_array();
	char line[COUNTRIES_WARNING_LEN];

	if (*countries_warning(census, blocked, meeting, line, sizeof(line)))
		json_object_array_add(arr, json_object_new_string(line));
	return arr;
}

/* To warnings: that meeting (NULL: the body) was given ufrags while no port is shared, if so. */
static void warn_unshared(const struct gb_ctx *ctx, struct json_object *warnings,
			  const char *meeting)
{
	char what[GB_MEETING_NAME_LEN + 16], line[GB_MEETING_NAME_LEN + 128];

	snprintf(what, sizeof(what), meeting ? "meeting %s" : "the body", meeting);
	if (*shared_ports_none_says(ctx, what, line, sizeof(line)))
		json_object_array_add(warnings, json_object_new_string(line));
}

/* GET /v1/meetings, or one meeting when c->name is set. */
static struct api_reply get_meetings(struct api_call *c)
{
	struct json_object *arr = json_object_new_array(), *o = NULL;
	/* Not halfway through a change: a meeting replaced would seem gone, or portless. */
	int lock = ops_lock_shared(c->ctx), err;
	struct rules r;

	err = lock < -1 ? lock : rules_read(c->ctx, &r);
	if (err) {
		ops_unlock(lock);
		json_object_put(arr);
		return api_error(MHD_HTTP_INTERNAL_SERVER_ERROR, lock < -1 ? gb_last_error() :
				 "cannot read the rules");
	}
	for (__u32 id = 1; id < GB_MAX_MEETINGS && !err; id++) {
		struct meeting_spec s;

		if (!(r.policies[id].flags & GB_MEETING_ACTIVE))
			continue;
		if (c->name && strcmp(r.policies[id].name, c->name))
			continue;
		err = rules_spec(&r, id, &s);
		if (!err) {
			json_object_array_add(arr, spec_to_json(&s));
			spec_free(&s);
		}
	}
	rules_free(&r);
	ops_unlock(lock);
	if (err) {
		json_object_put(arr);
		return api_error(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	if (!c->name) {
		o = json_object_new_object();
		json_object_object_add(o, "meetings", arr);
		return (struct api_reply){ MHD_HTTP_OK, o };
	}
	if (json_object_array_length(arr))
		o = json_object_get(json_object_array_get_idx(arr, 0));
	json_object_put(arr);
	return o ? (struct api_reply){ MHD_HTTP_OK, o } :
		   api_error(MHD_HTTP_NOT_FOUND, "no such meeting");
}

static struct api_reply get_meeting(struct api_call *c)
{
	return get_meetings(c);
}

static struct api_reply put_meeting(struct api_call *c)
{
	struct country_census census;
	struct meeting_spec s;
	struct json_object *o;
	struct api_reply rep;
	char err_msg[512];
	bool created = false;
	int err;

	err = body_meeting(c->in, c->name, time(NULL), &s, err_msg, sizeof(err_msg));
	if (err)
		return api_error(err == -ENOMEM ? MHD_HTTP_INTERNAL_SERVER_ERROR :
				 MHD_HTTP_BAD_REQUEST, err_msg);
	err = ops_meeting_put(c->ctx, &c->who, &s, &census, &created);
	o = json_object_new_object();
	json_object_object_add(o, "meeting", spec_to_json(&s));
	json_object_object_add(o, "created", json_object_new_boolean(created));
	if (!err) {
		struct json_object *w = warnings_of(&census, s.blocked, s.name);

		if (s.n_ufrags)
			warn_unshared(c->ctx, w, s.name);
		json_object_object_add(o, "warnings", w);
	}
	rep = ops_reply(err, o);
	spec_free(&s);
	return rep;
}

static struct api_reply delete_meeting(struct api_call *c)
{
	struct json_object *o;
	const char *reason;
	char err_msg[512];

	if (body_delete(c->in, &reason, err_msg, sizeof(err_msg)))
		return api_error(MHD_HTTP_BAD_REQUEST, err_msg);
	o = json_object_new_object();
	json_object_object_add(o, "deleted", json_object_new_string(c->name));
	return ops_reply(ops_meeting_del(c->ctx, &c->who, c->name, reason), o);
}

static struct api_reply post_ports(struct api_call *c)
{
	/* Two port sets of each kind: on the heap, as the API serves requests in several threads. */
	struct { struct ports_body b; struct ops_ports done; } *w = calloc(1, sizeof(*w));
	struct json_object *o;
	struct api_reply rep;
	char err_msg[512];

	if (!w)
		return api_error(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	if (body_ports(c->in, &w->b, err_msg, sizeof(err_msg))) {
		rep = api_error(MHD_HTTP_BAD_REQUEST, err_msg);
		goto out;
	}
	rep = ops_reply(ops_meeting_ports(c->ctx, &c->who, c->name,
					  w->b.has_add ? w->b.add : NULL,
					  w->b.has_remove ? w->b.remove : NULL, w->b.reason, &w->done),
			json_object_new_object());
	if (rep.status == MHD_HTTP_OK) {
		o = rep.body;
		json_object_object_add(o, "name", json_object_new_string(c->name));
		for (size_t i = 0; i < sizeof(w->done.after); i++)
			w->done.after[i] &= ~w->done.handles[i];
		json_object_object_add(o, "ports", ports_to_json(w->done.after));
		json_object_object_add(o, "janus_ports", ports_to_json(w->done.handles));
		json_object_object_add(o, "changed", json_object_new_int64(w->done.changed));
	}
out:
	free(w);
	return rep;
}

static struct api_reply post_ufrags(struct api_call *c)
{
	struct ufrags_body b;
	struct ops_ufrags done = {};
	struct json_object *o, *w;
	struct api_reply rep;
	char err_msg[512];

	if (body_ufrags(c->in, &b, err_msg, sizeof(err_msg)))
		return api_error(MHD_HTTP_BAD_REQUEST, err_msg);
	rep = ops_reply(ops_meeting_ufrags(c->ctx, &c->who, c->name, b.add, b.n_add, b.remove,
					   b.n_remove, b.reason, &done),
			json_object_new_object());
	if (rep.status == MHD_HTTP_OK) {
		o = rep.body;
		json_object_object_add(o, "name", json_object_new_string(c->name));
		json_object_object_add(o, "ufrags", ufrags_to_json(done.after, done.n_after));
		json_object_object_add(o, "added", json_object_new_int64(done.added));
		json_object_object_add(o, "removed", json_object_new_int64(done.removed));
		w = json_object_new_array();
		if (b.n_add)
			warn_unshared(c->ctx, w, c->name);
		json_object_object_add(o, "warnings", w);
	}
	ufrag_list_free(done.after, done.n_after);
	body_ufrags_free(&b);
	return rep;
}

static struct api_reply post_apply(struct api_call *c)
{
	struct country_census census;
	char line[COUNTRIES_WARNING_LEN];
	struct json_object *o, *warnings;
	struct ops_counts n = {};
	struct apply_body b;
	struct api_reply rep;
	char err_msg[512];
	int err;

	err = body_apply(c->in, time(NULL), &b, err_msg, sizeof(err_msg));
	if (err)
		return api_error(err == -ENOMEM ? MHD_HTTP_INTERNAL_SERVER_ERROR :
				 MHD_HTTP_BAD_REQUEST, err_msg);
	err = ops_apply(c->ctx, &c->who, NULL, &b.want, b.check, b.reason, NULL, &census, &n);
	o = json_object_new_object();
	json_object_object_add(o, "check", json_object_new_boolean(b.check));
	json_object_object_add(o, "added", json_object_new_int64(n.add));
	json_object_object_add(o, "changed", json_object_new_int64(n.change));
	json_object_object_add(o, "switched_mode", json_object_new_int64(n.mode));
	json_object_object_add(o, "deleted", json_object_new_int64(n.deleted));
	json_object_object_add(o, "unchanged", json_object_new_int64(n.keep));
	warnings = json_object_new_array();
	/* No table: one line for the body, not one per meeting. */
	if (!err && *countries_set_warning(&census, &b.want, "the body", line, sizeof(line)))
		json_object_array_add(warnings, json_object_new_string(line));
	for (size_t i = 0; i < b.want.n && !err && census.loaded; i++) {
		struct json_object *w = warnings_of(&census, b.want.v[i].blocked,
						   b.want.v[i].name);

		for (size_t j = 0; j < json_object_array_length(w); j++)
			json_object_array_add(warnings, json_object_get(
						      json_object_array_get_idx(w, j)));
		json_object_put(w);
	}
	for (size_t i = 0; i < b.want.n && !err; i++)
		if (b.want.v[i].n_ufrags) {
			warn_unshared(c->ctx, warnings, NULL);
			break;
		}
	json_object_object_add(o, "warnings", warnings);
	rep = ops_reply(err, o);
	spec_list_free(&b.want);
	return rep;
}

static struct api_reply get_explain(struct api_call *c)
{
	const char *addr, *port, *proto, *ufrag, *sport;
	struct explanation e;
	int err;

	addr = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "addr");
	port = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "port");
	proto = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "proto");
	ufrag = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "ufrag");
	sport = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "sport");
	if (!addr || !port)
		return api_error(MHD_HTTP_BAD_REQUEST, "addr and port are required: /v1/explain?"
				   "addr=ADDR&port=PORT[&proto=udp|tcp][&ufrag=U|&sport=PORT]");
	err = explain_packet(c->ctx, addr, port, proto ? proto : "udp", ufrag, sport, &e);
	return ops_reply(err, err ? NULL : explanation_json(&e));
}

/* GET /v1/meetings/{name}/check?addr=A: would the meeting block A (`geoblock check --json`). */
static struct api_reply get_check(struct api_call *c)
{
	const char *addr;
	struct explanation e;
	int err;

	addr = MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "addr");
	if (!addr)
		return api_error(MHD_HTTP_BAD_REQUEST, "addr is required: "
				 "/v1/meetings/NAME/check?addr=ADDR");
	err = explain_check(c->ctx, c->name, addr, &e);
	return ops_reply(err, err ? NULL : explanation_json(&e));
}

static struct api_reply get_stats(struct api_call *c)
{
	struct json_object *o;
	struct counters cnt;
	int err;

	err = counters_read(c->ctx, &cnt);
	if (err)
		return api_error(MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read counters");
	o = stats_json(&cnt);
	counters_free(&cnt);
	return (struct api_reply){ MHD_HTTP_OK, o };
}

static struct api_reply get_status(struct api_call *c)
{
	struct json_object *o;

	if (status_json(c->ctx, &o))
		return api_error(MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the status");
	return (struct api_reply){ MHD_HTTP_OK, o };
}

/* Every route served: docs/api.yaml describes exactly these (tests/api/ checks it). */
static const struct api_route routes[] = {
	{ "GET", "/v1/meetings", get_meetings, NULL },
	{ "GET", "/v1/meetings/{name}", get_meeting, NULL },
	{ "PUT", "/v1/meetings/{name}", put_meeting, NULL },
	{ "DELETE", "/v1/meetings/{name}", delete_meeting, NULL },
	{ "POST", "/v1/meetings/{name}/ports", post_ports, NULL },
	{ "POST", "/v1/meetings/{name}/ufrags", post_ufrags, NULL },
	{ "GET", "/v1/meetings/{name}/check", get_check, "addr" },
	{ "POST", "/v1/apply", post_apply, NULL },
	{ "GET", "/v1/explain", get_explain, "addr,port,proto,ufrag,sport" },
	{ "GET", "/v1/stats", get_stats, NULL },
	{ "GET", "/v1/status", get_status, NULL },
	{}
};

void api_print_routes(FILE *out)
{
	for (const struct api_route *r = routes; r->method; r++)
		fprintf(out, "%s %s\n", r->method, r->path);
}

/* Whether url matches pattern; the {name} segment (at most one) copied into name. */
static bool path_matches(const char *pattern, const char *url, char *name, size_t len)
{
	while (*pattern && *url) {
		if (!strncmp(pattern, "{name}", 6)) {
			size_t n = strcspn(url, "/");

			if (!n)
				return false;
			/*
			 * One too long for name is cut to what fits, still far past a meeting
			 * name's limit: refused as any bad name is (400 from PUT), not taken for
			 * no route (404).
			 */
			memcpy(name, url, n < len ? n : len - 1);
			name[n < len ? n : len - 1] = '\0';
			pattern += 6;
			url += n;
			continue;
		}
		if (*pattern++ != *url++)
			return false;
	}
	return !*pattern && !*url;
}

const struct api_route *api_route_find(const char *method, const char *url, char *name,
				       size_t len, char *allow, size_t allow_len)
{
	const struct api_route *found = NULL;
	size_t at = 0;

	*allow = '\0';
	for (const struct api_route *r = routes; r->method; r++) {
		if (!path_matches(r->path, url, name, len))
			continue;
		/* HEAD is GET without the body (libmicrohttpd leaves it out). */
		if (!found && (!strcmp(r->method, method) ||
			       (!strcmp(method, "HEAD") && !strcmp(r->method, "GET"))))
			found = r;
		if (at < allow_len)
			at += snprintf(allow + at, allow_len - at, "%s%s%s", at ? ", " : "",
				       r->method, strcmp(r->method, "GET") ? "" : ", HEAD");
	}
	/* name holds the last path matched: matched again for the route found. */
	if (found)
		path_matches(found->path, url, name, len);
	return found;
}
