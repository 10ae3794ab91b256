// SPDX-License-Identifier: GPL-2.0
/*
 * `check MEETING ADDR`: would the meeting block an address (a participant at join time, also one
 * whose packets XDP cannot judge: through a TURN relay, over ICE-TCP); state/explain.c walks the
 * data path's decision.
 */
#include <errno.h>
#include <stdio.h>
#include "lib/errors.h"
#include "kern/pins.h"
#include "state/context.h"
#include "state/explain.h"
#include "cli/cmd.h"
#include "cli/output.h"
#include "geoblock.h"

int cmd_check(const struct cmd_args *a)
{
	static struct explanation e;
	struct gb_ctx ctx;
	int err;

	/* A bad address is refused before anything is opened. */
	if (explain_check(NULL, a->pos[0], a->pos[1], &e))
		return GB_EXIT_USAGE;
	if (gb_open(&ctx, GB_OPEN_READ))
		return GB_EXIT_FAIL;
	warn_interrupted(&ctx);
	err = explain_check(&ctx, a->pos[0], a->pos[1], &e);
	gb_close(&ctx);
	/* An unknown meeting is bad input, as for `meeting del`. */
	if (err)
		return err == -ENOENT ? GB_EXIT_USAGE : GB_EXIT_FAIL;
	if (a->opt[OPT_JSON]) {
		print_json(explanation_json(&e));
		return GB_EXIT_OK;
	}
	printf("%s: %s\n", e.reason == GB_DROP ? "block" : e.reason == GB_PASS_MONITOR ? "monitor" :
	       "pass", e.why);
	return GB_EXIT_OK;
}
