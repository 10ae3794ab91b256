/* SPDX-License-Identifier: GPL-2.0 */
/* A meeting spec as the control API writes it in JSON, read through the CLI's one grammar. */
#ifndef GEOBLOCK_API_SPEC_JSON_H
#define GEOBLOCK_API_SPEC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "state/rules_file.h"

struct json_object;

/* now: the time an expiry must be after (a duration counts from it). */
/* flags: as spec_parse's (SPEC_PAST_OK: any expiry time is read). */
int spec_from_json(struct json_object *o, const char *name, bool with_reason, __s64 now,
		   unsigned int flags, struct meeting_spec *s, char *err, size_t errlen);
int specs_from_json(struct json_object *arr, __s64 now, struct spec_list *l, char *err,
		    size_t errlen);
int ports_from_json(struct json_object *o, const char *key, __u8 ports[GB_PORT_COUNT / 8],
		    bool *given, char *err, size_t errlen);
/* The ufrag array at key (absent: *given false), parsed as --ufrag is; *out as parse_ufrags. */
int ufrags_from_json(struct json_object *o, const char *key, char ***out, size_t *n,
		     bool *given, char *err, size_t errlen);
struct json_object *ufrags_to_json(char *const *ufrags, size_t n);
struct json_object *spec_to_json(const struct meeting_spec *s);
struct json_object *ports_to_json(const __u8 ports[GB_PORT_COUNT / 8]);

#endif
