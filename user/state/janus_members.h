/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Janus handles and the ports they hold, from Janus's events: a handle that joins a room some
 * meeting covers gives that meeting the local ports of its ICE candidates while it lives.
 */
#ifndef GEOBLOCK_STATE_JANUS_MEMBERS_H
#define GEOBLOCK_STATE_JANUS_MEMBERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <linux/types.h>
#include "kern/pins.h"

struct json_object;

#define JANUS_HANDLE_PORTS	8	/* ports remembered per handle (one per component) */
/* A handle silent for --janus-idle loses its ports; for this many times that, its room too. */
#define JANUS_FORGET_IDLE	10
/* A port a take missed (the state lock or a file not writable) is tried again this much later. */
#define JANUS_TAKE_RETRY_S	10

struct janus_handle {
	__u64 session, handle, room;		/* room 0: not known yet */
	__u32 ports[JANUS_HANDLE_PORTS];	/* local ports Janus reported for it */
	bool granted[JANUS_HANDLE_PORTS];	/* given to the room's meeting by us */
	unsigned long given[JANUS_HANDLE_PORTS];	/* when (m->gives then), for the latest */
	bool lost[JANUS_HANDLE_PORTS];		/* given to a later handle since: not claimed again */
	bool refused[JANUS_HANDLE_PORTS];	/* owned by another meeting: logged once */
	bool retry[JANUS_HANDLE_PORTS];		/* refused for another's handle: given once free */
	bool untaken[JANUS_HANDLE_PORTS];	/* granted, but a take of it failed: taken at... */
	time_t take_at;				/* ...this monotonic second (0: none to take) */
	size_t n_ports;
	time_t seen;				/* CLOCK_MONOTONIC seconds of its last event */
	char remote[64];			/* the client's address (candidate, pair) */
	bool paired;				/* remote is its selected pair's: kept */
	bool hung;				/* hung up for it (--janus-hangup) */
	unsigned int hangup_fails;		/* hangups asked of Janus that failed... */
	time_t hangup_next;			/* ...so not asked again before (monotonic s) */
	unsigned int pc;			/* its PeerConnections hung up so far */
};

/*
 * What the events did, for the log, the metrics and the tests. Each event is counted once, as
 * used, ignored or malformed; events is their sum (janus_members_counts).
 */
struct janus_counts {
	unsigned long events, used, ignored, malformed, joined, ports_given, ports_taken;
	unsigned long refused, hangups;
};

#define JANUS_DOING_EVENT "janus event"

struct janus_members {
	const struct gb_ctx *ctx;
	pthread_mutex_t mu;
	struct janus_handle *h;
	size_t n, cap;
	unsigned int idle_s;
	bool unsynced;			/* audit records written since the last audit_sync */
	bool reset_pending;		/* janus_members_reset failed: tried again... */
	time_t reset_at;		/* ...at the first pass from this monotonic second */
	const char *doing;		/* the audit records' command: "janus event", ... */
	unsigned long gives;		/* ports given so far: orders the handles' claims */
	struct janus_counts c;
};

void janus_members_init(struct janus_members *m, const struct gb_ctx *ctx, unsigned int idle_s);
void janus_members_free(struct janus_members *m);
/*
 * Forgets the ports a former daemon gave handles (it cannot know they still live): taken from
 * their meetings and from janus-ports, but those handles known since hold. Failing (the state
 * lock cannot be taken, say), it is tried again by janus_members_expire every JANUS_TAKE_RETRY_S
 * until it works.
 */
int janus_members_reset(struct janus_members *m);
/*
 * One event as sampleevh posts it, its changes audited as doing's (NULL: "janus event"): 0 used,
 * 1 of no interest, -EINVAL malformed.
 */
int janus_members_event(struct janus_members *m, struct json_object *ev, const char *doing);
/*
 * Takes back the ports of the handles silent for idle_s seconds (ending those in no room, and
 * those silent JANUS_FORGET_IDLE times as long); makes the audit records written so far durable.
 */
void janus_members_expire(struct janus_members *m);
/* The handle (session, handle) of m, NULL if none (m->mu held). */
struct janus_handle *janus_handle_find(struct janus_members *m, __u64 session, __u64 handle);
/* The counters, each read atomically, without the lock (events may hold it, waiting). */
struct janus_counts janus_members_counts(struct janus_members *m);

#endif
