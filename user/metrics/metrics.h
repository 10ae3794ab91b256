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

struct janus_members;

/*
 * Puts the counters of m's Janus events (state/janus_members) on every page rendered from now on,
 * read at each render (NULL: takes them off, and returns once no page being rendered reads them).
 */
void metrics_show_janus(struct janus_members *m);

#endif
