// SPDX-License-Identifier: GPL-2.0
/* Dispatch from a table of commands to one function per OBJECT VERB (as bpftool's cmd_select). */
#include <stdio.h>
#include <string.h>
#include "lib/errors.h"
#include "cli/cmd.h"

int cmd_select(const struct cmd *cmds, int argc, char **argv, void (*help)(void),
	       const char *object)
{
	/* Error messages name the full command ("meeting add"); set once per invocation. */
	static char name[64];

	if (argc < 1 || !strcmp(argv[0], "-h") || !strcmp(argv[0], "--help") ||
	    !strcmp(argv[0], "help")) {
		help();
		return argc < 1 ? GB_EXIT_USAGE : GB_EXIT_OK;
	}
	for (const struct cmd *c = cmds; c->name; c++) {
		if (!strcmp(argv[0], c->name)) {
			snprintf(name, sizeof(name), "%s%s%s", object ? object : "", object ? " " : "",
				 c->name);
			gb_set_command(name);
			return c->func(argc, argv);
		}
	}
	gb_err("unknown command \"%s\"; see -h", argv[0]);
	return GB_EXIT_USAGE;
}
