/* SPDX-License-Identifier: GPL-2.0 */
/* The control API's request bodies, read from bytes to what state/ops takes; no maps touched. */
#ifndef GEOBLOCK_API_BODY_H
#define GEOBLOCK_API_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "state/rules_file.h"

struct json_object;

/* POST /v1/meetings/{name}/ports: {"add":[...],"remove":[...],"reason":"..."}. */
struct ports_body {
	__u8 add[GB_PORT_COUNT / 8];
	__u8 remove[GB_PORT_COUNT / 8];
	bool has_add, has_remove;
	const char *reason;		/* inside the JSON object; NULL: none */
};

/* POST /v1/meetings/{name}/ufrags: {"add":[...],"remove":[...],"reason":"..."}. */
struct ufrags_body {
	char **add, **remove;		/* sorted (parse_ufrags); body_ufrags_free */
	size_t n_add, n_remove;
	const char *reason;		/* inside the JSON object; NULL: none */
};

/* POST /v1/apply: {"meetings":[spec,...],"check":false,"reason":"..."}. */
struct apply_body {
	struct spec_list want;		/* spec_list_free once done */
	bool check;
	const char *reason;		/* inside the JSON object; NULL: none */
};

/*
 * Each returns 0, or -EINVAL (-ENOMEM) with one printable line in err and nothing left to free.
 * body_json: the bytes as one JSON value into *out (NULL when empty or null), nothing after it,
 * no name twice in one object, no integer past 64 bits, no NUL in a string.
 */
int body_json(const char *buf, size_t len, struct json_object **out, char *err, size_t errlen);
/*
 * The same, but an integer past 64 bits read as the nearest that fits and a string cut at a NUL
 * (\u0000), not refused: for a batch of Janus events, each then judged on its own.
 */
int body_json_loose(const char *buf, size_t len, struct json_object **out, char *err,
		    size_t errlen);
/* PUT /v1/meetings/{name}: a spec (name optional, the path's), with "reason". */
int body_meeting(struct json_object *in, const char *name, __s64 now, struct meeting_spec *s,
		 char *err, size_t errlen);
/* DELETE /v1/meetings/{name}: no body, or {"reason":"..."}. */
int body_delete(struct json_object *in, const char **reason, char *err, size_t errlen);
int body_ports(struct json_object *in, struct ports_body *b, char *err, size_t errlen);
int body_ufrags(struct json_object *in, struct ufrags_body *b, char *err, size_t errlen);
void body_ufrags_free(struct ufrags_body *b);
int body_apply(struct json_object *in, __s64 now, struct apply_body *b, char *err, size_t errlen);

#endif
