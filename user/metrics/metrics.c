// SPDX-License-Identifier: GPL-2.0
/*
 * Renders the counters as the /metrics page (Prometheus text format 0.0.4). Formatting is done by
 * hand rather than with printf: a scrape of 1,000 meetings x 20 countries is ~40,000 lines.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/country.h"
#include "lib/parse.h"
#include "lib/version.h"
#include "kern/counters.h"
#include "state/janus_members.h"
#include "metrics/metrics.h"

void textbuf_free(struct textbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static bool reserve(struct textbuf *b, size_t more)
{
	size_t cap;
	char *p;

	if (b->oom)
		return false;
	if (b->len + more <= b->cap)
		return true;
	for (cap = b->cap ? b->cap : 4096; cap < b->len + more; cap *= 2)
		;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void put(struct textbuf *b, const char *s, size_t n)
{
	if (!n || !reserve(b, n))	/* nothing to add: b->p may still be NULL */
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void puts_(struct textbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_u64(struct textbuf *b, unsigned long long v)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do {
		*--p = '0' + v % 10;
		v /= 10;
	} while (v);
	put(b, p, tmp + sizeof(tmp) - p);
}

/*
 * Label values are UTF-8 with backslash, double quote and newline escaped. Values from outside
 * (a database's path and type) may be any bytes: an invalid byte becomes U+FFFD rather than
 * spoiling the whole page.
 */
void textbuf_label_value(struct textbuf *b, const char *s)
{
	const unsigned char *u = (const unsigned char *)s, *run = u;

	for (; *u; u++) {
		const char *esc = *u == '\\' ? "\\\\" : *u == '"' ? "\\\"" :
				  *u == '\n' ? "\\n" : NULL;
		int n = esc ? 1 : gb_utf8_len(u);

		if (n > 1) {
			u += n - 1;
			continue;
		}
		if (n == 1 && !esc)
			continue;
		put(b, (const char *)run, u - run);
		if (esc)
			put(b, esc, 2);
		else
			put(b, "\xef\xbf\xbd", 3);
		run = u + 1;
	}
	put(b, (const char *)run, u - run);
}

static void family(struct textbuf *b, const char *name, const char *type, const char *help)
{
	puts_(b, "# HELP ");
	puts_(b, name);
	put(b, " ", 1);
	puts_(b, help);
	puts_(b, "\n# TYPE ");
	puts_(b, name);
	put(b, " ", 1);
	puts_(b, type);
	put(b, "\n", 1);
}

/* name{l1="v1"[,l2="v2"]} value */
static void sample(struct textbuf *b, const char *name, const char *l1, const char *v1,
		   const char *l2, const char *v2, unsigned long long value)
{
	puts_(b, name);
	if (l1) {
		put(b, "{", 1);
		puts_(b, l1);
		put(b, "=\"", 2);
		textbuf_label_value(b, v1);
		if (l2) {
			put(b, "\",", 2);
			puts_(b, l2);
			put(b, "=\"", 2);
			textbuf_label_value(b, v2);
		}
		put(b, "\"}", 2);
	}
	put(b, " ", 1);
	put_u64(b, value);
	put(b, "\n", 1);
}

/* Fields of struct drop_counter: 0 packets, 1 bytes, 2 monitor packets, 3 monitor bytes. */
static __u64 counter_field(const struct drop_counter *d, int field)
{
	switch (field) {
	case 0:
		return d->packets;
	case 1:
		return d->bytes;
	case 2:
		return d->monitor_packets;
	default:
		return d->monitor_bytes;
	}
}

static bool monitor_mode(const struct counters *c, const struct pair_counter *p)
{
	return c->policies[p->meeting_id].flags & GB_MEETING_MONITOR;
}

/*
 * Per (meeting, country): a meeting that enforces has drop series for every country it blocks, one
 * in monitor mode has monitor series; either also shows any non-zero counter of the other kind
 * (a meeting switched between modes keeps its history).
 */
static void pairs(struct textbuf *b, const struct counters *c, const char *name, const char *help,
		  bool monitor, int field)
{
	bool any = false;

	for (size_t i = 0; i < c->n_pairs; i++) {
		const struct pair_counter *p = &c->pairs[i];
		__u64 v = counter_field(&p->c, field), other = counter_field(&p->c, field ^ 1);
		char cc[3];

		/* Packets and bytes series go together: a pair has both or neither. */
		if (monitor_mode(c, p) != monitor && !v && !other)
			continue;
		if (!any)
			family(b, name, "counter", help);
		any = true;
		country_code(p->country, cc);
		sample(b, name, "meeting", c->policies[p->meeting_id].name, "country", cc, v);
	}
}

static void interfaces(struct textbuf *b, const struct counters *c)
{
	static const char *const names[2] = { "geoblock_interface_dropped_packets_total",
					      "geoblock_interface_dropped_bytes_total" };
	static const char *const helps[2] = {
		"Packets dropped by the filter, per interface.",
		"Bytes of the packets dropped by the filter (whole frames), per interface.",
	};

	if (c->n_ifaces)
		for (int k = 0; k < 2; k++) {
			family(b, names[k], "counter", helps[k]);
			for (size_t i = 0; i < c->n_ifaces; i++) {
				sample(b, names[k], "interface", c->ifaces[i].name, NULL, NULL,
				       k ? c->ifaces[i].bytes : c->ifaces[i].packets);
			}
		}
	if (!c->n_links)
		return;
	family(b, "geoblock_filter_attached", "gauge",
	       "1 if the filter is attached to the interface through its pinned link, 0 if that "
	       "interface is gone.");
	for (size_t i = 0; i < c->n_links; i++)
		sample(b, "geoblock_filter_attached", "interface", c->links[i].name, NULL, NULL,
		       c->links[i].ifindex > 0);
}

static void verdicts(struct textbuf *b, const struct counters *c)
{
	family(b, "geoblock_verdict_packets_total", "counter",
	       "Packets seen by the filter, by the one verdict each got.");
	for (int r = 0; r < GB_REASON_COUNT; r++)
		sample(b, "geoblock_verdict_packets_total", "verdict", verdict_names[r], NULL, NULL,
		       c->verdicts[r].packets);
	family(b, "geoblock_verdict_bytes_total", "counter",
	       "Bytes of the packets seen by the filter (whole frames), by verdict.");
	for (int r = 0; r < GB_REASON_COUNT; r++)
		sample(b, "geoblock_verdict_bytes_total", "verdict", verdict_names[r], NULL, NULL,
		       c->verdicts[r].bytes);
	family(b, "geoblock_ice_senders_total", "counter",
	       "Binding Requests to shared ports by what they did to their sender's binding: "
	       "learned (new, or evicted before), refreshed, moved (silent 30 s, now another "
	       "meeting's), kept (another meeting's ufrag while bound), rebound (its ufrag gone, or "
	       "another of the same meeting).");
	for (int i = 0; i < GB_ICE_STAT_COUNT; i++)
		sample(b, "geoblock_ice_senders_total", "event", ice_stat_names[i], NULL, NULL,
		       c->ice[i]);
	/* Left out, rather than said 0, when the scrape could not map the cache. */
	if (c->ice_cache_known) {
		family(b, "geoblock_ice_senders_cached", "gauge",
		       "Senders to shared ports whose meeting and country the data path keeps at "
		       "hand (entries in use in its cache, ice_hot).");
		sample(b, "geoblock_ice_senders_cached", NULL, NULL, NULL, NULL, c->ice_cached);
		family(b, "geoblock_ice_senders_cache_suspended", "gauge",
		       "1 while the data path leaves that cache alone (a change clears it, or "
		       "stopped doing so: this daemon's pass or the next change repairs it), every "
		       "sender's packet then reading its set; else 0.");
		sample(b, "geoblock_ice_senders_cache_suspended", NULL, NULL, NULL, NULL,
		       c->ice_cache_suspended);
	}
	family(b, "geoblock_passed_packets_total", "counter",
	       "Packets the filter passed (every verdict but dropped).");
	sample(b, "geoblock_passed_packets_total", NULL, NULL, NULL, NULL, c->passed.packets);
	family(b, "geoblock_passed_bytes_total", "counter",
	       "Bytes of the packets the filter passed (whole frames).");
	sample(b, "geoblock_passed_bytes_total", NULL, NULL, NULL, NULL, c->passed.bytes);
}

static void meetings(struct textbuf *b, const struct counters *c)
{
	family(b, "geoblock_meetings", "gauge", "Meetings configured, by mode.");
	sample(b, "geoblock_meetings", "mode", "enforce", NULL, NULL, c->meetings[0]);
	sample(b, "geoblock_meetings", "mode", "monitor", NULL, NULL, c->meetings[1]);
	if (!c->meetings[0] && !c->meetings[1])
		return;
	family(b, "geoblock_meeting_info", "gauge",
	       "1 for each meeting configured, with its mode.");
	for (__u32 id = 1; id < GB_MAX_MEETINGS; id++) {
		const struct meeting_policy *p = &c->policies[id];

		if (meeting_live(p))
			sample(b, "geoblock_meeting_info", "meeting", p->name, "mode",
			       p->flags & GB_MEETING_MONITOR ? "monitor" : "enforce", 1);
	}
}

static void geoip(struct textbuf *b, const struct counters *c)
{
	const struct geoip_info *g = &c->geoip;

	family(b, "geoblock_geoip_prefixes", "gauge",
	       "Prefixes in the loaded GeoIP table (after merging), per address family.");
	sample(b, "geoblock_geoip_prefixes", "family", "ipv4", NULL, NULL, g->v4_prefixes);
	sample(b, "geoblock_geoip_prefixes", "family", "ipv6", NULL, NULL, g->v6_prefixes);
	family(b, "geoblock_geoip_build_timestamp_seconds", "gauge",
	       "Build time of the loaded GeoIP database (its own metadata), unix seconds; 0 if "
	       "none is loaded.");
	sample(b, "geoblock_geoip_build_timestamp_seconds", NULL, NULL, NULL, NULL, g->build_epoch);
	family(b, "geoblock_geoip_last_load_success_timestamp_seconds", "gauge",
	       "When a GeoIP database was last loaded successfully, unix seconds; 0 if never.");
	sample(b, "geoblock_geoip_last_load_success_timestamp_seconds", NULL, NULL, NULL, NULL,
	       g->loaded_at);
	family(b, "geoblock_geoip_last_load_failure_timestamp_seconds", "gauge",
	       "When a GeoIP load was last refused, unix seconds; 0 if never.");
	sample(b, "geoblock_geoip_last_load_failure_timestamp_seconds", NULL, NULL, NULL, NULL,
	       g->last_failure_at);
	family(b, "geoblock_geoip_reload_failures_total", "counter",
	       "GeoIP loads refused (the loaded table stayed) since the pinned maps were created.");
	sample(b, "geoblock_geoip_reload_failures_total", NULL, NULL, NULL, NULL,
	       g->failed_reloads);
	if (!g->loaded_at)
		return;
	family(b, "geoblock_geoip_info", "gauge",
	       "1, with the loaded GeoIP database's type and path.");
	sample(b, "geoblock_geoip_info", "database_type", g->database_type, "source", g->source, 1);
}

/*
 * What other threads register for the page: held while a render reads them, so that their owner,
 * once it took them off, may free them.
 */
static pthread_mutex_t shown_mu = PTHREAD_MUTEX_INITIALIZER;
static const struct fleet_gauges *fleet_shown;
static struct janus_members *janus_shown;

void metrics_show_fleet(const struct fleet_gauges *g)
{
	pthread_mutex_lock(&shown_mu);
	fleet_shown = g;
	pthread_mutex_unlock(&shown_mu);
}

void metrics_show_janus(struct janus_members *m)
{
	pthread_mutex_lock(&shown_mu);
	janus_shown = m;
	pthread_mutex_unlock(&shown_mu);
}

/* shown_mu held. */
static void fleet(struct textbuf *b)
{
	const struct fleet_gauges *g = fleet_shown;

	if (!g)
		return;
	family(b, "geoblock_fleet_connected", "gauge",
	       "1 while the daemon's watch of its fleet store (etcd) is up, else 0.");
	sample(b, "geoblock_fleet_connected", NULL, NULL, NULL, NULL,
	       __atomic_load_n(&g->connected, __ATOMIC_RELAXED));
	family(b, "geoblock_fleet_applied_revision", "gauge",
	       "The store's revision the rule set here was last made equal to.");
	sample(b, "geoblock_fleet_applied_revision", NULL, NULL, NULL, NULL,
	       __atomic_load_n(&g->applied_revision, __ATOMIC_RELAXED));
	family(b, "geoblock_fleet_last_sync_timestamp_seconds", "gauge",
	       "Unix time the rule set here was last known to equal the store's (0: never).");
	sample(b, "geoblock_fleet_last_sync_timestamp_seconds", NULL, NULL, NULL, NULL,
	       __atomic_load_n(&g->last_sync, __ATOMIC_RELAXED));
	family(b, "geoblock_fleet_rejected_keys_total", "counter",
	       "Keys of the store refused here (bad JSON, unknown country, a port owned twice, "
	       "outside the layout), each version once.");
	sample(b, "geoblock_fleet_rejected_keys_total", NULL, NULL, NULL, NULL,
	       __atomic_load_n(&g->rejected_total, __ATOMIC_RELAXED));
}

/* The Janus counters without labels: name, help, and where in struct janus_counts. */
static const struct {
	const char *name, *help;
	size_t at;
} janus_counters[] = {
	{ "geoblock_janus_joins_total", "Janus handles that joined a VideoRoom room (any room).",
	  offsetof(struct janus_counts, joined) },
	{ "geoblock_janus_ports_given_total",
	  "Ports given to meetings for their rooms' Janus handles.",
	  offsetof(struct janus_counts, ports_given) },
	{ "geoblock_janus_ports_taken_total",
	  "Ports taken back from meetings as their Janus handles left or went silent.",
	  offsetof(struct janus_counts, ports_taken) },
	{ "geoblock_janus_ports_refused_total",
	  "Ports of Janus handles not given: another meeting's, or shared.",
	  offsetof(struct janus_counts, refused) },
	{ "geoblock_janus_hangups_total",
	  "Janus handles hung up through the Admin API because their meeting blocks their client "
	  "(--janus-hangup).", offsetof(struct janus_counts, hangups) },
};

/* shown_mu held. */
static void janus(struct textbuf *b)
{
	struct janus_counts f;

	if (!janus_shown)
		return;
	f = janus_members_counts(janus_shown);
	family(b, "geoblock_janus_events_total", "counter",
	       "Events Janus posted to the daemon (--janus-events): used, of no interest (ignored), "
	       "or not JSON events (malformed).");
	sample(b, "geoblock_janus_events_total", "outcome", "used", NULL, NULL, f.used);
	sample(b, "geoblock_janus_events_total", "outcome", "ignored", NULL, NULL, f.ignored);
	sample(b, "geoblock_janus_events_total", "outcome", "malformed", NULL, NULL, f.malformed);
	for (size_t i = 0; i < sizeof(janus_counters) / sizeof(janus_counters[0]); i++) {
		family(b, janus_counters[i].name, "counter", janus_counters[i].help);
		sample(b, janus_counters[i].name, NULL, NULL, NULL, NULL,
		       *(const unsigned long *)((const char *)&f + janus_counters[i].at));
	}
}

static void duration(struct textbuf *b, const struct timespec *start)
{
	struct timespec now;
	double d;
	char tmp[32];
	int n;

	clock_gettime(CLOCK_MONOTONIC, &now);
	d = (now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
	family(b, "geoblock_scrape_duration_seconds", "gauge",
	       "Time this scrape took to read the counters and render them, in seconds.");
	n = snprintf(tmp, sizeof(tmp), "%.6f", d);
	puts_(b, "geoblock_scrape_duration_seconds ");
	put(b, tmp, n);
	put(b, "\n", 1);
}

int metrics_render(const struct counters *c, const struct timespec *start, struct textbuf *out)
{
	/* ~70 bytes a line, two lines per pair of the mode a meeting is in. */
	reserve(out, c->n_pairs * 160 + 16384);
	pairs(out, c, "geoblock_dropped_packets_total",
	      "Packets dropped, per meeting and source country.", false, 0);
	pairs(out, c, "geoblock_dropped_bytes_total",
	      "Bytes of the packets dropped (whole frames), per meeting and source country.",
	      false, 1);
	pairs(out, c, "geoblock_monitor_packets_total",
	      "Packets a meeting in monitor mode would have dropped, per meeting and source "
	      "country.", true, 2);
	pairs(out, c, "geoblock_monitor_bytes_total",
	      "Bytes of the packets a meeting in monitor mode would have dropped, per meeting and "
	      "source country.", true, 3);
	interfaces(out, c);
	verdicts(out, c);
	meetings(out, c);
	geoip(out, c);
	pthread_mutex_lock(&shown_mu);
	fleet(out);
	janus(out);
	pthread_mutex_unlock(&shown_mu);
	family(out, "geoblock_build_info", "gauge", "1, with the version of the geoblock serving "
	       "this page.");
	sample(out, "geoblock_build_info", "version", GB_VERSION, NULL, NULL, 1);
	if (start)
		duration(out, start);
	return out->oom ? -ENOMEM : 0;
}
