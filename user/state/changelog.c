// SPDX-License-Identifier: GPL-2.0
/*
 * The change log: each change of the rule set appended to the state dir's rules.log before the
 * maps change, and "done" after, so that a change costs one short append whatever the number of
 * meetings; the rules file is written anew only once the log outgrows it. Concurrent changes of
 * one process share one fdatasync (group commit).
 *
 * A record is one line: "SEQ CRC BODY", CRC the CRC-32 of "SEQ BODY" in hex, BODY one of
 * "put <meeting add line>", "del NAME", "set" (a change of the whole set; "set expire AUDIT_SIZE"
 * for an expiry pass, begun when the audit log was that long: a "set" to a reader before it) or
 * "done". Numbers grow across compactions: the rules file says the last one it holds ("# through
 * change N").
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "lib/errors.h"
#include "lib/files.h"
#include "lib/parse.h"
#include "state/audit.h"
#include "state/changelog.h"
#include "state/log_records.h"
#include "state/rules_read.h"

/* The log as this process last saw it: valid while the file ends where and as it left it. */
struct log_state {
	char dir[512];
	int fd;
	off_t end;		/* end of the last whole record */
	off_t committed;	/* end of the last "done" (or of a record the rules file holds) */
	off_t intent;		/* where the change under way began (changelog_abort cuts there) */
	__u64 seq;		/* the last number given */
	size_t rules_bytes;	/* size of the rules file, for changelog_wants_compaction */
	char tail[64];		/* the end of the last record this process wrote */
	size_t tail_len;
	__u64 gen;		/* changes of the file by this process: appends and cuts */
	int write_err;		/* the log could be opened only to read (immutable, read-only fs) */
	/*
	 * The rules file as this process last saw or wrote it: a change compacting the log empties
	 * it in place, so an empty log as it was left says nothing of who wrote the rules file since.
	 */
	struct stat rules;
	/* Group commit: appends counted, and how many of them (and audit records) a sync covered. */
	__u64 written, synced, audit_synced;
	bool syncing;
};

static struct log_state L = { .fd = -1 };
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_done = PTHREAD_COND_INITIALIZER;
static __thread __u64 my_written;	/* appends of this thread: what changelog_sync waits for */

static void path_of(const struct gb_ctx *ctx, const char *file, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", ctx->state_dir, file);
}

/* The number of the last change the rules file holds (0: none, or no rules file), and its size. */
static int rules_through(const struct gb_ctx *ctx, __u64 *through, size_t *bytes)
{
	char path[512], line[128];
	unsigned long long n;
	struct stat st;
	FILE *f;

	*through = 0;
	*bytes = 0;
	path_of(ctx, GB_RULES_FILE, path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (!fstat(fileno(f), &st))
		*bytes = st.st_size;
	for (int i = 0; i < 4 && fgets(line, sizeof(line), f) && line[0] == '#'; i++)
		if (sscanf(line, "# through change %llu", &n) == 1)
			*through = n;
	fclose(f);
	return 0;
}

struct scan {
	__u64 seq, through;
	off_t committed;
};

static void scan_record(void *arg, __u64 seq, const char *body, size_t body_len, off_t end)
{
	struct scan *s = arg;

	if (!body)		/* a damaged line: seq is its line number */
		return;
	if (seq > s->seq)
		s->seq = seq;
	/* Records the rules file holds count as done. */
	if (seq <= s->through || log_body_is(body, body_len, "done"))
		s->committed = end;
}

/* The rules file's identity (inode, ctime; 0 if none): the one L noted, or one to note. */
static void rules_id(const struct gb_ctx *ctx, struct stat *st)
{
	char path[512];

	path_of(ctx, GB_RULES_FILE, path, sizeof(path));
	if (stat(path, st))
		memset(st, 0, sizeof(*st));
}

static bool still_mine(const struct gb_ctx *ctx)
{
	char tail[sizeof(L.tail)];
	struct stat st;

	if (L.fd < 0 || strcmp(L.dir, ctx->state_dir) || fstat(L.fd, &st) || st.st_size != L.end ||
	    !st.st_nlink)
		return false;
	rules_id(ctx, &st);
	if (st.st_ino != L.rules.st_ino || st.st_ctim.tv_sec != L.rules.st_ctim.tv_sec ||
	    st.st_ctim.tv_nsec != L.rules.st_ctim.tv_nsec)
		return false;
	if (!L.end)
		return true;
	return L.tail_len && L.tail_len <= (size_t)L.end &&
	       pread(L.fd, tail, L.tail_len, L.end - L.tail_len) == (ssize_t)L.tail_len &&
	       !memcmp(tail, L.tail, L.tail_len);
}

/* Opens and reads the log again unless this process wrote its end (under the lock). */
static int load(const struct gb_ctx *ctx)
{
	char path[512], *buf;
	struct scan sc = {};
	struct stat st;
	__u64 through;
	size_t len;
	int err;

	if (still_mine(ctx))
		return 0;
	/* Another state dir, the log removed, or only readable last time: opened anew. */
	if (L.fd >= 0 && (strcmp(L.dir, ctx->state_dir) || fstat(L.fd, &st) || !st.st_nlink ||
			  L.write_err)) {
		close(L.fd);
		L.fd = -1;
	}
	if (L.fd < 0) {
		path_of(ctx, GB_LOG_FILE, path, sizeof(path));
		L.write_err = 0;
		L.fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		/* Readable still: what is under way can be told, and the first write says why not. */
		if (L.fd < 0 && (errno == EPERM || errno == EACCES || errno == EROFS)) {
			L.write_err = -errno;
			L.fd = open(path, O_RDONLY | O_CLOEXEC);
		}
		if (L.fd < 0)
			return -errno;
		snprintf(L.dir, sizeof(L.dir), "%s", ctx->state_dir);
	}
	rules_id(ctx, &L.rules);
	err = rules_through(ctx, &through, &L.rules_bytes);
	if (!err)
		err = gb_read_all(L.fd, &buf, &len);
	if (err)
		return err;
	sc.seq = sc.through = through;
	/*
	 * Past a damaged line (whole records after it): appends go after those, never cutting them;
	 * the saved set is then read whole by restore alone, which says what it leaves out.
	 */
	L.end = log_walk(buf, len, 0, true, scan_record, &sc);
	/* Its end as read, so that the next command of this process need not read it again. */
	L.tail_len = (size_t)L.end < sizeof(L.tail) ? (size_t)L.end : sizeof(L.tail);
	memcpy(L.tail, buf + L.end - L.tail_len, L.tail_len);
	free(buf);
	L.committed = sc.committed;
	/* Never a number again, even one cut from the log (a waiter may count on it). */
	if (sc.seq > L.seq)
		L.seq = sc.seq;
	L.intent = L.end;
	L.gen++;
	return len == (size_t)L.end ? 0 : 1;
}

bool changelog_unchanged(const struct gb_ctx *ctx, __u64 gen)
{
	return gen == L.gen && still_mine(ctx);
}

__u64 changelog_generation(void)
{
	return L.gen;
}

int changelog_under_way(const struct gb_ctx *ctx, bool *under_way)
{
	int err = load(ctx);

	*under_way = err == 1 || (!err && L.end > L.committed);
	return err < 0 ? err : 0;
}

/*
 * Appends one record (and, for an intent, reserves the room of its "done" with it, so that a full
 * disk refuses a change before it starts, not halfway); its end recorded. A write cut short is
 * cut from the file again.
 */
static int append(const char *body, bool intent)
{
	struct stat st;
	char *line;
	int n, err = 0;
	ssize_t w;

	if (L.write_err)
		return L.write_err;
	line = log_record_line(L.seq + 1, body, &n);
	if (!line)
		return -ENOMEM;
	/* Whatever follows the last whole record (a writer killed mid-line) goes first. */
	if (fstat(L.fd, &st))
		err = -errno;
	else if (st.st_size > L.end && ftruncate(L.fd, L.end))
		err = -errno;
	if (!err && intent && fallocate(L.fd, FALLOC_FL_KEEP_SIZE, L.end, n + 64) &&
	    errno != EOPNOTSUPP)
		err = -errno;
	w = err ? 0 : write(L.fd, line, n);
	if (!err && w != n) {
		err = w < 0 ? -errno : -ENOSPC;
		if (ftruncate(L.fd, L.end))
			err = -EIO;
	}
	if (!err) {
		L.seq++;
		L.gen++;
		L.end += n;
		L.tail_len = (size_t)n < sizeof(L.tail) ? (size_t)n : sizeof(L.tail);
		memcpy(L.tail, line + n - L.tail_len, L.tail_len);
		pthread_mutex_lock(&sync_lock);
		my_written = ++L.written;
		pthread_mutex_unlock(&sync_lock);
	}
	free(line);
	return err;
}

int changelog_intent(const struct gb_ctx *ctx, const struct meeting_spec *s, const char *name)
{
	char *body = NULL, *line = NULL;
	int err = load(ctx);

	if (err < 0)
		return err;
	L.intent = L.end;
	if (s) {
		line = spec_format(s, false);
		/* spec_format writes "meeting add ...": the log keeps the line as is. */
		if (!line || asprintf(&body, "put %s", line) < 0)
			body = NULL;
	} else if (name) {
		if (asprintf(&body, "del %s", name) < 0)
			body = NULL;
	} else {
		body = strdup("set");
	}
	err = body ? append(body, true) : -ENOMEM;
	free(line);
	free(body);
	return err;
}

int changelog_intent_expiry(const struct gb_ctx *ctx, long long audit_size)
{
	char body[48];
	int err = load(ctx);

	if (err < 0)
		return err;
	L.intent = L.end;
	snprintf(body, sizeof(body), "set expire %lld", audit_size);
	err = append(body, true);
	/* Durable before the pass's first audit record, or taken out again. */
	if (!err && (err = changelog_sync(ctx)))
		changelog_abort(ctx);
	return err;
}

static void find_expiry(void *arg, __u64 seq, const char *body, size_t body_len, off_t end)
{
	char *stop;
	long long n;

	(void)seq;
	(void)end;
	/* The body ends in its line's newline, where strtoll stops: the number must fill it. */
	if (body_len <= 11 || memcmp(body, "set expire ", 11) || !isdigit((unsigned char)body[11]))
		return;
	n = strtoll(body + 11, &stop, 10);
	if (stop == body + body_len)
		*(long long *)arg = n;
}

int changelog_expiry_under_way(const struct gb_ctx *ctx, long long *audit_size)
{
	char *buf;
	size_t len;
	int err = load(ctx);

	*audit_size = -1;
	if (err < 0 || L.end <= L.committed)
		return err < 0 ? err : 0;
	/* What follows the last "done": the change under way. */
	err = gb_read_from(L.fd, L.committed, &buf, &len);
	if (err)
		return err;
	log_walk(buf, len, 0, false, find_expiry, audit_size);
	free(buf);
	return *audit_size >= 0;
}

int changelog_done(const struct gb_ctx *ctx)
{
	int err = load(ctx);

	if (err < 0)
		return err;
	err = append("done", false);
	if (!err)
		L.committed = L.end;
	return err;
}

/* Cuts the log back to off (no space needed); the change under way is gone. */
static int cut(off_t off)
{
	if (L.write_err)
		return L.write_err;
	if (ftruncate(L.fd, off))
		return -errno;
	L.gen++;
	L.end = off;
	L.committed = off;
	L.intent = off;
	L.tail_len = 0;
	return 0;
}

int changelog_abort(const struct gb_ctx *ctx)
{
	if (L.fd < 0 || strcmp(L.dir, ctx->state_dir))
		return -EBADF;
	return cut(L.intent);
}

int changelog_recovered(const struct gb_ctx *ctx)
{
	int err = load(ctx);

	return err < 0 ? err : cut(L.committed);
}

int changelog_sync(const struct gb_ctx *ctx)
{
	__u64 want = my_written, audit_want, target, audit_target;
	int err = 0, fd;

	audit_written(&audit_want);
	pthread_mutex_lock(&sync_lock);
	while ((L.synced < want || L.audit_synced < audit_want) && !err) {
		if (L.syncing) {
			pthread_cond_wait(&sync_done, &sync_lock);
			continue;
		}
		L.syncing = true;
		target = L.written;
		audit_target = audit_written(NULL);
		fd = L.fd >= 0 ? dup(L.fd) : -2;	/* -2: no log open (audit records only) */
		pthread_mutex_unlock(&sync_lock);
		/* Every append so far, this thread's and the others', in one go; then the audit log. */
		if (fd == -1 || (fd >= 0 && fdatasync(fd)))
			err = -errno;
		if (fd >= 0)
			close(fd);
		if (!err)
			err = audit_sync(ctx);
		pthread_mutex_lock(&sync_lock);
		L.syncing = false;
		if (!err && target > L.synced)
			L.synced = target;
		if (!err && audit_target > L.audit_synced)
			L.audit_synced = audit_target;
		pthread_cond_broadcast(&sync_done);
	}
	pthread_mutex_unlock(&sync_lock);
	return err;
}

bool changelog_wants_compaction(const struct gb_ctx *ctx)
{
	(void)ctx;
	/* Rewriting the rules file costs its size: done once the log is as big, it costs each
	 * change a bounded share, whatever the number of meetings. */
	return L.fd >= 0 && (size_t)L.end > (L.rules_bytes > 65536 ? L.rules_bytes : 65536);
}

int changelog_last_seq(const struct gb_ctx *ctx, __u64 *seq)
{
	int err = load(ctx);

	*seq = L.seq;
	return err < 0 ? err : 0;
}

int changelog_compacted(const struct gb_ctx *ctx, __u64 seq, size_t rules_bytes)
{
	int err = load(ctx);

	if (err < 0)
		return err;
	(void)seq;
	L.rules_bytes = rules_bytes;
	/* Written by this process (rules_save, under the lock): its own. */
	rules_id(ctx, &L.rules);
	return cut(0);
}

bool changelog_saved_any(const struct gb_ctx *ctx)
{
	char path[512];
	struct stat st;

	path_of(ctx, GB_RULES_FILE, path, sizeof(path));
	if (!access(path, F_OK))
		return true;
	path_of(ctx, GB_LOG_FILE, path, sizeof(path));
	return !stat(path, &st) && st.st_size > 0;
}

/* Replaying the log onto the rules file's set. */
struct replay {
	struct spec_list *l;
	struct meeting_spec pending;	/* the last put, until its "done" */
	char pending_del[GB_MEETING_NAME_LEN];
	__u64 pending_seq;
	enum { NONE, PUT, DEL } kind;
	__s64 now;
	int err;
	char *msg;
	size_t msglen;
	struct salvage *sv;	/* a record it cannot take is left out, said through sv */
	const char *path;
	size_t puts;		/* meetings put by the changes committed */
};

static void forget_pending(struct replay *rp)
{
	if (rp->kind == PUT)
		spec_free(&rp->pending);
	rp->kind = NONE;
}

/* Makes the pending change part of the set. */
static int commit(struct replay *rp)
{
	ssize_t i;

	if (rp->kind == DEL) {
		i = spec_list_find(rp->l, rp->pending_del);
		if (i >= 0)
			spec_list_remove(rp->l, i);
	} else if (rp->kind == PUT) {
		i = spec_list_find(rp->l, rp->pending.name);
		if (i >= 0) {
			spec_free(&rp->l->v[i]);
			rp->l->v[i] = rp->pending;
		} else if (spec_list_push(rp->l, &rp->pending)) {
			spec_free(&rp->pending);
			return -ENOMEM;
		}
		rp->puts++;
	}
	rp->kind = NONE;
	return 0;
}

static void replay_record(void *arg, __u64 seq, const char *body, size_t body_len, off_t end)
{
	struct replay *rp = arg;
	char *text = NULL, msg[320];
	int err = 0;

	(void)end;
	if (rp->err)
		return;
	if (!body) {
		/* What it was is unknown: the change waiting for its "done", if any, goes with it. */
		snprintf(rp->msg, rp->msglen, "line %llu: damaged (its CRC does not match, and whole "
			 "records follow it)", (unsigned long long)seq);
		if (rp->kind != NONE)
			snprintf(rp->msg + strlen(rp->msg), rp->msglen - strlen(rp->msg), "; change "
				 "%llu before it (meeting \"%s\"), whose \"done\" it may have been, "
				 "goes with it", (unsigned long long)rp->pending_seq,
				 rp->kind == PUT ? rp->pending.name : rp->pending_del);
		forget_pending(rp);
		err = -EINVAL;
		goto out;
	}
	text = strndup(body, body_len);
	if (!text) {
		rp->err = -ENOMEM;
		return;
	}
	if (log_body_is(text, body_len, "done")) {
		err = commit(rp);
	} else if (log_body_is(text, body_len, "put")) {
		forget_pending(rp);
		err = spec_parse_line(text + 4, rp->now, SPEC_PAST_OK, &rp->pending, msg,
				      sizeof(msg));
		if (!err) {
			rp->kind = PUT;
			rp->pending_seq = seq;
		}
		else
			snprintf(rp->msg, rp->msglen, "change %llu: %s", (unsigned long long)seq,
				 err == 1 ? "no meeting" : msg);
		err = err ? -EINVAL : 0;
	} else if (log_body_is(text, body_len, "del") && body_len > 4 &&
		   body_len - 4 < GB_MEETING_NAME_LEN) {
		forget_pending(rp);
		snprintf(rp->pending_del, sizeof(rp->pending_del), "%s", text + 4);
		rp->kind = DEL;
		rp->pending_seq = seq;
	} else if (log_body_is(text, body_len, "set")) {
		forget_pending(rp);
	} else {
		snprintf(rp->msg, rp->msglen, "change %llu: unknown record", (unsigned long long)seq);
		err = -EINVAL;
	}
out:
	if (err == -EINVAL)
		snprintf(rp->msg + strlen(rp->msg), rp->msglen - strlen(rp->msg), " (in %s)", rp->path);
	if (err == -EINVAL && rp->sv) {
		salvage_left_out(rp->sv, rp->msg);
		err = *rp->msg = 0;
	}
	rp->err = err;
	free(text);
}

int changelog_read(const struct gb_ctx *ctx, struct salvage *sv, struct spec_list *want, char *err,
		   size_t errlen)
{
	char path[512], rules[512], head[32], *buf = NULL;
	struct replay rp = { .l = want, .now = time(NULL), .msg = err, .msglen = errlen, .sv = sv,
			     .path = path };
	__u64 through;
	size_t len = 0, bytes;
	int ret, fd;

	memset(want, 0, sizeof(*want));
	ret = rules_through(ctx, &through, &bytes);
	path_of(ctx, GB_RULES_FILE, path, sizeof(path));
	/* geoblock writes its header first: without it the file was emptied or cut short. */
	if (!ret && sv && !gb_read_first_line(path, head, sizeof(head)) &&
	    strncmp(head, "# geoblock rules", 16)) {
		snprintf(err, errlen, "%s line 1: not the header geoblock writes (emptied or cut "
			 "short?)", path);
		salvage_left_out(sv, err);
		*err = '\0';
	}
	if (!ret && !access(path, F_OK))
		ret = rules_file_read(path, rp.now, SPEC_PAST_OK | SPEC_OWN_FILE, sv, want, err,
				      errlen);
	else if (ret)
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
	if (ret)
		return ret;
	snprintf(rules, sizeof(rules), "%s", path);
	path_of(ctx, GB_LOG_FILE, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		ret = -errno;
	if (fd >= 0) {
		ret = gb_read_all(fd, &buf, &len);
		close(fd);
	}
	if (!ret && buf)
		log_walk(buf, len, through, true, replay_record, &rp);
	free(buf);
	forget_pending(&rp);
	if (ret)
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-ret));
	ret = ret ? ret : rp.err;
	/*
	 * The rules file's set was checked as it was read; what a logged change put is checked
	 * with it (one edited by hand). A delete adds no clash.
	 */
	if (!ret && rp.puts && spec_list_check(want, err, errlen)) {
		if (sv) {
			*err = '\0';
			ret = spec_list_salvage(want, rules, path, sv, err, errlen);
		} else {
			snprintf(err + strlen(err), errlen - strlen(err), " (%s with the changes logged "
				 "in %s)", rules, path);
			ret = -EINVAL;
		}
	}
	if (ret)
		spec_list_free(want);
	return ret;
}
