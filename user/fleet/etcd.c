// SPDX-License-Identifier: GPL-2.0
/*
 * etcd's v3 JSON gateway through libcurl and json-c: no C client for etcd v3 is packaged, and its
 * gateway speaks the gRPC API as JSON (keys and values base64, int64 as strings).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include "lib/errors.h"
#include "api/upload.h"
#include "fleet/etcd.h"
#include "fleet/etcd_json.h"

#define CALL_TIMEOUT_MS		3000
#define PAGE_TIMEOUT_MS		30000	/* a page of etcd_range's */
#define CONNECT_TIMEOUT_MS	1000
#define REPLY_MAX		(64u << 20)
#define RANGE_PAGE		2000	/* keys a range read asks for at once (etcd_range) */
#define PAGE_MAX		(8u << 20)	/* its reply's bytes at most: asked again in quarters */

/* A call's reply, gathered up to max bytes: a bigger one ends the transfer. */
struct reply {
	struct upload u;
	size_t max;
};

static size_t gather_reply(char *data, size_t size, size_t n, void *cls)
{
	struct reply *r = cls;

	return upload_add(&r->u, data, size * n, r->max) || r->u.too_big ? 0 : size * n;
}

/* The TLS files given, unreadable or beside an http:// endpoint: said in one line. */
static bool tls_unfit(const struct etcd *e)
{
	const char *const files[][2] = { { "--etcd-cacert", e->cacert },
					  { "--etcd-cert", e->cert }, { "--etcd-key", e->key } };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!files[i][1])
			continue;
		if (access(files[i][1], R_OK)) {
			gb_err("%s: cannot read %s: %s", files[i][0], files[i][1], strerror(errno));
			return true;
		}
		for (size_t u = 0; u < e->n_urls; u++)
			if (!strncmp(e->urls[u], "http://", 7)) {
				gb_err("%s is for https:// endpoints; %s is http://", files[i][0],
				       e->urls[u]);
				return true;
			}
	}
	return false;
}

int etcd_open(struct etcd *e, const char *urls, const char *cacert, const char *cert,
	      const char *key)
{
	char *list, *save = NULL;

	memset(e, 0, sizeof(*e));
	e->cacert = cacert;
	e->cert = cert;
	e->key = key;
	list = strdup(urls);
	if (!list)
		return -ENOMEM;
	for (char *u = strtok_r(list, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(u);

		if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
			gb_err("--etcd: \"%.64s\" is not an http:// or https:// URL", u);
			goto bad;
		}
		if (e->n_urls == ETCD_URLS_MAX) {
			gb_err("--etcd: at most %d endpoints", ETCD_URLS_MAX);
			goto bad;
		}
		while (n && u[n - 1] == '/')
			u[--n] = '\0';
		e->urls[e->n_urls] = strdup(u);
		if (!e->urls[e->n_urls++])
			goto bad;
	}
	free(list);
	if (!e->n_urls) {
		gb_err("--etcd: no endpoint given");
		return -EINVAL;
	}
	if (tls_unfit(e)) {
		etcd_close(e);
		return -EINVAL;
	}
	e->curl = curl_easy_init();
	return e->curl ? 0 : -ENOMEM;
bad:
	free(list);
	etcd_close(e);
	return -EINVAL;
}

void etcd_close(struct etcd *e)
{
	for (size_t i = 0; i < e->n_urls; i++)
		free(e->urls[i]);
	if (e->curl)
		curl_easy_cleanup(e->curl);
	memset(e, 0, sizeof(*e));
}

void etcd_kv_free(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void etcd_kvs_free(struct etcd_kvs *l)
{
	for (size_t i = 0; i < l->n; i++)
		etcd_kv_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void setup(struct etcd *e, const char *path, const char *body, struct curl_slist *hdr)
{
	char url[600];
	CURL *c = e->curl;

	curl_easy_reset(c);
	snprintf(url, sizeof(url), "%s%s", e->urls[e->cur], path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, e->quick_ms && e->quick_ms < CONNECT_TIMEOUT_MS ?
			 e->quick_ms : (long)CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 2L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (e->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, e->cacert);
	if (e->cert)
		curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert);
	if (e->key)
		curl_easy_setopt(c, CURLOPT_SSLKEY, e->key);
}

/* The gateway's error reply, {"error": "...", "code": N, "message": "..."}, as one line. */
static int answered_error(struct etcd *e, const char *path, long status, const char *body)
{
	struct json_object *o = body ? json_tokener_parse(body) : NULL;
	const char *msg = json_object_get_string(etcd_json_get(o, "message"));

	if (!msg)
		msg = json_object_get_string(etcd_json_get(o, "error"));
	snprintf(e->err, sizeof(e->err), "etcd %s: %s: HTTP %ld: %.150s", e->urls[e->cur], path,
		 status, msg ? msg : body ? body : "no reply");
	json_object_put(o);
	return -EIO;
}

/*
 * POSTs req (taken) to path on the endpoints in turn; the reply's JSON in *out. An endpoint that
 * cannot be reached gives its turn to the next.
 */
static int call(struct etcd *e, const char *path, struct json_object *req, struct json_object **out)
{
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	const char *body = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	int err = -ECONNREFUSED;

	*out = NULL;
	for (size_t tried = 0; tried < (e->quick_ms ? 1 : e->n_urls); tried++) {
		struct reply rr = { .max = e->reply_max ? e->reply_max : REPLY_MAX };
		struct upload *r = &rr.u;
		long status = 0;
		CURLcode rc;

		setup(e, path, body, hdr);
		/* A page of a range read may be 8 MiB: more than 3 s on a slow link. */
		curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, e->quick_ms ? e->quick_ms :
				 e->reply_max ? (long)PAGE_TIMEOUT_MS : (long)CALL_TIMEOUT_MS);
		curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, gather_reply);
		curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &rr);
		rc = curl_easy_perform(e->curl);
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
		/* Not the endpoint's fault: any would send as much. */
		if (r->too_big) {
			snprintf(e->err, sizeof(e->err), "etcd %s: %s: a reply over %zu MiB",
				 e->urls[e->cur], path, rr.max >> 20);
			free(r->body);
			err = -E2BIG;
			break;
		}
		if (rc == CURLE_OK && status == 200) {
			*out = r->body ? json_tokener_parse(r->body) : NULL;
			err = *out ? 0 : -EIO;
			if (err)
				snprintf(e->err, sizeof(e->err), "etcd %s: %s: a reply not JSON",
					 e->urls[e->cur], path);
			free(r->body);
			break;
		}
		/* Answered, but no: a request the store refuses is refused by every member. */
		if (rc == CURLE_OK && status >= 400 && status < 500 && status != 408 &&
		    status != 429) {
			err = answered_error(e, path, status, r->body);
			free(r->body);
			break;
		}
		/* Answered, but busy or failing (etcd's 429 when out of space, a 503): not away. */
		if (rc == CURLE_OK) {
			answered_error(e, path, status, r->body);
			err = -EAGAIN;
		} else {
			snprintf(e->err, sizeof(e->err), "etcd %s: %s", e->urls[e->cur],
				 curl_easy_strerror(rc));
		}
		free(r->body);
		e->cur = (e->cur + 1) % e->n_urls;
	}
	curl_slist_free_all(hdr);
	json_object_put(req);
	return err;
}

/*
 * Read in pages of RANGE_PAGE keys, each at the first page's revision (one snapshot), so that no
 * reply need hold the whole prefix; a page over PAGE_MAX (big values) is asked for again in
 * quarters, and the pages after it grow back, twice as big each.
 */
int etcd_range(struct etcd *e, const char *prefix, struct etcd_kvs *out)
{
	long limit = RANGE_PAGE;
	__s64 at = 0;
	bool more = true;
	int err = 0;

	memset(out, 0, sizeof(*out));
	while (more && !err) {
		struct json_object *req = json_object_new_object(), *rep;
		const char *last = out->n ? out->v[out->n - 1].key : NULL;

		/* After the last key read: that key and a NUL byte, the least key above it. */
		if (last)
			etcd_json_add_b64n(req, "key", last, strlen(last) + 1);
		else
			etcd_json_add_b64(req, "key", prefix);
		etcd_json_add_range_end(req, prefix);
		json_object_object_add(req, "limit", json_object_new_int64(limit));
		if (at)
			json_object_object_add(req, "revision", json_object_new_int64(at));
		/* One key is read whatever its size, as etcd_get does. */
		e->reply_max = limit > 1 ? PAGE_MAX : REPLY_MAX;
		err = call(e, "/v3/kv/range", req, &rep);
		if (err == -E2BIG && limit > 1) {
			limit = (limit + 3) / 4;
			err = 0;
			continue;
		}
		if (!err)
			err = etcd_json_kvs(rep, out, &more, e->err, sizeof(e->err));
		json_object_put(rep);
		/* Every page's header has the store's revision now, not the one asked for. */
		if (!at)
			at = out->revision;
		limit = limit * 2 < RANGE_PAGE ? limit * 2 : RANGE_PAGE;
	}
	out->revision = at;
	e->reply_max = 0;
	if (err)
		etcd_kvs_free(out);
	return err;
}

int etcd_get(struct etcd *e, const char *key, struct etcd_kv *kv, bool *found, __s64 *revision)
{
	struct json_object *req = json_object_new_object(), *rep;
	struct etcd_kvs l = {};
	int err;

	memset(kv, 0, sizeof(*kv));
	*found = false;
	etcd_json_add_b64(req, "key", key);
	err = call(e, "/v3/kv/range", req, &rep);
	if (!err)
		err = etcd_json_kvs(rep, &l, NULL, e->err, sizeof(e->err));
	json_object_put(rep);
	if (!err && l.n) {
		*kv = l.v[0];
		memset(&l.v[0], 0, sizeof(l.v[0]));
		*found = true;
	}
	if (revision)
		*revision = l.revision;
	etcd_kvs_free(&l);
	return err;
}

static struct json_object *put_request(const char *key, const char *value, __s64 lease)
{
	struct json_object *o = json_object_new_object();

	etcd_json_add_b64(o, "key", key);
	etcd_json_add_b64(o, "value", value);
	if (lease)
		json_object_object_add(o, "lease", json_object_new_int64(lease));
	return o;
}

int etcd_put(struct etcd *e, const char *key, const char *value, __s64 lease)
{
	struct json_object *rep;
	int err = call(e, "/v3/kv/put", put_request(key, value, lease), &rep);

	e->put_revision = err ? 0 : etcd_json_i64(etcd_json_get(rep, "header"), "revision");
	json_object_put(rep);
	return err;
}

int etcd_put_if(struct etcd *e, const char *key, const char *value, __s64 mod_revision,
		const struct etcd_kv *also, bool *done)
{
	struct json_object *req = json_object_new_object(), *cmp = json_object_new_object();
	struct json_object *cmps = json_object_new_array(), *ops = json_object_new_array();
	struct json_object *op = json_object_new_object(), *rep;
	int err;

	etcd_json_add_b64(cmp, "key", key);
	json_object_object_add(cmp, "result", json_object_new_string("EQUAL"));
	json_object_object_add(cmp, "target", json_object_new_string(mod_revision ? "MOD" :
								     "CREATE"));
	json_object_object_add(cmp, mod_revision ? "mod_revision" : "create_revision",
			       json_object_new_int64(mod_revision));
	json_object_array_add(cmps, cmp);
	if (value) {
		json_object_object_add(op, "request_put", put_request(key, value, 0));
	} else {
		struct json_object *del = json_object_new_object();

		etcd_json_add_b64(del, "key", key);
		json_object_object_add(op, "request_delete_range", del);
	}
	json_object_array_add(ops, op);
	if (also) {
		op = json_object_new_object();
		json_object_object_add(op, "request_put", put_request(also->key, also->value, 0));
		json_object_array_add(ops, op);
	}
	json_object_object_add(req, "compare", cmps);
	json_object_object_add(req, "success", ops);
	err = call(e, "/v3/kv/txn", req, &rep);
	*done = !err && json_object_get_boolean(etcd_json_get(rep, "succeeded"));
	json_object_put(rep);
	return err;
}

int etcd_lease_grant(struct etcd *e, int ttl, __s64 *id)
{
	struct json_object *req = json_object_new_object(), *rep;
	int err;

	json_object_object_add(req, "TTL", json_object_new_int(ttl));
	err = call(e, "/v3/lease/grant", req, &rep);
	*id = err ? 0 : etcd_json_i64(rep, "ID");
	if (!err && !*id) {
		snprintf(e->err, sizeof(e->err), "etcd: lease grant: no lease in the reply");
		err = -EIO;
	}
	json_object_put(rep);
	return err;
}

int etcd_lease_keepalive(struct etcd *e, __s64 id)
{
	struct json_object *req = json_object_new_object(), *rep;
	int err;

	json_object_object_add(req, "ID", json_object_new_int64(id));
	err = call(e, "/v3/lease/keepalive", req, &rep);
	/* A lease that is gone comes back with no TTL. */
	if (!err && etcd_json_i64(etcd_json_get(rep, "result"), "TTL") <= 0) {
		snprintf(e->err, sizeof(e->err), "etcd: lease %lld expired", (long long)id);
		err = -ENOENT;
	}
	json_object_put(rep);
	return err;
}

int etcd_lease_revoke(struct etcd *e, __s64 id, long ms)
{
	struct json_object *req = json_object_new_object(), *rep;
	int err;

	json_object_object_add(req, "ID", json_object_new_int64(id));
	e->quick_ms = ms;
	err = call(e, "/v3/lease/revoke", req, &rep);
	e->quick_ms = 0;
	json_object_put(rep);
	return err;
}

int etcd_compact(struct etcd *e, __s64 revision)
{
	struct json_object *req = json_object_new_object(), *rep;
	int err;

	json_object_object_add(req, "revision", json_object_new_int64(revision));
	json_object_object_add(req, "physical", json_object_new_boolean(1));
	err = call(e, "/v3/kv/compaction", req, &rep);
	json_object_put(rep);
	return err;
}

/* A watch stream: one JSON message a line, handed on as etcd_watch_msg. */
struct stream {
	struct etcd *e;
	struct upload buf;
	etcd_watch_fn fn;
	etcd_alive_fn alive;
	void *arg;
	int stop;			/* what fn or alive returned */
	bool bad;
	bool too_big;			/* a message past REPLY_MAX */
};

static void msg_free(struct etcd_watch_msg *m)
{
	for (size_t i = 0; i < m->n_events; i++)
		etcd_kv_free(&m->events[i].kv);
	free(m->events);
}

static int handle_line(struct stream *s, const char *line, bool more)
{
	struct json_object *o = json_tokener_parse(line), *res = etcd_json_get(o, "result"), *evs;
	struct etcd_watch_msg m = {};
	size_t n;

	if (!res) {
		struct json_object *err = etcd_json_get(o, "error");

		snprintf(s->e->err, sizeof(s->e->err), "etcd %s: watch: %.180s",
			 s->e->urls[s->e->cur],
			 err ? json_object_to_json_string(err) : "a message not understood");
		json_object_put(o);
		s->bad = true;
		return -EIO;
	}
	evs = etcd_json_get(res, "events");
	n = json_object_is_type(evs, json_type_array) ? json_object_array_length(evs) : 0;
	m.revision = etcd_json_i64(etcd_json_get(res, "header"), "revision");
	m.compact_revision = etcd_json_i64(res, "compact_revision");
	m.created = json_object_get_boolean(etcd_json_get(res, "created"));
	m.canceled = json_object_get_boolean(etcd_json_get(res, "canceled"));
	m.more = more;
	m.events = calloc(n ? n : 1, sizeof(*m.events));
	if (!m.events) {
		json_object_put(o);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *ev = json_object_array_get_idx(evs, i);
		const char *type = json_object_get_string(etcd_json_get(ev, "type"));

		if (etcd_json_kv(etcd_json_get(ev, "kv"), &m.events[m.n_events].kv)) {
			snprintf(s->e->err, sizeof(s->e->err), "etcd: watch: an event not read");
			s->bad = true;
			msg_free(&m);
			json_object_put(o);
			return -EIO;
		}
		m.events[m.n_events++].deleted = type && !strcmp(type, "DELETE");
	}
	json_object_put(o);
	s->stop = s->fn(s->arg, &m);
	msg_free(&m);
	return s->stop;
}

static size_t stream_data(char *data, size_t size, size_t n, void *cls)
{
	struct stream *s = cls;
	char *nl, *start;

	/* A line gathered up to REPLY_MAX, as a call's reply: a bigger one ends the stream. */
	if (upload_add(&s->buf, data, size * n, REPLY_MAX) || s->buf.too_big) {
		s->too_big = s->buf.too_big;
		return 0;
	}
	start = s->buf.body;
	while ((nl = memchr(start, '\n', s->buf.body + s->buf.len - start))) {
		*nl = '\0';
		if (nl > start && handle_line(s, start, memchr(nl + 1, '\n',
								s->buf.body + s->buf.len - nl - 1)))
			return 0;
		start = nl + 1;
	}
	s->buf.len -= start - s->buf.body;
	memmove(s->buf.body, start, s->buf.len + 1);
	return size * n;
}

static int stream_alive(void *cls, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			curl_off_t ulnow)
{
	struct stream *s = cls;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	if (s->alive && !s->stop)
		s->stop = s->alive(s->arg);
	return s->stop != 0;
}

int etcd_watch(struct etcd *e, const char *prefix, __s64 start_revision, etcd_watch_fn fn,
	       etcd_alive_fn alive, void *arg)
{
	struct json_object *req = json_object_new_object(), *create = json_object_new_object();
	struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
	struct stream s = { .e = e, .fn = fn, .alive = alive, .arg = arg };
	long status = 0;
	CURLcode rc;
	int err;

	etcd_json_add_b64(create, "key", prefix);
	etcd_json_add_range_end(create, prefix);
	json_object_object_add(create, "start_revision", json_object_new_int64(start_revision));
	json_object_object_add(create, "progress_notify", json_object_new_boolean(1));
	json_object_object_add(req, "create_request", create);
	setup(e, "/v3/watch", json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN), hdr);
	curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION, stream_data);
	curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(e->curl, CURLOPT_XFERINFOFUNCTION, stream_alive);
	curl_easy_setopt(e->curl, CURLOPT_XFERINFODATA, &s);
	curl_easy_setopt(e->curl, CURLOPT_NOPROGRESS, 0L);
	/* What came while the caller was busy is read at once: one call, one converge, not one each. */
	curl_easy_setopt(e->curl, CURLOPT_BUFFERSIZE, 1L << 20);
	rc = curl_easy_perform(e->curl);
	curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &status);
	json_object_put(req);
	curl_slist_free_all(hdr);
	free(s.buf.body);
	if (s.stop)
		return s.stop;
	if (s.bad) {
		err = -EIO;
	} else if (s.too_big) {
		snprintf(e->err, sizeof(e->err), "etcd %s: watch: a message over %u MiB",
			 e->urls[e->cur], REPLY_MAX >> 20);
		err = -EMSGSIZE;
	} else if (rc == CURLE_OK && status != 200)
		err = answered_error(e, "/v3/watch", status, NULL);
	else {
		snprintf(e->err, sizeof(e->err), "etcd %s: watch: %s", e->urls[e->cur],
			 rc == CURLE_OK ? "the stream ended" : curl_easy_strerror(rc));
		err = -ECONNRESET;
	}
	e->cur = (e->cur + 1) % e->n_urls;
	return err;
}
