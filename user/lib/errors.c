// SPDX-License-Identifier: GPL-2.0
/* One-line error and warning messages, prefixed with the command that failed. */
#include <errno.h>
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

/*
 * Control bytes as \xNN: a message is one line, whatever it names (a path, an interface or a
 * value given with a newline or an escape sequence in it); UTF-8 text stays as it is.
 */
static void escape_controls(const char *in, char *out, size_t len)
{
	size_t at = 0;

	for (; *in && at + 5 <= len; in++) {
		unsigned char c = *in;

		if (c < 0x20 || c == 0x7f)
			at += snprintf(out + at, len - at, "\\x%02x", c);
		else
			out[at++] = c;
	}
	out[at] = '\0';
}

/*
 * errno is kept: callers say why, then return -errno, and a write to a stderr that fails (a pipe
 * whose reader is gone: EPIPE) must not stand in for the error they report.
 */
static void vmessage(const char *kind, const char *fmt, va_list ap)
{
	char raw[sizeof(last_error)], msg[sizeof(last_error)];
	int saved = errno;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	escape_controls(raw, msg, sizeof(msg));
	fprintf(stderr, "geoblock: %s%s%s%s\n", command_name, *command_name ? ": " : "", kind, msg);
	if (!*kind)
		snprintf(last_error, sizeof(last_error), "%s", msg);
	errno = saved;
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
