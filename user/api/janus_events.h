/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The endpoint of Janus's sample event handler (libjanus_sampleevh.so): POST /janus-events over
 * HTTP (libmicrohttpd), single events or grouped arrays, handed to state/janus_members.
 */
#ifndef GEOBLOCK_API_JANUS_EVENTS_H
#define GEOBLOCK_API_JANUS_EVENTS_H

#include <sys/socket.h>
#include "kern/pins.h"
#include "state/janus_members.h"

#define JANUS_EVENTS_DEFAULT_ADDR "127.0.0.1:10067"

struct janus_events;

#define JANUS_EVENTS_AUTH_MAX 512

/*
 * The first line of path, "user:password", in out (JANUS_EVENTS_AUTH_MAX bytes): one error line
 * naming --janus-events-auth and a negative errno if it cannot be read or is not that.
 */
int janus_events_read_auth(const char *path, char *out);
/*
 * Serves addr in a thread of its own; auth: "user:password" required as HTTP basic auth (NULL:
 * none). One error line and a negative errno if it cannot.
 */
int janus_events_start(struct janus_members *m, const struct sockaddr *addr, socklen_t len,
		       const char *auth, struct janus_events **out);
/* "http://ADDR:PORT/janus-events", with the port actually bound. */
const char *janus_events_url(const struct janus_events *e);
void janus_events_stop(struct janus_events *e);

#endif
