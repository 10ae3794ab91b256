// SPDX-License-Identifier: GPL-2.0
/*
 * The `fleet` commands that read: the meetings in the fleet store (etcd) as `meeting add` lines,
 * marked where the nodes refuse them, and the nodes' statuses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "lib/errors.h"
#include "state/countries.h"
#include "state/rules_file.h"
#include "api/spec_json.h"
#include "fleet/etcd.h"
#include "fleet/layout.h"
#include "cli/cmd.h"
#include "cli/fleet_store.h"
#include "cli/output.h"

/* What the nodes make of a meeting key. */
struct judged {
	bool everywhere;	/* refused by every node it concerns (or by --node's) */
	char node[sizeof(((struct fleet_key *)0)->node)];	/* else one node that refuses it */
	char why[240];		/* "": refused by none */
};

/* The refusals of w, as node takes the store, marked in j (j[i] for kvs->v[i]). */
static void judge_mark(const struct store *st, const struct etcd_kvs *kvs, const char *node,
		       bool primary, const struct fleet_want *w, struct judged *j)
{
	for (size_t r = 0; r < w->n_refused; r++) {
		struct fleet_key k;
		size_t i = 0;

		while (i < kvs->n && strcmp(kvs->v[i].key, w->refused[r].key))
			i++;
		fleet_key_parse(st->prefix, w->refused[r].key, &k);
		if (i == kvs->n || k.kind != FLEET_KEY_MEETING || j[i].everywhere)
			continue;
		j[i].everywhere = primary || *k.node;
		if (!j[i].everywhere && *j[i].node)
			continue;
		snprintf(j[i].node, sizeof(j[i].node), "%s", node);
		snprintf(j[i].why, sizeof(j[i].why), "%s", w->refused[r].reason);
	}
}

/* A key of the store parsed, and its place in kvs. */
struct key_at {
	struct fleet_key k;
	size_t i;
};

/* Meeting keys first, by node ("" first: those of every node), then by name. */
static int by_node_name(const void *a, const void *b)
{
	const struct fleet_key *x = &((const struct key_at *)a)->k;
	const struct fleet_key *y = &((const struct key_at *)b)->k;
	int c = (x->kind != FLEET_KEY_MEETING) - (y->kind != FLEET_KEY_MEETING);

	if (!c)
		c = strcmp(x->node, y->node);
	return c ? c : strcmp(x->name, y->name);
}

/* The store's keys sorted so: keys[0, *ng) every node's meetings, [*ng, *nm) nodes' own. */
static struct key_at *keys_sorted(const struct store *st, const struct etcd_kvs *kvs, size_t *ng,
				  size_t *nm)
{
	struct key_at *keys = calloc(kvs->n ? kvs->n : 1, sizeof(*keys));

	if (!keys)
		return NULL;
	for (size_t i = 0; i < kvs->n; i++) {
		fleet_key_parse(st->prefix, kvs->v[i].key, &keys[i].k);
		keys[i].i = i;
	}
	qsort(keys, kvs->n, sizeof(*keys), by_node_name);
	for (*ng = 0; *ng < kvs->n && keys[*ng].k.kind == FLEET_KEY_MEETING && !*keys[*ng].k.node;)
		++*ng;
	for (*nm = *ng; *nm < kvs->n && keys[*nm].k.kind == FLEET_KEY_MEETING;)
		++*nm;
	return keys;
}

/* The key of every node's meeting name among keys[0, ng), or NULL. */
static const struct key_at *global_named(const struct key_at *keys, size_t ng, const char *name)
{
	struct key_at want = { .k.kind = FLEET_KEY_MEETING };

	snprintf(want.k.name, sizeof(want.k.name), "%s", name);
	return bsearch(&want, keys, ng, sizeof(*keys), by_node_name);
}

/* The meeting of key a read (census: none) into *s: 0, 1 expired, -EINVAL bad (said in why). */
static int read_key(const struct etcd_kvs *kvs, const struct key_at *a, struct meeting_spec *s,
		    char *why, size_t len)
{
	struct country_census none = {};

	return fleet_meeting_read(&kvs->v[a->i], a->k.name, &none, s, why, len);
}

/*
 * Whether a node's own meetings (keys[b, e)) may change how it takes the meetings of every node:
 * one claims a port those (or another of its own, or the shared ports) claim, has ufrags or Janus
 * rooms, or the name of one of those. Else the node takes those as a node without meetings of its
 * own does (the limits aside), and its own ones as they are.
 */
static bool own_matter(const struct etcd_kvs *kvs, const struct key_at *keys, size_t ng, size_t b,
		       size_t e, const __u8 claimed[GB_PORT_COUNT / 8])
{
	__u8 seen[GB_PORT_COUNT / 8];
	struct meeting_spec s;
	bool matter = false;
	char why[240];

	memcpy(seen, claimed, sizeof(seen));
	for (size_t i = b; i < e && !matter; i++) {
		matter = global_named(keys, ng, keys[i].k.name);
		if (matter || read_key(kvs, &keys[i], &s, why, sizeof(why)))
			continue;
		matter = s.n_ufrags || s.n_janus_rooms;
		for (size_t p = 0; p < sizeof(seen); p++) {
			matter |= !!(seen[p] & s.ports[p]);
			seen[p] |= s.ports[p];
		}
		spec_free(&s);
	}
	return matter;
}

/* What the meetings of every node (keys[0, ng)) claim, and the shared ports (in *claimed). */
static void claims_of_all(const struct etcd_kvs *kvs, const struct key_at *keys, size_t ng,
			  __u8 claimed[GB_PORT_COUNT / 8])
{
	struct meeting_spec s;
	char why[240];

	for (size_t i = 0; i < ng; i++) {
		if (read_key(kvs, &keys[i], &s, why, sizeof(why)))
			continue;
		for (size_t p = 0; p < GB_PORT_COUNT / 8; p++)
			claimed[p] |= s.ports[p];
		spec_free(&s);
	}
}

/*
 * Where the meeting keys of kvs are refused, and why: as --node's node takes the store; without
 * it, as a node without meetings of its own does (refused there: refused by every node but
 * perhaps one with meetings of its own), and as each node whose own meetings may change that.
 */
static int judge(const struct store *st, const struct etcd_kvs *kvs, const struct key_at *keys,
		 size_t ng, size_t nm, struct judged *j)
{
	struct country_census none = {};
	__u8 claimed[GB_PORT_COUNT / 8];
	struct fleet_want w;
	size_t e;
	int err;

	err = fleet_want_build(kvs->v, kvs->n, st->prefix, st->node ? st->node : "", &none, NULL,
			       &w);
	if (!err) {
		judge_mark(st, kvs, st->node ? st->node : "", true, &w, j);
		memcpy(claimed, w.shared, sizeof(claimed));
		fleet_want_free(&w);
		claims_of_all(kvs, keys, ng, claimed);
	}
	/* Each node with meetings of its own once: keys[b, e) are its. */
	for (size_t b = ng; b < nm && !err && !st->node; b = e) {
		for (e = b; e < nm && !strcmp(keys[e].k.node, keys[b].k.node); e++)
			;
		if (!own_matter(kvs, keys, ng, b, e, claimed))
			continue;
		err = fleet_want_build(kvs->v, kvs->n, st->prefix, keys[b].k.node, &none, NULL, &w);
		if (err)
			break;
		judge_mark(st, kvs, keys[b].k.node, false, &w, j);
		fleet_want_free(&w);
	}
	if (err)
		gb_err("cannot read the store's meetings: %s", strerror(-err));
	return err;
}

/*
 * The keys of every node's meetings --node's node takes: not one whose name a meeting of its own
 * has, unless that one has expired (hidden[i] for kvs->v[i]).
 */
static void hide_shadowed(const struct store *st, const struct etcd_kvs *kvs,
			  const struct key_at *keys, size_t ng, size_t nm, bool *hidden)
{
	const struct key_at *g;
	struct meeting_spec s;
	char why[240];
	int read;

	for (size_t i = ng; i < nm && st->node; i++) {
		if (strcmp(keys[i].k.node, st->node) || !(g = global_named(keys, ng, keys[i].k.name)))
			continue;
		read = read_key(kvs, &keys[i], &s, why, sizeof(why));
		if (!read)
			spec_free(&s);
		hidden[g->i] = read != 1;
	}
}

/* A meeting line of fleet list (or its JSON item), marked as judged. */
static void list_meeting(const struct cmd_args *a, const char *scope, const struct etcd_kv *kv,
			 const struct meeting_spec *s, const struct judged *j,
			 struct json_object *item)
{
	struct json_object *by;
	char *line;

	json_object_object_add(item, "meeting", spec_to_json(s));
	if (j->everywhere)
		json_object_object_add(item, "error", json_object_new_string(j->why));
	else if (*j->why) {
		by = json_object_new_object();
		json_object_object_add(by, "node", json_object_new_string(j->node));
		json_object_object_add(by, "reason", json_object_new_string(j->why));
		json_object_object_add(item, "refused_by", by);
	}
	if (a->opt[OPT_JSON])
		return;
	line = spec_format(s, false);
	if (j->everywhere)
		printf("%s # %s: not taken: %s\n", scope, kv->key, j->why);
	else
		printf("%s %s\n", scope, line ? line : "");
	if (!j->everywhere && *j->why)
		printf("%s # %s: refused on node %s: %s\n", scope, kv->key, j->node, j->why);
	free(line);
}

int cmd_fleet_list(const struct cmd_args *a)
{
	struct json_object *arr = json_object_new_array();
	struct country_census none = {};
	struct key_at *keys = NULL;
	struct etcd_kvs kvs = {};
	struct judged *j = NULL;
	struct store st = {};
	bool *hidden = NULL;
	size_t ng, nm;
	int ret = store_read(&st, a->opt, &kvs);

	if (ret)
		goto out;
	j = calloc(kvs.n ? kvs.n : 1, sizeof(*j));
	hidden = calloc(kvs.n ? kvs.n : 1, sizeof(*hidden));
	keys = j && hidden ? keys_sorted(&st, &kvs, &ng, &nm) : NULL;
	ret = !keys || judge(&st, &kvs, keys, ng, nm, j) ? GB_EXIT_FAIL : GB_EXIT_OK;
	if (!ret)
		hide_shadowed(&st, &kvs, keys, ng, nm, hidden);
	for (size_t i = 0; i < kvs.n && !ret; i++) {
		struct json_object *item;
		struct meeting_spec s;
		struct fleet_key k;
		const char *scope;
		char why[240];
		int read;

		fleet_key_parse(st.prefix, kvs.v[i].key, &k);
		if (k.kind != FLEET_KEY_MEETING || (st.node && !fleet_key_concerns(&k, st.node)) ||
		    hidden[i])
			continue;
		scope = *k.node ? k.node : "*";
		item = json_object_new_object();
		json_object_object_add(item, "key", json_object_new_string(kvs.v[i].key));
		json_object_object_add(item, "node",
				       *k.node ? json_object_new_string(k.node) : NULL);
		json_object_object_add(item, "mod_revision",
				       json_object_new_int64(kvs.v[i].mod_revision));
		read = fleet_meeting_read(&kvs.v[i], k.name, &none, &s, why, sizeof(why));
		if (read == 1)
			snprintf(why, sizeof(why), "expired");
		if (!read) {
			list_meeting(a, scope, &kvs.v[i], &s, &j[i], item);
			spec_free(&s);
		} else {
			json_object_object_add(item, "error", json_object_new_string(why));
			if (!a->opt[OPT_JSON])
				printf("%s # %s: not taken: %s\n", scope, kvs.v[i].key, why);
		}
		json_object_array_add(arr, item);
	}
	if (!ret && a->opt[OPT_JSON]) {
		print_json(arr);
		arr = NULL;
	}
	free(keys);
	free(hidden);
	free(j);
	etcd_kvs_free(&kvs);
	etcd_close(&st.e);
out:
	json_object_put(arr);
	return ret;
}

/* The newest change among the keys node takes (keys: kvs parsed): it must have applied that. */
static __s64 newest_for(const struct etcd_kvs *kvs, const struct fleet_key *keys,
			const char *node)
{
	__s64 newest = 0;

	for (size_t i = 0; i < kvs->n; i++) {
		if (!fleet_key_concerns(&keys[i], node))
			continue;
		if (kvs->v[i].mod_revision > newest)
			newest = kvs->v[i].mod_revision;
	}
	return newest;
}

/*
 * The nodes the store has meetings for but no status from (their daemons stopped, or never
 * started): a line each, added to arr. Returns how many.
 */
static int silent_nodes(const struct etcd_kvs *kvs, const struct fleet_key *keys,
			struct json_object *arr, bool json)
{
	int silent = 0;

	for (size_t i = 0; i < kvs->n; i++) {
		const char *node = keys[i].node;
		struct json_object *o;
		bool seen = false;

		if (keys[i].kind != FLEET_KEY_MEETING || !*node)
			continue;
		/* Once per node: its first key; and not if it keeps a status. */
		for (size_t j = 0; j < kvs->n && !seen; j++)
			seen = !strcmp(keys[j].node, node) &&
			       (keys[j].kind == FLEET_KEY_STATUS ||
				(j < i && keys[j].kind == FLEET_KEY_MEETING));
		if (seen)
			continue;
		silent++;
		o = json_object_new_object();
		json_object_object_add(o, "node", json_object_new_string(node));
		json_object_object_add(o, "status", NULL);
		json_object_array_add(arr, o);
		if (!json)
			printf("%-20s no status: its daemon is not following the store\n", node);
	}
	return silent;
}

int cmd_fleet_status(const struct cmd_args *a)
{
	struct json_object *arr = json_object_new_array();
	struct fleet_key *keys = NULL;
	struct etcd_kvs kvs = {};
	struct store st = {};
	int ret = store_read(&st, a->opt, &kvs), marked = 0;

	if (ret)
		goto out;
	keys = calloc(kvs.n ? kvs.n : 1, sizeof(*keys));
	if (!keys) {
		gb_err("out of memory");
		ret = GB_EXIT_FAIL;
		goto out_kvs;
	}
	for (size_t i = 0; i < kvs.n; i++)
		fleet_key_parse(st.prefix, kvs.v[i].key, &keys[i]);
	for (size_t i = 0; i < kvs.n; i++) {
		const char *node = keys[i].node, *err;
		struct json_object *o, *v, *g = NULL, *matches = NULL, *rej = NULL, *twin = NULL;
		__s64 rev, newest;
		bool lagging, differs, connected;

		if (keys[i].kind != FLEET_KEY_STATUS)
			continue;
		o = json_tokener_parse(kvs.v[i].value);
		/* Not a daemon's (etcdctl's, a cut write): said, and marked, not left out. */
		if (!o || !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			o = json_object_new_object();
			json_object_object_add(o, "node", json_object_new_string(node));
			json_object_object_add(o, "status", NULL);
			json_object_object_add(o, "unreadable", json_object_new_boolean(true));
			json_object_array_add(arr, o);
			marked++;
			if (!a->opt[OPT_JSON])
				printf("%-20s status key %s is not a JSON object: not a daemon's\n",
				       node, kvs.v[i].key);
			continue;
		}
		rev = json_object_object_get_ex(o, "revision", &v) ? json_object_get_int64(v) : 0;
		newest = newest_for(&kvs, keys, node);
		lagging = rev < newest;
		json_object_object_get_ex(o, "geoip", &g);
		differs = g && json_object_object_get_ex(g, "matches", &matches) && matches &&
			  !json_object_get_boolean(matches);
		json_object_object_get_ex(o, "rejected", &rej);
		err = json_object_object_get_ex(o, "last_error", &v) ? json_object_get_string(v) : "";
		/* Named by its key, whatever the value says (etcdctl may have written it). */
		json_object_object_add(o, "node", json_object_new_string(node));
		/* Two daemons as one node: the key holds whichever wrote last. */
		if (json_object_object_get_ex(o, "twin", &v) && json_object_is_type(v, json_type_string))
			twin = v;
		/* Not following the store: its watch down, or its last converge failed. */
		connected = json_object_object_get_ex(o, "connected", &v) &&
			    json_object_get_boolean(v);
		marked += lagging || differs || twin || !connected || (err && *err);
		json_object_object_add(o, "lagging", json_object_new_boolean(lagging));
		json_object_object_add(o, "store_revision", json_object_new_int64(newest));
		if (!a->opt[OPT_JSON]) {
			int held = json_object_object_get_ex(o, "meetings", &v) ?
				   json_object_get_int(v) : 0;
			/* Counted where the list is cut (node_status.c); else the list's length. */
			size_t refused = json_object_object_get_ex(o, "rejected_count", &v) ?
					 (size_t)json_object_get_int64(v) :
					 json_object_is_type(rej, json_type_array) ?
					 json_object_array_length(rej) : 0;

			printf("%-20s revision %lld%s, %s, %d meeting%s, %zu key%s refused%s%s%s%s%s%s\n",
			       node, (long long)rev, lagging ? " (lagging)" : "",
			       connected ? "connected" : "not connected",
			       held, held == 1 ? "" : "s", refused, refused == 1 ? "" : "s",
			       differs ? ", geoip differs" : "",
			       json_object_object_get_ex(o, "drift", &v) && json_object_get_boolean(v) ?
			       ", drift (local changes)" : "",
			       twin ? ", another daemon as this node: " : "",
			       twin ? json_object_get_string(twin) : "",
			       err && *err ? ", last error: " : "", err && *err ? err : "");
		}
		json_object_array_add(arr, o);
	}
	marked += silent_nodes(&kvs, keys, arr, a->opt[OPT_JSON]);
	/* Meetings, and no node at all: every daemon stopped (each takes its status key along). */
	for (size_t i = 0; i < kvs.n && !json_object_array_length(arr) && !marked; i++)
		if (keys[i].kind == FLEET_KEY_MEETING) {
			marked = 1;
			if (!a->opt[OPT_JSON])
				printf("no node reports a status: no daemon follows this store\n");
		}
	if (a->opt[OPT_JSON]) {
		print_json(arr);
		arr = NULL;
	}
	ret = marked ? GB_EXIT_FAIL : GB_EXIT_OK;
out_kvs:
	free(keys);
	etcd_kvs_free(&kvs);
	etcd_close(&st.e);
out:
	json_object_put(arr);
	return ret;
}
