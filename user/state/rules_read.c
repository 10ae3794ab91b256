// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a file of `meeting add` lines whole: each line parsed by rules_file.c's grammar, the set
 * checked; or, salvaging a damaged rules file, every line and meeting that can be taken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "state/rules_read.h"

void salvage_left_out(struct salvage *sv, const char *what)
{
	sv->n++;
	if (sv->left_out)
		sv->left_out(sv->arg, what);
}

/* Whether the first n meetings of l fail spec_list_check (why in msg). */
static int prefix_check(const struct spec_list *l, size_t n, char *msg, size_t len)
{
	struct spec_list prefix = { .v = l->v, .n = n };

	return spec_list_check(&prefix, msg, len);
}

/*
 * Salvaging: while the set does not pass spec_list_check, the meeting that makes it fail is left
 * out. A clash (a name, port, ufrag or room given twice) or an excess (more than fit) is there in
 * every longer prefix once it is in one, so the shortest failing prefix, found by halving, ends in
 * the meeting to leave out: the later of two, or the first past what fits.
 */
static int drop_clashes(const char *path, struct salvage *sv, struct spec_list *l, char *err,
			size_t errlen)
{
	char msg[320], what[640];
	int ret;

	while ((ret = spec_list_check(l, msg, sizeof(msg))) == -EINVAL || ret == -E2BIG) {
		size_t lo = 0, hi = l->n;	/* the prefix of lo passes, that of hi fails */
		struct meeting_spec *s;

		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			*(prefix_check(l, mid, msg, sizeof(msg)) ? &hi : &lo) = mid;
		}
		s = &l->v[hi - 1];
		ret = prefix_check(l, hi, msg, sizeof(msg));
		if (ret == -E2BIG)	/* the message counts the set, not the line */
			snprintf(what, sizeof(what), "%s line %u: %s", path, s->line, msg);
		else
			snprintf(what, sizeof(what), "%s %s", path, msg);
		salvage_left_out(sv, what);
		spec_free(s);
		memmove(s, s + 1, (l->n - hi) * sizeof(*s));
		l->n--;
	}
	if (ret)
		snprintf(err, errlen, "%s %s", path, msg);
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
	if (!ret && sv) {
		ret = drop_clashes(path, sv, l, err, errlen);
	} else if (!ret) {
		ret = spec_list_check(l, msg, sizeof(msg));
		if (ret)
			snprintf(err, errlen, "%s %s", path, msg);
	}
	free(line);
	fclose(f);
	if (ret)
		spec_list_free(l);
	return ret;
}
