/* SPDX-License-Identifier: GPL-2.0 */
/* A byte stream over plain or gzipped files, shared by the readers of every format. */
#ifndef GEOBLOCK_INPUT_H
#define GEOBLOCK_INPUT_H

#include <sys/types.h>
#include <zlib.h>

#define INPUT_MAX_SIZE	(2ULL << 30)	/* decompressed bytes of one input: refuses a gzip bomb */
#define INPUT_HEAD_LEN	4096		/* bytes read ahead to tell the formats apart */

/* A file's content, decompressed when it is gzip (zlib passes other files through), read once. */
struct input {
	gzFile gz;
	unsigned char head[INPUT_HEAD_LEN];
	size_t head_len, head_pos;
	unsigned long long total;	/* bytes decompressed so far */
	char *err;
	size_t errlen;
};

/* Reads the head (the first INPUT_HEAD_LEN bytes, fewer if the data ends first); 0 or -errno. */
int input_fill_head(struct input *in);
/* Up to len bytes; 0 at the end; a negative errno with in->err set on corrupt or truncated data. */
ssize_t input_read(struct input *in, void *buf, size_t len);
/* Exactly len bytes, or -EINVAL ("truncated") when the data ends first. */
int input_read_full(struct input *in, void *buf, size_t len, const char *what);
/* Back to the first byte, to read everything again. */
int input_rewind(struct input *in);
/* Copies len bytes (INPUT_ALL: what remains) into a new memory file; returns its fd. */
#define INPUT_ALL	(~0ULL)
int input_to_memfd(struct input *in, unsigned long long len);

#endif /* GEOBLOCK_INPUT_H */
