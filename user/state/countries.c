// SPDX-License-Identifier: GPL-2.0
/*
 * Which country codes a meeting may block: a code nobody assigned blocks nothing while the
 * operator believes it does, so only ISO 3166-1 codes and those the loaded table uses are taken,
 * and a code the table has no network for is reported. What the table has per country is counted
 * once, when it is loaded, and kept in the state dir's census for every later change.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/files.h"
#include "kern/pins.h"
#include "kern/table_view.h"
#include "state/countries.h"
#include "state/rules_file.h"

/* Room for a line per country id ("XX 4294967295 4294967295") and the header. */
#define CENSUS_MAX	(GB_COUNTRY_COUNT * 26 + 512)

/*
 * The table a census describes: the map ids of its network lists, and the boot they belong to
 * (ids start over at boot; the state dir does not).
 */
struct census_key {
	char boot[40];
	__u32 net[2];
};

static int census_key_of(const __u32 net_id[2], struct census_key *k)
{
	ssize_t n;
	int fd;

	memset(k, 0, sizeof(*k));
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, k->boot, sizeof(k->boot) - 1);
	close(fd);
	if (n <= 0)
		return n ? -errno : -EIO;
	k->boot[strcspn(k->boot, " \n")] = '\0';
	k->net[0] = net_id[0];
	k->net[1] = net_id[1];
	return *k->boot ? 0 : -EIO;
}

/* A decimal __u32 ending at a space or newline; *s moves past it. */
static int read_u32(const char **s, __u32 *out)
{
	unsigned long long v = 0;
	const char *p = *s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++)
		if ((v = v * 10 + (*p - '0')) > UINT32_MAX)
			return -EINVAL;
	if (*p != ' ' && *p != '\n')
		return -EINVAL;
	*s = p + (*p == ' ');
	*out = v;
	return 0;
}

/*
 * The counts of the census file when it describes table k and is whole ("end N" after the N
 * lines); -ESTALE when it describes another table, -EINVAL when it is no census.
 */
static int census_parse(const char *s, const struct census_key *k, struct country_census *c)
{
	size_t blen = strlen(k->boot);
	__u32 net[2], lines = 0, end;

	while (*s == '#') {
		s = strchrnul(s, '\n');
		s += *s == '\n';
	}
	if (strncmp(s, "table ", 6) || strncmp(s + 6, k->boot, blen) || s[6 + blen] != ' ')
		return -ESTALE;
	s += 7 + blen;
	if (read_u32(&s, &net[0]) || read_u32(&s, &net[1]) || *s++ != '\n')
		return -EINVAL;
	if (net[0] != k->net[0] || net[1] != k->net[1])
		return -ESTALE;
	memset(c->networks, 0, sizeof(c->networks));
	while (strncmp(s, "end ", 4)) {
		__u16 cc = country_id(s);

		if (cc == GB_COUNTRY_NONE || s[2] != ' ')
			return -EINVAL;
		s += 3;
		if (read_u32(&s, &c->networks[0][cc]) || read_u32(&s, &c->networks[1][cc]) ||
		    *s++ != '\n')
			return -EINVAL;
		lines++;
	}
	s += 4;
	if (read_u32(&s, &end) || strcmp(s, "\n") || end != lines)
		return -EINVAL;
	c->loaded = true;
	return 0;
}

/* Reads the census of table k into c (partly filled when that fails: count the table then). */
static int census_read(const struct gb_ctx *ctx, const struct census_key *k,
		       struct country_census *c)
{
	char path[512], *buf;
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, STATE_CENSUS_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(CENSUS_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, buf, CENSUS_MAX + 1);
	err = n < 0 ? -errno : -EFBIG;
	close(fd);
	if (n >= 0 && n <= CENSUS_MAX) {
		buf[n] = '\0';
		err = strlen(buf) == (size_t)n ? census_parse(buf, k, c) : -EINVAL;
	}
	free(buf);
	return err;
}

/* Writes c as the census of table k; only under the state lock (one temporary for all writers). */
static int census_write(const struct gb_ctx *ctx, const struct census_key *k,
			const struct country_census *c)
{
	char *buf = NULL;
	size_t len = 0;
	__u32 lines = 0;
	FILE *f;
	int err = 0;

	f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# geoblock: networks per country (IPv4, IPv6) of the GeoIP table loaded, counted "
		"as it was loaded;\n# used while its network lists are the maps named here (boot, "
		"map ids), else counted again\ntable %s %u %u\n", k->boot, k->net[0], k->net[1]);
	for (unsigned int cc = 1; cc < GB_COUNTRY_COUNT; cc++) {
		char code[3];

		if (!c->networks[0][cc] && !c->networks[1][cc])
			continue;
		country_code(cc, code);
		fprintf(f, "%s %u %u\n", code, c->networks[0][cc], c->networks[1][cc]);
		lines++;
	}
	fprintf(f, "end %u\n", lines);
	if (fclose(f))
		err = -ENOMEM;
	if (!err)
		err = gb_write_file_atomic(ctx->state_dir, STATE_CENSUS_FILE, buf, len);
	free(buf);
	return err;
}

void countries_census_of(const struct table_view *v, struct country_census *c)
{
	c->loaded = v->net_n[0] || v->net_n[1];
	table_country_networks(v, c->networks);
}

/*
 * Counts the loaded table's networks from its lists; with kept, writes them to the census too
 * and sets *kept to the result. Prints nothing.
 */
static int census_count(const struct gb_ctx *ctx, struct country_census *c, int *kept)
{
	struct census_key k;
	struct table_view v;
	int err;

	err = table_open(ctx, &v);
	if (err)
		return err;
	countries_census_of(&v, c);
	if (kept) {
		/* The key of the lists counted: the census can describe only those. */
		*kept = census_key_of(v.net_id, &k);
		if (!*kept)
			*kept = census_write(ctx, &k, c);
	}
	table_close(&v);
	return 0;
}

int countries_census(const struct gb_ctx *ctx, struct country_census *c)
{
	struct census_key k;
	__u32 ids[2];
	int kept, err;

	memset(c, 0, sizeof(*c));
	table_networks_ids(ctx, ids);
	if (!ids[0] && !ids[1])
		return 0;	/* no table loaded */
	if (!census_key_of(ids, &k) && !census_read(ctx, &k, c))
		return 0;
	/*
	 * No census of this table (none kept, another table's, unreadable): count, and keep the
	 * count when this command holds the lock. The API takes the lock per change, read-only
	 * commands never: they count and keep nothing (a failed write changes nothing either).
	 */
	err = census_count(ctx, c, ctx->lock_fd >= 0 ? &kept : NULL);
	if (err)
		gb_err("cannot open the loaded GeoIP table: %s", strerror(-err));
	return err;
}

int countries_census_record(const struct gb_ctx *ctx)
{
	static struct country_census c;	/* 5 KiB, as the callers of countries_census keep theirs */
	int kept, err;

	err = census_count(ctx, &c, &kept);
	if (!err)
		err = kept;
	if (err)
		gb_warn("table loaded, but its networks per country are not kept in %s/%s (%s): "
			"each change counts them itself until the next load", ctx->state_dir,
			STATE_CENSUS_FILE, strerror(-err));
	return err;
}

static bool in_table(const struct country_census *c, unsigned int cc)
{
	return c && c->loaded && (c->networks[0][cc] || c->networks[1][cc]);
}

int countries_check(const struct country_census *c, const __u64 *blocked, char *err,
		    size_t errlen)
{
	for (unsigned int cc = 1; cc < GB_COUNTRY_COUNT; cc++) {
		const char *hint;
		char code[3];

		if (!country_isset(blocked, cc) || country_assigned(cc) || in_table(c, cc))
			continue;
		country_code(cc, code);
		hint = country_hint(cc);
		if (hint)
			snprintf(err, errlen, "%s", hint);
		else
			snprintf(err, errlen, "%s is not an ISO 3166-1 country code%s", code,
				 c && c->loaded ? ", nor one the loaded GeoIP table uses" :
				 " (and no GeoIP table is loaded that could use it)");
		return -EINVAL;
	}
	return 0;
}

void countries_without_networks(const struct country_census *c, const __u64 *blocked, char *out,
				size_t outlen)
{
	size_t len = 0;

	out[0] = '\0';
	if (!c->loaded)
		return;
	for (unsigned int cc = 1; cc < GB_COUNTRY_COUNT && len + 4 < outlen; cc++) {
		char code[3];

		if (!country_isset(blocked, cc) || in_table(c, cc))
			continue;
		country_code(cc, code);
		len += snprintf(out + len, outlen - len, "%s%s", len ? "," : "", code);
	}
}

/* Whether blocked names any country. */
static bool countries_any(const __u64 *blocked)
{
	for (int w = 0; w < GB_COUNTRY_WORDS; w++)
		if (blocked[w])
			return true;
	return false;
}

const char *countries_warning(const struct country_census *c, const __u64 *blocked,
			      const char *meeting, char *out, size_t len)
{
	char none[GB_COUNTRY_COUNT * 3 + 1];

	countries_without_networks(c, blocked, none, sizeof(none));
	*out = '\0';
	if (!c->loaded && countries_any(blocked))
		snprintf(out, len, "no GeoIP table is loaded: meeting \"%s\" blocks nothing until "
			 "one is (" COUNTRIES_LOAD_HINT ")", meeting);
	else if (*none)
		snprintf(out, len, "the loaded GeoIP table has no network in %s: meeting \"%s\" "
			 "blocks nothing from %s", none, meeting, strchr(none, ',') ? "them" : "it");
	return out;
}

const char *countries_set_warning(const struct country_census *c, const struct spec_list *l,
				  const char *where, char *out, size_t len)
{
	*out = '\0';
	for (size_t i = 0; i < l->n && !c->loaded; i++)
		if (countries_any(l->v[i].blocked)) {
			snprintf(out, len, "%s: no GeoIP table is loaded: its meetings block nothing "
				 "until one is (" COUNTRIES_LOAD_HINT ")", where);
			break;
		}
	return out;
}

int countries_warn(const struct country_census *c, const __u64 *blocked, const char *meeting)
{
	char line[COUNTRIES_WARNING_LEN];

	if (!*countries_warning(c, blocked, meeting, line, sizeof(line)))
		return 0;
	gb_warn("%s", line);
	return 1;
}

/* 8231 as "8,231". */
static const char *thousands(__u32 n, char buf[16])
{
	char digits[16];
	int len = snprintf(digits, sizeof(digits), "%u", n), o = 0;

	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

void countries_describe(const struct country_census *c, const __u64 *blocked, const char *first,
			const char *rest, FILE *out)
{
	for (unsigned int cc = 1, n = 0; cc < GB_COUNTRY_COUNT; cc++) {
		const char *name = country_name(cc), *lead;
		char code[3], v4[16], v6[16];

		if (!country_isset(blocked, cc))
			continue;
		country_code(cc, code);
		lead = n++ ? rest : first;
		if (!name)
			name = "(a code of the loaded table)";
		if (!c->loaded)
			fprintf(out, "%s%s %s: no GeoIP table loaded\n", lead, code, name);
		else
			fprintf(out, "%s%s %s: %s IPv4 + %s IPv6 networks\n", lead, code, name,
				thousands(c->networks[0][cc], v4),
				thousands(c->networks[1][cc], v6));
	}
}

struct json_object *countries_json(const struct country_census *c, const __u64 *blocked)
{
	struct json_object *a = json_object_new_array();

	for (unsigned int cc = 1; a && cc < GB_COUNTRY_COUNT; cc++) {
		struct json_object *o;
		const char *name = country_name(cc);
		char code[3];

		if (!country_isset(blocked, cc))
			continue;
		country_code(cc, code);
		o = json_object_new_object();
		json_object_object_add(o, "code", json_object_new_string(code));
		json_object_object_add(o, "name", name ? json_object_new_string(name) : NULL);
		json_object_object_add(o, "ipv4_networks", c->loaded ?
				       json_object_new_int64(c->networks[0][cc]) : NULL);
		json_object_object_add(o, "ipv6_networks", c->loaded ?
				       json_object_new_int64(c->networks[1][cc]) : NULL);
		json_object_array_add(a, o);
	}
	return a;
}
