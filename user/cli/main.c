// SPDX-License-Identifier: GPL-2.0
/* The geoblock command line: the global options, then the command they precede. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/errors.h"
#include "lib/version.h"
#include "kern/pins.h"
#include "state/managed.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "geoblock.h"

/*
 * --pin-dir or --state-dir (else its variable, if set) as a directory: an empty one would mean
 * the default dir (the production rule set), a long path one cut short; either is refused.
 */
static bool dir_ok(const char *opt, const char *var, const char *given)
{
	const char *v = given ? given : getenv(var);
	char what[64];

	snprintf(what, sizeof(what), given ? "--%s" : "%s", given ? opt : var);
	if (v && !*v) {
		gb_err("%s needs a directory, not an empty value", what);
		return false;
	}
	if (v && strlen(v) >= sizeof(((struct gb_ctx *)0)->state_dir)) {
		gb_err("%s: a path of at most %zu bytes", what,
		       sizeof(((struct gb_ctx *)0)->state_dir) - 1);
		return false;
	}
	if (given)
		setenv(var, v, 1);
	return true;
}

int main(int argc, char **argv)
{
	struct cmd_args g;
	int ret;

	/* The table's global options, read up to the command's name. */
	ret = args_parse(&cmd_geoblock, "", argc, argv, &g);
	if (ret || g.help)
		goto out;
	if (!dir_ok("pin-dir", "GEOBLOCK_PIN_DIR", g.opt[OPT_PIN_DIR]) ||
	    !dir_ok("state-dir", "GEOBLOCK_STATE_DIR", g.opt[OPT_STATE_DIR])) {
		ret = GB_EXIT_USAGE;
		goto out;
	}
	managed_allow_local(g.opt[OPT_LOCAL_OVERRIDE]);
	gb_set_verbosity(g.count[OPT_VERBOSE]);
	if (g.opt[OPT_VERSION] && g.npos) {
		/* Else "geoblock -V meeting del x" said the version and deleted nothing, exit 0. */
		gb_err("-V takes no command (\"%s\" given)", g.pos[0]);
		ret = GB_EXIT_USAGE;
	} else if (g.opt[OPT_VERSION])
		printf("geoblock %s (pinned ABI %d)\n", GB_VERSION, GB_ABI_VERSION);
	else
		ret = args_run(&cmd_geoblock, "", g.npos, g.pos);
out:
	args_free(&g);
	return ret;
}
