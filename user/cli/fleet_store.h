/* SPDX-License-Identifier: GPL-2.0 */
/* The fleet store as the `fleet` commands' options name it. */
#ifndef GEOBLOCK_CLI_FLEET_STORE_H
#define GEOBLOCK_CLI_FLEET_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include "fleet/etcd.h"
#include "fleet/layout.h"
#include "cli/cmd.h"

/* Where the store is, as the options (or the environment) say. */
struct store {
	struct etcd e;
	char prefix[FLEET_PREFIX_MAX + 2];
	const char *node;
};

/* The store the options name, opened: 0, or an exit code after one line. */
int store_open(struct store *st, const char *const opt[OPT_COUNT]);
/* The prefix named holds nothing of a fleet: likely mistyped (what: said after the prefix). */
void warn_unnamed(const struct store *st, const struct etcd_kvs *kvs, const char *what);
/*
 * store_open, then every key under the prefix read into kvs (the store closed on failure), with a
 * warning if they are not a fleet's.
 */
int store_read(struct store *st, const char *const opt[OPT_COUNT], struct etcd_kvs *kvs);
/*
 * Whether node has a key of its own among the n in v for meeting name (any meeting if NULL); for a
 * name, one whose meeting has expired is not counted (a node takes the global one then).
 */
bool node_has(const char *prefix, const struct etcd_kv *v, size_t n, const char *node,
	      const char *name);

#endif
