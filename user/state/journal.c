// SPDX-License-Identifier: GPL-2.0
/*
 * The journal: a file in the state dir that exists while a change of the rule set is under way,
 * so that the next change finds one that died midway and puts the maps back to the rules file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "kern/pins.h"
#include "state/journal.h"

int rules_journal_write(const struct gb_ctx *ctx)
{
	static const char text[] = "# geoblock: a change of the rule set is under way; if this file "
				   "outlives it, the next change makes the maps match the rules "
				   "file again\n";

	return gb_write_file_atomic(ctx->state_dir, GB_JOURNAL_FILE, text, sizeof(text) - 1);
}

int rules_journal_remove(const struct gb_ctx *ctx)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, GB_JOURNAL_FILE);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return gb_sync_dir(ctx->state_dir);
}

bool rules_journal_exists(const struct gb_ctx *ctx)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, GB_JOURNAL_FILE);
	return !access(path, F_OK);
}

/*
 * meeting add/set/del and ports add/del, kept in step with the rules file so that a command which
 * fails has changed nothing: an add, a mode switch or a port change that cannot be written to the
 * file (a full disk) is undone in the maps; a deletion is written to the file first and only then made in the maps, so the
 * meeting and its counters stay if the file cannot be written. One error line, saying what was
 * left. Each runs under the journal, which goes once the maps and the file agree again: a command
 * killed between the two, or whose undo failed, leaves it for the next change to put right.
 */
int rules_change_begin(const struct gb_ctx *ctx)
{
	int err = rules_journal_write(ctx);

	if (err)
		gb_err("cannot write %s/%s: %s; nothing changed", ctx->state_dir, GB_JOURNAL_FILE,
		       strerror(-err));
	return err;
}

/* A journal that cannot be removed only makes the next change check the maps against the file. */
void rules_change_end(const struct gb_ctx *ctx)
{
	rules_journal_remove(ctx);
}
