// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/fleet/layout.c: which of a store's keys a node takes, each bad key refused
 * alone (and why), clashes lost by the key written later, a node's own meeting over every node's,
 * expired meetings left out, shared ports, the GeoIP build, and the prefix and key names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "lib/country.h"
#include "lib/iso3166.h"
#include "fleet/layout.h"
#include "check.h"

#define P "/gb/"

static struct etcd_kv kvs[300];
static size_t n;
static struct country_census census;	/* no table loaded: ISO 3166-1 codes only */

static void put(const char *key, const char *value, __s64 rev)
{
	kvs[n].key = (char *)key;
	kvs[n].value = (char *)value;
	kvs[n].value_len = strlen(value);
	kvs[n].mod_revision = rev;
	n++;
}

/* The names of want's meetings, sorted, comma-separated. */
static const char *names(const struct fleet_want *w)
{
	static char out[512];
	const char *v[32];
	size_t pos = 0;

	for (size_t i = 0; i < w->meetings.n; i++)
		v[i] = w->meetings.v[i].name;
	for (size_t i = 1; i < w->meetings.n; i++)
		for (size_t j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			const char *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	out[0] = '\0';
	for (size_t i = 0; i < w->meetings.n; i++)
		pos += snprintf(out + pos, sizeof(out) - pos, "%s%s", i ? "," : "", v[i]);
	return out;
}

static const char *refused_reason(const struct fleet_want *w, const char *key)
{
	for (size_t i = 0; i < w->n_refused; i++)
		if (!strcmp(w->refused[i].key, key))
			return w->refused[i].reason;
	return NULL;
}

static const struct meeting_spec *meeting(const struct fleet_want *w, const char *name)
{
	for (size_t i = 0; i < w->meetings.n; i++)
		if (!strcmp(w->meetings.v[i].name, name))
			return &w->meetings.v[i];
	return NULL;
}

static void test_names(void)
{
	char out[256];

	CHECK_INT("prefix_slash_added", 0, fleet_prefix("/geoblock", out, sizeof(out)));
	CHECK_STR("prefix_slash_added_value", "/geoblock/", out);
	CHECK_INT("prefix_slashes_folded", 0, fleet_prefix("/a/b//", out, sizeof(out)));
	CHECK_STR("prefix_slashes_folded_value", "/a/b/", out);
	CHECK_INT("prefix_relative_refused", -EINVAL, fleet_prefix("geoblock", out, sizeof(out)));
	CHECK_INT("prefix_root_refused", -EINVAL, fleet_prefix("/", out, sizeof(out)));
	CHECK("node_plain", fleet_node_valid("media-7.eu_1"));
	CHECK("node_slash_refused", !fleet_node_valid("a/b"));
	CHECK("node_empty_refused", !fleet_node_valid(""));
	CHECK_INT("key_global", 0, fleet_meeting_key(P, NULL, "board", out, sizeof(out)));
	CHECK_STR("key_global_value", "/gb/meetings/board", out);
	CHECK_INT("key_node", 0, fleet_meeting_key(P, "n1", "board", out, sizeof(out)));
	CHECK_STR("key_node_value", "/gb/nodes/n1/meetings/board", out);
	CHECK_INT("key_too_long", -ENAMETOOLONG, fleet_meeting_key(P, "n1", "board", out, 10));
}

/* kind, node and name of key as one string ("kind node name"). */
static const char *parsed(const char *key)
{
	static const char *const kinds[] = { "elsewhere", "outside", "meeting", "shared-ports",
					     "geoip", "status", "fleet" };
	static char out[200];
	struct fleet_key k;

	fleet_key_parse(P, key, &k);
	snprintf(out, sizeof(out), "%s %s %s", kinds[k.kind], *k.node ? k.node : "-",
		 *k.name ? k.name : "-");
	return out;
}

static void test_keys(void)
{
	struct fleet_key k;

	CHECK_STR("parse_global", "meeting - board", parsed(P "meetings/board"));
	CHECK_STR("parse_node", "meeting n1 board", parsed(P "nodes/n1/meetings/board"));
	CHECK_STR("parse_shared", "shared-ports - -", parsed(P "shared-ports"));
	CHECK_STR("parse_geoip", "geoip - -", parsed(P "geoip"));
	CHECK_STR("parse_status", "status n1 -", parsed(P "status/n1"));
	CHECK_STR("parse_mark", "fleet - -", parsed(P "fleet"));
	CHECK_STR("parse_mark_deeper", "outside - -", parsed(P "fleet/x"));
	CHECK_STR("parse_elsewhere", "elsewhere - -", parsed("/other/meetings/board"));
	CHECK_STR("parse_short_key", "elsewhere - -", parsed("/g"));
	CHECK_STR("parse_empty_name", "outside - -", parsed(P "meetings/"));
	CHECK_STR("parse_deeper_name", "outside - -", parsed(P "meetings/a/b"));
	CHECK_STR("parse_status_deeper", "outside - -", parsed(P "status/n1/x"));
	CHECK_STR("parse_status_empty", "outside - -", parsed(P "status/"));
	CHECK_STR("parse_node_junk", "outside - -", parsed(P "nodes/n1/junk"));
	CHECK_STR("parse_node_deeper", "outside - -", parsed(P "nodes/n1/meetings/a/b"));
	CHECK_STR("parse_node_empty", "outside - -", parsed(P "nodes//meetings/a"));
	CHECK_STR("parse_unknown", "outside - -", parsed(P "rooms/a"));
	CHECK_STR("parse_name_too_long", "outside - -",
		  parsed(P "meetings/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	fleet_key_parse(P, P "nodes/n2/meetings/a", &k);
	CHECK("others_meeting_not_mine", !fleet_key_concerns(&k, "n1"));
	CHECK("own_meeting_mine", fleet_key_concerns(&k, "n2"));
	fleet_key_parse(P, P "meetings/a", &k);
	CHECK("global_meeting_mine", fleet_key_concerns(&k, "n1"));
	fleet_key_parse(P, P "status/n1", &k);
	CHECK("own_status_not_a_rule", !fleet_key_concerns(&k, "n1"));
	fleet_key_parse(P, P "nodes/n2/junk", &k);
	CHECK("outside_key_refused_by_all", fleet_key_concerns(&k, "n1"));
	fleet_key_parse(P, "/other/x", &k);
	CHECK("elsewhere_not_mine", !fleet_key_concerns(&k, "n1"));
	fleet_key_parse(P, P "fleet", &k);
	CHECK("mark_concerns_every_node", fleet_key_concerns(&k, "n1"));
}

/* Which keys make a prefix a fleet's: a node with rules keeps them on a prefix of none. */
static void test_named(void)
{
	static const char *const fleet_keys[] = { P "meetings/a", P "nodes/n2/meetings/a",
						  P "shared-ports", P "geoip", P "fleet" };
	struct fleet_want w;
	char key[64];

	n = 0;
	CHECK("named_empty", !fleet_store_named(kvs, n, P));
	put(P "status/n1", "{}", 3);
	put(P "junk", "x", 4);
	put(P "nodes/n1/junk", "x", 5);
	put("/gbx/meetings/a", "{}", 6);
	CHECK("named_not_by_statuses_junk_or_elsewhere", !fleet_store_named(kvs, n, P));
	for (size_t i = 0; i < sizeof(fleet_keys) / sizeof(fleet_keys[0]); i++) {
		char name[80];

		put(fleet_keys[i], "{}", 7);
		snprintf(name, sizeof(name), "named_by %s", fleet_keys[i]);
		CHECK(name, fleet_store_named(kvs, n, P));
		n--;
	}
	put(P "fleet", "not even JSON", 8);
	CHECK_INT("mark_build", 0, fleet_want_build(kvs, n, P, "n1", &census, NULL, &w));
	CHECK_INT("mark_not_refused", 2, w.n_refused);	/* the two junk keys */
	CHECK_STR("mark_no_meeting", "", names(&w));
	fleet_want_free(&w);
	CHECK_INT("mark_key", 0, fleet_mark_key(P, key, sizeof(key)));
	CHECK_STR("mark_key_name", P "fleet", key);
}

static void test_layout(void)
{
	char big[FLEET_VALUE_MAX + 64];
	struct fleet_want w;

	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "{\"ports\":[1],\"block\":[\"DE\"]}", 28);
	n = 0;
	put(P "meetings/a", "{\"ports\":[5000],\"block\":[\"DE\"]}", 10);
	put(P "meetings/b", "{\"ports\":[\"5001-5002\"],\"block\":[\"FR\",\"DE\"],"
	    "\"mode\":\"monitor\"}", 11);
	put(P "meetings/clash", "{\"ports\":[5000],\"block\":[\"DE\"]}", 12);	/* a's port */
	put(P "meetings/early", "{\"ports\":[6000],\"block\":[\"DE\"]}", 5);
	put(P "meetings/late", "{\"ports\":[6000],\"block\":[\"FR\"]}", 15);	/* early's port */
	put(P "meetings/badjson", "{\"ports\":[7000],", 13);
	put(P "meetings/badcc", "{\"ports\":[7001],\"block\":[\"XX\"]}", 14);
	put(P "meetings/unknown", "{\"ports\":[7002],\"block\":[\"DE\"],\"colour\":1}", 16);
	put(P "meetings/relative", "{\"ports\":[7003],\"block\":[\"DE\"],\"expires\":\"1h\"}", 17);
	put(P "meetings/gone", "{\"ports\":[7004],\"block\":[\"DE\"],"
	    "\"expires\":\"2020-01-01T00:00:00Z\"}", 18);
	put(P "meetings/big", big, 19);
	put(P "meetings/shared", "{\"ports\":[10000],\"block\":[\"DE\"]}", 20);
	put(P "meetings/bad name!", "{\"ports\":[7005],\"block\":[\"DE\"]}", 21);
	put(P "nodes/n1/meetings/mine", "{\"ports\":[8000],\"block\":[\"RU\"]}", 22);
	put(P "nodes/n1/meetings/a", "{\"ports\":[8001],\"block\":[\"CN\"]}", 23);	/* wins */
	put(P "nodes/n2/meetings/theirs", "{\"ports\":[8002],\"block\":[\"RU\"]}", 24);
	put(P "nodes/n2/meetings/x/y", "{}", 25);
	put(P "nodes/a/b/meetings/c", "{}", 26);
	put(P "status/n1", "{\"revision\":1}", 27);
	put(P "shared-ports", "{\"ports\":[10000,\"3478\"]}", 28);
	put(P "geoip", "{\"build_epoch\":1700000000}", 29);
	put(P "junk", "1", 30);
	put("/other/meetings/z", "{\"ports\":[9000],\"block\":[\"DE\"]}", 31);

	CHECK_INT("build", 0, fleet_want_build(kvs, n, P, "n1", &census, NULL, &w));
	CHECK_STR("taken", "a,b,clash,early,mine", names(&w));
	CHECK("node_own_wins", meeting(&w, "a") && port_isset(meeting(&w, "a")->ports, 8001) &&
	      !port_isset(meeting(&w, "a")->ports, 5000));
	/* On n1 a's global version gives way to n1's own, so clash keeps port 5000. */
	CHECK("clash_taken_where_a_gave_way", !refused_reason(&w, P "meetings/clash") &&
	      meeting(&w, "clash"));
	CHECK("late_loses_port", refused_reason(&w, P "meetings/late") &&
	      strstr(refused_reason(&w, P "meetings/late"), "6000"));
	CHECK("badjson", refused_reason(&w, P "meetings/badjson") &&
	      strstr(refused_reason(&w, P "meetings/badjson"), "not a JSON object"));
	CHECK("badcc", refused_reason(&w, P "meetings/badcc") &&
	      strstr(refused_reason(&w, P "meetings/badcc"), "XX"));
	CHECK("unknown_field", refused_reason(&w, P "meetings/unknown") &&
	      strstr(refused_reason(&w, P "meetings/unknown"), "colour"));
	CHECK("relative_expiry", refused_reason(&w, P "meetings/relative") &&
	      strstr(refused_reason(&w, P "meetings/relative"), "not a duration"));
	CHECK("expired_left_out_not_refused", !refused_reason(&w, P "meetings/gone") &&
	      !meeting(&w, "gone"));
	CHECK("too_big", refused_reason(&w, P "meetings/big") &&
	      strstr(refused_reason(&w, P "meetings/big"), "over the limit"));
	CHECK("shared_port_meeting", refused_reason(&w, P "meetings/shared") &&
	      strstr(refused_reason(&w, P "meetings/shared"), "shared port"));
	CHECK("bad_name", refused_reason(&w, P "meetings/bad name!") != NULL);
	CHECK("other_node_ignored", !meeting(&w, "theirs") &&
	      !refused_reason(&w, P "nodes/n2/meetings/theirs"));
	CHECK("deep_key_refused", refused_reason(&w, P "nodes/n2/meetings/x/y") != NULL);
	CHECK("node_with_slash_refused", refused_reason(&w, P "nodes/a/b/meetings/c") != NULL);
	CHECK("status_ignored", !refused_reason(&w, P "status/n1"));
	CHECK("junk_refused", refused_reason(&w, P "junk") &&
	      strstr(refused_reason(&w, P "junk"), "outside the layout"));
	CHECK("other_prefix_ignored", !refused_reason(&w, "/other/meetings/z"));
	CHECK("shared_ports", port_isset(w.shared, 10000) && port_isset(w.shared, 3478) &&
	      !port_isset(w.shared, 5000));
	CHECK("geoip", w.geoip_given && w.geoip_build_epoch == 1700000000);
	CHECK("monitor_read", meeting(&w, "b") &&
	      (meeting(&w, "b")->flags & GB_MEETING_MONITOR));
	for (size_t i = 0; i < w.n_refused; i++)
		if (!strcmp(w.refused[i].key, P "meetings/late"))
			CHECK_STR("refusal_name", "late", w.refused[i].name);
	fleet_want_free(&w);

	/* Another node takes the global a, so clash, written after it, loses its port. */
	CHECK_INT("build_n2", 0, fleet_want_build(kvs, n, P, "n2", &census, NULL, &w));
	CHECK_STR("taken_n2", "a,b,early,theirs", names(&w));
	CHECK("clash_loses_to_a", refused_reason(&w, P "meetings/clash") &&
	      strstr(refused_reason(&w, P "meetings/clash"), "5000"));
	fleet_want_free(&w);

	/* sha256: null is as absent, upper-case hex taken (lower-cased), anything else refused. */
	n = 0;
	put(P "geoip", "{\"build_epoch\":1700000000,\"sha256\":null}", 2);
	CHECK_INT("sha256_null", 0, fleet_want_build(kvs, n, P, "n1", &census, NULL, &w));
	CHECK("sha256_null_taken", w.geoip_given && !*w.geoip_sha256 &&
	      !refused_reason(&w, P "geoip"));
	fleet_want_free(&w);
	n = 0;
	put(P "geoip", "{\"build_epoch\":1700000000,\"sha256\":\"9F86D081884C7D659A2FEAA0C55AD015"
		      "A3BF4F1B2B0B822CD15D6C15B0F00A08\"}", 2);
	CHECK_INT("sha256_upper", 0, fleet_want_build(kvs, n, P, "n1", &census, NULL, &w));
	CHECK_STR("sha256_upper_lowered", "9f86d081884c7d659a2feaa0c55ad015"
		  "a3bf4f1b2b0b822cd15d6c15b0f00a08", w.geoip_sha256);
	fleet_want_free(&w);
	n = 0;
	put(P "geoip", "{\"build_epoch\":1700000000,\"sha256\":\"9f86\"}", 2);
	CHECK_INT("sha256_short", 0, fleet_want_build(kvs, n, P, "n1", &census, NULL, &w));
	CHECK("sha256_short_refused", !w.geoip_given && refused_reason(&w, P "geoip"));
	fleet_want_free(&w);

	/* A clean store is taken whole. */
	n = 0;
	put(P "meetings/a", "{\"ports\":[5000],\"block\":[\"DE\"]}", 3);
	put(P "meetings/b", "{\"ufrags\":[\"abcd\"],\"block\":[\"DE\"]}", 2);
	CHECK_INT("clean", 0, fleet_want_build(kvs, n, P, "n1", &census, NULL, &w));
	CHECK_STR("clean_taken", "a,b", names(&w));
	CHECK_INT("clean_nothing_refused", 0, w.n_refused);
	CHECK("no_geoip", !w.geoip_given);
	fleet_want_free(&w);
}

/*
 * A bad write must not lift a block: a refused shared-ports or geoip key gives what the node
 * applied before; a refused node's own meeting does not give way to the global one of its name.
 */
static void test_refused_keeps(void)
{
	struct fleet_kept kept = { .shared_known = true, .geoip_given = true,
				   .geoip_build_epoch = 1700000000 };
	static const char *const bad_shared[] = {
		"{\"ports\":[3478,10000", "{\"ports\":\"3478\"}", "{\"ports\":[3478],\"x\":1}",
		"{\"ports\":[99999]}", "{\"ports\":[3478],\"ports\":[10000]}",
	};
	struct fleet_want w;
	char name[64];

	kept.shared[3478 / 8] |= 1u << (3478 % 8);
	kept.shared[10000 / 8] |= 1u << (10000 % 8);
	memset(kept.geoip_sha256, 'a', 64);
	for (size_t i = 0; i < sizeof(bad_shared) / sizeof(bad_shared[0]); i++) {
		n = 0;
		put(P "shared-ports", bad_shared[i], 3);
		put(P "geoip", "{\"build_epoch\":-1}", 4);
		put(P "meetings/m", "{\"ufrags\":[\"abcd\"],\"block\":[\"DE\"]}", 5);
		snprintf(name, sizeof(name), "kept_build_%zu", i);
		CHECK_INT(name, 0, fleet_want_build(kvs, n, P, "n1", &census, &kept, &w));
		snprintf(name, sizeof(name), "kept_shared_%zu", i);
		CHECK(name, !memcmp(w.shared, kept.shared, sizeof(w.shared)) &&
		      refused_reason(&w, P "shared-ports") &&
		      strstr(refused_reason(&w, P "shared-ports"), "applied before are kept"));
		snprintf(name, sizeof(name), "kept_geoip_%zu", i);
		CHECK(name, w.geoip_given && w.geoip_build_epoch == 1700000000 &&
		      !strcmp(w.geoip_sha256, kept.geoip_sha256));
		fleet_want_free(&w);
		/* Knowing nothing to keep, nothing is given. */
		CHECK_INT(name, 0, fleet_want_build(kvs, n, P, "n1", &census, NULL, &w));
		snprintf(name, sizeof(name), "none_kept_%zu", i);
		CHECK(name, !port_isset(w.shared, 3478) && !w.geoip_given);
		fleet_want_free(&w);
	}

	/* A value giving a name twice is refused, as the API refuses such a body. */
	n = 0;
	put(P "meetings/dup", "{\"ports\":[6800],\"block\":[\"RU\"],\"block\":[\"CN\"]}", 3);
	CHECK_INT("dup_build", 0, fleet_want_build(kvs, n, P, "n1", &census, NULL, &w));
	CHECK("dup_refused", !meeting(&w, "dup") && refused_reason(&w, P "meetings/dup") &&
	      strstr(refused_reason(&w, P "meetings/dup"), "twice"));
	fleet_want_free(&w);

	/* n1's own board refused: the global board is not taken in its place on n1. */
	n = 0;
	put(P "meetings/board", "{\"ports\":[\"5000-5010\"],\"block\":[\"CN\"]}", 3);
	put(P "nodes/n1/meetings/board", "{\"ports\":[5000],\"block\":[\"US\"],\"mode\":\"x\"}",
	    4);
	CHECK_INT("own_refused_build", 0, fleet_want_build(kvs, n, P, "n1", &census, NULL, &w));
	CHECK("own_refused", refused_reason(&w, P "nodes/n1/meetings/board") != NULL);
	CHECK_STR("own_refused_global_not_taken", "", names(&w));
	fleet_want_free(&w);
	CHECK_INT("other_node_build", 0, fleet_want_build(kvs, n, P, "n2", &census, NULL, &w));
	CHECK_STR("other_node_takes_global", "board", names(&w));
	fleet_want_free(&w);
}

/*
 * A meeting that would take the node past its drop counters (one per meeting and country it
 * blocks) is refused alone, the last written; the others are taken.
 */
static void test_counters(void)
{
	static char keys[270][64], value[2048];
	size_t len = 0, each = 0;
	struct fleet_want w;
	size_t fit;

	len = snprintf(value, sizeof(value), "{\"ports\":[%%u],\"block\":[");
	for (unsigned int c = 0; c < iso3166_count && len < sizeof(value) - 16; c++, each++)
		len += snprintf(value + len, sizeof(value) - len, "%s\"%s\"", c ? "," : "",
				iso3166_countries[c].code);
	snprintf(value + len, sizeof(value) - len, "]}");
	fit = (GB_DROP_COUNTERS - 1) / each;
	n = 0;
	for (size_t i = 0; i <= fit; i++) {
		char *v = malloc(sizeof(value) + 8);

		snprintf(keys[i], sizeof(keys[i]), P "meetings/m%zu", i);
		snprintf(v, sizeof(value) + 8, value, (unsigned int)(5000 + i));
		put(keys[i], v, 10 + i);
	}
	CHECK_INT("counters_build", 0, fleet_want_build(kvs, n, P, "n1", &census, NULL, &w));
	CHECK_INT("counters_taken", (int)fit, (int)w.meetings.n);
	snprintf(value, sizeof(value), P "meetings/m%zu", fit);
	CHECK("counters_last_refused", refused_reason(&w, value) &&
	      strstr(refused_reason(&w, value), "drop counters"));
	CHECK_INT("counters_one_refused", 1, (int)w.n_refused);
	fleet_want_free(&w);
	for (size_t i = 0; i < n; i++)
		free(kvs[i].value);
	n = 0;
}

int main(void)
{
	test_names();
	test_keys();
	test_named();
	test_layout();
	test_refused_keeps();
	test_counters();
	return check_summary();
}
