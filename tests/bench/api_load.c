// SPDX-License-Identifier: GPL-2.0
/*
 * Load generator for the control API (`make bench-api`, and the writers of the daemon kill -9
 * fault test): N clients on keep-alive connections to the daemon's unix socket, each changing
 * only meetings and ports of its own, timing every acknowledged change.
 *
 * Client C owns meetings PREFIX-C-J (J < --meetings) and meeting J of it the ports of its own slice
 * of --ports, so no two clients ever change the same meeting or port. Each change is, by --mix,
 * a port change (POST .../ports, add or remove or both, the meeting keeping one port at least),
 * a replace (PUT: new ports, and now and then another mode or block list) or a DELETE; a meeting
 * found deleted is created again by a PUT. Before the run each client reads its meetings (GET) and
 * starts from what is there. --layout prints `meeting add` lines that create them, for an apply
 * file. A port change's or PUT's reply is checked against the ports the client expects.
 *
 * --until-gone: a client stops at its first failed change (the daemon killed under it), which is
 * then in doubt. --expect FILE: at the end, one line per meeting, "NAME STATE [STATE]": the state
 * of the last acknowledged change, and the one in doubt if any; a state is "absent" or
 * "MODE BLOCK PORTS" (PORTS one by one, ascending, comma-separated). --log FILE: one line per
 * acknowledged change, "MS CLIENT METHOD NAME STATE". Prints the figures (--json: as JSON); a line
 * "api_load: running" on stderr when the setup is done and the changes start.
 * Exit: 0, 1 usage, 2 the setup or a change failed, or a reply disagreed (in --until-gone mode,
 * failed changes are what is expected).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <json-c/json.h>

enum kind { K_PORTS, K_PUT, K_DELETE, K_COUNT };
static const char *const kind_names[K_COUNT] = { "ports", "put", "delete" };
#define STATUS_MAX	600	/* by_status[0]: no answer (connection lost, refused, cut short) */

struct opts {
	const char *socket, *prefix, *expect, *log, *block;
	unsigned int clients, meetings, first, last, layout_ports;
	unsigned int mix[K_COUNT];
	double seconds;
	unsigned long requests;
	unsigned long long seed;
	bool until_gone, json, layout, timed;
};

struct mstate {
	bool exists, monitor, two;	/* two: blocks BLOCK,FR instead of BLOCK */
	unsigned int n;			/* ports held */
	unsigned char *own;		/* own[i]: port first + i is held */
};

struct meeting {
	char name[64];
	unsigned int first, span;
	struct mstate now;		/* as last acknowledged */
	struct mstate next;		/* the change in flight */
	bool doubt;			/* next was sent and not acknowledged */
};

struct buf {
	char *p;
	size_t len, cap;
};

struct client {
	unsigned int idx;
	pthread_t thread;
	CURL *curl;
	struct curl_slist *hdr;
	struct meeting *m;
	unsigned long long rng;
	struct buf reply;
	uint32_t *lat_us;
	size_t n_lat, cap_lat;
	unsigned long acked[K_COUNT], sent;
	unsigned long by_status[STATUS_MAX];
	unsigned long mismatches;
	char first_error[512];
};

static struct opts o = {
	.prefix = "load", .block = "DE", .clients = 8, .meetings = 4, .first = 60000,
	.last = 65535, .layout_ports = 2, .mix = { 70, 15, 15 }, .seconds = 10,
};
static struct timespec t_start, t_deadline;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;

static double since_start_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t_start.tv_sec) * 1e3 + (t.tv_nsec - t_start.tv_nsec) / 1e6;
}

static bool past_deadline(void)
{
	struct timespec t;

	/* --requests without --seconds: the count alone ends the run. */
	if (o.requests && !o.timed)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec > t_deadline.tv_sec ||
	       (t.tv_sec == t_deadline.tv_sec && t.tv_nsec >= t_deadline.tv_nsec);
}

/* xorshift64*: each client its own stream, so a seed repeats a run's choices per client. */
static unsigned int rnd(struct client *c, unsigned int below)
{
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return (unsigned int)((c->rng * 2685821657736338717ULL) >> 32) % below;
}

static int state_init(struct mstate *s, unsigned int span)
{
	*s = (struct mstate){ .own = calloc(span, 1) };
	return s->own ? 0 : -ENOMEM;
}

static void state_copy(struct mstate *to, const struct mstate *from, unsigned int span)
{
	unsigned char *own = to->own;

	*to = *from;
	to->own = own;
	memcpy(to->own, from->own, span);
}

/* "absent" or "MODE BLOCK PORTS", as --expect and --log write it. */
static void state_print(FILE *f, const struct meeting *m, const struct mstate *s)
{
	const char *sep = "";

	if (!s->exists) {
		fputs("absent", f);
		return;
	}
	fprintf(f, "%s %s%s ", s->monitor ? "monitor" : "enforce", o.block, s->two ? ",FR" : "");
	for (unsigned int i = 0; i < m->span; i++) {
		if (s->own[i]) {
			fprintf(f, "%s%u", sep, m->first + i);
			sep = ",";
		}
	}
}

static size_t on_reply(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = size * n;

	if (b->len + len + 1 > b->cap) {
		size_t cap = (b->len + len + 1) * 2;
		char *p = realloc(b->p, cap);

		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

/*
 * One request on the client's connection; the reply's body in c->reply. Returns the HTTP status,
 * or 0 when no whole reply came (curl's error in err).
 */
static long request(struct client *c, const char *method, const char *name, const char *tail,
		    const char *body, double *ms, char *err, size_t len)
{
	struct timespec t0, t1;
	char url[256];
	long status = 0;
	CURLcode rc;

	snprintf(url, sizeof(url), "http://geoblock/v1/meetings/%s%s", name, tail);
	c->reply.len = 0;
	if (c->reply.p)
		c->reply.p[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	/* CURLOPT_POSTFIELDS makes it a POST, CURLOPT_HTTPGET one without a body; then the verb. */
	if (body) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	} else {
		curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = curl_easy_perform(c->curl);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (rc != CURLE_OK) {
		snprintf(err, len, "%s %s%s: %s", method, name, tail, curl_easy_strerror(rc));
		return 0;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		snprintf(err, len, "%s %s%s: %ld %.160s", method, name, tail, status,
			 c->reply.p ? c->reply.p : "");
	return status;
}

/* Ports as the API writes them ("8801-8810", "9000" or 9000) into own[]; -ERANGE outside. */
static int ports_read(struct json_object *arr, const struct meeting *m, struct mstate *s)
{
	memset(s->own, 0, m->span);
	s->n = 0;
	if (!arr || !json_object_is_type(arr, json_type_array))
		return -EINVAL;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		unsigned int a, b;

		if (json_object_is_type(v, json_type_int)) {
			a = b = json_object_get_int(v);
		} else {
			const char *str = json_object_get_string(v);

			if (sscanf(str, "%u-%u", &a, &b) != 2)
				b = a = strtoul(str, NULL, 10);
		}
		if (a < m->first || b >= m->first + m->span || a > b)
			return -ERANGE;
		for (unsigned int p = a; p <= b; p++) {
			s->n += !s->own[p - m->first];
			s->own[p - m->first] = 1;
		}
	}
	return 0;
}

/* Whether the ports in a reply (ports_key of the object at obj_key, or of the root) are s's. */
static bool reply_agrees(struct client *c, struct meeting *m, const char *obj_key,
			 const struct mstate *s)
{
	struct json_object *root, *obj, *ports;
	struct mstate got;
	bool same = false;

	if (state_init(&got, m->span))
		return false;
	root = json_tokener_parse(c->reply.p ? c->reply.p : "");
	obj = root;
	if (obj && obj_key && !json_object_object_get_ex(root, obj_key, &obj))
		obj = NULL;
	if (obj && json_object_object_get_ex(obj, "ports", &ports) &&
	    !ports_read(ports, m, &got))
		same = got.n == s->n && !memcmp(got.own, s->own, m->span);
	json_object_put(root);
	free(got.own);
	return same;
}

/* Learns a meeting's state from GET (404: absent). */
static int adopt(struct client *c, struct meeting *m)
{
	struct json_object *root, *v;
	char err[512];
	double ms;
	long status;
	int ret = -EINVAL;

	status = request(c, "GET", m->name, "", NULL, &ms, err, sizeof(err));
	if (status == 404) {
		memset(m->now.own, 0, m->span);
		m->now.n = 0;
		m->now.exists = false;
		return 0;
	}
	if (status != 200) {
		fprintf(stderr, "api_load: %s\n", err);
		return -EIO;
	}
	root = json_tokener_parse(c->reply.p);
	if (root && json_object_object_get_ex(root, "ports", &v) && !ports_read(v, m, &m->now) &&
	    m->now.n) {
		m->now.exists = true;
		m->now.monitor = json_object_object_get_ex(root, "mode", &v) &&
				 !strcmp(json_object_get_string(v), "monitor");
		m->now.two = json_object_object_get_ex(root, "block", &v) &&
			     json_object_array_length(v) == 2;
		ret = 0;
	}
	json_object_put(root);
	if (ret)
		fprintf(stderr, "api_load: meeting %s holds ports outside %u-%u, or none; give "
			"another --prefix or --ports\n", m->name, m->first, m->first + m->span - 1);
	return ret;
}

/* A port held (want 1) or not (want 0), picked at random; -1 if there is none. */
static int pick_port(struct client *c, const struct meeting *m, const struct mstate *s, int want)
{
	unsigned int n = want ? s->n : m->span - s->n, k;

	if (!n)
		return -1;
	k = rnd(c, n);
	for (unsigned int i = 0; i < m->span; i++)
		if (!!s->own[i] == want && !k--)
			return i;
	return -1;
}

static struct json_object *ports_json(const struct meeting *m, const unsigned char *own)
{
	struct json_object *arr = json_object_new_array();

	for (unsigned int i = 0; i < m->span; i++)
		if (own[i])
			json_object_array_add(arr, json_object_new_int(m->first + i));
	return arr;
}

/* Builds the next change of m into m->next and its body; returns its kind. */
static enum kind plan_change(struct client *c, struct meeting *m, struct json_object **body)
{
	unsigned int total = o.mix[K_PORTS] + o.mix[K_PUT] + o.mix[K_DELETE], r = rnd(c, total);
	enum kind k = r < o.mix[K_PORTS] ? K_PORTS : r < o.mix[K_PORTS] + o.mix[K_PUT] ? K_PUT :
		      K_DELETE;
	struct mstate *s = &m->next;

	state_copy(s, &m->now, m->span);
	*body = NULL;
	if (!s->exists)
		k = K_PUT;
	if (k == K_DELETE) {
		memset(s->own, 0, m->span);
		*s = (struct mstate){ .own = s->own };
		return k;
	}
	*body = json_object_new_object();
	if (k == K_PORTS) {
		unsigned int del = rnd(c, 3);	/* 0 add, 1 remove, 2 both */
		struct json_object *a = json_object_new_array(), *d = json_object_new_array();
		int p;

		if (del == 1 && s->n < 2)
			del = 0;
		if (del != 1) {
			for (unsigned int i = 0, n = 1 + rnd(c, 3); i < n; i++) {
				p = pick_port(c, m, s, 0);
				if (p < 0)
					break;
				s->own[p] = 1;
				s->n++;
				json_object_array_add(a, json_object_new_int(m->first + p));
			}
		}
		if (del) {
			/* One it held before this change: never one added by it. */
			p = pick_port(c, m, &m->now, 1);
			if (p >= 0 && s->n > 1) {
				s->own[p] = 0;
				s->n--;
				json_object_array_add(d, json_object_new_int(m->first + p));
			}
		}
		if (!json_object_array_length(a) && !json_object_array_length(d)) {
			/* Nothing to add (the slice is full) and nothing removed: a PUT instead. */
			json_object_put(a);
			json_object_put(d);
			json_object_put(*body);
			state_copy(s, &m->now, m->span);
			k = K_PUT;
			*body = json_object_new_object();
		} else {
			json_object_object_add(*body, "add", a);
			json_object_object_add(*body, "remove", d);
			return k;
		}
	}
	/* PUT: 1-4 new ports, now and then another mode or block list. */
	memset(s->own, 0, m->span);
	s->n = 0;
	for (unsigned int i = 0, n = 1 + rnd(c, 4); i < n; i++) {
		int p = pick_port(c, m, s, 0);

		if (p >= 0) {
			s->own[p] = 1;
			s->n++;
		}
	}
	if (!s->exists || !rnd(c, 4))
		s->monitor = !rnd(c, 4);
	if (!s->exists || !rnd(c, 4))
		s->two = rnd(c, 2);
	s->exists = true;
	json_object_object_add(*body, "ports", ports_json(m, s->own));
	struct json_object *block = json_object_new_array();

	json_object_array_add(block, json_object_new_string(o.block));
	if (s->two)
		json_object_array_add(block, json_object_new_string("FR"));
	json_object_object_add(*body, "block", block);
	json_object_object_add(*body, "mode", json_object_new_string(s->monitor ? "monitor" :
								      "enforce"));
	return K_PUT;
}

static void log_ack(struct client *c, const char *method, struct meeting *m)
{
	if (!log_file)
		return;
	pthread_mutex_lock(&log_lock);
	fprintf(log_file, "%.3f %u %s %s ", since_start_ms(), c->idx, method, m->name);
	state_print(log_file, m, &m->now);
	fputc('\n', log_file);
	fflush(log_file);
	pthread_mutex_unlock(&log_lock);
}

static int add_latency(struct client *c, double ms)
{
	if (c->n_lat == c->cap_lat) {
		size_t cap = c->cap_lat ? c->cap_lat * 2 : 4096;
		uint32_t *p = realloc(c->lat_us, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->lat_us = p;
		c->cap_lat = cap;
	}
	c->lat_us[c->n_lat++] = ms * 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(ms * 1000);
	return 0;
}

static void *run_client(void *arg)
{
	static const char *const methods[K_COUNT] = { "POST", "PUT", "DELETE" };
	struct client *c = arg;
	char err[512];

	while (!past_deadline() && (!o.requests || c->sent < o.requests)) {
		struct meeting *m = &c->m[rnd(c, o.meetings)];
		struct json_object *body;
		enum kind k = plan_change(c, m, &body);
		const char *text;
		double ms;
		long status;

		c->sent++;
		text = body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL;
		status = request(c, methods[k], m->name, k == K_PORTS ? "/ports" : "", text, &ms,
				 err, sizeof(err));
		json_object_put(body);
		c->by_status[status < STATUS_MAX ? status : 0]++;
		if (status == 200) {
			if ((k == K_PORTS && !reply_agrees(c, m, NULL, &m->next)) ||
			    (k == K_PUT && !reply_agrees(c, m, "meeting", &m->next))) {
				c->mismatches++;
				snprintf(err, sizeof(err), "%s %s: the reply's ports are not the "
					 "ones sent: %.160s", methods[k], m->name,
					 c->reply.p ? c->reply.p : "");
				if (!*c->first_error)
					snprintf(c->first_error, sizeof(c->first_error), "%s", err);
			}
			state_copy(&m->now, &m->next, m->span);
			c->acked[k]++;
			if (add_latency(c, ms))
				break;
			log_ack(c, methods[k], m);
			continue;
		}
		if (!*c->first_error)
			snprintf(c->first_error, sizeof(c->first_error), "%s", err);
		if (o.until_gone) {
			m->doubt = true;
			break;
		}
		/* Whatever a failed change left, the next one starts from what is there. */
		if (adopt(c, m))
			break;
	}
	return NULL;
}

static int client_init(struct client *c, unsigned int idx)
{
	unsigned int slice = (o.last - o.first + 1) / o.clients, span = slice / o.meetings;

	c->idx = idx;
	c->rng = o.seed * 0x9E3779B97F4A7C15ULL + idx + 1;
	c->m = calloc(o.meetings, sizeof(*c->m));
	c->curl = curl_easy_init();
	c->hdr = curl_slist_append(NULL, "Content-Type: application/json");
	c->hdr = curl_slist_append(c->hdr, "Expect:");
	if (!c->m || !c->curl || !c->hdr)
		return -ENOMEM;
	curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, o.socket);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->hdr);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->reply);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 120L);
	for (unsigned int j = 0; j < o.meetings; j++) {
		struct meeting *m = &c->m[j];

		snprintf(m->name, sizeof(m->name), "%s-%u-%u", o.prefix, idx, j);
		m->first = o.first + idx * slice + j * span;
		m->span = span;
		if (state_init(&m->now, span) || state_init(&m->next, span))
			return -ENOMEM;
	}
	return 0;
}

static void client_free(struct client *c)
{
	for (unsigned int j = 0; c->m && j < o.meetings; j++) {
		free(c->m[j].now.own);
		free(c->m[j].next.own);
	}
	free(c->m);
	free(c->lat_us);
	free(c->reply.p);
	curl_slist_free_all(c->hdr);
	if (c->curl)
		curl_easy_cleanup(c->curl);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of sorted v, in ms. */
static double quantile_ms(const uint32_t *v, size_t n, double q)
{
	size_t rank;

	if (!n)
		return 0;
	rank = (size_t)(q * n + 0.999999);
	return v[(rank ? rank : 1) - 1] / 1000.0;
}

static int write_expect(struct client *cs)
{
	FILE *f = fopen(o.expect, "w");

	if (!f) {
		fprintf(stderr, "api_load: cannot write %s: %s\n", o.expect, strerror(errno));
		return -errno;
	}
	for (unsigned int i = 0; i < o.clients; i++) {
		for (unsigned int j = 0; j < o.meetings; j++) {
			struct meeting *m = &cs[i].m[j];

			fprintf(f, "%s ", m->name);
			state_print(f, m, &m->now);
			if (m->doubt) {
				fputc(' ', f);
				state_print(f, m, &m->next);
			}
			fputc('\n', f);
		}
	}
	return fclose(f) ? -EIO : 0;
}

static int report(struct client *cs, double secs)
{
	unsigned long acked[K_COUNT] = {}, by_status[STATUS_MAX] = {}, mism = 0, total = 0;
	unsigned long failed = 0, doubt = 0;
	size_t n = 0;
	uint32_t *lat;
	struct json_object *j, *errs;
	const char *first_error = NULL;

	for (unsigned int i = 0; i < o.clients; i++)
		n += cs[i].n_lat;
	lat = malloc((n ? n : 1) * sizeof(*lat));
	if (!lat)
		return -ENOMEM;
	n = 0;
	for (unsigned int i = 0; i < o.clients; i++) {
		if (cs[i].n_lat)
			memcpy(lat + n, cs[i].lat_us, cs[i].n_lat * sizeof(*lat));
		n += cs[i].n_lat;
		for (int k = 0; k < K_COUNT; k++)
			acked[k] += cs[i].acked[k];
		for (int s = 0; s < STATUS_MAX; s++)
			by_status[s] += cs[i].by_status[s];
		mism += cs[i].mismatches;
		for (unsigned int m = 0; m < o.meetings; m++)
			doubt += cs[i].m[m].doubt;
		if (!first_error && *cs[i].first_error)
			first_error = cs[i].first_error;
	}
	qsort(lat, n, sizeof(*lat), cmp_u32);
	total = acked[K_PORTS] + acked[K_PUT] + acked[K_DELETE];
	for (int s = 0; s < STATUS_MAX; s++)
		failed += s == 200 ? 0 : by_status[s];

	j = json_object_new_object();
	json_object_object_add(j, "clients", json_object_new_int(o.clients));
	json_object_object_add(j, "meetings_per_client", json_object_new_int(o.meetings));
	json_object_object_add(j, "seconds", json_object_new_double(secs));
	json_object_object_add(j, "seed", json_object_new_uint64(o.seed));
	json_object_object_add(j, "acknowledged", json_object_new_int64(total));
	for (int k = 0; k < K_COUNT; k++) {
		char key[32];

		snprintf(key, sizeof(key), "acknowledged_%s", kind_names[k]);
		json_object_object_add(j, key, json_object_new_int64(acked[k]));
	}
	json_object_object_add(j, "changes_per_second",
			       json_object_new_double(secs > 0 ? total / secs : 0));
	json_object_object_add(j, "latency_p50_ms",
			       json_object_new_double(quantile_ms(lat, n, .5)));
	json_object_object_add(j, "latency_p99_ms",
			       json_object_new_double(quantile_ms(lat, n, .99)));
	json_object_object_add(j, "latency_max_ms",
			       json_object_new_double(quantile_ms(lat, n, 1)));
	errs = json_object_new_object();
	for (int s = 0; s < STATUS_MAX; s++) {
		char key[16];

		if (s == 200 || !by_status[s])
			continue;
		if (s)
			snprintf(key, sizeof(key), "%d", s);
		else
			snprintf(key, sizeof(key), "no_answer");
		json_object_object_add(errs, key, json_object_new_int64(by_status[s]));
	}
	json_object_object_add(j, "errors", errs);
	json_object_object_add(j, "reply_mismatches", json_object_new_int64(mism));
	json_object_object_add(j, "in_doubt", json_object_new_int64(doubt));
	json_object_object_add(j, "first_error", first_error ? json_object_new_string(first_error) :
			       NULL);

	if (o.json) {
		puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	} else {
		printf("  clients                 %u, %u meetings each, ports %u-%u, %.1f s\n",
		       o.clients, o.meetings, o.first, o.last, secs);
		printf("  acknowledged changes    %lu (ports %lu, put %lu, delete %lu): %.1f/s\n",
		       total, acked[K_PORTS], acked[K_PUT], acked[K_DELETE],
		       secs > 0 ? total / secs : 0);
		printf("  latency                 p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		       quantile_ms(lat, n, .5), quantile_ms(lat, n, .99), quantile_ms(lat, n, 1));
		const char *sep = "";

		printf("  errors                  %s", failed ? "" : "none");
		for (int s = 0; s < STATUS_MAX; s++) {
			if (s == 200 || !by_status[s])
				continue;
			if (s)
				printf("%s%lu of status %d", sep, by_status[s], s);
			else
				printf("%s%lu without an answer", sep, by_status[s]);
			sep = ", ";
		}
		printf("\n");
		if (mism)
			printf("  reply mismatches        %lu\n", mism);
		if (first_error)
			printf("  first error             %s\n", first_error);
	}
	json_object_put(j);
	free(lat);
	return failed || mism ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: api_load --socket PATH [--clients N] [--seconds S] [--requests N]\n"
		"       [--meetings N] [--ports FIRST-LAST] [--prefix NAME] [--block CC]\n"
		"       [--mix PORTS,PUT,DELETE] [--seed N] [--until-gone] [--expect FILE]\n"
		"       [--log FILE] [--json]\n"
		"       api_load --layout [--layout-ports N] [the options above]\n"
		"(see the comment at the top of tests/bench/api_load.c)\n");
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "clients", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 'd' },
		{ "requests", required_argument, NULL, 'n' },
		{ "meetings", required_argument, NULL, 'm' },
		{ "ports", required_argument, NULL, 'p' },
		{ "prefix", required_argument, NULL, 'P' },
		{ "block", required_argument, NULL, 'b' },
		{ "mix", required_argument, NULL, 'x' },
		{ "seed", required_argument, NULL, 'S' },
		{ "until-gone", no_argument, NULL, 'g' },
		{ "expect", required_argument, NULL, 'e' },
		{ "log", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "layout", no_argument, NULL, 'L' },
		{ "layout-ports", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int opt;

	o.seed = (unsigned long long)time(NULL);
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': o.socket = optarg; break;
		case 'c': o.clients = strtoul(optarg, NULL, 10); break;
		case 'd': o.seconds = strtod(optarg, NULL); o.timed = true; break;
		case 'n': o.requests = strtoul(optarg, NULL, 10); break;
		case 'm': o.meetings = strtoul(optarg, NULL, 10); break;
		case 'P': o.prefix = optarg; break;
		case 'b': o.block = optarg; break;
		case 'S': o.seed = strtoull(optarg, NULL, 10); break;
		case 'g': o.until_gone = true; break;
		case 'e': o.expect = optarg; break;
		case 'l': o.log = optarg; break;
		case 'j': o.json = true; break;
		case 'L': o.layout = true; break;
		case 'K': o.layout_ports = strtoul(optarg, NULL, 10); break;
		case 'p':
			if (sscanf(optarg, "%u-%u", &o.first, &o.last) != 2)
				return -EINVAL;
			break;
		case 'x':
			if (sscanf(optarg, "%u,%u,%u", &o.mix[K_PORTS], &o.mix[K_PUT],
				   &o.mix[K_DELETE]) != 3)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || (!o.socket && !o.layout) || o.clients < 1 || o.clients > 64 ||
	    o.meetings < 1 || o.first < 1 || o.last > 65535 || o.first > o.last ||
	    (o.last - o.first + 1) / o.clients / o.meetings < 2 ||
	    (o.last - o.first + 1) / o.clients / o.meetings < o.layout_ports ||
	    o.layout_ports < 1 || o.seconds <= 0 ||
	    !(o.mix[K_PORTS] + o.mix[K_PUT] + o.mix[K_DELETE]) || strlen(o.prefix) > 30)
		return -EINVAL;
	return 0;
}

/* `meeting add` lines creating every client's meetings with their first layout_ports ports. */
static void print_layout(void)
{
	unsigned int slice = (o.last - o.first + 1) / o.clients, span = slice / o.meetings;

	for (unsigned int i = 0; i < o.clients; i++) {
		for (unsigned int j = 0; j < o.meetings; j++) {
			unsigned int first = o.first + i * slice + j * span;

			printf("meeting add %s-%u-%u --ports %u", o.prefix, i, j, first);
			if (o.layout_ports > 1)
				printf("-%u", first + o.layout_ports - 1);
			printf(" --block %s\n", o.block);
		}
	}
}

int main(int argc, char **argv)
{
	struct client *cs;
	struct timespec t_end;
	int ret = 2;

	if (parse_args(argc, argv)) {
		usage();
		return 1;
	}
	if (o.layout) {
		print_layout();
		return 0;
	}
	/* A write to a connection the daemon closed as it died is an error, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return 2;
	cs = calloc(o.clients, sizeof(*cs));
	if (!cs)
		goto out_global;
	if (o.log && !(log_file = fopen(o.log, "w"))) {
		fprintf(stderr, "api_load: cannot write %s: %s\n", o.log, strerror(errno));
		goto out;
	}
	for (unsigned int i = 0; i < o.clients; i++) {
		if (client_init(&cs[i], i))
			goto out;
		for (unsigned int j = 0; j < o.meetings; j++)
			if (adopt(&cs[i], &cs[i].m[j]))
				goto out;
	}
	fprintf(stderr, "api_load: running\n");
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	t_deadline = t_start;
	t_deadline.tv_sec += (time_t)o.seconds;
	t_deadline.tv_nsec += (long)((o.seconds - (time_t)o.seconds) * 1e9);
	if (t_deadline.tv_nsec >= 1000000000L) {
		t_deadline.tv_sec++;
		t_deadline.tv_nsec -= 1000000000L;
	}
	for (unsigned int i = 0; i < o.clients; i++) {
		if (pthread_create(&cs[i].thread, NULL, run_client, &cs[i])) {
			fprintf(stderr, "api_load: cannot start client %u\n", i);
			for (unsigned int k = 0; k < i; k++)
				pthread_join(cs[k].thread, NULL);
			goto out;
		}
	}
	for (unsigned int i = 0; i < o.clients; i++)
		pthread_join(cs[i].thread, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t_end);
	if (o.expect && write_expect(cs))
		goto out;
	ret = report(cs, (t_end.tv_sec - t_start.tv_sec) + (t_end.tv_nsec - t_start.tv_nsec) / 1e9);
	/* Until gone, failed changes are the fault under test; mismatches still count. */
	if (ret && o.until_gone) {
		unsigned long mism = 0;

		for (unsigned int i = 0; i < o.clients; i++)
			mism += cs[i].mismatches;
		ret = mism ? 2 : 0;
	} else if (ret) {
		ret = 2;
	}
out:
	for (unsigned int i = 0; cs && i < o.clients; i++)
		client_free(&cs[i]);
	free(cs);
	if (log_file)
		fclose(log_file);
out_global:
	curl_global_cleanup();
	return ret;
}
