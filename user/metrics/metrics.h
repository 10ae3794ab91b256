/* SPDX-License-Identifier: GPL-2.0 */
/* The /metrics page: counters rendered in the Prometheus text exposition format (version 0.0.4). */
#ifndef GEOBLOCK_METRICS_H
#define GEOBLOCK_METRICS_H

#include <time.h>
#include "kern/counters.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* A growing text buffer; after a failed allocation it stops growing and remembers it. */
struct textbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void textbuf_free(struct textbuf *b);
/* Appends s as a label value: backslash, double quote and newline escaped. */
void textbuf_label_value(struct textbuf *b, const char *s);

/*
 * Renders every metric of c into out (appended). start is when the scrape began, for
 * geoblock_scrape_duration_seconds; NULL leaves that metric out. 0 or -ENOMEM.
 */
int metrics_render(const struct counters *c, const struct timespec *start, struct textbuf *out);

/*
 * A fleet node's link to its store (fleet/follow), on the page while registered; its writer
 * stores each field with __atomic_store_n, the page loads them so.
 */
struct fleet_gauges {
	int connected;
	long long applied_revision;
	long long last_sync;		/* unix seconds; 0: never */
	unsigned long long rejected_total;
};

/*
 * Puts g's figures on every page rendered from now on (NULL: takes them off, and returns once no
 * page being rendered reads them any longer).
 */
void metrics_show_fleet(const struct fleet_gauges *g);

/* What the daemon's Janus events did (api/janus_events, state/janus_members), since it started. */
struct janus_figures {
	unsigned long long events, ignored, malformed, joined, ports_given, ports_taken, refused;
	unsigned long long hangups;
};

/*
 * Puts read(arg)'s figures on every page rendered from now on, read at each render (read NULL:
 * takes them off, and returns once no page being rendered calls it any longer).
 */
void metrics_show_janus(void (*read)(void *arg, struct janus_figures *out), void *arg);

#endif
