// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/metrics/metrics.c: label values escaped per the text format, series only for pairs
 * of live meetings, each family announced once, nothing rendered for what is not there.
 */
#include <stdlib.h>
#include <string.h>
#include "lib/country.h"
#include "kern/counters.h"
#include "kern/links.h"
#include "metrics/metrics.h"
#include "check.h"

static const char *escaped(const char *in)
{
	static char out[256];
	struct textbuf b = {};

	textbuf_label_value(&b, in);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.p ? b.p : "");
	textbuf_free(&b);
	return out;
}

/* Lines of page that start with prefix, joined by '|'. */
static const char *lines(const char *page, const char *prefix)
{
	static char out[4096];
	size_t n = 0, plen = strlen(prefix);

	out[0] = '\0';
	for (const char *l = page; *l;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		if (len >= plen && !strncmp(l, prefix, plen) && n + len + 2 < sizeof(out)) {
			if (n)
				out[n++] = '|';
			memcpy(out + n, l, len);
			n += len;
			out[n] = '\0';
		}
		l += len + (nl ? 1 : 0);
	}
	return out;
}

static int count(const char *page, const char *needle)
{
	int n = 0;

	for (const char *p = page; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void add_meeting(struct counters *c, __u32 id, const char *name, bool monitor, bool active)
{
	struct meeting_policy *p = &c->policies[id];

	snprintf(p->name, sizeof(p->name), "%s", name);
	p->flags = (active ? GB_MEETING_ACTIVE : 0) | GB_MEETING_UDP |
		   (monitor ? GB_MEETING_MONITOR : 0);
}

static char *render(const struct counters *c)
{
	struct textbuf b = {};

	CHECK("render succeeds", metrics_render(c, NULL, &b) == 0);
	if (!b.p)
		return strdup("");
	b.p[b.len - 1] = '\0';	/* the last newline; every page ends with one */
	return b.p;
}

int main(void)
{
	struct counters c = {};
	char *page;

	CHECK_STR("plain value unchanged", "standup-1.a_b", escaped("standup-1.a_b"));
	CHECK_STR("backslash, quote, newline escaped", "a\\\\b\\\"c\\nd", escaped("a\\b\"c\nd"));
	CHECK_STR("UTF-8 kept", "M\xc3\xbcnchen \xe2\x82\xac",
		  escaped("M\xc3\xbcnchen \xe2\x82\xac"));
	CHECK_STR("invalid UTF-8 replaced, not dropped", "a\xef\xbf\xbd" "b\xef\xbf\xbd",
		  escaped("a\xff" "b\xc3"));
	CHECK_STR("overlong encoding replaced", "\xef\xbf\xbd\xef\xbf\xbd", escaped("\xc0\xaf"));

	c.policies = calloc(GB_MAX_MEETINGS, sizeof(*c.policies));
	c.pairs = calloc(8, sizeof(*c.pairs));
	c.links = calloc(2, sizeof(*c.links));
	c.ifaces = calloc(2, sizeof(*c.ifaces));
	add_meeting(&c, 1, "standup", false, true);
	add_meeting(&c, 2, "town-hall", true, true);
	add_meeting(&c, 3, "leaving", false, false);	/* being deleted */
	c.meetings[0] = 1;
	c.meetings[1] = 1;
	/* standup blocks DE (dropped 5) and JP (nothing yet); town-hall (monitor) blocks US. */
	c.pairs[0] = (struct pair_counter){ .meeting_id = 1, .country = country_id("DE"),
					    .blocked = 1, .counted = 1,
					    .c = { .packets = 5, .bytes = 500 } };
	c.pairs[1] = (struct pair_counter){ .meeting_id = 1, .country = country_id("JP"),
					    .blocked = 1 };
	c.pairs[2] = (struct pair_counter){ .meeting_id = 2, .country = country_id("US"),
					    .blocked = 1, .counted = 1,
					    .c = { .monitor_packets = 7, .monitor_bytes = 700 } };
	c.n_pairs = 3;
	c.links[0] = (struct link_state){ .name = "eth0", .ifindex = 2 };
	c.links[1] = (struct link_state){ .name = "gone0", .ifindex = 0 };
	c.n_links = 2;
	c.ifaces[0] = (struct iface_counter){ .ifindex = 2, .name = "eth0", .packets = 5,
					      .bytes = 500 };
	c.n_ifaces = 1;
	c.verdicts[GB_DROP] = (struct verdict_counter){ 5, 500 };
	c.verdicts[GB_PASS_FRAGMENT] = (struct verdict_counter){ 3, 4500 };
	c.passed = (struct verdict_counter){ 3, 4500 };
	c.geoip = (struct geoip_info){ .loaded_at = 1700000000, .build_epoch = 1690000000,
				       .v4_prefixes = 10, .v6_prefixes = 20, .failed_reloads = 2,
				       .last_failure_at = 1700000100 };
	snprintf(c.geoip.source, sizeof(c.geoip.source), "/data/a \"b\"\\c\nd.mmdb");
	snprintf(c.geoip.database_type, sizeof(c.geoip.database_type), "GeoLite2-Country");

	page = render(&c);
	CHECK_STR("drops: every blocked country of an enforcing meeting, counted or not",
		  "geoblock_dropped_packets_total{meeting=\"standup\",country=\"DE\"} 5|"
		  "geoblock_dropped_packets_total{meeting=\"standup\",country=\"JP\"} 0",
		  lines(page, "geoblock_dropped_packets_total{"));
	CHECK_STR("drop bytes: the same pairs",
		  "geoblock_dropped_bytes_total{meeting=\"standup\",country=\"DE\"} 500|"
		  "geoblock_dropped_bytes_total{meeting=\"standup\",country=\"JP\"} 0",
		  lines(page, "geoblock_dropped_bytes_total{"));
	CHECK_STR("monitor hits: the monitor-mode meeting's pairs",
		  "geoblock_monitor_packets_total{meeting=\"town-hall\",country=\"US\"} 7",
		  lines(page, "geoblock_monitor_packets_total{"));
	CHECK_STR("monitor bytes",
		  "geoblock_monitor_bytes_total{meeting=\"town-hall\",country=\"US\"} 700",
		  lines(page, "geoblock_monitor_bytes_total{"));
	CHECK_INT("a meeting being deleted has no series", 0, count(page, "leaving"));
	CHECK_STR("per-interface drops, of attached interfaces",
		  "geoblock_interface_dropped_packets_total{interface=\"eth0\"} 5",
		  lines(page, "geoblock_interface_dropped_packets_total{"));
	CHECK_STR("attach state per pinned link",
		  "geoblock_filter_attached{interface=\"eth0\"} 1|"
		  "geoblock_filter_attached{interface=\"gone0\"} 0",
		  lines(page, "geoblock_filter_attached{"));
	CHECK_STR("verdicts by name", "geoblock_verdict_packets_total{verdict=\"fragment\"} 3",
		  lines(page, "geoblock_verdict_packets_total{verdict=\"fragment\""));
	CHECK_STR("passed", "geoblock_passed_packets_total 3",
		  lines(page, "geoblock_passed_packets_total "));
	CHECK_STR("meetings by mode",
		  "geoblock_meetings{mode=\"enforce\"} 1|geoblock_meetings{mode=\"monitor\"} 1",
		  lines(page, "geoblock_meetings{"));
	CHECK_STR("meeting info",
		  "geoblock_meeting_info{meeting=\"standup\",mode=\"enforce\"} 1|"
		  "geoblock_meeting_info{meeting=\"town-hall\",mode=\"monitor\"} 1",
		  lines(page, "geoblock_meeting_info{"));
	CHECK_STR("prefixes per family",
		  "geoblock_geoip_prefixes{family=\"ipv4\"} 10|"
		  "geoblock_geoip_prefixes{family=\"ipv6\"} 20",
		  lines(page, "geoblock_geoip_prefixes{"));
	CHECK_STR("build time", "geoblock_geoip_build_timestamp_seconds 1690000000",
		  lines(page, "geoblock_geoip_build_timestamp_seconds "));
	CHECK_STR("failed reloads", "geoblock_geoip_reload_failures_total 2",
		  lines(page, "geoblock_geoip_reload_failures_total "));
	CHECK_STR("build info", "geoblock_build_info{version=\"" GB_VERSION "\"} 1",
		  lines(page, "geoblock_build_info{"));
	CHECK_STR("a source path with quote, backslash and newline is escaped",
		  "geoblock_geoip_info{database_type=\"GeoLite2-Country\","
		  "source=\"/data/a \\\"b\\\"\\\\c\\nd.mmdb\"} 1",
		  lines(page, "geoblock_geoip_info{"));
	CHECK_INT("each family has one HELP", 1,
		  count(page, "# HELP geoblock_dropped_packets_total "));
	CHECK_INT("and one TYPE", 1,
		  count(page, "# TYPE geoblock_dropped_packets_total counter\n"));
	CHECK_INT("no duration without a start time", 0, count(page, "scrape_duration"));
	CHECK_INT("no line is a raw newline inside a value", 0, count(page, "\nd.mmdb"));
	free(page);

	/* A meeting switched from monitor to enforce keeps its monitor history and gains drops. */
	c.policies[2].flags &= ~GB_MEETING_MONITOR;
	page = render(&c);
	CHECK_STR("switched meeting: drops from zero",
		  "geoblock_dropped_packets_total{meeting=\"town-hall\",country=\"US\"} 0",
		  lines(page, "geoblock_dropped_packets_total{meeting=\"town-hall\""));
	CHECK_STR("switched meeting: monitor history kept",
		  "geoblock_monitor_packets_total{meeting=\"town-hall\",country=\"US\"} 7",
		  lines(page, "geoblock_monitor_packets_total{"));
	free(page);

	/* Nothing configured, nothing loaded: no pair or info series, the totals at zero. */
	memset(c.policies, 0, GB_MAX_MEETINGS * sizeof(*c.policies));
	c.n_pairs = c.n_links = c.n_ifaces = 0;
	c.meetings[0] = c.meetings[1] = 0;
	memset(&c.geoip, 0, sizeof(c.geoip));
	page = render(&c);
	CHECK_INT("empty: no pair series", 0, count(page, "meeting="));
	CHECK_INT("empty: no interface series", 0, count(page, "interface="));
	CHECK_INT("empty: no geoip info", 0, count(page, "geoblock_geoip_info"));
	CHECK_STR("empty: meetings zero",
		  "geoblock_meetings{mode=\"enforce\"} 0|geoblock_meetings{mode=\"monitor\"} 0",
		  lines(page, "geoblock_meetings{"));
	free(page);

	{
		struct timespec start;
		struct textbuf b = {};

		clock_gettime(CLOCK_MONOTONIC, &start);
		metrics_render(&c, &start, &b);
		b.p[b.len - 1] = '\0';
		CHECK("duration rendered with a start time",
		      !strncmp(lines(b.p, "geoblock_scrape_duration_seconds "),
			       "geoblock_scrape_duration_seconds 0.", 35));
		textbuf_free(&b);
	}
	counters_free(&c);
	return check_summary();
}
