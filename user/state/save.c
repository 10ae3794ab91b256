// SPDX-License-Identifier: GPL-2.0
/*
 * The state dir's rules file, written from the maps after every change; a single meeting's change
 * kept in step with it, so that a command which fails has changed nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "kern/pins.h"
#include "state/journal.h"
#include "state/ports.h"
#include "state/rules.h"
#include "state/rules_file.h"
#include "state/save.h"

/* The rules file's text: the active meetings of r but skip (0: none), as `meeting add` lines. */
static int rules_text(const struct rules *r, __u32 skip, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int err = 0;

	if (!f)
		return -ENOMEM;
	fprintf(f, "# geoblock rules, written by geoblock after every change (restore reads it)\n");
	for (__u32 id = 1; id < GB_MAX_MEETINGS && !err; id++) {
		struct meeting_spec s;
		char *line;

		if (!(r->policies[id].flags & GB_MEETING_ACTIVE) || id == skip)
			continue;
		err = rules_spec(r, id, &s);
		if (err)
			break;
		line = spec_format(&s, false);
		if (line)
			fprintf(f, "%s\n", line);
		else
			err = -ENOMEM;
		free(line);
		spec_free(&s);
	}
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(*buf);
		*buf = NULL;
	}
	return err;
}

/* Writes the rules file without meeting skip; no message. */
static int write_rules(const struct gb_ctx *ctx, const struct rules *r, __u32 skip)
{
	char *buf = NULL;
	size_t len = 0;
	int err;

	err = rules_text(r, skip, &buf, &len);
	if (!err)
		err = gb_write_file_atomic(ctx->state_dir, GB_RULES_FILE, buf, len);
	free(buf);
	return err;
}

int rules_save(const struct gb_ctx *ctx, const struct rules *r)
{
	int err = write_rules(ctx, r, 0);

	if (err)
		gb_err("cannot write %s/%s: %s", ctx->state_dir, GB_RULES_FILE, strerror(-err));
	return err;
}


static void save_failed(const struct gb_ctx *ctx, int err, int undo)
{
	if (!undo) {
		gb_err("cannot write %s/%s: %s; nothing changed", ctx->state_dir, GB_RULES_FILE,
		       strerror(-err));
		rules_change_end(ctx);
	} else {
		gb_err("cannot write %s/%s: %s; undoing the change in the maps failed too (%s), "
		       "so they differ from the file until the next change", ctx->state_dir,
		       GB_RULES_FILE, strerror(-err), strerror(-undo));
	}
}

int rules_save_added(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	int err = write_rules(ctx, r, 0);

	if (err)
		save_failed(ctx, err, rules_remove(ctx, r, id));
	else
		rules_change_end(ctx);
	return err;
}

int rules_save_switched(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	int err = write_rules(ctx, r, 0);

	if (err)
		save_failed(ctx, err, rules_set_monitor(ctx, r, id, !(r->policies[id].flags &
								      GB_MEETING_MONITOR)));
	else
		rules_change_end(ctx);
	return err;
}

int rules_remove_saved(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	char name[GB_MEETING_NAME_LEN];
	int err;

	snprintf(name, sizeof(name), "%s", r->policies[id].name);
	err = write_rules(ctx, r, id);
	if (err) {
		save_failed(ctx, err, 0);
		return err;
	}
	err = rules_remove(ctx, r, id);
	if (!err) {
		rules_change_end(ctx);
		return 0;
	}
	/* Still active: the kernel refused the first step, so the file is put back as it was. */
	if (r->policies[id].flags & GB_MEETING_ACTIVE) {
		int undo = write_rules(ctx, r, 0);

		gb_err("cannot remove meeting \"%s\": %s; %s", name, strerror(-err), undo ?
		       "and the rules file could not be put back: it no longer lists it, so the "
		       "next change finishes removing it" : "nothing changed");
		if (!undo)
			rules_change_end(ctx);
	} else {
		gb_err("cannot remove meeting \"%s\": %s; it no longer filters, and the next "
		       "change finishes removing it", name, strerror(-err));
	}
	return err;
}

int rules_set_ports_saved(const struct gb_ctx *ctx, struct rules *r, __u32 id,
			  const __u8 want[GB_PORT_COUNT / 8])
{
	__u8 old[GB_PORT_COUNT / 8];
	int err, undo;

	rules_ports_of(r, id, old);
	err = rules_set_ports(ctx, r, id, want);
	if (err) {
		undo = rules_set_ports(ctx, r, id, old);
		gb_err("cannot change the ports of meeting \"%s\": %s; %s", r->policies[id].name,
		       strerror(-err), undo ? "giving them back failed too, so the maps differ "
		       "from the rules file until the next change" : "nothing changed");
		if (!undo)
			rules_change_end(ctx);
		return err;
	}
	err = write_rules(ctx, r, 0);
	if (err)
		save_failed(ctx, err, rules_set_ports(ctx, r, id, old));
	else
		rules_change_end(ctx);
	return err;
}
