// SPDX-License-Identifier: GPL-2.0
/*
 * `daemon`: the long-running side of geoblock. Serves the Prometheus exporter and waits for
 * SIGTERM/SIGINT; enforcement never depends on it (everything it reads is pinned).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include "common.h"
#include "exporter.h"

static void daemon_usage(void)
{
	printf("Usage: geoblock daemon [--metrics ADDR:PORT]\n"
	       "  --metrics  where to serve Prometheus metrics at /metrics (default %s);\n"
	       "             ADDR is an IPv4 address, [IPv6 address] or host name;\n"
	       "             PORT 0 picks a free port\n"
	       "Prints the URL it serves on, then runs until SIGTERM or SIGINT (exit 0).\n",
	       EXPORTER_DEFAULT_ADDR);
}

/* What the main loop waits on. */
enum {
	POLL_SIGNAL,
	/* POLL_WATCH: the --watch PATH GeoIP file watch (inotify) will go here. */
	POLL_COUNT,
};

static int run(int sfd)
{
	struct pollfd pfd[POLL_COUNT] = {
		[POLL_SIGNAL] = { .fd = sfd, .events = POLLIN },
	};

	for (;;) {
		/*
		 * Periodic work (rule expiry) will give poll a timeout, or a timerfd in pfd[];
		 * until then nothing runs here between signals: scrapes are served by the
		 * exporter's own thread.
		 */
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
		/* ---- periodic work and the --watch PATH handler go here ---- */
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
	int opt, sfd, err, ret = GB_EXIT_FAIL;

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
	if (gb_open(&ctx, 0))
		goto out_sfd;
	err = exporter_start(&ctx, (struct sockaddr *)&addr, addr_len, &exp);
	if (err) {
		gb_err("cannot serve metrics on %s: %s", metrics, strerror(-err));
		goto out_close;
	}
	printf("serving metrics on %s\n", exporter_url(exp));
	fflush(stdout);

	err = run(sfd);
	if (err)
		gb_err("main loop failed: %s", strerror(-err));
	else
		ret = GB_EXIT_OK;
	exporter_stop(exp);
out_close:
	gb_close(&ctx);
out_sfd:
	close(sfd);
	return ret;
}
