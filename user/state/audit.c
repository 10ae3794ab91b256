// SPDX-License-Identifier: GPL-2.0
/* The audit log: one JSON line per change, appended to the state dir's audit.log before returning. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "lib/parse.h"
#include "kern/pins.h"
#include "state/audit.h"
#include "state/janus_event.h"	/* janus_get_str: any JSON object's string field */

/* Records this process wrote, and the number of this thread's last (for changelog_sync). */
static __u64 records;
static __thread __u64 my_record;

__u64 audit_written(__u64 *mine)
{
	if (mine)
		*mine = my_record;
	return __atomic_load_n(&records, __ATOMIC_SEQ_CST);
}

static void audit_path(const struct gb_ctx *ctx, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", ctx->state_dir, AUDIT_FILE);
}

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

/* A record's common fields, time first. */
static struct json_object *new_record(const struct audit_caller *who, const char *command,
				      const char *reason, const char *result)
{
	struct json_object *o = json_object_new_object();
	const char *sudo_user = getenv("SUDO_USER");
	struct timespec now;
	char when[64];
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(when, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ldZ", now.tv_nsec / 1000000);
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "uid", json_object_new_int64(who ? who->uid : (long)getuid()));
	if (who)
		json_object_object_add(o, "pid", json_object_new_int64(who->pid));
	if (who && who->source) {
		json_object_object_add(o, "source", json_object_new_string(who->source));
		json_object_object_add(o, "revision", json_object_new_int64(who->revision));
	}
	/* The daemon's own environment says nothing about an API caller. */
	json_object_object_add(o, "sudo_user", !who && sudo_user && *sudo_user ?
				json_object_new_string(sudo_user) : NULL);
	if (who)
		command = who->command;
	json_object_object_add(o, "command", json_object_new_string(command ? command : ""));
	json_object_object_add(o, "reason", reason && *reason ? json_object_new_string(reason) : NULL);
	json_object_object_add(o, "result", json_object_new_string(result));
	return o;
}

/*
 * o as one line of text (malloc'd), or NULL; a byte that is not UTF-8 (a command line's argument,
 * say) as U+FFFD, so that every line stays JSON for any reader.
 */
static char *record_line(struct json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	char *clean = s ? gb_utf8_clean(s) : NULL, *line;
	size_t len;

	if (!clean)
		return NULL;
	len = strlen(clean);
	line = realloc(clean, len + 2);
	if (!line) {
		free(clean);
		return NULL;
	}
	memcpy(line + len, "\n", 2);
	return line;
}

/* Appends buf in one write; a part written (a full disk) is cut off again: -ENOSPC. */
static int append_whole(int fd, const char *buf, size_t len)
{
	struct stat before, after;
	ssize_t w;

	if (fstat(fd, &before))
		return -errno;
	w = write(fd, buf, len);
	if (w < 0)
		return -errno;
	if ((size_t)w != len) {
		/* The part is cut off, unless another record was appended behind it meanwhile. */
		if (!fstat(fd, &after) && after.st_size == before.st_size + w)
			(void)!ftruncate(fd, before.st_size);
		return -ENOSPC;
	}
	return 0;
}

/* The length of buf[0..len) without a UTF-8 sequence cut off at its end. */
static size_t utf8_whole(const unsigned char *buf, size_t len)
{
	size_t i = len, need;

	/* Back over up to 3 continuation bytes to the byte that starts the last sequence. */
	while (i > 0 && len - i < 3 && (buf[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || buf[i - 1] < 0xc0)
		return len;	/* ends in ASCII, or no lead byte: nothing to cut */
	need = buf[i - 1] >= 0xf0 ? 4 : buf[i - 1] >= 0xe0 ? 3 : 2;
	return len - (i - 1) >= need ? len : i - 1;
}

/*
 * A record cut short: its writer was killed inside the write (the kernel stops a write of more
 * than a page at SIGKILL), and the log ends in a part of a line. Every writer holds the state
 * dir's lock, so nobody is writing that part now. It is replaced by a whole record that carries
 * its text in "torn", so that the log stays one JSON object per line and keeps what was written.
 * 1 if it did, 0 if the log ends in a whole line. If that record does not fit (a full disk),
 * the part is put back as it was: -ENOSPC.
 */
static int repair_tail(int fd)
{
	char last, chunk[4096], *part = NULL, *rec = NULL;
	off_t size, start;
	struct json_object *o;
	struct stat st;
	ssize_t n;
	int err;

	if (fstat(fd, &st))
		return -errno;
	size = st.st_size;
	if (!size)
		return 0;
	if (pread(fd, &last, 1, size - 1) != 1)
		return -EIO;
	if (last == '\n')
		return 0;
	/* The part starts behind the last newline, or at the start of the file. */
	for (start = size - 1; start > 0;) {
		off_t from = start > (off_t)sizeof(chunk) ? start - (off_t)sizeof(chunk) : 0;
		const char *nl;

		n = pread(fd, chunk, start - from, from);
		if (n != start - from)
			return n < 0 ? -errno : -EIO;
		nl = memrchr(chunk, '\n', n);
		if (nl) {
			start = from + (nl - chunk) + 1;
			break;
		}
		start = from;
	}
	part = malloc(size - start);
	if (!part)
		return -ENOMEM;
	n = pread(fd, part, size - start, start);
	if (n != size - start) {
		err = n < 0 ? -errno : -EIO;
		goto out;
	}
	o = new_record(NULL, "torn-record", "a record cut short (its writer was killed in mid-write); "
		       "\"torn\" holds the part that was written", "ok");
	json_object_object_add(o, "torn", json_object_new_string_len(part,
			       utf8_whole((unsigned char *)part, n)));
	rec = record_line(o);
	json_object_put(o);
	if (!rec) {
		err = -ENOMEM;
		goto out;
	}
	if (ftruncate(fd, start)) {
		err = -errno;
		goto out;
	}
	err = append_whole(fd, rec, strlen(rec));
	if (err)
		(void)!write(fd, part, n);
	else
		err = 1;
out:
	free(part);
	free(rec);
	return err;
}

int audit_repair(const struct gb_ctx *ctx)
{
	char path[512];
	int fd, err;

	audit_path(ctx, path, sizeof(path));
	fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	err = repair_tail(fd);
	if (err > 0 && fsync(fd))
		err = -errno;
	close(fd);
	return err < 0 ? err : 0;
}

int audit_sync(const struct gb_ctx *ctx)
{
	char path[512];
	int fd, err = 0;

	audit_path(ctx, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fdatasync(fd))
		err = -errno;
	close(fd);
	return err;
}

/* audit_log without its error message; sync: the record made durable before returning. */
static int append_record(const struct gb_ctx *ctx, const struct audit_caller *who,
			 const char *command, const char *meeting, const char *reason,
			 const char *result, struct json_object *changes, bool sync)
{
	char path[512], *cmdline = NULL, *rec = NULL;
	struct json_object *o;
	int fd, err = 0;

	if (!command && !who)
		command = cmdline = command_line();
	o = new_record(who, command, reason, result);
	if (meeting)
		json_object_object_add(o, "meeting", json_object_new_string(meeting));
	if (changes)
		json_object_object_add(o, "changes", changes);
	rec = record_line(o);
	if (!rec) {
		err = -ENOMEM;
		goto out;
	}
	audit_path(ctx, path, sizeof(path));
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	/* A record cut short before this one is put right first; then this one in one write. */
	err = repair_tail(fd);
	if (err >= 0)
		err = append_whole(fd, rec, strlen(rec));
	if (!err)
		my_record = __atomic_add_fetch(&records, 1, __ATOMIC_SEQ_CST);
	if (!err && sync && fsync(fd))
		err = -errno;
	close(fd);
out:
	json_object_put(o);
	free(cmdline);
	free(rec);
	return err;
}

/* err of an append, said in one line. */
static int said(const struct gb_ctx *ctx, int err)
{
	if (err)
		gb_err("cannot append to the audit log %s/%s: %s", ctx->state_dir, AUDIT_FILE,
		       strerror(-err));
	return err;
}

int audit_log(const struct gb_ctx *ctx, const char *command, const char *reason, const char *result,
	      struct json_object *changes)
{
	return said(ctx, append_record(ctx, NULL, command, NULL, reason, result, changes, true));
}

int audit_expiry(const struct gb_ctx *ctx, const char *meeting, const char *reason, bool ok,
		 struct json_object *changes)
{
	return said(ctx, append_record(ctx, NULL, "expire", meeting, reason, ok ? "ok" : "failed",
				       changes, true));
}

int audit_size(const struct gb_ctx *ctx, long long *size)
{
	char path[512];
	struct stat st;

	audit_path(ctx, path, sizeof(path));
	*size = 0;
	if (stat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	*size = st.st_size;
	return 0;
}

/* Adds the meeting of line (one record) to names if it is an expiry that was carried out. */
static void add_expired(const char *line, struct json_object *names)
{
	struct json_object *o = json_tokener_parse(line);
	const char *meeting = janus_get_str(o, "meeting"), *command = janus_get_str(o, "command");
	const char *result = janus_get_str(o, "result");

	if (meeting && command && result && !strcmp(command, "expire") && !strcmp(result, "ok"))
		json_object_array_add(names, json_object_new_string(meeting));
	json_object_put(o);
}

int audit_expired_since(const struct gb_ctx *ctx, long long from, struct json_object *names)
{
	char path[512], *buf = NULL;
	size_t len = 0;
	int fd, err;

	audit_path(ctx, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	/* A log cut or rotated since holds none of them (no expiry runs before the recovery). */
	err = gb_read_from(fd, from, &buf, &len);
	close(fd);
	for (size_t pos = 0; !err && pos < len;) {
		char *nl = memchr(buf + pos, '\n', len - pos);

		/* A last line cut short is no record (audit_repair keeps it as "torn"). */
		if (!nl)
			break;
		*nl = '\0';
		add_expired(buf + pos, names);
		pos = nl - buf + 1;
	}
	free(buf);
	return err;
}

/* The record of a finished command (see audit_result), synced or not. */
static int result_record(const struct gb_ctx *ctx, const struct audit_caller *who,
			 const char *reason, int ret, struct json_object *changes, bool sync)
{
	char result[400];
	int err;

	if (ret)
		snprintf(result, sizeof(result), "failed: %s", gb_last_error());
	err = append_record(ctx, who, NULL, NULL, reason, ret ? result : "ok", changes, sync);
	/* After a change that was made, say so: only its record is missing. */
	if (err)
		gb_err("%scannot append to the audit log %s/%s: %s", ret ? "" :
		       "done, but not audited: ", ctx->state_dir, AUDIT_FILE, strerror(-err));
	return err;
}

int audit_result(const struct gb_ctx *ctx, const char *reason, int ret, struct json_object *changes)
{
	return result_record(ctx, NULL, reason, ret, changes, true);
}

int audit_result_by(const struct gb_ctx *ctx, const struct audit_caller *who, const char *reason,
		    int ret, struct json_object *changes)
{
	return result_record(ctx, who, reason, ret, changes, false);
}
