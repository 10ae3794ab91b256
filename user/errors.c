// SPDX-License-Identifier: GPL-2.0
/* One-line error and warning messages, prefixed with the command that failed. */
#include <stdarg.h>
#include <stdio.h>
#include "common.h"

/* Set once by the dispatcher before a command runs; read only to prefix messages. */
static const char *command_name = "";

void gb_set_command(const char *name)
{
	command_name = name;
}

static void vmessage(const char *kind, const char *fmt, va_list ap)
{
	fprintf(stderr, "geoblock: %s%s%s", command_name, *command_name ? ": " : "", kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
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
