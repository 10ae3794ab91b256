// SPDX-License-Identifier: GPL-2.0
/* The audit log: one JSON line per change, appended to the state dir's audit.log before returning. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "common.h"
#include "meeting.h"

#define AUDIT_FILE "audit.log"

/* This process's command line after the program name, words with blanks or quotes quoted. */
static char *command_line(void)
{
	char buf[16384], *out = NULL;
	size_t len = 0;
	ssize_t n = 0;
	FILE *f;
	int fd;

	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	/* Skip argv[0]: the words that follow are the command. */
	for (char *w = buf + strlen(buf) + 1; w < buf + n; w += strlen(w) + 1) {
		bool quote = !*w || strpbrk(w, " \t\n'\"\\");

		if (w != buf + strlen(buf) + 1)
			fputc(' ', f);
		if (!quote) {
			fputs(w, f);
			continue;
		}
		fputc('\'', f);
		for (char *c = w; *c; c++) {
			if (*c == '\'')
				fputs("'\\''", f);
			else
				fputc(*c, f);
		}
		fputc('\'', f);
	}
	fclose(f);
	return out;
}

/* audit_log without its error message. */
static int append_record(const struct gb_ctx *ctx, const char *command, const char *reason,
			 const char *result, struct json_object *changes)
{
	struct json_object *o = json_object_new_object();
	const char *sudo_user = getenv("SUDO_USER");
	char when[64], path[512], *cmdline = NULL, *rec = NULL;
	struct stat before, after;
	struct timespec now;
	ssize_t w;
	struct tm tm;
	int fd, err = 0;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ldZ", now.tv_nsec / 1000000);
	if (!command)
		command = cmdline = command_line();
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "uid", json_object_new_int64(getuid()));
	json_object_object_add(o, "sudo_user", sudo_user && *sudo_user ?
				json_object_new_string(sudo_user) : NULL);
	json_object_object_add(o, "command", json_object_new_string(command ? command : ""));
	json_object_object_add(o, "reason", reason && *reason ? json_object_new_string(reason) : NULL);
	json_object_object_add(o, "result", json_object_new_string(result));
	if (changes)
		json_object_object_add(o, "changes", changes);
	if (asprintf(&rec, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					JSON_C_TO_STRING_NOSLASHESCAPE)) < 0) {
		rec = NULL;
		err = -ENOMEM;
		goto out;
	}
	len = strlen(rec);

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, AUDIT_FILE);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* One write of the whole line: O_APPEND keeps records whole even without the lock. */
	if (fstat(fd, &before)) {
		err = -errno;
	} else if ((w = write(fd, rec, len)) < 0) {
		err = -errno;
	} else if ((size_t)w != len) {
		/*
		 * A part of the line (a full disk): cut it off, so that the log stays one JSON
		 * object per line, unless another record was appended behind it meanwhile.
		 */
		if (!fstat(fd, &after) && after.st_size == before.st_size + w)
			(void)!ftruncate(fd, before.st_size);
		err = -ENOSPC;
	}
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
out:
	json_object_put(o);
	free(cmdline);
	free(rec);
	return err;
}

int audit_log(const struct gb_ctx *ctx, const char *command, const char *reason, const char *result,
	      struct json_object *changes)
{
	int err = append_record(ctx, command, reason, result, changes);

	if (err)
		gb_err("cannot append to the audit log %s/%s: %s", ctx->state_dir, AUDIT_FILE,
		       strerror(-err));
	return err;
}

int audit_result(const struct gb_ctx *ctx, const char *reason, int ret, struct json_object *changes)
{
	char result[400];
	int err;

	if (ret)
		snprintf(result, sizeof(result), "failed: %s", gb_last_error());
	err = append_record(ctx, NULL, reason, ret ? result : "ok", changes);
	/* After a change that was made, say so: only its record is missing. */
	if (err)
		gb_err("%scannot append to the audit log %s/%s: %s", ret ? "" :
		       "done, but not audited: ", ctx->state_dir, AUDIT_FILE, strerror(-err));
	return err;
}
