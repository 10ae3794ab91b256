// SPDX-License-Identifier: GPL-2.0
/*
 * Janus's events in: sampleevh POSTs JSON (one event, or an array when it groups them) to
 * /janus-events; each event goes to state/janus_members, which turns handles into members of
 * their room's meeting. GET /janus-events answers what the events did so far. One thread: events
 * are taken in the order Janus sent them.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "state/janus_members.h"
#include "metrics/exporter.h"
#include "api/body.h"
#include "api/janus_events.h"
#include "api/upload.h"

#define EVENTS_BODY_MAX		(8u << 20)	/* a grouped burst of events */
#define CONNECTION_LIMIT	64
#define CONNECTION_TIMEOUT	30

struct janus_events {
	struct MHD_Daemon *mhd;
	struct janus_members *m;
	char *auth;		/* "user:password", NULL for none */
	bool said_malformed;
	char url[96];
};


static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static bool authorised(struct janus_events *e, struct MHD_Connection *conn)
{
	char *pass = NULL, *user;
	bool ok = false;

	if (!e->auth)
		return true;
	user = MHD_basic_auth_get_username_password(conn, &pass);
	if (user && pass) {
		size_t ul = strlen(user);

		ok = !strncmp(e->auth, user, ul) && e->auth[ul] == ':' &&
		     !strcmp(e->auth + ul + 1, pass);
	}
	MHD_free(user);
	MHD_free(pass);
	return ok;
}

static enum MHD_Result counts(struct janus_events *e, struct MHD_Connection *conn)
{
	struct janus_counts c = janus_members_counts(e->m);
	struct json_object *o = json_object_new_object();
	enum MHD_Result ret;

	json_object_object_add(o, "events", json_object_new_uint64(c.events));
	json_object_object_add(o, "ignored", json_object_new_uint64(c.ignored));
	json_object_object_add(o, "malformed", json_object_new_uint64(c.malformed));
	json_object_object_add(o, "joined", json_object_new_uint64(c.joined));
	json_object_object_add(o, "ports_given", json_object_new_uint64(c.ports_given));
	json_object_object_add(o, "ports_taken", json_object_new_uint64(c.ports_taken));
	json_object_object_add(o, "refused", json_object_new_uint64(c.refused));
	json_object_object_add(o, "hangups", json_object_new_uint64(c.hangups));
	ret = reply(conn, MHD_HTTP_OK, json_object_to_json_string(o));
	json_object_put(o);
	return ret;
}

/*
 * One event, or each of an array; what is not JSON (RFC 8259, strictly, and one value), or not
 * events, is counted and logged once. The well-formed events of an array are taken even when
 * others in it are not (a join dropped for its neighbour would leave a port unfiltered).
 */
static enum MHD_Result take(struct janus_events *e, struct MHD_Connection *conn,
			    const struct upload *req)
{
	struct json_object *in = NULL;
	char why[128];
	bool bad;

	if (body_json_loose(req->body, req->len, &in, why, sizeof(why)) == -ENOMEM)
		return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "{\"error\":\"out of memory\"}");
	bad = !in || (!json_object_is_type(in, json_type_array) &&
		      !json_object_is_type(in, json_type_object));
	if (bad)
		janus_members_event(e->m, NULL, NULL);	/* counted as malformed */
	if (!bad && json_object_is_type(in, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(in); i++)
			bad |= janus_members_event(e->m, json_object_array_get_idx(in, i), NULL) ==
			       -EINVAL;
	} else if (!bad) {
		bad = janus_members_event(e->m, in, NULL) == -EINVAL;
	}
	json_object_put(in);
	if (bad && !e->said_malformed)
		gb_warn("janus events: a malformed event (not JSON, or no \"type\" and \"event\"); "
			"counted, and not said again");
	e->said_malformed |= bad;
	return bad ? reply(conn, MHD_HTTP_BAD_REQUEST, "{\"error\":\"malformed event\"}") :
		     reply(conn, MHD_HTTP_OK, "{}");
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct janus_events *e = cls;
	struct upload *req = *state;

	(void)version;
	/*
	 * On the first call, with the headers alone: a client without the credentials is answered
	 * before any of its body is gathered (else each of the connections could hold 8 MiB).
	 */
	if (!req && !authorised(e, conn)) {
		struct MHD_Response *r = MHD_create_response_from_buffer(0, "",
									 MHD_RESPMEM_PERSISTENT);
		enum MHD_Result ret = MHD_queue_basic_auth_fail_response(conn, "geoblock", r);

		MHD_destroy_response(r);
		return ret;
	}
	/* Answered now, not by the timeout: the body's end would not be found (upload.h). */
	if (!req && upload_coding_unread(conn))
		return reply(conn, MHD_HTTP_NOT_IMPLEMENTED, "{\"error\":\"a Transfer-Encoding "
			     "other than chunked is not taken\"}");
	if (!req) {
		req = calloc(1, sizeof(*req));
		*state = req;
		return req ? MHD_YES : MHD_NO;
	}
	if (*upload_len) {
		if (upload_add(req, upload, *upload_len, EVENTS_BODY_MAX))
			return MHD_NO;
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/janus-events"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "{\"error\":\"events go to /janus-events\"}");
	if (!strcmp(method, MHD_HTTP_METHOD_GET))
		return counts(e, conn);
	if (strcmp(method, MHD_HTTP_METHOD_POST))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"error\":\"POST events\"}");
	if (req->too_big)
		return reply(conn, MHD_HTTP_CONTENT_TOO_LARGE, "{\"error\":\"body over 8 MiB\"}");
	return take(e, conn, req);
}

static void request_done(void *cls, struct MHD_Connection *conn, void **state,
			 enum MHD_RequestTerminationCode code)
{
	struct upload *req = *state;

	(void)cls;
	(void)conn;
	(void)code;
	if (req)
		free(req->body);
	free(req);
	*state = NULL;
}

int janus_events_read_auth(const char *path, char *out)
{
	int err = gb_read_first_line(path, out, JANUS_EVENTS_AUTH_MAX);

	if (err) {
		gb_err("--janus-events-auth %s: %s", path, strerror(-err));
		return err;
	}
	/* An empty password is as good as none: anyone could move ports into meetings. */
	if (!strchr(out, ':') || out[0] == ':' || !strchr(out, ':')[1]) {
		gb_err("--janus-events-auth %s: its first line must be user:password (neither "
		       "empty)", path);
		return -EINVAL;
	}
	return 0;
}

int janus_events_start(struct janus_members *m, const struct sockaddr *addr, socklen_t len,
		       const char *auth, struct janus_events **out)
{
	struct janus_events *e = calloc(1, sizeof(*e));
	int fd, err;

	if (!e)
		return -ENOMEM;
	e->m = m;
	err = -ENOMEM;
	if (auth && !(e->auth = strdup(auth)))
		goto err_free;
	fd = exporter_listen(addr, len, "/janus-events", e->url, sizeof(e->url));
	if (fd < 0) {
		err = fd;
		gb_err("cannot serve Janus events: %s", strerror(-err));
		goto err_free;
	}
	e->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
				  MHD_USE_ERROR_LOG |
				  (addr->sa_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, handle, e,
				  /* first, so that MHD logs nothing through its own logger */
				  MHD_OPTION_EXTERNAL_LOGGER, exporter_mhd_log, NULL,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT,
				  MHD_OPTION_END);
	if (!e->mhd) {
		err = -EIO;
		close(fd);
		gb_err("cannot serve Janus events: the HTTP server did not start");
		goto err_free;
	}
	*out = e;
	return 0;

err_free:
	free(e->auth);
	free(e);
	return err;
}

const char *janus_events_url(const struct janus_events *e)
{
	return e->url;
}

void janus_events_stop(struct janus_events *e)
{
	if (!e)
		return;
	MHD_stop_daemon(e->mhd);
	free(e->auth);
	free(e);
}
