// SPDX-License-Identifier: GPL-2.0
/* The geoblock command line: global options and dispatch to one function per OBJECT VERB. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/errors.h"
#include "lib/version.h"
#include "kern/pins.h"
#include "cli/cmd.h"

static void usage(void)
{
	printf("Usage: geoblock [-v] [--pin-dir DIR] [--state-dir DIR] COMMAND [ARGS]\n"
	       "\n"
	       "Drops the packets of one meeting's ports that come from the countries it blocks (XDP).\n"
	       "\n"
	       "Commands:\n"
	       "  attach IFACE [--mode native|generic|auto] [--lookup table|lpm]\n"
	       "  detach IFACE\n"
	       "  status [--json]                   attachments, GeoIP table, meetings\n"
	       "  geoip load PATH... [--field FIELD] [--with-lpm] [--max-shrink PCT] [--force]\n"
	       "  geoip lookup ADDR|- [--json] [--from table|lpm]   country, as the filter sees it\n"
	       "  geoip dump                        the networks of the loaded table\n"
	       "  meeting add NAME --ports LIST --block CC[,CC...] [--allow CIDR[,...]]\n"
	       "              [--proto udp,tcp] [--expires DURATION|TIME] [--monitor] [--reason TEXT]\n"
	       "  meeting set NAME --enforce|--monitor [--reason TEXT]\n"
	       "  meeting del NAME [--reason TEXT]\n"
	       "  meeting list [--json]\n"
	       "  stats [--json]                              verdict and drop counters\n"
	       "  daemon [--metrics ADDR:PORT] [--watch PATH]  metrics, expiry, GeoIP file reloads\n"
	       "  explain ADDR PORT [--proto udp|tcp] [--json]   what decides a packet, and the verdict\n"
	       "  apply FILE [--check] [--reason TEXT]           make FILE's meetings the rule set\n"
	       "  restore                           re-create pins, table, rules, attachments\n"
	       "\n"
	       "  -v, --verbose   show libbpf's log (-vv: its debug messages too)\n"
	       "Environment: GEOBLOCK_PIN_DIR (default " GB_DEFAULT_PIN_DIR "),\n"
	       "             GEOBLOCK_STATE_DIR (default " GB_DEFAULT_STATE_DIR ").\n"
	       "Exit status: 0 success, 1 usage error, 2 failure. Run 'geoblock COMMAND -h' for details.\n");
}

static const struct cmd top_cmds[] = {
	{ "attach", cmd_attach },
	{ "detach", cmd_detach },
	{ "status", cmd_status },
	{ "geoip", cmd_geoip },
	{ "meeting", cmd_meeting },
	{ "stats", cmd_stats },
	{ "daemon", cmd_daemon },
	{ "explain", cmd_explain },
	{ "apply", cmd_apply },
	{ "restore", cmd_restore },
	{ NULL, NULL },
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	/* '+': stop at the command name; each command parses its own options. */
	while ((opt = getopt_long(argc, argv, "+hVv", opts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			setenv("GEOBLOCK_PIN_DIR", optarg, 1);
			break;
		case 's':
			setenv("GEOBLOCK_STATE_DIR", optarg, 1);
			break;
		case 'h':
			usage();
			return GB_EXIT_OK;
		case 'v':
			gb_set_verbosity(gb_verbosity() + 1);
			break;
		case 'V':
			printf("geoblock " GB_VERSION "\n");
			return GB_EXIT_OK;
		default:
			return GB_EXIT_USAGE;
		}
	}
	return cmd_select(top_cmds, argc - optind, argv + optind, usage, NULL);
}
