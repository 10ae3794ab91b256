/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The store's keys as a node last saw them: sorted by key, kept so by the watch's events; and a
 * conditional write that tells its own lost answer from another writer.
 */
#ifndef GEOBLOCK_FLEET_STORE_H
#define GEOBLOCK_FLEET_STORE_H

#include <stdbool.h>
#include "fleet/etcd.h"

/* Sorts s by key (as a range read gives it, for fleet_store_take). */
void fleet_store_sort(struct etcd_kvs *s);
/* Takes a watch event into sorted s: its kv taken over (ev->kv cleared), or the key deleted. */
int fleet_store_take(struct etcd_kvs *s, struct etcd_event *ev);

/*
 * Whether the store at e still has the history s was seen in, up to revision seen: its fleet key
 * (PREFIX/fleet) as s holds it (revisions and value), unless written after seen. 1 (said on
 * stderr) if not: a store made anew whose revision went past seen, where a watch from seen + 1
 * would miss what it holds; 0 if so or if s has no such key; -errno (e->err) if the store cannot
 * be read. A store restored from a snapshot keeps the key as it was: not told apart.
 */
int fleet_store_history(struct etcd *e, const struct etcd_kvs *s, const char *prefix, __s64 seen);
/*
 * Whether now, the store read whole (sorted), is not the one s was seen in up to revision seen
 * (said on stderr): behind it, or its fleet key not as s held it (fleet_store_history's test).
 */
bool fleet_store_anew(const struct etcd_kvs *s, const struct etcd_kvs *now, const char *prefix,
		      __s64 seen);
/* The fleet key's "created" in its value (unix seconds, kept by every rewrite), -1 if none. */
long long fleet_mark_created(const char *value);
/* Says on stderr that the store, at revision rev, is behind the revision seen here. */
void fleet_store_said_behind(__s64 rev, __s64 seen);
/*
 * etcd_put_if, and when the compare failed, whether the key now holds what was to be written
 * (NULL: it is gone): then done too. A try whose answer was lost (a timeout, a cut connection) is
 * made again on the next endpoint, where the compare fails because the first try was made.
 */
int fleet_put_if(struct etcd *e, const char *key, const char *value, __s64 mod_revision,
		 const struct etcd_kv *also, bool *done);

#endif
