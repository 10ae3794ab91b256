/* SPDX-License-Identifier: GPL-2.0 */
/* The senders learned on shared ports (ice_sender_sets), as the data path files them. */
#ifndef GEOBLOCK_SENDERS_H
#define GEOBLOCK_SENDERS_H

#include <stddef.h>
#include "geoblock.h"

/* Gives the pinned ice_seed a random value if it has none (seed_fd: the ice_seed map). */
int senders_seed(int seed_fd);

/* The binding of sender t (sets_fd: ice_sender_sets, seed_fd: ice_seed); -ENOENT if none. */
int senders_get(int sets_fd, int seed_fd, const struct ice_tuple *t, struct ice_sender *out);

/*
 * Writes the binding of sender t: its way if it has one, else a free way of its set (-ENOSPC if
 * the set is full), then clears its entry in ice_hot (hot_fd; -1: none). For tests and tools;
 * the data path learns by itself.
 */
int senders_put(int sets_fd, int seed_fd, int hot_fd, const struct ice_tuple *t,
		const struct ice_sender *in);

/* Forgets sender t (nothing if it is not there), and its entry in ice_hot (hot_fd; -1: none). */
int senders_del(int sets_fd, int seed_fd, int hot_fd, const struct ice_tuple *t);

/* How many senders the sets hold now (*n), read through a mapping of the map. */
int senders_count(int sets_fd, size_t *n);

#endif
