// SPDX-License-Identifier: GPL-2.0
/*
 * Command lines read by the command table (cmd.c): the command looked up, its options parsed by
 * getopt_long built from its entry, one usage line for what is wrong, its help printed from it.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/country.h"
#include "lib/errors.h"
#include "lib/parse.h"
#include "cli/args.h"

#define HELP_WIDTH	100	/* columns of the help */
#define HELP_COLUMN	25	/* where an option's help starts */
#define PATH_LEN	64	/* "meeting add" */
/* getopt_long's value for option i of a command: past every short option's character. */
#define LONG_VAL(i)	(256 + (i))

/* Every command's, after its own. */
static const struct cmd_opt help_opt = {
	.id = OPT_HELP, .name = "help", .short_name = 'h', .help = "this help",
};

static int opts_count(const struct cmd *c)
{
	int n = 0;

	while (c->opts && c->opts[n].name)
		n++;
	return n;
}

/* Option i of c, counting -h, --help as the last (i == n). */
static const struct cmd_opt *opt_at(const struct cmd *c, int i, int n)
{
	return i < n ? &c->opts[i] : &help_opt;
}

/* out: "path name"; the table's names are short, a longer path is only cut short. */
static void join_path(char out[PATH_LEN], const char *path, const char *name)
{
	if (snprintf(out, PATH_LEN, "%s%s%s", path, *path ? " " : "", name) >= PATH_LEN)
		out[PATH_LEN - 1] = '\0';
}

/* The message for what getopt_long refused: opt is '?' or ':' (a value missing). */
static void bad_option(int opt, int argc, char **argv, const struct option *lopts, char *err,
		       size_t len)
{
	const char *arg = argv[optind - 1];
	char shown[32 * 4 + 1], c;
	size_t n, matches = 0;

	/* optopt: LONG_VAL() of a long option, a short one's character, 0 for an unknown long. */
	if (optopt >= LONG_VAL(0)) {
		snprintf(err, len, "option \"--%s\" %s; see -h", lopts[optopt - LONG_VAL(0)].name,
			 opt == ':' ? "needs a value" : "takes no value");
		return;
	}
	/*
	 * "-10001": a negative number, read as options -1, -0, ...: getopt is still on it (optind)
	 * if the refused character is not its last, past it if it is.
	 */
	for (int i = optind; i >= optind - 1 && opt == '?' && isdigit(optopt); i--)
		if (i > 0 && i < argc && argv[i][0] == '-' && isdigit((unsigned char)argv[i][1]) &&
		    strchr(argv[i], optopt)) {
			snprintf(err, len, "\"%s\" is not an option, and no value here is negative; "
				 "see -h", printable(argv[i], strlen(argv[i]), 32, shown,
						     sizeof(shown)));
			return;
		}
	if (optopt) {
		c = optopt;
		printable(&c, 1, 1, shown, sizeof(shown));
		if (opt == ':')
			snprintf(err, len, "option \"-%s\" needs a value; see -h", shown);
		else
			snprintf(err, len, "unknown option \"-%s\"; see -h", shown);
		return;
	}
	/* getopt_long takes an unambiguous start of a name: an ambiguous one is not unknown. */
	n = strcspn(arg, "=");
	for (const struct option *o = lopts; o->name; o++)
		matches += n > 2 && !strncmp(o->name, arg + 2, n - 2);
	snprintf(err, len, "%s option \"%s\"; see -h", matches > 1 ? "ambiguous" : "unknown",
		 printable(arg, n, 32, shown, sizeof(shown)));
}

/* Whether v is one of o's choices, "a|b|c". */
static bool choice_ok(const struct cmd_opt *o, const char *v)
{
	size_t len = strlen(v);

	for (const char *p = o->value;; p++) {
		size_t n = strcspn(p, "|");

		if (n == len && !((o->flags & CMD_OPT_ANYCASE) ? strncasecmp(p, v, n) :
								  strncmp(p, v, n)))
			return true;
		p += n;
		if (!*p)
			return false;
	}
}

/* unknown --mode "turbo": use native, generic or auto */
static void bad_choice(const struct cmd_opt *o, const char *v, char *err, size_t len)
{
	const char *last = strrchr(o->value, '|');
	char shown[32 * 4 + 1], list[128];
	size_t pos = 0;

	/* "a|b|c" as "a, b or c"; 5: room for a separator and the '\0' */
	for (const char *p = o->value; *p && pos + 5 < sizeof(list); p++) {
		if (*p != '|')
			list[pos++] = *p;
		else
			pos += snprintf(list + pos, sizeof(list) - pos, "%s",
					p == last ? " or " : ", ");
	}
	list[pos] = '\0';
	printable(v, strlen(v), 32, shown, sizeof(shown));
	if (!last)	/* one choice: the value may be known elsewhere (--proto tcp) */
		snprintf(err, len, "--%s \"%s\": only %s here; see -h", o->name, shown, list);
	else
		snprintf(err, len, "unknown --%s \"%s\": use %s", o->name, shown, list);
}

/* What the table asks beyond each option alone: choices, pairs, counts, required options. */
static void check_args(const struct cmd *c, int n, const struct cmd_args *a, char *err,
		       size_t len)
{
	char shown[64 * 4 + 1];

	for (int i = 0; i < n && !*err; i++) {
		const struct cmd_opt *o = &c->opts[i];

		if ((o->flags & CMD_OPT_CHOICE) && a->opt[o->id] && !choice_ok(o, a->opt[o->id]))
			bad_choice(o, a->opt[o->id], err, len);
		else if (o->id == OPT_REASON && a->opt[o->id])
			reason_check(a->opt[o->id], err, len);
		else if ((o->flags & CMD_OPT_OR_NEXT) && a->count[o->id] && a->count[o[1].id])
			snprintf(err, len, "--%s and --%s exclude each other", o->name, o[1].name);
	}
	if (*err || c->subs)
		return;
	if (a->npos < c->min_args)
		snprintf(err, len, "expected %s; see -h", c->expected);
	else if (c->max_args >= 0 && a->npos > c->max_args)
		snprintf(err, len, "unexpected argument \"%s\"%s%s; see -h",
			 printable(a->pos[c->max_args], strlen(a->pos[c->max_args]), 64, shown,
				   sizeof(shown)), c->max_args ? ": expected " : "",
			 c->max_args ? c->expected : "");
	for (int i = 0; i < n && !*err; i++) {
		const struct cmd_opt *o = &c->opts[i];

		if (!(o->flags & CMD_OPT_REQUIRED) || a->count[o->id])
			continue;
		if (o->flags & CMD_OPT_OR_NEXT) {
			if (!a->count[o[1].id])
				snprintf(err, len, "say --%s or --%s", o->name, o[1].name);
		} else {
			snprintf(err, len, "--%s is required; see -h", o->name);
		}
	}
}

/* Records one option given; false when out of memory. */
static bool add_given(struct cmd_args *a, const struct cmd_opt *o, const char *value, int *cap)
{
	if (a->ngiven == *cap) {
		int grown = *cap ? 2 * *cap : 16;
		struct cmd_given *g = realloc(a->given, grown * sizeof(*g));

		if (!g)
			return false;
		a->given = g;
		*cap = grown;
	}
	a->given[a->ngiven++] = (struct cmd_given){ .id = o->id, .value = value };
	a->count[o->id]++;
	a->opt[o->id] = value;
	return true;
}

int args_parse(const struct cmd *c, const char *path, int argc, char **argv, struct cmd_args *a)
{
	int n = opts_count(c), k, opt, cap = 0;
	char shorts[64], err[512] = "";
	struct option *lopts;

	memset(a, 0, sizeof(*a));
	a->argc = argc;
	a->argv = argv;
	lopts = calloc(n + 2, sizeof(*lopts));
	if (!lopts) {
		gb_err("out of memory");
		return GB_EXIT_FAIL;
	}
	/* '+': a group's options end at its sub-command; ':': a missing value told apart. */
	k = snprintf(shorts, sizeof(shorts), "%s:", c->subs ? "+" : "");
	for (int i = 0; i <= n; i++) {
		const struct cmd_opt *o = opt_at(c, i, n);

		lopts[i] = (struct option){ o->name, o->value ? required_argument : no_argument,
					    NULL, LONG_VAL(i) };
		if (o->short_name && k + 3 < (int)sizeof(shorts)) {
			shorts[k++] = o->short_name;
			if (o->value)
				shorts[k++] = ':';
		}
	}
	shorts[k] = '\0';

	/* Every option read, so that -h anywhere wins over what is wrong elsewhere. */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		const struct cmd_opt *o = NULL;

		if (opt == '?' || opt == ':') {
			if (!*err)
				bad_option(opt, argc, argv, lopts, err, sizeof(err));
			continue;
		}
		for (int i = 0; i <= n && !o; i++)
			if (opt == LONG_VAL(i) || opt == opt_at(c, i, n)->short_name)
				o = opt_at(c, i, n);
		if (!o)
			continue;
		if (o->id == OPT_HELP) {
			a->help = true;
			continue;
		}
		if (a->count[o->id] && !(o->flags & CMD_OPT_REPEAT) && !*err)
			snprintf(err, sizeof(err), "--%s given twice", o->name);
		/* "--reason --check": not a dry run's text taken for its reason. */
		if (o->value && !*err)
			opt_value_taken_option(o->name, optarg, argv, optind, err, sizeof(err));
		if (!add_given(a, o, optarg ? optarg : "", &cap)) {
			gb_err("out of memory");
			free(lopts);
			return GB_EXIT_FAIL;
		}
	}
	free(lopts);
	a->npos = argc - optind;
	a->pos = argv + optind;
	if (a->help) {
		args_help(c, path);
		return GB_EXIT_OK;
	}
	if (!*err)
		check_args(c, n, a, err, sizeof(err));
	if (*err) {
		gb_err("%s", err);
		return GB_EXIT_USAGE;
	}
	for (int i = 0; i < n; i++)
		if (c->opts[i].def && !a->opt[c->opts[i].id])
			a->opt[c->opts[i].id] = c->opts[i].def;
	return GB_EXIT_OK;
}

void args_free(struct cmd_args *a)
{
	free(a->given);
	a->given = NULL;
	a->ngiven = 0;
}

/* `help [COMMAND...]`: the help of the command the words name. */
static int help_of(const struct cmd *c, const char *path, int argc, char **argv)
{
	char full[PATH_LEN], parent[PATH_LEN], shown[64 * 4 + 1];

	snprintf(full, sizeof(full), "%s", path);
	for (int i = 0; i < argc; i++) {
		const struct cmd *s = c->subs;

		while (s && s->name && strcmp(s->name, argv[i]))
			s++;
		if (!s || !s->name) {
			gb_err("unknown command \"%s\"; see -h",
			       printable(argv[i], strlen(argv[i]), 64, shown, sizeof(shown)));
			return GB_EXIT_USAGE;
		}
		c = s;
		snprintf(parent, sizeof(parent), "%s", full);
		join_path(full, parent, c->name);
	}
	args_help(c, full);
	return GB_EXIT_OK;
}

int args_run(const struct cmd *group, const char *path, int argc, char **argv)
{
	/* Error messages name the full command ("meeting add"); set once per level. */
	static char name[PATH_LEN];
	char full[PATH_LEN], shown[64 * 4 + 1];
	const struct cmd *c;
	struct cmd_args a;
	int ret;

	/* The help for a person, and one line on stderr for a script (which reads stdout). */
	if (argc < 1) {
		args_help(group, path);
		gb_err("a command is needed (see the list above)");
		return GB_EXIT_USAGE;
	}
	if (!strcmp(argv[0], "help"))
		return help_of(group, path, argc - 1, argv + 1);
	for (c = group->subs; c->name && strcmp(c->name, argv[0]); c++)
		;
	if (!c->name) {
		gb_err("unknown command \"%s\"; see -h",
		       printable(argv[0], strlen(argv[0]), 64, shown, sizeof(shown)));
		return GB_EXIT_USAGE;
	}
	join_path(full, path, c->name);
	snprintf(name, sizeof(name), "%s", full);
	gb_set_command(name);
	if (c->own_parser) {
		memset(&a, 0, sizeof(a));
		a.argc = argc;
		a.argv = argv;
		ret = c->func(&a);
		if (ret == CMD_HELP) {
			args_help(c, full);
			ret = GB_EXIT_OK;
		}
		return ret;
	}
	ret = args_parse(c, full, argc, argv, &a);
	if (!ret && !a.help)
		ret = c->subs ? args_run(c, full, a.npos, a.pos) : c->func(&a);
	args_free(&a);
	return ret;
}

/* Prints text, each line after the first indented by indent columns. */
static void print_lines(const char *text, int indent)
{
	for (const char *p = text; *p; p++) {
		putchar(*p);
		if (*p == '\n')
			printf("%*s", indent, "");
	}
}

/* "--mode native|generic|auto" (or "-v" for a short flag), as usage shows an option. */
static int usage_word(const struct cmd_opt *o, char *out, size_t len)
{
	if (o->short_name && !o->value)
		return snprintf(out, len, "-%c", o->short_name);
	return snprintf(out, len, "--%s%s%s", o->name, o->value ? " " : "", o->value ?: "");
}

/* The usage's words of c: a group's options come before its sub-command, a command's after. */
static int usage_items(const struct cmd *c, char items[][128], int max)
{
	int n = 0, nopts = opts_count(c);

	if (c->args && !c->subs)
		snprintf(items[n++], sizeof(items[0]), "%s", c->args);
	for (int i = 0; i < nopts && n < max - 1; i++) {
		const struct cmd_opt *o = &c->opts[i];
		bool req = o->flags & CMD_OPT_REQUIRED;
		char word[96], alt[96] = "";

		usage_word(o, word, sizeof(word));
		if ((o->flags & CMD_OPT_OR_NEXT) && i + 1 < nopts) {
			alt[0] = '|';
			usage_word(&c->opts[++i], alt + 1, sizeof(alt) - 1);
		}
		snprintf(items[n++], sizeof(items[0]), "%s%s%s%s%s", req ? "" : "[", word, alt,
			 req ? "" : "]", (o->flags & CMD_OPT_REPEAT) ? "..." : "");
	}
	if (c->args && c->subs && n < max)
		snprintf(items[n++], sizeof(items[0]), "%s", c->args);
	return n;
}

/* lead, then c's usage words, wrapped at HELP_WIDTH under the first word. */
static void print_usage(const char *lead, const struct cmd *c)
{
	char items[32][128];
	int n = usage_items(c, items, 32), indent = strlen(lead) + 1, col;

	col = printf("%s", lead);
	for (int i = 0; i < n; i++) {
		int len = strlen(items[i]);

		if (col + 1 + len > HELP_WIDTH && col > indent)
			col = printf("\n%*s", indent, "") - 1;
		else
			col += printf(" ");
		col += printf("%s", items[i]);
	}
	printf("\n");
}

/* Every command below group, once each: usage, then summary. */
static void print_commands(const struct cmd *group, const char *path)
{
	for (const struct cmd *s = group->subs; s && s->name; s++) {
		char full[PATH_LEN], lead[PATH_LEN + 2];

		join_path(full, path, s->name);
		if (s->subs) {
			print_commands(s, full);
			continue;
		}
		snprintf(lead, sizeof(lead), "  %s", full);
		print_usage(lead, s);
		printf("        %s\n", s->summary);
	}
}

static void print_option(const struct cmd_opt *o)
{
	const char *last;
	char def[96];
	int col;

	if (o->short_name)
		col = printf("  -%c, --%s", o->short_name, o->name);
	else
		col = printf("  --%s", o->name);
	if (o->value)
		col += printf(" %s", o->value);
	if (col >= HELP_COLUMN - 1)
		col = printf("\n") - 1;
	printf("%*s", HELP_COLUMN - col, "");
	print_lines(o->help, HELP_COLUMN);
	if (o->def) {
		last = strrchr(o->help, '\n');
		last = last ? last + 1 : o->help;
		snprintf(def, sizeof(def), "(default %s)", o->def);
		if (HELP_COLUMN + strlen(last) + 1 + strlen(def) > HELP_WIDTH)
			printf("\n%*s%s", HELP_COLUMN, "", def);
		else
			printf(" %s", def);
	}
	printf("\n");
}

void args_help(const struct cmd *c, const char *path)
{
	char lead[PATH_LEN + 16];
	int n = opts_count(c);

	snprintf(lead, sizeof(lead), "Usage: geoblock%s%s", *path ? " " : "", path);
	print_usage(lead, c);
	printf("%c%s.\n", toupper((unsigned char)c->summary[0]), c->summary + 1);
	if (c->subs) {
		printf("\nCommands:\n");
		print_commands(c, path);
	}
	printf("\nOptions:\n");
	for (int i = 0; i <= n; i++)
		print_option(opt_at(c, i, n));
	if (c->details) {
		printf("\n");
		print_lines(c->details, 0);
		printf("\n");
	}
}
