// SPDX-License-Identifier: GPL-2.0
/*
 * The `fleet` commands that write: meetings written to the fleet store (etcd) with the grammar of
 * `meeting add`, so that no operator writes JSON by hand.
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
#include "cli/fleet_store.h"
#include "cli/output.h"

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
	bool given[sizeof(names) / sizeof(names[0])] = {};
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
		/* As the other commands' parser: one value each (a second silently won). */
		if (given[k]) {
			gb_err("%s given twice", names[k].name);
			return GB_EXIT_USAGE;
		}
		given[k] = true;
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
