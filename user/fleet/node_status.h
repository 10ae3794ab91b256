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
	const char *instance;		/* this daemon's: node_status_instance */
	const char *twin;		/* another daemon's writing this node's status, NULL if none */
};

/*
 * Seconds without a put of another daemon's to this node's status key before it is taken to be
 * gone: a daemon rewrites its status at least every 30 s, and its lease lasts 10.
 */
#define NODE_TWIN_GONE_S 70

/* The SHA-256 of the loaded table's file, read again only when the file changed. */
struct geoip_digest {
	struct stat file;
	char hex[65];
};

/* This daemon among others that may write the node's status: "HOST pid PID". */
void node_status_instance(char *out, size_t len);
/*
 * Whether value, a status key's, was written by a daemon other than instance (in other, len
 * bytes): another daemon follows the store as the same node.
 */
bool node_status_twin(const char *value, const char *instance, char *other, size_t len);
/* The status without its time; d keeps the digest between calls. */
struct json_object *node_status_json(const struct gb_ctx *ctx, const struct node_facts *f,
				     struct geoip_digest *d);

#endif
