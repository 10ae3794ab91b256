/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Janus's Admin API (HTTP, libcurl), asked at daemon start which handles live in which rooms and
 * on which ports, so that the membership is rebuilt from Janus rather than from a stale list.
 */
#ifndef GEOBLOCK_API_JANUS_ADMIN_H
#define GEOBLOCK_API_JANUS_ADMIN_H

#include <linux/types.h>
#include "state/janus_members.h"

/* Janus's Admin API: where, and its admin_secret. */
struct janus_admin {
	char url[512];
	char secret[256];
};

/* url, and the admin_secret on the first line of secret_file; one error line if it cannot. */
int janus_admin_open(struct janus_admin *a, const char *url, const char *secret_file);
/*
 * Walks list_sessions, list_handles and handle_info and feeds each VideoRoom handle's room and
 * ports to m as events would. *handles: how many handles were taken. One error line and a
 * negative errno if Janus cannot be asked.
 */
int janus_admin_rebuild(const struct janus_admin *a, struct janus_members *m,
			unsigned int *handles);
/*
 * hangup_webrtc of a handle (cls: the struct janus_admin); 0, or after one line -ETIMEDOUT when
 * Janus did not answer (unreachable, or past the timeout), -EIO when it refused.
 */
int janus_admin_hangup(void *cls, __u64 session, __u64 handle);

#endif
