// SPDX-License-Identifier: GPL-2.0
/* Janus's events as its event handler posts them: fields, local ports, client addresses. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include "geoblock.h"
#include "state/janus_event.h"

__u64 janus_get_u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return 0;
	/*
	 * A number only: Janus sends ids as numbers, and a string room ("1234-lobby", or "1234",
	 * of string_ids) is no numeric room: read as one, its handles would join another meeting.
	 */
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0)
		return json_object_get_uint64(v);
	return 0;
}

const char *janus_get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *janus_get_obj(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

/*
 * The port the n digits at w write: 0 for none, or not digits alone; -EINVAL past 65535, which a
 * read into fewer bits would wrap onto a port of this host (4294975097 onto 7801).
 */
static int port_number(const char *w, size_t n)
{
	unsigned int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)w[i]))
			return 0;
		if (v < GB_PORT_COUNT)		/* past it, it stays past it */
			v = v * 10 + (w[i] - '0');
	}
	return v < GB_PORT_COUNT ? (int)v : -EINVAL;
}

/*
 * The port on this host of a local candidate ("1 1 udp 2015363327 198.18.0.2 20035 typ host"): a
 * host candidate's own; a server reflexive one's base (rport: its own port is the NAT's, outside);
 * none for a relayed one (its media reach this host from the TURN server, whose address says
 * nothing of the client's country). 0: none, or not UDP; -EINVAL: a port past 65535.
 */
static int candidate_port(const char *s)
{
	char proto[16], type[16];
	const char *rport;
	int from = 0, to = 0, at = 0, port;

	if (s && !strncmp(s, "candidate:", 10))
		s += 10;
	if (!s || sscanf(s, "%*s %*s %15s %*s %*s %n%*s%n typ %15s%n", proto, &from, &to, type,
			 &at) != 2 || strcasecmp(proto, "udp"))
		return 0;
	port = port_number(s + from, to - from);
	if (port < 0 || !strcmp(type, "host"))
		return port;
	if (strcmp(type, "srflx") && strcmp(type, "prflx"))
		return 0;
	rport = strstr(s + at, " rport ");
	if (!rport)
		return 0;
	return port_number(rport + 7, strcspn(rport + 7, " "));
}

/*
 * The local port of an event of type 16: a local candidate (candidate_port) or a selected pair
 * (structured "candidates"."local", else "ADDR:PORT [host,udp] <-> ..."), whose local side is a
 * host candidate's (others' bases come with their local-candidate events). 0: none, or not UDP
 * (ICE-TCP is not followed: see docs/janus.md); -EINVAL: a port past 65535.
 */
int janus_local_port(struct json_object *event, int subtype)
{
	struct json_object *local = janus_get_obj(janus_get_obj(event, "candidates"), "local");
	const char *s, *type, *transport;
	__u64 port;

	if (subtype == SUB_LOCAL_CANDIDATE)
		return candidate_port(janus_get_str(event, "local-candidate"));
	/* Read whole: 2^32 + 7801 is no port, not 7801. */
	port = janus_get_u64(local, "port");
	if (port >= GB_PORT_COUNT)
		return -EINVAL;
	if (port) {
		type = janus_get_str(local, "type");
		transport = janus_get_str(local, "transport");
		return (!type || !strcmp(type, "host")) &&
		       (!transport || !strcasecmp(transport, "udp")) ? (int)port : 0;
	}
	s = janus_get_str(event, "selected-pair");
	if (!s || !(s = strchr(s, ' ')))
		return 0;
	/* "ADDR:PORT [host,udp] <-> ...": the port ends the first word. */
	for (const char *p = s - 1; p > janus_get_str(event, "selected-pair"); p--) {
		int n;

		if (*p != ':')
			continue;
		n = port_number(p + 1, s - p - 1);
		return n < 0 || !strncmp(s, " [host,udp]", 11) ? n : 0;
	}
	return 0;
}

/* The client's address of a remote candidate or a selected pair into out ("" if none). */
void janus_remote_address(struct json_object *event, int subtype, char *out, size_t len)
{
	const char *s, *arrow;
	char addr[64];

	if (subtype == SUB_REMOTE_CANDIDATE) {
		char typ[16] = "";

		s = janus_get_str(event, "remote-candidate");
		if (s && !strncmp(s, "candidate:", 10))
			s += 10;
		/* A relayed one's address is its TURN server's, not the client's: left out. */
		if (s && sscanf(s, "%*s %*s %*s %*s %63s %*s %*s %15s", addr, typ) >= 1 &&
		    strcmp(typ, "relay"))
			snprintf(out, len, "%s", addr);
		return;
	}
	s = janus_get_str(janus_get_obj(janus_get_obj(event, "candidates"), "remote"), "address");
	if (s) {
		snprintf(out, len, "%s", s);
		return;
	}
	/* "LOCAL:PORT [host,udp] <-> ADDR:PORT [...]": an IPv6 ADDR holds colons too. */
	s = janus_get_str(event, "selected-pair");
	arrow = s ? strstr(s, "<-> ") : NULL;
	if (arrow && sscanf(arrow + 4, "%63s", addr) == 1 && strrchr(addr, ':')) {
		*strrchr(addr, ':') = '\0';
		snprintf(out, len, "%s", addr);
	}
}
