// SPDX-License-Identifier: GPL-2.0
/*
 * Janus handles as members of meetings: events tie a handle to its VideoRoom room (type 64
 * "joined"/"attached") and give its local ports (type 16: local candidates, selected pair); each
 * port goes to the meeting covering the room, under the state lock, while the handle lives, and
 * comes back at hangup, detach, session end, or after idle_s seconds of silence. A port another
 * meeting owns, or a shared port, is refused and logged, never taken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <json-c/json.h>
#include "lib/clock.h"
#include "lib/errors.h"
#include "state/audit.h"
#include "state/janus_rooms.h"
#include "state/ops_steps.h"
#include "state/rules.h"
#include "state/janus_event.h"
#include "state/janus_members.h"

/* Adds n to counter *c, which janus_members_counts reads without the lock. */
static void count(unsigned long *c, unsigned long n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

void janus_members_init(struct janus_members *m, const struct gb_ctx *ctx, unsigned int idle_s)
{
	memset(m, 0, sizeof(*m));
	m->ctx = ctx;
	m->idle_s = idle_s;
	m->doing = JANUS_DOING_EVENT;
	pthread_mutex_init(&m->mu, NULL);
}

void janus_members_free(struct janus_members *m)
{
	if (m->unsynced)
		audit_sync(m->ctx);
	free(m->h);
	pthread_mutex_destroy(&m->mu);
}

/* The audit record of one handle's change: who is "janus", the lines say what moved. */
static void audit_change(struct janus_members *m, const struct janus_handle *h,
			 struct json_object *lines, int err)
{
	struct audit_caller who = { .command = m->doing, .uid = getuid(), .pid = getpid() };
	char reason[160];

	snprintf(reason, sizeof(reason), "janus room %llu session %llu handle %llu",
		 (unsigned long long)h->room, (unsigned long long)h->session,
		 (unsigned long long)h->handle);
	if (json_object_array_length(lines)) {
		audit_result_by(m->ctx, &who, reason, err, lines);
		m->unsynced = true;
	} else {
		json_object_put(lines);
	}
}

/* Whether jp, a port's janus-ports record, is of a handle other than h. */
static bool of_other(const struct janus_port *jp, const struct janus_handle *h)
{
	return jp && (jp->session != h->session || jp->handle != h->handle);
}

/* Whether a handle was given port after the claim of time since (m->mu held). */
static bool given_later(const struct janus_members *m, __u32 port, unsigned long since)
{
	for (size_t k = 0; k < m->n; k++)
		for (size_t i = 0; i < m->h[k].n_ports; i++)
			if (m->h[k].ports[i] == port && m->h[k].granted[i] &&
			    m->h[k].given[i] > since)
				return true;
	return false;
}

/* jp's port, given to another handle by Janus: its old one lost it, not to be given it again. */
static void port_lost(struct janus_members *m, const struct janus_port *jp)
{
	struct janus_handle *old = janus_handle_find(m, jp->session, jp->handle);

	for (size_t i = 0; old && i < old->n_ports; i++)
		if (old->ports[i] == jp->port) {
			old->granted[i] = false;
			old->lost[i] = true;
		}
}

/*
 * Gives h's ports that its room's meeting does not hold for it to that meeting, under the state
 * lock, r the rule set (m->mu held). A port given before is given again if a change took it since
 * (the meeting deleted and added again, the room moved, the maps made anew), unless a later handle
 * was given it too. again: the daemon's pass, not an event of h's.
 */
static int give_locked(struct janus_members *m, struct janus_handle *h, struct rules *r,
		       bool again)
{
	struct json_object *lines;
	const char *name;
	int err = 0;
	__u32 id;

	name = janus_room_meeting(&r->janus, h->room);
	id = name ? rules_find(r, name) : 0;
	lines = json_object_new_array();
	for (size_t i = 0; i < h->n_ports && id && !err; i++) {
		__u32 port = h->ports[i], owner = r->owners[port].meeting_id;
		const struct janus_port *jp = janus_port_find(&r->janus, port);
		struct janus_port rec = { .port = port, .room = h->room, .session = h->session,
					  .handle = h->handle };
		char line[128];

		if (h->untaken[i])	/* a take missed it (of the room before): taken first */
			continue;
		if (h->granted[i]) {
			/* Its own still, or a later handle's: Janus gave it anew (see take_ports). */
			if (jp && (owner == id || of_other(jp, h)))
				continue;
			/* Taken by a change since (its meeting deleted, the maps made anew). */
			h->granted[i] = false;
			/* Given to a later handle too, whose is the port now: not this one's. */
			if (given_later(m, port, h->given[i]))
				h->lost[i] = true;
		}
		if (h->lost[i] || (h->refused[i] && !h->retry[i]))
			continue;
		/* Taken from another handle only on Janus's word (an event), never by the pass. */
		if (again && of_other(jp, h))
			continue;
		/* The meeting's own (operator) port: it filters already, and stays the operator's. */
		if (owner == id && !jp)
			continue;
		/*
		 * Refused, logged once. One another meeting's handle holds is Janus's to give
		 * anew (the old handle's end not here yet): given by the pass once that handle
		 * lets it go.
		 */
		if ((owner && owner != id) || rules_port_shared(r, port)) {
			bool handles = owner && owner != id && of_other(jp, h);

			/* Taken since by an operator's rule or made shared: not taken later. */
			h->retry[i] = handles && (h->retry[i] || !h->refused[i]);
			if (h->refused[i])
				continue;
			h->refused[i] = true;
			count(&m->c.refused, 1);
			gb_warn("janus: port %u of handle %llu in room %llu not given to meeting \"%s\": "
				"it %s", port, (unsigned long long)h->handle,
				(unsigned long long)h->room, name, h->retry[i] ?
				"is another meeting's handle's (given once that handle ends)" :
				owner ? "belongs to another meeting" : "is a shared port");
			continue;
		}
		h->refused[i] = false;
		snprintf(rec.meeting, sizeof(rec.meeting), "%s", name);
		/* A port Janus gave anew before its old handle's end reached us: not the old's. */
		if (jp) {
			port_lost(m, jp);
			err = janus_port_del(m->ctx->state_dir, &r->janus, port);
		}
		if (!err && !owner)
			err = rules_set_owner(m->ctx, r, port, id);
		/* Not recorded, not kept: else it would stay the meeting's as an operator's port. */
		if (!err && (err = janus_port_add(m->ctx->state_dir, &r->janus, &rec)) && !owner)
			rules_set_owner(m->ctx, r, port, 0);
		if (err) {
			gb_warn("janus: cannot give port %u to meeting \"%s\": %s", port, name,
				strerror(-err));
			break;
		}
		h->granted[i] = true;
		h->given[i] = ++m->gives;
		count(&m->c.ports_given, 1);
		snprintf(line, sizeof(line), "+ port %u meeting %s", port, name);
		json_object_array_add(lines, json_object_new_string(line));
	}
	audit_change(m, h, lines, err);
	return err;
}

/* Gives h's ports to the meeting of its room (m->mu held). */
static void give_ports(struct janus_members *m, struct janus_handle *h)
{
	struct rules *r;
	int fd;

	/*
	 * The race this runs: Janus sends the answer holding the port as it posts the event, and a
	 * client's first check follows some 20 ms later. So nothing slow (no fsync) before the map
	 * update; the audit records are synced by janus_members_expire.
	 */
	if (!h->room || !h->n_ports || ops_lock(m->ctx, &fd))
		return;
	if (!ops_rules_take(m->ctx, &r))
		ops_rules_give(m->ctx, r, give_locked(m, h, r, false));
	ops_unlock(fd);
}

/* Gives every handle's ports again where a change took them (m->mu held): one lock for all. */
static void give_all(struct janus_members *m)
{
	struct rules *r;
	int fd, err = 0;

	if (!m->n || ops_lock(m->ctx, &fd))
		return;
	if (ops_rules_take(m->ctx, &r)) {
		ops_unlock(fd);
		return;
	}
	for (size_t i = 0; i < m->n && !err; i++)
		if (m->h[i].room && m->h[i].n_ports)
			err = give_locked(m, &m->h[i], r, true);
	ops_rules_give(m->ctx, r, err);
	ops_unlock(fd);
}

/* Whether take_ports takes port i of h: granted, and, with only_untaken, one a take missed. */
static bool to_take(const struct janus_handle *h, size_t i, bool only_untaken)
{
	return h->granted[i] && (!only_untaken || h->untaken[i]);
}

/*
 * Takes h's given ports (only_untaken: those a take missed) back from their meeting (m->mu held);
 * whether it took them all. Those it could not take stay granted, marked untaken, for the pass
 * JANUS_TAKE_RETRY_S later: else they stayed the meeting's for good, refused to later handles.
 */
static bool take_ports(struct janus_members *m, struct janus_handle *h, bool only_untaken)
{
	struct json_object *lines;
	bool any = false;
	struct rules *r;
	int fd, err;

	for (size_t i = 0; i < h->n_ports; i++)
		any |= to_take(h, i, only_untaken);
	if (!any)
		return true;
	if ((err = ops_lock(m->ctx, &fd)))
		goto out;
	if ((err = ops_rules_take(m->ctx, &r)))
		goto out_unlock;
	lines = json_object_new_array();
	for (size_t i = 0; i < h->n_ports && !err; i++) {
		const struct janus_port *jp = janus_port_find(&r->janus, h->ports[i]);
		__u32 port = h->ports[i], id;
		char line[128];

		if (!to_take(h, i, only_untaken))
			continue;
		/* Given to a later handle since: its to take back. */
		if (!jp || of_other(jp, h)) {
			h->granted[i] = h->untaken[i] = false;
			continue;
		}
		id = rules_find(r, jp->meeting);
		snprintf(line, sizeof(line), "- port %u meeting %s", port, jp->meeting);
		if (id && r->owners[port].meeting_id == id)
			err = rules_set_owner(m->ctx, r, port, 0);
		if (!err)
			err = janus_port_del(m->ctx->state_dir, &r->janus, port);
		if (err) {
			gb_warn("janus: cannot take port %u back: %s; trying again in %d s", port,
				strerror(-err), JANUS_TAKE_RETRY_S);
			break;
		}
		h->granted[i] = h->untaken[i] = false;
		count(&m->c.ports_taken, 1);
		json_object_array_add(lines, json_object_new_string(line));
	}
	audit_change(m, h, lines, err);
	ops_rules_give(m->ctx, r, err);
out_unlock:
	ops_unlock(fd);
out:
	h->take_at = 0;
	if (!err)
		return true;
	for (size_t i = 0; i < h->n_ports; i++)
		h->untaken[i] |= to_take(h, i, only_untaken);
	h->take_at = gb_mono_s() + JANUS_TAKE_RETRY_S;
	return false;
}

/* What a handle made anew (to) keeps of h's ports after a take failed: those, lost once taken. */
static void keep_untaken(const struct janus_handle *h, struct janus_handle *to)
{
	for (size_t i = 0, n; i < h->n_ports; i++)
		if (h->untaken[i]) {
			n = to->n_ports++;
			to->ports[n] = h->ports[i];
			to->given[n] = h->given[i];
			to->granted[n] = to->untaken[n] = to->lost[n] = true;
		}
	to->take_at = h->take_at;
}

int janus_members_reset(struct janus_members *m)
{
	struct janus_handle h, *known;
	struct janus_port *old = NULL;
	struct rules *r;
	size_t n = 0, k;
	int fd, err;

	/* The former daemon's handles, rebuilt from janus-ports, then ended. */
	err = ops_lock(m->ctx, &fd);
	if (!err && (err = ops_rules_take(m->ctx, &r)))
		ops_unlock(fd);
	if (!err) {
		n = r->janus.n_ports;
		old = n ? malloc(n * sizeof(*old)) : NULL;
		if (old)
			memcpy(old, r->janus.ports, n * sizeof(*old));
		err = n && !old ? -ENOMEM : 0;
		ops_rules_give(m->ctx, r, 0);
		ops_unlock(fd);
	}
	pthread_mutex_lock(&m->mu);
	m->doing = "janus start";
	for (size_t i = 0; old && i < n; i++) {
		/* Not a port a handle known since holds (rebuilt, or come with an event). */
		known = janus_handle_find(m, old[i].session, old[i].handle);
		for (k = 0; known && k < known->n_ports && known->ports[k] != old[i].port; k++)
			;
		if (known && k < known->n_ports)
			continue;
		h = (struct janus_handle){ .session = old[i].session, .handle = old[i].handle,
					   .room = old[i].room, .n_ports = 1 };
		h.ports[0] = old[i].port;
		h.granted[0] = true;
		if (!take_ports(m, &h, false))
			err = -EAGAIN;
	}
	m->doing = JANUS_DOING_EVENT;
	m->reset_pending = err != 0;
	m->reset_at = gb_mono_s() + JANUS_TAKE_RETRY_S;
	pthread_mutex_unlock(&m->mu);
	free(old);
	return err;
}

struct janus_handle *janus_handle_find(struct janus_members *m, __u64 session, __u64 handle)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->h[i].session == session && m->h[i].handle == handle)
			return &m->h[i];
	return NULL;
}

static struct janus_handle *find_handle(struct janus_members *m, __u64 session, __u64 handle,
					bool create)
{
	struct janus_handle *h = janus_handle_find(m, session, handle);

	if (h || !create)
		return h;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		struct janus_handle *grown = realloc(m->h, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		m->h = grown;
		m->cap = cap;
	}
	m->h[m->n] = (struct janus_handle){ .session = session, .handle = handle };
	return &m->h[m->n++];
}

/* Ends handle i: its ports back, its entry gone (kept in no room with those a take missed). */
static void end_handle(struct janus_members *m, size_t i)
{
	struct janus_handle *h = &m->h[i], kept = { .session = h->session, .handle = h->handle,
						     .seen = h->seen };

	if (!take_ports(m, h, false)) {
		keep_untaken(h, &kept);
		*h = kept;
		return;
	}
	*h = m->h[--m->n];
}

/*
 * Handle h's PeerConnection hung up: its ports back, its client forgotten; it stays in its room,
 * where a new PeerConnection (a publisher publishing again) gives its new ports.
 */
static void end_peer_connection(struct janus_members *m, struct janus_handle *h)
{
	struct janus_handle next = { .session = h->session, .handle = h->handle, .room = h->room,
				     .seen = h->seen, .pc = h->pc + 1 };

	/* Ports it could not take back stay with it, untaken, for the pass to take. */
	if (!take_ports(m, h, false))
		keep_untaken(h, &next);
	*h = next;
}

static void add_port(struct janus_handle *h, __u32 port)
{
	for (size_t i = 0; i < h->n_ports; i++)
		if (h->ports[i] == port)
			return;
	if (h->n_ports < JANUS_HANDLE_PORTS)
		h->ports[h->n_ports++] = port;
}

static int event_locked(struct janus_members *m, struct json_object *ev)
{
	struct json_object *event = janus_get_obj(ev, "event"), *type_o;
	__u64 session = janus_get_u64(ev, "session_id"), handle = janus_get_u64(ev, "handle_id");
	struct janus_handle *h;
	const char *s;
	int type;

	if (!json_object_is_type(ev, json_type_object) ||
	    !json_object_object_get_ex(ev, "type", &type_o) ||
	    !json_object_is_type(type_o, json_type_int) || !event)
		return -EINVAL;
	type = json_object_get_int(type_o);
	if (type == EV_SESSION) {
		s = janus_get_str(event, "name");
		if (!s || (strcmp(s, "destroyed") && strcmp(s, "timeout")))
			return 1;
		for (size_t i = m->n; i-- > 0;)
			if (m->h[i].session == session)
				end_handle(m, i);
		return 0;
	}
	/* Janus started (anew: it lost every session) or is stopping: no handle of before lives. */
	if (type == EV_CORE) {
		s = janus_get_str(event, "status");
		if (!s || (strcmp(s, "started") && strcmp(s, "shutdown")))
			return 1;
		m->doing = !strcmp(s, "started") ? "janus restarted" : "janus shutdown";
		for (size_t i = m->n; i-- > 0;)
			end_handle(m, i);
		m->doing = JANUS_DOING_EVENT;
		return 0;
	}
	if (!session || !handle)
		return 1;
	h = find_handle(m, session, handle, false);
	if (h)
		h->seen = gb_mono_s();
	if (type == EV_HANDLE) {
		s = janus_get_str(event, "name");
		if (!h || !s || strcmp(s, "detached"))
			return 1;
		end_handle(m, h - m->h);
		return 0;
	}
	if (type == EV_PLUGIN) {
		struct json_object *data = janus_get_obj(event, "data");
		__u64 room = janus_get_u64(data, "room");

		s = janus_get_str(data, "event");
		if (!s || strcmp(janus_get_str(event, "plugin") ?: "", "janus.plugin.videoroom"))
			return 1;
		if (!strcmp(s, "leaving") && h && h->room == room) {
			end_handle(m, h - m->h);
			return 0;
		}
		/*
		 * A publisher "joined", and "published" once its PeerConnection is up; a subscriber
		 * "attached" (or "subscribing", in newer Janus).
		 */
		if ((strcmp(s, "joined") && strcmp(s, "published") && strcmp(s, "attached") &&
		     strcmp(s, "subscribing")) || !room)
			return 1;
		h = h ? h : find_handle(m, session, handle, true);
		if (!h)
			return -ENOMEM;
		h->seen = gb_mono_s();
		/* Ports it cannot take back from the old room's meeting stay untaken (above). */
		if (h->room && h->room != room)
			take_ports(m, h, false);
		/* A join repeated for the same room counts once. */
		if (h->room != room)
			count(&m->c.joined, 1);
		h->room = room;
		give_ports(m, h);
		return 0;
	}
	if (type == EV_WEBRTC) {
		/* Whole: an int would take 2^32 + 2 for a local candidate's 2. */
		__u64 sub = janus_get_u64(ev, "subtype");
		int port;

		if (sub == SUB_WEBRTC_STATE) {
			s = janus_get_str(event, "connection");
			if (!h || !s || strcmp(s, "hangup"))
				return 1;
			end_peer_connection(m, h);
			return 0;
		}
		/*
		 * The client's address, for --janus-hangup: its selected pair's, the one the filter
		 * sees, else a candidate's trickled before; nothing slow here (see give_ports).
		 */
		if (sub == SUB_SELECTED_PAIR && h) {
			char pair[sizeof(h->remote)] = "";

			janus_remote_address(event, sub, pair, sizeof(pair));
			if (pair[0]) {
				memcpy(h->remote, pair, sizeof(pair));
				h->paired = true;
			}
		} else if (sub == SUB_REMOTE_CANDIDATE && h && !h->paired) {
			janus_remote_address(event, sub, h->remote, sizeof(h->remote));
		}
		if (sub != SUB_LOCAL_CANDIDATE && sub != SUB_SELECTED_PAIR)
			return 1;
		port = janus_local_port(event, sub);
		if (port < 0)
			return -EINVAL;		/* counted as malformed */
		if (!port)
			return 1;
		/* Candidates may come before the join: kept until the room is known. */
		h = h ? h : find_handle(m, session, handle, true);
		if (!h)
			return -ENOMEM;
		h->seen = gb_mono_s();
		add_port(h, port);
		give_ports(m, h);
		return 0;
	}
	return 1;
}

int janus_members_event(struct janus_members *m, struct json_object *ev, const char *doing)
{
	int ret;

	pthread_mutex_lock(&m->mu);
	m->doing = doing ? doing : JANUS_DOING_EVENT;
	ret = event_locked(m, ev);
	m->doing = JANUS_DOING_EVENT;
	if (ret == -EINVAL)
		count(&m->c.malformed, 1);
	else if (ret > 0)
		count(&m->c.ignored, 1);
	else
		count(&m->c.used, 1);
	pthread_mutex_unlock(&m->mu);
	return ret;
}

void janus_members_expire(struct janus_members *m)
{
	time_t now = gb_mono_s();
	bool sync;

	if (m->reset_pending && now >= m->reset_at)
		janus_members_reset(m);

	pthread_mutex_lock(&m->mu);
	/* Ports a take missed, taken again once their time comes (an ended handle's: it ends). */
	m->doing = "janus pass";
	for (size_t i = m->n; i-- > 0;) {
		struct janus_handle *h = &m->h[i];

		if (!h->take_at || now < h->take_at)
			continue;
		if (!h->room)
			end_handle(m, i);
		else
			take_ports(m, h, true);
	}
	m->doing = "janus idle";
	for (size_t i = m->n; i-- > 0;) {
		struct janus_handle *h = &m->h[i];

		if (now - h->seen < (time_t)m->idle_s || h->take_at)	/* its take first (above) */
			continue;
		/*
		 * Its ports go back; a handle in a room stays there a while (a publisher may
		 * publish again later, its new ports its room's meeting's), then is forgotten.
		 */
		if (!h->room || now - h->seen >= (time_t)m->idle_s * JANUS_FORGET_IDLE)
			end_handle(m, i);
		else if (h->n_ports)
			end_peer_connection(m, h);
	}
	/* A handle that sends nothing more gets its ports back too, within a pass. */
	m->doing = "janus pass";
	give_all(m);
	m->doing = JANUS_DOING_EVENT;
	sync = m->unsynced;
	m->unsynced = false;
	pthread_mutex_unlock(&m->mu);
	/* Not under m->mu: an fsync must not hold up the next event (see give_ports). */
	if (sync && audit_sync(m->ctx)) {
		pthread_mutex_lock(&m->mu);
		m->unsynced = true;
		pthread_mutex_unlock(&m->mu);
	}
}

struct janus_counts janus_members_counts(struct janus_members *m)
{
	/* Not under m->mu, held across the state lock's wait: a scrape must not wait on it. */
#define LOAD(f) .f = __atomic_load_n(&m->c.f, __ATOMIC_RELAXED)
	struct janus_counts c = { LOAD(used), LOAD(ignored), LOAD(malformed), LOAD(joined),
				  LOAD(ports_given), LOAD(ports_taken), LOAD(refused),
				  LOAD(hangups) };
#undef LOAD

	/* Their sum: each read once and never going down, so neither does it. */
	c.events = c.used + c.ignored + c.malformed;
	return c;
}
