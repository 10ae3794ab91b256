// SPDX-License-Identifier: GPL-2.0
/*
 * The fleet store's keys read into what one node's rule set should be: each key judged alone, so
 * that one bad key is refused and every other still applies.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/parse.h"
#include "state/countries.h"
#include "api/body.h"
#include "api/spec_json.h"
#include "fleet/layout.h"

int fleet_prefix(const char *given, char *out, size_t len)
{
	size_t n = strlen(given);

	while (n && given[n - 1] == '/')
		n--;
	if (!n || *given != '/' || n + 2 > len || n > FLEET_PREFIX_MAX ||
	    memchr(given, '\n', n))
		return -EINVAL;
	snprintf(out, len, "%.*s/", (int)n, given);
	return 0;
}

bool fleet_node_valid(const char *node)
{
	return meeting_name_valid(node);
}

int fleet_meeting_key(const char *prefix, const char *node, const char *name, char *out,
		      size_t len)
{
	int n = node ? snprintf(out, len, "%snodes/%s/meetings/%s", prefix, node, name) :
		       snprintf(out, len, "%smeetings/%s", prefix, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A meeting key's candidate: its spec and what orders it. */
struct candidate {
	struct meeting_spec s;
	const struct etcd_kv *kv;
	bool local;
};

static int refuse(struct fleet_want *w, const struct etcd_kv *kv, const char *name,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int refuse(struct fleet_want *w, const struct etcd_kv *kv, const char *name,
		  const char *fmt, ...)
{
	struct fleet_refusal *grown = realloc(w->refused, (w->n_refused + 1) * sizeof(*grown));
	struct fleet_refusal *r;
	va_list ap;

	if (!grown)
		return -ENOMEM;
	w->refused = grown;
	r = &w->refused[w->n_refused];
	r->key = strdup(kv->key);
	if (!r->key)
		return -ENOMEM;
	r->mod_revision = kv->mod_revision;
	snprintf(r->name, sizeof(r->name), "%s", name && meeting_name_valid(name) ? name : "");
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	w->n_refused++;
	return 0;
}

/* The value as JSON: NULL (refused, said in why) if it is not, or is too long. */
static struct json_object *value_json(const struct etcd_kv *kv, char *why, size_t len)
{
	struct json_object *o;
	char err[200] = "";

	if (kv->value_len > FLEET_VALUE_MAX) {
		snprintf(why, len, "value of %zu bytes, over the limit of %u", kv->value_len,
			 FLEET_VALUE_MAX);
		return NULL;
	}
	if (strlen(kv->value) != kv->value_len) {
		snprintf(why, len, "value is not a JSON object: it has a NUL byte");
		return NULL;
	}
	/* Parsed as the API parses bodies: RFC 8259 strictly, no name twice in one object. */
	if (body_json(kv->value, kv->value_len, &o, err, sizeof(err))) {
		snprintf(why, len, "value is not a JSON object: %s",
			 strncmp(err, "the body ", 9) ? err : err + 9);
		return NULL;
	}
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(why, len, "value is not a JSON object");
		json_object_put(o);
		return NULL;
	}
	return o;
}

int fleet_meeting_read(const struct etcd_kv *kv, const char *name,
		       const struct country_census *census, struct meeting_spec *s, char *why,
		       size_t len)
{
	struct json_object *o, *exp;
	int err;

	if (!meeting_name_valid(name)) {
		snprintf(why, len, "not a meeting name");
		return -EINVAL;
	}
	o = value_json(kv, why, len);
	if (!o)
		return -EINVAL;
	/*
	 * A duration ("2h") would be counted by each node from its own reading of the key, again at
	 * every change: only a time (parse_expiry's form, "2026-03-01T18:00:00Z") is taken.
	 */
	if (json_object_object_get_ex(o, "expires", &exp) &&
	    json_object_is_type(exp, json_type_string) &&
	    (strlen(json_object_get_string(exp)) <= 10 || json_object_get_string(exp)[4] != '-')) {
		snprintf(why, len, "\"expires\" in the store must be an RFC 3339 time, not a "
			 "duration (fleet put writes one)");
		json_object_put(o);
		return -EINVAL;
	}
	/* Any expiry time is read; one that has passed leaves the meeting out. */
	err = spec_from_json(o, name, false, time(NULL), SPEC_PAST_OK, s, why, len);
	json_object_put(o);
	if (!err && countries_check(census, s->blocked, why, len))
		err = -EINVAL;
	if (err) {
		spec_free(s);
		return -EINVAL;
	}
	if (spec_expired(s, time(NULL))) {
		spec_free(s);
		return 1;
	}
	return 0;
}

static int shared_of(const struct etcd_kv *kv, struct fleet_want *w, char *why, size_t len)
{
	struct json_object *o = value_json(kv, why, len);
	__u8 ports[GB_PORT_COUNT / 8] = {};
	bool given;
	int err;

	if (!o)
		return -EINVAL;
	err = json_object_object_length(o) == 1 ? 0 : -EINVAL;
	if (err)
		snprintf(why, len, "shared-ports must be {\"ports\": [...]} alone");
	else
		err = ports_from_json(o, "ports", ports, &given, why, len);
	json_object_put(o);
	if (!err)
		memcpy(w->shared, ports, sizeof(ports));
	return err ? -EINVAL : 0;
}

static int geoip_of(const struct etcd_kv *kv, struct fleet_want *w, char *why, size_t len)
{
	struct json_object *o = value_json(kv, why, len), *v;
	__s64 epoch;

	if (!o)
		return -EINVAL;
	if (!json_object_object_get_ex(o, "build_epoch", &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_string)) ||
	    json_object_get_int64(v) <= 0) {
		snprintf(why, len, "geoip must give \"build_epoch\", a number of unix seconds (and "
			 "may give \"sha256\")");
		json_object_put(o);
		return -EINVAL;
	}
	epoch = json_object_get_int64(v);
	/* null as absent (as a node's status shows an expected build without one). */
	if (json_object_object_get_ex(o, "sha256", &v) && v) {
		const char *hex = json_object_get_string(v);

		if (!json_object_is_type(v, json_type_string) || strlen(hex) != 64 ||
		    strspn(hex, "0123456789abcdefABCDEF") != 64) {
			snprintf(why, len, "geoip's \"sha256\" must be 64 hex digits");
			json_object_put(o);
			return -EINVAL;
		}
		for (int i = 0; i < 64; i++)
			w->geoip_sha256[i] = tolower((unsigned char)hex[i]);
		w->geoip_sha256[64] = '\0';
	}
	/* Taken whole or not at all (a refusal may give what was kept instead). */
	w->geoip_build_epoch = epoch;
	w->geoip_given = true;
	json_object_put(o);
	return 0;
}

static int by_revision(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	return (x->kv->mod_revision > y->kv->mod_revision) -
	       (x->kv->mod_revision < y->kv->mod_revision);
}

/* The part of rest before '/', if rest starts with it and the part is one segment. */
static const char *segment(const char *rest, const char *head, char *seg, size_t len)
{
	size_t h = strlen(head);
	const char *slash;

	if (strncmp(rest, head, h))
		return NULL;
	rest += h;
	slash = strchr(rest, '/');
	if (slash && (size_t)(slash - rest) < len) {
		snprintf(seg, len, "%.*s", (int)(slash - rest), rest);
		return slash + 1;
	}
	if (!slash && strlen(rest) < len) {
		snprintf(seg, len, "%s", rest);
		return rest + strlen(rest);
	}
	return NULL;
}

void fleet_key_parse(const char *prefix, const char *key, struct fleet_key *k)
{
	size_t plen = strlen(prefix);
	const char *rest, *after;

	memset(k, 0, sizeof(*k));
	k->kind = FLEET_KEY_ELSEWHERE;
	if (strncmp(key, prefix, plen))
		return;
	rest = key + plen;
	k->kind = FLEET_KEY_OUTSIDE;
	if (!strcmp(rest, "shared-ports"))
		k->kind = FLEET_KEY_SHARED_PORTS;
	else if (!strcmp(rest, "geoip"))
		k->kind = FLEET_KEY_GEOIP;
	else if (!strcmp(rest, "fleet"))
		k->kind = FLEET_KEY_MARK;
	else if ((after = segment(rest, "status/", k->node, sizeof(k->node))))
		k->kind = !*after && *k->node ? FLEET_KEY_STATUS : FLEET_KEY_OUTSIDE;
	else if ((after = segment(rest, "meetings/", k->name, sizeof(k->name))))
		k->kind = !*after && *k->name ? FLEET_KEY_MEETING : FLEET_KEY_OUTSIDE;
	else if ((after = segment(rest, "nodes/", k->node, sizeof(k->node))) && *k->node &&
		 fleet_node_valid(k->node) &&
		 (after = segment(after, "meetings/", k->name, sizeof(k->name))) && !*after &&
		 *k->name)
		k->kind = FLEET_KEY_MEETING;
	if (k->kind == FLEET_KEY_OUTSIDE || k->kind == FLEET_KEY_SHARED_PORTS ||
	    k->kind == FLEET_KEY_GEOIP || k->kind == FLEET_KEY_MARK)
		*k->node = *k->name = 0;
	if (k->kind == FLEET_KEY_STATUS)
		*k->name = 0;
}

bool fleet_key_concerns(const struct fleet_key *k, const char *node)
{
	return k->kind != FLEET_KEY_ELSEWHERE && k->kind != FLEET_KEY_STATUS &&
	       !(k->kind == FLEET_KEY_MEETING && *k->node && strcmp(k->node, node));
}

bool fleet_concerns(const char *prefix, const char *key, const char *node)
{
	struct fleet_key k;

	fleet_key_parse(prefix, key, &k);
	return fleet_key_concerns(&k, node);
}

bool fleet_store_named(const struct etcd_kv *kvs, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		struct fleet_key k;

		fleet_key_parse(prefix, kvs[i].key, &k);
		if (k.kind == FLEET_KEY_MEETING || k.kind == FLEET_KEY_SHARED_PORTS ||
		    k.kind == FLEET_KEY_GEOIP || k.kind == FLEET_KEY_MARK)
			return true;
	}
	return false;
}

int fleet_mark_key(const char *prefix, char *out, size_t len)
{
	return snprintf(out, len, "%sfleet", prefix) < (int)len ? 0 : -ENAMETOOLONG;
}

/* A copy of s at the end of l. */
static int push_copy(struct spec_list *l, const struct meeting_spec *s)
{
	struct meeting_spec copy;
	int err = spec_copy(&copy, s);

	if (!err)
		err = spec_list_push(l, &copy);
	return err;
}

/*
 * Takes the candidates, refusing each that claims a shared port, or a port, ufrag or room that
 * one written before it claims. The whole set is checked once; one at a time only when the store
 * holds a clash.
 */
static int take_meetings(struct candidate *c, size_t n, struct fleet_want *w)
{
	char why[240];
	int err = 0;

	qsort(c, n, sizeof(*c), by_revision);
	for (size_t i = 0; i < n && !err; i++) {
		__u32 p = port_next(c[i].s.ports, 1);

		while (p < GB_PORT_COUNT && !port_isset(w->shared, p))
			p = port_next(c[i].s.ports, p + 1);
		if (p < GB_PORT_COUNT) {
			err = refuse(w, c[i].kv, c[i].s.name, "port %u is a shared port in the store",
				     p);
			c[i].kv = NULL;
			continue;
		}
		err = push_copy(&w->meetings, &c[i].s);
	}
	if (err || !spec_list_check(&w->meetings, why, sizeof(why)))
		return err;
	spec_list_free(&w->meetings);
	for (size_t i = 0; i < n && !err; i++) {
		if (!c[i].kv)
			continue;
		err = push_copy(&w->meetings, &c[i].s);
		if (err || !spec_list_check(&w->meetings, why, sizeof(why)))
			continue;
		spec_free(&w->meetings.v[--w->meetings.n]);
		err = refuse(w, c[i].kv, c[i].s.name, "%s", why);
	}
	return err;
}

/* Refuses kv, a shared-ports or geoip key, giving w what kept holds of it (if anything). */
static int refuse_kept(struct fleet_want *w, const struct etcd_kv *kv, enum fleet_key_kind kind,
		       const struct fleet_kept *kept, const char *why)
{
	bool shared = kind == FLEET_KEY_SHARED_PORTS;

	if (shared && kept && kept->shared_known) {
		memcpy(w->shared, kept->shared, sizeof(w->shared));
		return refuse(w, kv, NULL, "%s; the shared ports applied before are kept", why);
	}
	if (!shared && kept && kept->geoip_given) {
		w->geoip_given = true;
		w->geoip_build_epoch = kept->geoip_build_epoch;
		memcpy(w->geoip_sha256, kept->geoip_sha256, sizeof(w->geoip_sha256));
		return refuse(w, kv, NULL, "%s; the build named before is still expected", why);
	}
	return refuse(w, kv, NULL, "%s", why);
}

/* Whether a meeting key of the node's own named name and was refused. */
static bool node_refused(const struct fleet_want *w, const char *prefix, const char *name)
{
	struct fleet_key k;

	for (size_t i = 0; i < w->n_refused; i++) {
		if (strcmp(w->refused[i].name, name))
			continue;
		fleet_key_parse(prefix, w->refused[i].key, &k);
		if (k.kind == FLEET_KEY_MEETING && *k.node)
			return true;
	}
	return false;
}

/*
 * Drops the global candidates a node's own one of the same name takes the place of: each global
 * one checked against the few names of the node's own (a walk of every pair read a whole
 * candidate, 8 KiB apart, per pair: 256M of them for 16,000 meetings, at every converge).
 */
static int drop_shadowed(struct candidate *c, size_t *nc)
{
	char (*own)[sizeof(c->s.name)];
	size_t n_own = 0;

	for (size_t i = 0; i < *nc; i++)
		n_own += c[i].local;
	if (!n_own)
		return 0;
	own = calloc(n_own, sizeof(*own));
	if (!own)
		return -ENOMEM;
	n_own = 0;
	for (size_t i = 0; i < *nc; i++)
		if (c[i].local)
			memcpy(own[n_own++], c[i].s.name, sizeof(*own));
	for (size_t i = 0; i < *nc; i++)
		for (size_t k = 0; k < n_own && !c[i].local; k++)
			if (!strcmp(c[i].s.name, own[k])) {
				spec_free(&c[i].s);
				c[i--] = c[--*nc];
				break;
			}
	free(own);
	return 0;
}

int fleet_want_build(const struct etcd_kv *kvs, size_t n, const char *prefix, const char *node,
		     const struct country_census *census, const struct fleet_kept *kept,
		     struct fleet_want *w)
{
	struct candidate *c = calloc(n ? n : 1, sizeof(*c));
	size_t nc = 0;
	int err = 0;

	memset(w, 0, sizeof(*w));
	if (!c)
		return -ENOMEM;
	/* Shared ports first: a meeting port among them is refused. */
	for (int pass = 0; pass < 2 && !err; pass++) {
		for (size_t i = 0; i < n && !err; i++) {
			struct fleet_key k;
			char why[240];
			int read;

			fleet_key_parse(prefix, kvs[i].key, &k);
			if ((k.kind == FLEET_KEY_SHARED_PORTS) != !pass ||
			    !fleet_key_concerns(&k, node))
				continue;
			/* It names the fleet; what it holds is not read. */
			if (k.kind == FLEET_KEY_MARK)
				continue;
			if (k.kind == FLEET_KEY_OUTSIDE) {
				err = refuse(w, &kvs[i], NULL,
					     "a key outside the layout (docs/fleet.md)");
				continue;
			}
			if (k.kind != FLEET_KEY_MEETING) {
				if ((k.kind == FLEET_KEY_SHARED_PORTS ? shared_of : geoip_of)(
					    &kvs[i], w, why, sizeof(why)))
					err = refuse_kept(w, &kvs[i], k.kind, kept, why);
				continue;
			}
			c[nc].kv = &kvs[i];
			c[nc].local = *k.node;
			read = fleet_meeting_read(&kvs[i], k.name, census, &c[nc].s, why,
						  sizeof(why));
			if (read < 0)
				err = refuse(w, &kvs[i], k.name, "%s", why);
			else if (!read)
				nc++;
		}
	}
	/* A node's own meeting wins over a global one of its name, refused too. */
	for (size_t i = 0; i < nc; i++)
		if (!c[i].local && node_refused(w, prefix, c[i].s.name)) {
			spec_free(&c[i].s);
			c[i--] = c[--nc];
		}
	if (!err)
		err = drop_shadowed(c, &nc);
	if (!err)
		err = take_meetings(c, nc, w);
	for (size_t i = 0; i < nc; i++)
		spec_free(&c[i].s);
	free(c);
	if (err)
		fleet_want_free(w);
	return err;
}

bool fleet_refusal_in(const struct fleet_refusal *v, size_t n, const struct fleet_refusal *r)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].mod_revision == r->mod_revision && !strcmp(v[i].key, r->key))
			return true;
	return false;
}

unsigned int fleet_refusals_say(const struct fleet_refusal *before, size_t n_before,
				const struct fleet_refusal *now, size_t n_now)
{
	unsigned int said = 0;

	for (size_t i = 0; i < n_now; i++) {
		if (fleet_refusal_in(before, n_before, &now[i]))
			continue;
		fprintf(stderr, "geoblock: fleet: refused %s (revision %lld): %s\n", now[i].key,
			(long long)now[i].mod_revision, now[i].reason);
		said++;
	}
	return said;
}

void fleet_refusals_free(struct fleet_refusal *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].key);
	free(r);
}

void fleet_want_free(struct fleet_want *w)
{
	spec_list_free(&w->meetings);
	fleet_refusals_free(w->refused, w->n_refused);
	memset(w, 0, sizeof(*w));
}

int fleet_names_check(const char *given, const char *node, char *out, size_t len)
{
	char shown[64 * 4 + 1];

	if (fleet_prefix(given, out, len)) {
		gb_err("--etcd-prefix: \"%s\" is not a key prefix ('/' and a name under it, such as "
		       "/geoblock; at most %d characters)",
		       printable(given, strlen(given), 64, shown, sizeof(shown)), FLEET_PREFIX_MAX);
		return -EINVAL;
	}
	if (node && !fleet_node_valid(node)) {
		gb_err("--node: \"%s\" is not a node name (letters, digits, '.', '_', '-'; no '/'; "
		       "at most %d characters)", printable(node, strlen(node), 64, shown,
							 sizeof(shown)), GB_MEETING_NAME_LEN - 1);
		return -EINVAL;
	}
	return 0;
}
