// SPDX-License-Identifier: GPL-2.0
/* One-line error and warning messages, prefixed with the command that failed. */
#include <stdarg.h>
#include <stdio.h>
#include "lib/errors.h"

/* Set once by the dispatcher before a command runs; read only to prefix messages. */
static const char *command_name = "";
/* The last error message, for the audit log's record of a failed change. */
/* Per thread: the daemon serves API requests in several threads besides its expiry pass. */
static __thread char last_error[1024];

/* -v: how much of libbpf's log to show (0: none). */
static int verbosity;

void gb_set_verbosity(int level)
{
	verbosity = level;
}

int gb_verbosity(void)
{
	return verbosity;
}

void gb_set_command(const char *name)
{
	command_name = name;
}

static void vmessage(const char *kind, const char *fmt, va_list ap)
{
	char msg[sizeof(last_error)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "geoblock: %s%s%s%s\n", command_name, *command_name ? ": " : "", kind, msg);
	if (!*kind)
		snprintf(last_error, sizeof(last_error), "%s", msg);
}

const char *gb_last_error(void)
{
	return last_error;
}

void gb_clear_error(void)
{
	*last_error = '\0';
}

void gb_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
}

void gb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap);
	va_end(ap);
}
