// SPDX-License-Identifier: GPL-2.0
/* What every command opens: the pinned objects, and for a change the state lock first. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
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

/* The pid of the daemon of ctx's state dir if it runs and holds bpf links, else 0. */
static long daemon_holding_links(const struct gb_ctx *ctx)
{
	char path[PATH_MAX], line[64];
	bool links = false;
	struct dirent *e;
	long pid;
	DIR *d;

	pid = gb_daemon_running(ctx->state_dir);
	if (pid <= 0 || pid == getpid())
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/fdinfo", pid);
	d = opendir(path);
	while (d && !links && (e = readdir(d))) {
		char file[PATH_MAX + 300];
		FILE *f;

		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		f = e->d_name[0] == '.' ? NULL : fopen(file, "re");
		while (f && !links && fgets(line, sizeof(line), f))
			links = !strncmp(line, "link_id:", 8);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return links ? pid : 0;
}

/*
 * The pin dir removed while a daemon runs: the daemon holds the links still filtering and pins
 * them and the maps again once the dir is quiet (within a second). A change (restore, say) that
 * made new maps first would have the daemon let go of its links (pins re-created under it): none
 * filtering. So it waits for the daemon's pins, up to 10 s: for the dir, which the daemon makes
 * again under the state lock (not taken yet here), and fills before it lets go of it, or, the
 * dir kept, for the daemon's maps pinned again.
 */
static void await_daemon_pins(const struct gb_ctx *ctx)
{
	char path[PATH_MAX];
	long pid;
	int t;

	/* Its maps' pins (one of them) too: removed from a dir left in place (rm -rf DIR/x). */
	snprintf(path, sizeof(path), "%s/drop_counts", ctx->pin_dir);
	if (!access(path, F_OK) || !(pid = daemon_holding_links(ctx)))
		return;
	gb_warn("the pins under %s are gone while the daemon (pid %ld) holds links still "
		"filtering: waiting for it to pin them again", ctx->pin_dir, pid);
	for (t = 0; t < 100 && access(path, F_OK); t++)
		usleep(100 * 1000);
	if (t == 100)
		gb_warn("the daemon (pid %ld) did not pin them again within 10 s; going on with "
			"maps made anew (it then lets go of its links: restart it)", pid);
}

int gb_open(struct gb_ctx *ctx, unsigned int flags)
{
	int err;

	pins_init(ctx);
	if (flags & GB_OPEN_LOCKED) {
		await_daemon_pins(ctx);
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
		/* A geoip load cut short: its copy follows the table. */
		geoip_kept_settle(ctx, false);
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
