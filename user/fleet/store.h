/* SPDX-License-Identifier: GPL-2.0 */
/* The store's keys as a node last saw them: sorted by key, kept so by the watch's events. */
#ifndef GEOBLOCK_FLEET_STORE_H
#define GEOBLOCK_FLEET_STORE_H

#include "fleet/etcd.h"

/* Sorts s by key (as a range read gives it, for fleet_store_take). */
void fleet_store_sort(struct etcd_kvs *s);
/* Takes a watch event into sorted s: its kv taken over (ev->kv cleared), or the key deleted. */
int fleet_store_take(struct etcd_kvs *s, struct etcd_event *ev);

#endif
