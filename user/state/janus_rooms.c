// SPDX-License-Identifier: GPL-2.0
/*
 * Which meeting covers each Janus room, and which ports Janus handles hold in them, kept in the
 * state dir beside the rules file: the rooms are part of the rule set (the rules file names them
 * with --janus-room, written from here), the ports are not (they come and go with participants).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/country.h"
#include "lib/files.h"
#include "lib/room_ids.h"
#include "state/janus_rooms.h"

static int room_cmp(const void *a, const void *b)
{
	__u64 x = ((const struct janus_room *)a)->room, y = ((const struct janus_room *)b)->room;

	return x < y ? -1 : x > y;
}

static int port_cmp(const void *a, const void *b)
{
	__u32 x = ((const struct janus_port *)a)->port, y = ((const struct janus_port *)b)->port;

	return x < y ? -1 : x > y;
}

static int read_lines(const char *state_dir, const char *name, struct janus_set *j, bool ports)
{
	char path[512], line[256], meeting[GB_MEETING_NAME_LEN];
	unsigned long long a, b, c, d;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", state_dir, name);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t *n = ports ? &j->n_ports : &j->n_rooms;
		void **v = ports ? (void **)&j->ports : (void **)&j->rooms;
		size_t size = ports ? sizeof(*j->ports) : sizeof(*j->rooms);

		if (*n == cap) {
			void *grown = realloc(*v, (cap = cap ? cap * 2 : 16) * size);

			if (!grown) {
				fclose(f);
				return -ENOMEM;
			}
			*v = grown;
		}
		if (ports && sscanf(line, "%llu %47s %llu %llu %llu", &a, meeting, &b, &c, &d) == 5 &&
		    a && a < GB_PORT_COUNT) {
			j->ports[*n] = (struct janus_port){ .port = a, .room = b, .session = c,
							    .handle = d };
			snprintf(j->ports[(*n)++].meeting, GB_MEETING_NAME_LEN, "%s", meeting);
		} else if (!ports && sscanf(line, "%llu %47s", &a, meeting) == 2) {
			j->rooms[*n].room = a;
			snprintf(j->rooms[(*n)++].meeting, GB_MEETING_NAME_LEN, "%s", meeting);
		}
	}
	fclose(f);
	if (ports && j->n_ports)
		qsort(j->ports, j->n_ports, sizeof(*j->ports), port_cmp);
	else if (!ports && j->n_rooms)
		qsort(j->rooms, j->n_rooms, sizeof(*j->rooms), room_cmp);
	return 0;
}

int janus_read(const char *state_dir, struct janus_set *j)
{
	int err;

	memset(j, 0, sizeof(*j));
	err = read_lines(state_dir, GB_JANUS_ROOMS_FILE, j, false);
	if (!err)
		err = read_lines(state_dir, GB_JANUS_PORTS_FILE, j, true);
	if (err)
		janus_free(j);
	return err;
}

void janus_validate(struct janus_set *j, const struct meeting_policy *policies,
		    const struct port_owner *owners)
{
	size_t k = 0;

	for (size_t i = 0; i < j->n_ports; i++) {
		__u32 id = owners[j->ports[i].port].meeting_id;

		if (id && id < GB_MAX_MEETINGS && !strcmp(policies[id].name, j->ports[i].meeting))
			j->ports[k++] = j->ports[i];
	}
	j->n_ports = k;
}

void janus_free(struct janus_set *j)
{
	free(j->rooms);
	free(j->ports);
	memset(j, 0, sizeof(*j));
}

void janus_strip_ports(const struct janus_set *j, const char *name, __u8 *ports)
{
	for (size_t i = 0; i < j->n_ports; i++)
		if (!strcmp(j->ports[i].meeting, name))
			ports[j->ports[i].port / 8] &= ~(1u << (j->ports[i].port % 8));
}

void janus_handle_ports(const struct janus_set *j, const char *name, __u8 *ports)
{
	__u8 held[GB_PORT_COUNT / 8] = {};

	for (size_t i = 0; i < j->n_ports; i++)
		if (!strcmp(j->ports[i].meeting, name))
			held[j->ports[i].port / 8] |= 1u << (j->ports[i].port % 8);
	for (size_t b = 0; b < sizeof(held); b++)
		ports[b] &= held[b];
}

int janus_spec(const struct janus_set *j, struct meeting_spec *s)
{
	size_t n = 0;

	janus_strip_ports(j, s->name, s->ports);
	for (size_t i = 0; i < j->n_rooms; i++)
		n += !strcmp(j->rooms[i].meeting, s->name);
	if (!n)
		return 0;
	s->janus_rooms = calloc(n, sizeof(*s->janus_rooms));
	if (!s->janus_rooms)
		return -ENOMEM;
	for (size_t i = 0; i < j->n_rooms; i++)
		if (!strcmp(j->rooms[i].meeting, s->name))
			s->janus_rooms[s->n_janus_rooms++] = j->rooms[i].room;
	return 0;
}

const char *janus_room_meeting(const struct janus_set *j, __u64 room)
{
	struct janus_room key = { .room = room }, *found;

	if (!j->n_rooms)
		return NULL;
	found = bsearch(&key, j->rooms, j->n_rooms, sizeof(key), room_cmp);
	return found ? found->meeting : NULL;
}

bool janus_has_rooms(const struct janus_set *j, const char *name)
{
	for (size_t i = 0; i < j->n_rooms; i++)
		if (!strcmp(j->rooms[i].meeting, name))
			return true;
	return false;
}

static int write_rooms(const char *state_dir, const struct janus_set *j)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < j->n_rooms; i++)
		fprintf(f, "%llu %s\n", (unsigned long long)j->rooms[i].room, j->rooms[i].meeting);
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	err = gb_write_file_atomic(state_dir, GB_JANUS_ROOMS_FILE, buf, len);
	free(buf);
	return err;
}

static int write_ports(const char *state_dir, const struct janus_set *j)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < j->n_ports; i++)
		fprintf(f, "%u %s %llu %llu %llu\n", j->ports[i].port, j->ports[i].meeting,
			(unsigned long long)j->ports[i].room,
			(unsigned long long)j->ports[i].session,
			(unsigned long long)j->ports[i].handle);
	if (fclose(f)) {
		free(buf);
		return -ENOMEM;
	}
	/*
	 * Not synced: on the path from a Janus event to the data path, and a daemon that starts
	 * takes back what it lists anyway (janus_members_reset).
	 */
	err = gb_write_file_replace(state_dir, GB_JANUS_PORTS_FILE, buf, len);
	free(buf);
	return err;
}

int janus_ports_prune(const char *state_dir, const struct meeting_policy *policies,
		      const struct port_owner *owners)
{
	struct janus_set j;
	size_t n;
	int err = janus_read(state_dir, &j);

	if (err)
		return err;
	n = j.n_ports;
	janus_validate(&j, policies, owners);
	err = j.n_ports < n ? write_ports(state_dir, &j) : 0;
	janus_free(&j);
	return err;
}

/* Whether j records rooms of name, or its handles' ports. */
static bool holds(const struct janus_set *j, const char *name)
{
	for (size_t i = 0; i < j->n_rooms; i++)
		if (!strcmp(j->rooms[i].meeting, name))
			return true;
	for (size_t i = 0; i < j->n_ports; i++)
		if (!strcmp(j->ports[i].meeting, name))
			return true;
	return false;
}

/* Takes name's rooms (and its handles' ports, with ports) out of j, in memory. */
static void forget(struct janus_set *j, const char *name, bool ports)
{
	size_t k = 0;

	for (size_t i = 0; i < j->n_rooms; i++)
		if (strcmp(j->rooms[i].meeting, name))
			j->rooms[k++] = j->rooms[i];
	j->n_rooms = k;
	if (!ports)
		return;
	k = 0;
	for (size_t i = 0; i < j->n_ports; i++)
		if (strcmp(j->ports[i].meeting, name))
			j->ports[k++] = j->ports[i];
	j->n_ports = k;
}

static int add_rooms(struct janus_set *j, const char *name, const __u64 *rooms, size_t n)
{
	struct janus_room *grown;
	size_t k = 0;

	if (!n)
		return 0;
	/* A room kept for a meeting since deleted (expired) is the new one's alone. */
	for (size_t i = 0; i < j->n_rooms; i++)
		if (!room_ids_have(rooms, n, j->rooms[i].room))
			j->rooms[k++] = j->rooms[i];
	j->n_rooms = k;
	grown = realloc(j->rooms, (j->n_rooms + n) * sizeof(*j->rooms));
	if (!grown)
		return -ENOMEM;
	j->rooms = grown;
	for (size_t i = 0; i < n; i++) {
		j->rooms[j->n_rooms].room = rooms[i];
		snprintf(j->rooms[j->n_rooms++].meeting, GB_MEETING_NAME_LEN, "%s", name);
	}
	qsort(j->rooms, j->n_rooms, sizeof(*j->rooms), room_cmp);
	return 0;
}

/*
 * Names in each handle's port the meeting covering its room now (the plan moved the port with
 * the room: plan.c), or forgets the port if none does. Whether anything changed.
 */
static bool follow_rooms(struct janus_set *j)
{
	size_t k = 0, had = j->n_ports;
	bool renamed = false;

	for (size_t i = 0; i < j->n_ports; i++) {
		const char *now = janus_room_meeting(j, j->ports[i].room);

		if (!now)
			continue;
		if (strcmp(now, j->ports[i].meeting)) {
			snprintf(j->ports[i].meeting, sizeof(j->ports[i].meeting), "%s", now);
			renamed = true;
		}
		j->ports[k++] = j->ports[i];
	}
	j->n_ports = k;
	return renamed || k != had;
}

int janus_rooms_put(const char *state_dir, struct janus_set *j, const char *name,
		    const __u64 *rooms, size_t n)
{
	size_t had_ports = j->n_ports, had_rooms = j->n_rooms;
	struct janus_set was = {};
	bool moved;
	int err;

	/* A meeting without rooms, before and after: no file to write (nor fsync on every add). */
	if (!n && !holds(j, name))
		return 0;
	/* As it was, to put back if a file cannot be written: j stays what the files hold. */
	was.rooms = malloc((had_rooms + 1) * sizeof(*was.rooms));
	was.ports = malloc((had_ports + 1) * sizeof(*was.ports));
	if (!was.rooms || !was.ports) {
		janus_free(&was);
		return -ENOMEM;
	}
	if (had_rooms)
		memcpy(was.rooms, j->rooms, had_rooms * sizeof(*was.rooms));
	if (had_ports)
		memcpy(was.ports, j->ports, had_ports * sizeof(*was.ports));
	forget(j, name, !n);
	err = add_rooms(j, name, rooms, n);
	moved = !err && follow_rooms(j);
	if (!err)
		err = write_rooms(state_dir, j);
	/* The rooms written, the ports not: the rooms stay the file's, the ports go back. */
	if (!err && (moved || had_ports != j->n_ports) && (err = write_ports(state_dir, j))) {
		free(j->ports);
		j->ports = was.ports;
		j->n_ports = had_ports;
		was.ports = NULL;
	} else if (err) {
		janus_free(j);
		*j = (struct janus_set){ .rooms = was.rooms, .n_rooms = had_rooms,
					 .ports = was.ports, .n_ports = had_ports };
		was = (struct janus_set){};
	}
	janus_free(&was);
	return err;
}

/* Whether j's rooms are the n of was (both sorted by room). */
static bool same_rooms(const struct janus_set *j, const struct janus_room *was, size_t n)
{
	if (j->n_rooms != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (j->rooms[i].room != was[i].room || strcmp(j->rooms[i].meeting, was[i].meeting))
			return false;
	return true;
}

int janus_rooms_keep(const char *state_dir, struct janus_set *j, const struct spec_list *l)
{
	size_t had = j->n_rooms, want = 0;
	struct janus_room *was;
	int err = 0;

	for (size_t i = 0; i < l->n; i++)
		want += l->v[i].n_janus_rooms;
	if (!had && !want)
		return 0;
	was = malloc((had + 1) * sizeof(*was));
	if (!was)
		return -ENOMEM;
	if (had)
		memcpy(was, j->rooms, had * sizeof(*was));
	j->n_rooms = 0;
	for (size_t i = 0; i < l->n && !err; i++)
		err = add_rooms(j, l->v[i].name, l->v[i].janus_rooms, l->v[i].n_janus_rooms);
	/* Unchanged, not written: a rollback on a full disk, or an apply that keeps the rooms. */
	if (!err && !same_rooms(j, was, had))
		err = write_rooms(state_dir, j);
	free(was);
	if (!err && follow_rooms(j))
		err = write_ports(state_dir, j);
	return err;
}

const struct janus_port *janus_port_find(const struct janus_set *j, __u32 port)
{
	struct janus_port key = { .port = port };

	return j->n_ports ? bsearch(&key, j->ports, j->n_ports, sizeof(key), port_cmp) : NULL;
}

int janus_port_add(const char *state_dir, struct janus_set *j, const struct janus_port *p)
{
	struct janus_port *grown = realloc(j->ports, (j->n_ports + 1) * sizeof(*j->ports));

	if (!grown)
		return -ENOMEM;
	j->ports = grown;
	j->ports[j->n_ports++] = *p;
	qsort(j->ports, j->n_ports, sizeof(*j->ports), port_cmp);
	return write_ports(state_dir, j);
}

const char *janus_port_says(const struct janus_set *j, __u32 port, char *out, size_t len)
{
	const struct janus_port *jp = janus_port_find(j, port);

	*out = '\0';
	if (jp)
		snprintf(out, len, " (a Janus handle in its room %llu holds it)",
			 (unsigned long long)jp->room);
	return out;
}

int janus_ports_claim(const char *state_dir, struct janus_set *j, const __u8 *ports,
		      struct janus_port *gone, size_t *n_gone)
{
	size_t k = 0, n = 0;

	for (size_t i = 0; i < j->n_ports; i++) {
		if (!port_isset(ports, j->ports[i].port))
			j->ports[k++] = j->ports[i];
		else if (gone)
			gone[n++] = j->ports[i];
	}
	if (n_gone)
		*n_gone = n;
	if (k == j->n_ports)
		return 0;
	j->n_ports = k;
	return write_ports(state_dir, j);
}

int janus_port_del(const char *state_dir, struct janus_set *j, __u32 port)
{
	size_t k = 0;

	for (size_t i = 0; i < j->n_ports; i++)
		if (j->ports[i].port != port)
			j->ports[k++] = j->ports[i];
	if (k == j->n_ports)
		return 0;
	j->n_ports = k;
	return write_ports(state_dir, j);
}
