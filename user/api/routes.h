/* SPDX-License-Identifier: GPL-2.0 */
/* The control API's routes: the table, and what a handler is given and hands back. */
#ifndef GEOBLOCK_API_ROUTES_H
#define GEOBLOCK_API_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "kern/pins.h"
#include "state/audit.h"

struct json_object;
struct MHD_Connection;

/* What a handler hands back: a status and a JSON body (owned). */
struct api_reply {
	unsigned int status;
	struct json_object *body;
};

/* One request as a handler sees it. */
struct api_call {
	const struct gb_ctx *ctx;
	struct MHD_Connection *conn;
	const char *name;		/* the {name} of the path, or NULL */
	struct json_object *in;		/* the parsed body, or NULL */
	struct audit_caller who;
	char command[300];
};

struct api_route {
	const char *method;
	const char *path;		/* "{name}": one path segment, the meeting's name */
	struct api_reply (*fn)(struct api_call *c);
	const char *query;		/* the query parameters it takes ("addr,port"); NULL: none */
};

struct api_reply api_error(unsigned int status, const char *msg);
/*
 * The route of method (HEAD: GET's) and url ({name} copied into name, cut to len - 1 bytes: len
 * must be past any valid name's), or NULL; allow: the methods url's path takes ("GET, HEAD,
 * PUT"), "" if it is no route's.
 */
const struct api_route *api_route_find(const char *method, const char *url, char *name,
				       size_t len, char *allow, size_t allow_len);
void api_print_routes(FILE *out);

#endif
