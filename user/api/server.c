// SPDX-License-Identifier: GPL-2.0
/*
 * The control API's server: libmicrohttpd serving HTTP/1.1 in a pool of threads on the unix socket
 * unix_socket.c makes; bodies gathered here and read as JSON (body.c), requests handed to their
 * route (routes.c), each in a thread of its own while its connection is set aside.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/parse.h"
#include "state/audit.h"
#include "api/body.h"
#include "api/routes.h"
#include "api/server.h"
#include "api/unix_socket.h"
#include "api/upload.h"

/*
 * Connections served at once: enough that a platform's idle keep-alive connections (hundreds) do
 * not shut out a new request; more wait in the listen queue until one ends. Each takes a
 * descriptor, so the limit of open files is raised to fit, or the limit lowered to it.
 */
#define CONNECTION_LIMIT	1024
#define FDS_KEPT		256	/* descriptors left for the rest of the daemon */
/*
 * Threads reading requests and writing replies. A request's work (a change waits for the state
 * lock) is done in a thread of its own, its connection suspended meanwhile: a change that waits
 * holds none of these, nor the other connections each serves. The changes that wait for the
 * lock meanwhile share the fdatasync that follows it.
 */
#define API_THREADS		8
/* A client that sends nothing for this long is dropped: slow clients cannot hold the server. */
#define CONNECTION_TIMEOUT	10

struct api_server {
	const struct gb_ctx *ctx;
	struct MHD_Daemon *mhd;
	struct unix_socket sock;
	pthread_mutex_t mu;	/* working, stopping */
	pthread_cond_t idle;	/* working is back to 0 */
	unsigned int working;	/* requests in a thread of their own */
	bool stopping;		/* api_stop: no more */
};

/*
 * One request: its path as the client sent it, decoded here (request_begin); its body gathered
 * as it comes, past API_BODY_MAX only counted.
 */
struct request {
	struct upload up;
	bool begun;		/* past the handler's first call, which sees the headers alone */
	bool worked;		/* handed to a thread of its own (work), or done */
	struct api_server *api;
	struct MHD_Connection *conn;
	const char *method;
	struct api_reply rep;	/* its reply, once worked */
	char allow[48];		/* a 405's Allow header */
	char path[];
};

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

/* The query parameters of a request, checked against those its route takes. */
struct query_check {
	const char *takes;
	char seen[8][16];
	int n;
	char why[300];
};

/* Whether comma-separated list names key. */
static bool list_has(const char *list, const char *key)
{
	size_t len = strchr(key, ',') ? 0 : strlen(key);

	for (const char *t = list; len && t; t = strchr(t, ',') ? strchr(t, ',') + 1 : NULL)
		if (!strncmp(t, key, len) && (t[len] == ',' || !t[len]))
			return true;
	return false;
}

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct query_check *q = cls;
	char shown[40 * 4 + 1];

	(void)kind;
	if (!*key && !value)		/* "&&", "?&": an empty segment */
		return MHD_YES;
	if (!list_has(q->takes, key)) {
		snprintf(q->why, sizeof(q->why), "unknown query parameter \"%s\"; this route "
			 "takes %s", printable(key, strlen(key), 40, shown, sizeof(shown)),
			 q->takes ? q->takes : "none");
		return MHD_NO;
	}
	if (!value) {
		snprintf(q->why, sizeof(q->why), "query parameter \"%s\" has no value (%s=...)", key,
			 key);
		return MHD_NO;
	}
	for (int i = 0; i < q->n; i++)
		if (!strcmp(q->seen[i], key)) {
			snprintf(q->why, sizeof(q->why), "query parameter \"%s\" given twice", key);
			return MHD_NO;
		}
	if (q->n < 8)
		snprintf(q->seen[q->n++], sizeof(q->seen[0]), "%s", key);
	return MHD_YES;
}

/* Sets *arg (a bool) if a Content-Encoding header, any of them, names more than identity. */
static enum MHD_Result content_encoded(void *arg, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	(void)kind;
	if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_ENCODING) && value && *value &&
	    strcasecmp(value, "identity"))
		*(bool *)arg = true;
	return MHD_YES;
}

/* The request's reply; allow (a 405's Allow header): the methods its path takes, else "". */
static struct api_reply dispatch(struct api_server *api, struct MHD_Connection *conn,
				 const char *method, const char *url, const struct upload *req,
				 char *allow, size_t allow_len)
{
	struct api_call c = { .ctx = api->ctx, .conn = conn };
	struct query_check q = {};
	char name[GB_MEETING_NAME_LEN * 4 + 1];
	const struct api_route *r;
	struct api_reply rep;
	char err_msg[128];
	bool encoded;
	int err;

	gb_clear_error();
	r = api_route_find(method, url, name, sizeof(name), allow, allow_len);
	if (!r && *allow) {
		snprintf(err_msg, sizeof(err_msg), "method not allowed on this path (it takes %s)",
			 allow);
		return api_error(MHD_HTTP_METHOD_NOT_ALLOWED, err_msg);
	}
	*allow = '\0';
	if (!r)
		return api_error(MHD_HTTP_NOT_FOUND, "no such route; see docs/api.yaml");
	/*
	 * The maps the daemon holds are still the pinned ones: else a change would go nowhere, and
	 * a read (a join-time check) would answer for maps no packet meets.
	 */
	if (gb_pins_current(api->ctx) == -ESTALE)
		return api_error(MHD_HTTP_SERVICE_UNAVAILABLE, "the pinned maps were re-created "
				 "since the daemon started; restart it");
	/* Too big whatever its coding (413, not 415 or 413 by the size of its first piece). */
	if (req->too_big)
		return api_error(MHD_HTTP_CONTENT_TOO_LARGE, "the body is over 1 MiB");
	/* A body is read as sent: one compressed would be read as bad JSON, or worse. */
	encoded = false;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, content_encoded, &encoded);
	if (req->len && encoded)
		return api_error(MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "a body with a Content-Encoding "
				 "is not taken: send it as it is");
	q.takes = r->query;
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_arg, &q);
	if (*q.why)
		return api_error(MHD_HTTP_BAD_REQUEST, q.why);
	err = body_json(req->body, req->len, &c.in, err_msg, sizeof(err_msg));
	if (err)
		return api_error(err == -ENOMEM ? MHD_HTTP_INTERNAL_SERVER_ERROR :
				 MHD_HTTP_BAD_REQUEST, err_msg);
	c.name = strchr(r->path, '{') ? name : NULL;
	snprintf(c.command, sizeof(c.command), "%s %.250s", method, url);
	c.who.command = c.command;
	peer_of(conn, &c.who);
	rep = r->fn(&c);
	json_object_put(c.in);
	return rep;
}

/*
 * A refused request in the daemon's log too, unless its route's one error line already went
 * there: a client's bug is seen where the operator looks, not only in the client's reply.
 */
static void log_refusal(const char *method, const char *url, const struct api_reply *rep)
{
	char how[16 * 4 + 1], shown[200 * 4 + 1];
	struct json_object *e;
	const char *msg;

	if (rep->status < 400 || !json_object_object_get_ex(rep->body, "error", &e))
		return;
	msg = json_object_get_string(e);
	if (!msg || !strcmp(msg, gb_last_error()))
		return;
	gb_err("%s %s: %u %s", printable(method, strlen(method), 16, how, sizeof(how)),
	       printable(url, strlen(url), 200, shown, sizeof(shown)), rep->status, msg);
}

/* A request's work, in a thread of its own; its connection is resumed with the reply ready. */
static void *work(void *arg)
{
	struct request *req = arg;
	struct api_server *api = req->api;

	/* After work_start: the connection is suspended. */
	pthread_mutex_lock(&api->mu);
	pthread_mutex_unlock(&api->mu);
	req->rep = dispatch(api, req->conn, req->method, req->path, &req->up, req->allow,
			    sizeof(req->allow));
	log_refusal(req->method, req->path, &req->rep);
	/* req may be gone once resumed: nothing of it after. */
	MHD_resume_connection(req->conn);
	pthread_mutex_lock(&api->mu);
	if (!--api->working)
		pthread_cond_broadcast(&api->idle);
	pthread_mutex_unlock(&api->mu);
	return NULL;
}

/* Hands req to work, its connection suspended; false if it cannot (done in place then). */
static bool work_start(struct request *req)
{
	struct api_server *api = req->api;
	pthread_attr_t attr;
	pthread_t t;
	bool started = false;

	if (pthread_attr_init(&attr))
		return false;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&api->mu);
	if (!api->stopping && !pthread_create(&t, &attr, work, req)) {
		MHD_suspend_connection(req->conn);
		api->working++;
		started = true;
	}
	pthread_mutex_unlock(&api->mu);
	pthread_attr_destroy(&attr);
	return started;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct request *req = *state;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text;

	(void)url;		/* decoded by libmicrohttpd, %2F too: req->path is routed instead */
	(void)version;
	if (!req)		/* out of memory when the request began */
		return MHD_NO;
	if (!req->begun && upload_coding_unread(conn)) {
		/* A coding libmicrohttpd does not read: answered now (RFC 9112 6.1), not later. */
		gb_clear_error();
		req->rep = api_error(MHD_HTTP_NOT_IMPLEMENTED, "a Transfer-Encoding other than "
				     "chunked is not taken: send the body as it is");
		log_refusal(method, req->path, &req->rep);
		req->worked = true;
	} else if (!req->begun) {
		req->begun = true;
		return MHD_YES;
	} else if (*upload_len) {
		if (upload_add(&req->up, upload, *upload_len, API_BODY_MAX))
			return MHD_NO;
		*upload_len = 0;
		return MHD_YES;
	} else if (!req->worked) {
		req->worked = true;
		req->api = cls;
		req->conn = conn;
		req->method = method;
		if (work_start(req))
			return MHD_YES;
		req->rep = dispatch(cls, conn, method, req->path, &req->up, req->allow,
				    sizeof(req->allow));
		log_refusal(method, req->path, &req->rep);
	}
	/* The reply, made above or by work (which has resumed the connection since). */
	text = gb_utf8_clean(json_object_to_json_string_ext(req->rep.body, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(req->rep.body);
	req->rep.body = NULL;
	resp = text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE) :
		      NULL;
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (*req->allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, req->allow);
	ret = MHD_queue_response(conn, req->rep.status, resp);
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
		free(req->up.body);
	free(req);
	*state = NULL;
}

/*
 * s's %XX decoded in place, as libmicrohttpd does, except %00: a NUL would end the path or value
 * there unseen (PUT /v1/meetings/a%00b would make "a"); left as written, a name check refuses it.
 * In a path (path) %2F stays too: decoded, it would be a '/' the routes take for a separator
 * (POST /v1/meetings/board%2Fports would change board's ports), not part of a name.
 */
static size_t decode(char *s, bool path)
{
	char *out = s;

	for (const char *in = s; *in;) {
		if (in[0] == '%' && isxdigit((unsigned char)in[1]) &&
		    isxdigit((unsigned char)in[2]) && (in[1] != '0' || in[2] != '0') &&
		    (!path || in[1] != '2' || (in[2] != 'F' && in[2] != 'f'))) {
			char hex[3] = { in[1], in[2], '\0' };

			*out++ = (char)strtoul(hex, NULL, 16);
			in += 3;
		} else {
			*out++ = *in++;
		}
	}
	*out = '\0';
	return out - s;
}

/* The query's names and values (and the path libmicrohttpd keeps, unused: see request_begin). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	(void)cls;
	(void)conn;
	return decode(s, false);
}

/*
 * A request begins: its path taken from the URI as sent, before libmicrohttpd decodes it (%2F
 * included, which no option of it keeps), and decoded here. It is the request's state.
 */
static void *request_begin(void *cls, const char *uri, struct MHD_Connection *conn)
{
	size_t len = strcspn(uri, "?");
	struct request *req = calloc(1, sizeof(*req) + len + 1);

	(void)cls;
	(void)conn;
	if (req) {
		memcpy(req->path, uri, len);
		decode(req->path, true);
	}
	return req;
}

/* How many connections the limit of open files leaves room for, raising it if allowed. */
static unsigned int connection_limit(void)
{
	rlim_t want = CONNECTION_LIMIT + FDS_KEPT;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return CONNECTION_LIMIT / 16;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= want)
		return CONNECTION_LIMIT;
	if (rl.rlim_cur < FDS_KEPT + CONNECTION_LIMIT / 16)
		return CONNECTION_LIMIT / 16;
	return rl.rlim_cur - FDS_KEPT;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	gb_warn("api: %s", msg);
}

int api_check_args(const char *path, const char *group, gid_t *gid)
{
	struct sockaddr_un sun;
	struct group *g;

	*gid = -1;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		gb_err("--api %s: a socket path must be under %zu bytes", path,
		       sizeof(sun.sun_path));
		return -EINVAL;
	}
	if (!group)
		return 0;
	g = getgrnam(group);
	if (!g) {
		gb_err("--api-group: no group \"%s\"", group);
		return -EINVAL;
	}
	*gid = g->gr_gid;
	return 0;
}

int api_start(const struct gb_ctx *ctx, const char *path, const char *group,
	      struct api_server **out)
{
	struct api_server *api;
	unsigned int limit;
	gid_t gid;
	int fd;

	if (api_check_args(path, group, &gid))
		return -EINVAL;
	api = calloc(1, sizeof(*api));
	if (!api)
		return -ENOMEM;
	api->ctx = ctx;
	fd = unix_socket_open(&api->sock, path, gid);
	if (fd < 0) {
		free(api);
		return fd;
	}
	limit = connection_limit();
	if (limit < CONNECTION_LIMIT)
		gb_warn("api: the limit of open files leaves room for %u connections at once, not %u",
			limit, CONNECTION_LIMIT);
	pthread_mutex_init(&api->mu, NULL);
	pthread_cond_init(&api->idle, NULL);
	/*
	 * Suspend and resume: a request's work is done in a thread of its own (work), so that one
	 * waiting for the state lock holds none of the pool's threads. gb_last_error is per thread,
	 * so each request's own.
	 */
	api->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
				    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				    handle, api,
				    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				    MHD_OPTION_LISTEN_SOCKET, fd,
				    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)API_THREADS,
				    MHD_OPTION_URI_LOG_CALLBACK, request_begin, NULL,
				    MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
				    MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
				    MHD_OPTION_CONNECTION_LIMIT, limit,
				    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT,
				    MHD_OPTION_END);
	if (!api->mhd) {
		gb_err("--api %s: cannot start the HTTP server", path);
		close(fd);
		unix_socket_remove(&api->sock);
		pthread_cond_destroy(&api->idle);
		pthread_mutex_destroy(&api->mu);
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
	/*
	 * No suspended connection when libmicrohttpd stops: the requests at work end first (one
	 * waiting for the state lock waits for it); those that come meanwhile are done in place.
	 */
	pthread_mutex_lock(&a->mu);
	a->stopping = true;
	while (a->working)
		pthread_cond_wait(&a->idle, &a->mu);
	pthread_mutex_unlock(&a->mu);
	MHD_stop_daemon(a->mhd);
	unix_socket_remove(&a->sock);
	pthread_cond_destroy(&a->idle);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

