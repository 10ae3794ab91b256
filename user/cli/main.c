// SPDX-License-Identifier: GPL-2.0
/* The geoblock command line: the global options, then the command they precede. */
#include <stdio.h>
#include <stdlib.h>
#include "lib/errors.h"
#include "lib/version.h"
#include "state/managed.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "geoblock.h"

int main(int argc, char **argv)
{
	struct cmd_args g;
	int ret;

	/* The table's global options, read up to the command's name. */
	ret = args_parse(&cmd_geoblock, "", argc, argv, &g);
	if (ret || g.help)
		goto out;
	if (g.opt[OPT_PIN_DIR])
		setenv("GEOBLOCK_PIN_DIR", g.opt[OPT_PIN_DIR], 1);
	if (g.opt[OPT_STATE_DIR])
		setenv("GEOBLOCK_STATE_DIR", g.opt[OPT_STATE_DIR], 1);
	managed_allow_local(g.opt[OPT_LOCAL_OVERRIDE]);
	gb_set_verbosity(g.count[OPT_VERBOSE]);
	if (g.opt[OPT_VERSION])
		printf("geoblock %s (pinned ABI %d)\n", GB_VERSION, GB_ABI_VERSION);
	else
		ret = args_run(&cmd_geoblock, "", g.npos, g.pos);
out:
	args_free(&g);
	return ret;
}
