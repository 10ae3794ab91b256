// SPDX-License-Identifier: GPL-2.0
/* What commands print for programs: every --json goes out through here, so all read alike. */
#include <stdio.h>
#include <json-c/json.h>
#include "cli/output.h"

void print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
