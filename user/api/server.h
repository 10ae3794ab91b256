/* SPDX-License-Identifier: GPL-2.0 */
/* The control API: HTTP/1.1 and JSON on a unix socket, served by libmicrohttpd (server.c). */
#ifndef GEOBLOCK_API_SERVER_H
#define GEOBLOCK_API_SERVER_H

#include <stdio.h>
#include <sys/types.h>
#include "kern/pins.h"

#define API_DEFAULT_PATH	"/run/geoblock/api.sock"
#define API_BODY_MAX		(1 << 20)	/* bigger bodies: 413 */

struct api_server;

/*
 * Whether --api PATH and --api-group GROUP (NULL: none) can be served: a socket path short
 * enough and a group that exists (its id in *gid, -1 for none); -EINVAL after one error line.
 */
int api_check_args(const char *path, const char *group, gid_t *gid);

int api_start(const struct gb_ctx *ctx, const char *path, const char *group,
	      struct api_server **out);
void api_stop(struct api_server *a);

#endif
