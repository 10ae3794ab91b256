// SPDX-License-Identifier: GPL-2.0
/*
 * The store's keys as a node last saw them: sorted by key, kept so by the watch's events; and a
 * conditional write that tells its own lost answer from another writer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "fleet/layout.h"
#include "fleet/store.h"

static int key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct etcd_kv *)a)->key, ((const struct etcd_kv *)b)->key);
}

int fleet_store_take(struct etcd_kvs *s, struct etcd_event *ev)
{
	struct etcd_kv *at = bsearch(&ev->kv, s->v, s->n, sizeof(*s->v), key_cmp), *grown;
	size_t i;

	if (ev->deleted) {
		if (at) {
			etcd_kv_free(at);
			memmove(at, at + 1, (s->v + --s->n - at) * sizeof(*at));
		}
		return 0;
	}
	if (at) {
		etcd_kv_free(at);
		*at = ev->kv;
		memset(&ev->kv, 0, sizeof(ev->kv));
		return 0;
	}
	grown = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	if (!grown)
		return -ENOMEM;
	s->v = grown;
	for (i = s->n; i > 0 && strcmp(s->v[i - 1].key, ev->kv.key) > 0; i--)
		;
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
	s->v[i] = ev->kv;
	s->n++;
	memset(&ev->kv, 0, sizeof(ev->kv));
	return 0;
}

void fleet_store_sort(struct etcd_kvs *s)
{
	qsort(s->v, s->n, sizeof(*s->v), key_cmp);
}

void fleet_store_said_behind(__s64 rev, __s64 seen)
{
	fprintf(stderr, "geoblock: fleet: the store is at revision %lld, behind the %lld seen here "
		"(restored or made anew): read whole, as a new store\n", (long long)rev,
		(long long)seen);
}

/* s's fleet key (key), if it holds it as written up to seen: else nothing tells histories apart. */
static const struct etcd_kv *mark_seen(const struct etcd_kvs *s, const char *key, __s64 seen)
{
	struct etcd_kv want = { .key = (char *)key };
	const struct etcd_kv *mine = bsearch(&want, s->v, s->n, sizeof(*s->v), key_cmp);

	return mine && mine->mod_revision <= seen ? mine : NULL;
}

long long fleet_mark_created(const char *value)
{
	struct json_object *o = json_tokener_parse(value), *v;
	long long t = -1;

	if (o && json_object_object_get_ex(o, "created", &v) &&
	    json_object_is_type(v, json_type_int))
		t = json_object_get_int64(v);
	json_object_put(o);
	return t;
}

/*
 * Whether now (NULL: gone) is the fleet key as mine was seen up to seen: or written since (fleet
 * del rewrites it, keeping its "created"), which the watch brings. Else the store was made anew
 * (its create_revision alone can be the old one's: a store set up the same way): said on stderr.
 */
static bool mark_as_seen(const struct etcd_kv *mine, const struct etcd_kv *now, __s64 seen)
{
	if (now && now->create_revision == mine->create_revision &&
	    (now->mod_revision > seen ?
	     fleet_mark_created(now->value) == fleet_mark_created(mine->value) :
	     (now->mod_revision == mine->mod_revision && now->value_len == mine->value_len &&
	      !memcmp(now->value, mine->value, now->value_len))))
		return true;
	fprintf(stderr, "geoblock: fleet: %s is not as revision %lld left it (the store made anew "
		"since): read whole, as a new store\n", mine->key, (long long)seen);
	return false;
}

int fleet_store_history(struct etcd *e, const struct etcd_kvs *s, const char *prefix, __s64 seen)
{
	const struct etcd_kv *mine;
	struct etcd_kv now;
	char key[FLEET_PREFIX_MAX + 16];
	bool found, same;
	int err;

	if (fleet_mark_key(prefix, key, sizeof(key)) || !(mine = mark_seen(s, key, seen)))
		return 0;
	err = etcd_get(e, key, &now, &found, NULL);
	if (err)
		return err;
	same = mark_as_seen(mine, found ? &now : NULL, seen);
	etcd_kv_free(&now);
	return !same;
}

bool fleet_store_anew(const struct etcd_kvs *s, const struct etcd_kvs *now, const char *prefix,
		      __s64 seen)
{
	const struct etcd_kv *mine;
	char key[FLEET_PREFIX_MAX + 16];

	if (now->revision < seen) {
		fleet_store_said_behind(now->revision, seen);
		return true;
	}
	if (fleet_mark_key(prefix, key, sizeof(key)) || !(mine = mark_seen(s, key, seen)))
		return false;
	return !mark_as_seen(mine, mark_seen(now, key, INT64_MAX), seen);
}

int fleet_put_if(struct etcd *e, const char *key, const char *value, __s64 mod_revision,
		 const struct etcd_kv *also, bool *done)
{
	struct etcd_kv now;
	bool found;
	int err = etcd_put_if(e, key, value, mod_revision, also, done);

	if (err || *done)
		return err;
	/* Unread, it cannot be told from another writer's: the read's error is said. */
	err = etcd_get(e, key, &now, &found, NULL);
	if (err)
		return err;
	*done = value ? found && now.value_len == strlen(value) &&
			!memcmp(now.value, value, now.value_len) : !found;
	etcd_kv_free(&now);
	return 0;
}
