/* SPDX-License-Identifier: GPL-2.0 */
/* The read-only reports as JSON, shared by the CLI's --json and the control API. */
#ifndef GEOBLOCK_STATE_REPORT_H
#define GEOBLOCK_STATE_REPORT_H

#include "kern/counters.h"
#include "kern/pins.h"

struct json_object;

struct json_object *stats_json(const struct counters *c);
/* What Binding Requests did to their senders' bindings: stats' "ice_senders". */
struct json_object *ice_senders_json(const struct counters *c);
int status_json(const struct gb_ctx *ctx, struct json_object **out);
/*
 * Whether a change of the rule set died midway and is not rolled back yet (the change log ends in
 * one without its "done", and nobody holds the state lock): the maps may hold the old and the new
 * version of some meetings. For commands that change nothing, in a process of their own.
 */
bool report_interrupted(const struct gb_ctx *ctx);

#endif
