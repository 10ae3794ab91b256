// SPDX-License-Identifier: GPL-2.0
/*
 * `daemon`: the long-running side of geoblock. Serves the Prometheus exporter, deletes expired
 * meetings, reloads a watched GeoIP file, and waits for SIGTERM/SIGINT; enforcement never depends
 * on it (everything it reads is pinned; expiry is enforced by the data path itself).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "common.h"
#include "exporter.h"
#include "meeting.h"

/* How often expired meetings are looked for; the data path stops them on time by itself. */
#define EXPIRE_INTERVAL_S 5

static void daemon_usage(void)
{
	printf("Usage: geoblock daemon [--metrics ADDR:PORT]\n"
	       "  --metrics  where to serve Prometheus metrics at /metrics (default %s);\n"
	       "             ADDR is an IPv4 address, [IPv6 address] or host name;\n"
	       "             PORT 0 picks a free port\n"
	       "Every %d s, deletes the meetings whose --expires time has passed (audited).\n"
	       "Prints the URL it serves on, then runs until SIGTERM or SIGINT (exit 0).\n",
	       EXPORTER_DEFAULT_ADDR, EXPIRE_INTERVAL_S);
}

/* What the main loop waits on. */
enum {
	POLL_SIGNAL,
	POLL_EXPIRE,
	/* POLL_WATCH: the --watch PATH GeoIP file watch (inotify) will go here. */
	POLL_COUNT,
};

static void expire(const struct gb_ctx *ctx)
{
	int n = rules_expire(ctx);

	if (n < 0)
		gb_warn("cannot delete expired meetings: %s; trying again in %d s", strerror(-n),
			EXPIRE_INTERVAL_S);
	else if (n > 0)
		fprintf(stderr, "geoblock: daemon: deleted %d expired meeting%s\n", n,
			n == 1 ? "" : "s");
}

static int run(const struct gb_ctx *ctx, int sfd, int tfd)
{
	struct pollfd pfd[POLL_COUNT] = {
		[POLL_SIGNAL] = { .fd = sfd, .events = POLLIN },
		[POLL_EXPIRE] = { .fd = tfd, .events = POLLIN },
	};

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
			expire(ctx);
		}
	}
}

int cmd_daemon(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "metrics", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *metrics = EXPORTER_DEFAULT_ADDR;
	struct exporter *exp = NULL;
	struct sockaddr_storage addr;
	struct gb_ctx ctx;
	socklen_t addr_len;
	sigset_t mask;
	char err_msg[160];
	struct itimerspec every = { .it_interval = { .tv_sec = EXPIRE_INTERVAL_S },
				    .it_value = { .tv_sec = EXPIRE_INTERVAL_S } };
	int opt, sfd, tfd = -1, err, ret = GB_EXIT_FAIL;

	optind = 0;
	opterr = 0;	/* our own one-line messages */
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			metrics = optarg;
			break;
		case 'h':
			daemon_usage();
			return GB_EXIT_OK;
		case ':':
			gb_err("%s needs a value; see -h", argv[optind - 1]);
			return GB_EXIT_USAGE;
		default:
			gb_err("unknown option \"%.64s\"; see -h", argv[optind - 1]);
			return GB_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		gb_err("unexpected argument \"%.64s\"; see -h", argv[optind]);
		return GB_EXIT_USAGE;
	}
	if (exporter_parse_addr(metrics, &addr, &addr_len, err_msg, sizeof(err_msg))) {
		gb_err("--metrics: %s", err_msg);
		return GB_EXIT_USAGE;
	}

	/* Blocked before any thread starts, so that only the signalfd ever sees them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL)) {
		gb_err("cannot block signals: %s", strerror(errno));
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
		return GB_EXIT_FAIL;
	}
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (tfd < 0 || timerfd_settime(tfd, 0, &every, NULL)) {
		gb_err("cannot create the expiry timer: %s", strerror(errno));
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
	fflush(stdout);

	err = run(&ctx, sfd, tfd);
	if (err)
		gb_err("main loop failed: %s", strerror(-err));
	else
		ret = GB_EXIT_OK;
	exporter_stop(exp);
out_close:
	gb_close(&ctx);
out_sfd:
	if (tfd >= 0)
		close(tfd);
	close(sfd);
	return ret;
}
