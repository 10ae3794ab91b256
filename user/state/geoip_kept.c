// SPDX-License-Identifier: GPL-2.0
/*
 * The kept copy of the loaded GeoIP table (geoip.db..., geoip.conf), which restore loads, changed
 * with the live table so that the two never disagree: a load writes the copies and their record
 * under staged names before it switches tables and renames them in place after; a load killed
 * between the two is settled by the next command that takes the state lock, by which table is
 * live (the record names it by the ids of its network lists).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "geoip/geoip.h"
#include "kern/pins.h"
#include "kern/live_table.h"
#include "kern/table.h"
#include "kern/table_view.h"
#include "state/audit.h"
#include "state/records.h"
#include "state/geoip_kept.h"
#include "geoblock.skel.h"

/* The staged name of copy i, or of the record for i < 0. */
static void staged_name(char *out, size_t len, int i)
{
	char name[32];	/* geoip.db.15 at most */

	if (i < 0)
		snprintf(name, sizeof(name), "%s", STATE_GEOIP_CONF);
	else
		state_geoip_copy_name(name, sizeof(name), i);
	snprintf(out, len, "%s%s", name, GEOIP_KEPT_STAGED);
}

/* Map ids start over at boot, the state dir does not. */
static void read_boot(char boot[40])
{
	if (gb_read_first_line("/proc/sys/kernel/random/boot_id", boot, 40) || !*boot)
		snprintf(boot, 40, "unknown");
}

/*
 * Copies src to dir/name: a temporary file, flushed, then renamed over the old copy. -ESTALE if
 * src is no longer the file that was loaded (want: its stat when the load began).
 */
static int copy_file_atomic(const char *src, const struct stat *want, const char *dir,
			    const char *name)
{
	char buf[1 << 16];
	struct atomic_file f;
	int in, err = 0;
	off_t copied = 0;
	struct stat st;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (fstat(in, &st) || !gb_same_file(&st, want)) {
		close(in);
		return -ESTALE;
	}
	err = atomic_file_open(&f, dir, name);
	if (err) {
		close(in);
		return err;
	}
	while (!err && (n = read(in, buf, sizeof(buf))) > 0) {
		err = gb_write_all(f.fd, buf, n);
		copied += n;
	}
	if (n < 0 && !err)
		err = -errno;
	/* Written to while copied: not the bytes that were loaded. */
	if (!err && (copied != want->st_size || fstat(in, &st) || !gb_same_file(&st, want)))
		err = -ESTALE;
	close(in);
	return atomic_file_commit(&f, err);
}

/*
 * The staged record: written and flushed, then renamed, with no wait for the directory (not
 * gb_write_file_atomic): the switch follows at once, and what a command run after a kill sees is
 * the rename (a crash takes the live table with it). A directory's fsync here would widen the
 * window in which a kill, then a reboot, has restore load the staged table where the old one
 * was live. geoip_kept_commit makes the directory durable.
 */
static int write_record(const char *dir, const char *name, const char *data, size_t len)
{
	struct atomic_file f;
	int err = atomic_file_open(&f, dir, name);

	if (err)
		return err;
	err = gb_write_all(f.fd, data, len);
	if (!err && fsync(f.fd))
		err = -errno;
	if (close(f.fd) && !err)
		err = -errno;
	if (!err && rename(f.tmp, f.path))
		err = -errno;
	if (err)
		unlink(f.tmp);
	return err;
}

/* Removes the staged copies (and the temporaries of a copy cut short), with record the record. */
static void remove_staged(const struct gb_ctx *ctx, bool record)
{
	char name[64], path[512];

	for (int i = record ? -1 : 0; i < GEOIP_MAX_FILES; i++) {
		staged_name(name, sizeof(name), i);
		snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/.%s.tmp", ctx->state_dir, name);
		unlink(path);
	}
}

void geoip_kept_unstage(const struct gb_ctx *ctx)
{
	/* The record first: without it the copies are strays, whatever is left of them. */
	remove_staged(ctx, true);
}

/* s for one line of the record (malloc'd): a newline in a name would start a line of its own. */
static char *one_line(const char *s)
{
	char *c = strdup(s);

	for (char *p = c; p && *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = '?';
	return c;
}

int geoip_kept_stage(const struct gb_ctx *ctx, const struct geoip_kept_load *l,
		     const __u32 net_ids[2])
{
	const struct geoip_table *t = l->t;
	char *conf = NULL, *source, *type, name[64], boot[40];
	__u32 zero = 0, id;
	bool with_lpm;
	int err = 0, len;

	/* Once the LPM tries exist, every load keeps them (table_install): so must restore. */
	with_lpm = l->with_lpm ||
		   !bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.country_v4), &zero, &id) ||
		   !bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.country_v6), &zero, &id);
	for (int i = 0; i < l->n && !err; i++) {
		staged_name(name, sizeof(name), i);
		err = copy_file_atomic(l->paths[i], &l->ids[i], ctx->state_dir, name);
		if (err == -ESTALE)
			gb_err("%s changed while it was read, and what is loaded is what is kept "
			       "for restore: load it again once it is written; the loaded table "
			       "is unchanged", l->paths[i]);
		else if (err)
			gb_err("cannot keep a copy in %s/%s for restore: %s; the loaded table is "
			       "unchanged", ctx->state_dir, name, strerror(-err));
	}
	if (err)
		goto out;
	read_boot(boot);
	source = one_line(l->source);
	type = one_line(t->database_type);
	len = !source || !type ? -1 :
	      asprintf(&conf, "# geoblock: the GeoIP table restore loads (from the copies %s...)\n"
		       "field %s\nwith_lpm %d\nfiles %d\nsource %s\n"
		       "# the table live: its boot and network lists, what status describes\n"
		       "table %s %u %u\ninfo %llu %llu %zu %zu %zu %zu %s\n", STATE_GEOIP_COPY,
		       l->field, with_lpm, l->n, source, boot, net_ids[0], net_ids[1],
		       (unsigned long long)time(NULL), (unsigned long long)t->build_epoch,
		       (size_t)t->v4.n, (size_t)t->v6.n, (size_t)t->v4.added, (size_t)t->v6.added,
		       type);
	free(source);
	free(type);
	if (len < 0) {
		conf = NULL;
		err = -ENOMEM;
	} else {
		staged_name(name, sizeof(name), -1);
		err = write_record(ctx->state_dir, name, conf, len);
	}
	if (err)
		gb_err("cannot record the table in %s/%s for restore: %s; the loaded table is "
		       "unchanged", ctx->state_dir, name, strerror(-err));
out:
	if (err)
		remove_staged(ctx, true);
	free(conf);
	return err;
}

/* The staged copies and record in place of the kept ones, then the copies no longer named. */
static int promote(const struct gb_ctx *ctx, int files)
{
	char from[512], to[512], name[64];
	int err;

	for (int i = 0; i <= files; i++) {
		/* The record last: it is what makes the copies the kept table. */
		int k = i < files ? i : -1;

		staged_name(name, sizeof(name), k);
		snprintf(from, sizeof(from), "%s/%s", ctx->state_dir, name);
		if (k < 0)
			snprintf(name, sizeof(name), "%s", STATE_GEOIP_CONF);
		else
			state_geoip_copy_name(name, sizeof(name), k);
		snprintf(to, sizeof(to), "%s/%s", ctx->state_dir, name);
		/* Gone: renamed already, by a command cut short in here. */
		if (rename(from, to) && errno != ENOENT)
			return -errno;
	}
	/*
	 * In place, whatever follows: a failed fsync of the dir is said, and the copies past the
	 * record's kept (a crash may yet bring back the record before, which names them).
	 */
	err = gb_sync_dir(ctx->state_dir);
	if (err) {
		gb_warn("the GeoIP table's copies are in %s, but it cannot be synced (%s): a crash "
			"may yet lose them", ctx->state_dir, strerror(-err));
		remove_staged(ctx, false);
		return 0;
	}
	/* Only once the record that names fewer is durable. */
	for (int i = files; i < GEOIP_MAX_FILES; i++) {
		state_geoip_copy_name(name, sizeof(name), i);
		snprintf(to, sizeof(to), "%s/%s", ctx->state_dir, name);
		unlink(to);
	}
	remove_staged(ctx, false);
	return 0;
}

int geoip_kept_commit(const struct gb_ctx *ctx, const char *reason)
{
	struct state_geoip_conf c;
	char name[64];
	int err;

	staged_name(name, sizeof(name), -1);
	err = state_geoip_conf_read_name(ctx, name, &c);
	if (!err)
		err = promote(ctx, c.files);
	if (err)
		gb_err("table loaded, but its copy for restore is not in place in %s (%s): the "
		       "next command that changes anything puts it there", ctx->state_dir,
		       strerror(-err));
	if (audit_result(ctx, reason, err, NULL) && !err)
		err = -EIO;
	return err;
}

/* The live description of the table, as the load would have left it (it may have died first). */
static void describe(const struct gb_ctx *ctx, const struct state_geoip_conf *c)
{
	int fd = bpf_map__fd(ctx->skel->maps.geoip_info);
	struct geoip_info live = {}, want = c->info;
	__u32 zero = 0;

	if (!c->info.loaded_at)
		return;
	bpf_map_lookup_elem(fd, &zero, &live);
	snprintf(want.source, sizeof(want.source), "%s", c->source);
	if (live.loaded_at && live.build_epoch == want.build_epoch &&
	    live.v4_prefixes == want.v4_prefixes && live.v6_prefixes == want.v6_prefixes &&
	    !strcmp(live.source, want.source))
		return;
	want.failed_reloads = live.failed_reloads;
	want.last_failure_at = live.last_failure_at;
	if (bpf_map_update_elem(fd, &zero, &want, BPF_ANY))
		gb_warn("cannot record the description of the loaded GeoIP table: %s",
			strerror(errno));
}

/*
 * The data path's tables compiled anew from the live network lists: a load killed inside the
 * switch (the lists go first) may have left the old ones.
 */
static void recompile(const struct gb_ctx *ctx)
{
	__u64 keep[GB_COUNTRY_WORDS];
	bool have_keep = !live_countries_read(ctx, keep);
	struct table_view v;

	if (table_open(ctx, &v))
		return;
	if (table_compile_live(ctx, v.net, v.net_n, have_keep ? keep : NULL))
		gb_warn("cannot compile the data path's table from the loaded networks again");
	table_close(&v);
}

int geoip_kept_settle(const struct gb_ctx *ctx, bool failed)
{
	const char *how = failed ? "failed" : "was killed";
	struct state_geoip_conf c;
	char name[64], boot[40], why[512];
	int err, named = 0, live_named = 0;
	__u32 live[2];
	bool same_boot, loaded;

	staged_name(name, sizeof(name), -1);
	err = state_geoip_conf_read_name(ctx, name, &c);
	if (err == -ENOENT) {
		/* Killed while copying, or writing its record (its temporary): never switched. */
		remove_staged(ctx, true);
		return 0;
	}
	if (err)
		return err;
	table_networks_ids(ctx, live);
	loaded = live[0] || live[1];
	read_boot(boot);
	same_boot = !strcmp(boot, c.boot);
	for (int i = 0; i < 2; i++) {
		named += !!c.net_ids[i];
		live_named += c.net_ids[i] && live[i] == c.net_ids[i];
	}
	/* Another table is live, or (a load that said it failed) none: this one never was. */
	if (same_boot && named && !live_named && (loaded || failed)) {
		geoip_kept_unstage(ctx);
		return 1;
	}
	if (same_boot && named && live_named == named) {
		/* Its lists went live: the switch is finished (a family it lacks loses its own). */
		for (int i = 0; i < 2; i++)
			if (!c.net_ids[i] && live[i] && !table_networks_drop(ctx, i))
				live[i] = 0;
		describe(ctx, &c);
		recompile(ctx);
		snprintf(why, sizeof(why), "a geoip load of %.400s %s after it switched tables: "
			 "its copy is kept for restore", c.source, how);
	} else if (!loaded) {
		/* No table live (a reboot, the pins removed): the load had passed every check. */
		snprintf(why, sizeof(why), "a geoip load of %.400s %s before it finished and no "
			 "table is loaded: its copy is kept, and restore loads it", c.source, how);
	} else {
		/*
		 * One family's list switched, the other's not: the data path's tables are compiled
		 * from the lists live, so that it answers as check and explain do.
		 */
		if (same_boot && live_named)
			recompile(ctx);
		snprintf(why, sizeof(why), "a geoip load of %.400s %s while it switched tables: "
			 "its copy is kept for restore", c.source, how);
	}
	err = promote(ctx, c.files);
	if (err) {
		gb_warn("cannot put the copy of the GeoIP table in place in %s for restore: %s",
			ctx->state_dir, strerror(-err));
		return err;
	}
	if (loaded && (live_named != named || live[0] != c.net_ids[0] || live[1] != c.net_ids[1]))
		gb_warn("the loaded GeoIP table is not the one kept for restore (%s): load it "
			"again with 'geoblock geoip load'", why);
	audit_log(ctx, "recover", why, "ok", NULL);
	return 1;
}

bool geoip_kept_pending(const struct gb_ctx *ctx)
{
	char name[64], path[512];

	staged_name(name, sizeof(name), -1);
	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, name);
	return !access(path, F_OK);
}
