// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: the rules files of `apply` (and the state dir's rules file that restore reads),
 * through rules_file_read (user/state/rules_read.c). The first byte picks the flags (odd: an expiry in
 * the past is accepted, as restore reads); the rest is the file. A refused file gets a one-line
 * message naming the file; an accepted one is a valid rule set (names unique, no shared port, line
 * numbers rising) whose meetings, printed back with spec_format as the rules file holds them, read
 * back to the same meetings, reasons included. Read again salvaging (as restore reads a damaged
 * one), the file gives a valid rule set too: the same one, nothing left out, if it was accepted;
 * else with at least one line left out, each said in a one-line message naming the file.
 */
#include <errno.h>
#include "lib/country.h"
#include "state/rules_read.h"
#include "fuzz.h"

#define NOW 1767225600	/* 2026-01-01T00:00:00Z: fixed, so that inputs replay alike */

static bool same_spec(const struct meeting_spec *a, const struct meeting_spec *b)
{
	return spec_equal(a, b, false) && !strcmp(a->reason, b->reason);
}

static const char *salvage_path;

static void left_out(void *arg, const char *what)
{
	(void)arg;
	FUZZ_ASSERT(fuzz_message_ok(what, strlen(what) + 1), "left out: \"%s\"", what);
	FUZZ_ASSERT(!strncmp(what, salvage_path, strlen(salvage_path)), "\"%s\" names no file",
		    what);
}

/* Salvaged, the file reads to a valid set: l's meetings if strict (its result) took it. */
static void check_salvage(const char *path, unsigned int flags, int strict,
			  const struct spec_list *l)
{
	struct salvage sv = { .left_out = left_out };
	struct spec_list got;
	char err[1024] = "";
	int ret;

	salvage_path = path;
	ret = rules_file_read(path, NOW, flags, &sv, &got, err, sizeof(err));
	FUZZ_ASSERT(!ret, "salvaging returned %d: %s", ret, err);
	ret = spec_list_check(&got, err, sizeof(err));
	FUZZ_ASSERT(!ret, "a salvaged set fails its check: %s", err);
	FUZZ_ASSERT(!strict == !sv.n, "%u left out of a file %s", sv.n,
		    strict ? "refused" : "taken");
	for (size_t i = 0; !strict && i < l->n; i++)
		FUZZ_ASSERT(i < got.n && same_spec(&l->v[i], &got.v[i]), "salvaging changed %s",
			    l->v[i].name);
	FUZZ_ASSERT(strict || got.n == l->n, "salvaged %zu of %zu", got.n, l->n);
	spec_list_free(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec_list l, again;
	char err[1024] = "", *text = NULL;
	const char *path;
	unsigned int flags;
	size_t len = 0;
	FILE *f;
	int ret;

	if (!size)
		return 0;
	flags = data[0] & 1 ? SPEC_PAST_OK : 0;
	path = fuzz_file(data + 1, size - 1);
	ret = rules_file_read(path, NOW, flags, NULL, &l, err, sizeof(err));
	check_salvage(path, flags, ret, &l);
	if (ret) {
		/* -ERANGE: a port out of range, as parse_ports says it. */
		FUZZ_ASSERT(ret == -EINVAL || ret == -E2BIG || ret == -ERANGE,
			    "rules_file_read returned %d", ret);
		FUZZ_ASSERT(fuzz_message_ok(err, sizeof(err)), "message \"%s\"", err);
		FUZZ_ASSERT(!strncmp(err, path, strlen(path)), "message \"%s\" names no file", err);
		FUZZ_ASSERT(!l.n && !l.v, "a refused file left %zu meetings", l.n);
		return 0;
	}
	ret = spec_list_check(&l, err, sizeof(err));
	FUZZ_ASSERT(!ret, "an accepted file fails its check: %s", err);
	for (size_t i = 0; i < l.n; i++) {
		FUZZ_ASSERT(meeting_name_valid(l.v[i].name), "name \"%s\"", l.v[i].name);
		FUZZ_ASSERT(i == 0 || l.v[i].line > l.v[i - 1].line, "line numbers not rising");
		FUZZ_ASSERT(flags & SPEC_PAST_OK || !l.v[i].expires || l.v[i].expires > NOW,
			    "expiry %lld in the past accepted", (long long)l.v[i].expires);
	}

	/* Printed back as the state dir's rules file, it reads to the same meetings. */
	f = open_memstream(&text, &len);
	if (!f)
		abort();
	for (size_t i = 0; i < l.n; i++) {
		char *line = spec_format(&l.v[i], true);

		FUZZ_ASSERT(line, "spec_format failed on meeting %s", l.v[i].name);
		fprintf(f, "%s\n", line);
		free(line);
	}
	if (fclose(f))
		abort();
	path = fuzz_file((const uint8_t *)text, len);
	ret = rules_file_read(path, NOW, flags, NULL, &again, err, sizeof(err));
	FUZZ_ASSERT(!ret, "printed back, the file does not read: %s\n%s", err, text);
	FUZZ_ASSERT(again.n == l.n, "%zu meetings printed back read as %zu", l.n, again.n);
	for (size_t i = 0; i < l.n; i++)
		FUZZ_ASSERT(same_spec(&l.v[i], &again.v[i]), "meeting %s printed as \"%s\" differs",
			    l.v[i].name, text);
	spec_list_free(&again);
	spec_list_free(&l);
	free(text);
	return 0;
}
