/* SPDX-License-Identifier: GPL-2.0 */
/* What commands print for programs: their --json, in one format. */
#ifndef GEOBLOCK_CLI_OUTPUT_H
#define GEOBLOCK_CLI_OUTPUT_H

#include <stdbool.h>

struct json_object;
struct gb_ctx;

/* Prints o as --json does (indented, '/' unescaped), a newline after it, and releases it. */
void print_json(struct json_object *o);
/*
 * One warning line if a change died midway and is not rolled back yet (what is read may be
 * mixed); returns whether it was said.
 */
bool warn_interrupted(const struct gb_ctx *ctx);

#endif
