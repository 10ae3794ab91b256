// SPDX-License-Identifier: GPL-2.0
/*
 * Hanging up blocked participants (--janus-hangup): each handle's client address checked against
 * its room's meeting, as `check` answers, and Janus's Admin API asked to hang up those it blocks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "lib/clock.h"
#include "state/audit.h"
#include "state/explain.h"
#include "state/janus_rooms.h"
#include "state/janus_members.h"
#include "state/ops_steps.h"
#include "state/janus_hangup.h"

/* A handle to ask about, copied out of m under m->mu. */
struct hangup_ask {
	__u64 session, handle, room;
	unsigned int pc;
	char remote[64];
	char meeting[GB_MEETING_NAME_LEN];
};

/*
 * After a failed hangup (a wrong Admin API secret, Janus unreachable) a handle is asked again
 * after 10 s, doubling to 10 minutes: each try is an audit record under the state lock and may
 * wait out the call's timeout, which held up the daemon's other passes for every blocked handle
 * every 5 s, for good.
 */
#define HANGUP_RETRY_FIRST_S	10
#define HANGUP_RETRY_MAX_S	600

static void hangup_failed(struct janus_handle *h)
{
	unsigned int shift = h->hangup_fails < 6 ? h->hangup_fails : 6;
	time_t wait = (time_t)HANGUP_RETRY_FIRST_S << shift;

	h->hangup_fails++;
	h->hangup_next = gb_mono_s() + (wait < HANGUP_RETRY_MAX_S ? wait : HANGUP_RETRY_MAX_S);
}

/*
 * The handles not hung up yet whose room is a meeting's and whose client is known, but those
 * whose last hangup failed too recently.
 */
static size_t hangup_candidates(struct janus_members *m, const struct janus_set *j,
				struct hangup_ask **out)
{
	struct hangup_ask *asks;
	time_t now = gb_mono_s();
	size_t n = 0;

	pthread_mutex_lock(&m->mu);
	asks = calloc(m->n ? m->n : 1, sizeof(*asks));
	for (size_t i = 0; asks && i < m->n; i++) {
		const struct janus_handle *h = &m->h[i];
		const char *name = h->room ? janus_room_meeting(j, h->room) : NULL;

		if (h->hung || !name || !h->remote[0] || (h->hangup_fails && now < h->hangup_next))
			continue;
		asks[n] = (struct hangup_ask){ .session = h->session, .handle = h->handle,
					       .room = h->room, .pc = h->pc };
		snprintf(asks[n].remote, sizeof(asks[n].remote), "%s", h->remote);
		snprintf(asks[n].meeting, sizeof(asks[n].meeting), "%s", name);
		n++;
	}
	pthread_mutex_unlock(&m->mu);
	*out = asks;
	return n;
}

void janus_members_hangup_blocked(struct janus_members *m,
				  int (*hangup)(void *cls, __u64 session, __u64 handle), void *cls)
{
	struct audit_caller who = { .command = "janus hangup", .uid = getuid(), .pid = getpid() };
	struct explanation *e = malloc(sizeof(*e));
	struct hangup_ask *asks = NULL;
	struct janus_handle *h;
	struct janus_set j;
	char reason[256];
	bool down = false;
	size_t n;

	if (!e || janus_read(m->ctx->state_dir, &j)) {
		free(e);
		return;
	}
	/*
	 * The checks (a reading of the rule set each) and Janus's Admin API are asked without m->mu,
	 * which the events need: an event held up here is a port given late, a client's DTLS let
	 * through (see give_ports).
	 */
	n = hangup_candidates(m, &j, &asks);
	for (size_t i = 0; i < n; i++) {
		struct hangup_ask *a = &asks[i];
		int check = explain_check(m->ctx, a->meeting, a->remote, e), err = 0, fd;
		bool drop = !check && e->reason == GB_DROP, locked;

		/*
		 * Once a hangup got no answer (Janus unreachable: each call waits out its
		 * timeout), the others of the pass are not asked: they wait as a failed one does,
		 * unaudited, so that a pass holds up the daemon's others for one timeout, not one
		 * per blocked handle.
		 */
		if (drop && down) {
			pthread_mutex_lock(&m->mu);
			h = janus_handle_find(m, a->session, a->handle);
			if (h && h->pc == a->pc)
				hangup_failed(h);
			pthread_mutex_unlock(&m->mu);
			continue;
		}
		if (drop) {
			err = hangup(cls, a->session, a->handle);
			snprintf(reason, sizeof(reason), "janus room %llu session %llu handle %llu: %s "
				 "is in %s, blocked by meeting %s", (unsigned long long)a->room,
				 (unsigned long long)a->session, (unsigned long long)a->handle,
				 a->remote, e->country, a->meeting);
			/* Under the state lock, as every writer of the audit log (audit.c). */
			locked = !ops_lock(m->ctx, &fd);
			audit_result_by(m->ctx, &who, reason, err, NULL);
			if (locked)
				ops_unlock(fd);
		}
		pthread_mutex_lock(&m->mu);
		h = janus_handle_find(m, a->session, a->handle);
		/*
		 * An address check refuses (an mDNS name, say) is not asked again; one it could
		 * not answer now (the rule set unreadable, say) is, at the next pass.
		 */
		if (h && check == -EINVAL && !strcmp(h->remote, a->remote)) {
			h->remote[0] = '\0';
			h->paired = false;	/* a later candidate or pair may name it */
		}
		if (drop) {
			/* Not a PeerConnection come since (its hangup event reset the handle). */
			if (h && h->pc == a->pc && !(h->hung = !err))
				hangup_failed(h);
			down |= err == -ETIMEDOUT;
			__atomic_add_fetch(&m->c.hangups, !err, __ATOMIC_RELAXED);
			m->unsynced = true;
		}
		pthread_mutex_unlock(&m->mu);
	}
	free(asks);
	janus_free(&j);
	free(e);
}
