/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The JSON of etcd's v3 gateway (fleet/etcd.c): keys and values base64, int64 as strings, absent
 * fields proto3's zero.
 */
#ifndef GEOBLOCK_FLEET_ETCD_JSON_H
#define GEOBLOCK_FLEET_ETCD_JSON_H

#include <stddef.h>
#include <linux/types.h>
#include "fleet/etcd.h"

/* o's field key, or NULL (o NULL or not an object, or no such field). */
struct json_object *etcd_json_get(struct json_object *o, const char *key);
/* An int64 field (a string in the gateway's JSON), 0 if absent. */
__s64 etcd_json_i64(struct json_object *o, const char *key);
/* Adds field key: the len bytes at p, base64. */
void etcd_json_add_b64n(struct json_object *o, const char *key, const void *p, size_t len);
/* Adds field key: s, base64. */
void etcd_json_add_b64(struct json_object *o, const char *key, const char *s);
/* Adds range_end: the end of the range of keys starting with prefix. */
void etcd_json_add_range_end(struct json_object *o, const char *prefix);
/* A kv of a reply (a range's, a watch event's), key and value decoded: 0, or -EIO (none kept). */
int etcd_json_kv(struct json_object *o, struct etcd_kv *kv);
/*
 * Appends the kvs of a range reply rep to out (keys and values decoded), and sets out->revision
 * to the reply's; *more whether the store holds more keys in the range (if more is not NULL).
 * 0, or -ENOMEM, or -EIO with the reason in err.
 */
int etcd_json_kvs(struct json_object *rep, struct etcd_kvs *out, bool *more, char *err,
		  size_t errlen);

#endif
