// SPDX-License-Identifier: GPL-2.0
/*
 * What commands print for programs: every --json goes out through here, so all read alike; and
 * the warning of what they read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <json-c/json.h>
#include "lib/errors.h"
#include "lib/parse.h"
#include "state/converge.h"
#include "state/report.h"
#include "state/rules.h"
#include "cli/output.h"

static void print_json_as(struct json_object *o, int how)
{
	char *text = gb_utf8_clean(json_object_to_json_string_ext(o, how |
								   JSON_C_TO_STRING_NOSLASHESCAPE));

	printf("%s\n", text ? text : "null");
	free(text);
	json_object_put(o);
}

void print_json(struct json_object *o)
{
	print_json_as(o, JSON_C_TO_STRING_PRETTY);
}

void print_json_line(struct json_object *o)
{
	print_json_as(o, JSON_C_TO_STRING_PLAIN);
}

void warn_lost(const struct gb_ctx *ctx)
{
	struct rules r;
	size_t lost = 0;

	if (!rules_read(ctx, &r)) {
		lost = rules_lost(ctx, &r);
		rules_free(&r);
	}
	if (lost)
		gb_warn("the maps hold no meeting while the saved rule set in %s lists %zu: their "
			"pins were lost (a reboot before 'geoblock restore'), so none is enforced "
			"until 'geoblock restore' (or the next change) puts them back",
			ctx->state_dir, lost);
}

bool warn_interrupted(const struct gb_ctx *ctx)
{
	bool said = report_interrupted(ctx);

	if (said)
		gb_warn("a change of the rule set died midway and is not rolled back yet: the maps "
			"may hold the old and the new version of a meeting (the next change, or "
			"geoblock restore, puts back the saved rule set)");
	warn_lost(ctx);
	return said;
}
