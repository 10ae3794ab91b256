// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/geoip/geoip.c on small databases written here (tests/lib/mmdb_samples.h): both
 * record layouts, 24/28/32-bit records, IPv4 aliases, gzip, records without a country, and
 * cut-short files, a file truncated while it is read; libmaxminddb reads the same files as a check
 * on the writer.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <maxminddb.h>
#include <zlib.h>
#include "lib/country.h"
#include "geoip/geoip.h"
#include "geoip/prefix.h"
#include "check.h"
#include "mmdb_samples.h"

/* A memory file holding data (gzipped if asked), named by its /proc path. */
static int memfile(const uint8_t *data, size_t len, bool gzip, char path[64])
{
	int fd = memfd_create("unit_geoip", 0);

	if (fd < 0)
		return -1;
	if (gzip) {
		gzFile gz = gzdopen(dup(fd), "wb");

		if (!gz || gzwrite(gz, data, len) != (int)len || gzclose(gz) != Z_OK) {
			close(fd);
			return -1;
		}
	} else if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* A prefix list as "prefix/len CC" lines, alias entries as "=v4". */
static void show(const struct prefix_list *l, int family, char *out, size_t outlen)
{
	size_t pos = 0;

	out[0] = '\0';
	for (size_t i = 0; i < l->n && pos < outlen; i++) {
		char a[INET6_ADDRSTRLEN], cc[3];

		inet_ntop(family, l->v[i].addr, a, sizeof(a));
		country_code(l->v[i].country, cc);
		pos += snprintf(out + pos, outlen - pos, "%s/%u %s\n", a, l->v[i].len,
				l->v[i].country == GB_COUNTRY_V4_ALIAS ? "=v4" : cc);
	}
}

static void check_sample(const struct mmdb_sample *s)
{
	struct geoip_table t;
	char path[64], err[256], got[1024], name[128];
	uint8_t *db;
	size_t len;
	int fd, ret;

	snprintf(name, sizeof(name), "writes_%s", s->name);
	ret = mmdb_write(&s->spec, &db, &len);
	CHECK_INT(name, 0, ret);
	if (ret)
		return;
	fd = memfile(db, len, s->gzip, path);
	CHECK(name, fd >= 0);

	ret = geoip_read(path, "country", &t, err, sizeof(err));
	snprintf(name, sizeof(name), "reads_%s", s->name);
	CHECK_STR(name, "", ret ? err : "");
	if (!ret) {
		snprintf(name, sizeof(name), "ipv4_networks_of_%s", s->name);
		show(&t.v4, AF_INET, got, sizeof(got));
		CHECK_STR(name, s->v4, got);
		snprintf(name, sizeof(name), "ipv6_networks_of_%s", s->name);
		show(&t.v6, AF_INET6, got, sizeof(got));
		CHECK_STR(name, s->v6, got);
		geoip_table_free(&t);
	}

	/* registered_country: the same in the GeoIP2 layout, nothing in the flat one. */
	ret = geoip_read(path, "registered_country", &t, err, sizeof(err));
	snprintf(name, sizeof(name), "reads_registered_country_of_%s", s->name);
	CHECK_STR(name, "", ret ? err : "");
	if (!ret) {
		show(&t.v4, AF_INET, got, sizeof(got));
		CHECK_STR(name, s->spec.flat ? "" : s->v4, got);
		geoip_table_free(&t);
	}
	close(fd);

	/* Cut short anywhere: refused with a reason, nothing kept, never a crash. */
	for (size_t cut = 0; cut < len; cut += 1 + len / 16) {
		t.v4.v = (void *)1;	/* must come back freed and zeroed */
		fd = memfile(db, cut, s->gzip, path);
		err[0] = '\0';
		ret = geoip_read(path, "country", &t, err, sizeof(err));
		snprintf(name, sizeof(name), "refuses_%s_cut_at_%zu", s->name, cut);
		CHECK(name, ret < 0 && err[0] && !strchr(err, '\n') && !t.v4.v && !t.v6.v);
		close(fd);
	}
	free(db);
}

/*
 * MMDB_open as libmaxminddb has it, but when armed it first truncates the given file: the daemon's
 * --watch reload reading a file that another process rewrites in place, at the worst moment (the
 * mapping made, the search tree not yet walked). Defined here, it is the one geoip.c calls.
 */
static int truncate_on_open = -1;

int MMDB_open(const char *filename, uint32_t flags, MMDB_s *mmdb)
{
	static int (*real)(const char *, uint32_t, MMDB_s *);
	int status;

	if (!real)
		real = (int (*)(const char *, uint32_t, MMDB_s *))dlsym(RTLD_NEXT, "MMDB_open");
	status = real(filename, flags, mmdb);
	if (truncate_on_open >= 0 && ftruncate(truncate_on_open, 0))
		perror("ftruncate");
	return status;
}

static sigjmp_buf on_sigbus;

static void sigbus(int sig)
{
	(void)sig;
	siglongjmp(on_sigbus, 1);
}

/* A plain file truncated once the reader has opened it: read as it was, or refused; no SIGBUS. */
static void check_truncated_while_read(const struct mmdb_sample *s)
{
	struct sigaction sa = { .sa_handler = sigbus }, old;
	char path[64], err[256] = "", got[1024];
	volatile int ret = 0, faulted = 0;
	struct geoip_table t = {};
	uint8_t *db;
	size_t len;
	int fd;

	if (mmdb_write(&s->spec, &db, &len) || (fd = memfile(db, len, false, path)) < 0) {
		CHECK("writes_file_to_truncate", 0);
		return;
	}
	sigaction(SIGBUS, &sa, &old);
	truncate_on_open = fd;
	if (sigsetjmp(on_sigbus, 1))
		faulted = 1;
	else
		ret = geoip_read(path, "country", &t, err, sizeof(err));
	truncate_on_open = -1;
	sigaction(SIGBUS, &old, NULL);
	CHECK("file_truncated_while_read_no_sigbus", !faulted);
	CHECK_STR("file_truncated_while_read_is_read_as_opened", "", ret ? err : "");
	if (!faulted && !ret) {
		show(&t.v4, AF_INET, got, sizeof(got));
		CHECK_STR("file_truncated_while_read_ipv4_networks", s->v4, got);
		show(&t.v6, AF_INET6, got, sizeof(got));
		CHECK_STR("file_truncated_while_read_ipv6_networks", s->v6, got);
	}
	if (!faulted)
		geoip_table_free(&t);
	close(fd);
	free(db);
}

/* libmaxminddb's own answer for addr in a database written from spec (the writer's check). */
static void check_libmaxminddb(const struct mmdb_spec *spec, const char *addr, const char *cc)
{
	const char *const path_country[] = { "country", "iso_code", NULL };
	const char *const path_flat[] = { "country_code", NULL };
	MMDB_lookup_result_s res;
	MMDB_entry_data_s data;
	char path[64], got[8] = "--", name[96];
	int fd, gai, mmerr;
	uint8_t *db;
	size_t len;
	MMDB_s mmdb;

	snprintf(name, sizeof(name), "libmaxminddb_reads_%s_as_%s", addr, cc);
	if (mmdb_write(spec, &db, &len) || (fd = memfile(db, len, false, path)) < 0) {
		CHECK(name, 0);
		return;
	}
	if (MMDB_open(path, MMDB_MODE_MMAP, &mmdb) == MMDB_SUCCESS) {
		res = MMDB_lookup_string(&mmdb, addr, &gai, &mmerr);
		if (!gai && mmerr == MMDB_SUCCESS && res.found_entry &&
		    MMDB_aget_value(&res.entry, &data,
				    spec->flat ? path_flat : path_country) == MMDB_SUCCESS &&
		    data.has_data && data.data_size == 2)
			memcpy(got, data.utf8_string, 2);
		MMDB_close(&mmdb);
	}
	CHECK_STR(name, cc, got);
	close(fd);
	free(db);
}

int main(void)
{
	for (size_t i = 0; i < MMDB_SAMPLES; i++)
		check_sample(&mmdb_samples[i]);
	check_truncated_while_read(&mmdb_samples[0]);

	check_libmaxminddb(&mmdb_samples[0].spec, "10.0.0.200", "de");
	check_libmaxminddb(&mmdb_samples[0].spec, "10.0.0.20", "DE");
	check_libmaxminddb(&mmdb_samples[0].spec, "::ffff:10.0.1.5", "FR");
	check_libmaxminddb(&mmdb_samples[0].spec, "2002:cb00:7105::1", "US");	/* 203.0.113.5 */
	check_libmaxminddb(&mmdb_samples[0].spec, "2001:db8:3::1", "JP");
	check_libmaxminddb(&mmdb_samples[0].spec, "192.0.2.1", "--");
	check_libmaxminddb(&mmdb_samples[2].spec, "8.8.8.8", "US");
	check_libmaxminddb(&mmdb_samples[2].spec, "200.1.2.3", "BR");
	check_libmaxminddb(&mmdb_samples[3].spec, "1.2.3.4", "US");
	check_libmaxminddb(&mmdb_samples[3].spec, "9000::1", "SE");
	return check_summary();
}
