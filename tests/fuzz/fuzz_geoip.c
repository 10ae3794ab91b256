// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: a hostile GeoIP database file through geoip_read, as `geoip load` reads it (MaxMind
 * DB, or gzip of one: the content decides). It must not crash, hang or leak; a refused file leaves
 * an empty table and a one-line reason; an accepted one gives prefix lists in address order with
 * no overlaps, host bits clear and valid country ids, as the table compiler expects. Nothing may
 * outlive the call: no file descriptor, no mapping of the database (MMDB_close on every path).
 */
#include <fcntl.h>
#include "geoip/geoip.h"
#include "geoip/prefix.h"
#include "fuzz.h"

/* The lowest free descriptor: it moves if a descriptor is left open (cheaper than /proc/self/fd). */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

/* Mappings of memory files: the input's, or the one geoip_read decompresses into. */
static int memfd_mappings(void)
{
	static char maps[1 << 16];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC), n = 0;
	size_t len = 0;
	ssize_t got;

	if (fd < 0)
		abort();
	while ((got = read(fd, maps + len, sizeof(maps) - 1 - len)) > 0)
		len += got;
	close(fd);
	maps[len] = '\0';
	for (const char *p = maps; (p = strstr(p, "/memfd:")); p++)
		n++;
	return n;
}

/* a < b, as big-endian numbers of n bytes */
static int before(const __u8 *a, const __u8 *b, size_t n)
{
	return memcmp(a, b, n) < 0;
}

static void check_list(const struct prefix_list *l, unsigned int bits)
{
	size_t bytes = bits / 8;
	__u8 last[16] = {};

	FUZZ_ASSERT(l->added >= l->n, "%zu networks read, %zu in the list", l->added, l->n);
	for (size_t i = 0; i < l->n; i++) {
		const struct prefix *p = &l->v[i];

		FUZZ_ASSERT(p->len <= bits, "prefix %zu is /%u", i, p->len);
		for (unsigned int b = p->len; b < 128; b++)
			FUZZ_ASSERT(!(p->addr[b / 8] & (0x80 >> (b % 8))), "prefix %zu: bit %u set", i,
				    b);
		FUZZ_ASSERT((p->country > GB_COUNTRY_NONE && p->country < GB_COUNTRY_COUNT) ||
				    (bits == 128 && p->country == GB_COUNTRY_V4_ALIAS),
			    "prefix %zu: country %u", i, p->country);
		FUZZ_ASSERT(!i || before(last, p->addr, bytes), "prefix %zu overlaps or comes early", i);
		/* The last address of p. */
		memcpy(last, p->addr, 16);
		for (unsigned int b = p->len; b < bits; b++)
			last[b / 8] |= 0x80 >> (b % 8);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size);
	int fd = lowest_free_fd(), maps = memfd_mappings(), ret;
	struct geoip_table t;
	char err[256];

	memset(err, 0, sizeof(err));
	ret = geoip_read(path, "country", &t, err, sizeof(err));
	FUZZ_ASSERT(lowest_free_fd() == fd, "a file descriptor was left open");
	FUZZ_ASSERT(memfd_mappings() == maps, "the database is still mapped");
	if (ret) {
		FUZZ_ASSERT(ret < 0, "returned %d", ret);
		FUZZ_ASSERT(fuzz_message_ok(err, sizeof(err)), "message \"%s\"", err);
		FUZZ_ASSERT(!t.v4.v && !t.v6.v && !t.v4.n && !t.v6.n, "a refused table kept networks");
		return 0;
	}
	check_list(&t.v4, 32);
	check_list(&t.v6, 128);
	geoip_table_free(&t);
	return 0;
}
