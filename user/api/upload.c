// SPDX-License-Identifier: GPL-2.0
/*
 * Bodies gathered in pieces up to a limit: requests to the HTTP endpoints (the control API,
 * Janus's events), replies to the HTTP clients (Janus's Admin API, etcd); and whether a request's
 * body comes under a coding the endpoints cannot read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <microhttpd.h>
#include "api/upload.h"

int upload_add(struct upload *u, const char *piece, size_t len, size_t max)
{
	char *grown;

	if (!u->too_big && u->len + len > max) {
		u->too_big = true;
		free(u->body);
		u->body = NULL;
	}
	if (u->too_big)
		return 0;
	grown = realloc(u->body, u->len + len + 1);
	if (!grown)
		return -ENOMEM;
	memcpy(grown + u->len, piece, len);
	grown[u->len + len] = '\0';
	u->body = grown;
	u->len += len;
	return 0;
}

bool upload_coding_unread(struct MHD_Connection *conn)
{
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);

	return te && strcasecmp(te, "chunked");
}
