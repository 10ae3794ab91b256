/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The monotonic clock, for timeouts and ages that a change of the wall clock must not move, and
 * condition waits that keep to it.
 */
#ifndef GEOBLOCK_LIB_CLOCK_H
#define GEOBLOCK_LIB_CLOCK_H

#include <pthread.h>

/* CLOCK_MONOTONIC in ms, and in whole seconds. */
long long gb_mono_ms(void);
long long gb_mono_s(void);
/* Initialises c for gb_cond_wait_ms: its waits timed on CLOCK_MONOTONIC. */
void gb_cond_init(pthread_cond_t *c);
/* Waits on c (m held) until woken or ms have passed on CLOCK_MONOTONIC. */
void gb_cond_wait_ms(pthread_cond_t *c, pthread_mutex_t *m, long ms);

#endif
