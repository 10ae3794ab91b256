// SPDX-License-Identifier: GPL-2.0
/*
 * What decides one packet: walks the data path's decision over the live maps, and says which
 * meeting, country, network, rule or exception decides it, and the verdict. `explain` asks it of
 * a packet to a port, `check` of an address joining a meeting (the same walk, minus the port);
 * the CLI prints it, the control API serves it, from the same JSON.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/parse.h"
#include "kern/links.h"
#include "kern/pins.h"
#include "kern/senders.h"
#include "kern/table_view.h"
#include "kern/verdicts.h"
#include "state/expiry.h"
#include "state/countries.h"
#include "state/ops_steps.h"
#include "state/rules.h"
#include "state/rules_file.h"
#include "state/explain.h"
#include "geoblock.skel.h"

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

/*
 * The country of addr: from the networks loaded (the data path's compiled table names only the
 * countries live meetings block, and gives the same verdict), or the LPM tries without them.
 */
static void find_country(const struct table_view *v, int family, const __u8 *addr,
			 struct explanation *e, __u16 *country)
{
	bool lpm = !v->net[family == 6] && v->lpm[family == 6] >= 0;
	struct table_match m;

	*country = GB_COUNTRY_NONE;
	if (table_lookup(v, lpm ? TABLE_FROM_LPM : TABLE_FROM_NETWORKS, family, addr, &m) ||
	    m.country == GB_COUNTRY_NONE ||
	    m.country >= GB_COUNTRY_COUNT)
		return;
	*country = m.country;
	country_code(m.country, e->country);
	e->country_name = country_name(m.country);
	if (m.family) {
		struct cidr net = { .family = m.family, .len = m.prefixlen };
		unsigned int bits = m.family == 4 ? 32 : 128;

		memcpy(net.addr, m.addr, m.family == 4 ? 4 : 16);
		for (unsigned int b = m.prefixlen; b < bits; b++)
			net.addr[b / 8] &= ~(0x80 >> (b % 8));
		format_cidr(&net, e->network, sizeof(e->network));
	}
}

/* A live meeting called name (a half-written slot of a change under way has the name too). */
static __u32 live_meeting(const struct rules *r, const char *name)
{
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++)
		if ((r->policies[id].flags & GB_MEETING_ACTIVE) && !strcmp(r->policies[id].name, name))
			return id;
	return 0;
}

/*
 * The steps of decide() in bpf/geoblock.bpf.c from the meeting on, in the same order: a packet
 * of protocol proto (GB_MEETING_UDP or _TCP; 0 for a check, which has none) from addr, whose
 * country is country, to a port of meeting id.
 */
static int judge(const struct rules *r, __u32 id, __u32 proto, int family, const __u8 *addr,
		 __u16 country, struct explanation *e)
{
	const struct meeting_policy *p = &r->policies[id];
	const struct cidr *exc = NULL;
	struct meeting_spec s;
	int err;

	err = rules_spec(r, id, &s);
	if (err)
		return err;
	e->has_meeting = true;
	e->flags = p->flags;
	memcpy(e->blocked, p->blocked, sizeof(e->blocked));
	if (s.expires)
		format_rfc3339(s.expires, e->expires, sizeof(e->expires));
	if (proto && !(p->flags & proto)) {
		e->reason = GB_PASS_NOT_COVERED;
	} else if (expiry_passed(p)) {
		e->reason = GB_PASS_EXPIRED;
	} else if (country == GB_COUNTRY_NONE) {
		e->reason = GB_PASS_NO_COUNTRY;
	} else if (!country_isset(p->blocked, country)) {
		e->reason = GB_PASS_NOT_BLOCKED;
	} else {
		snprintf(e->rule, sizeof(e->rule), "block %s", e->country);
		/* The longest matching exception, as the LPM trie answers. */
		for (size_t i = 0; i < s.n_allow && (p->flags & GB_MEETING_ALLOWS); i++)
			if (cidr_contains(&s.allow[i], family, addr) &&
			    (!exc || s.allow[i].len > exc->len))
				exc = &s.allow[i];
		if (exc) {
			format_cidr(exc, e->exception, sizeof(e->exception));
			snprintf(e->rule, sizeof(e->rule), "allow %s", e->exception);
			e->reason = GB_PASS_ALLOWED;
		} else {
			e->reason = p->flags & GB_MEETING_MONITOR ? GB_PASS_MONITOR : GB_DROP;
		}
	}
	spec_free(&s);
	return 0;
}

/* Why, for `explain`: the rule that decides the packet. */
static void explain_why(struct explanation *e)
{
	char countries[GB_COUNTRY_COUNT * 3 + 1];
	const char *m = e->meeting, *cc = e->country;

	format_countries(e->blocked, countries, sizeof(countries));
	switch (e->reason) {
	case GB_PASS_NO_MEETING:
		snprintf(e->why, sizeof(e->why), e->shared ? "port %d is shared, for UDP only: TCP "
			 "to it belongs to no meeting" : "port %d belongs to no meeting", e->port);
		break;
	case GB_PASS_ICE_UNKNOWN_UFRAG:
		snprintf(e->why, sizeof(e->why), "port %d is shared, and no meeting has ufrag %s: a "
			 "Binding Request naming it passes", e->port, e->ufrag);
		break;
	case GB_PASS_ICE_UNKNOWN_SENDER:
		if (e->sport) {
			snprintf(e->why, sizeof(e->why), "port %d is shared, and no Binding Request "
				 "from this sender (port %d) named a ufrag a meeting has (since it "
				 "was forgotten): its packets pass", e->port, e->sport);
			break;
		}
		snprintf(e->why, sizeof(e->why), "port %d is shared: a packet's meeting is the one "
			 "whose ufrag its sender's Binding Request named (--ufrag U explains one); "
			 "from a sender none named, it passes", e->port);
		break;
	case GB_PASS_NOT_COVERED:
		snprintf(e->why, sizeof(e->why), "meeting %s covers %s only, not %s", m,
			 format_protos(e->flags), e->tcp ? "tcp" : "udp");
		break;
	case GB_PASS_EXPIRED:
		snprintf(e->why, sizeof(e->why), "the rule of meeting %s expired at %s", m,
			 e->expires);
		break;
	case GB_PASS_NO_COUNTRY:
		snprintf(e->why, sizeof(e->why), e->no_table ? "no GeoIP table is loaded, so no "
			 "address has a country (" COUNTRIES_LOAD_HINT ")" :
			 "the address has no country in the GeoIP table");
		break;
	case GB_PASS_NOT_BLOCKED:
		snprintf(e->why, sizeof(e->why), "%s is not on the block list of meeting %s (%s)",
			 cc, m, countries);
		break;
	case GB_PASS_ALLOWED:
		snprintf(e->why, sizeof(e->why), "%s is blocked by meeting %s, but the address is "
			 "inside its exception %s", cc, m, e->exception);
		break;
	case GB_PASS_MONITOR:
		snprintf(e->why, sizeof(e->why), "%s is blocked by meeting %s, which is in monitor "
			 "mode: counted, not dropped", cc, m);
		break;
	default:
		snprintf(e->why, sizeof(e->why), "%s is on the block list of meeting %s (%s)", cc,
			 m, countries);
	}
}

/* Why, for `check`: one sentence on the address and the meeting, the address first. */
static void check_why(struct explanation *e)
{
	char where[sizeof(e->address) + sizeof(e->network) + 128];
	const char *m = e->meeting;

	if (*e->country)
		snprintf(where, sizeof(where), "%s is in %s %s%s%s%s", e->address, e->country,
			 e->country_name, *e->network ? " (" : "", e->network,
			 *e->network ? ")" : "");
	else
		snprintf(where, sizeof(where), "%s has no country %s", e->address,
			 e->no_table ? "(no GeoIP table is loaded)" : "in the GeoIP table");
	switch (e->reason) {
	case GB_PASS_EXPIRED:
		snprintf(e->why, sizeof(e->why), "%s; meeting \"%s\" expired at %s and blocks "
			 "nothing", where, m, e->expires);
		break;
	case GB_PASS_NO_COUNTRY:
		if (e->no_table)
			snprintf(e->why, sizeof(e->why), "%s has no country: no GeoIP table is "
				 "loaded, so meeting \"%s\" blocks no address ("
				 COUNTRIES_LOAD_HINT ")", e->address, m);
		else
			snprintf(e->why, sizeof(e->why), "%s, which meeting \"%s\" cannot block",
				 where, m);
		break;
	case GB_PASS_NOT_BLOCKED:
		snprintf(e->why, sizeof(e->why), "%s, not blocked by meeting \"%s\"", where, m);
		break;
	case GB_PASS_ALLOWED:
		snprintf(e->why, sizeof(e->why), "%s, blocked by meeting \"%s\" but inside its "
			 "exception %s", where, m, e->exception);
		break;
	case GB_PASS_MONITOR:
		snprintf(e->why, sizeof(e->why), "%s, would be blocked, meeting \"%s\" is in "
			 "monitor mode", where, m);
		break;
	default:
		snprintf(e->why, sizeof(e->why), "%s, blocked by meeting \"%s\"", where, m);
	}
}

/* A question, its input checked: a packet to a port (explain), or a meeting's (check). */
struct question {
	const char *address;	/* as given */
	int family;
	__u8 addr[16];
	int port;		/* explain: the packet's destination port */
	bool tcp;
	const char *meeting;	/* check: the meeting asked about */
	const char *ufrag;	/* explain, a shared port: the ufrag a Binding Request names */
	int sport;		/* explain, a shared port: the source port of a sender's media; 0 */
};

static int parse_address(const char *address, struct question *q)
{
	char shown[64 * 4 + 1];

	q->address = address;
	if (inet_pton(AF_INET, address, q->addr) == 1) {
		q->family = 4;
	} else if (inet_pton(AF_INET6, address, q->addr) == 1) {
		q->family = 6;
	} else {
		gb_err("\"%s\" is not an IPv4 or IPv6 address",
		       printable(address, strlen(address), 64, shown, sizeof(shown)));
		return -EINVAL;
	}
	return 0;
}

/* A dual-stack socket shows an IPv4 client so: its packets are IPv4, from that address. */
static void unmap_v4(struct question *q)
{
	if (q->family == 6 && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)q->addr)) {
		q->family = 4;
		memmove(q->addr, q->addr + 12, 4);
	}
}

/* How many pinned links run the filter on an interface (one gone does not count); -1: unknown. */
static int attached_count(const struct gb_ctx *ctx)
{
	struct link_state *links;
	size_t n;
	int live = 0;

	if (links_read(ctx, &links, &n))
		return -1;
	for (size_t i = 0; i < n; i++)
		live += links[i].ifindex > 0;
	free(links);
	return live;
}

/*
 * The meeting a shared port's data path finds for the media of the sender (q's address and
 * source port): the one of the ufrag its way in ice_sender_sets is bound to, 0 if it has none or
 * that ufrag is gone (a way's binding names a slot and its generation, as bound_meeting reads it).
 */
static __u32 learned_meeting(const struct gb_ctx *ctx, const struct rules *r,
			     const struct question *q, struct explanation *e)
{
	struct ice_tuple t = { .sport = htons(q->sport), .dport = q->port, .family = q->family };
	struct ice_sender s;
	struct timespec now;
	const struct ufrag_slot *u;

	memcpy(t.saddr, q->addr, q->family == 4 ? 4 : 16);
	if (senders_get(bpf_map__fd(ctx->skel->maps.ice_sender_sets),
			bpf_map__fd(ctx->skel->maps.ice_seed), &t, &s) ||
	    !s.slot || s.slot >= GB_UFRAGS_MAX || !r->uf.text[s.slot])
		return 0;
	u = &r->uf.slots[s.slot];
	if (u->gen != s.gen || !u->meeting_id)
		return 0;
	e->learned = true;
	snprintf(e->learned_ufrag, sizeof(e->learned_ufrag), "%s", r->uf.text[s.slot]);
	/* The data path's coarse clock in ms, 32 bits wide: the way's time wraps with it. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	e->learned_age_s = (__u32)((__u32)(now.tv_sec * 1000 + now.tv_nsec / 1000000) -
				   (__u32)(s.seen_ns / 1000000)) / 1000;
	return u->meeting_id;
}

/* The question answered over the live maps: the meeting, the country, the verdict, why. */
static int answer_read(const struct gb_ctx *ctx, const struct question *q, struct explanation *e)
{
	char shown[64 * 4 + 1];
	struct table_view v;
	struct rules r;
	__u16 country;
	__u32 id;
	int err;

	err = rules_read(ctx, &r);
	if (err)
		return ops_failure(err);
	id = q->meeting ? live_meeting(&r, q->meeting) : r.owners[q->port].meeting_id;
	e->shared = !q->meeting && rules_port_shared(&r, q->port);
	if ((q->ufrag || q->sport) && !e->shared) {
		gb_err("port %d is not a shared port: --%s explains %s to one; see 'geoblock "
		       "shared-port list'", q->port, q->ufrag ? "ufrag" : "sport",
		       q->ufrag ? "a Binding Request" : "a learned sender's packets");
		rules_free(&r);
		return -EINVAL;
	}
	/*
	 * On a shared port (UDP only) a Binding Request's ufrag names the meeting; other packets
	 * have the meeting their sender was learned for.
	 */
	e->sport = q->sport;
	if (e->shared && !q->tcp && q->ufrag)
		id = ufrag_owner(&r.uf, q->ufrag);
	else if (e->shared && !q->tcp && q->sport)
		id = learned_meeting(ctx, &r, q, e);
	if (q->meeting && !id) {
		gb_err("no meeting \"%s\"; see 'geoblock meeting list'",
		       printable(q->meeting, strlen(q->meeting), 64, shown, sizeof(shown)));
		rules_free(&r);
		return -ENOENT;
	}
	err = table_open(ctx, &v);
	if (err) {
		gb_err("cannot open the loaded GeoIP table: %s", strerror(-err));
		goto out_rules;
	}
	snprintf(e->address, sizeof(e->address), "%s", q->address);
	e->port = q->port;
	e->tcp = q->tcp;
	find_country(&v, q->family, q->addr, e, &country);
	e->no_table = !v.tab[0] && !v.tab[1] && !v.net[0] && !v.net[1] && v.lpm[0] < 0 &&
		      v.lpm[1] < 0;
	if (q->ufrag)
		snprintf(e->ufrag, sizeof(e->ufrag), "%s", q->ufrag);
	if (e->shared && !q->tcp && (!id || id >= GB_MAX_MEETINGS)) {
		e->reason = q->ufrag ? GB_PASS_ICE_UNKNOWN_UFRAG : GB_PASS_ICE_UNKNOWN_SENDER;
	} else if (!id || id >= GB_MAX_MEETINGS || !(r.policies[id].flags & GB_MEETING_ACTIVE)) {
		e->reason = GB_PASS_NO_MEETING;
	} else {
		const struct janus_port *jp = janus_port_find(&r.janus, q->port);

		snprintf(e->meeting, sizeof(e->meeting), "%s", r.policies[id].name);
		/* A port a Janus handle holds: its room and handle (janus-ports, checked on read). */
		e->janus = !q->meeting && jp && !strcmp(jp->meeting, e->meeting);
		if (e->janus) {
			e->janus_room = jp->room;
			e->janus_session = jp->session;
			e->janus_handle = jp->handle;
		}
		err = judge(&r, id, q->meeting ? 0 : q->tcp ? GB_MEETING_TCP : GB_MEETING_UDP,
			    q->family, q->addr, country, e);
		if (err) {
			gb_err("cannot read meeting %s: %s", e->meeting, strerror(-err));
			goto out_table;
		}
	}
	e->verdict = verdict_name(e->reason);
	if (q->meeting) {
		check_why(e);
	} else {
		explain_why(e);
		countries_census_of(&v, &e->census);
		e->attached = attached_count(ctx);
	}
out_table:
	table_close(&v);
out_rules:
	rules_free(&r);
	return ops_failure(err);
}

/* The same once no change is under way: one read halfway could find a meeting replaced gone. */
static int answer(const struct gb_ctx *ctx, const struct question *q, struct explanation *e)
{
	int lock = ops_lock_shared(ctx), err;

	if (lock < -1)
		return lock;
	err = answer_read(ctx, q, e);
	ops_unlock(lock);
	return err;
}

int explain_packet(const struct gb_ctx *ctx, const char *address, const char *port_s,
		   const char *proto, const char *ufrag, const char *sport, struct explanation *e)
{
	char shown[512];
	struct question q = {};

	memset(e, 0, sizeof(*e));
	if (parse_address(address, &q))
		return -EINVAL;
	q.port = parse_port(port_s);
	if (q.port < 0) {
		gb_err("\"%s\" is not a port (1-65535)",
		       printable(port_s, strlen(port_s), 32, shown, sizeof(shown)));
		return -EINVAL;
	}
	if (strcasecmp(proto, "udp") && strcasecmp(proto, "tcp")) {
		gb_err("\"%s\" is not a protocol: udp or tcp",
		       printable(proto, strlen(proto), 16, shown, sizeof(shown)));
		return -EINVAL;
	}
	q.tcp = !strcasecmp(proto, "tcp");
	if (ufrag && q.tcp) {
		gb_err("a ufrag explains a STUN Binding Request, which is UDP, not tcp");
		return -EINVAL;
	}
	if (sport) {
		q.sport = parse_port(sport);
		if (q.sport < 0) {
			gb_err("\"%s\" is not a source port (1-65535)",
			       printable(sport, strlen(sport), 32, shown, sizeof(shown)));
			return -EINVAL;
		}
		if (q.tcp || ufrag) {
			gb_err("a source port explains a learned sender's packets to a shared port, "
			       "which are UDP and not Binding Requests: not with %s",
			       q.tcp ? "tcp" : "a ufrag");
			return -EINVAL;
		}
	}
	/* As a dual-stack socket shows an IPv4 client (in its logs too): its packets are IPv4. */
	unmap_v4(&q);
	if (ufrag && !ufrag_valid(ufrag, strlen(ufrag))) {
		ufrag_refusal(ufrag, strlen(ufrag), shown, sizeof(shown));
		gb_err("%s", shown);
		return -EINVAL;
	}
	q.ufrag = ufrag;
	return ctx ? answer(ctx, &q, e) : 0;
}

int explain_check(const struct gb_ctx *ctx, const char *meeting, const char *address,
		  struct explanation *e)
{
	struct question q = { .meeting = meeting };

	memset(e, 0, sizeof(*e));
	if (parse_address(address, &q))
		return -EINVAL;
	unmap_v4(&q);
	return ctx ? answer(ctx, &q, e) : 0;
}

static struct json_object *str_or_null(const char *s)
{
	return *s ? json_object_new_string(s) : NULL;
}

/* explain --sport: what the data path learned of the sender. */
static struct json_object *sender_json(const struct explanation *e)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "learned", json_object_new_boolean(e->learned));
	json_object_object_add(o, "ufrag", str_or_null(e->learned_ufrag));
	json_object_object_add(o, "last_request_s", e->learned ?
			       json_object_new_int64(e->learned_age_s) : NULL);
	return o;
}

struct json_object *explanation_json(const struct explanation *e)
{
	struct json_object *o = json_object_new_object();
	bool check = !e->port;

	json_object_object_add(o, "address", json_object_new_string(e->address));
	if (!check) {
		json_object_object_add(o, "port", json_object_new_int(e->port));
		json_object_object_add(o, "proto", json_object_new_string(e->tcp ? "tcp" : "udp"));
		json_object_object_add(o, "shared", json_object_new_boolean(e->shared));
		json_object_object_add(o, "ufrag", str_or_null(e->ufrag));
		json_object_object_add(o, "sport", e->sport ? json_object_new_int(e->sport) : NULL);
		json_object_object_add(o, "sender", e->sport ? sender_json(e) : NULL);
	}
	json_object_object_add(o, "meeting", str_or_null(e->meeting));
	if (!check && e->janus) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "room", json_object_new_uint64(e->janus_room));
		json_object_object_add(j, "session", json_object_new_uint64(e->janus_session));
		json_object_object_add(j, "handle", json_object_new_uint64(e->janus_handle));
		json_object_object_add(o, "janus", j);
	} else if (!check) {
		json_object_object_add(o, "janus", NULL);
	}
	json_object_object_add(o, "country", str_or_null(e->country));
	if (check)
		json_object_object_add(o, "country_name", e->country_name ?
				       json_object_new_string(e->country_name) : NULL);
	json_object_object_add(o, "network", str_or_null(e->network));
	if (check) {
		json_object_object_add(o, "mode", json_object_new_string(
					       e->flags & GB_MEETING_MONITOR ? "monitor" : "enforce"));
		json_object_object_add(o, "expires", str_or_null(e->expires));
		json_object_object_add(o, "exception", str_or_null(e->exception));
		json_object_object_add(o, "block", json_object_new_boolean(e->reason == GB_DROP));
	} else {
		json_object_object_add(o, "rule", str_or_null(e->rule));
		json_object_object_add(o, "blocks", e->has_meeting ?
				       countries_json(&e->census, e->blocked) : NULL);
		json_object_object_add(o, "attached_interfaces", e->attached < 0 ? NULL :
				       json_object_new_int(e->attached));
	}
	json_object_object_add(o, "verdict", json_object_new_string(e->verdict));
	json_object_object_add(o, "why", json_object_new_string(e->why));
	return o;
}
