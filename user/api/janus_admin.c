// SPDX-License-Identifier: GPL-2.0
/*
 * The membership rebuilt from Janus's Admin API at daemon start: every session (list_sessions),
 * its handles (list_handles), and of each VideoRoom handle its room (plugin_specific) and its
 * local candidates and selected pairs (handle_info), turned into the events that would have said
 * so and handed to state/janus_members.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/files.h"
#include "state/janus_event.h"
#include "state/janus_members.h"
#include "api/upload.h"
#include "api/janus_admin.h"

#define ADMIN_TIMEOUT_S	5
#define REPLY_MAX	(16u << 20)

/* A reply gathered up to REPLY_MAX; a bigger one ends the transfer. */
static size_t gather(char *data, size_t size, size_t n, void *cls)
{
	struct upload *r = cls;

	return upload_add(r, data, size * n, REPLY_MAX) || r->too_big ? 0 : size * n;
}

/* POSTs {"janus": what, "admin_secret": ...} to url; the reply if its "janus" is "success". */
static struct json_object *ask(CURL *c, const char *url, const char *secret, const char *what,
			       bool *unanswered)
{
	struct json_object *req = json_object_new_object(), *rep = NULL, *v;
	char shown[200 * 4 + 1];
	struct upload r = {};
	CURLcode rc;

	json_object_object_add(req, "janus", json_object_new_string(what));
	json_object_object_add(req, "transaction", json_object_new_string("geoblock"));
	json_object_object_add(req, "admin_secret", json_object_new_string(secret));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, json_object_to_json_string(req));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, gather);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	rc = curl_easy_perform(c);
	json_object_put(req);
	if (unanswered)
		*unanswered = rc != CURLE_OK;
	if (rc != CURLE_OK) {
		gb_err("janus admin %s: %s: %s", what, url, curl_easy_strerror(rc));
		goto out;
	}
	rep = r.body ? json_tokener_parse(r.body) : NULL;
	if (!rep || !json_object_object_get_ex(rep, "janus", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "success")) {
		gb_err("janus admin %s: %s: %s", what, url, r.body ? printable(r.body, strlen(r.body),
			200, shown, sizeof(shown)) : "no reply");
		json_object_put(rep);
		rep = NULL;
	}
out:
	free(r.body);
	return rep;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* The length of o's array key, 0 if it is none (a reply not Janus's, say). */
static size_t items(struct json_object *o, const char *key)
{
	struct json_object *a = get(o, key);

	return json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* Hands m an event of type 16 for each local candidate and selected pair found under o. */
static void feed_ports(struct janus_members *m, struct json_object *o, __u64 session,
		       __u64 handle)
{
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			feed_ports(m, json_object_array_get_idx(o, i), session, handle);
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	json_object_object_foreach(o, key, val) {
		bool cands = !strcmp(key, "local-candidates"), pair = !strcmp(key, "selected-pair");

		if (!cands && !pair) {
			feed_ports(m, val, session, handle);
			continue;
		}
		if (cands && !json_object_is_type(val, json_type_array))
			continue;
		for (size_t i = 0; i < (cands ? json_object_array_length(val) : 1); i++) {
			struct json_object *ev = json_object_new_object(), *e = json_object_new_object();
			struct json_object *item = cands ? json_object_array_get_idx(val, i) : val;

			if (!json_object_is_type(item, json_type_string)) {
				json_object_put(ev);
				json_object_put(e);
				continue;
			}
			json_object_object_add(ev, "type", json_object_new_int(16));
			json_object_object_add(ev, "subtype", json_object_new_int(cands ? 2 : 4));
			json_object_object_add(ev, "session_id", json_object_new_uint64(session));
			json_object_object_add(ev, "handle_id", json_object_new_uint64(handle));
			json_object_object_add(e, cands ? "local-candidate" : "selected-pair",
					       json_object_get(item));
			json_object_object_add(ev, "event", e);
			janus_members_event(m, ev, "janus rebuild");
			json_object_put(ev);
		}
	}
}

/* A handle: its room (a VideoRoom publisher "joined", a subscriber "attached"), then ports. */
static bool feed_handle(struct janus_members *m, struct json_object *info, __u64 session,
			__u64 handle)
{
	struct json_object *ps = get(info, "plugin_specific"), *ev, *e, *data;
	const char *plugin = json_object_get_string(get(info, "plugin"));
	const char *type = json_object_get_string(get(ps, "type"));
	__u64 room = janus_get_u64(ps, "room");

	if (!plugin || strcmp(plugin, "janus.plugin.videoroom") || !room)
		return false;
	ev = json_object_new_object();
	e = json_object_new_object();
	data = json_object_new_object();
	json_object_object_add(data, "event", json_object_new_string(
				       type && !strcmp(type, "subscriber") ? "attached" : "joined"));
	json_object_object_add(data, "room", json_object_new_uint64(room));
	json_object_object_add(e, "plugin", json_object_new_string(plugin));
	json_object_object_add(e, "data", data);
	json_object_object_add(ev, "type", json_object_new_int(64));
	json_object_object_add(ev, "session_id", json_object_new_uint64(session));
	json_object_object_add(ev, "handle_id", json_object_new_uint64(handle));
	json_object_object_add(ev, "event", e);
	janus_members_event(m, ev, "janus rebuild");
	json_object_put(ev);
	feed_ports(m, info, session, handle);
	return true;
}

static int read_secret(const char *path, char *out, size_t len)
{
	int err = gb_read_first_line(path, out, len);

	if (err) {
		gb_err("--janus-admin-secret %s: %s", path, strerror(-err));
		return err;
	}
	if (!out[0]) {
		gb_err("--janus-admin-secret %s: its first line must be the admin_secret", path);
		return -EINVAL;
	}
	return 0;
}

int janus_admin_open(struct janus_admin *a, const char *url, const char *secret_file)
{
	snprintf(a->url, sizeof(a->url), "%s", url);
	return read_secret(secret_file, a->secret, sizeof(a->secret));
}

static CURL *new_curl(void)
{
	CURL *c = curl_easy_init();

	if (c) {
		curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)ADMIN_TIMEOUT_S);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	}
	return c;
}

int janus_admin_rebuild(const struct janus_admin *a, struct janus_members *m,
			unsigned int *handles)
{
	struct json_object *sessions, *hs, *info;
	char at[1024];
	CURL *c;

	*handles = 0;
	c = new_curl();
	if (!c)
		return -ENOMEM;
	sessions = ask(c, a->url, a->secret, "list_sessions", NULL);
	if (sessions && !json_object_is_type(get(sessions, "sessions"), json_type_array)) {
		gb_err("janus admin list_sessions: %s: a reply without its \"sessions\" list",
		       a->url);
		json_object_put(sessions);
		sessions = NULL;
	}
	if (!sessions) {
		curl_easy_cleanup(c);
		return -EIO;
	}
	for (size_t i = 0; i < items(sessions, "sessions"); i++) {
		__u64 s = json_object_get_uint64(json_object_array_get_idx(get(sessions, "sessions"),
									    i));

		snprintf(at, sizeof(at), "%s/%llu", a->url, (unsigned long long)s);
		hs = ask(c, at, a->secret, "list_handles", NULL);
		for (size_t k = 0; k < items(hs, "handles"); k++) {
			__u64 h = json_object_get_uint64(json_object_array_get_idx(get(hs, "handles"),
										    k));

			snprintf(at, sizeof(at), "%s/%llu/%llu", a->url, (unsigned long long)s,
				 (unsigned long long)h);
			info = ask(c, at, a->secret, "handle_info", NULL);
			*handles += info && feed_handle(m, get(info, "info"), s, h);
			json_object_put(info);
		}
		json_object_put(hs);
	}
	json_object_put(sessions);
	curl_easy_cleanup(c);
	return 0;
}

int janus_admin_hangup(void *cls, __u64 session, __u64 handle)
{
	const struct janus_admin *a = cls;
	struct json_object *rep;
	bool unanswered = false;
	char at[1024];
	CURL *c = new_curl();

	if (!c)
		return -ENOMEM;
	snprintf(at, sizeof(at), "%s/%llu/%llu", a->url, (unsigned long long)session,
		 (unsigned long long)handle);
	rep = ask(c, at, a->secret, "hangup_webrtc", &unanswered);
	curl_easy_cleanup(c);
	json_object_put(rep);
	return rep ? 0 : unanswered ? -ETIMEDOUT : -EIO;
}
