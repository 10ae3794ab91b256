// SPDX-License-Identifier: GPL-2.0
/*
 * `restore`: after a reboot (pins gone, state dir kept) re-creates the maps, reloads the GeoIP
 * table from the copy kept in the state dir, the rules from the rules file, and the attachments.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/files.h"
#include "geoip/geoip.h"
#include "kern/pins.h"
#include "kern/live_table.h"
#include "kern/table.h"
#include "state/audit.h"
#include "state/context.h"
#include "state/converge.h"
#include "state/countries.h"
#include "state/janus_rooms.h"
#include "state/records.h"
#include "state/changelog.h"
#include "state/rules.h"
#include "state/rules_read.h"
#include "state/save.h"
#include "state/shared_ports.h"
#include "cli/attach.h"
#include "cli/cmd.h"
#include "geoblock.skel.h"
/* Loads the kept copy of the GeoIP database unless a table is loaded already. */
static int restore_geoip(const struct gb_ctx *ctx)
{
	struct geoip_info info = {};
	struct state_geoip_conf conf;
	struct geoip_table t;
	char paths[GEOIP_MAX_FILES][512], *argv[GEOIP_MAX_FILES], err_msg[1024];
	__u64 keep[GB_COUNTRY_WORDS];
	bool have_keep;
	__u32 zero = 0;
	int err;

	bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.geoip_info), &zero, &info);
	if (info.loaded_at) {
		printf("geoip: a table is loaded already (%s)\n", info.source);
		return 0;
	}
	err = state_geoip_conf_read(ctx, &conf);
	if (err == -ENOENT) {
		printf("geoip: none recorded (no 'geoip load' yet); traffic passes until one\n");
		return 0;
	}
	if (err) {
		gb_err("cannot read %s/%s: %s", ctx->state_dir, STATE_GEOIP_CONF, strerror(-err));
		return err;
	}
	if (conf.bad_line)
		gb_warn("%s/%s line %u is not understood; loading with field %s, %d file%s%s",
			ctx->state_dir, STATE_GEOIP_CONF, conf.bad_line, conf.field, conf.files,
			conf.files == 1 ? "" : "s", conf.with_lpm ? ", with LPM tries" : "");
	for (int i = 0; i < conf.files; i++) {
		char name[64];

		state_geoip_copy_name(name, sizeof(name), i);
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", ctx->state_dir, name);
		argv[i] = paths[i];
	}
	err = geoip_read_files(argv, conf.files, conf.field, &t, err_msg, sizeof(err_msg));
	if (err) {
		gb_err("cannot reload the GeoIP table: %s", err_msg);
		return err;
	}
	/*
	 * Compiled for the meetings in the maps (none after a reboot: restore_rules grows it for
	 * its own), or for every country if those cannot be read.
	 */
	have_keep = !live_countries_read(ctx, keep);
	err = table_install_checked(ctx, &t, conf.source, conf.with_lpm, have_keep ? keep : NULL,
				    NULL);
	if (!err)
		countries_census_record(ctx);	/* best effort: each change counts without it */
	if (!err)
		printf("geoip: loaded %s (kept cop%s of %s): %zu IPv4 and %zu IPv6 prefixes\n",
		       paths[0], conf.files > 1 ? "ies" : "y", conf.source, t.v4.n, t.v6.n);
	geoip_table_free(&t);
	return err;
}

static void say_left_out(void *arg, const char *what)
{
	(void)arg;
	gb_warn("left out: %s", what);
}

/* Whether NAME.damaged-STAMP exists. */
static bool kept_as(const struct gb_ctx *ctx, const char *name, const char *stamp)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.damaged-%s", ctx->state_dir, name, stamp);
	return !access(path, F_OK);
}

/* A file of the saved set as it was, before it is written anew: kept as NAME.damaged-STAMP. */
static int keep_copy(const struct gb_ctx *ctx, const char *name, const char *stamp)
{
	char path[512], copy[64], *buf;
	size_t len;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = gb_read_all(fd, &buf, &len);
	close(fd);
	snprintf(copy, sizeof(copy), "%s.damaged-%s", name, stamp);
	if (!err)
		err = gb_write_file_atomic(ctx->state_dir, copy, buf, len);
	free(buf);
	if (err)
		gb_err("cannot keep a copy of %s as %s/%s: %s", path, ctx->state_dir, copy,
		       strerror(-err));
	else
		printf("rules: %s as it was is kept as %s/%s\n", path, ctx->state_dir, copy);
	return err;
}

/* Whether the maps hold any meeting (not a reboot's new, empty maps); a set if they are whole. */
static int live_meetings(const struct gb_ctx *ctx, bool *any, struct spec_list *live)
{
	struct rules r;
	int err;

	*any = false;
	memset(live, 0, sizeof(*live));
	err = rules_read(ctx, &r);
	if (err)
		return err;
	for (__u32 id = 1; id < GB_MAX_MEETINGS && !*any; id++)
		*any = r.policies[id].flags & GB_MEETING_ACTIVE;
	err = *any ? rules_specs(&r, live) : 0;
	rules_free(&r);
	return err;
}

/*
 * A damaged saved rule set (lines left out, said on stderr) written anew, its files as they were
 * kept first (never over an earlier copy): from the maps if they hold meetings (restore without a
 * reboot: they are what was enforced), else from what could be read, which restore then puts back.
 */
static int write_saved_anew(const struct gb_ctx *ctx, const struct spec_list *want, bool *any)
{
	struct spec_list live;
	char msg[512], stamp[32];
	time_t now = time(NULL);
	int err;

	err = live_meetings(ctx, any, &live);
	if (err) {
		gb_err("cannot read the maps: %s", strerror(-err));
		return err;
	}
	/* Two versions of a meeting (a change died midway): the maps are not a whole set either. */
	if (*any && spec_list_check(&live, msg, sizeof(msg))) {
		gb_err("the saved rule set in %s is damaged and the maps hold a change that died midway "
		       "(%s): both left as they are; 'geoblock apply' the set meant", ctx->state_dir,
		       msg);
		spec_list_free(&live);
		return -EAGAIN;
	}
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
	for (int k = 2; kept_as(ctx, GB_RULES_FILE, stamp) || kept_as(ctx, GB_LOG_FILE, stamp); k++)
		snprintf(stamp + 16, sizeof(stamp) - 16, "-%d", k);
	err = keep_copy(ctx, GB_RULES_FILE, stamp);
	if (!err)
		err = keep_copy(ctx, GB_LOG_FILE, stamp);
	if (!err)
		err = rules_save_specs(ctx, *any ? &live : want);
	if (!err)
		printf("rules: %s/%s written anew from %s\n", ctx->state_dir, GB_RULES_FILE,
		       *any ? "the maps (they hold meetings: what was enforced)" :
		       "what could be read");
	spec_list_free(&live);
	return err;
}

/* Why apply would refuse saved meeting s's line (1, in why), else 0; census NULL: not known. */
static int refused_line(const struct meeting_spec *s, const struct country_census *census,
			char *why, size_t len)
{
	char *line = spec_format(s, true);
	struct meeting_spec again;
	int ret;

	if (!line)
		return 0;
	ret = spec_parse_line(line, time(NULL), 0, &again, why, len);
	free(line);
	if (!ret)
		spec_free(&again);
	return ret || (census && countries_check(census, s->blocked, why, len));
}

/*
 * Saved meetings whose line a change would refuse (a rules file edited by hand to block ZZ; XK
 * while no GeoIP table uses it; a name taken before it was refused): taken as saved, each said in
 * one line. Those expired are left out: restore deletes them. ctx NULL (restore --print): the
 * pins opened to read, if there are any (none after a reboot: no table loaded).
 */
static void warn_refused(const struct gb_ctx *ctx, const struct spec_list *l)
{
	static struct country_census c;	/* 5 KiB */
	const struct country_census *census = &c;
	struct gb_ctx own;
	char why[512];

	memset(&c, 0, sizeof(c));
	if (!ctx) {
		pins_init(&own);
		if (access(own.pin_dir, F_OK))
			;	/* nothing pinned: no table loaded */
		else if (!gb_open(&own, GB_OPEN_READ | GB_OPEN_EMPTY_OK))
			ctx = &own;
		else
			census = NULL;
	}
	if (ctx && countries_census(ctx, &c))
		census = NULL;
	for (size_t i = 0; i < l->n; i++)
		if (!spec_expired(&l->v[i], time(NULL)) &&
		    refused_line(&l->v[i], census, why, sizeof(why)))
			gb_warn("saved meeting \"%s\": apply would refuse its line: %s",
				l->v[i].name, why);
	if (ctx == &own)
		gb_close(&own);
}

static int restore_rules(const struct gb_ctx *ctx, struct json_object *changes)
{
	struct salvage sv = { .left_out = say_left_out };
	long long audit_at = -1;
	struct spec_list want;
	bool from_maps = false;
	struct rules r;
	char msg[512];
	int err, expired, n = 0;

	/* Nothing saved: no change was ever made here; the maps are not this state dir's to empty. */
	if (!changelog_saved_any(ctx)) {
		printf("rules: none recorded\n");
		return 0;
	}
	/*
	 * Read salvaging: a line that cannot be taken is left out rather than leave every meeting
	 * unenforced; the set is then written anew, and read whole below.
	 */
	err = changelog_read(ctx, &sv, &want, msg, sizeof(msg));
	if (err) {
		gb_err("%s", msg);
		return err;
	}
	/*
	 * An expiry pass that died midway, its intent in the log written anew below: logged again
	 * after it, so that the recovery keeps deleted what the pass audited (none audited twice).
	 */
	if (sv.n && changelog_expiry_under_way(ctx, &audit_at) <= 0)
		audit_at = -1;
	err = sv.n ? write_saved_anew(ctx, &want, &from_maps) : 0;
	if (!err && audit_at >= 0 && (err = changelog_intent_expiry(ctx, audit_at)))
		gb_err("cannot log again, in %s/%s, the expiry pass that died midway: %s",
		       ctx->state_dir, GB_LOG_FILE, strerror(-err));
	warn_refused(ctx, &want);
	spec_list_free(&want);
	if (!err)
		err = rules_begin(ctx, &r, false, NULL);
	if (!err) {
		err = rules_recover(ctx, &r, changes);
		rules_free(&r);
	}
	if (err && sv.n)
		gb_err("%u line%s of the saved rule set left out (said above), and nothing restored",
		       sv.n, sv.n == 1 ? "" : "s");
	if (err)
		return err;
	/* Meetings whose time passed while the machine was down: deleted, audited. */
	expired = rules_expire(ctx);
	if (expired < 0)
		return expired;
	err = rules_read(ctx, &r);
	if (err)
		return err;
	/* Best effort: a stale record is ignored on read too, until its port is named again. */
	err = janus_ports_prune(ctx->state_dir, r.policies, r.owners);
	if (err)
		gb_warn("cannot drop the stale records of %s/%s: %s", ctx->state_dir,
			GB_JANUS_PORTS_FILE, strerror(-err));
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		n += !!(r.policies[id].flags & GB_MEETING_ACTIVE);
	rules_free(&r);
	printf("rules: %d meeting%s (%zu change%s", n, n == 1 ? "" : "s",
	       json_object_array_length(changes), json_object_array_length(changes) == 1 ? "" : "s");
	if (expired)
		printf(", %d expired meeting%s deleted", expired, expired == 1 ? "" : "s");
	printf(")\n");
	if (sv.n) {
		gb_err("%u line%s of the saved rule set left out (said above); %s", sv.n,
		       sv.n == 1 ? "" : "s", from_maps ? "the maps are kept, and saved as they are" :
		       "the rest is restored");
		return -EAGAIN;
	}
	return 0;
}

/* The saved shared ports, before the rules: a port is either shared or a meeting's. */
static int restore_shared(const struct gb_ctx *ctx)
{
	static char text[GB_PORT_COUNT * 7];
	__u8 want[GB_PORT_COUNT / 8], live[GB_PORT_COUNT / 8];
	struct rules r;
	int err, damaged, owned, werr;

	/* Damaged items are left out (named): the others are still put back. */
	damaged = shared_ports_read(ctx, want, true);
	if (damaged && damaged != -EINVAL)
		return damaged;
	err = rules_read(ctx, &r);
	if (err)
		return err;
	/* A damaged file takes no port live now (restore without a reboot) away: it only adds. */
	if (damaged) {
		shared_ports_live(&r, live);
		for (size_t i = 0; i < sizeof(want); i++)
			want[i] |= live[i];
	}
	owned = shared_ports_unowned(ctx, want);
	err = shared_ports_set(ctx, &r, want);
	rules_free(&r);
	/* The record made what the maps hold, so that the next restore agrees with it. */
	if (!err && owned && (werr = shared_ports_write(ctx, want))) {
		gb_err("cannot write %s/%s: %s; the shared ports are set", ctx->state_dir,
		       STATE_SHARED_FILE, strerror(-werr));
		return werr;
	}
	if (err == -EEXIST)
		gb_err("a port of %s/%s belongs to a meeting: 'geoblock shared-port del' it or "
		       "move the meeting", ctx->state_dir, STATE_SHARED_FILE);
	else if (err && err != -EOPNOTSUPP)
		gb_err("cannot set the shared ports: %s", strerror(-err));
	if (!err && port_next(want, 1) < GB_PORT_COUNT) {
		format_ports(want, text, sizeof(text));
		printf("shared ports: %s\n", text);
	}
	return err ? err : damaged ? damaged : owned ? -EEXIST : 0;
}

static int restore_attachments(const struct gb_ctx *ctx)
{
	struct state_attachment *v;
	size_t n;
	int err, failed = 0;

	err = state_attachments_read(ctx, &v, &n);
	if (err) {
		gb_err("cannot read %s/%s: %s", ctx->state_dir, STATE_ATTACH_FILE, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n; i++) {
		if (attach_live(ctx, v[i].ifname)) {
			printf("attached to %s already\n", v[i].ifname);
			continue;
		}
		if (attach_iface(v[i].ifname, v[i].mode, v[i].lookup, true))
			failed++;
	}
	free(v);
	return failed ? -EAGAIN : 0;
}

/* A line restore would leave out: a comment, and said on stderr. */
static void print_left_out(void *arg, const char *what)
{
	(void)arg;
	printf("# left out: %s\n", what);
	say_left_out(NULL, what);
}

/* restore --print: the saved rule set, read without the lock (the pins only to warn). */
static int print_saved(void)
{
	struct salvage sv = { .left_out = print_left_out };
	struct spec_list want;
	struct gb_ctx ctx;
	char err_msg[512];
	int damaged, owned;

	static char text[GB_PORT_COUNT * 7];
	__u8 shared[GB_PORT_COUNT / 8];

	pins_init(&ctx);
	if (changelog_read(&ctx, &sv, &want, err_msg, sizeof(err_msg))) {
		gb_err("%s", err_msg);
		return GB_EXIT_FAIL;
	}
	/* Damaged items are left out, as restore leaves them out: said, and the rest printed. */
	damaged = shared_ports_read(&ctx, shared, true);
	if (damaged && damaged != -EINVAL) {
		spec_list_free(&want);
		return GB_EXIT_FAIL;
	}
	owned = shared_ports_unowned(&ctx, shared);
	warn_refused(NULL, &want);
	/* Not a line apply takes, but part of what restore puts back: said as a comment. */
	if (port_next(shared, 1) < GB_PORT_COUNT) {
		format_ports(shared, text, sizeof(text));
		printf("# shared ports: %s (geoblock shared-port add %s)\n", text, text);
	}
	for (size_t i = 0; i < want.n; i++) {
		char *line = spec_format(&want.v[i], false);
		/* apply refuses an expiry past: such a meeting is a comment, as it blocks nothing. */
		bool over = spec_expired(&want.v[i], time(NULL));

		if (line)
			printf("%s%s\n", over ? "# expired, left out: " : "", line);
		free(line);
	}
	spec_list_free(&want);
	if (sv.n)
		gb_err("%u line%s of the saved rule set left out (said above, as restore would)",
		       sv.n, sv.n == 1 ? "" : "s");
	return sv.n || damaged || owned ? GB_EXIT_FAIL : GB_EXIT_OK;
}

int cmd_restore(const struct cmd_args *a)
{
	struct json_object *changes;
	struct gb_ctx ctx;
	int err, ret = GB_EXIT_FAIL;

	if (a->opt[OPT_PRINT])
		return print_saved();
	changes = json_object_new_array();
	if (gb_open(&ctx, GB_OPEN_LOCKED)) {
		json_object_put(changes);
		return GB_EXIT_FAIL;
	}
	/* Table and rules first: an interface is filtered from its first packet. */
	err = restore_geoip(&ctx);
	if (restore_shared(&ctx))
		err = -EAGAIN;
	if (restore_rules(&ctx, changes))
		err = -EAGAIN;
	if (restore_attachments(&ctx))
		err = -EAGAIN;
	if (err && !*gb_last_error())
		gb_err("restore incomplete");
	if (!audit_result(&ctx, NULL, err, changes) && !err) {
		printf("restored from %s\n", ctx.state_dir);
		ret = GB_EXIT_OK;
	}
	gb_close(&ctx);
	return ret;
}
