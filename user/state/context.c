// SPDX-License-Identifier: GPL-2.0
/* What every command opens: the pinned objects, and for a change the state lock first. */
#include <errno.h>
#include <unistd.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "kern/pins.h"
#include "state/audit.h"
#include "state/changelog.h"
#include "state/context.h"
#include "state/countries.h"
#include "state/geoip_kept.h"

/* What a read finding nothing pinned says: restore if a saved rule set lists meetings (a reboot). */
static void nothing_pinned(const struct gb_ctx *ctx)
{
	struct spec_list saved;
	char why[512];
	size_t n = 0;

	if (!changelog_read(ctx, NULL, &saved, why, sizeof(why))) {
		n = saved.n;
		spec_list_free(&saved);
	}
	if (n)
		gb_err("nothing pinned under %s, while the saved rule set in %s lists %zu "
		       "meeting%s: run 'geoblock restore' (after a reboot, as at every boot)",
		       ctx->pin_dir, ctx->state_dir, n, n == 1 ? "" : "s");
	else
		gb_err("nothing pinned under %s: run 'geoblock attach' or 'geoblock geoip load' "
		       "first", ctx->pin_dir);
}

int gb_open(struct gb_ctx *ctx, unsigned int flags)
{
	int err;

	pins_init(ctx);
	if (flags & GB_OPEN_LOCKED) {
		err = gb_lock(ctx->state_dir);
		if (err < 0)
			return err;
		ctx->lock_fd = err;
		/* Best effort: an audit record that cannot be written says why itself. */
		audit_repair(ctx);
	}
	err = pins_load(ctx, flags);
	if (err == -ENOMEDIUM) {
		nothing_pinned(ctx);
		err = -ENOENT;
	}
	if (err)
		gb_close(ctx);
	else if (flags & GB_OPEN_LOCKED) {
		geoip_kept_settle(ctx, false);	/* a geoip load cut short: its copy follows the table */
		/* The census is written under the lock: a temporary of it found now was cut short. */
		gb_write_file_cut(ctx->state_dir, STATE_CENSUS_FILE);
	}
	return err;
}

void gb_close(struct gb_ctx *ctx)
{
	pins_unload(ctx);
	if (ctx->lock_fd >= 0)
		close(ctx->lock_fd);
	ctx->lock_fd = -1;
}
