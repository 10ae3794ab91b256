// SPDX-License-Identifier: GPL-2.0
/*
 * The `fleet` commands: meetings written to and read from the fleet store (etcd) with the grammar
 * of `meeting add`, and the nodes' statuses, so that no operator writes JSON by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "state/countries.h"
#include "state/rules_file.h"
#include "api/spec_json.h"
#include "fleet/etcd.h"
#include "fleet/layout.h"
#include "fleet/store.h"
#include "cli/cmd.h"
#include "cli/output.h"

/* Where the store is, as the options (or the environment) say. */
struct store {
	struct etcd e;
	char prefix[FLEET_PREFIX_MAX + 2];
	const char *node;
};

static int store_open(struct store *st, const char *const opt[OPT_COUNT])
{
	const char *urls = opt[OPT_ETCD] ? opt[OPT_ETCD] : getenv("GEOBLOCK_ETCD");

	st->node = opt[OPT_NODE];
	if (fleet_names_check(opt[OPT_ETCD_PREFIX], st->node, st->prefix, sizeof(st->prefix)))
		return GB_EXIT_USAGE;
	if (etcd_open(&st->e, urls && *urls ? urls : FLEET_DEFAULT_ETCD, opt[OPT_ETCD_CACERT],
		      opt[OPT_ETCD_CERT], opt[OPT_ETCD_KEY]))
		return GB_EXIT_USAGE;
	return 0;
}

/* The prefix named holds nothing of a fleet: likely mistyped. */
static void warn_unnamed(const struct store *st, const struct etcd_kvs *kvs, const char *what)
{
	if (!fleet_store_named(kvs->v, kvs->n, st->prefix))
		gb_warn("%s held no fleet (no meeting, shared-ports, geoip or fleet key)%s; check "
			"--etcd-prefix", st->prefix, what);
}

/*
 * store_open, then every key under the prefix read into kvs (the store closed on failure), with a
 * warning if they are not a fleet's.
 */
static int store_read(struct store *st, const char *const opt[OPT_COUNT], struct etcd_kvs *kvs)
{
	int ret = store_open(st, opt);

	if (ret)
		return ret;
	if (etcd_range(&st->e, st->prefix, kvs)) {
		gb_err("%s", st->e.err);
		etcd_close(&st->e);
		return GB_EXIT_FAIL;
	}
	warn_unnamed(st, kvs, "");
	return 0;
}

/*
 * PREFIX/fleet written unless there (kvs: the prefix as read, NULL: not read): *wrote whether
 * this wrote it. 0, or an exit code after one line.
 */
static int mark_fleet(struct store *st, const struct etcd_kvs *kvs, bool *wrote)
{
	char key[FLEET_PREFIX_MAX + 16], value[64];
	bool done;

	*wrote = false;
	fleet_mark_key(st->prefix, key, sizeof(key));
	for (size_t i = 0; kvs && i < kvs->n; i++)
		if (!strcmp(kvs->v[i].key, key))
			return 0;
	snprintf(value, sizeof(value), "{\"created\":%lld}", (long long)time(NULL));
	if (etcd_put_if(&st->e, key, value, 0, NULL, &done)) {
		gb_err("%s", st->e.err);
		return GB_EXIT_FAIL;
	}
	*wrote = done;
	return 0;
}

int cmd_fleet_init(const struct cmd_args *a)
{
	char key[FLEET_PREFIX_MAX + 16];
	struct store st = {};
	bool wrote;
	int ret = store_open(&st, a->opt);

	if (ret)
		return ret;
	ret = mark_fleet(&st, NULL, &wrote);
	if (!ret) {
		fleet_mark_key(st.prefix, key, sizeof(key));
		printf("%s %s\n", wrote ? "wrote" : "already there:", key);
	}
	etcd_close(&st.e);
	return ret;
}

/* The store's options taken out of a `fleet put` line, the rest left for spec_parse. */
static int take_store_options(int *argc, char **argv, const char *opt[OPT_COUNT])
{
	static const struct { const char *name; enum cmd_opt_id id; } names[] = {
		{ "--etcd", OPT_ETCD }, { "--etcd-prefix", OPT_ETCD_PREFIX },
		{ "--node", OPT_NODE }, { "--etcd-cacert", OPT_ETCD_CACERT },
		{ "--etcd-cert", OPT_ETCD_CERT }, { "--etcd-key", OPT_ETCD_KEY },
	};
	int out = 0;

	opt[OPT_ETCD_PREFIX] = FLEET_DEFAULT_PREFIX;
	for (int i = 0; i < *argc; i++) {
		size_t k, len;

		if (!strcmp(argv[i], "--")) {
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			len = strlen(names[k].name);
			if (!strncmp(argv[i], names[k].name, len) &&
			    (argv[i][len] == '=' || !argv[i][len]))
				break;
		}
		if (k == sizeof(names) / sizeof(names[0])) {
			argv[out++] = argv[i];
			continue;
		}
		if (argv[i][len] == '=') {
			opt[names[k].id] = argv[i] + len + 1;
		} else if (i + 1 < *argc) {
			opt[names[k].id] = argv[++i];
		} else {
			gb_err("option \"%s\" needs a value", names[k].name);
			return GB_EXIT_USAGE;
		}
	}
	*argc = out;
	argv[out] = NULL;
	return 0;
}

/*
 * s checked as node (a name, "" for none of the nodes' own) would take it beside the other keys
 * (n of them): against the meetings it takes and the shared ports. GB_EXIT_USAGE after one line
 * if it would refuse s, or a clash would make it refuse another meeting instead. *unshared (if
 * not NULL): whether the store shares no port.
 */
static int check_for_node(const struct store *st, const struct etcd_kv *others, size_t n,
			  const char *node, const struct meeting_spec *s, bool *unshared)
{
	struct country_census none = {};
	struct meeting_spec copy;
	struct fleet_want w;
	char why[300];
	int err;

	err = fleet_want_build(others, n, st->prefix, node, &none, NULL, &w);
	if (err) {
		gb_err("cannot read the store's meetings: %s", strerror(-err));
		return GB_EXIT_FAIL;
	}
	for (size_t i = w.meetings.n; i-- > 0;) {
		if (strcmp(w.meetings.v[i].name, s->name))
			continue;
		spec_free(&w.meetings.v[i]);
		w.meetings.v[i] = w.meetings.v[--w.meetings.n];
	}
	for (__u32 p = port_next(s->ports, 1); p < GB_PORT_COUNT && !err;
	     p = port_next(s->ports, p + 1))
		if (port_isset(w.shared, p)) {
			gb_err("port %u is a shared port in the store", p);
			err = -EINVAL;
		}
	if (!err)
		err = spec_copy(&copy, s);
	if (!err)
		err = spec_list_push(&w.meetings, &copy);
	if (!err && spec_list_check(&w.meetings, why, sizeof(why))) {
		gb_err("%s%s%s", why, *node ? " on node " : "", node);
		err = -EINVAL;
	}
	if (unshared)
		*unshared = port_next(w.shared, 1) >= GB_PORT_COUNT;
	fleet_want_free(&w);
	return err == -EINVAL ? GB_EXIT_USAGE : err ? GB_EXIT_FAIL : 0;
}

/* Whether node has a key of its own among the n in v for meeting name (any meeting if NULL). */
static bool node_has(const char *prefix, const struct etcd_kv *v, size_t n, const char *node,
		     const char *name)
{
	struct fleet_key k;

	for (size_t i = 0; i < n; i++) {
		fleet_key_parse(prefix, v[i].key, &k);
		if (k.kind == FLEET_KEY_MEETING && !strcmp(k.node, node) &&
		    (!name || !strcmp(k.name, name)))
			return true;
	}
	return false;
}

/*
 * s checked as the nodes would take it: its countries, and against the store's other keys. A
 * meeting for --node is checked as that node takes it; one for every node, as each node with keys
 * of its own takes it (but one whose own meeting of that name wins), and as the others do.
 */
static int check_against_store(struct store *st, const struct etcd_kvs *kvs, const char *key,
			       const struct meeting_spec *s)
{
	struct etcd_kv *others = calloc(kvs->n + 1, sizeof(*others));
	struct country_census none = {};
	bool unshared = false;
	size_t n = 0;
	char why[300];
	int ret;

	if (!others)
		return GB_EXIT_FAIL;
	/* Not the key written: its old version must not make others lose to it. */
	for (size_t i = 0; i < kvs->n; i++)
		if (strcmp(kvs->v[i].key, key))
			others[n++] = kvs->v[i];
	if (countries_check(&none, s->blocked, why, sizeof(why))) {
		gb_err("%s", why);
		free(others);
		return GB_EXIT_USAGE;
	}
	/* Node "" takes every node's meetings and none of a node's own. */
	ret = check_for_node(st, others, n, st->node ? st->node : "", s, &unshared);
	for (size_t i = 0; i < n && !ret && !st->node; i++) {
		struct fleet_key k;

		fleet_key_parse(st->prefix, others[i].key, &k);
		if (k.kind != FLEET_KEY_MEETING || !*k.node)
			continue;
		/* Each node once; not one whose own meeting of that name takes the place of s. */
		if (!node_has(st->prefix, others, i, k.node, NULL) &&
		    !node_has(st->prefix, others, n, k.node, s->name))
			ret = check_for_node(st, others, n, k.node, s, NULL);
	}
	free(others);
	if (!ret && unshared && s->n_ufrags)
		gb_warn("meeting %s: the store shares no port, so its ufrags match no packet yet "
			"(%sshared-ports)", s->name, st->prefix);
	return ret;
}

int cmd_fleet_put(const struct cmd_args *a)
{
	const char *opt[OPT_COUNT] = {};
	char **argv = calloc(a->argc + 1, sizeof(*argv));
	char key[FLEET_PREFIX_MAX + 2 * GB_MEETING_NAME_LEN + 32], err_msg[512];
	struct json_object *o = NULL;
	struct etcd_kvs kvs = {};
	struct meeting_spec s = {};
	struct store st = {};
	struct etcd_kv old;
	int argc = a->argc, ret;
	bool found, done;

	if (!argv)
		return GB_EXIT_FAIL;
	memcpy(argv, a->argv, a->argc * sizeof(*argv));
	ret = take_store_options(&argc, argv, opt);
	if (!ret) {
		ret = spec_parse(argc, argv, time(NULL), 0, &s, err_msg, sizeof(err_msg));
		if (ret == SPEC_HELP) {
			free(argv);
			return CMD_HELP;
		}
		if (ret) {
			gb_err("%s", err_msg);
			ret = GB_EXIT_USAGE;
		} else if (*s.reason) {
			gb_err("--reason is not kept: the store keeps no audit log (each node audits "
			       "what it applies, with the key's revision)");
			ret = GB_EXIT_USAGE;
		}
	}
	free(argv);
	if (!ret)
		ret = store_open(&st, opt);
	if (ret)
		goto out;
	fleet_meeting_key(st.prefix, st.node, s.name, key, sizeof(key));
	ret = GB_EXIT_FAIL;
	/* What the store holds now: checked against, and the key's version the write needs. */
	if (etcd_range(&st.e, st.prefix, &kvs) || etcd_get(&st.e, key, &old, &found, NULL)) {
		gb_err("%s", st.e.err);
		goto out_close;
	}
	ret = check_against_store(&st, &kvs, key, &s);
	if (ret)
		goto out_old;
	warn_unnamed(&st, &kvs, ": this starts a new one");
	o = spec_to_json(&s);
	json_object_object_del(o, "name");
	ret = GB_EXIT_FAIL;
	if (fleet_put_if(&st.e, key, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								    JSON_C_TO_STRING_NOSLASHESCAPE),
			found ? old.mod_revision : 0, NULL, &done)) {
		gb_err("%s", st.e.err);
	} else if (!done) {
		gb_err("%s changed while it was being written (another writer): nothing written; "
		       "try again", key);
	} else {
		printf("%s %s\n", found ? "replaced" : "wrote", key);
		/*
		 * The prefix named a fleet's, after the meeting (which names it too): written first,
		 * it would have a node that kept its rules on a prefix of no fleet converge to none
		 * for a moment.
		 */
		ret = mark_fleet(&st, &kvs, &done);
	}
	json_object_put(o);
out_old:
	etcd_kv_free(&old);
out_close:
	etcd_kvs_free(&kvs);
	etcd_close(&st.e);
out:
	spec_free(&s);
	return ret;
}

/*
 * PREFIX/fleet as a delete rewrites it, in *kv (key and value in buf): its mod_revision is then
 * the delete's, which fleet status holds each node's applied revision to (a delete leaves no key
 * of its own). old: its value before (its "created" kept), NULL if none.
 */
static void mark_value(struct etcd_kv *kv, char *key, const char *old, char *buf, size_t len)
{
	long long created = old ? fleet_mark_created(old) : -1;

	if (created < 0)
		created = time(NULL);
	snprintf(buf, len, "{\"created\":%lld,\"last_delete\":%lld}", created,
		 (long long)time(NULL));
	*kv = (struct etcd_kv){ .key = key, .value = buf, .value_len = strlen(buf) };
}

int cmd_fleet_del(const struct cmd_args *a)
{
	char key[FLEET_PREFIX_MAX + 2 * GB_MEETING_NAME_LEN + 32], mark_key[FLEET_PREFIX_MAX + 16];
	struct etcd_kv old = {}, mark_old = {}, mark;
	bool found, done, marked;
	struct store st = {};
	char value[96];
	int ret;

	if (!meeting_name_valid(a->pos[0])) {
		gb_err("\"%.64s\" is not a meeting name", a->pos[0]);
		return GB_EXIT_USAGE;
	}
	ret = store_open(&st, a->opt);
	if (ret)
		return ret;
	fleet_meeting_key(st.prefix, st.node, a->pos[0], key, sizeof(key));
	fleet_mark_key(st.prefix, mark_key, sizeof(mark_key));
	ret = GB_EXIT_FAIL;
	if (etcd_get(&st.e, key, &old, &found, NULL) ||
	    etcd_get(&st.e, mark_key, &mark_old, &marked, NULL)) {
		gb_err("%s", st.e.err);
	} else if (!found) {
		gb_err("no meeting \"%s\" in the store (%s)", a->pos[0], key);
		ret = GB_EXIT_USAGE;
	} else {
		/* PREFIX/fleet written too: a fleet of none left is still one. */
		mark_value(&mark, mark_key, marked ? mark_old.value : NULL, value, sizeof(value));
		if (fleet_put_if(&st.e, key, NULL, old.mod_revision, &mark, &done)) {
			gb_err("%s", st.e.err);
		} else if (!done) {
			gb_err("%s changed while it was being deleted (another writer): nothing "
			       "deleted; try again", key);
		} else {
			printf("deleted %s\n", key);
			ret = GB_EXIT_OK;
		}
	}
	etcd_kv_free(&old);
	etcd_kv_free(&mark_old);
	etcd_close(&st.e);
	return ret;
}

int cmd_fleet_list(const struct cmd_args *a)
{
	struct json_object *arr = json_object_new_array();
	struct country_census none = {};
	struct etcd_kvs kvs = {};
	struct store st = {};
	int ret = store_read(&st, a->opt, &kvs);

	if (ret)
		goto out;
	for (size_t i = 0; i < kvs.n; i++) {
		char why[240], *line;
		struct json_object *item;
		struct meeting_spec s;
		struct fleet_key k;
		const char *scope;
		int read;

		fleet_key_parse(st.prefix, kvs.v[i].key, &k);
		if (k.kind != FLEET_KEY_MEETING || (st.node && !fleet_key_concerns(&k, st.node)) ||
		    (st.node && !*k.node && node_has(st.prefix, kvs.v, kvs.n, st.node, k.name)))
			continue;
		scope = k.node;
		item = json_object_new_object();
		json_object_object_add(item, "key", json_object_new_string(kvs.v[i].key));
		json_object_object_add(item, "node", *scope ? json_object_new_string(scope) : NULL);
		json_object_object_add(item, "mod_revision",
				       json_object_new_int64(kvs.v[i].mod_revision));
		read = fleet_meeting_read(&kvs.v[i], k.name, &none, &s, why, sizeof(why));
		if (read == 1)
			snprintf(why, sizeof(why), "expired");
		if (!read) {
			json_object_object_add(item, "meeting", spec_to_json(&s));
			line = spec_format(&s, false);
			if (!a->opt[OPT_JSON])
				printf("%s %s\n", *scope ? scope : "*", line ? line : "");
			free(line);
			spec_free(&s);
		} else {
			json_object_object_add(item, "error", json_object_new_string(why));
			if (!a->opt[OPT_JSON])
				printf("%s # %s: not taken: %s\n", *scope ? scope : "*",
				       kvs.v[i].key, why);
		}
		json_object_array_add(arr, item);
	}
	if (a->opt[OPT_JSON]) {
		print_json(arr);
		arr = NULL;
	}
	ret = GB_EXIT_OK;
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
