/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Janus's Admin API (HTTP, libcurl), asked at daemon start which handles live in which rooms and
 * on which ports, so that the membership is rebuilt from Janus rather than from a stale list.
 */
#ifndef GEOBLOCK_API_JANUS_ADMIN_H
#define GEOBLOCK_API_JANUS_ADMIN_H

#include "state/janus_members.h"

/*
 * Walks list_sessions, list_handles and handle_info at url (e.g. http://127.0.0.1:7088/admin)
 * with the admin_secret in secret_file, and feeds each VideoRoom handle's room and ports to m as
 * events would. *handles: how many handles were taken. One error line and a negative errno if
 * Janus cannot be asked.
 */
int janus_admin_rebuild(struct janus_members *m, const char *url, const char *secret_file,
			unsigned int *handles);

#endif
