// SPDX-License-Identifier: GPL-2.0
/*
 * The one grammar of `meeting add`: the command line, the lines of an `apply` file and the state
 * dir's rules file are all parsed here into meeting specs, and specs are printed back as lines.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/country.h"
#include "lib/parse.h"
#include "lib/room_ids.h"
#include "state/rules_file.h"

#define MAX_WORDS 64

void spec_free(struct meeting_spec *s)
{
	free(s->allow);
	s->allow = NULL;
	s->n_allow = 0;
	ufrag_list_free(s->ufrags, s->n_ufrags);
	s->ufrags = NULL;
	s->n_ufrags = 0;
	free(s->janus_rooms);
	s->janus_rooms = NULL;
	s->n_janus_rooms = 0;
}

int spec_copy(struct meeting_spec *dst, const struct meeting_spec *src)
{
	*dst = *src;
	dst->allow = NULL;
	dst->ufrags = NULL;
	dst->janus_rooms = NULL;
	if (src->n_janus_rooms)
		dst->janus_rooms = malloc(src->n_janus_rooms * sizeof(*dst->janus_rooms));
	if (dst->janus_rooms)
		memcpy(dst->janus_rooms, src->janus_rooms, src->n_janus_rooms * sizeof(__u64));
	if (src->n_allow) {
		dst->allow = malloc(src->n_allow * sizeof(*dst->allow));
		if (dst->allow)
			memcpy(dst->allow, src->allow, src->n_allow * sizeof(*dst->allow));
	}
	if (src->n_ufrags)
		dst->ufrags = ufrag_list_copy(src->ufrags, src->n_ufrags);
	if ((src->n_allow && !dst->allow) || (src->n_ufrags && !dst->ufrags) ||
	    (src->n_janus_rooms && !dst->janus_rooms)) {
		spec_free(dst);
		return -ENOMEM;
	}
	return 0;
}

/* The option getopt_long could not take, for the message. */
static void bad_option(int opt, char **argv, char *err, size_t errlen)
{
	const char *arg = argv[optind - 1];
	char shown[32 * 4 + 1];

	printable(arg, strlen(arg), 32, shown, sizeof(shown));
	if (opt == ':')
		snprintf(err, errlen, "option \"%s\" needs a value; see -h", shown);
	else if (optopt && strncmp(arg, "--", 2))
		snprintf(err, errlen, "unknown option \"-%s\"; see -h",
			 printable(arg + 1, 1, 1, shown, sizeof(shown)));
	else
		snprintf(err, errlen, "unknown option \"%s\"; see -h", shown);
}

static int parse_words(int argc, char **argv, __s64 now, unsigned int flags,
		       struct meeting_spec *s, char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "ports", required_argument, NULL, 'p' },
		{ "ufrag", required_argument, NULL, 'u' },
		{ "janus-room", required_argument, NULL, 'j' },
		{ "block", required_argument, NULL, 'b' },
		{ "allow", required_argument, NULL, 'a' },
		{ "proto", required_argument, NULL, 'P' },
		{ "expires", required_argument, NULL, 'e' },
		{ "monitor", no_argument, NULL, 'm' },
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *val[128] = {}, *name;
	char shown[64 * 4 + 1];
	int opt, ret;

	memset(s, 0, sizeof(*s));
	optind = 0;
	/* Errors become err, so that a file can name the line: getopt_long prints nothing. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			return SPEC_HELP;
		case 'p':
		case 'u':
		case 'j':
		case 'b':
		case 'a':
		case 'P':
		case 'e':
		case 'm':
		case 'r':
			if (val[opt]) {
				for (const struct option *o = opts; o->name; o++)
					if (o->val == opt)
						snprintf(err, errlen, "--%s given twice", o->name);
				return -EINVAL;
			}
			for (const struct option *o = opts; o->name; o++)
				if (o->val == opt && o->has_arg &&
				    opt_value_taken_option(o->name, optarg, argv, optind, err,
							   errlen))
					return -EINVAL;
			val[opt] = optarg ? optarg : "";
			break;
		default:
			bad_option(opt, argv, err, errlen);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		snprintf(err, errlen, "expected one meeting NAME; see -h");
		return -EINVAL;
	}
	name = argv[optind];
	if (!meeting_name_valid(name)) {
		snprintf(err, errlen, "invalid meeting name \"%s\": use 1-%d letters, digits, '.', "
			 "'_', '-'", printable(name, strlen(name), 64, shown, sizeof(shown)),
			 GB_MEETING_NAME_LEN - 1);
		return -EINVAL;
	}
	/* Saved ones are kept (meeting del removes them); new ones the API could not name. */
	if ((!strcmp(name, ".") || !strcmp(name, "..")) && !(flags & SPEC_PAST_OK)) {
		snprintf(err, errlen, "invalid meeting name \"%s\": HTTP clients remove \".\" and "
			 "\"..\" from a URL's path; choose another", name);
		return -EINVAL;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	if ((!val['p'] && !val['u'] && !val['j']) || !val['b']) {
		snprintf(err, errlen, "--block and --ports, --ufrag or --janus-room are required; "
			 "see -h");
		return -EINVAL;
	}
	ret = val['p'] ? parse_ports(val['p'], s->ports, err, errlen) : 0;
	if (!ret && val['u'])
		ret = parse_ufrags(val['u'], &s->ufrags, &s->n_ufrags, err, errlen);
	if (!ret && val['j'])
		ret = parse_room_ids(val['j'], &s->janus_rooms, &s->n_janus_rooms, err, errlen);
	if (!ret)
		ret = parse_countries(val['b'], s->blocked, err, errlen);
	if (!ret && val['a'])
		ret = parse_cidrs(val['a'], &s->allow, &s->n_allow, err, errlen);
	if (!ret && val['P'])
		ret = parse_protos(val['P'], &s->flags, err, errlen);
	else if (!ret)
		s->flags = GB_MEETING_UDP;
	/* What was saved is taken as it is (restore, the store); what is new is not. */
	if (!ret && s->n_ufrags && !(s->flags & GB_MEETING_UDP) && !(flags & SPEC_PAST_OK)) {
		snprintf(err, errlen, "--ufrag needs udp in --proto: ufrags tell meetings apart on "
			 "shared ports, which are UDP");
		ret = -EINVAL;
	}
	if (!ret && val['e']) {
		ret = parse_expiry(val['e'], now, flags & SPEC_PAST_OK, &s->expires, err, errlen);
		if (!ret && s->expires <= now && !(flags & SPEC_PAST_OK)) {
			snprintf(err, errlen, "expiry \"%s\" has already passed",
				 printable(val['e'], strlen(val['e']), 40, shown, sizeof(shown)));
			ret = -EINVAL;
		}
	}
	if (!ret && val['r'])
		ret = reason_check(val['r'], err, errlen);
	if (ret) {
		spec_free(s);
		return ret < 0 ? ret : -EINVAL;
	}
	if (val['r'])
		snprintf(s->reason, sizeof(s->reason), "%s", val['r']);
	if (val['m'])
		s->flags |= GB_MEETING_MONITOR;
	return 0;
}

/*
 * getopt keeps its state in globals: the daemon parses specs in its API thread and, when it
 * recovers a journal, in its main thread, so one parse at a time.
 */
static pthread_mutex_t getopt_lock = PTHREAD_MUTEX_INITIALIZER;

int spec_parse(int argc, char **argv, __s64 now, unsigned int flags, struct meeting_spec *s,
	       char *err, size_t errlen)
{
	int ret;

	pthread_mutex_lock(&getopt_lock);
	ret = parse_words(argc, argv, now, flags, s, err, errlen);
	pthread_mutex_unlock(&getopt_lock);
	return ret;
}

bool spec_equal(const struct meeting_spec *a, const struct meeting_spec *b, bool ignore_mode)
{
	__u32 mask = GB_SPEC_MODE_FLAGS & ~(ignore_mode ? GB_MEETING_MONITOR : 0);

	return !strcmp(a->name, b->name) && !memcmp(a->ports, b->ports, sizeof(a->ports)) &&
	       !memcmp(a->blocked, b->blocked, sizeof(a->blocked)) &&
	       (a->flags & mask) == (b->flags & mask) && a->expires == b->expires &&
	       a->n_allow == b->n_allow &&
	       (!a->n_allow || !memcmp(a->allow, b->allow, a->n_allow * sizeof(*a->allow))) &&
	       ufrag_lists_equal(a->ufrags, a->n_ufrags, b->ufrags, b->n_ufrags) &&
	       room_ids_equal(a->janus_rooms, a->n_janus_rooms, b->janus_rooms, b->n_janus_rooms);
}

/* Quotes a reason so that split_words reads it back. */
static void print_quoted(FILE *f, const char *s)
{
	if (!strchr(s, '\'')) {
		fprintf(f, "'%s'", s);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

char *spec_format(const struct meeting_spec *s, bool with_reason)
{
	char countries[GB_COUNTRY_COUNT * 3 + 1], *buf = NULL;
	size_t len;
	FILE *f;

	if (format_countries(s->blocked, countries, sizeof(countries)))
		return NULL;
	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	/* Ports straight into the line: a buffer for the longest list would be 458 KiB a line. */
	fprintf(f, "meeting add %s", s->name);
	/* None at all only in the maps: a version that an interrupted change left without its ports. */
	if (port_next(s->ports, 1) < GB_PORT_COUNT) {
		fprintf(f, " --ports ");
		print_ports(f, s->ports);
	}
	for (size_t i = 0; i < s->n_ufrags; i++)
		fprintf(f, "%s%s", i ? "," : " --ufrag ", s->ufrags[i]);
	if (s->n_janus_rooms) {
		fprintf(f, " --janus-room ");
		print_room_ids(f, s->janus_rooms, s->n_janus_rooms);
	}
	fprintf(f, " --block %s", countries);
	if ((s->flags & (GB_MEETING_UDP | GB_MEETING_TCP)) != GB_MEETING_UDP)
		fprintf(f, " --proto %s", format_protos(s->flags));
	for (size_t i = 0; i < s->n_allow; i++) {
		char net[64];

		format_cidr(&s->allow[i], net, sizeof(net));
		fprintf(f, "%s%s", i ? "," : " --allow ", net);
	}
	if (s->expires) {
		char t[32];

		format_rfc3339(s->expires, t, sizeof(t));
		fprintf(f, " --expires %s", t);
	}
	if (s->flags & GB_MEETING_MONITOR)
		fprintf(f, " --monitor");
	if (with_reason && s->reason[0]) {
		fprintf(f, " --reason ");
		print_quoted(f, s->reason);
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

int spec_list_push(struct spec_list *l, struct meeting_spec *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct meeting_spec *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *s;
	memset(s, 0, sizeof(*s));
	return 0;
}

ssize_t spec_list_find(const struct spec_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return i;
	return -1;
}

void spec_list_remove(struct spec_list *l, size_t i)
{
	/* The order kept: salvaging leaves out the later of two that clash. */
	spec_free(&l->v[i]);
	memmove(&l->v[i], &l->v[i + 1], (--l->n - i) * sizeof(*l->v));
}

bool spec_expired(const struct meeting_spec *s, __s64 now)
{
	return s->expires && s->expires <= now;
}

void spec_list_free(struct spec_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		spec_free(&l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* "line N: " for a spec from a file, else "meeting \"NAME\": " (the API's, the store's). */
static const char *where(const struct meeting_spec *s, char *buf, size_t len)
{
	if (s->line)
		snprintf(buf, len, "line %u: ", s->line);
	else
		snprintf(buf, len, "meeting \"%s\": ", s->name);
	return buf;
}

/* Orders indexes into list l by name, then by position. */
static int by_name_cmp(const void *a, const void *b, void *l)
{
	const struct spec_list *list = l;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(list->v[x].name, list->v[y].name);

	return c ? c : (x > y) - (x < y);
}

/* Refuses a Janus room in two meetings of l (the later one named, as for ports). */
static int check_rooms(const struct spec_list *l, char *err, size_t errlen)
{
	char at[GB_MEETING_NAME_LEN + 16];

	for (size_t i = 0; i < l->n; i++)
		for (size_t k = 0; k < l->v[i].n_janus_rooms; k++)
			for (size_t j = 0; j < i; j++)
				if (room_ids_have(l->v[j].janus_rooms, l->v[j].n_janus_rooms,
						  l->v[i].janus_rooms[k])) {
					snprintf(err, errlen, "%sJanus room %llu already belongs "
						 "to meeting \"%s\"", where(&l->v[i], at, sizeof(at)),
						 (unsigned long long)l->v[i].janus_rooms[k],
						 l->v[j].name);
					return -EINVAL;
				}
	return 0;
}

/* For each meeting, 1 + the index of the first earlier one of its name (0: none); sorted once. */
static size_t *first_of_names(const struct spec_list *l)
{
	size_t *order = calloc(l->n + 1, sizeof(*order)), *first = calloc(l->n + 1, sizeof(*first));

	if (!order || !first) {
		free(order);
		free(first);
		return NULL;
	}
	for (size_t i = 0; i < l->n; i++)
		order[i] = i;
	qsort_r(order, l->n, sizeof(*order), by_name_cmp, (void *)l);
	for (size_t k = 1; k < l->n; k++)
		if (!strcmp(l->v[order[k]].name, l->v[order[k - 1]].name))
			first[order[k]] = first[order[k - 1]] ? first[order[k - 1]] :
								order[k - 1] + 1;
	free(order);
	return first;
}

/* A ufrag of meeting `of` in a list: spec_list_check sorts them to find one given twice. */
struct ufrag_ref {
	const char *ufrag;
	size_t of;
};

static int ufrag_ref_cmp(const void *a, const void *b)
{
	const struct ufrag_ref *x = a, *y = b;
	int c = strcmp(x->ufrag, y->ufrag);

	return c ? c : (x->of > y->of) - (x->of < y->of);
}

/* Refuses a ufrag in two meetings of l, and more ufrags than fit. */
static int check_ufrags(const struct spec_list *l, char *err, size_t errlen)
{
	struct ufrag_ref *refs;
	size_t n = 0, k = 0;
	char at[GB_MEETING_NAME_LEN + 16];
	int ret = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->v[i].n_ufrags;
	if (!n)
		return 0;
	if (n > GB_UFRAGS_MAX - 1) {
		snprintf(err, errlen, "%zu ufrags; at most %d fit", n, GB_UFRAGS_MAX - 1);
		return -E2BIG;
	}
	refs = malloc(n * sizeof(*refs));
	if (!refs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n; i++)
		for (size_t u = 0; u < l->v[i].n_ufrags; u++)
			refs[k++] = (struct ufrag_ref){ l->v[i].ufrags[u], i };
	qsort(refs, n, sizeof(*refs), ufrag_ref_cmp);
	for (k = 1; k < n && !ret; k++) {
		const struct meeting_spec *o = &l->v[refs[k - 1].of], *s = &l->v[refs[k].of];

		if (strcmp(refs[k].ufrag, refs[k - 1].ufrag))
			continue;
		/* The later one named, as for ports. */
		snprintf(err, errlen, "%sufrag %s already belongs to meeting \"%s\"",
			 where(s, at, sizeof(at)), refs[k].ufrag, o->name);
		if (o->line)
			snprintf(err + strlen(err), errlen - strlen(err), " (line %u)", o->line);
		ret = -EINVAL;
	}
	free(refs);
	return ret;
}

size_t spec_drop_counters(const struct meeting_spec *s)
{
	size_t c = 0;

	for (int w = 0; w < GB_COUNTRY_WORDS; w++)
		c += __builtin_popcountll(s->blocked[w]);
	return c;
}

int spec_list_check(const struct spec_list *l, char *err, size_t errlen)
{
	size_t allow4 = 0, allow6 = 0, counters = 0, *first;
	__u32 *owner;
	char at[GB_MEETING_NAME_LEN + 16];
	int ret = 0;

	if (l->n > GB_MAX_MEETINGS - 1) {
		snprintf(err, errlen, "%zu meetings; at most %d fit", l->n, GB_MAX_MEETINGS - 1);
		return -E2BIG;
	}
	owner = calloc(GB_PORT_COUNT, sizeof(*owner));	/* index into l, plus one */
	first = first_of_names(l);
	if (!owner || !first) {
		free(owner);
		free(first);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n && !ret; i++) {
		const struct meeting_spec *s = &l->v[i];

		if (first[i]) {
			const struct meeting_spec *o = &l->v[first[i] - 1];

			if (o->line)
				snprintf(err, errlen, "%smeeting \"%s\" is already defined on line %u",
					 where(s, at, sizeof(at)), s->name, o->line);
			else
				snprintf(err, errlen, "meeting \"%s\" is given twice", s->name);
			ret = -EINVAL;
		}
		for (__u32 p = port_next(s->ports, 1); p < GB_PORT_COUNT && !ret;
		     p = port_next(s->ports, p + 1)) {
			if (owner[p]) {
				const struct meeting_spec *o = &l->v[owner[p] - 1];

				snprintf(err, errlen, "%sport %u already belongs to meeting \"%s\"",
					 where(s, at, sizeof(at)), p, o->name);
				if (o->line)
					snprintf(err + strlen(err), errlen - strlen(err), " (line %u)",
						 o->line);
				ret = -EINVAL;
			}
			owner[p] = i + 1;
		}
		for (size_t k = 0; k < s->n_allow; k++)
			*(s->allow[k].family == 4 ? &allow4 : &allow6) += 1;
		counters += spec_drop_counters(s);
	}
	free(owner);
	free(first);
	if (!ret)
		ret = check_ufrags(l, err, errlen);
	if (!ret)
		ret = check_rooms(l, err, errlen);
	/* As rules_plan_room says it: checked here too, so that a fleet refuses the key alone. */
	if (!ret && counters > GB_DROP_COUNTERS - 1) {
		snprintf(err, errlen, "the rule set needs %zu drop counters (one per meeting and "
			 "country it blocks); at most %d exist", counters, GB_DROP_COUNTERS - 1);
		ret = -E2BIG;
	}
	if (!ret && (allow4 > GB_ALLOW_MAX || allow6 > GB_ALLOW_MAX)) {
		snprintf(err, errlen, "%zu IPv4 and %zu IPv6 allow exceptions; at most %d of each fit",
			 allow4, allow6, GB_ALLOW_MAX);
		ret = -E2BIG;
	}
	return ret;
}

/*
 * Splits line into words in place: blanks separate them, '...' and "..." quote (a backslash
 * escapes the next character inside "..."), and # at the start of a word begins a comment.
 * Returns the number of words, -EINVAL for an unterminated quote, -E2BIG for too many words.
 */
static int split_words(char *line, char **words, int max)
{
	char *r = line, *w;
	int n = 0;

	for (;;) {
		char c;

		while (*r && isspace((unsigned char)*r))
			r++;
		if (!*r || *r == '#')
			return n;
		if (n == max)
			return -E2BIG;
		words[n++] = w = r;
		while (*r && !isspace((unsigned char)*r)) {
			char q = *r;

			if (q != '\'' && q != '"') {
				*w++ = *r++;
				continue;
			}
			for (r++; *r && *r != q; r++) {
				if (q == '"' && *r == '\\' && r[1])
					r++;
				*w++ = *r;
			}
			if (!*r)
				return -EINVAL;
			r++;
		}
		c = *r;
		*w = '\0';
		if (c)
			r++;
	}
}

int spec_parse_line(char *line, __s64 now, unsigned int flags, struct meeting_spec *s, char *err,
		    size_t errlen)
{
	char *words[MAX_WORDS];
	int n, ret;

	n = split_words(line, words, MAX_WORDS);
	if (n == 0)
		return 1;
	if (n < 0) {
		snprintf(err, errlen, "%s", n == -E2BIG ? "too many words" : "a quote is not closed");
		return -EINVAL;
	}
	if (!strcmp(words[0], "shared-port")) {
		snprintf(err, errlen, "shared ports are not a file's: 'geoblock shared-port add' "
			 "them, then apply meetings with --ufrag");
		return -EINVAL;
	}
	if (n < 2 || strcmp(words[0], "meeting") || strcmp(words[1], "add")) {
		snprintf(err, errlen, "expected \"meeting add NAME --ports LIST|--ufrag LIST|"
			 "--janus-room LIST --block CC[,CC...] ...\"");
		return -EINVAL;
	}
	ret = spec_parse(n - 1, words + 1, now, flags, s, err, errlen);
	if (ret == SPEC_HELP) {
		spec_free(s);
		snprintf(err, errlen, "-h has no place in a rules file");
		ret = -EINVAL;
	}
	return ret;
}
