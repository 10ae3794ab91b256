/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The change log's record format: one line "SEQ CRC BODY", CRC the CRC-32 of "SEQ BODY" in hex,
 * written whole by one append, so that a crash leaves at most an unfinished last line.
 */
#ifndef GEOBLOCK_STATE_LOG_RECORDS_H
#define GEOBLOCK_STATE_LOG_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

/* The record line of body numbered seq (with its newline), malloc'd; its length in *n. */
char *log_record_line(__u64 seq, const char *body, int *n);
/* Whether body is word, or word and a blank and more. */
bool log_body_is(const char *body, size_t len, const char *word);
/*
 * Calls fn on each whole, intact record numbered past through, in order; returns the end of the
 * last line walked. Stops at an unfinished line (a crash's), and at a damaged one (its CRC does
 * not match) unless past_damage and whole records follow it: the walk goes on, and fn gets it as
 * body NULL, seq its line number, unless the next record is numbered through + 1 or less (the
 * rules file holds what it was).
 */
off_t log_walk(const char *buf, size_t len, __u64 through, bool past_damage,
	       void (*fn)(void *arg, __u64 seq, const char *body, size_t body_len, off_t end),
	       void *arg);

#endif
