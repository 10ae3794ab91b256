/* SPDX-License-Identifier: GPL-2.0 */
/* Command lines read by the command table: parsing, dispatch and help. */
#ifndef GEOBLOCK_CLI_ARGS_H
#define GEOBLOCK_CLI_ARGS_H

#include "cli/cmd.h"

/*
 * Reads argv (argv[0]: the command's name) by c's options, -h and --help: fills a, or prints c's
 * help (-h anywhere: a->help), or prints one usage error line. A group's options end at its first
 * positional argument, its sub-command. path: the command's words after "geoblock", for the help.
 * Returns an exit code (0: run it); args_free(a) afterwards in every case.
 */
int args_parse(const struct cmd *c, const char *path, int argc, char **argv, struct cmd_args *a);
void args_free(struct cmd_args *a);
/* Runs the command argv names among group's (argv[0]: "meeting", "help"); returns its exit code. */
int args_run(const struct cmd *group, const char *path, int argc, char **argv);
/* `-h`: usage, summary, the commands of a group, the options, the details; on stdout. */
void args_help(const struct cmd *c, const char *path);

#endif
