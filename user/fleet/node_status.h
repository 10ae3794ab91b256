/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a fleet node says of itself in PREFIX/status/NODE: the revision it applied, its link to
 * the store, its GeoIP table against the one the store names, its meetings and attachments, the
 * keys it refused, its last error and drift.
 */
#ifndef GEOBLOCK_FLEET_NODE_STATUS_H
#define GEOBLOCK_FLEET_NODE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <linux/types.h>
#include "kern/pins.h"
#include "fleet/layout.h"

struct json_object;

/* Refused keys a status lists at most (with their count: rejected_count). */
#define NODE_STATUS_REJECTED_MAX	100

/* What the node knows of itself besides the maps and the state dir. */
struct node_facts {
	const char *node;
	long long revision;
	bool connected;
	bool geoip_given;		/* the store names a GeoIP build */
	__u64 geoip_build_epoch;
	const char *geoip_sha256;	/* "" when the store names none */
	const struct fleet_refusal *refused;
	size_t n_refused;
	const char *error;		/* "" for none */
	const char *instance;		/* this daemon (struct own_status) */
	const char *twin;		/* another daemon's writing this node's status, NULL if none */
};



/* The SHA-256 of the loaded table's file, read again only when the file changed. */
struct geoip_digest {
	struct stat file;
	char hex[65];
};

/*
 * This daemon's own status key as its watch sees it: another daemon writing it (two daemons
 * started with one node name), or the key deleted (that daemon's lease lapsed, or etcdctl).
 */
struct own_status {
	char instance[300];		/* this daemon: "HOST pid PID id RANDOM" */
	char twin[300];			/* another daemon writing the key, "" if none */
	long long twin_seen;		/* its last put */
	unsigned int lost;		/* deletes (or values not a daemon's) seen: written again
					   until one put follows the last */
};

/*
 * Seconds without a put of another daemon's to the key before it is taken to be gone: a daemon
 * rewrites its status at least every 30 s, and its lease lasts 10.
 */
#define NODE_TWIN_GONE_S 70

/* Names this daemon in o->instance; the rest cleared. */
void node_status_own_init(struct own_status *o);
/*
 * A watch event of the key: value NULL for a delete. Returns whether the status is to be written
 * now: a twin newly seen (one warning line naming node), the key deleted, or a value no daemon
 * wrote (no "instance").
 */
bool node_status_own_event(struct own_status *o, const char *value, const char *node);
/* The twin now (NULL if none, or none seen for NODE_TWIN_GONE_S), for node_facts.twin. */
const char *node_status_own_twin(struct own_status *o);
/* The status without its time; d keeps the digest between calls. */
struct json_object *node_status_json(const struct gb_ctx *ctx, const struct node_facts *f,
				     struct geoip_digest *d);

/* An error field set (last_error, link_error): a line on stderr when it is news; "" clears it. */
void node_status_error(char *field, size_t len, const char *msg);

#endif
