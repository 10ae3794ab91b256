// SPDX-License-Identifier: GPL-2.0
/* The change log's records: written as one line each, read back past a crash's unfinished line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "state/log_records.h"

char *log_record_line(__u64 seq, const char *body, int *n)
{
	char head[48], *line;
	uLong c;

	snprintf(head, sizeof(head), "%llu ", (unsigned long long)seq);
	c = crc32(0L, (const Bytef *)head, strlen(head));
	c = crc32(c, (const Bytef *)body, strlen(body));
	*n = asprintf(&line, "%llu %08lx %s\n", (unsigned long long)seq, c, body);
	return *n < 0 ? NULL : line;
}

/*
 * Splits record line (len bytes, without its newline) into number and body: 0, or -EINVAL for a
 * line cut short or damaged.
 */
static int parse_record(const char *line, size_t len, __u64 *seq, const char **body,
			size_t *body_len)
{
	unsigned long long n;
	unsigned int crc;
	char head[64];
	int used = 0;
	uLong c;

	snprintf(head, sizeof(head), "%.*s", (int)(len < sizeof(head) - 1 ? len : sizeof(head) - 1),
		 line);
	if (sscanf(head, "%llu %8x %n", &n, &crc, &used) != 2 || !used)
		return -EINVAL;
	*seq = n;
	*body = line + used;
	*body_len = len - used;
	snprintf(head, sizeof(head), "%llu ", n);
	c = crc32(0L, (const Bytef *)head, strlen(head));
	c = crc32(c, (const Bytef *)*body, *body_len);
	return c == crc ? 0 : -EINVAL;
}

bool log_body_is(const char *body, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && !memcmp(body, word, n) && (len == n || body[n] == ' ');
}

/*
 * The number of the first whole, intact record after the line at pos, or 0: with one, a line
 * there that fails its CRC is damage (a bit flipped, an edit), not what a crash leaves, which is
 * only ever at the end.
 */
static __u64 whole_record_after(const char *buf, size_t len, size_t pos)
{
	const char *nl = memchr(buf + pos, '\n', len - pos), *body;
	size_t body_len;
	__u64 seq;

	while (nl && (pos = nl - buf + 1) < len) {
		nl = memchr(buf + pos, '\n', len - pos);
		if (nl && !parse_record(buf + pos, nl - (buf + pos), &seq, &body, &body_len))
			return seq;
	}
	return 0;
}

off_t log_walk(const char *buf, size_t len, __u64 through, bool past_damage,
	       void (*fn)(void *arg, __u64 seq, const char *body, size_t body_len, off_t end),
	       void *arg)
{
	size_t pos = 0;

	for (__u64 line = 1; pos < len; line++) {
		const char *nl = memchr(buf + pos, '\n', len - pos), *body;
		size_t body_len;
		__u64 seq;

		if (!nl || parse_record(buf + pos, nl - (buf + pos), &seq, &body, &body_len)) {
			__u64 next = nl && past_damage ? whole_record_after(buf, len, pos) : 0;

			if (!next)
				break;
			pos = nl - buf + 1;
			/* Said unless the rules file holds it (numbered before the next record). */
			if (next > through + 1)
				fn(arg, line, NULL, 0, pos);
			continue;
		}
		pos = nl - buf + 1;
		if (seq > through)
			fn(arg, seq, body, body_len, pos);
	}
	return pos;
}
