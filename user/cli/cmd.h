/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command table's types and the commands' entry points: cmd.c holds the one table, from
 * which args.c parses every command line and prints every help.
 */
#ifndef GEOBLOCK_CLI_CMD_H
#define GEOBLOCK_CLI_CMD_H

#include <stdbool.h>

/* Every option of every command, by long name; a command reads its options' values by these. */
enum cmd_opt_id {
	OPT_NONE,
	OPT_VERBOSE,
	OPT_PIN_DIR,
	OPT_STATE_DIR,
	OPT_VERSION,
	OPT_HELP,
	OPT_JSON,
	OPT_MODE,
	OPT_LOOKUP,
	OPT_FIELD,
	OPT_MAX_SHRINK,
	OPT_FORCE,
	OPT_WITH_LPM,
	OPT_FROM,
	OPT_PORTS,
	OPT_UFRAG,
	OPT_SPORT,
	OPT_BLOCK,
	OPT_ALLOW,
	OPT_PROTO,
	OPT_EXPIRES,
	OPT_MONITOR,
	OPT_ENFORCE,
	OPT_REASON,
	OPT_CHECK,
	OPT_PRINT,
	OPT_METRICS,
	OPT_WATCH,
	OPT_API,
	OPT_API_GROUP,
	OPT_API_ROUTES,
	OPT_JANUS_ROOM,
	OPT_JANUS_EVENTS,
	OPT_JANUS_EVENTS_AUTH,
	OPT_JANUS_IDLE,
	OPT_JANUS_ADMIN,
	OPT_JANUS_ADMIN_SECRET,
	OPT_JANUS_HANGUP,
	OPT_ETCD,
	OPT_ETCD_PREFIX,
	OPT_NODE,
	OPT_ETCD_CACERT,
	OPT_ETCD_CERT,
	OPT_ETCD_KEY,
	OPT_LOCAL_OVERRIDE,
	OPT_COUNT,
};

enum cmd_opt_flags {
	CMD_OPT_REQUIRED = 1 << 0,	/* usage shows it unbracketed; missing: a usage error */
	CMD_OPT_OR_NEXT	= 1 << 1,	/* this or the next, not both: --enforce|--monitor */
	CMD_OPT_REPEAT	= 1 << 2,	/* may be given again, else "given twice" */
	CMD_OPT_CHOICE	= 1 << 3,	/* value is "a|b|c", the only values taken */
	CMD_OPT_ANYCASE	= 1 << 4,	/* a choice matched whatever its case */
};

struct cmd_opt {
	enum cmd_opt_id id;
	const char *name;		/* the long name, without "--" */
	char short_name;		/* 0: none */
	const char *value;		/* what it takes ("ADDR:PORT", "a|b"); NULL: a flag */
	const char *def;		/* the value when not given; NULL: none */
	unsigned int flags;		/* enum cmd_opt_flags */
	const char *help;		/* lines ending in '\n' but the last */
};

/* An option as it was given, in order. */
struct cmd_given {
	enum cmd_opt_id id;
	const char *value;		/* "" for a flag */
};

/* A command line as the table reads it; argv as given stays for commands that read their own. */
struct cmd_args {
	int argc;			/* from the command's name (argv[0]) on */
	char **argv;
	int npos;			/* the positional arguments, in order */
	char **pos;
	const char *opt[OPT_COUNT];	/* last value given, else the default; NULL: neither */
	unsigned int count[OPT_COUNT];	/* how often each option was given */
	struct cmd_given *given;	/* every option, in the order given */
	int ngiven;
	bool help;			/* -h: the help was printed, nothing to run */
};

/* A default of the table that code without a command line uses too: the daemon's reloads. */
#define GEOIP_MAX_SHRINK_DEFAULT "10"

/* What an entry point returns but an exit code: "print my help" (a command parsing its own). */
#define CMD_HELP (-1)

struct cmd {
	const char *name;
	const char *summary;		/* one line, lower case, no full stop */
	const char *args;		/* the positional arguments as usage shows them, "IFACE" */
	int min_args, max_args;		/* how many; max_args -1: no limit */
	const char *expected;		/* for a wrong count, after "expected": "one IFACE" */
	const struct cmd_opt *opts;	/* ends zeroed; -h, --help: every command's, not here */
	const char *details;		/* printed below the options by -h; NULL: none */
	int (*func)(const struct cmd_args *a);	/* NULL for a group */
	const struct cmd *subs;		/* a group's commands, ending with a zeroed entry */
	bool own_parser;		/* func reads argc/argv itself (meeting add: spec_parse) */
};

/* geoblock itself: the global options, and every command below it. */
extern const struct cmd cmd_geoblock;

int cmd_attach(const struct cmd_args *a);
int cmd_detach(const struct cmd_args *a);
int cmd_status(const struct cmd_args *a);
int cmd_geoip_load(const struct cmd_args *a);
int cmd_geoip_lookup(const struct cmd_args *a);
int cmd_geoip_dump(const struct cmd_args *a);
int cmd_meeting_add(const struct cmd_args *a);
int cmd_meeting_set(const struct cmd_args *a);
int cmd_meeting_del(const struct cmd_args *a);
int cmd_meeting_list(const struct cmd_args *a);
int cmd_meeting_ports_add(const struct cmd_args *a);
int cmd_meeting_ports_del(const struct cmd_args *a);
int cmd_meeting_ufrag_add(const struct cmd_args *a);
int cmd_meeting_ufrag_del(const struct cmd_args *a);
int cmd_shared_port_add(const struct cmd_args *a);
int cmd_shared_port_del(const struct cmd_args *a);
int cmd_shared_port_list(const struct cmd_args *a);
int cmd_stats(const struct cmd_args *a);
int cmd_daemon(const struct cmd_args *a);
int cmd_explain(const struct cmd_args *a);
int cmd_check(const struct cmd_args *a);
int cmd_apply(const struct cmd_args *a);
int cmd_restore(const struct cmd_args *a);
int cmd_fleet_init(const struct cmd_args *a);
int cmd_fleet_put(const struct cmd_args *a);
int cmd_fleet_del(const struct cmd_args *a);
int cmd_fleet_list(const struct cmd_args *a);
int cmd_fleet_status(const struct cmd_args *a);

#endif
