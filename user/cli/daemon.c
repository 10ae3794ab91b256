// SPDX-License-Identifier: GPL-2.0
/*
 * `daemon`: the long-running side of geoblock. Serves the Prometheus exporter, deletes expired
 * meetings, reloads a watched GeoIP file, and waits for SIGTERM/SIGINT; enforcement never depends
 * on it (everything it reads is pinned; expiry is enforced by the data path itself).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "geoip/geoip.h"
#include "kern/link_keeper.h"
#include "kern/pins.h"
#include "kern/retired.h"
#include "state/context.h"
#include "state/converge.h"
#include "state/janus_members.h"
#include "state/janus_hangup.h"
#include "state/managed.h"
#include "state/ops_steps.h"
#include "metrics/exporter.h"
#include "metrics/metrics.h"
#include "api/janus_admin.h"
#include "api/janus_events.h"
#include "api/routes.h"
#include "api/server.h"
#include "fleet/follow.h"
#include "fleet/layout.h"
#include "cli/cmd.h"
#include "cli/geoip.h"

/*
 * How often expired meetings are looked for; the data path stops them on time by itself. The
 * daemon's help in cmd.c says it.
 */
#define EXPIRE_INTERVAL_S 5
#define WATCH_MAX GEOIP_MAX_FILES	/* as many as geoip load takes */

/*
 * --watch: the files of one GeoIP table, reloaded together when any of them is replaced: what
 * each path resolves to (through symlinks, as a Kubernetes ConfigMap's ..data) is compared with
 * what it was at the last event.
 */
struct watch {
	int fd;				/* inotify, -1 without --watch */
	int n;
	char *paths[WATCH_MAX];
	int wd[WATCH_MAX];		/* watch of each file's directory */
	char *names[WATCH_MAX];		/* each file's name in it */
	struct stat seen[WATCH_MAX];	/* what each path resolved to at the last event */
	bool present[WATCH_MAX];	/* whether it resolved to a file then */
};

/* What the main loop waits on. */
enum {
	POLL_SIGNAL,
	POLL_EXPIRE,
	POLL_WATCH,
	POLL_PINS,
	POLL_COUNT,
};

static int watch_add(struct watch *w, const char *path)
{
	char dir[PATH_MAX], base[PATH_MAX];
	int i = w->n;

	if (w->n == WATCH_MAX) {
		gb_err("at most %d --watch files", WATCH_MAX);
		return -E2BIG;
	}
	w->present[i] = !stat(path, &w->seen[i]);
	if (w->present[i] && S_ISDIR(w->seen[i].st_mode)) {
		gb_err("--watch %s is a directory: name the database file in it", path);
		return -EISDIR;
	}
	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(base, sizeof(base), "%s", path);
	w->paths[i] = strdup(path);
	w->names[i] = strdup(basename(base));
	if (!w->paths[i] || !w->names[i])
		return -ENOMEM;
	/*
	 * The directory, not the file: a file renamed over the path is a new inode, and a symlink
	 * swapped in the directory (a ConfigMap's ..data) changes what the path names.
	 */
	w->wd[i] = inotify_add_watch(w->fd, dirname(dir), IN_CLOSE_WRITE | IN_MOVED_TO |
				     IN_CREATE | IN_DELETE | IN_MOVED_FROM);
	if (w->wd[i] < 0) {
		gb_err("--watch %s: cannot watch its directory: %s", path, strerror(errno));
		return -errno;
	}
	/* Not an error (a file may be written there later), but likely a typo. */
	if (access(path, R_OK))
		gb_warn("--watch %s: %s: loaded once a file is written there", path,
			strerror(errno));
	w->n++;
	return 0;
}

static void watch_free(struct watch *w)
{
	for (int i = 0; i < w->n; i++) {
		free(w->paths[i]);
		free(w->names[i]);
	}
	if (w->fd >= 0)
		close(w->fd);
}

/* Whether dir-of-watch-i/name is a symlink (one made in place of another, as ln -sf does). */
static bool made_symlink(const struct watch *w, int i, const char *name)
{
	char path[PATH_MAX * 2], dir[PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", w->paths[i]);
	snprintf(path, sizeof(path), "%s/%s", dirname(dir), name);
	return !lstat(path, &st) && S_ISLNK(st.st_mode);
}

/*
 * Whether watched path i now names another file than at the last event (named: an event named
 * the path itself, written or renamed over: it changed whatever its stat says); says once when
 * it names none any more.
 */
static bool watch_recheck(struct watch *w, int i, bool named)
{
	bool was = w->present[i], changed;
	struct stat st;

	if (stat(w->paths[i], &st)) {
		if (was)
			gb_warn("--watch %s: %s; the loaded table stays (loaded again once a "
				"file is there)", w->paths[i],
				errno == ENOENT ? "deleted" : strerror(errno));
		w->present[i] = false;
		return false;
	}
	changed = named || !was || !gb_same_file(&st, &w->seen[i]);
	w->seen[i] = st;
	w->present[i] = true;
	return changed;
}

/* Reads the pending events; returns true when one of the watched files was replaced. */
static bool watch_changed(struct watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false, look[WATCH_MAX] = {}, named[WATCH_MAX] = {};
	ssize_t len;

	while ((len = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			/* A file is complete when closed or renamed in; a symlink when made. */
			bool done = ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO);

			for (int i = 0; i < w->n; i++) {
				if (!ev->len || ev->wd != w->wd[i])
					continue;
				if (!strcmp(ev->name, w->names[i]))
					named[i] |= done;
				if (done || ev->mask & (IN_DELETE | IN_MOVED_FROM) ||
				    (ev->mask & IN_CREATE && made_symlink(w, i, ev->name)))
					look[i] = true;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	for (int i = 0; i < w->n; i++)
		if (look[i] && watch_recheck(w, i, named[i]))
			changed = true;
	return changed;
}

static void expire(const struct gb_ctx *ctx)
{
	static bool said, retired_failed;
	int n;

	/*
	 * Pins made anew since the daemon started (removed, then re-created by a command before the
	 * daemon pinned its maps again): expiring meetings in its own maps would write the rules
	 * file from maps nothing uses any more. Removed pins are pinned again by the link keeper.
	 */
	n = gb_pins_current(ctx);
	if (n == -ESTALE && !said)
		gb_warn("the pinned maps under %s were re-created since the daemon started: it no "
			"longer deletes expired meetings or changes any (API, Janus); restart it",
			ctx->pin_dir);
	said = n == -ESTALE;
	if (n)
		return;
	/*
	 * Maps an earlier version left: unpinned once no program reads them (after the upgrade's
	 * attach), with no change needed. A failure was a warning; said once until it works.
	 */
	n = retired_remove(ctx, !retired_failed);
	retired_failed = n < 0;
	n = ops_expire(ctx);

	if (n < 0)
		gb_warn("cannot delete expired meetings: %s; trying again in %d s", strerror(-n),
			EXPIRE_INTERVAL_S);
	else if (n > 0)
		fprintf(stderr, "geoblock: daemon: deleted %d expired meeting%s\n", n,
			n == 1 ? "" : "s");
}

static int run(const struct gb_ctx *ctx, int sfd, int tfd, struct watch *w,
	       struct link_keeper *k, struct janus_members *jm, struct janus_admin *hangup)
{
	struct pollfd pfd[POLL_COUNT] = {
		[POLL_SIGNAL] = { .fd = sfd, .events = POLLIN },
		[POLL_EXPIRE] = { .fd = tfd, .events = POLLIN },
		[POLL_WATCH] = { .fd = w->fd, .events = POLLIN },
		[POLL_PINS] = { .fd = k->inotify_fd, .events = POLLIN },
	};

	keeper_pass(k, ctx);
	expire(ctx);
	for (;;) {
		/* Scrapes are served by the exporter's own thread, not here. */
		int n = poll(pfd, POLL_COUNT, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (pfd[POLL_SIGNAL].revents) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				return -EIO;
			return 0;	/* SIGTERM or SIGINT: stop cleanly */
		}
		if (pfd[POLL_EXPIRE].revents) {
			__u64 ticks;

			if (read(tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
				return -EIO;
			keeper_pass(k, ctx);
			expire(ctx);
			if (jm)
				janus_members_expire(jm);
			if (hangup)
				janus_members_hangup_blocked(jm, janus_admin_hangup, hangup);
		}
		if (pfd[POLL_PINS].revents) {
			keeper_settle(k);
			keeper_pass(k, ctx);
		}
		if (pfd[POLL_WATCH].revents && watch_changed(w)) {
			/* One line either way; a refused file is counted by the load itself. */
			if (!geoip_reload(ctx, w->paths, w->n))
				fprintf(stderr, "geoblock: daemon: reloaded the GeoIP table\n");
		}
	}
}

int cmd_daemon(const struct cmd_args *a)
{
	const char *metrics = a->opt[OPT_METRICS];
	const char *api_path = a->opt[OPT_API];
	const char *janus = a->opt[OPT_JANUS_EVENTS];
	struct janus_events *jev = NULL;
	struct janus_admin admin;
	struct janus_members jm;
	struct sockaddr_storage jaddr;
	socklen_t jaddr_len;
	unsigned long idle;
	char *end;
	struct api_server *api = NULL;
	struct fleet_follow *fleet = NULL;
	struct exporter *exp = NULL;
	struct sockaddr_storage addr;
	struct gb_ctx ctx;
	socklen_t addr_len;
	sigset_t mask;
	char err_msg[160], prefix[FLEET_PREFIX_MAX + 2], auth[JANUS_EVENTS_AUTH_MAX];
	struct itimerspec every = { .it_interval = { .tv_sec = EXPIRE_INTERVAL_S },
				    .it_value = { .tv_sec = EXPIRE_INTERVAL_S } };
	struct watch w = { .fd = -1 };
	struct link_keeper keeper = { .inotify_fd = -1 };
	int sfd, tfd = -1, lock_fd, err, ret = GB_EXIT_FAIL;
	gid_t api_gid;
	long holder;

	if (a->opt[OPT_API_ROUTES]) {
		api_print_routes(stdout);
		return GB_EXIT_OK;
	}
	if (a->opt[OPT_API_GROUP] && !api_path) {
		gb_err("--api-group needs --api PATH");
		return GB_EXIT_USAGE;
	}
	if (api_path && api_check_args(api_path, a->opt[OPT_API_GROUP], &api_gid))
		return GB_EXIT_USAGE;
	if (a->count[OPT_WATCH] > WATCH_MAX) {
		gb_err("at most %d --watch files", WATCH_MAX);
		return GB_EXIT_USAGE;
	}
	for (int i = 0; i < a->ngiven; i++)
		if (a->given[i].id == OPT_WATCH && strchr(a->given[i].value, '\n')) {
			gb_err("--watch: a path with a newline cannot be recorded for restore; "
			       "rename the file");
			return GB_EXIT_USAGE;
		}
	if (exporter_parse_addr(metrics, &addr, &addr_len, err_msg, sizeof(err_msg))) {
		gb_err("--metrics: %s", err_msg);
		return GB_EXIT_USAGE;
	}
	if (janus && exporter_parse_addr(janus, &jaddr, &jaddr_len, err_msg, sizeof(err_msg))) {
		gb_err("--janus-events: %s", err_msg);
		return GB_EXIT_USAGE;
	}
	if ((a->opt[OPT_JANUS_EVENTS_AUTH] || a->count[OPT_JANUS_IDLE] || a->opt[OPT_JANUS_ADMIN]) &&
	    !janus) {
		gb_err("--janus-events-auth, --janus-idle and --janus-admin need --janus-events "
		       "ADDR:PORT");
		return GB_EXIT_USAGE;
	}
	if (!a->opt[OPT_JANUS_ADMIN] != !a->opt[OPT_JANUS_ADMIN_SECRET]) {
		gb_err("--janus-admin URL and --janus-admin-secret FILE go together");
		return GB_EXIT_USAGE;
	}
	/* --etcd-prefix has a default value: whether it was given is its count. */
	if (!a->opt[OPT_ETCD] && (a->opt[OPT_NODE] || a->opt[OPT_ETCD_CACERT] ||
				  a->opt[OPT_ETCD_CERT] || a->opt[OPT_ETCD_KEY] ||
				  a->count[OPT_ETCD_PREFIX])) {
		gb_err("--node, --etcd-prefix and --etcd-cacert, --etcd-cert, --etcd-key need "
		       "--etcd URL");
		return GB_EXIT_USAGE;
	}
	if (a->opt[OPT_ETCD] && !a->opt[OPT_NODE]) {
		gb_err("--etcd needs --node NODE: this node's name in the store");
		return GB_EXIT_USAGE;
	}
	if (a->opt[OPT_ETCD] && fleet_names_check(a->opt[OPT_ETCD_PREFIX], a->opt[OPT_NODE],
						  prefix, sizeof(prefix)))
		return GB_EXIT_USAGE;
	if (a->opt[OPT_JANUS_HANGUP] && !a->opt[OPT_JANUS_ADMIN]) {
		gb_err("--janus-hangup needs --janus-admin URL (its hangup_webrtc)");
		return GB_EXIT_USAGE;
	}
	if (a->opt[OPT_JANUS_ADMIN] &&
	    janus_admin_open(&admin, a->opt[OPT_JANUS_ADMIN], a->opt[OPT_JANUS_ADMIN_SECRET]))
		return GB_EXIT_USAGE;
	if (a->opt[OPT_JANUS_EVENTS_AUTH] &&
	    janus_events_read_auth(a->opt[OPT_JANUS_EVENTS_AUTH], auth))
		return GB_EXIT_USAGE;
	errno = 0;
	idle = strtoul(a->opt[OPT_JANUS_IDLE], &end, 10);
	if (errno || *end || !idle || idle > 86400 || *a->opt[OPT_JANUS_IDLE] == '-') {
		gb_err("--janus-idle: \"%.16s\" is not a number of seconds (1-86400)",
		       a->opt[OPT_JANUS_IDLE]);
		return GB_EXIT_USAGE;
	}

	/* One daemon per state dir: a second would take the Janus ports and the API's socket. */
	pins_init(&ctx);
	lock_fd = gb_daemon_lock(ctx.state_dir, &holder);
	if (lock_fd == -EBUSY && holder) {
		gb_err("another geoblock daemon (pid %ld) serves state dir %s; stop it first", holder,
		       ctx.state_dir);
		return GB_EXIT_FAIL;
	} else if (lock_fd < 0) {
		gb_err("cannot hold %s/daemon.pid: %s", ctx.state_dir,
		       lock_fd == -EBUSY ? "another geoblock daemon holds it" : strerror(-lock_fd));
		return GB_EXIT_FAIL;
	}
	/* Blocked before any thread starts, so that only the signalfd ever sees them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		gb_err("cannot block signals: %s", strerror(errno));
		close(lock_fd);
		return GB_EXIT_FAIL;
	}
	/*
	 * Started in the background by a shell, SIGINT comes ignored, and an ignored signal never
	 * reaches the signalfd: take the default back (they stay blocked, so nothing else changes).
	 */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	/* A scraper that hangs up mid-response must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		gb_err("cannot create a signalfd: %s", strerror(errno));
		close(lock_fd);
		return GB_EXIT_FAIL;
	}
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (tfd < 0 || timerfd_settime(tfd, 0, &every, NULL)) {
		gb_err("cannot create the expiry timer: %s", strerror(errno));
		goto out_sfd;
	}
	if (a->count[OPT_WATCH]) {
		w.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (w.fd < 0) {
			gb_err("cannot start watching files: %s", strerror(errno));
			goto out_sfd;
		}
		for (int i = 0; i < a->ngiven; i++)
			if (a->given[i].id == OPT_WATCH && watch_add(&w, a->given[i].value))
				goto out_sfd;
	}
	if (keeper_init(&keeper)) {
		gb_err("cannot watch the pin dir: %s", strerror(errno));
		goto out_sfd;
	}
	if (gb_open(&ctx, 0))
		goto out_sfd;
	err = exporter_start(&ctx, (struct sockaddr *)&addr, addr_len, &exp);
	if (err) {
		gb_err("cannot serve metrics on %s: %s", metrics, strerror(-err));
		goto out_close;
	}
	printf("serving metrics on %s\n", exporter_url(exp));
	if (api_path) {
		err = api_start(&ctx, api_path, a->opt[OPT_API_GROUP], &api);
		if (err)
			goto out_exp;
		printf("serving the API on unix:%s\n", api_path);
	}
	if (janus) {
		janus_members_init(&jm, &ctx, idle);
		/* Handles a former daemon knew of may be gone: their ports go back first. */
		if (janus_members_reset(&jm))
			gb_warn("cannot take back the ports of a former daemon's Janus handles "
				"yet; trying again every 5 s");
		/*
		 * Events served before the rebuild: Janus's event handler gives up on an event
		 * after a few seconds of refused connections, and one lost while the Admin API is
		 * asked (a handle's join or candidate) would leave its ports unfiltered for its
		 * whole call.
		 */
		err = janus_events_start(&jm, (struct sockaddr *)&jaddr, jaddr_len,
					 a->opt[OPT_JANUS_EVENTS_AUTH] ? auth : NULL, &jev);
		if (err)
			goto out_api;
		printf("serving Janus events on %s\n", janus_events_url(jev));
		fflush(stdout);
		metrics_show_janus(&jm);
		if (a->opt[OPT_JANUS_ADMIN]) {
			unsigned int n;

			/* Unreachable, the membership comes from the events only. */
			if (!janus_admin_rebuild(&admin, &jm, &n))
				printf("rebuilt %u Janus handle%s from the Admin API\n", n,
				       n == 1 ? "" : "s");
		}
	}
	if (a->opt[OPT_ETCD]) {
		struct fleet_config fc = {
			.urls = a->opt[OPT_ETCD], .prefix = a->opt[OPT_ETCD_PREFIX],
			.node = a->opt[OPT_NODE], .cacert = a->opt[OPT_ETCD_CACERT],
			.cert = a->opt[OPT_ETCD_CERT], .key = a->opt[OPT_ETCD_KEY],
		};

		err = fleet_follow_start(&ctx, &fc, &fleet);
		if (err)
			goto out_janus;
		printf("following etcd %s as node %s\n", a->opt[OPT_ETCD], a->opt[OPT_NODE]);
	} else if (managed_mark(&ctx, NULL)) {
		gb_warn("cannot remove %s/%s: local changes stay refused", ctx.state_dir,
			STATE_MANAGED_FILE);
	}
	fflush(stdout);

	err = run(&ctx, sfd, tfd, &w, &keeper, janus ? &jm : NULL,
		  a->opt[OPT_JANUS_HANGUP] ? &admin : NULL);
	if (err)
		gb_err("main loop failed: %s", strerror(-err));
	else
		ret = GB_EXIT_OK;
	fleet_follow_stop(fleet);
out_janus:
	janus_events_stop(jev);
out_api:
	if (janus) {
		/* Off the page first: a scrape may be reading them. */
		metrics_show_janus(NULL);
		janus_members_free(&jm);
	}
	api_stop(api);
out_exp:
	exporter_stop(exp);
out_close:
	gb_close(&ctx);
out_sfd:
	keeper_free(&keeper);
	watch_free(&w);
	if (tfd >= 0)
		close(tfd);
	close(sfd);
	close(lock_fd);
	return ret;
}
