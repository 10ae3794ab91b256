// SPDX-License-Identifier: GPL-2.0
/*
 * A meeting's expiry: kept as given (unix seconds) beside the CLOCK_TAI form the data path checks,
 * and whether it has passed.
 */
#include <time.h>
#include "state/expiry.h"

#define NSEC		1000000000LL

__s64 expiry_tai_offset(void)
{
	struct timespec real, tai;
	__s64 d;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_TAI, &tai);
	d = (tai.tv_sec - real.tv_sec) * NSEC + (tai.tv_nsec - real.tv_nsec);
	return (d + (d >= 0 ? NSEC / 2 : -NSEC / 2)) / NSEC;
}

/* The data path compares expiry with bpf_ktime_get_tai_ns(), which reads CLOCK_TAI. */
__u64 expiry_tai(__s64 unix_s)
{
	return unix_s ? (__u64)(unix_s + expiry_tai_offset()) * NSEC : 0;
}

/*
 * The expiry is kept as given (expires_unix) beside its CLOCK_TAI form: the TAI offset changes
 * when NTP sets it after boot, and an expiry converted back with the new offset moved by it
 * (37 s earlier at each restore). Policies written by an older version have only the TAI form.
 */
__s64 expiry_unix(const struct meeting_policy *p)
{
	if (p->expires_unix)
		return p->expires_unix;
	return p->expires_tai_ns ? (__s64)(p->expires_tai_ns / NSEC) - expiry_tai_offset() : 0;
}

bool expiry_passed(const struct meeting_policy *p)
{
	struct timespec now;

	if (p->expires_unix)
		return time(NULL) >= (time_t)p->expires_unix;
	clock_gettime(CLOCK_TAI, &now);
	return p->expires_tai_ns && (__u64)now.tv_sec * NSEC + now.tv_nsec >= p->expires_tai_ns;
}
