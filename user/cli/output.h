/* SPDX-License-Identifier: GPL-2.0 */
/* What commands print for programs: their --json, in one format. */
#ifndef GEOBLOCK_CLI_OUTPUT_H
#define GEOBLOCK_CLI_OUTPUT_H

#include <stdbool.h>

struct json_object;
struct gb_ctx;

/* Prints o as --json does (indented, '/' unescaped), a newline after it, and releases it. */
void print_json(struct json_object *o);
/* The same on one line (one object per line, as for several answers in turn). */
void print_json_line(struct json_object *o);
/*
 * One warning line if the maps hold no meeting while the saved rule set lists some: their pins
 * were lost (a reboot before restore) and nothing it lists is enforced.
 */
void warn_lost(const struct gb_ctx *ctx);
/*
 * One warning line if a change died midway and is not rolled back yet (what is read may be
 * mixed), and warn_lost's; returns whether the first was said.
 */
bool warn_interrupted(const struct gb_ctx *ctx);

#endif
