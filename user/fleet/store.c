// SPDX-License-Identifier: GPL-2.0
/* The store's keys as a node last saw them: sorted by key, kept so by the watch's events. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int fleet_store_history(struct etcd *e, const struct etcd_kvs *s, const char *prefix, __s64 seen)
{
	struct etcd_kv want = {}, now;
	const struct etcd_kv *mine;
	char key[FLEET_PREFIX_MAX + 16];
	bool found, same;
	int err;

	if (fleet_mark_key(prefix, key, sizeof(key)))
		return 0;
	want.key = key;
	mine = bsearch(&want, s->v, s->n, sizeof(*s->v), key_cmp);
	/* Not seen here, or seen only as written after: nothing to tell histories apart by. */
	if (!mine || mine->mod_revision > seen)
		return 0;
	err = etcd_get(e, key, &now, &found, NULL);
	if (err)
		return err;
	/* Written since (fleet del rewrites it): the watch brings that. Else it is as seen. */
	same = found && now.create_revision == mine->create_revision &&
	       (now.mod_revision > seen || (now.mod_revision == mine->mod_revision &&
					    now.value_len == mine->value_len &&
					    !memcmp(now.value, mine->value, now.value_len)));
	etcd_kv_free(&now);
	if (same)
		return 0;
	fprintf(stderr, "geoblock: fleet: %s is not as revision %lld left it (the store made anew "
		"since): reading it whole\n", key, (long long)seen);
	return 1;
}
