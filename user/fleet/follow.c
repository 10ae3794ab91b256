// SPDX-License-Identifier: GPL-2.0
/*
 * A fleet node following its store: read the prefix, converge through `apply`'s engine, watch
 * from the next revision, and on a broken stream resume there (another endpoint, with backoff);
 * a compacted revision means a full read and converge, make-before-break as any apply. Nothing is
 * ever flushed when the store is away: the rule set stays as last applied (fail static).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include "lib/clock.h"
#include "lib/errors.h"
#include "state/countries.h"
#include "state/managed.h"
#include "state/ops.h"
#include "state/ops_ice.h"
#include "kern/table_view.h"
#include "metrics/metrics.h"
#include "fleet/etcd.h"
#include "fleet/layout.h"
#include "fleet/local.h"
#include "fleet/node_status.h"
#include "fleet/store.h"
#include "fleet/follow.h"

#define BACKOFF_MIN_MS		100
#define BACKOFF_MAX_MS		5000
#define LEASE_TTL_S		10
#define STATUS_EVERY_S		3	/* lease kept alive, status rewritten if due */
#define STATUS_REFRESH_S	30	/* status rewritten even when nothing changed */
#define REVOKE_WAIT_MS		1000	/* the lease revoked at stop: one try, this long */
#define WATCH_COMPACTED		1	/* from on_message: the watch must start over */
#define WATCH_STOP		2
#define WATCH_UNANSWERED	3	/* from alive: no "created" in WATCH_CREATE_S */
#define WATCH_CREATE_S		5
#define WATCH_SILENT		4	/* from alive: its own write not seen, or not taken */
#define WATCH_ECHO_MS		10000
#define RETRY_MIN_S		2	/* a failed converge is tried again after this, doubling */
#define RETRY_MAX_S		60

struct fleet_follow {
	const struct gb_ctx *ctx;
	struct etcd watch, status;	/* one connection per thread */
	char prefix[FLEET_PREFIX_MAX + 2];
	char node[GB_MEETING_NAME_LEN];
	char status_key[FLEET_PREFIX_MAX + GB_MEETING_NAME_LEN + 16];
	pthread_t watch_thread, status_thread;
	bool started[2];

	pthread_mutex_t lock;		/* the fields below */
	pthread_cond_t wake;
	bool stop;
	bool status_due;
	bool watching;			/* the watch stream is up */
	long long watch_asked;		/* when the watch now asked for was asked for */
	struct etcd_kvs store;		/* the store's keys as last seen, sorted by key */
	__s64 seen;			/* every event up to it taken into store */
	bool unapplied;			/* events of this node's among them, not converged yet */
	struct fleet_refusal *refused;	/* as the last converge found them */
	size_t n_refused;
	bool named;			/* the prefix held a fleet's key (fleet_store_named) */
	struct fleet_kept kept;		/* the shared ports and GeoIP build applied */
	long long retry_at;		/* converge again then (a refused key may fit), or 0 */
	unsigned int retry_s;		/* after a failed converge: the wait before the next */
	__u32 table_ids[2];		/* the GeoIP table the last converge read (a key refused
					 * for a country it lacks may fit another) */
	struct geoip_digest digest;	/* of the loaded table's file */
	char last_error[512];		/* of the last converge */
	char link_error[300];		/* of the store's connection, while it is down */
	struct own_status own;		/* the node's status key, as the watch sees it */
	__s64 echo_rev;			/* a status write the watch has not brought yet, or 0 */
	long long echo_at;		/* when it was written, or the stream last spoke (ms) */
	long long failing_at;		/* the status's writes fail since (ms), or 0 */
	struct fleet_gauges g;
};

static long long now_s(void)
{
	return time(NULL);
}

static long long since(long long ms)
{
	return gb_mono_ms() - ms;
}

static void set_connected(struct fleet_follow *f, bool up)
{
	if (up && *f->link_error)
		fprintf(stderr, "geoblock: fleet: watching %s again from revision %lld\n",
			f->watch.urls[f->watch.cur], (long long)f->seen + 1);
	/* The status says so now, not at its next round (fleet status marks a watch down). */
	if (up) {
		*f->link_error = '\0';
		f->status_due = true;
		pthread_cond_broadcast(&f->wake);
	}
	/* A write made while no stream was up is waited for from now; one failing, too. */
	if (up && f->echo_rev)
		f->echo_at = gb_mono_ms();
	if (up && f->failing_at)
		f->failing_at = gb_mono_ms();
	f->watching = up;
	__atomic_store_n(&f->g.connected, up, __ATOMIC_RELAXED);
	/* In step only if the last converge worked (GeoblockFleetOutOfSync reads it). */
	if (up && !*f->last_error)
		__atomic_store_n(&f->g.last_sync, now_s(), __ATOMIC_RELAXED);
}

/* Waits up to ms, or until woken; true if stopping. Called with f->lock held. */
static bool nap(struct fleet_follow *f, long ms)
{
	if (!f->stop)
		gb_cond_wait_ms(&f->wake, &f->lock, ms);
	return f->stop;
}

/*
 * Whether the store may be converged to (f->lock held): a prefix that never held a fleet's key
 * in this process's sight is taken for a mistyped --etcd-prefix while the rule set here holds
 * anything it would remove. Once one is seen, the fleet is followed wherever it goes, empty too.
 */
static bool fleet_here(struct fleet_follow *f)
{
	char why[sizeof(f->last_error)];

	if (f->named || (f->named = fleet_store_named(f->store.v, f->store.n, f->prefix)) ||
	    fleet_local_empty(f->ctx, f->prefix, why, sizeof(why)))
		return true;
	node_status_error(f->last_error, sizeof(f->last_error), why);
	return false;
}

/* A failed converge (a full disk, say) tried again: after RETRY_MIN_S, doubling to RETRY_MAX_S. */
static void retry_later(struct fleet_follow *f)
{
	long long at;

	f->retry_s = f->retry_s ? f->retry_s * 2 : RETRY_MIN_S;
	if (f->retry_s > RETRY_MAX_S)
		f->retry_s = RETRY_MAX_S;
	at = now_s() + f->retry_s;
	/* retry_at is none or an expiry to come (converge clears it first): the earlier. */
	if (!f->retry_at || at < f->retry_at)
		f->retry_at = at;
}

/* A key refused (an unknown country, say) may fit a GeoIP table loaded since. */
static bool table_changed(struct fleet_follow *f)
{
	__u32 ids[2];

	if (!f->n_refused)
		return false;
	table_networks_ids(f->ctx, ids);
	return memcmp(ids, f->table_ids, sizeof(ids));
}

/*
 * Makes the rule set the store's as of revision (f->lock held, let go while the rules change:
 * only the watch thread converges and writes what that reads): shared ports given up first, the
 * meetings through apply's engine, new shared ports last; refused keys counted once each.
 */
static void converge(struct fleet_follow *f, __s64 revision)
{
	char command[FLEET_PREFIX_MAX + 32];
	struct audit_caller who = { .command = command, .uid = getuid(), .pid = getpid(),
				    .source = "etcd", .revision = revision };
	__u8 add[GB_PORT_COUNT / 8] = {}, remove[GB_PORT_COUNT / 8] = {};
	struct country_census census;
	struct fleet_want w;
	struct ops_counts counts;
	struct ops_shared shared;
	bool any_add = false, any_remove = false, drifted;
	int err;

	snprintf(command, sizeof(command), "etcd %s", f->prefix);
	gb_clear_error();
	/* Due again only as this one says (a retry, an expiry); this table seen. */
	f->retry_at = 0;
	table_networks_ids(f->ctx, f->table_ids);
	if (!fleet_here(f)) {
		f->status_due = true;
		pthread_cond_broadcast(&f->wake);
		return;
	}
	/* What a refused shared-ports key keeps: the shared ports here. */
	if (!f->kept.shared_known)
		f->kept.shared_known = !fleet_local_shared(f->ctx, f->kept.shared);
	err = countries_census(f->ctx, &census);
	if (!err)
		err = fleet_want_build(f->store.v, f->store.n, f->prefix, f->node, &census, &f->kept,
				       &w);
	if (err) {
		node_status_error(f->last_error, sizeof(f->last_error),
				  *gb_last_error() ? gb_last_error() : strerror(-err));
		retry_later(f);
		return;
	}
	__atomic_add_fetch(&f->g.rejected_total, fleet_refusals_say(f->refused, f->n_refused,
				w.refused, w.n_refused), __ATOMIC_RELAXED);
	/* A local change's mark forgotten before, not after: one made meanwhile marks it anew. */
	drifted = managed_drift(f->ctx);
	if (drifted)
		managed_settled(f->ctx);
	/* A long apply, or one waiting for the state lock, must not hold up the lease keepalive. */
	pthread_mutex_unlock(&f->lock);
	err = fleet_compare_local(f->ctx, &f->kept, drifted, &w, add, remove, &any_add,
				  &any_remove);
	if (!err && any_remove)
		err = ops_shared_ports(f->ctx, &who, NULL, remove, NULL, &shared);
	if (!err)
		err = ops_apply(f->ctx, &who, NULL, &w.meetings, false, NULL, NULL, &census,
				&counts);
	if (!err && any_add)
		err = ops_shared_ports(f->ctx, &who, add, NULL, NULL, &shared);
	pthread_mutex_lock(&f->lock);
	f->kept.shared_known = !err;
	if (!err)
		memcpy(f->kept.shared, w.shared, sizeof(w.shared));
	/* A key refused for a meeting that expires may fit then: no store change would say so. */
	for (size_t i = 0; i < w.meetings.n && w.n_refused; i++) {
		long long at = w.meetings.v[i].expires;

		if (at > now_s() && (!f->retry_at || at < f->retry_at))
			f->retry_at = at;
	}
	fleet_refusals_free(f->refused, f->n_refused);
	f->refused = w.refused;
	f->n_refused = w.n_refused;
	w.refused = NULL;
	w.n_refused = 0;
	if (err && drifted)
		managed_drifted(f->ctx);	/* what was changed here may stand still */
	if (err)
		retry_later(f);
	else
		f->retry_s = 0;
	f->kept.geoip_given = w.geoip_given;
	f->kept.geoip_build_epoch = w.geoip_build_epoch;
	memcpy(f->kept.geoip_sha256, w.geoip_sha256, sizeof(f->kept.geoip_sha256));
	fleet_want_free(&w);
	node_status_error(f->last_error, sizeof(f->last_error),
			  err ? (*gb_last_error() ? gb_last_error() : strerror(-err)) : "");
	if (!err) {
		__atomic_store_n(&f->g.applied_revision, revision, __ATOMIC_RELAXED);
		__atomic_store_n(&f->g.last_sync, now_s(), __ATOMIC_RELAXED);
	}
	f->status_due = true;
	pthread_cond_broadcast(&f->wake);
}

static int on_message(void *arg, const struct etcd_watch_msg *m)
{
	struct fleet_follow *f = arg;
	bool mine = false;
	__s64 last = 0;
	int err = 0;

	pthread_mutex_lock(&f->lock);
	if (m->compact_revision > 0 || m->canceled) {
		fprintf(stderr, "geoblock: fleet: revision %lld was compacted away (oldest kept: "
			"%lld): reading the store whole\n", (long long)f->seen + 1,
			(long long)m->compact_revision);
		pthread_mutex_unlock(&f->lock);
		return WATCH_COMPACTED;
	}
	/*
	 * A store behind what was seen here was made anew or restored from a backup: its revisions
	 * say nothing of what changed. Read whole, and taken for a new store (fleet_here): one that
	 * holds no fleet's key does not empty this node.
	 */
	if (m->created && m->revision < f->seen) {
		fleet_store_said_behind(m->revision, f->seen);
		f->named = false;
		pthread_mutex_unlock(&f->lock);
		return WATCH_COMPACTED;
	}
	if (m->created)
		set_connected(f, true);
	for (size_t i = 0; i < m->n_events && !err; i++) {
		/* Held back on a prefix of no fleet (fleet_here): any key that names one. */
		mine |= fleet_concerns(f->prefix, m->events[i].kv.key, f->node) ||
			(!f->named && !m->events[i].deleted &&
			 fleet_store_named(&m->events[i].kv, 1, f->prefix));
		if (m->events[i].kv.mod_revision > last)
			last = m->events[i].kv.mod_revision;
		/* Another daemon writing it (two daemons, one node name), or it gone: said anew. */
		if (!strcmp(m->events[i].kv.key, f->status_key) &&
		    node_status_own_event(&f->own, m->events[i].deleted ? NULL :
					  m->events[i].kv.value, f->node)) {
			f->status_due = true;
			pthread_cond_broadcast(&f->wake);
		}
		err = fleet_store_take(&f->store, &m->events[i]);
	}
	/* A progress notification: every event up to its revision has come. */
	if (!m->n_events && !m->created && m->revision > f->seen)
		last = m->revision;
	if (last > f->seen)
		f->seen = last;
	if (f->echo_rev > f->seen)	/* the stream speaks: silence is counted from here */
		f->echo_at = gb_mono_ms();
	/*
	 * Others' keys and statuses leave the applied revision as it is: were it to follow them,
	 * every node's status would change with every other's, and each rewrite be news to all.
	 */
	if (err)
		node_status_error(f->last_error, sizeof(f->last_error),
				  "out of memory taking a watch event");
	else if ((f->unapplied |= mine) && !m->more) {
		/* A backlog (a slow converge, a burst of changes) is converged once, at its end. */
		converge(f, f->seen);
		f->unapplied = false;
	}
	pthread_mutex_unlock(&f->lock);
	return err ? WATCH_COMPACTED : 0;
}

/* About once a second while the stream is up: in step with the store while it stays up. */
static int alive(void *arg)
{
	struct fleet_follow *f = arg;
	int ret;

	pthread_mutex_lock(&f->lock);
	ret = f->stop ? WATCH_STOP : 0;
	/*
	 * A member that cannot serve (no leader, seen after its leader was killed) may take the
	 * watch and never answer it: asked again, of the next member.
	 */
	if (!ret && !f->watching && now_s() - f->watch_asked >= WATCH_CREATE_S)
		ret = WATCH_UNANSWERED;
	/*
	 * A member stopped (a hung host) keeps the stream and sends nothing: our own write unseen;
	 * a store hung whole (one endpoint) takes no write at all.
	 */
	if (!ret && f->watching && ((f->echo_rev > f->seen && since(f->echo_at) >= WATCH_ECHO_MS) ||
				    (f->failing_at && since(f->failing_at) >= WATCH_ECHO_MS)))
		ret = WATCH_SILENT;
	if (!ret && f->watching &&
	    ((f->retry_at && now_s() > f->retry_at) || table_changed(f)))
		converge(f, f->seen);
	if (f->watching && !*f->last_error)
		__atomic_store_n(&f->g.last_sync, now_s(), __ATOMIC_RELAXED);
	pthread_mutex_unlock(&f->lock);
	return ret;
}

/* Reads the store whole and converges to it (f->lock held, given up while reading). */
static int read_whole(struct fleet_follow *f)
{
	struct etcd_kvs kvs;
	int err;

	pthread_mutex_unlock(&f->lock);
	err = etcd_range(&f->watch, f->prefix, &kvs);
	pthread_mutex_lock(&f->lock);
	if (err) {
		node_status_error(f->link_error, sizeof(f->link_error), f->watch.err);
		return err;
	}
	fleet_store_sort(&kvs);
	/* A store made anew while a read due otherwise waited: as on_message and the resume find. */
	if (f->named && fleet_store_anew(&f->store, &kvs, f->prefix, f->seen))
		f->named = false;
	etcd_kvs_free(&f->store);
	f->store = kvs;
	f->seen = kvs.revision;
	f->echo_rev = 0;	/* a store made anew: its revisions start over */
	converge(f, kvs.revision);
	return 0;
}

static void *watch_main(void *arg)
{
	struct fleet_follow *f = arg;
	long backoff = BACKOFF_MIN_MS;
	bool whole = true;

	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		int err = 0;

		/* Resuming: a store made anew past the revision seen here has another history. */
		if (!whole) {
			pthread_mutex_unlock(&f->lock);
			err = fleet_store_history(&f->watch, &f->store, f->prefix, f->seen);
			pthread_mutex_lock(&f->lock);
			/* Read whole, and taken for a new store, as one behind what was seen. */
			whole = err > 0;
			if (whole)
				f->named = false;
			else if (err < 0)
				node_status_error(f->link_error, sizeof(f->link_error),
						  f->watch.err);
		}
		if (whole)
			err = read_whole(f);
		if (!err) {
			__s64 from = f->seen + 1;

			whole = false;
			f->watch_asked = now_s();
			pthread_mutex_unlock(&f->lock);
			err = etcd_watch(&f->watch, f->prefix, from, on_message, alive, f);
			pthread_mutex_lock(&f->lock);
			/* What the stream left behind it, before the next one resumes after it. */
			if (f->unapplied && err != WATCH_COMPACTED)
				converge(f, f->seen);
			f->unapplied = false;
			if (err == -EMSGSIZE)	/* too big for one message: read whole, in pages */
				fprintf(stderr, "geoblock: fleet: %s: reading the store whole\n",
					f->watch.err);
			if (err == WATCH_COMPACTED || err == -EMSGSIZE) {
				whole = true;
				continue;
			}
			if (err == WATCH_UNANSWERED || err == WATCH_SILENT) {
				snprintf(f->watch.err, sizeof(f->watch.err), "etcd %s: watch: %s in %d s",
					 f->watch.urls[f->watch.cur], err == WATCH_SILENT ?
					 "silent, its own write not seen or not taken" : "no answer",
					 err == WATCH_SILENT ? WATCH_ECHO_MS / 1000 :
					 WATCH_CREATE_S);
				node_status_error(f->link_error, sizeof(f->link_error),
						  f->watch.err);
				f->watch.cur = (f->watch.cur + 1) % f->watch.n_urls;
				f->echo_rev = 0;
			}
			if (f->watching)
				backoff = BACKOFF_MIN_MS;
			if (err < 0)
				node_status_error(f->link_error, sizeof(f->link_error),
						  f->watch.err);
		}
		set_connected(f, false);
		if (nap(f, backoff))
			break;
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	set_connected(f, false);
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

/*
 * The node's status as its key holds it (f->lock held); *same if but for the time it is last,
 * the value last written without its time (*without_time: this one's, for the next call).
 */
static char *status_value(struct fleet_follow *f, const char *last, char **without_time,
			  bool *same)
{
	struct node_facts facts = {
		.node = f->node,
		.revision = __atomic_load_n(&f->g.applied_revision, __ATOMIC_RELAXED),
		.connected = f->watching,
		.geoip_given = f->kept.geoip_given,
		.geoip_build_epoch = f->kept.geoip_build_epoch,
		.geoip_sha256 = f->kept.geoip_sha256,
		.refused = f->refused,
		.n_refused = f->n_refused,
		.error = *f->last_error ? f->last_error : f->link_error,
		.instance = f->own.instance,
		.twin = node_status_own_twin(&f->own),
	};
	struct json_object *o = node_status_json(f->ctx, &facts, &f->digest);
	const int how = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;
	char *out;

	*same = last && !strcmp(last, json_object_to_json_string_ext(o, how));
	free(*without_time);
	*without_time = strdup(json_object_to_json_string_ext(o, how));
	json_object_object_add(o, "time", json_object_new_int64(now_s()));
	out = strdup(json_object_to_json_string_ext(o, how));
	json_object_put(o);
	return out;
}

static void *status_main(void *arg)
{
	struct fleet_follow *f = arg;
	const char *key = f->status_key;
	char *last = NULL, *pending = NULL;
	long long written = 0;
	unsigned int lost = 0, lost_put = 0;	/* deletes of the key seen; the last put after */
	__s64 lease = 0;

	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		bool due, same;
		__s64 put_rev = 0;
		char *value;
		int err = 0;

		/* Deleted: written again until a put succeeds, not only at the next refresh. */
		lost = f->own.lost;
		due = now_s() - written >= STATUS_REFRESH_S || lost != lost_put;
		f->status_due = false;
		/* Read every round (drift, attachments change without the store): written if new. */
		value = status_value(f, last, &pending, &same);
		pthread_mutex_unlock(&f->lock);
		/* A lease not kept alive (expired, or the store away) is granted anew. */
		if (lease && etcd_lease_keepalive(&f->status, lease))
			lease = 0;
		if (!lease) {
			err = etcd_lease_grant(&f->status, LEASE_TTL_S, &lease);
			due = true;
		}
		if (!err && value && (due || !same) && (err = etcd_put(&f->status, key, value,
								       lease)) == 0) {
			put_rev = f->status.put_revision;
			written = now_s();
			lost_put = lost;
			free(last);
			last = pending;
			pending = NULL;
		}
		free(value);
		pthread_mutex_lock(&f->lock);
		/* Unanswered, not refused: a store out of space answers, and still serves watches. */
		f->failing_at = err != -ECONNREFUSED ? 0 : f->failing_at ?: gb_mono_ms();
		/* The oldest write the watch has yet to bring back (alive() waits for it). */
		if (put_rev && (!f->echo_rev || f->seen >= f->echo_rev)) {
			f->echo_rev = put_rev;
			f->echo_at = gb_mono_ms();
		}
		/* Rewritten after a change, but at most five times a second: every node sees it. */
		for (long long until = gb_mono_ms() + 200, t;
		     !f->stop && (t = gb_mono_ms()) < until;)
			nap(f, until - t);
		if (!f->status_due)
			nap(f, STATUS_EVERY_S * 1000 - 200);
	}
	pthread_mutex_unlock(&f->lock);
	/* Stopped: the key goes now, not when the lease lapses (not waited for long: it will). */
	if (lease && etcd_lease_revoke(&f->status, lease, REVOKE_WAIT_MS))
		gb_warn("fleet: the status lease was not revoked (%s); %s goes when it lapses",
			f->status.err, f->status_key);
	free(last);
	free(pending);
	return NULL;
}

int fleet_follow_start(const struct gb_ctx *ctx, const struct fleet_config *cfg,
		       struct fleet_follow **out)
{
	struct fleet_follow *f;
	char mark[512];
	int err;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->ctx = ctx;
	if (fleet_names_check(cfg->prefix, cfg->node, f->prefix, sizeof(f->prefix))) {
		free(f);
		return -EINVAL;
	}
	snprintf(f->node, sizeof(f->node), "%s", cfg->node);
	snprintf(f->status_key, sizeof(f->status_key), "%sstatus/%s", f->prefix, f->node);
	node_status_own_init(&f->own);
	err = etcd_open(&f->watch, cfg->urls, cfg->cacert, cfg->cert, cfg->key);
	if (!err)
		err = etcd_open(&f->status, cfg->urls, cfg->cacert, cfg->cert, cfg->key);
	if (err)
		goto fail;
	snprintf(mark, sizeof(mark), "etcd %s (node %s, %s)", f->prefix, f->node, cfg->urls);
	err = managed_mark(ctx, mark);
	if (err) {
		gb_err("cannot write %s/%s: %s", ctx->state_dir, STATE_MANAGED_FILE,
		       strerror(-err));
		goto fail;
	}
	pthread_mutex_init(&f->lock, NULL);
	gb_cond_init(&f->wake);
	metrics_show_fleet(&f->g);
	f->started[0] = !pthread_create(&f->watch_thread, NULL, watch_main, f);
	f->started[1] = !pthread_create(&f->status_thread, NULL, status_main, f);
	*out = f;
	if (!f->started[0] || !f->started[1]) {
		gb_err("cannot start following etcd: no thread");
		fleet_follow_stop(f);
		*out = NULL;
		return -EAGAIN;
	}
	return 0;
fail:
	etcd_close(&f->watch);
	etcd_close(&f->status);
	free(f);
	return err;
}

void fleet_follow_stop(struct fleet_follow *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_cond_broadcast(&f->wake);
	pthread_mutex_unlock(&f->lock);
	for (int i = 0; i < 2; i++)
		if (f->started[i])
			pthread_join(i ? f->status_thread : f->watch_thread, NULL);
	metrics_show_fleet(NULL);
	etcd_close(&f->watch);
	etcd_close(&f->status);
	etcd_kvs_free(&f->store);
	fleet_refusals_free(f->refused, f->n_refused);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	free(f);
}
