/* SPDX-License-Identifier: GPL-2.0 */
/* The commands' entry points, each called with argv[0] its own name; they return an exit code. */
#ifndef GEOBLOCK_CLI_CMD_H
#define GEOBLOCK_CLI_CMD_H

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_geoip(int argc, char **argv);
int cmd_meeting(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_restore(int argc, char **argv);

/* shared by the commands: a bpftool-style dispatch table */
struct cmd {
	const char *name;
	int (*func)(int argc, char **argv);
};
int cmd_select(const struct cmd *cmds, int argc, char **argv, void (*help)(void),
	       const char *object);

#endif
