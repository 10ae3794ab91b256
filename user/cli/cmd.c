// SPDX-License-Identifier: GPL-2.0
/*
 * The one command table: every command and sub-command with its summary, arguments, options and
 * help. `geoblock --help`, every `-h` and the parsing of every command line come from it (args.c);
 * the man page and the bash completion are checked against it (tests/cli/).
 */
#include "kern/pins.h"
#include "metrics/exporter.h"
#include "api/janus_events.h"
#include "api/server.h"
#include "fleet/layout.h"
#include "cli/cmd.h"
#include "geoblock.h"

/* The help of `meeting add` spells the longest name out. */
_Static_assert(GB_MEETING_NAME_LEN - 1 == 47, "meeting add's help says 47 characters");

#define OPT_JSON_ENTRY { .id = OPT_JSON, .name = "json", .help = "machine-readable output" }
#define OPT_REASON_ENTRY { .id = OPT_REASON, .name = "reason", .value = "TEXT", \
			   .help = "recorded in the audit log" }

static const struct cmd_opt no_opts[] = {
	{}
};

static const struct cmd_opt json_opts[] = {
	OPT_JSON_ENTRY,
	{}
};

static const struct cmd_opt attach_opts[] = {
	{ .id = OPT_MODE, .name = "mode", .value = "native|generic|auto", .def = "native",
	  .flags = CMD_OPT_CHOICE,
	  .help = "native: in the driver (fails if the driver has no XDP support);\n"
		  "generic: in the kernel's network stack, works everywhere, slower;\n"
		  "auto: native, falling back to generic with a warning" },
	{ .id = OPT_LOOKUP, .name = "lookup", .value = "table|lpm", .def = "table",
	  .flags = CMD_OPT_CHOICE,
	  .help = "table: the compiled GeoIP table, constant time per packet;\n"
		  "lpm: the kernel LPM tries, the reference (needs geoip load --with-lpm)" },
	{}
};

static const struct cmd_opt load_opts[] = {
	{ .id = OPT_FIELD, .name = "field", .def = "country", .flags = CMD_OPT_CHOICE,
	  .value = "country|registered_country|represented_country",
	  .help = "which MaxMind country field to use" },
	{ .id = OPT_MAX_SHRINK, .name = "max-shrink", .value = "PERCENT",
	  .def = GEOIP_MAX_SHRINK_DEFAULT,
	  .help = "refuse a table that covers more than PERCENT less IPv4 or IPv6\n"
		  "address space than the loaded one" },
	{ .id = OPT_FORCE, .name = "force",
	  .help = "load it anyway (an empty table is always refused)" },
	{ .id = OPT_WITH_LPM, .name = "with-lpm",
	  .help = "also build the kernel LPM tries (the reference structure, for\n"
		  "'attach --lookup lpm'); once built they are kept up to date by every load" },
	{}
};

static const struct cmd_opt lookup_opts[] = {
	{ .id = OPT_JSON, .name = "json",
	  .help = "one JSON object per address, with the matched prefix" },
	{ .id = OPT_FROM, .name = "from", .value = "networks|table|lpm", .def = "networks",
	  .flags = CMD_OPT_CHOICE,
	  .help = "networks: the networks loaded (the database's answer);\n"
		  "table: the compiled table the filter uses, which tells apart only the\n"
		  "countries live meetings block or monitor ('**' for any other);\n"
		  "lpm: the LPM tries (geoip load --with-lpm)" },
	{}
};

/* Read by spec_parse() in state/rules_file.c, which apply files and the rules file share. */
#define ADD_SPEC_ENTRIES \
	{ .id = OPT_PORTS, .name = "ports", .value = "LIST", \
	  .help = "ports and ranges, e.g. 8801,8802-8810 (1-65535, owned by no other\n" \
		  "meeting, not shared); --ports, --ufrag, --janus-room, or several" }, \
	{ .id = OPT_UFRAG, .name = "ufrag", .value = "U[,U...]", \
	  .help = "the server's ICE ufrags of the meeting's transports (4-256 letters,\n" \
		  "digits, '+', '/'): on shared ports, the Binding Requests naming them\n" \
		  "and their senders' later packets are the meeting's (UDP: --proto\n" \
		  "must include udp)" }, \
	{ .id = OPT_JANUS_ROOM, .name = "janus-room", .value = "ID[,ID...]", \
	  .help = "Janus VideoRoom rooms the meeting covers: with 'daemon --janus-events',\n" \
		  "the ports Janus gives each participant's handle in them are the\n" \
		  "meeting's while the handle lives (docs/janus.md)" }, \
	{ .id = OPT_BLOCK, .name = "block", .value = "CC[,CC...]", .flags = CMD_OPT_REQUIRED, \
	  .help = "ISO 3166-1 alpha-2 country codes, case-insensitive" }, \
	{ .id = OPT_ALLOW, .name = "allow", .value = "CIDR[,...]", \
	  .help = "addresses or networks (IPv4, IPv6) that pass even from a blocked\n" \
		  "country" }, \
	{ .id = OPT_PROTO, .name = "proto", .value = "udp|tcp|udp,tcp", \
	  .help = "what the meeting covers: udp (default), tcp, or udp,tcp (ICE-TCP, TLS)" }, \
	{ .id = OPT_EXPIRES, .name = "expires", .value = "DURATION|TIME", \
	  .help = "stop dropping after a duration (2h, 1h30m, 45m, 1d) or at an RFC 3339\n" \
		  "time (2026-03-01T18:00:00Z); enforced in the data path" }, \
	{ .id = OPT_MONITOR, .name = "monitor", \
	  .help = "count what would be dropped, drop nothing" }
#define ADD_OPT_ENTRIES ADD_SPEC_ENTRIES, OPT_REASON_ENTRY

static const struct cmd_opt add_opts[] = {
	ADD_OPT_ENTRIES,
	{}
};

static const struct cmd_opt set_opts[] = {
	{ .id = OPT_ENFORCE, .name = "enforce", .flags = CMD_OPT_REQUIRED | CMD_OPT_OR_NEXT,
	  .help = "drop what the meeting blocks" },
	{ .id = OPT_MONITOR, .name = "monitor",
	  .help = "count what it would drop, drop nothing" },
	OPT_REASON_ENTRY,
	{}
};

static const struct cmd_opt reason_opts[] = {
	OPT_REASON_ENTRY,
	{}
};

static const struct cmd_opt shared_opts[] = {
	{ .id = OPT_PROTO, .name = "proto", .value = "udp", .def = "udp",
	  .flags = CMD_OPT_CHOICE | CMD_OPT_ANYCASE,
	  .help = "the protocol shared (ICE over UDP; ICE-TCP is not demultiplexed)" },
	OPT_REASON_ENTRY,
	{}
};

/* Where the fleet store is: the daemon's and the fleet commands'. */
#define FLEET_STORE_ENTRIES \
	{ .id = OPT_ETCD, .name = "etcd", .value = "URL[,URL...]", \
	  .help = "etcd's client URLs (v3 JSON gateway), tried in turn; fleet commands:\n" \
		  "default $GEOBLOCK_ETCD, else " FLEET_DEFAULT_ETCD }, \
	{ .id = OPT_ETCD_PREFIX, .name = "etcd-prefix", .value = "PREFIX", \
	  .def = FLEET_DEFAULT_PREFIX, \
	  .help = "the fleet's keys in etcd start with PREFIX/ (docs/fleet.md)" }, \
	{ .id = OPT_ETCD_CACERT, .name = "etcd-cacert", .value = "FILE", \
	  .help = "TLS: the CA certificates etcd's certificate is checked against" }, \
	{ .id = OPT_ETCD_CERT, .name = "etcd-cert", .value = "FILE", \
	  .help = "TLS: this client's certificate" }, \
	{ .id = OPT_ETCD_KEY, .name = "etcd-key", .value = "FILE", \
	  .help = "TLS: this client's private key" }

#define FLEET_NODE_ENTRY(text) { .id = OPT_NODE, .name = "node", .value = "NODE", .help = text }

static const struct cmd_opt fleet_put_opts[] = {
	/* No --reason: the store keeps no audit log (each node audits what it applies). */
	ADD_SPEC_ENTRIES,
	FLEET_STORE_ENTRIES,
	FLEET_NODE_ENTRY("write the meeting for NODE only (it wins there over a meeting of\n"
			 "every node of the same name)"),
	{}
};

static const struct cmd_opt fleet_del_opts[] = {
	FLEET_STORE_ENTRIES,
	FLEET_NODE_ENTRY("delete NODE's own meeting of that name"),
	{}
};

static const struct cmd_opt fleet_list_opts[] = {
	FLEET_STORE_ENTRIES,
	FLEET_NODE_ENTRY("only the meetings NODE takes (every node's, and its own)"),
	OPT_JSON_ENTRY,
	{}
};

static const struct cmd_opt fleet_status_opts[] = {
	FLEET_STORE_ENTRIES,
	OPT_JSON_ENTRY,
	{}
};

static const struct cmd_opt fleet_init_opts[] = {
	FLEET_STORE_ENTRIES,
	{}
};

static const struct cmd_opt daemon_opts[] = {
	{ .id = OPT_METRICS, .name = "metrics", .value = "ADDR:PORT", .def = EXPORTER_DEFAULT_ADDR,
	  .help = "where to serve Prometheus metrics at /metrics; ADDR is an IPv4\n"
		  "address, [IPv6 address] or host name; PORT 0 picks a free port" },
	{ .id = OPT_WATCH, .name = "watch", .value = "PATH", .flags = CMD_OPT_REPEAT,
	  .help = "reload the GeoIP table from PATH when it is replaced (renamed over,\n"
		  "as geoipupdate does) or rewritten in place (once closed); several\n"
		  "--watch (up to 16) make one table. A file that does not load\n"
		  "(corrupt, truncated, shrunken) leaves the loaded table, logs one line\n"
		  "and counts a failed reload (geoblock_geoip_reload_failures_total)" },
	{ .id = OPT_API, .name = "api", .value = "PATH",
	  .help = "serve the control API (HTTP/1.1 + JSON, docs/api.md) on a unix socket\n"
		  "at PATH, e.g. " API_DEFAULT_PATH "; its directory is made 0750,\n"
		  "the socket 0660: root and --api-group only" },
	{ .id = OPT_API_GROUP, .name = "api-group", .value = "GROUP",
	  .help = "give the API socket and its directory to GROUP, so that a service\n"
		  "running in it may connect" },
	{ .id = OPT_API_ROUTES, .name = "api-routes",
	  .help = "print the routes the control API serves, one \"METHOD PATH\" a line,\n"
		  "and exit" },
	{ .id = OPT_JANUS_EVENTS, .name = "janus-events", .value = "ADDR:PORT",
	  .help = "receive Janus event handler (sampleevh) POSTs at\n"
		  "http://ADDR:PORT/janus-events, e.g. " JANUS_EVENTS_DEFAULT_ADDR " (keep it on\n"
		  "loopback): the ports of handles in a meeting's --janus-room rooms join and\n"
		  "leave the meeting" },
	{ .id = OPT_JANUS_EVENTS_AUTH, .name = "janus-events-auth", .value = "FILE",
	  .help = "require HTTP basic auth, \"user:password\" in FILE (sampleevh's\n"
		  "backend_user and backend_pwd); needs --janus-events" },
	{ .id = OPT_JANUS_IDLE, .name = "janus-idle", .value = "SECONDS", .def = "60",
	  .help = "forget the ports of a handle Janus has said nothing about for SECONDS\n"
		  "(1-86400); needs --janus-events" },
	{ .id = OPT_JANUS_ADMIN, .name = "janus-admin", .value = "URL",
	  .help = "at start, rebuild which handles hold which ports from Janus's Admin API\n"
		  "at URL (e.g. http://127.0.0.1:7088/admin), rather than from a stale list;\n"
		  "needs --janus-events and --janus-admin-secret" },
	{ .id = OPT_JANUS_ADMIN_SECRET, .name = "janus-admin-secret", .value = "FILE",
	  .help = "the Admin API's admin_secret, the first line of FILE" },
	{ .id = OPT_JANUS_HANGUP, .name = "janus-hangup",
	  .help = "ask Janus (Admin API hangup_webrtc) to hang up a handle whose client\n"
		  "address its room's meeting blocks, so that the participant gets a clear\n"
		  "end; checked every 5 s, audited; needs --janus-admin" },
	FLEET_STORE_ENTRIES,
	FLEET_NODE_ENTRY("with --etcd: this node's name in the store (letters, digits, '.',\n"
			 "'_', '-')"),
	{}
};

static const struct cmd_opt explain_opts[] = {
	{ .id = OPT_PROTO, .name = "proto", .value = "udp|tcp", .def = "udp",
	  .flags = CMD_OPT_CHOICE | CMD_OPT_ANYCASE, .help = "the packet's protocol" },
	{ .id = OPT_UFRAG, .name = "ufrag", .value = "U",
	  .help = "to a shared port: a STUN Binding Request whose USERNAME names\n"
		  "server ufrag U" },
	{ .id = OPT_SPORT, .name = "sport", .value = "PORT",
	  .help = "to a shared port: another packet (media) of the sender at ADDR\n"
		  "and source port PORT, whose meeting is the one its Binding\n"
		  "Requests named (without either: a packet of a sender none named)" },
	OPT_JSON_ENTRY,
	{}
};

static const struct cmd_opt restore_opts[] = {
	{ .id = OPT_PRINT, .name = "print",
	  .help = "print the saved rule set as 'meeting add' lines (the rules file\n"
		  "and the changes logged since), the shared ports and the lines a\n"
		  "restore would leave out as comments, change nothing" },
	{}
};

static const struct cmd_opt apply_opts[] = {
	{ .id = OPT_CHECK, .name = "check",
	  .help = "validate and print the difference (- removed, + added), change nothing" },
	OPT_REASON_ENTRY,
	{}
};

static const struct cmd geoip_cmds[] = {
	{ .name = "load", .func = cmd_geoip_load, .opts = load_opts,
	  .summary = "compile GeoIP databases into one table, switched in atomically",
	  .args = "PATH...", .min_args = 1, .max_args = -1, .expected = "a database PATH",
	  .details =
		"PATH: a MaxMind DB file (.mmdb: GeoIP2/GeoLite2 layout, country.iso_code, or\n"
		"flat, country_code, as DB-IP lite), gzipped or not; MaxMind's .tar.gz\n"
		"download; or CSV ranges \"start,end,CC\" (IPv4 or IPv6), gzipped or not. The\n"
		"format is told from the content. Several PATHs make one table; where their\n"
		"networks overlap they must name the same country. The new table is built\n"
		"beside the loaded one and switched in atomically; on any error the loaded\n"
		"table stays." },
	{ .name = "lookup", .func = cmd_geoip_lookup, .opts = lookup_opts,
	  .summary = "the country of addresses, as the filter finds it",
	  .args = "ADDR|-", .min_args = 1, .max_args = 1, .expected = "one ADDR or '-'",
	  .details =
		"Prints \"ADDR CC\" ('--': no country) from the source --from names (by\n"
		"default the networks loaded); '-' reads one address per line from stdin." },
	{ .name = "dump", .func = cmd_geoip_dump, .opts = no_opts,
	  .summary = "the networks of the loaded table",
	  .details =
		"Prints \"PREFIX CC\" per line, IPv4 then IPv6 ('--' marks an IPv6 range that\n"
		"is looked up in the IPv4 table)." },
	{}
};

static const struct cmd meeting_ports_cmds[] = {
	{ .name = "add", .func = cmd_meeting_ports_add, .opts = reason_opts,
	  .summary = "give a meeting more ports; its other ports, policy and counters stay",
	  .args = "NAME LIST", .min_args = 2, .max_args = 2,
	  .expected = "a meeting NAME and a port LIST",
	  .details =
		"LIST: ports and ranges, e.g. 8801,8802-8810, each free or the meeting's already\n"
		"(those change nothing). A port of another meeting refuses the whole command.\n"
		"Each port is given in one map update: packets to the others never see a gap." },
	{ .name = "del", .func = cmd_meeting_ports_del, .opts = reason_opts,
	  .summary = "take ports from a meeting; its other ports, policy and counters stay",
	  .args = "NAME LIST", .min_args = 2, .max_args = 2,
	  .expected = "a meeting NAME and a port LIST",
	  .details =
		"LIST: ports and ranges, e.g. 8801,8802-8810, each the meeting's. A meeting\n"
		"keeps a port, a ufrag or a Janus room: to remove the last, delete the meeting." },
	{}
};

static const struct cmd meeting_ufrag_cmds[] = {
	{ .name = "add", .func = cmd_meeting_ufrag_add, .opts = reason_opts,
	  .summary = "give a meeting more ufrags; its ports, policy and counters stay",
	  .args = "NAME LIST", .min_args = 2, .max_args = 2,
	  .expected = "a meeting NAME and a ufrag LIST",
	  .details =
		"LIST: the server's ICE ufrags, comma-separated, each free or the meeting's\n"
		"already (those change nothing). A ufrag of another meeting refuses the whole\n"
		"command. On shared ports, a Binding Request naming one is the meeting's from\n"
		"the moment the command returns." },
	{ .name = "del", .func = cmd_meeting_ufrag_del, .opts = reason_opts,
	  .summary = "take ufrags from a meeting; senders learned through them are let go",
	  .args = "NAME LIST", .min_args = 2, .max_args = 2,
	  .expected = "a meeting NAME and a ufrag LIST",
	  .details =
		"LIST: ufrags of the meeting. Senders learned through them no longer get the\n"
		"meeting's policy, from their next packet. A meeting keeps a port, a ufrag or\n"
		"a Janus room: to remove the last, delete the meeting." },
	{}
};

static const struct cmd shared_port_cmds[] = {
	{ .name = "add", .func = cmd_shared_port_add, .opts = shared_opts,
	  .summary = "share ports: their packets' meetings are found by ICE ufrag",
	  .args = "LIST", .min_args = 1, .max_args = 1, .expected = "a port LIST",
	  .details =
		"LIST: ports and ranges, e.g. 10000 or 8801-8803, each no meeting's. On a\n"
		"shared port a STUN Binding Request's meeting is the one whose ufrag its\n"
		"USERNAME names (the part before ':'); the sender is remembered, and its\n"
		"later packets (DTLS, SRTP, TURN channel data) get that meeting's policy.\n"
		"Senders no Binding Request named pass (counted as ice_unknown_sender)." },
	{ .name = "del", .func = cmd_shared_port_del, .opts = shared_opts,
	  .summary = "stop sharing ports: their packets pass as no meeting's",
	  .args = "LIST", .min_args = 1, .max_args = 1, .expected = "a port LIST",
	  .details = "LIST: shared ports and ranges." },
	{ .name = "list", .func = cmd_shared_port_list, .opts = json_opts,
	  .summary = "the shared ports, and the ufrags and senders the filter knows",
	  .details =
		"cached: the senders whose meeting and country their media (and consent\n"
		"checks) find in ice_hot;\n"
		"unused while a change clears it, or after one stopped doing so, until a\n"
		"running daemon (within 5 s) or the next change repairs it." },
	{}
};

static const struct cmd meeting_cmds[] = {
	{ .name = "add", .func = cmd_meeting_add, .opts = add_opts, .own_parser = true,
	  .summary = "add a meeting: the countries it blocks on its ports",
	  .args = "NAME", .min_args = 1, .max_args = 1, .expected = "one meeting NAME",
	  .details =
		"NAME: letters, digits, '.', '_', '-', not starting with '-', not '.' or '..';\n"
		"at most 47 characters." },
	{ .name = "set", .func = cmd_meeting_set, .opts = set_opts,
	  .summary = "switch a meeting between dropping and counting only; its counters stay",
	  .args = "NAME", .min_args = 1, .max_args = 1, .expected = "one meeting NAME" },
	{ .name = "del", .func = cmd_meeting_del, .opts = reason_opts,
	  .summary = "delete a meeting and its counters",
	  .args = "NAME", .min_args = 1, .max_args = 1, .expected = "one meeting NAME" },
	{ .name = "list", .func = cmd_meeting_list, .opts = json_opts,
	  .summary = "the meetings: mode, protocols, ports, countries, expiry, exceptions" },
	{ .name = "ports", .subs = meeting_ports_cmds, .opts = no_opts,
	  .summary = "a meeting's ports, changed in place: add, del",
	  .args = "COMMAND [ARGS]" },
	{ .name = "ufrag", .subs = meeting_ufrag_cmds, .opts = no_opts,
	  .summary = "a meeting's ICE ufrags (shared ports), changed in place: add, del",
	  .args = "COMMAND [ARGS]" },
	{}
};

static const struct cmd fleet_cmds[] = {
	{ .name = "init", .func = cmd_fleet_init, .opts = fleet_init_opts,
	  .summary = "mark the prefix as a fleet's, even one holding no meeting",
	  .details =
		"Writes PREFIX/fleet if it is not there ('fleet put' and 'fleet del' write\n"
		"it too). A node whose prefix holds no meeting, shared-ports, geoip or\n"
		"fleet key keeps the rule set it has rather than remove every meeting (a\n"
		"mistyped --etcd-prefix), and says so in its status; this tells it the\n"
		"fleet is meant to be empty." },
	{ .name = "put", .func = cmd_fleet_put, .opts = fleet_put_opts, .own_parser = true,
	  .summary = "write a meeting to the fleet store, as 'meeting add' takes it",
	  .args = "NAME", .min_args = 1, .max_args = 1, .expected = "one meeting NAME",
	  .details =
		"Checked as 'meeting add' checks it (but --reason: the store keeps no audit\n"
		"log), and against the store's other meetings (a port, ufrag or room of\n"
		"another is refused); a duration of --expires becomes a time. Written only if\n"
		"the key is still as read (no other writer came between); every node\n"
		"following the store applies it." },
	{ .name = "del", .func = cmd_fleet_del, .opts = fleet_del_opts,
	  .summary = "delete a meeting from the fleet store",
	  .args = "NAME", .min_args = 1, .max_args = 1, .expected = "one meeting NAME" },
	{ .name = "list", .func = cmd_fleet_list, .opts = fleet_list_opts,
	  .summary = "the fleet store's meetings: a node ('*': all), then a 'meeting add' line",
	  .details =
		"A key the nodes refuse (bad JSON, expired, a port another meeting written\n"
		"before it holds) is a '#' line saying why; a meeting of every node that one\n"
		"node refuses (a port of that node's own meeting) is followed by a '#' line\n"
		"naming it. With --node, as that node takes the store (countries are not\n"
		"checked against its GeoIP table). --json: \"error\" on a key not taken,\n"
		"\"refused_by\" {node, reason} on one a node refuses." },
	{ .name = "status", .func = cmd_fleet_status, .opts = fleet_status_opts,
	  .summary = "every node's status: revision applied, GeoIP build, errors",
	  .details =
		"One line per node that keeps its status in the store (a node whose daemon\n"
		"stopped drops out within 10 s). A node is marked \"lagging\" when the store\n"
		"changed its meetings after the revision it applied, \"geoip differs\" when\n"
		"its table is not the build PREFIX/geoip names. A node the store has meetings\n"
		"for but no status from is listed too. Exit 2 if any is marked or silent." },
	{}
};

static const struct cmd commands[] = {
	{ .name = "attach", .func = cmd_attach, .opts = attach_opts,
	  .summary = "attach the filter to an interface, through a pinned bpf_link",
	  .args = "IFACE", .min_args = 1, .max_args = 1, .expected = "one IFACE" },
	{ .name = "detach", .func = cmd_detach, .opts = no_opts,
	  .summary = "detach the filter from an interface, and forget it for restore",
	  .args = "IFACE", .min_args = 1, .max_args = 1, .expected = "one IFACE" },
	{ .name = "status", .func = cmd_status, .opts = json_opts,
	  .summary = "attachments, GeoIP table, kernel memory, meetings" },
	{ .name = "geoip", .subs = geoip_cmds, .opts = no_opts,
	  .summary = "GeoIP tables: load, look up, dump",
	  .args = "COMMAND [ARGS]" },
	{ .name = "meeting", .subs = meeting_cmds, .opts = no_opts,
	  .summary = "meetings, the rule set: add, set, del, list, ports, ufrag",
	  .args = "COMMAND [ARGS]" },
	{ .name = "shared-port", .subs = shared_port_cmds, .opts = no_opts,
	  .summary = "ports many meetings share, told apart by ICE ufrag: add, del, list",
	  .args = "COMMAND [ARGS]" },
	{ .name = "fleet", .subs = fleet_cmds, .opts = no_opts,
	  .summary = "the rules many nodes' daemons follow from etcd: init, put, del, list, status",
	  .args = "COMMAND [ARGS]" },
	{ .name = "stats", .func = cmd_stats, .opts = json_opts,
	  .summary = "verdict and drop counters",
	  .details =
		"Verdict totals (every packet counted under one reason), drops per (meeting,\n"
		"country) and per interface, attachments, GeoIP table and meetings: the\n"
		"figures 'geoblock daemon' serves as Prometheus metrics, summed over CPUs." },
	{ .name = "daemon", .func = cmd_daemon, .opts = daemon_opts,
	  .summary = "metrics, expiry, GeoIP file reloads, the control API, Janus events",
	  /* EXPIRE_INTERVAL_S in daemon.c */
	  .details =
		"Every 5 s, deletes the meetings whose --expires time has passed (audited).\n"
		"Holds the pinned links it sees: if the pins are removed, the filter stays\n"
		"attached and the daemon pins the maps and links again.\n"
		"With --api, serves the control API; its changes are the CLI's, audited with\n"
		"the caller's uid and pid, and serialise with the CLI's.\n"
		"With --janus-events, Janus's events make the ports of its handles members of\n"
		"the meetings covering their rooms (docs/janus.md).\n"
		"With --etcd and --node, the rule set is the fleet store's: made equal to it,\n"
		"then kept so from a watch; local changes are refused (docs/fleet.md).\n"
		"Prints the URL it serves on, then runs until SIGTERM or SIGINT (exit 0)." },
	{ .name = "explain", .func = cmd_explain, .opts = explain_opts,
	  .summary = "what decides a packet, and the verdict",
	  .args = "ADDR PORT", .min_args = 2, .max_args = 2, .expected = "ADDR and PORT",
	  .details =
		"What the filter decides for a packet from ADDR to PORT, and why: the\n"
		"meeting that owns PORT, the country and GeoIP network of ADDR, the rule or\n"
		"exception that decides, and the verdict (named as in 'geoblock stats')." },
	{ .name = "check", .func = cmd_check, .opts = json_opts,
	  .summary = "would a meeting block an address: the join-time check",
	  .args = "MEETING ADDR", .min_args = 2, .max_args = 2,
	  .expected = "a MEETING and an ADDR",
	  .details =
		"What the filter decides for packets from ADDR (IPv4 or IPv6) to any port of\n"
		"MEETING: the country and GeoIP network of ADDR, the meeting's exceptions,\n"
		"mode and expiry, and the verdict (named as in 'geoblock stats'). Prints\n"
		"\"block: ...\", \"pass: ...\" or \"monitor: ...\", exit 0 whatever the answer.\n"
		"For a signalling server to refuse a participant at join, also one that comes\n"
		"through a TURN relay or over ICE-TCP, whose packets XDP cannot judge." },
	{ .name = "apply", .func = cmd_apply, .opts = apply_opts,
	  .summary = "make FILE's meetings the rule set, all or nothing",
	  .args = "FILE", .min_args = 1, .max_args = 1, .expected = "one FILE",
	  .details =
		"FILE holds 'meeting add ...' lines (as 'geoblock meeting add' takes them;\n"
		"'#' comments and blank lines allowed); afterwards the rule set is exactly\n"
		"the file. Every line is checked before anything changes; meetings that stay\n"
		"the same keep their counters, a change of --monitor or --expires alone is made\n"
		"in place (counters kept)." },
	{ .name = "restore", .func = cmd_restore, .opts = restore_opts,
	  .summary = "re-create pins, table, rules, attachments",
	  .details =
		"Re-creates what the state dir records, after a reboot or a lost pin dir:\n"
		"the maps, the GeoIP table (from the copy kept at 'geoip load'), the rules\n"
		"(the saved rule set: the rules file and the change log after it) and the\n"
		"attachments. What exists already is kept." },
	{}
};

static const struct cmd_opt global_opts[] = {
	{ .id = OPT_VERBOSE, .name = "verbose", .short_name = 'v', .flags = CMD_OPT_REPEAT,
	  .help = "show libbpf's log (-vv: its debug messages too)" },
	{ .id = OPT_PIN_DIR, .name = "pin-dir", .value = "DIR",
	  .help = "where the BPF objects are pinned" },
	{ .id = OPT_STATE_DIR, .name = "state-dir", .value = "DIR",
	  .help = "where the rules, the audit log and the records are kept" },
	{ .id = OPT_LOCAL_OVERRIDE, .name = "local-override",
	  .help = "change a rule set the fleet store manages anyway (audited; the node\n"
		  "reports drift until the store's next change puts its set back)" },
	{ .id = OPT_VERSION, .name = "version", .short_name = 'V',
	  .help = "print the version, and the pinned ABI's" },
	{}
};

const struct cmd cmd_geoblock = {
	.name = "geoblock",
	.summary = "drops the packets of one meeting's ports that come from the countries it "
		   "blocks (XDP)",
	.args = "COMMAND [ARGS]",
	.opts = global_opts,
	.subs = commands,
	.details =
		"Environment: GEOBLOCK_PIN_DIR (default " GB_DEFAULT_PIN_DIR "),\n"
		"             GEOBLOCK_STATE_DIR (default " GB_DEFAULT_STATE_DIR "),\n"
		"             GEOBLOCK_ETCD (the fleet commands' --etcd).\n"
		"Exit status: 0 success, 1 bad input (nothing changed), 2 failure. Run\n"
		"'geoblock COMMAND -h' for details.",
};
