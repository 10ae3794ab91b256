// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/fleet/store.c's fleet_store_anew: whether a store read whole is the one a
 * node saw up to a revision, or one made anew: behind that revision, or its fleet key gone,
 * created anew, or changed at or before it. A key rewritten after it (fleet del rewrites it,
 * keeping its "created") is the same store's; one with another "created" is not. A store the node
 * never saw a fleet key in gives nothing to tell by.
 */
#include <string.h>
#include "fleet/store.h"
#include "check.h"

#define P "/gb/"
#define MARK "{\"created\":1}"

static struct etcd_kv kv(const char *key, const char *value, __s64 created, __s64 mod)
{
	return (struct etcd_kv){ .key = (char *)key, .value = (char *)value,
				 .value_len = strlen(value), .create_revision = created,
				 .mod_revision = mod };
}

/* A read of the store at revision, of the fleet key (or none: NULL) and a meeting, sorted. */
static struct etcd_kvs read_of(struct etcd_kv *v, const struct etcd_kv *mark, __s64 revision)
{
	size_t n = 0;

	if (mark)
		v[n++] = *mark;
	v[n++] = kv(P "meetings/m", "{}", 4, 4);
	fleet_store_sort(&(struct etcd_kvs){ .v = v, .n = n });
	return (struct etcd_kvs){ .v = v, .n = n, .revision = revision };
}

static int anew(const struct etcd_kvs *seen, const struct etcd_kv *mark, __s64 revision)
{
	struct etcd_kv v[2];
	struct etcd_kvs now = read_of(v, mark, revision);

	return fleet_store_anew(seen, &now, P, 10);
}

/* Checks a read past the revision seen whose fleet key is value, created and changed as given. */
static void mark_case(const char *name, int expected, const struct etcd_kvs *seen,
		      const char *value, __s64 created, __s64 mod)
{
	struct etcd_kv mark = kv(P "fleet", value, created, mod);

	CHECK_INT(name, expected, anew(seen, &mark, 25));
}

int main(void)
{
	struct etcd_kv seen_v[2], none_v[2];
	struct etcd_kv mark = kv(P "fleet", MARK, 3, 3);
	struct etcd_kvs seen = read_of(seen_v, &mark, 10), none = read_of(none_v, NULL, 10);

	CHECK_INT("the same store, later", 0, anew(&seen, &mark, 25));
	CHECK_INT("the same store, at the revision seen", 0, anew(&seen, &mark, 10));
	CHECK_INT("behind the revision seen", 1, anew(&seen, &mark, 9));
	CHECK_INT("behind, with no fleet key seen", 1, anew(&none, NULL, 2));
	CHECK_INT("past it, its fleet key gone", 1, anew(&seen, NULL, 25));
	mark_case("past it, its fleet key created anew", 1, &seen, MARK, 7, 7);
	mark_case("past it, its fleet key created after the revision seen", 1, &seen, MARK, 15, 15);
	mark_case("past it, its fleet key changed at the same revision", 1, &seen,
		  "{\"created\":2}", 3, 3);
	mark_case("past it, its fleet key changed at the revision seen", 1, &seen,
		  "{\"created\":2}", 3, 10);
	mark_case("past it, its fleet key changed before the revision seen", 1, &seen, MARK, 3, 5);
	mark_case("its fleet key rewritten after the revision seen (the watch's)", 0, &seen,
		  "{\"created\":1,\"x\":1}", 3, 12);
	/* A store made anew the same way (its fleet key at the same create revision), rewritten. */
	mark_case("its fleet key of another \"created\", rewritten after the revision seen", 1,
		  &seen, "{\"created\":5,\"last_delete\":6}", 3, 12);
	CHECK_INT("no fleet key seen: nothing to tell by", 0, anew(&none, NULL, 25));
	CHECK_INT("no fleet key seen, one there now", 0, anew(&none, &mark, 25));
	seen_v[0] = kv(P "fleet", MARK, 3, 12);	/* P "fleet" sorts first */
	CHECK_INT("a fleet key seen only as written after the revision", 0,
		  anew(&seen, NULL, 25));
	return check_summary();
}
