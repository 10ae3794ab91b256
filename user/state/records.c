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
	/* A file that cannot be read (EIO, or a directory in its place) is no empty record. */
	if (!err && ferror(f))
		err = errno ? -errno : -EIO;
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
	free(buf);
	free(v);
	return err ? err : found;
}

/* Name of the kept copy of file i of the loaded table: geoip.db, geoip.db.1, ... */
void state_geoip_copy_name(char *out, size_t len, int i)
{
	if (i)
		snprintf(out, len, "%s.%d", STATE_GEOIP_COPY, i);
	else
		snprintf(out, len, "%s", STATE_GEOIP_COPY);
}

int state_geoip_conf_read(const struct gb_ctx *ctx, struct state_geoip_conf *c)
{
	return state_geoip_conf_read_name(ctx, STATE_GEOIP_CONF, c);
}

/* "info LOADED_AT BUILD_EPOCH V4P V6P V4N V6N [TYPE]": the description of the table. */
static bool read_info(const char *line, struct geoip_info *i)
{
	unsigned long long at, epoch;
	int end = 0;

	if (sscanf(line, "info %llu %llu %u %u %u %u%n", &at, &epoch, &i->v4_prefixes,
		   &i->v6_prefixes, &i->v4_networks, &i->v6_networks, &end) != 6 || !end)
		return false;
	i->loaded_at = at;
	i->build_epoch = epoch;
	snprintf(i->database_type, sizeof(i->database_type), "%s", line[end] ? line + end + 1 : "");
	return true;
}

int state_geoip_conf_read_name(const struct gb_ctx *ctx, const char *name,
			       struct state_geoip_conf *c)
{
	char path[512], *line = NULL;
	size_t cap = 0;
	FILE *f;
	int v;

	memset(c, 0, sizeof(*c));
	snprintf(c->field, sizeof(c->field), "country");
	c->files = 1;
	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, name);
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
		else if (sscanf(line, "table %39s %u %u", c->boot, &c->net_ids[0],
				&c->net_ids[1]) == 3 || read_info(line, &c->info))
			continue;
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

