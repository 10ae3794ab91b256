// SPDX-License-Identifier: GPL-2.0
/*
 * The saved rule set kept in step with the maps: a single meeting's change logged before the maps
 * change and marked done after (undone in the maps if that cannot be written, so that a command
 * which fails has changed nothing), and the rules file written anew from the maps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "kern/pins.h"
#include "state/changelog.h"
#include "state/ports.h"
#include "state/rules.h"
#include "state/rules_file.h"
#include "state/save.h"

/* A rules file line for s; 0 or -ENOMEM. */
static int put_line(FILE *f, const struct meeting_spec *s)
{
	char *line = spec_format(s, false);

	if (!line)
		return -ENOMEM;
	fprintf(f, "%s\n", line);
	free(line);
	return 0;
}

/*
 * The rules file's text, through change seq: the meetings of want as `meeting add` lines, or
 * without want the active meetings of r.
 */
static int rules_text(const struct rules *r, const struct spec_list *want, __u64 seq, char **buf,
		      size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int err = 0;

	if (!f)
		return -ENOMEM;
	fprintf(f, GB_RULES_HEADER, GB_LOG_FILE, (unsigned long long)seq);
	for (size_t i = 0; want && i < want->n && !err; i++)
		err = put_line(f, &want->v[i]);
	for (__u32 id = 1; !want && id < GB_MAX_MEETINGS && !err; id++) {
		struct meeting_spec s;

		if (!(r->policies[id].flags & GB_MEETING_ACTIVE))
			continue;
		err = rules_spec(r, id, &s);
		if (err)
			break;
		err = put_line(f, &s);
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

static int save(const struct gb_ctx *ctx, const struct rules *r, const struct spec_list *want)
{
	char *buf = NULL;
	size_t len = 0;
	bool synced;
	__u64 seq;
	int err;

	err = changelog_last_seq(ctx, &seq);
	if (!err)
		err = rules_text(r, want, seq, &buf, &len);
	if (!err)
		err = gb_write_file_synced(ctx->state_dir, GB_RULES_FILE, buf, len, &synced);
	free(buf);
	if (err) {
		gb_err("cannot write %s/%s: %s", ctx->state_dir, GB_RULES_FILE, strerror(-err));
		return err;
	}
	/*
	 * Its rename not known durable (the directory's fsync failed: warned): the log keeps what
	 * the file holds, as after a crash before the cut, so that a rename lost loses nothing.
	 */
	if (!synced)
		return 0;
	err = changelog_compacted(ctx, seq, len);
	if (err)
		gb_err("cannot empty %s/%s: %s", ctx->state_dir, GB_LOG_FILE, strerror(-err));
	return err;
}

int rules_save(const struct gb_ctx *ctx, const struct rules *r)
{
	return save(ctx, r, NULL);
}

int rules_save_specs(const struct gb_ctx *ctx, const struct spec_list *want)
{
	return save(ctx, NULL, want);
}

void rules_save_maybe(const struct gb_ctx *ctx, const struct rules *r)
{
	if (changelog_wants_compaction(ctx) && rules_save(ctx, r))
		gb_warn("the change is saved in %s/%s; the rules file is written anew at a later "
			"change", ctx->state_dir, GB_LOG_FILE);
}

int rules_log_intent(const struct gb_ctx *ctx, const struct meeting_spec *s, const char *name)
{
	int err = changelog_intent(ctx, s, name);

	if (err)
		gb_err("cannot write %s/%s: %s; nothing changed", ctx->state_dir, GB_LOG_FILE,
		       strerror(-err));
	return err;
}

void rules_log_abort(const struct gb_ctx *ctx)
{
	/* A log that cannot be cut leaves the change under way: the next one puts the maps right. */
	changelog_abort(ctx);
}

/* The change is in the maps: "done" logged, or the change undone in the maps (undo). */
static int log_done(const struct gb_ctx *ctx, struct rules *r, __u32 id,
		    int (*undo)(const struct gb_ctx *ctx, struct rules *r, __u32 id))
{
	int err = changelog_done(ctx), back;

	if (!err)
		return 0;
	back = undo(ctx, r, id);
	if (!back) {
		changelog_abort(ctx);
		gb_err("cannot write %s/%s: %s; nothing changed", ctx->state_dir, GB_LOG_FILE,
		       strerror(-err));
	} else {
		gb_err("cannot write %s/%s: %s; undoing the change in the maps failed too (%s), "
		       "so the next change puts them back to the saved rule set", ctx->state_dir,
		       GB_LOG_FILE, strerror(-err), strerror(-back));
	}
	return err;
}

static int undo_add(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	return rules_remove(ctx, r, id);
}

static int undo_switch(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	return rules_set_mode(ctx, r, id, !(r->policies[id].flags & GB_MEETING_MONITOR), NULL);
}

int rules_save_added(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	return log_done(ctx, r, id, undo_add);
}

int rules_save_switched(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	return log_done(ctx, r, id, undo_switch);
}

int rules_remove_saved(const struct gb_ctx *ctx, struct rules *r, __u32 id)
{
	char name[GB_MEETING_NAME_LEN];
	int err, done;

	snprintf(name, sizeof(name), "%s", r->policies[id].name);
	err = rules_remove(ctx, r, id);
	/* Still active: the kernel refused the first step, so the deletion is taken back. */
	if (err && (r->policies[id].flags & GB_MEETING_ACTIVE)) {
		changelog_abort(ctx);
		gb_err("cannot remove meeting \"%s\": %s; nothing changed", name, strerror(-err));
		return err;
	}
	done = changelog_done(ctx);
	if (err)
		gb_err("cannot remove meeting \"%s\": %s; it no longer filters, and the next "
		       "change finishes removing it", name, strerror(-err));
	else if (done)
		gb_err("cannot write %s/%s: %s; meeting \"%s\" is out of the maps, and the next "
		       "change puts it back as the saved rule set still has it", ctx->state_dir,
		       GB_LOG_FILE, strerror(-done), name);
	return err ? err : done;
}

int rules_set_ports_saved(const struct gb_ctx *ctx, struct rules *r, __u32 id,
			  const __u8 want[GB_PORT_COUNT / 8])
{
	char what[320];
	__u8 old[GB_PORT_COUNT / 8];
	int err, undo;

	rules_ports_of(r, id, old);
	err = rules_set_ports(ctx, r, id, want);
	if (err)
		snprintf(what, sizeof(what), "cannot change the ports of meeting \"%s\": %s",
			 r->policies[id].name, strerror(-err));
	else if ((err = changelog_done(ctx)))
		snprintf(what, sizeof(what), "cannot write %s/%s: %s", ctx->state_dir, GB_LOG_FILE,
			 strerror(-err));
	if (!err)
		return 0;
	undo = rules_set_ports(ctx, r, id, old);
	if (!undo)
		changelog_abort(ctx);
	gb_err("%s; %s", what, undo ? "giving the ports back failed too, so the next change "
	       "puts the maps back to the saved rule set" : "nothing changed");
	return err;
}

int rules_set_ufrags_saved(const struct gb_ctx *ctx, struct rules *r, __u32 id,
			   const struct meeting_spec *want)
{
	struct meeting_spec old;
	char what[320];
	int err, undo;

	err = rules_spec(r, id, &old);
	if (err) {
		gb_err("out of memory");
		return err;
	}
	err = ufrags_give(&r->uf, id, want->ufrags, want->n_ufrags);
	if (err)
		snprintf(what, sizeof(what), "cannot change the ufrags of meeting \"%s\": %s",
			 r->policies[id].name, strerror(-err));
	else if ((err = changelog_done(ctx)))
		snprintf(what, sizeof(what), "cannot write %s/%s: %s", ctx->state_dir, GB_LOG_FILE,
			 strerror(-err));
	if (!err) {
		spec_free(&old);
		return 0;
	}
	undo = ufrags_give(&r->uf, id, old.ufrags, old.n_ufrags);
	if (!undo)
		changelog_abort(ctx);
	gb_err("%s; %s", what, undo ? "giving the ufrags back failed too, so the next change "
	       "puts the maps back to the saved rule set" : "nothing changed");
	spec_free(&old);
	return err;
}
