// SPDX-License-Identifier: GPL-2.0
/* `geoip load` and `geoip lookup`: compile a database into the kernel table, ask the table. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "geoip/geoip.h"
#include "kern/geoip_sanity.h"
#include "kern/pins.h"
#include "kern/live_table.h"
#include "kern/maps.h"
#include "kern/table.h"
#include "kern/table_view.h"
#include "state/context.h"
#include "state/countries.h"
#include "state/geoip_kept.h"
#include "state/records.h"
#include "cli/cmd.h"
#include "cli/geoip.h"
#include "cli/output.h"
#include "geoblock.skel.h"

static int parse_percent(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 100))
		return -EINVAL;
	*out = v;
	return 0;
}

/* path made absolute, its symlinks left as they are (a watched path names what replaces it). */
static const char *absolute(const char *path, char *out, size_t len)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		return path;
	snprintf(out, len, "%s/%s", cwd, path);
	return out;
}

/* "A B C" for messages and the table's description, cut short to fit; resolved: by realpath. */
static void join_paths(char *const *paths, int n, bool resolved, char *out, size_t outlen)
{
	char abs[PATH_MAX + 2];
	size_t len = 0;

	out[0] = '\0';
	/* Absolute: status, geoip.conf and the metrics' label outlive the caller's directory. */
	for (int i = 0; i < n && len < outlen; i++)
		len += snprintf(out + len, outlen - len, "%s%s", i ? " " : "",
				!resolved ? absolute(paths[i], abs, sizeof(abs)) :
				realpath(paths[i], abs) ? abs : paths[i]);
}

/*
 * Counts a refused load in geoip_info, where the metrics exporter reads it (failed reloads, last
 * failure time). Best effort: the load has already failed and said why. ctx: an open, locked
 * context, or NULL to open one.
 */
static void count_failure(struct gb_ctx *ctx)
{
	char pin[PATH_MAX];
	struct geoip_info info;
	struct gb_ctx own;
	__u32 zero = 0;
	int fd;

	if (!ctx) {
		/* Nothing pinned (a reboot before restore): no count to keep, and no pins made. */
		pins_init(&own);
		snprintf(pin, sizeof(pin), "%s/geoip_info", own.pin_dir);
		if (access(pin, F_OK) || gb_open(&own, GB_OPEN_LOCKED))
			return;
		ctx = &own;
	}
	fd = bpf_map__fd(ctx->skel->maps.geoip_info);
	if (!bpf_map_lookup_elem(fd, &zero, &info)) {
		info.failed_reloads++;
		info.last_failure_at = time(NULL);
		bpf_map_update_elem(fd, &zero, &info, BPF_ANY);
	}
	if (ctx == &own)
		gb_close(&own);
}

/* What a load runs beside the build: the shrink check, then the copies staged for restore. */
struct load_run {
	struct gb_ctx *ctx;
	const struct geoip_table *t;
	bool force;
	double max_shrink;
	char err[1024];
	bool refused, staged;
	struct geoip_kept_load kept;
};

static int check_shrink(void *arg)
{
	struct load_run *r = arg;

	if (r->force)
		return 0;
	r->refused = geoip_check_shrink(r->ctx, r->t, r->max_shrink, r->err, sizeof(r->err)) != 0;
	return r->refused ? -EINVAL : 0;
}

static int stage_copies(void *arg, const __u32 net_ids[2])
{
	struct load_run *r = arg;
	int err = geoip_kept_stage(r->ctx, &r->kept, net_ids);

	r->staged = !err;
	return err;
}

/*
 * A warning line per live meeting that blocks a country the table just loaded has no network in,
 * in the words of the meeting commands: it blocks nothing from there.
 */
static void warn_meetings(const struct gb_ctx *ctx)
{
	static struct country_census census;	/* 5 KiB */
	struct map_view view;

	if (countries_census(ctx, &census) ||
	    map_view_open(bpf_map__fd(ctx->skel->maps.meeting_policy), GB_MAX_MEETINGS,
			  sizeof(struct meeting_policy), &view))
		return;
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		const struct meeting_policy *p = MAP_VIEW_ELEM(&view, id);

		if (p->flags & GB_MEETING_ACTIVE && p->name[0] &&
		    strnlen(p->name, sizeof(p->name)) < sizeof(p->name))
			countries_warn(&census, p->blocked, p->name);
	}
	map_view_close(&view);
}

/* The whole of `geoip load` once its options are read; returns an exit status. */
static int load_files(char *const *paths, int n, const char *field, double max_shrink, bool force,
		      bool with_lpm, const char *reason, bool resolve)
{
	struct load_run run = { .max_shrink = max_shrink, .force = force };
	struct table_hooks hooks = { check_shrink, stage_copies, &run };
	char err[1024], source[256];
	struct stat ids[GEOIP_MAX_FILES];
	__u64 keep[GB_COUNTRY_WORDS];
	struct geoip_table t;
	char recorded_field[32];
	struct gb_ctx ctx;
	int ret = GB_EXIT_FAIL;
	bool installed, have_keep;

	if (n > GEOIP_MAX_FILES) {
		gb_err("at most %d files make one table", GEOIP_MAX_FILES);
		return GB_EXIT_USAGE;
	}
	/* Recorded one a line for restore (geoip.conf): a newline in one would be read as another. */
	for (int i = 0; i < n; i++)
		if (strchr(paths[i], '\n')) {
			gb_err("a path with a newline cannot be recorded for restore; rename the file");
			return GB_EXIT_USAGE;
		}
	join_paths(paths, n, resolve, source, sizeof(source));
	/* What is loaded is kept (restore loads the copy): a pipe could not be read twice. */
	for (int i = 0; i < n; i++) {
		if (stat(paths[i], &ids[i])) {
			gb_err("cannot open %s: %s; the loaded table is unchanged", paths[i],
			       strerror(errno));
			count_failure(NULL);
			return GB_EXIT_FAIL;
		}
		if (!S_ISREG(ids[i].st_mode) && !S_ISDIR(ids[i].st_mode)) {	/* a dir: the reader says */
			gb_err("%s is not a regular file (a copy of what is loaded is kept for "
			       "restore): save it to a file first; the loaded table is unchanged",
			       paths[i]);
			count_failure(NULL);
			return GB_EXIT_FAIL;
		}
	}
	/* Read and compile before taking the lock: the live table is untouched until the swap. */
	if (geoip_read_files(paths, n, field, &t, err, sizeof(err))) {
		gb_err("%s; the loaded table is unchanged", err);
		count_failure(NULL);
		return GB_EXIT_FAIL;
	}
	if (geoip_table_empty(&t)) {
		gb_err("%s has no network with a %s code; the loaded table is unchanged", source,
		       field);
		count_failure(NULL);
		goto out_free;
	}
	if (gb_open(&ctx, GB_OPEN_LOCKED))
		goto out_free;
	/*
	 * Once built, the LPM tries are kept: also by a load onto pins made anew (a reboot before
	 * restore), which has none to see, so that restore can attach an interface that reads them.
	 */
	if (!with_lpm && state_geoip_how(&ctx, recorded_field, sizeof(recorded_field), &with_lpm))
		with_lpm = false;
	run.ctx = &ctx;
	run.t = &t;
	run.kept = (struct geoip_kept_load){ paths, ids, n, &t, source, field, with_lpm };
	/*
	 * Compared under the lock, against the table this load would replace; the data path's
	 * table tells apart the live meetings' countries (all of them if those cannot be read).
	 * The copies for restore are staged before the switch and put in place after it.
	 */
	have_keep = !live_countries_read(&ctx, keep);
	installed = !table_install_checked(&ctx, &t, source, with_lpm, have_keep ? keep : NULL,
					   &hooks);
	/* Staged, then the switch failed: which table is live decides which copy stays. */
	if (!installed && run.staged)
		geoip_kept_settle(&ctx, true);
	/* Its networks per country, counted once for every later change (best effort). */
	if (installed)
		countries_census_record(&ctx);
	if (installed && !geoip_kept_commit(&ctx, reason)) {
		printf("loaded %s: %zu IPv4 prefixes (%zu networks), %zu IPv6 prefixes (%zu networks)\n",
		       source, t.v4.n, t.v4.added, t.v6.n, t.v6.added);
		fflush(stdout);
		warn_meetings(&ctx);
		ret = GB_EXIT_OK;
	} else if (!installed) {
		/* The daemon has no --force: it names the command that has. */
		if (run.refused && reason)
			gb_err("%s: %s; run 'geoblock geoip load --force %s' to load it anyway; "
			       "the loaded table is unchanged", source, run.err, source);
		else if (run.refused)
			gb_err("%s: %s; pass --force to load it anyway; the loaded table is unchanged",
			       source, run.err);
		count_failure(&ctx);
	}
	gb_close(&ctx);
out_free:
	geoip_table_free(&t);
	return ret;
}

int geoip_reload(const struct gb_ctx *ctx, char *const *paths, int n)
{
	char field[32];
	bool with_lpm;

	/* As the table was loaded last: --field and --with-lpm carry over. */
	state_geoip_how(ctx, field, sizeof(field), &with_lpm);
	return load_files(paths, n, field, strtod(GEOIP_MAX_SHRINK_DEFAULT, NULL), false,
			  with_lpm, "reloaded by the daemon: --watch saw a file replaced", false) ?
	       -EINVAL : 0;
}

int cmd_geoip_load(const struct cmd_args *a)
{
	double max_shrink;

	if (parse_percent(a->opt[OPT_MAX_SHRINK], &max_shrink)) {
		gb_err("--max-shrink \"%.32s\" is not a percentage from 0 to 100",
		       a->opt[OPT_MAX_SHRINK]);
		return GB_EXIT_USAGE;
	}
	return load_files(a->pos, a->npos, a->opt[OPT_FIELD], max_shrink, a->opt[OPT_FORCE],
			  a->opt[OPT_WITH_LPM], NULL, true);
}

static int parse_addr(const char *s, __u8 addr[16], int *family)
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = 6;
		return 0;
	}
	return -EINVAL;
}

static void print_match(const char *addr_str, const struct table_match *m, bool found, bool json)
{
	char cc[3], net[INET6_ADDRSTRLEN + 8] = "";
	struct json_object *o;

	country_code(found ? m->country : GB_COUNTRY_NONE, cc);
	if (found && m->country == GB_COUNTRY_OTHER)
		strcpy(cc, "**");	/* --from table: a country no live meeting names */
	if (!json) {
		printf("%s %s\n", addr_str, cc);
		return;
	}
	if (found && m->family) {
		/* The matched network, in the family of the table that answered (IPv4 for an alias). */
		int bits = m->family == 4 ? 32 : 128;
		char buf[INET6_ADDRSTRLEN];
		__u8 a[16];

		memcpy(a, m->addr, sizeof(a));
		for (int b = m->prefixlen; b < bits; b++)
			a[b / 8] &= ~(0x80 >> (b % 8));
		inet_ntop(m->family == 4 ? AF_INET : AF_INET6, a, buf, sizeof(buf));
		snprintf(net, sizeof(net), "%s/%d", buf, m->prefixlen);
	}
	o = json_object_new_object();
	json_object_object_add(o, "address", json_object_new_string(addr_str));
	json_object_object_add(o, "country", found ? json_object_new_string(cc) : NULL);
	json_object_object_add(o, "prefix", *net ? json_object_new_string(net) : NULL);
	print_json_line(o);
}

/* Answers one address; returns 0, or -EINVAL when s is not an address. */
static int lookup_one(const struct table_view *v, enum table_from from, const char *s, bool json)
{
	struct table_match m;
	__u8 addr[16] = {};
	int family;

	if (parse_addr(s, addr, &family))
		return -EINVAL;
	print_match(s, &m, table_lookup(v, from, family, addr, &m) == 0, json);
	return 0;
}

int cmd_geoip_lookup(const struct cmd_args *a)
{
	bool json = a->opt[OPT_JSON], lpm = !strcmp(a->opt[OPT_FROM], "lpm");
	enum table_from from = lpm ? TABLE_FROM_LPM : !strcmp(a->opt[OPT_FROM], "table") ?
			       TABLE_FROM_LIVE : TABLE_FROM_NETWORKS;
	const char *what = a->pos[0];
	int err, ret = GB_EXIT_OK;
	struct table_view view;
	struct gb_ctx ctx;

	if (strcmp(what, "-")) {
		__u8 probe[16];
		int family;

		if (parse_addr(what, probe, &family)) {
			char shown[64 * 4 + 1];

			gb_err("\"%s\" is not an IPv4 or IPv6 address",
			       printable(what, strlen(what), 64, shown, sizeof(shown)));
			return GB_EXIT_USAGE;
		}
	}
	if (gb_open(&ctx, GB_OPEN_READ))
		return GB_EXIT_FAIL;
	err = table_open(&ctx, &view);
	if (!err && lpm && view.lpm[0] < 0 && view.lpm[1] < 0) {
		gb_err("no LPM tries loaded; load the database with 'geoip load --with-lpm'");
		table_close(&view);
		gb_close(&ctx);
		return GB_EXIT_FAIL;
	}
	if (err) {
		gb_err("cannot open the loaded GeoIP table: %s", strerror(-err));
		gb_close(&ctx);
		return GB_EXIT_FAIL;
	}
	if (strcmp(what, "-")) {
		lookup_one(&view, from, what, json);
	} else {
		unsigned long lineno = 0;
		char *line = NULL;
		size_t cap = 0;

		/* Whole lines, however long (a buffer's worth at a time made up lines). */
		while (getline(&line, &cap, stdin) >= 0) {
			/* The address, blanks around it left out: one a line. */
			char *addr = line + strspn(line, " \t");
			size_t len = strcspn(addr, " \t\r\n");
			bool more = addr[len + strspn(addr + len, " \t\r\n")];
			char shown[64 * 4 + 1];

			lineno++;
			addr[len] = '\0';
			if (!len)
				continue;
			if (more) {
				gb_err("line %lu: one address a line, more after \"%s\"", lineno,
				       printable(addr, len, 64, shown, sizeof(shown)));
				ret = GB_EXIT_USAGE;
			} else if (lookup_one(&view, from, addr, json)) {
				gb_err("line %lu: \"%s\" is not an IPv4 or IPv6 address", lineno,
				       printable(addr, len, 64, shown, sizeof(shown)));
				ret = GB_EXIT_USAGE;
			}
		}
		free(line);
	}
	table_close(&view);
	gb_close(&ctx);
	return ret;
}

/* Prints the networks of the loaded table, "PREFIX CC" per line, IPv4 then IPv6. */
int cmd_geoip_dump(const struct cmd_args *a)
{
	struct table_view v;
	struct gb_ctx ctx;
	int err;

	(void)a;	/* nothing to read: no arguments, no options */
	if (gb_open(&ctx, GB_OPEN_READ))
		return GB_EXIT_FAIL;
	err = table_open(&ctx, &v);
	if (err) {
		gb_err("cannot open the loaded GeoIP table: %s", strerror(-err));
		gb_close(&ctx);
		return GB_EXIT_FAIL;
	}
	for (int fam = 0; fam < 2; fam++) {
		size_t stride = fam ? 24 : 8, alen = fam ? 16 : 4;

		for (size_t i = 0; v.net[fam] && i < v.net_n[fam]; i++) {
			const __u8 *e = (const __u8 *)v.net[fam] + i * stride;
			char buf[INET6_ADDRSTRLEN], cc[3];
			__u16 country;

			memcpy(&country, e + alen + 2, 2);
			country_code(country, cc);
			inet_ntop(fam ? AF_INET6 : AF_INET, e, buf, sizeof(buf));
			printf("%s/%u %s\n", buf, e[alen], cc);
		}
	}
	table_close(&v);
	gb_close(&ctx);
	return GB_EXIT_OK;
}
