// SPDX-License-Identifier: GPL-2.0
/*
 * What decides one packet: walks the data path's decision over the live maps, and says which
 * meeting, country, network, rule or exception decides it, and the verdict. `explain` prints it,
 * the control API serves it, from the same JSON.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/parse.h"
#include "kern/pins.h"
#include "kern/table.h"
#include "kern/verdicts.h"
#include "state/expiry.h"
#include "state/countries.h"
#include "state/rules.h"
#include "state/rules_file.h"
#include "state/explain.h"

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
	} else if (expiry_passed(p)) {
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

int explain_packet(const struct gb_ctx *ctx, const char *address, const char *port_s,
		   const char *proto, struct explanation *e)
{
	struct table_view v;
	struct rules r;
	__u8 addr[16] = {};
	int port, family, err;
	__u32 id;

	memset(e, 0, sizeof(*e));
	if (inet_pton(AF_INET, address, addr) == 1) {
		family = 4;
	} else if (inet_pton(AF_INET6, address, addr) == 1) {
		family = 6;
	} else {
		char shown[64 * 4 + 1];

		gb_err("\"%s\" is not an IPv4 or IPv6 address",
		       printable(address, strlen(address), 64, shown, sizeof(shown)));
		return -EINVAL;
	}
	port = parse_port(port_s);
	if (port < 0) {
		gb_err("\"%.16s\" is not a port (1-65535)", port_s);
		return -EINVAL;
	}
	if (strcasecmp(proto, "udp") && strcasecmp(proto, "tcp")) {
		gb_err("\"%.16s\" is not a protocol: udp or tcp", proto);
		return -EINVAL;
	}
	if (!ctx)
		return 0;
	err = rules_read(ctx, &r);
	if (err)
		return err == -EINVAL || err == -ENOENT ? -EIO : err;
	err = table_open(ctx, &v);
	if (err) {
		gb_err("cannot open the loaded GeoIP table: %s", strerror(-err));
		goto out_rules;
	}
	snprintf(e->address, sizeof(e->address), "%s", address);
	e->port = port;
	e->tcp = !strcasecmp(proto, "tcp");
	err = explain(&r, &v, family, addr, port, e->tcp, e);
	if (err) {
		gb_err("cannot read meeting %s: %s", e->meeting, strerror(-err));
		goto out_table;
	}
	countries_census_of(&v, &e->census);
	id = *e->meeting ? r.owners[port].meeting_id : 0;
	e->has_meeting = id;
	if (id)
		memcpy(e->blocked, r.policies[id].blocked, sizeof(e->blocked));
out_table:
	table_close(&v);
out_rules:
	rules_free(&r);
	return err == -EINVAL || err == -ENOENT ? -EIO : err;
}

struct json_object *explanation_json(const struct explanation *e)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "address", json_object_new_string(e->address));
	json_object_object_add(o, "port", json_object_new_int(e->port));
	json_object_object_add(o, "proto", json_object_new_string(e->tcp ? "tcp" : "udp"));
	json_object_object_add(o, "meeting", str_or_null(e->meeting));
	json_object_object_add(o, "country", str_or_null(e->country));
	json_object_object_add(o, "network", str_or_null(e->network));
	json_object_object_add(o, "rule", str_or_null(e->rule));
	json_object_object_add(o, "blocks", e->has_meeting ? countries_json(&e->census, e->blocked) :
			       NULL);
	json_object_object_add(o, "verdict", json_object_new_string(e->verdict));
	json_object_object_add(o, "why", json_object_new_string(e->why));
	return o;
}
