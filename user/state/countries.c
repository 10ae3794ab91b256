// SPDX-License-Identifier: GPL-2.0
/*
 * Which country codes a meeting may block: a code nobody assigned blocks nothing while the
 * operator believes it does, so only ISO 3166-1 codes and those the loaded table uses are taken,
 * and a code the table has no network for is reported.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "kern/pins.h"
#include "kern/table.h"
#include "state/countries.h"

void countries_census_of(const struct table_view *v, struct country_census *c)
{
	c->loaded = v->net_n[0] || v->net_n[1];
	table_country_networks(v, c->networks);
}

int countries_census(const struct gb_ctx *ctx, struct country_census *c)
{
	struct table_view v;
	int err;

	memset(c, 0, sizeof(*c));
	err = table_open(ctx, &v);
	if (err) {
		gb_err("cannot open the loaded GeoIP table: %s", strerror(-err));
		return err;
	}
	countries_census_of(&v, c);
	table_close(&v);
	return 0;
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

int countries_warn(const struct country_census *c, const __u64 *blocked, const char *meeting)
{
	char none[GB_COUNTRY_COUNT * 3 + 1];

	countries_without_networks(c, blocked, none, sizeof(none));
	if (!*none)
		return 0;
	gb_warn("the loaded GeoIP table has no network in %s: meeting \"%s\" blocks nothing "
		"from %s", none, meeting, strchr(none, ',') ? "them" : "it");
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
