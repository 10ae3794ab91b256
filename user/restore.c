// SPDX-License-Identifier: GPL-2.0
/*
 * `restore`: after a reboot (pins gone, state dir kept) re-creates the maps, reloads the GeoIP
 * table from the copy kept in the state dir, the rules from the rules file, and the attachments;
 * and the records that make it possible, written as attachments and tables change.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "common.h"
#include "meeting.h"
#include "geoblock.skel.h"

#define ATTACH_FILE	"attachments"
#define GEOIP_COPY	"geoip.db"
#define GEOIP_CONF	"geoip.conf"

struct attachment {
	char ifname[IF_NAMESIZE];
	char mode[16];
	char lookup[16];
};

/* The attachments file: "IFACE MODE LOOKUP" lines. */
static int read_attachments(const struct gb_ctx *ctx, struct attachment **out, size_t *n)
{
	char path[512], *line = NULL;
	size_t cap = 0, vcap = 0;
	FILE *f;
	int err = 0;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, ATTACH_FILE);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &cap, f) >= 0) {
		struct attachment a = {};

		if (line[0] == '#' || sscanf(line, "%15s %15s %15s", a.ifname, a.mode, a.lookup) != 3)
			continue;
		if (*n == vcap) {
			struct attachment *v = realloc(*out, (vcap = vcap ? vcap * 2 : 8) * sizeof(*v));

			if (!v) {
				err = -ENOMEM;
				break;
			}
			*out = v;
		}
		(*out)[(*n)++] = a;
	}
	free(line);
	fclose(f);
	return err;
}

static bool has_attachment(const struct attachment *v, size_t n, const char *ifname)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].ifname, ifname))
			return true;
	return false;
}

int state_attachment_recorded(const struct gb_ctx *ctx, const char *ifname)
{
	struct attachment *v;
	size_t n;
	int err, found = 0;

	err = read_attachments(ctx, &v, &n);
	if (!err)
		found = has_attachment(v, n, ifname);
	free(v);
	return err ? err : found;
}

int state_attachment_set(const struct gb_ctx *ctx, const char *ifname, const char *mode,
			 const char *lookup)
{
	struct attachment *v;
	char *buf = NULL;
	size_t n, len = 0;
	int err, found = 0;
	FILE *f;

	err = read_attachments(ctx, &v, &n);
	if (err)
		goto out;
	found = has_attachment(v, n, ifname);
	if (!found && !mode)
		goto out;
	f = open_memstream(&buf, &len);
	if (!f) {
		err = -ENOMEM;
		goto out;
	}
	fprintf(f, "# geoblock attachments (interface, mode, lookup), for restore\n");
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].ifname, ifname))
			fprintf(f, "%s %s %s\n", v[i].ifname, v[i].mode, v[i].lookup);
	if (mode)
		fprintf(f, "%s %s %s\n", ifname, mode, lookup);
	if (fclose(f))
		err = -ENOMEM;
	if (!err)
		err = gb_write_file_atomic(ctx->state_dir, ATTACH_FILE, buf, len);
out:
	if (err)
		gb_err("cannot record the attachment in %s/%s: %s", ctx->state_dir, ATTACH_FILE,
		       strerror(-err));
	free(buf);
	free(v);
	return err ? err : found;
}

/* The same file, unchanged: the inode, its size and its modification time. */
static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Copies src to dir/name: a temporary file, flushed, then renamed over the old copy. -ESTALE if
 * src is no longer the file that was loaded (want: its stat when the load began).
 */
static int copy_file_atomic(const char *src, const struct stat *want, const char *dir,
			    const char *name)
{
	char tmp[512], path[512], buf[1 << 16];
	int in, out, err = 0;
	off_t copied = 0;
	struct stat st;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (fstat(in, &st) || !same_file(&st, want)) {
		close(in);
		return -ESTALE;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		err = -errno;
		close(in);
		return err;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n && !err;) {
			ssize_t w = write(out, buf + off, n - off);

			if (w < 0)
				err = -errno;
			else
				off += w;
		}
		if (err)
			break;
		copied += n;
	}
	if (n < 0 && !err)
		err = -errno;
	/* Written to while copied: not the bytes that were loaded. */
	if (!err && (copied != want->st_size || fstat(in, &st) || !same_file(&st, want)))
		err = -ESTALE;
	if (!err && fsync(out))
		err = -errno;
	if (close(out) && !err)
		err = -errno;
	close(in);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	return gb_sync_dir(dir);
}

/* Name of the kept copy of file i of the loaded table: geoip.db, geoip.db.1, ... */
static void copy_name(char *out, size_t len, int i)
{
	if (i)
		snprintf(out, len, "%s.%d", GEOIP_COPY, i);
	else
		snprintf(out, len, "%s", GEOIP_COPY);
}

int state_geoip_loaded(const struct gb_ctx *ctx, char *const *paths, const struct stat *ids, int n,
		       const char *source, const char *field, bool with_lpm)
{
	__u32 zero = 0, id;
	char *conf = NULL, name[64];
	int err = 0, len;

	/* Once the LPM tries exist, every load keeps them (table_install): so must restore. */
	with_lpm = with_lpm ||
		   !bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.country_v4), &zero, &id) ||
		   !bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.country_v6), &zero, &id);
	for (int i = 0; i < n && !err; i++) {
		copy_name(name, sizeof(name), i);
		err = copy_file_atomic(paths[i], &ids[i], ctx->state_dir, name);
		if (err == -ESTALE)
			gb_err("table loaded, but %s changed while it was read, so no copy of it is "
			       "kept for restore: load it again", paths[i]);
		else if (err)
			gb_err("table loaded, but cannot keep a copy in %s/%s for restore: %s",
			       ctx->state_dir, name, strerror(-err));
	}
	if (err)
		goto out;
	len = asprintf(&conf, "# geoblock: the GeoIP table restore loads (from the copies %s...)\n"
		       "field %s\nwith_lpm %d\nfiles %d\nsource %s\n", GEOIP_COPY, field, with_lpm,
		       n, source);
	if (len < 0) {
		conf = NULL;
		err = -ENOMEM;
	} else {
		err = gb_write_file_atomic(ctx->state_dir, GEOIP_CONF, conf, len);
	}
	if (err)
		gb_err("table loaded, but cannot record it in %s/%s: %s", ctx->state_dir,
		       GEOIP_CONF, strerror(-err));
out:
	if (audit_result(ctx, NULL, err, NULL) && !err)
		err = -EIO;
	free(conf);
	return err;
}

struct geoip_conf {
	char field[32];
	char source[256];
	bool with_lpm;
	int files;
};

static int read_geoip_conf(const struct gb_ctx *ctx, struct geoip_conf *c)
{
	char path[512], *line = NULL;
	size_t cap = 0;
	FILE *f;
	int v;

	memset(c, 0, sizeof(*c));
	snprintf(c->field, sizeof(c->field), "country");
	c->files = 1;
	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, GEOIP_CONF);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) >= 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "source ", 7))
			snprintf(c->source, sizeof(c->source), "%s", line + 7);
		else if (sscanf(line, "field %31s", c->field) == 1)
			continue;
		else if (sscanf(line, "with_lpm %d", &v) == 1)
			c->with_lpm = v;
		else if (sscanf(line, "files %d", &v) == 1 && v >= 1 && v <= GEOIP_MAX_FILES)
			c->files = v;
	}
	free(line);
	fclose(f);
	return 0;
}

int state_geoip_how(const struct gb_ctx *ctx, char *field, size_t len, bool *with_lpm)
{
	struct geoip_conf conf;
	int err = read_geoip_conf(ctx, &conf);

	snprintf(field, len, "%s", conf.field);
	*with_lpm = conf.with_lpm;
	return err;
}

/* Loads the kept copy of the GeoIP database unless a table is loaded already. */
static int restore_geoip(const struct gb_ctx *ctx)
{
	struct geoip_info info = {};
	struct geoip_conf conf;
	struct geoip_table t;
	char paths[GEOIP_MAX_FILES][512], *argv[GEOIP_MAX_FILES], err_msg[1024];
	__u32 zero = 0;
	int err;

	bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.geoip_info), &zero, &info);
	if (info.loaded_at) {
		printf("geoip: a table is loaded already (%s)\n", info.source);
		return 0;
	}
	err = read_geoip_conf(ctx, &conf);
	if (err == -ENOENT) {
		printf("geoip: none recorded (no 'geoip load' yet); traffic passes until one\n");
		return 0;
	}
	if (err) {
		gb_err("cannot read %s/%s: %s", ctx->state_dir, GEOIP_CONF, strerror(-err));
		return err;
	}
	for (int i = 0; i < conf.files; i++) {
		char name[64];

		copy_name(name, sizeof(name), i);
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", ctx->state_dir, name);
		argv[i] = paths[i];
	}
	err = geoip_read_files(argv, conf.files, conf.field, &t, err_msg, sizeof(err_msg));
	if (err) {
		gb_err("cannot reload the GeoIP table: %s", err_msg);
		return err;
	}
	err = table_install(ctx, &t, conf.source, conf.with_lpm);
	if (!err)
		printf("geoip: loaded %s (kept cop%s of %s): %zu IPv4 and %zu IPv6 prefixes\n",
		       paths[0], conf.files > 1 ? "ies" : "y", conf.source, t.v4.n, t.v6.n);
	geoip_table_free(&t);
	return err;
}

static int restore_rules(const struct gb_ctx *ctx, struct json_object *changes)
{
	char path[512];
	struct rules r;
	int err, expired, n = 0;

	/* No rules file: no change was ever made here; the maps are not this state dir's to empty. */
	snprintf(path, sizeof(path), "%s/rules", ctx->state_dir);
	if (access(path, F_OK)) {
		printf("rules: none recorded\n");
		return 0;
	}
	err = rules_begin(ctx, &r, false);
	if (err)
		return err;
	err = rules_recover(ctx, &r, changes);
	rules_free(&r);
	if (err)
		return err;
	/* Meetings whose time passed while the machine was down: deleted, audited. */
	expired = rules_expire(ctx);
	if (expired < 0)
		return expired;
	err = rules_read(ctx, &r);
	if (err)
		return err;
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		n += !!(r.policies[id].flags & GB_MEETING_ACTIVE);
	rules_free(&r);
	printf("rules: %d meeting%s (%zu change%s", n, n == 1 ? "" : "s",
	       json_object_array_length(changes), json_object_array_length(changes) == 1 ? "" : "s");
	if (expired)
		printf(", %d expired meeting%s deleted", expired, expired == 1 ? "" : "s");
	printf(")\n");
	return 0;
}

static int restore_attachments(const struct gb_ctx *ctx)
{
	struct attachment *v;
	size_t n;
	int err, failed = 0;

	err = read_attachments(ctx, &v, &n);
	if (err) {
		gb_err("cannot read %s/%s: %s", ctx->state_dir, ATTACH_FILE, strerror(-err));
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

int cmd_restore(int argc, char **argv)
{
	struct json_object *changes = json_object_new_array();
	struct gb_ctx ctx;
	int err, ret = GB_EXIT_FAIL;

	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: geoblock restore\n"
		       "  re-creates what the state dir records, after a reboot or a lost pin dir: the\n"
		       "  maps, the GeoIP table (from the copy kept at 'geoip load'), the rules (from\n"
		       "  the rules file) and the attachments. What exists already is kept.\n");
		json_object_put(changes);
		return GB_EXIT_OK;
	}
	if (argc != 1) {
		gb_err("unexpected argument \"%.64s\"; usage: restore", argv[1]);
		json_object_put(changes);
		return GB_EXIT_USAGE;
	}
	if (gb_open(&ctx, GB_OPEN_LOCKED)) {
		json_object_put(changes);
		return GB_EXIT_FAIL;
	}
	/* Table and rules first: an interface is filtered from its first packet. */
	err = restore_geoip(&ctx);
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
