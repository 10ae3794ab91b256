// SPDX-License-Identifier: GPL-2.0
/*
 * The mark of a rule set a store manages, and the guard every change of the rule set passes: a
 * local change there would be undone by the next change from the store, unseen.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "state/managed.h"

static bool allow_local;

int managed_mark(const struct gb_ctx *ctx, const char *what)
{
	char path[PATH_MAX];

	if (what)
		return gb_write_file_atomic(ctx->state_dir, STATE_MANAGED_FILE, what,
					    strlen(what));
	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, STATE_MANAGED_FILE);
	if (unlink(path) && errno != ENOENT)
		return -errno;
	managed_settled(ctx);
	return 0;
}

int managed_by(const struct gb_ctx *ctx, char *out, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, STATE_MANAGED_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	out[n] = '\0';
	return 1;
}

void managed_allow_local(bool allow)
{
	allow_local = allow;
}

/* The drift mark: a local change stands, made while by manages the rule set. */
static int mark_drift(const struct gb_ctx *ctx, const char *by)
{
	return gb_write_file_replace(ctx->state_dir, STATE_DRIFT_FILE, by, strlen(by));
}

int managed_guard(const struct gb_ctx *ctx, const struct audit_caller *who, const char *there)
{
	char by[512];
	int err;

	if (who && who->source)
		return 0;
	err = managed_by(ctx, by, sizeof(by));
	if (err <= 0)
		goto out;
	if (!allow_local) {
		gb_err("the rule set here is managed by %s: change it there (%s), or with the "
		       "command line's --local-override", by, there);
		return -EPERM;
	}
	/* Kept until the store's next change puts its set back. */
	err = mark_drift(ctx, by);
out:
	/* -EPERM is the refusal above alone (the API's 403): a file's EPERM is a failure. */
	return err == -EPERM ? -EIO : err;
}

bool managed_drift(const struct gb_ctx *ctx)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, STATE_DRIFT_FILE);
	return !access(path, F_OK);
}

void managed_drifted(const struct gb_ctx *ctx)
{
	char by[512];

	if (managed_by(ctx, by, sizeof(by)) > 0)
		mark_drift(ctx, by);
}

void managed_settled(const struct gb_ctx *ctx)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, STATE_DRIFT_FILE);
	unlink(path);
}
