/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the fuzz targets: the libFuzzer entry point, the input as a file or string, checks. */
#ifndef GEOBLOCK_FUZZ_H
#define GEOBLOCK_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * Each target is one file, tests/fuzz/fuzz_NAME.c, defining this function; its seeds are in
 * tests/fuzz/corpus/NAME/ and the inputs that once failed in tests/fuzz/regressions/NAME/.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property that must hold for every input: a failure is a crash, with what went wrong. */
#define FUZZ_ASSERT(cond, ...)                                                                   \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "fuzz: %s:%d: %s: ", __FILE__, __LINE__, #cond);         \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* The input as a file, for parsers that take a path: one memory file, rewritten for each input. */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
	static char path[64];
	static int fd = -1;

	if (fd < 0) {
		fd = memfd_create("fuzz-input", MFD_CLOEXEC);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	return path;
}

/* The input as a string in a buffer of exactly size + 1 bytes, so that over-reads show. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* An error message as the CLI prints it: not empty, one line, no control characters. */
static inline int fuzz_message_ok(const char *msg, size_t cap)
{
	size_t len = strnlen(msg, cap);

	if (!len || len == cap)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			return 0;
	return 1;
}

#endif /* GEOBLOCK_FUZZ_H */
