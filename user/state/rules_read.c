// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a file of `meeting add` lines whole: each line parsed by rules_file.c's grammar, the set
 * checked; or, salvaging a damaged rules file, every line and meeting that can be taken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/country.h"
#include "lib/room_ids.h"
#include "state/rules_read.h"

void salvage_left_out(struct salvage *sv, const char *what)
{
	sv->n++;
	if (sv->left_out)
		sv->left_out(sv->arg, what);
}

/* Strings to the index of the meeting that holds them: open addressing, the caller's strings. */
struct owners {
	const char **key;
	size_t *of, mask;
};

static int owners_init(struct owners *o, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	o->key = calloc(cap, sizeof(*o->key));
	o->of = calloc(cap, sizeof(*o->of));
	o->mask = cap - 1;
	return o->key && o->of ? 0 : -ENOMEM;
}

static void owners_free(struct owners *o)
{
	free(o->key);
	free(o->of);
}

/* The slot of key: the one holding it, or the empty one where it goes. */
static size_t owners_slot(const struct owners *o, const char *key)
{
	size_t h = 14695981039346656037ULL;

	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (h &= o->mask; o->key[h] && strcmp(o->key[h], key); h = (h + 1) & o->mask)
		;
	return h;
}

/* The meeting holding key, or -1. */
static ssize_t owner_of(const struct owners *o, const char *key)
{
	size_t h = owners_slot(o, key);

	return o->key[h] ? (ssize_t)o->of[h] : -1;
}

static void owners_put(struct owners *o, const char *key, size_t of)
{
	size_t h = owners_slot(o, key);

	o->key[h] = key;
	o->of[h] = of;
}

/* What the meetings taken so far hold, for salvaging. */
struct taken {
	struct owners names, ufrags;
	__u32 *port;			/* 1 + the index of the port's meeting; 0: free */
	size_t meetings, allow4, allow6, n_ufrags, counters;
};

/* Where meeting s comes from, for a message: its line of file, or a change logged in log. */
static const char *at(const struct meeting_spec *s, const char *file, const char *log, char *buf,
		      size_t len)
{
	if (s->line)
		snprintf(buf, len, "%s line %u: ", file, s->line);
	else
		snprintf(buf, len, "%s: meeting \"%s\" (a logged change): ", log, s->name);
	return buf;
}

/* " (line N)" for an owner from the file, "" for one from the log. */
static const char *line_of(const struct meeting_spec *o, char *buf, size_t len)
{
	if (o->line)
		snprintf(buf, len, " (line %u)", o->line);
	else
		*buf = '\0';
	return buf;
}

/*
 * Why meeting i of l cannot join the meetings taken before it (as spec_list_check would say it,
 * in msg), or 0 if it can.
 */
static int clash(const struct spec_list *l, size_t i, const struct taken *t, const char *file,
		 const char *log, char *msg, size_t len)
{
	const struct meeting_spec *s = &l->v[i];
	char w[600], ln[32];
	size_t a4 = 0, a6 = 0;
	ssize_t o;

	at(s, file, log, w, sizeof(w));
	if ((o = owner_of(&t->names, s->name)) >= 0 && l->v[o].line)
		return snprintf(msg, len, "%smeeting \"%s\" is already defined on line %u", w,
				s->name, l->v[o].line);
	if (o >= 0)
		return snprintf(msg, len, "%smeeting \"%s\" is given twice", w, s->name);
	for (__u32 p = port_next(s->ports, 1); p < GB_PORT_COUNT; p = port_next(s->ports, p + 1))
		if (t->port[p])
			return snprintf(msg, len, "%sport %u already belongs to meeting \"%s\"%s", w,
					p, l->v[t->port[p] - 1].name,
					line_of(&l->v[t->port[p] - 1], ln, sizeof(ln)));
	for (size_t k = 0; k < s->n_ufrags; k++)
		if ((o = owner_of(&t->ufrags, s->ufrags[k])) >= 0)
			return snprintf(msg, len, "%sufrag %s already belongs to meeting \"%s\"%s", w,
					s->ufrags[k], l->v[o].name, line_of(&l->v[o], ln, sizeof(ln)));
	for (size_t k = 0; k < s->n_janus_rooms; k++)
		for (size_t j = 0; j < i; j++)
			if (room_ids_have(l->v[j].janus_rooms, l->v[j].n_janus_rooms,
					  s->janus_rooms[k]) &&
			    owner_of(&t->names, l->v[j].name) == (ssize_t)j)
				return snprintf(msg, len, "%sJanus room %llu already belongs to "
						"meeting \"%s\"%s", w,
						(unsigned long long)s->janus_rooms[k], l->v[j].name,
						line_of(&l->v[j], ln, sizeof(ln)));
	for (size_t k = 0; k < s->n_allow; k++)
		*(s->allow[k].family == 4 ? &a4 : &a6) += 1;
	if (t->meetings + 1 > GB_MAX_MEETINGS - 1 || t->allow4 + a4 > GB_ALLOW_MAX ||
	    t->allow6 + a6 > GB_ALLOW_MAX || t->n_ufrags + s->n_ufrags > GB_UFRAGS_MAX - 1 ||
	    t->counters + spec_drop_counters(s) > GB_DROP_COUNTERS - 1)
		return snprintf(msg, len, "%smeeting \"%s\" does not fit beside the ones before it "
				"(at most %d meetings, %d IPv4 and %d IPv6 exceptions, %d ufrags, "
				"%d drop counters)", w, s->name, GB_MAX_MEETINGS - 1, GB_ALLOW_MAX,
				GB_ALLOW_MAX, GB_UFRAGS_MAX - 1, GB_DROP_COUNTERS - 1);
	return 0;
}

static void take(const struct spec_list *l, size_t i, struct taken *t)
{
	const struct meeting_spec *s = &l->v[i];

	owners_put(&t->names, s->name, i);
	for (__u32 p = port_next(s->ports, 1); p < GB_PORT_COUNT; p = port_next(s->ports, p + 1))
		t->port[p] = i + 1;
	for (size_t k = 0; k < s->n_ufrags; k++)
		owners_put(&t->ufrags, s->ufrags[k], i);
	for (size_t k = 0; k < s->n_allow; k++)
		*(s->allow[k].family == 4 ? &t->allow4 : &t->allow6) += 1;
	t->meetings++;
	t->n_ufrags += s->n_ufrags;
	t->counters += spec_drop_counters(s);
}

int spec_list_salvage(struct spec_list *l, const char *file, const char *log, struct salvage *sv,
		      char *err, size_t errlen)
{
	struct taken t = { .port = calloc(GB_PORT_COUNT, sizeof(*t.port)) };
	bool *out = calloc(l->n + 1, sizeof(*out));
	size_t n_ufrags = 0, kept = 0;
	char msg[1024];
	int ret;

	for (size_t i = 0; i < l->n; i++)
		n_ufrags += l->v[i].n_ufrags;
	ret = t.port && out && !owners_init(&t.names, l->n) && !owners_init(&t.ufrags, n_ufrags) ?
	      0 : -ENOMEM;
	for (size_t i = 0; i < l->n && !ret; i++) {
		/* Kept in place until the end: the messages name the meetings taken by index. */
		out[i] = clash(l, i, &t, file, log, msg, sizeof(msg));
		if (out[i])
			salvage_left_out(sv, msg);
		else
			take(l, i, &t);
	}
	for (size_t i = 0; i < l->n && !ret; i++) {
		if (!out[i])
			l->v[kept++] = l->v[i];
		else
			spec_free(&l->v[i]);
	}
	if (!ret)
		l->n = kept;
	owners_free(&t.names);
	owners_free(&t.ufrags);
	free(t.port);
	free(out);
	if (!ret && (ret = spec_list_check(l, msg, sizeof(msg))))
		snprintf(err, errlen, "%s%s %s", file, strncmp(msg, "line ", 5) ? ":" : "", msg);
	else if (ret)
		snprintf(err, errlen, "out of memory");
	return ret;
}

int rules_file_read(const char *path, __s64 now, unsigned int flags, struct salvage *sv,
		    struct spec_list *l, char *err, size_t errlen)
{
	char *line = NULL, msg[320];
	unsigned int lineno = 0;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int ret = 0;

	memset(l, 0, sizeof(*l));
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return ret;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct meeting_spec s;

		lineno++;
		/* What follows a NUL would not be read at all. */
		if (memchr(line, '\0', len)) {
			snprintf(msg, sizeof(msg), "a NUL byte (not a text file?)");
			ret = -EINVAL;
		} else if ((flags & SPEC_OWN_FILE) && line[len - 1] != '\n') {
			/* Its end may have been an option (--monitor, say): not taken for another. */
			snprintf(msg, sizeof(msg), "cut short (no newline at its end)");
			ret = -EINVAL;
		} else {
			ret = spec_parse_line(line, now, flags, &s, msg, sizeof(msg));
		}
		if (ret == 1) {
			ret = 0;
			continue;
		}
		if (ret) {
			snprintf(err, errlen, "%s line %u: %s", path, lineno, msg);
			if (!sv)
				break;
			salvage_left_out(sv, err);
			*err = '\0';
			ret = 0;
			continue;
		}
		s.line = lineno;
		ret = spec_list_push(l, &s);
		if (ret) {
			spec_free(&s);
			snprintf(err, errlen, "out of memory");
			break;
		}
	}
	if (!ret && ferror(f)) {
		ret = -errno;
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
	}
	if (!ret) {
		ret = spec_list_check(l, msg, sizeof(msg));
		if (ret && sv && ret != -ENOMEM)
			ret = spec_list_salvage(l, path, NULL, sv, err, errlen);
		else if (ret)	/* "PATH line N: ...", or "PATH: ..." of the whole set */
			snprintf(err, errlen, "%s%s %s", path, strncmp(msg, "line ", 5) ? ":" : "",
				 msg);
	}
	free(line);
	fclose(f);
	if (ret)
		spec_list_free(l);
	return ret;
}
