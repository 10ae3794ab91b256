// SPDX-License-Identifier: GPL-2.0
/*
 * `explain ADDR PORT`: which meeting, country, network, rule or exception decides a packet, and
 * the verdict (state/explain.c works it out).
 */
#include <errno.h>
#include <stdio.h>
#include "lib/errors.h"
#include "kern/pins.h"
#include "state/context.h"
#include "state/countries.h"
#include "state/explain.h"
#include "cli/cmd.h"
#include "cli/output.h"

int cmd_explain(const struct cmd_args *a)
{
	static struct explanation e;
	struct gb_ctx ctx;
	int err;

	/* Bad input is refused before anything is opened. */
	err = explain_packet(NULL, a->pos[0], a->pos[1], a->opt[OPT_PROTO], a->opt[OPT_UFRAG],
			     a->opt[OPT_SPORT], &e);
	if (err == -EINVAL)
		return GB_EXIT_USAGE;
	if (gb_open(&ctx, GB_OPEN_READ))
		return GB_EXIT_FAIL;
	warn_interrupted(&ctx);
	err = explain_packet(&ctx, a->pos[0], a->pos[1], a->opt[OPT_PROTO], a->opt[OPT_UFRAG],
			     a->opt[OPT_SPORT], &e);
	gb_close(&ctx);
	if (err)
		return err == -EINVAL ? GB_EXIT_USAGE : GB_EXIT_FAIL;
	if (a->opt[OPT_JSON]) {
		print_json(explanation_json(&e));
		return GB_EXIT_OK;
	}
	printf("packet:   from %s", e.address);
	if (e.sport)
		printf(" port %d", e.sport);
	printf(" to port %d/%s%s%s%s\n", e.port, e.tcp ? "tcp" : "udp", e.shared ? " (shared)" : "",
	       *e.ufrag ? ", a Binding Request naming ufrag " : "", e.ufrag);
	if (e.sport && e.learned)
		printf("sender:   learned: bound to ufrag %s (its way's time %lld s ago; consent "
		       "checks refresh it about every 8 s)\n", e.learned_ufrag, e.learned_age_s);
	else if (e.sport)
		printf("sender:   not learned (or bound to a ufrag no meeting has now)\n");
	printf("meeting:  %s", *e.meeting ? e.meeting : "none");
	if (e.janus)
		printf(" (the port of Janus room %llu, session %llu, handle %llu)",
		       (unsigned long long)e.janus_room, (unsigned long long)e.janus_session,
		       (unsigned long long)e.janus_handle);
	putchar('\n');
	if (e.has_meeting)
		countries_describe(&e.census, e.blocked, "blocks:   ", "          ", stdout);
	printf("country:  %s%s%s%s\n", *e.country ? e.country : "none",
	       *e.network ? " (GeoIP network " : "", e.network, *e.network ? ")" : "");
	printf("rule:     %s\n", *e.rule ? e.rule : "none");
	printf("verdict:  %s: %s\n", e.verdict, e.why);
	if (!e.attached)
		printf("note:     the filter is attached to no interface, so no packet is "
		       "dropped or counted yet ('geoblock attach IFACE')\n");
	return GB_EXIT_OK;
}
