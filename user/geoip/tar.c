// SPDX-License-Identifier: GPL-2.0
/*
 * Finds the MaxMind DB in a tar archive as MaxMind's downloads deliver it (a dated folder with the
 * .mmdb and license files) while the archive streams by, and copies it into a memory file.
 */
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "geoip/input.h"
#include "geoip/tar.h"

#define TAR_BLOCK	512
#define TAR_NAME_MAX	4096	/* longest member name taken from a GNU or pax long-name record */

/* The POSIX ustar header; GNU tar writes the same fields. */
struct tar_header {
	char name[100];
	char mode[8];
	char uid[8];
	char gid[8];
	char size[12];
	char mtime[12];
	char chksum[8];
	char typeflag;
	char linkname[100];
	char magic[6];
	char version[2];
	char uname[32];
	char gname[32];
	char devmajor[8];
	char devminor[8];
	char prefix[155];
	char pad[12];
};

_Static_assert(sizeof(struct tar_header) == TAR_BLOCK, "tar header layout");

/* An octal field, or GNU's base-256 form (high bit set) for sizes of 8 GiB and more. */
static int parse_number(const char *f, size_t len, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i = 0;

	if ((unsigned char)f[0] & 0x80) {
		for (i = 0; i < len; i++) {
			unsigned char c = i ? (unsigned char)f[i] : (unsigned char)f[i] & 0x7f;

			if (v >> 55)
				return -ERANGE;
			v = v << 8 | c;
		}
		*out = v;
		return 0;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++)
		v = v << 3 | (f[i] - '0');
	if (i < len && f[i] != ' ' && f[i] != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

/* The sum of the header's bytes, the checksum field as spaces; some old tars sum signed chars. */
static bool checksum_ok(const struct tar_header *h)
{
	const size_t from = offsetof(struct tar_header, chksum), to = from + sizeof(h->chksum);
	const unsigned char *b = (const unsigned char *)h;
	unsigned long long want;
	long sum = 0, ssum = 0;

	if (parse_number(h->chksum, sizeof(h->chksum), &want))
		return false;
	for (size_t i = 0; i < TAR_BLOCK; i++) {
		sum += i >= from && i < to ? ' ' : b[i];
		ssum += i >= from && i < to ? ' ' : (signed char)b[i];
	}
	return (unsigned long long)sum == want || (unsigned long long)ssum == want;
}

static int skip(struct input *in, unsigned long long len)
{
	static _Thread_local char buf[1 << 16];	/* files are read in threads of their own */

	while (len) {
		size_t n = len > sizeof(buf) ? sizeof(buf) : len;
		int err = input_read_full(in, buf, n, "tar archive");

		if (err)
			return err;
		len -= n;
	}
	return 0;
}

static unsigned long long padding(unsigned long long size)
{
	return (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
}

/* The "path" record of a pax extended header ("LEN path=VALUE\n" records), if there is one. */
static void pax_path(const char *data, size_t len, char *name, size_t name_len)
{
	size_t off = 0;

	while (off < len) {
		char *end;
		unsigned long rec = strtoul(data + off, &end, 10);
		const char *kv = end + 1;

		if (end == data + off || *end != ' ' || rec == 0 || rec > len - off)
			return;
		if (!strncmp(kv, "path=", 5) && data + off + rec - 1 > kv + 5) {
			size_t vlen = data + off + rec - 1 - (kv + 5);

			snprintf(name, name_len, "%.*s", (int)vlen, kv + 5);
		}
		off += rec;
	}
}

static bool is_mmdb(const char *name)
{
	size_t len = strlen(name);

	return len > 5 && !strcmp(name + len - 5, ".mmdb");
}

int tar_extract_mmdb(struct input *in, char *member, size_t member_len)
{
	char *longname = malloc(TAR_NAME_MAX + 1), name[TAR_NAME_MAX + 1];
	unsigned long long offset = 0;
	int fd = -1, err = 0;

	if (!longname)
		return -ENOMEM;
	longname[0] = '\0';
	for (;;) {
		struct tar_header h;
		unsigned long long size;
		ssize_t n;

		n = input_read(in, &h, 1);
		if (n == 0)
			break;	/* no end-of-archive blocks: accept the end at a header boundary */
		if (n < 0 || (err = input_read_full(in, (char *)&h + 1, TAR_BLOCK - 1, "tar archive"))) {
			err = n < 0 ? n : err;
			break;
		}
		if (!memcmp(&h, (char[TAR_BLOCK]){ 0 }, TAR_BLOCK))
			break;	/* end of archive */
		if (!checksum_ok(&h) || parse_number(h.size, sizeof(h.size), &size)) {
			snprintf(in->err, in->errlen, "corrupt tar header at offset %llu", offset);
			err = -EINVAL;
			break;
		}
		offset += TAR_BLOCK;
		if (longname[0]) {
			snprintf(name, sizeof(name), "%s", longname);
			longname[0] = '\0';
		} else if (!memcmp(h.magic, "ustar", 5) && h.prefix[0]) {
			snprintf(name, sizeof(name), "%.*s/%.*s", (int)strnlen(h.prefix, 155), h.prefix,
				 (int)strnlen(h.name, 100), h.name);
		} else {
			snprintf(name, sizeof(name), "%.*s", (int)strnlen(h.name, 100), h.name);
		}
		if (h.typeflag == 'L' || h.typeflag == 'x') {
			/* GNU long name, or pax extended header: both name the next member. */
			char *data;

			if (size > TAR_NAME_MAX * 4) {
				snprintf(in->err, in->errlen, "tar %s record of %llu bytes at offset %llu",
					 h.typeflag == 'L' ? "long-name" : "pax", size, offset);
				err = -EINVAL;
				break;
			}
			data = calloc(1, size + 1);
			if (!data) {
				err = -ENOMEM;
				break;
			}
			err = input_read_full(in, data, size, "tar archive");
			if (!err && h.typeflag == 'L')
				snprintf(longname, TAR_NAME_MAX + 1, "%s", data);
			else if (!err)
				pax_path(data, size, longname, TAR_NAME_MAX + 1);
			free(data);
			if (!err)
				err = skip(in, padding(size));
		} else if ((h.typeflag == '0' || h.typeflag == '\0' || h.typeflag == '7') &&
			   is_mmdb(name)) {
			if (fd >= 0) {
				snprintf(in->err, in->errlen, "the archive holds more than one .mmdb file "
					 "(%s and %s): unpack the one to load", member, name);
				err = -EINVAL;
				break;
			}
			snprintf(member, member_len, "%s", name);
			fd = input_to_memfd(in, size);
			if (fd < 0) {
				err = fd;
				break;
			}
			err = skip(in, padding(size));
		} else {
			err = skip(in, size + padding(size));
		}
		if (err)
			break;
		offset += size + padding(size);
	}
	free(longname);
	if (!err && fd < 0) {
		snprintf(in->err, in->errlen, "the tar archive holds no .mmdb file");
		err = -ENOENT;
	}
	if (err) {
		if (fd >= 0)
			close(fd);
		return err;
	}
	return fd;
}
