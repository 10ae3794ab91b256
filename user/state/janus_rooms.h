/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Janus rooms of the rule set (which meeting covers each VideoRoom room), and the ports that
 * Janus handles in those rooms hold now (dynamic members of their room's meeting, apart from the
 * operator's ports). Both are kept in the state dir (janus-rooms, janus-ports); every function
 * returns 0 or a negative errno.
 */
#ifndef GEOBLOCK_STATE_JANUS_ROOMS_H
#define GEOBLOCK_STATE_JANUS_ROOMS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "state/rules_file.h"
#include "geoblock.h"

#define GB_JANUS_ROOMS_FILE	"janus-rooms"
#define GB_JANUS_PORTS_FILE	"janus-ports"

struct janus_room {
	__u64 room;
	char meeting[GB_MEETING_NAME_LEN];
};

/* A port a Janus handle holds: a member of its room's meeting while the handle lives. */
struct janus_port {
	__u32 port;
	char meeting[GB_MEETING_NAME_LEN];
	__u64 room, session, handle;
};

struct janus_set {
	struct janus_room *rooms;	/* sorted by room */
	size_t n_rooms;
	struct janus_port *ports;	/* sorted by port */
	size_t n_ports;
};

/* Reads both files of state_dir (a missing one is empty). */
int janus_read(const char *state_dir, struct janus_set *j);
void janus_free(struct janus_set *j);
/*
 * Forgets (in j, not in the file) the ports the maps no longer give the meeting j names: left by
 * a daemon that stopped, then the maps made anew, the meeting deleted or the port taken.
 */
void janus_validate(struct janus_set *j, const struct meeting_policy *policies,
		    const struct port_owner *owners);
/*
 * Drops from the saved janus-ports the handles' ports the maps do not give their meeting (their
 * maps made anew since, by a reboot and restore): kept, such a record would come back to life as
 * the meeting's Janus port once the operator gave the meeting that port, and a daemon's start
 * would take it away. Under the state lock.
 */
int janus_ports_prune(const char *state_dir, const struct meeting_policy *policies,
		      const struct port_owner *owners);
/* Takes the ports meeting name's handles hold out of ports. */
void janus_strip_ports(const struct janus_set *j, const char *name, __u8 *ports);
/* Keeps in ports only those meeting name's handles hold (what janus_strip_ports takes out). */
void janus_handle_ports(const struct janus_set *j, const char *name, __u8 *ports);
/* s (read from the maps) as the operator made it: its rooms added, its handles' ports taken out. */
int janus_spec(const struct janus_set *j, struct meeting_spec *s);
/* The meeting covering room, NULL for none. */
const char *janus_room_meeting(const struct janus_set *j, __u64 room);
/* Whether meeting name covers any room. */
bool janus_has_rooms(const struct janus_set *j, const char *name);
/* Meeting name covers exactly rooms[0..n-1] (n 0: none, and its handles' ports are forgotten). */
int janus_rooms_put(const char *state_dir, struct janus_set *j, const char *name,
		    const __u64 *rooms, size_t n);
/* The rooms become exactly those of l's meetings (after apply, restore, recovery). */
int janus_rooms_keep(const char *state_dir, struct janus_set *j, const struct spec_list *l);
/* " (a Janus handle in its room R holds it)" if one holds port, else "": out. */
const char *janus_port_says(const struct janus_set *j, __u32 port, char *out, size_t len);
/* The handle holding port, NULL for none. */
const struct janus_port *janus_port_find(const struct janus_set *j, __u32 port);
/* Records (p->port new) or forgets a handle's port. */
int janus_port_add(const char *state_dir, struct janus_set *j, const struct janus_port *p);
int janus_port_del(const char *state_dir, struct janus_set *j, __u32 port);
/*
 * Forgets the handles' ports that ports names, in j and the file: an operator's rule naming one
 * makes it its meeting's own, no longer a handle's to take back. gone (NULL: not wanted), room
 * for j->n_ports records, gets those forgotten, *n_gone how many.
 */
int janus_ports_claim(const char *state_dir, struct janus_set *j, const __u8 *ports,
		      struct janus_port *gone, size_t *n_gone);

#endif
