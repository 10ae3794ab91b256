// SPDX-License-Identifier: GPL-2.0
/* A byte stream over plain or gzipped files, read once, with a head kept to tell formats apart. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "geoip/input.h"

/* Straight from zlib: bytes after the head. */
static ssize_t gz_read(struct input *in, void *buf, size_t len)
{
	int got, zerr;

	if (len > 1U << 30)
		len = 1U << 30;
	got = gzread(in->gz, buf, len);
	if (got < 0) {
		const char *msg = gzerror(in->gz, &zerr), *own;

		/* zlib puts the name it was opened by first, here "<fd:N>: ": the caller names it. */
		own = strncmp(msg, "<fd:", 4) ? NULL : strstr(msg, ": ");
		if (own)
			msg = own + 2;
		snprintf(in->err, in->errlen, "corrupt gzip data: %s",
			 zerr == Z_ERRNO ? strerror(errno) : msg);
		return -EINVAL;
	}
	if (got == 0) {
		/* A stream cut short ends reads without an error from gzread itself. */
		gzerror(in->gz, &zerr);
		if (zerr != Z_OK) {
			snprintf(in->err, in->errlen, "truncated gzip data");
			return -EINVAL;
		}
		return 0;
	}
	in->total += got;
	if (in->total > INPUT_MAX_SIZE) {
		snprintf(in->err, in->errlen, "more than %llu bytes of data", INPUT_MAX_SIZE);
		return -EFBIG;
	}
	return got;
}

ssize_t input_read(struct input *in, void *buf, size_t len)
{
	size_t n;

	if (in->head_pos == in->head_len)
		return gz_read(in, buf, len);
	n = in->head_len - in->head_pos;
	if (n > len)
		n = len;
	memcpy(buf, in->head + in->head_pos, n);
	in->head_pos += n;
	return n;
}

/* Reads the first bytes, which tell the formats apart, ahead. */
int input_fill_head(struct input *in)
{
	while (in->head_len < sizeof(in->head)) {
		ssize_t n = gz_read(in, in->head + in->head_len, sizeof(in->head) - in->head_len);

		if (n <= 0)
			return n;
		in->head_len += n;
	}
	return 0;
}

int input_read_full(struct input *in, void *buf, size_t len, const char *what)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = input_read(in, (char *)buf + done, len - done);

		if (n < 0)
			return n;
		if (n == 0) {
			snprintf(in->err, in->errlen, "truncated %s", what);
			return -EINVAL;
		}
		done += n;
	}
	return 0;
}

int input_rewind(struct input *in)
{
	/* zlib rewinds plain files too; the head is read from memory again, then the rest */
	if (gzrewind(in->gz) || gzseek(in->gz, in->head_len, SEEK_SET) != (z_off_t)in->head_len) {
		snprintf(in->err, in->errlen, "cannot read the file again");
		return -EIO;
	}
	in->head_pos = 0;
	in->total = in->head_len;
	return 0;
}

int input_to_memfd(struct input *in, unsigned long long len)
{
	static _Thread_local char buf[1 << 16];	/* files are read in threads of their own */
	unsigned long long done = 0;
	int fd, err = 0;

	fd = memfd_create("geoblock-geoip", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0) {
		err = -errno;
		snprintf(in->err, in->errlen, "memfd_create: %s", strerror(-err));
		return err;
	}
	while (done < len) {
		size_t want = len - done > sizeof(buf) ? sizeof(buf) : len - done;
		ssize_t n = input_read(in, buf, want);

		if (n <= 0) {
			err = n;
			if (!n && len != INPUT_ALL) {
				snprintf(in->err, in->errlen, "truncated data");
				err = -EINVAL;
			}
			break;
		}
		if (write(fd, buf, n) != n) {
			err = -errno;
			snprintf(in->err, in->errlen, "cannot write to a memory file: %s", strerror(errno));
			break;
		}
		done += n;
	}
	/* The copy is what is read: nobody, through /proc either, changes it under the mapping. */
	if (!err &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)) {
		err = -errno;
		snprintf(in->err, in->errlen, "cannot seal a memory file: %s", strerror(errno));
	}
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}
