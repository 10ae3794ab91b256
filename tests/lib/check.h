/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal checks for the C tests: count, print what was expected and what came, summarise. */
#ifndef GEOBLOCK_TEST_CHECK_H
#define GEOBLOCK_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int checks_passed, checks_failed;

#define CHECK(name, cond)                                                     \
	do {                                                                  \
		if (cond) {                                                   \
			checks_passed++;                                      \
		} else {                                                      \
			checks_failed++;                                      \
			fprintf(stderr, "FAIL: %s (%s:%d)\n", name, __FILE__, __LINE__); \
		}                                                             \
	} while (0)

#define CHECK_INT(name, expected, actual)                                     \
	do {                                                                  \
		long long e_ = (expected), a_ = (actual);                     \
		if (e_ == a_) {                                               \
			checks_passed++;                                      \
		} else {                                                      \
			checks_failed++;                                      \
			fprintf(stderr, "FAIL: %s: expected %lld, got %lld\n", name, e_, a_); \
		}                                                             \
	} while (0)

#define CHECK_STR(name, expected, actual)                                     \
	do {                                                                  \
		const char *e_ = (expected), *a_ = (actual);                  \
		if (!strcmp(e_, a_)) {                                        \
			checks_passed++;                                      \
		} else {                                                      \
			checks_failed++;                                      \
			fprintf(stderr, "FAIL: %s: expected \"%s\", got \"%s\"\n", name, e_, a_); \
		}                                                             \
	} while (0)

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", checks_passed, checks_failed);
	return checks_failed ? 1 : 0;
}

#endif
