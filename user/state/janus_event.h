/* SPDX-License-Identifier: GPL-2.0 */
/* Janus's events as its event handler posts them: fields, local ports, client addresses. */
#ifndef GEOBLOCK_STATE_JANUS_EVENT_H
#define GEOBLOCK_STATE_JANUS_EVENT_H

#include <stddef.h>
#include <linux/types.h>

struct json_object;

/* Janus's event types and webrtc subtypes (janus/events/eventhandler.h). */
enum {
	EV_SESSION = 1, EV_HANDLE = 2, EV_WEBRTC = 16, EV_PLUGIN = 64, EV_CORE = 256,
	SUB_LOCAL_CANDIDATE = 2, SUB_REMOTE_CANDIDATE = 3, SUB_SELECTED_PAIR = 4,
	SUB_WEBRTC_STATE = 6,
};

/* o's field key as a number (not a string), a string, an object; 0 or NULL if none. */
__u64 janus_get_u64(struct json_object *o, const char *key);
const char *janus_get_str(struct json_object *o, const char *key);
struct json_object *janus_get_obj(struct json_object *o, const char *key);
/*
 * The local port on this host of an event of type 16 (a local candidate, a selected pair): 0 for
 * none, or not UDP (ICE-TCP is not followed: see docs/janus.md); -EINVAL for a port past 65535
 * (a malformed event).
 */
int janus_local_port(struct json_object *event, int subtype);
/*
 * The client's address of a remote candidate (not a relayed one) or a selected pair into out
 * (left as it was if none).
 */
void janus_remote_address(struct json_object *event, int subtype, char *out, size_t len);

#endif
