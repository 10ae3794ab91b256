/* SPDX-License-Identifier: GPL-2.0 */
/*
 * etcd's v3 JSON gateway (kv range, put, txn and compaction, watch, lease grant and keepalive)
 * through libcurl and json-c: the calls a fleet node and the fleet commands make. Keys and values
 * are strings, revisions int64. Each call tries the endpoints in turn from the last that
 * answered; each returns 0 or a negative errno with the reason in e->err (-EIO: etcd answered
 * with an error, -EAGAIN: one answered busy or failing (a 429, a 5xx), -ECONNREFUSED: no
 * endpoint answered at all, within 3 s each; 30 s for a page of etcd_range).
 */
#ifndef GEOBLOCK_FLEET_ETCD_H
#define GEOBLOCK_FLEET_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct json_object;

#define ETCD_URLS_MAX	16

struct etcd {
	char *urls[ETCD_URLS_MAX];	/* "http://127.0.0.1:2379", without a trailing '/' */
	size_t n_urls, cur;
	const char *cacert, *cert, *key;	/* TLS files, or NULL */
	void *curl;			/* one handle: connections are kept between calls */
	long quick_ms;			/* 0, or a call's one try: the current endpoint, this long */
	__s64 put_revision;		/* the store's revision after the last etcd_put */
	size_t reply_max;		/* etcd_range's pages: a reply's bytes at most (and 30 s
					 * for it, not 3); 0: 64 MiB, 3 s */
	char err[256];
};

struct etcd_kv {
	char *key;
	char *value;
	size_t value_len;
	__s64 mod_revision, create_revision;
};

struct etcd_kvs {
	struct etcd_kv *v;
	size_t n;
	__s64 revision;			/* the store's revision the read saw */
};

/* urls: "URL[,URL...]"; the TLS files may be NULL. One error line if urls do not read. */
int etcd_open(struct etcd *e, const char *urls, const char *cacert, const char *cert,
	      const char *key);
void etcd_close(struct etcd *e);
void etcd_kv_free(struct etcd_kv *kv);
void etcd_kvs_free(struct etcd_kvs *l);

/* Every key starting with prefix (limit 0: all), in key order. */
int etcd_range(struct etcd *e, const char *prefix, struct etcd_kvs *out);
/* One key; found false (and kv zeroed) when it does not exist. */
int etcd_get(struct etcd *e, const char *key, struct etcd_kv *kv, bool *found, __s64 *revision);
/* lease 0: none. */
int etcd_put(struct etcd *e, const char *key, const char *value, __s64 lease);
/*
 * Puts value (NULL: deletes the key) only if the key's mod_revision is still mod_revision (0:
 * the key must not exist), and then also also->key's value (also NULL: nothing more) in the same
 * transaction; *done false when another writer came first.
 */
int etcd_put_if(struct etcd *e, const char *key, const char *value, __s64 mod_revision,
		const struct etcd_kv *also, bool *done);
int etcd_lease_grant(struct etcd *e, int ttl, __s64 *id);
/* -ENOENT when the lease is gone (expired). */
int etcd_lease_keepalive(struct etcd *e, __s64 id);
/* The lease ended now, and the keys put under it deleted: one try, within ms. */
int etcd_lease_revoke(struct etcd *e, __s64 id, long ms);
/* Compacts the store's history up to revision (tests and operators: etcdctl does it too). */
int etcd_compact(struct etcd *e, __s64 revision);

/* What a watch stream says: one call per message. */
struct etcd_watch_msg {
	__s64 revision;			/* the store's revision (header) */
	__s64 compact_revision;		/* > 0: start_revision was compacted away; the watch ends */
	bool created, canceled;
	struct etcd_event {
		bool deleted;
		struct etcd_kv kv;	/* for a delete: key and mod_revision only */
	} *events;
	size_t n_events;		/* 0 with !created: a progress notification */
	bool more;			/* the next message has come already (a backlog) */
};

/*
 * A nonzero return stops the watch; the message is freed after the call. alive() is called about
 * once a second while the stream is up (NULL: never); nonzero ends the watch too.
 */
typedef int (*etcd_watch_fn)(void *arg, const struct etcd_watch_msg *m);
typedef int (*etcd_alive_fn)(void *arg);
/*
 * Watches every key under prefix from start_revision (progress notifications asked for) on the
 * current endpoint until fn or alive return nonzero (that value returned) or the stream breaks
 * (a negative errno; the next call tries the next endpoint): -EMSGSIZE for a message too big to
 * take (a backlog of big values), which the same watch would send again.
 */
int etcd_watch(struct etcd *e, const char *prefix, __s64 start_revision, etcd_watch_fn fn,
	       etcd_alive_fn alive, void *arg);

#endif
