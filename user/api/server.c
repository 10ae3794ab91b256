// SPDX-License-Identifier: GPL-2.0
/*
 * The control API's server: a unix socket bound here (its directory 0750, itself 0660, both of
 * --api-group if given), libmicrohttpd serving HTTP/1.1 on it in one thread, requests routed by
 * one table (docs/api.yaml is its contract) to the same state/ops functions the CLI calls.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "state/audit.h"
#include "state/countries.h"
#include "state/ops.h"
#include "state/rules.h"
#include "api/spec_json.h"
#include "api/server.h"

#define CONNECTION_LIMIT	64
/* A client that sends nothing for this long is dropped: slow clients cannot hold the server. */
#define CONNECTION_TIMEOUT	10

struct api_server {
	const struct gb_ctx *ctx;
	struct MHD_Daemon *mhd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* One request's body, gathered as it comes; past API_BODY_MAX only counted. */
struct request {
	char *body;
	size_t len;
	bool too_big;
};

/* What a handler hands back: a status and a JSON body (owned). */
struct reply {
	unsigned int status;
	struct json_object *body;
};

struct call {
	struct api_server *api;
	struct MHD_Connection *conn;
	const char *name;		/* the {name} of the path, or NULL */
	struct json_object *in;		/* the parsed body, or NULL */
	struct audit_caller who;
	char command[300];
};

typedef struct reply (*handler_fn)(struct call *c);

static struct reply error_reply(unsigned int status, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	return (struct reply){ status, o };
}

/* An ops result as HTTP: its one error line, the status its errno means. */
static struct reply ops_reply(int err, struct json_object *ok)
{
	const char *msg = gb_last_error();

	if (!err)
		return (struct reply){ MHD_HTTP_OK, ok };
	json_object_put(ok);
	return error_reply(err == -EINVAL ? MHD_HTTP_BAD_REQUEST : err == -ENOENT ?
			   MHD_HTTP_NOT_FOUND : err == -EEXIST ? MHD_HTTP_CONFLICT :
			   MHD_HTTP_INTERNAL_SERVER_ERROR, *msg ? msg : strerror(-err));
}

/* Fields of a change body other than the ones named: refused, as in a spec. */
static int only_fields(struct json_object *in, const char *const *names, char *err, size_t len)
{
	if (!in)
		return 0;
	if (!json_object_is_type(in, json_type_object)) {
		snprintf(err, len, "the body must be a JSON object");
		return -EINVAL;
	}
	json_object_object_foreach(in, key, val) {
		bool ok = false;

		(void)val;
		for (int i = 0; names[i] && !ok; i++)
			ok = !strcmp(key, names[i]);
		if (!ok) {
			snprintf(err, len, "unknown field \"%.64s\"", key);
			return -EINVAL;
		}
	}
	return 0;
}

/* The optional "reason" of a change body; -EINVAL when it is not a string. */
static int reason_of(struct json_object *in, const char **reason)
{
	struct json_object *v;

	*reason = NULL;
	if (!in || !json_object_object_get_ex(in, "reason", &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -EINVAL;
	*reason = json_object_get_string(v);
	return 0;
}

static struct json_object *warnings_of(const struct country_census *census, const __u64 *blocked)
{
	struct json_object *arr = json_object_new_array();
	char none[GB_COUNTRY_COUNT * 3 + 1], line[GB_COUNTRY_COUNT * 3 + 64];

	countries_without_networks(census, blocked, none, sizeof(none));
	if (*none) {
		snprintf(line, sizeof(line), "the loaded GeoIP table has no network in %s", none);
		json_object_array_add(arr, json_object_new_string(line));
	}
	return arr;
}

/* The maps the daemon holds are still the pinned ones: else a change would go nowhere. */
static bool pins_stale(struct call *c, struct reply *out)
{
	if (gb_pins_current(c->api->ctx) != -ESTALE)
		return false;
	*out = error_reply(MHD_HTTP_SERVICE_UNAVAILABLE, "the pinned maps were re-created since "
			   "the daemon started; restart it");
	return true;
}

/* GET /v1/meetings, or one meeting when c->name is set. */
static struct reply get_meetings(struct call *c)
{
	struct json_object *arr = json_object_new_array(), *o = NULL;
	struct rules r;
	int err;

	err = rules_read(c->api->ctx, &r);
	if (err) {
		json_object_put(arr);
		return error_reply(MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the rules");
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
	if (err) {
		json_object_put(arr);
		return error_reply(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	}
	if (!c->name) {
		o = json_object_new_object();
		json_object_object_add(o, "meetings", arr);
		return (struct reply){ MHD_HTTP_OK, o };
	}
	if (json_object_array_length(arr))
		o = json_object_get(json_object_array_get_idx(arr, 0));
	json_object_put(arr);
	return o ? (struct reply){ MHD_HTTP_OK, o } :
		   error_reply(MHD_HTTP_NOT_FOUND, "no such meeting");
}

static struct reply get_meeting(struct call *c)
{
	return get_meetings(c);
}

static struct reply put_meeting(struct call *c)
{
	static struct country_census census;
	struct meeting_spec s;
	struct json_object *o;
	struct reply rep;
	char err_msg[512];
	bool created;
	int err;

	if (!c->in)
		return error_reply(MHD_HTTP_BAD_REQUEST, "a meeting spec is required as the body");
	err = spec_from_json(c->in, c->name, true, &s, err_msg, sizeof(err_msg));
	if (err)
		return error_reply(MHD_HTTP_BAD_REQUEST, err_msg);
	if (pins_stale(c, &rep))
		goto out;
	err = ops_meeting_put(c->api->ctx, &c->who, &s, &census, &created);
	o = json_object_new_object();
	json_object_object_add(o, "meeting", spec_to_json(&s));
	json_object_object_add(o, "created", json_object_new_boolean(created));
	if (!err)
		json_object_object_add(o, "warnings", warnings_of(&census, s.blocked));
	rep = ops_reply(err, o);
out:
	spec_free(&s);
	return rep;
}

static struct reply delete_meeting(struct call *c)
{
	static const char *const fields[] = { "reason", NULL };
	struct json_object *o;
	const char *reason;
	struct reply rep;
	char err_msg[128];

	if (only_fields(c->in, fields, err_msg, sizeof(err_msg)))
		return error_reply(MHD_HTTP_BAD_REQUEST, err_msg);
	if (reason_of(c->in, &reason))
		return error_reply(MHD_HTTP_BAD_REQUEST, "\"reason\" must be a string");
	if (pins_stale(c, &rep))
		return rep;
	o = json_object_new_object();
	json_object_object_add(o, "deleted", json_object_new_string(c->name));
	return ops_reply(ops_meeting_del(c->api->ctx, &c->who, c->name, reason), o);
}

static struct reply post_ports(struct call *c)
{
	static const char *const fields[] = { "add", "remove", "reason", NULL };
	static __u8 add[GB_PORT_COUNT / 8], remove[GB_PORT_COUNT / 8];
	static struct ops_ports done;
	bool has_add, has_remove;
	struct json_object *o;
	const char *reason;
	struct reply rep;
	char err_msg[512];

	if (!c->in)
		return error_reply(MHD_HTTP_BAD_REQUEST, "{\"add\":[...],\"remove\":[...]} is "
				   "required as the body");
	if (only_fields(c->in, fields, err_msg, sizeof(err_msg)) ||
	    ports_from_json(c->in, "add", add, &has_add, err_msg, sizeof(err_msg)) ||
	    ports_from_json(c->in, "remove", remove, &has_remove, err_msg, sizeof(err_msg)))
		return error_reply(MHD_HTTP_BAD_REQUEST, err_msg);
	if (reason_of(c->in, &reason))
		return error_reply(MHD_HTTP_BAD_REQUEST, "\"reason\" must be a string");
	if (!has_add && !has_remove)
		return error_reply(MHD_HTTP_BAD_REQUEST, "give ports to \"add\" or \"remove\"");
	if (pins_stale(c, &rep))
		return rep;
	rep = ops_reply(ops_meeting_ports(c->api->ctx, &c->who, c->name, has_add ? add : NULL,
					  has_remove ? remove : NULL, reason, &done),
			json_object_new_object());
	if (rep.status == MHD_HTTP_OK) {
		o = rep.body;
		json_object_object_add(o, "name", json_object_new_string(c->name));
		json_object_object_add(o, "ports", ports_to_json(done.after));
		json_object_object_add(o, "changed", json_object_new_int64(done.changed));
	}
	return rep;
}

static struct reply post_apply(struct call *c)
{
	static const char *const fields[] = { "meetings", "check", "reason", NULL };
	static struct country_census census;
	struct json_object *meetings, *check_v, *o, *warnings;
	struct ops_counts n = {};
	struct spec_list want;
	const char *reason;
	struct reply rep;
	char err_msg[512];
	bool check = false;
	int err;

	if (!c->in)
		return error_reply(MHD_HTTP_BAD_REQUEST, "{\"meetings\":[...]} is required as the "
				   "body");
	if (only_fields(c->in, fields, err_msg, sizeof(err_msg)))
		return error_reply(MHD_HTTP_BAD_REQUEST, err_msg);
	if (reason_of(c->in, &reason))
		return error_reply(MHD_HTTP_BAD_REQUEST, "\"reason\" must be a string");
	if (json_object_object_get_ex(c->in, "check", &check_v)) {
		if (!json_object_is_type(check_v, json_type_boolean))
			return error_reply(MHD_HTTP_BAD_REQUEST, "\"check\" must be true or false");
		check = json_object_get_boolean(check_v);
	}
	if (!json_object_object_get_ex(c->in, "meetings", &meetings))
		return error_reply(MHD_HTTP_BAD_REQUEST, "\"meetings\" is required");
	if (specs_from_json(meetings, &want, err_msg, sizeof(err_msg)))
		return error_reply(MHD_HTTP_BAD_REQUEST, err_msg);
	if (pins_stale(c, &rep))
		goto out;
	err = ops_apply(c->api->ctx, &c->who, NULL, &want, check, reason, NULL, &census, &n);
	o = json_object_new_object();
	json_object_object_add(o, "check", json_object_new_boolean(check));
	json_object_object_add(o, "added", json_object_new_int64(n.add));
	json_object_object_add(o, "changed", json_object_new_int64(n.change));
	json_object_object_add(o, "switched_mode", json_object_new_int64(n.mode));
	json_object_object_add(o, "deleted", json_object_new_int64(n.deleted));
	json_object_object_add(o, "unchanged", json_object_new_int64(n.keep));
	warnings = json_object_new_array();
	for (size_t i = 0; i < want.n && !err; i++) {
		struct json_object *w = warnings_of(&census, want.v[i].blocked);

		for (size_t j = 0; j < json_object_array_length(w); j++)
			json_object_array_add(warnings, json_object_get(
						      json_object_array_get_idx(w, j)));
		json_object_put(w);
	}
	json_object_object_add(o, "warnings", warnings);
	rep = ops_reply(err, o);
out:
	spec_list_free(&want);
	return rep;
}

/* Every route served: docs/api.yaml describes exactly these (tests/api/ checks it). */
static const struct route {
	const char *method;
	const char *path;	/* "{name}": one path segment, the meeting's name */
	handler_fn fn;
} routes[] = {
	{ "GET", "/v1/meetings", get_meetings },
	{ "GET", "/v1/meetings/{name}", get_meeting },
	{ "PUT", "/v1/meetings/{name}", put_meeting },
	{ "DELETE", "/v1/meetings/{name}", delete_meeting },
	{ "POST", "/v1/meetings/{name}/ports", post_ports },
	{ "POST", "/v1/apply", post_apply },
	{}
};

void api_print_routes(FILE *out)
{
	for (const struct route *r = routes; r->method; r++)
		fprintf(out, "%s %s\n", r->method, r->path);
}

/* Whether url matches pattern; the {name} segment (at most one) copied into name. */
static bool path_matches(const char *pattern, const char *url, char *name, size_t len)
{
	while (*pattern && *url) {
		if (!strncmp(pattern, "{name}", 6)) {
			size_t n = strcspn(url, "/");

			if (!n || n >= len)
				return false;
			memcpy(name, url, n);
			name[n] = '\0';
			pattern += 6;
			url += n;
			continue;
		}
		if (*pattern++ != *url++)
			return false;
	}
	return !*pattern && !*url;
}

/* The caller's uid and pid, read off the connection's socket. */
static void peer_of(struct MHD_Connection *conn, struct audit_caller *who)
{
	const union MHD_ConnectionInfo *info;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	who->uid = -1;
	who->pid = -1;
	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (info && !getsockopt(info->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len)) {
		who->uid = cred.uid;
		who->pid = cred.pid;
	}
}

static struct reply dispatch(struct api_server *api, struct MHD_Connection *conn,
			     const char *method, const char *url, struct request *req)
{
	char name[GB_MEETING_NAME_LEN * 4 + 1];
	bool path_known = false;
	struct call c = { .api = api, .conn = conn };
	enum json_tokener_error jerr;
	struct json_tokener *tok;
	struct reply rep;

	for (const struct route *r = routes; r->method; r++) {
		if (!path_matches(r->path, url, name, sizeof(name)))
			continue;
		path_known = true;
		if (strcmp(r->method, method))
			continue;
		if (req->too_big)
			return error_reply(MHD_HTTP_CONTENT_TOO_LARGE, "the body is over 1 MiB");
		if (req->len) {
			tok = json_tokener_new();
			if (!tok)
				return error_reply(MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
			c.in = json_tokener_parse_ex(tok, req->body, req->len);
			jerr = json_tokener_get_error(tok);
			/* Trailing bytes after the value are as bad as a value cut short. */
			if (jerr == json_tokener_success &&
			    json_tokener_get_parse_end(tok) != req->len)
				jerr = json_tokener_error_parse_unexpected;
			json_tokener_free(tok);
			if (jerr != json_tokener_success) {
				char msg[128];

				json_object_put(c.in);
				snprintf(msg, sizeof(msg), "the body is not JSON: %s",
					 jerr == json_tokener_continue ? "it ends too early" :
					 json_tokener_error_desc(jerr));
				return error_reply(MHD_HTTP_BAD_REQUEST, msg);
			}
		}
		c.name = strchr(r->path, '{') ? name : NULL;
		snprintf(c.command, sizeof(c.command), "%s %.250s", method, url);
		c.who.command = c.command;
		peer_of(conn, &c.who);
		rep = r->fn(&c);
		json_object_put(c.in);
		return rep;
	}
	if (path_known)
		return error_reply(MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed on this path");
	return error_reply(MHD_HTTP_NOT_FOUND, "no such route; see docs/api.yaml");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct api_server *api = cls;
	struct request *req = *state;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	struct reply rep;
	const char *text;

	(void)version;
	if (!req) {
		req = calloc(1, sizeof(*req));
		*state = req;
		return req ? MHD_YES : MHD_NO;
	}
	if (*upload_len) {
		if (!req->too_big && req->len + *upload_len > API_BODY_MAX) {
			req->too_big = true;
			free(req->body);
			req->body = NULL;
		}
		if (!req->too_big) {
			char *grown = realloc(req->body, req->len + *upload_len + 1);

			if (!grown)
				return MHD_NO;
			memcpy(grown + req->len, upload, *upload_len);
			req->body = grown;
			req->len += *upload_len;
		}
		*upload_len = 0;
		return MHD_YES;
	}
	rep = dispatch(api, conn, method, url, req);
	text = json_object_to_json_string_ext(rep.body, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	json_object_put(rep.body);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(conn, rep.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void request_done(void *cls, struct MHD_Connection *conn, void **state,
			 enum MHD_RequestTerminationCode code)
{
	struct request *req = *state;

	(void)cls;
	(void)conn;
	(void)code;
	if (req)
		free(req->body);
	free(req);
	*state = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	gb_warn("api: %s", msg);
}

/* The socket at path, its directory made 0750 and both given to gid (-1: left). */
static int listen_on(const char *path, gid_t gid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[PATH_MAX], *slash;
	struct stat st;
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		gb_err("--api %s: a socket path must be under %zu bytes", path,
		       sizeof(sun.sun_path));
		return -ENAMETOOLONG;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		err = mkdir_p(dir, 0750);
		if (!err && gid != (gid_t)-1 && chown(dir, -1, gid))
			err = -errno;
		if (err) {
			gb_err("--api: cannot make directory %s: %s", dir, strerror(-err));
			return err;
		}
	}
	/* A socket left by a daemon that died is replaced; any other file is not. */
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			gb_err("--api %s: exists and is not a socket", path);
			return -EEXIST;
		}
		unlink(path);
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    chmod(path, 0660) || (gid != (gid_t)-1 && chown(path, -1, gid)) || listen(fd, 64)) {
		err = -errno;
		gb_err("--api %s: cannot listen: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return err;
	}
	return fd;
}

int api_start(const struct gb_ctx *ctx, const char *path, const char *group,
	      struct api_server **out)
{
	struct api_server *api;
	gid_t gid = -1;
	int fd;

	if (group) {
		struct group *g = getgrnam(group);

		if (!g) {
			gb_err("--api-group: no group \"%s\"", group);
			return -EINVAL;
		}
		gid = g->gr_gid;
	}
	api = calloc(1, sizeof(*api));
	if (!api)
		return -ENOMEM;
	api->ctx = ctx;
	snprintf(api->path, sizeof(api->path), "%s", path);
	fd = listen_on(path, gid);
	if (fd < 0) {
		free(api);
		return fd;
	}
	/* One thread: changes run one at a time, and gb_last_error is this request's. */
	api->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
				    MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, api,
				    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				    MHD_OPTION_LISTEN_SOCKET, fd,
				    MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
				    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT,
				    MHD_OPTION_END);
	if (!api->mhd) {
		gb_err("--api %s: cannot start the HTTP server", path);
		close(fd);
		unlink(path);
		free(api);
		return -EIO;
	}
	*out = api;
	return 0;
}

void api_stop(struct api_server *a)
{
	if (!a)
		return;
	MHD_stop_daemon(a->mhd);
	unlink(a->path);
	free(a);
}
