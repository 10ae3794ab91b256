// SPDX-License-Identifier: GPL-2.0
/*
 * Reads GeoIP inputs into one table: tells each file's format from its content (gzip or not; a tar
 * archive, a MaxMind DB or CSV ranges inside), hands it to its reader, and combines several files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/country.h"
#include "geoip/csv.h"
#include "geoip/geoip.h"
#include "geoip/input.h"
#include "geoip/mmdb.h"
#include "geoip/prefix.h"
#include "geoip/tar.h"

/* libmaxminddb looks for its metadata marker in the last 128 KiB of a file, and so do we. */
#define MMDB_MARKER		"\xAB\xCD\xEFMaxMind.com"
#define MMDB_MARKER_WINDOW	(128 * 1024)

static bool has_mmdb_marker(int fd)
{
	static _Thread_local char buf[MMDB_MARKER_WINDOW];
	struct stat st;
	off_t off;
	ssize_t n;

	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(MMDB_MARKER) - 1)
		return false;
	off = st.st_size > MMDB_MARKER_WINDOW ? st.st_size - MMDB_MARKER_WINDOW : 0;
	n = pread(fd, buf, sizeof(buf), off);
	return n > 0 && memmem(buf, n, MMDB_MARKER, sizeof(MMDB_MARKER) - 1);
}

/* CSV is text: no control characters but tabs and line ends (UTF-8 passes). */
static bool looks_like_text(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') || p[i] == 0x7f)
			return false;
	return true;
}

static int read_mmdb_fd(int fd, const char *name, const char *field, struct geoip_table *t,
			char *err, size_t errlen)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return mmdb_read(path, name, field, t, err, errlen);
}

/* One file, whatever its format; messages name it. */
static int read_one(const char *path, const char *field, struct geoip_table *t, char *err,
		    size_t errlen)
{
	struct input in = { .err = err, .errlen = errlen };
	char member[256], name[512], inner[256] = "";
	int fd, gzfd, mfd, ret;
	bool compressed;
	struct stat st;

	memset(t, 0, sizeof(*t));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a readable MaxMind DB, tar.gz or CSV file: it is a "
			 "directory", path);
		close(fd);
		return -EISDIR;
	}
	gzfd = dup(fd);
	in.gz = gzfd < 0 ? NULL : gzdopen(gzfd, "rb");
	if (!in.gz) {
		if (gzfd >= 0)
			close(gzfd);
		close(fd);
		snprintf(err, errlen, "cannot start the gzip decoder");
		return -ENOMEM;
	}
	gzbuffer(in.gz, 1 << 17);
	in.err = inner;
	in.errlen = sizeof(inner);
	ret = input_fill_head(&in);
	compressed = !gzdirect(in.gz);
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, inner);
	} else if (in.head_len == 0) {
		snprintf(err, errlen, "%s is not a readable MaxMind DB, tar.gz or CSV file: it is empty",
			 path);
		ret = -EINVAL;
	} else if (in.head_len >= 263 && !memcmp(in.head + 257, "ustar", 5)) {
		mfd = tar_extract_mmdb(&in, member, sizeof(member));
		if (mfd < 0) {
			snprintf(err, errlen, "%s: %s", path, inner);
			ret = mfd;
		} else {
			snprintf(name, sizeof(name), "%s (%s)", path, member);
			ret = read_mmdb_fd(mfd, name, field, t, err, errlen);
			close(mfd);
		}
	} else if (!compressed && has_mmdb_marker(fd)) {
		/*
		 * A copy, not the file: libmaxminddb maps what it opens, and touching a mapping
		 * of a file truncated meanwhile (rewritten in place while --watch reloads it) is
		 * SIGBUS. Read through our fd: the file copied is the one whose content was
		 * checked.
		 */
		mfd = input_to_memfd(&in, INPUT_ALL);
		if (mfd < 0) {
			snprintf(err, errlen, "%s: %s", path, inner);
			ret = mfd;
		} else {
			ret = read_mmdb_fd(mfd, path, field, t, err, errlen);
			close(mfd);
		}
	} else if (looks_like_text(in.head, in.head_len)) {
		if (strcmp(field, "country")) {
			snprintf(err, errlen, "%s holds CSV ranges: --field %s applies to MaxMind DB files "
				 "only", path, field);
			ret = -EINVAL;
		} else {
			ret = csv_read(&in, t);
			if (ret)
				snprintf(err, errlen, "%s: %s", path, inner);
		}
	} else if (compressed) {
		mfd = input_to_memfd(&in, INPUT_ALL);
		if (mfd < 0) {
			snprintf(err, errlen, "%s: %s", path, inner);
			ret = mfd;
		} else {
			if (has_mmdb_marker(mfd)) {
				ret = read_mmdb_fd(mfd, path, field, t, err, errlen);
			} else {
				snprintf(err, errlen, "%s is not a readable MaxMind DB, tar.gz or CSV file: "
					 "gzip of binary data without MaxMind DB metadata", path);
				ret = -EINVAL;
			}
			close(mfd);
		}
	} else {
		snprintf(err, errlen, "%s is not a readable MaxMind DB, tar.gz or CSV file: binary data "
			 "without MaxMind DB metadata", path);
		ret = -EINVAL;
	}
	gzclose(in.gz);
	close(fd);
	if (ret)
		geoip_table_free(t);
	return ret;
}

static void format_prefix(const struct prefix *p, int family, char *out, size_t outlen)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(family == 4 ? AF_INET : AF_INET6, p->addr, buf, sizeof(buf));
	snprintf(out, outlen, "%s/%u", buf, p->len);
}

static void format_country(__u16 country, char out[16])
{
	if (country == GB_COUNTRY_V4_ALIAS)
		snprintf(out, 16, "IPv4 alias");
	else
		country_code(country, out);
}

/* Combines the tables read from several files into t; overlaps must agree on the country. */
static int combine(char *const *paths, struct geoip_table *in, int n, struct geoip_table *t,
		   char *err, size_t errlen)
{
	for (int fam = 0; fam < 2; fam++) {
		struct prefix_list *lists = calloc(n, sizeof(*lists)), *out = fam ? &t->v6 : &t->v4;
		struct prefix_conflict c;
		int filled = 0, last = 0, ret;

		if (!lists) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		for (int i = 0; i < n; i++) {
			lists[i] = fam ? in[i].v6 : in[i].v4;
			if (lists[i].n) {
				filled++;
				last = i;
			}
		}
		if (filled <= 1) {
			/* Nothing to merge: take the one list as it is. */
			*out = lists[last];
			memset(fam ? &in[last].v6 : &in[last].v4, 0, sizeof(*out));
			for (int i = 0; i < n; i++)
				if (i != last)
					out->added += lists[i].added;
			free(lists);
			continue;
		}
		ret = prefix_list_union(out, fam ? 6 : 4, lists, n, &c);
		free(lists);
		if (ret == -EEXIST) {
			char a[64], b[64], ca[16], cb[16];

			format_prefix(&c.a, fam ? 6 : 4, a, sizeof(a));
			format_prefix(&c.b, fam ? 6 : 4, b, sizeof(b));
			format_country(c.a.country, ca);
			format_country(c.b.country, cb);
			snprintf(err, errlen, "%s and %s disagree: %s is %s in the first, %s is %s in the "
				 "second", paths[c.list_a], paths[c.list_b], a, ca, b, cb);
		} else if (ret == -E2BIG) {
			size_t len = 0;

			for (int i = 0; i < n && len < errlen; i++)
				len += snprintf(err + len, errlen - len, "%s%s", i ? ", " : "",
						paths[i]);
			if (len < errlen)
				snprintf(err + len, errlen - len, ": together more than %zu IPv%d "
					 "networks, the most a table holds",
					 prefix_list_max(fam ? 6 : 4), fam ? 6 : 4);
		} else if (ret) {
			snprintf(err, errlen, "cannot combine the files: %s", strerror(-ret));
		}
		if (ret)
			return ret;
		for (int i = 0; i < n; i++)
			prefix_list_free(fam ? &in[i].v6 : &in[i].v4);
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(t->database_type);

		if (in[i].build_epoch > t->build_epoch)
			t->build_epoch = in[i].build_epoch;
		if (!strstr(t->database_type, in[i].database_type))
			snprintf(t->database_type + len, sizeof(t->database_type) - len, "%s%s",
				 len ? "+" : "", in[i].database_type);
	}
	return 0;
}

/* One file of several, read in a thread of its own. */
struct read_job {
	const char *path, *field;
	struct geoip_table t;
	char err[1024];
	int ret;
	pthread_t thread;
	bool started;
};

static void *read_job(void *arg)
{
	struct read_job *j = arg;

	j->ret = read_one(j->path, j->field, &j->t, j->err, sizeof(j->err));
	return NULL;
}

int geoip_read_files(char *const *paths, int n, const char *field, struct geoip_table *t,
		     char *err, size_t errlen)
{
	struct geoip_table *in;
	struct read_job *jobs;
	int ret = 0, i;

	memset(t, 0, sizeof(*t));
	if (n == 1)
		return read_one(paths[0], field, t, err, errlen);
	in = calloc(n, sizeof(*in));
	jobs = calloc(n, sizeof(*jobs));
	if (!in || !jobs) {
		free(in);
		free(jobs);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* The files are independent until combined: each in a thread (the first in this one). */
	for (i = 0; i < n; i++) {
		jobs[i].path = paths[i];
		jobs[i].field = field;
		if (i)
			jobs[i].started = !pthread_create(&jobs[i].thread, NULL, read_job, &jobs[i]);
	}
	for (i = 0; i < n; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		else
			read_job(&jobs[i]);
		in[i] = jobs[i].t;
		/* The first file that failed, in the order given, is the one reported. */
		if (jobs[i].ret && !ret) {
			ret = jobs[i].ret;
			snprintf(err, errlen, "%s", jobs[i].err);
		}
	}
	if (!ret)
		ret = combine(paths, in, n, t, err, errlen);
	for (i = 0; i < n; i++)
		geoip_table_free(&in[i]);
	free(in);
	free(jobs);
	if (ret)
		geoip_table_free(t);
	return ret;
}

int geoip_read(const char *path, const char *field, struct geoip_table *t, char *err, size_t errlen)
{
	char *const paths[1] = { (char *)path };

	return geoip_read_files(paths, 1, field, t, err, errlen);
}
