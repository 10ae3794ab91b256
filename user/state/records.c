// SPDX-License-Identifier: GPL-2.0
/*
 * The state dir's records besides the rules file: the attachments, and the copies of the GeoIP
 * files last loaded with how they were loaded; written as attachments and tables change, read by
 * `restore`.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "geoip/geoip.h"
#include "kern/pins.h"
#include "state/audit.h"
#include "state/records.h"
#include "geoblock.skel.h"


int state_attachments_read(const struct gb_ctx *ctx, struct state_attachment **out, size_t *n)
{
	char path[512], *line = NULL;
	size_t cap = 0, vcap = 0;
	FILE *f;
	int err = 0;

	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, STATE_ATTACH_FILE);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &cap, f) >= 0) {
		struct state_attachment a = {};

		/* A comment: '#' and a blank (a name may begin with '#', not hold a blank). */
		if ((line[0] == '#' && (!line[1] || isspace((unsigned char)line[1]))) ||
		    sscanf(line, "%15s %15s %15s", a.ifname, a.mode, a.lookup) != 3)
			continue;
		if (*n == vcap) {
			struct state_attachment *v = realloc(*out, (vcap = vcap ? vcap * 2 : 8) * sizeof(*v));

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

static bool has_attachment(const struct state_attachment *v, size_t n, const char *ifname)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].ifname, ifname))
			return true;
	return false;
}

int state_attachment_recorded(const struct gb_ctx *ctx, const char *ifname)
{
	struct state_attachment *v;
	size_t n;
	int err, found = 0;

	err = state_attachments_read(ctx, &v, &n);
	if (!err)
		found = has_attachment(v, n, ifname);
	free(v);
	return err ? err : found;
}

int state_attachment_set(const struct gb_ctx *ctx, const char *ifname, const char *mode,
			 const char *lookup)
{
	struct state_attachment *v;
	char *buf = NULL;
	size_t n, len = 0;
	int err, found = 0;
	FILE *f;

	err = state_attachments_read(ctx, &v, &n);
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
		err = gb_write_file_atomic(ctx->state_dir, STATE_ATTACH_FILE, buf, len);
out:
	if (err)
		gb_err("cannot record the attachment in %s/%s: %s", ctx->state_dir, STATE_ATTACH_FILE,
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
	char buf[1 << 16];
	struct atomic_file f;
	int in, err = 0;
	off_t copied = 0;
	struct stat st;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (fstat(in, &st) || !same_file(&st, want)) {
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
	if (!err && (copied != want->st_size || fstat(in, &st) || !same_file(&st, want)))
		err = -ESTALE;
	close(in);
	return atomic_file_commit(&f, err);
}

/* Name of the kept copy of file i of the loaded table: geoip.db, geoip.db.1, ... */
void state_geoip_copy_name(char *out, size_t len, int i)
{
	if (i)
		snprintf(out, len, "%s.%d", STATE_GEOIP_COPY, i);
	else
		snprintf(out, len, "%s", STATE_GEOIP_COPY);
}

int state_geoip_loaded(const struct gb_ctx *ctx, char *const *paths, const struct stat *ids, int n,
		       const char *source, const char *field, bool with_lpm,
		       const char *reason)
{
	__u32 zero = 0, id;
	char *conf = NULL, name[64];
	int err = 0, len;

	/* Once the LPM tries exist, every load keeps them (table_install): so must restore. */
	with_lpm = with_lpm ||
		   !bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.country_v4), &zero, &id) ||
		   !bpf_map_lookup_elem(bpf_map__fd(ctx->skel->maps.country_v6), &zero, &id);
	for (int i = 0; i < n && !err; i++) {
		state_geoip_copy_name(name, sizeof(name), i);
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
		       "field %s\nwith_lpm %d\nfiles %d\nsource %s\n", STATE_GEOIP_COPY, field, with_lpm,
		       n, source);
	if (len < 0) {
		conf = NULL;
		err = -ENOMEM;
	} else {
		err = gb_write_file_atomic(ctx->state_dir, STATE_GEOIP_CONF, conf, len);
	}
	if (err)
		gb_err("table loaded, but cannot record it in %s/%s: %s", ctx->state_dir,
		       STATE_GEOIP_CONF, strerror(-err));
out:
	if (audit_result(ctx, reason, err, NULL) && !err)
		err = -EIO;
	free(conf);
	return err;
}

int state_geoip_conf_read(const struct gb_ctx *ctx, struct state_geoip_conf *c)
{
	char path[512], *line = NULL;
	size_t cap = 0;
	FILE *f;
	int v;

	memset(c, 0, sizeof(*c));
	snprintf(c->field, sizeof(c->field), "country");
	c->files = 1;
	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, STATE_GEOIP_CONF);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	for (unsigned int n = 1; getline(&line, &cap, f) >= 0; n++) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "source ", 7))
			snprintf(c->source, sizeof(c->source), "%s", line + 7);
		else if (sscanf(line, "field %31s", c->field) == 1)
			continue;
		else if (sscanf(line, "with_lpm %d", &v) == 1 && (v == 0 || v == 1))
			c->with_lpm = v;
		else if (sscanf(line, "files %d", &v) == 1 && v >= 1 && v <= GEOIP_MAX_FILES)
			c->files = v;
		else if (*line && *line != '#' && !c->bad_line)
			c->bad_line = n;
	}
	free(line);
	fclose(f);
	return 0;
}

int state_geoip_how(const struct gb_ctx *ctx, char *field, size_t len, bool *with_lpm)
{
	struct state_geoip_conf conf;
	int err = state_geoip_conf_read(ctx, &conf);

	snprintf(field, len, "%s", conf.field);
	*with_lpm = conf.with_lpm;
	return err;
}

