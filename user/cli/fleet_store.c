// SPDX-License-Identifier: GPL-2.0
/* The fleet store as the `fleet` commands' options name it, and what its keys say of a node. */
#include <stdlib.h>
#include <string.h>
#include "lib/errors.h"
#include "state/countries.h"
#include "state/rules_file.h"
#include "cli/fleet_store.h"

int store_open(struct store *st, const char *const opt[OPT_COUNT])
{
	const char *urls = opt[OPT_ETCD] ? opt[OPT_ETCD] : getenv("GEOBLOCK_ETCD");

	st->node = opt[OPT_NODE];
	/* An empty one (an unset variable) is no default: said, not taken for 127.0.0.1. */
	if (opt[OPT_ETCD] && !*opt[OPT_ETCD]) {
		gb_err("--etcd needs etcd's client URLs (empty here)");
		return GB_EXIT_USAGE;
	}
	if (fleet_names_check(opt[OPT_ETCD_PREFIX], st->node, st->prefix, sizeof(st->prefix)))
		return GB_EXIT_USAGE;
	if (etcd_open(&st->e, urls && *urls ? urls : FLEET_DEFAULT_ETCD, opt[OPT_ETCD_CACERT],
		      opt[OPT_ETCD_CERT], opt[OPT_ETCD_KEY]))
		return GB_EXIT_USAGE;
	return 0;
}

void warn_unnamed(const struct store *st, const struct etcd_kvs *kvs, const char *what)
{
	if (!fleet_store_named(kvs->v, kvs->n, st->prefix))
		gb_warn("%s held no fleet (no meeting, shared-ports, geoip or fleet key)%s; check "
			"--etcd-prefix", st->prefix, what);
}

int store_read(struct store *st, const char *const opt[OPT_COUNT], struct etcd_kvs *kvs)
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

/* Whether kv, a meeting key of name, holds a meeting that has expired. */
static bool expired(const struct etcd_kv *kv, const char *name)
{
	struct country_census none = {};
	struct meeting_spec s;
	char why[240];
	int read = fleet_meeting_read(kv, name, &none, &s, why, sizeof(why));

	if (!read)
		spec_free(&s);
	return read == 1;
}

bool node_has(const char *prefix, const struct etcd_kv *v, size_t n, const char *node,
	      const char *name)
{
	struct fleet_key k;

	for (size_t i = 0; i < n; i++) {
		fleet_key_parse(prefix, v[i].key, &k);
		if (k.kind == FLEET_KEY_MEETING && !strcmp(k.node, node) &&
		    (!name || (!strcmp(k.name, name) && !expired(&v[i], name))))
			return true;
	}
	return false;
}
