/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fleet node's daemon following its store: the rule set made equal to the store's keys for
 * this node, then kept so from a watch; the node's status written under a lease. Two threads of
 * their own; the data path never waits on either (fail static).
 */
#ifndef GEOBLOCK_FLEET_FOLLOW_H
#define GEOBLOCK_FLEET_FOLLOW_H

#include "kern/pins.h"

struct fleet_follow;

/* Where the store is and who this node is (the daemon's --etcd* and --node). */
struct fleet_config {
	const char *urls, *prefix, *node;
	const char *cacert, *cert, *key;
};

/*
 * Marks the rule set under ctx as the store's and starts following it; one error line and a
 * negative errno if the options do not read (an unreachable store is not an error: followed
 * when it comes).
 */
int fleet_follow_start(const struct gb_ctx *ctx, const struct fleet_config *cfg,
		       struct fleet_follow **out);
/* Stops following (the rule set stays as it is, still marked); NULL: nothing. */
void fleet_follow_stop(struct fleet_follow *f);

#endif
