// SPDX-License-Identifier: GPL-2.0
/*
 * `explain ADDR PORT`: walks the data path's decision for one packet over the live maps, and says
 * which meeting, country, network, rule or exception decides it, and the verdict.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/parse.h"
#include "kern/pins.h"
#include "kern/table.h"
#include "kern/verdicts.h"
#include "state/context.h"
#include "state/countries.h"
#include "state/rules.h"
#include "state/rules_file.h"
#include "cli/cmd.h"

struct explanation {
	const char *verdict;
	char meeting[GB_MEETING_NAME_LEN];
	char country[3];		/* "" when the address has none */
	char network[64];		/* the GeoIP network that answered, "" if none */
	char rule[96];			/* "block DE", "allow 203.0.113.0/24", "" */
	char why[GB_COUNTRY_COUNT * 3 + 512];
};

static int parse_port(const char *s)
{
	long v = 0;

	if (!*s || strlen(s) > 5)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -ERANGE;
}

/* The country of addr as the data path finds it: the compiled table, or the LPM tries. */
static void find_country(const struct table_view *v, int family, const __u8 *addr,
			 struct explanation *e, __u16 *country)
{
	bool lpm = !v->tab[family == 6] && v->lpm[family == 6] >= 0;
	struct table_match m;

	*country = GB_COUNTRY_NONE;
	if (table_lookup(v, lpm, family, addr, &m) || m.country == GB_COUNTRY_NONE ||
	    m.country >= GB_COUNTRY_COUNT)
		return;
	*country = m.country;
	country_code(m.country, e->country);
	if (m.family) {
		struct cidr net = { .family = m.family, .len = m.prefixlen };
		unsigned int bits = m.family == 4 ? 32 : 128;

		memcpy(net.addr, m.addr, m.family == 4 ? 4 : 16);
		for (unsigned int b = m.prefixlen; b < bits; b++)
			net.addr[b / 8] &= ~(0x80 >> (b % 8));
		format_cidr(&net, e->network, sizeof(e->network));
	}
}

/* The same steps, in the same order, as decide() in bpf/geoblock.bpf.c. */
static int explain(const struct rules *r, const struct table_view *v, int family,
		   const __u8 *addr, int port, bool tcp, struct explanation *e)
{
	const struct meeting_policy *p;
	struct meeting_spec s;
	const struct cidr *exc = NULL;
	char countries[GB_COUNTRY_COUNT * 3 + 1], when[32];
	__u32 id = r->owners[port].meeting_id;
	__u16 country;
	int err;

	memset(e, 0, sizeof(*e));
	find_country(v, family, addr, e, &country);
	if (!id || id >= GB_MAX_MEETINGS || !(r->policies[id].flags & GB_MEETING_ACTIVE)) {
		e->verdict = verdict_name(GB_PASS_NO_MEETING);
		snprintf(e->why, sizeof(e->why), "port %d belongs to no meeting", port);
		return 0;
	}
	p = &r->policies[id];
	snprintf(e->meeting, sizeof(e->meeting), "%s", p->name);
	err = rules_spec(r, id, &s);
	if (err)
		return err;
	format_countries(p->blocked, countries, sizeof(countries));
	if (!(p->flags & (tcp ? GB_MEETING_TCP : GB_MEETING_UDP))) {
		e->verdict = verdict_name(GB_PASS_NOT_COVERED);
		snprintf(e->why, sizeof(e->why), "meeting %s covers %s only, not %s", p->name,
			 format_protos(p->flags), tcp ? "tcp" : "udp");
	} else if (rules_expired(p)) {
		format_rfc3339(s.expires, when, sizeof(when));
		e->verdict = verdict_name(GB_PASS_EXPIRED);
		snprintf(e->why, sizeof(e->why), "the rule of meeting %s expired at %s", p->name,
			 when);
	} else if (country == GB_COUNTRY_NONE) {
		e->verdict = verdict_name(GB_PASS_NO_COUNTRY);
		snprintf(e->why, sizeof(e->why), "the address has no country in the GeoIP table");
	} else if (!country_isset(p->blocked, country)) {
		e->verdict = verdict_name(GB_PASS_NOT_BLOCKED);
		snprintf(e->why, sizeof(e->why), "%s is not on the block list of meeting %s (%s)",
			 e->country, p->name, countries);
	} else {
		snprintf(e->rule, sizeof(e->rule), "block %s", e->country);
		/* The longest matching exception, as the LPM trie answers. */
		for (size_t i = 0; i < s.n_allow && (p->flags & GB_MEETING_ALLOWS); i++)
			if (cidr_contains(&s.allow[i], family, addr) &&
			    (!exc || s.allow[i].len > exc->len))
				exc = &s.allow[i];
		if (exc) {
			char net[64];

			format_cidr(exc, net, sizeof(net));
			snprintf(e->rule, sizeof(e->rule), "allow %s", net);
			e->verdict = verdict_name(GB_PASS_ALLOWED);
			snprintf(e->why, sizeof(e->why), "%s is blocked by meeting %s, but the address "
				 "is inside its exception %s", e->country, p->name, net);
		} else if (p->flags & GB_MEETING_MONITOR) {
			e->verdict = verdict_name(GB_PASS_MONITOR);
			snprintf(e->why, sizeof(e->why), "%s is blocked by meeting %s, which is in "
				 "monitor mode: counted, not dropped", e->country, p->name);
		} else {
			e->verdict = verdict_name(GB_DROP);
			snprintf(e->why, sizeof(e->why), "%s is on the block list of meeting %s (%s)",
				 e->country, p->name, countries);
		}
	}
	spec_free(&s);
	return 0;
}

static struct json_object *str_or_null(const char *s)
{
	return *s ? json_object_new_string(s) : NULL;
}

int cmd_explain(const struct cmd_args *a)
{
	const char *proto = a->opt[OPT_PROTO], *address = a->pos[0];
	bool json = a->opt[OPT_JSON];
	static struct country_census census;
	struct table_view v;
	struct explanation e;
	__u32 id;
	struct gb_ctx ctx;
	struct rules r;
	__u8 addr[16] = {};
	int port, family, err, ret = GB_EXIT_FAIL;

	if (inet_pton(AF_INET, address, addr) == 1) {
		family = 4;
	} else if (inet_pton(AF_INET6, address, addr) == 1) {
		family = 6;
	} else {
		char shown[64 * 4 + 1];

		gb_err("\"%s\" is not an IPv4 or IPv6 address",
		       printable(address, strlen(address), 64, shown, sizeof(shown)));
		return GB_EXIT_USAGE;
	}
	port = parse_port(a->pos[1]);
	if (port < 0) {
		gb_err("\"%.16s\" is not a port (1-65535)", a->pos[1]);
		return GB_EXIT_USAGE;
	}

	if (gb_open(&ctx, GB_OPEN_READ))
		return GB_EXIT_FAIL;
	if (rules_read(&ctx, &r))
		goto out_close;
	err = table_open(&ctx, &v);
	if (err) {
		gb_err("cannot open the loaded GeoIP table: %s", strerror(-err));
		goto out_rules;
	}
	err = explain(&r, &v, family, addr, port, !strcasecmp(proto, "tcp"), &e);
	if (err) {
		gb_err("cannot read meeting %s: %s", e.meeting, strerror(-err));
		goto out_table;
	}
	countries_census_of(&v, &census);
	id = *e.meeting ? r.owners[port].meeting_id : 0;
	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "address", json_object_new_string(address));
		json_object_object_add(o, "port", json_object_new_int(port));
		json_object_object_add(o, "proto", json_object_new_string(
					   !strcasecmp(proto, "tcp") ? "tcp" : "udp"));
		json_object_object_add(o, "meeting", str_or_null(e.meeting));
		json_object_object_add(o, "country", str_or_null(e.country));
		json_object_object_add(o, "network", str_or_null(e.network));
		json_object_object_add(o, "rule", str_or_null(e.rule));
		json_object_object_add(o, "blocks", id ? countries_json(&census,
					r.policies[id].blocked) : NULL);
		json_object_object_add(o, "verdict", json_object_new_string(e.verdict));
		json_object_object_add(o, "why", json_object_new_string(e.why));
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("packet:   from %s to port %d/%s\n", address, port,
		       !strcasecmp(proto, "tcp") ? "tcp" : "udp");
		printf("meeting:  %s\n", *e.meeting ? e.meeting : "none");
		if (id)
			countries_describe(&census, r.policies[id].blocked, "blocks:   ",
					   "          ", stdout);
		printf("country:  %s%s%s%s\n", *e.country ? e.country : "none",
		       *e.network ? " (GeoIP network " : "", e.network, *e.network ? ")" : "");
		printf("rule:     %s\n", *e.rule ? e.rule : "none");
		printf("verdict:  %s: %s\n", e.verdict, e.why);
	}
	ret = GB_EXIT_OK;
out_table:
	table_close(&v);
out_rules:
	rules_free(&r);
out_close:
	gb_close(&ctx);
	return ret;
}
