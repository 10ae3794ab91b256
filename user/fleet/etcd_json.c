// SPDX-License-Identifier: GPL-2.0
/* The JSON of etcd's v3 gateway: base64 keys and values, int64 strings, range replies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include "fleet/etcd_json.h"

/* Decodes s; *len without the padding's bytes. NULL if s is not base64. */
static char *unb64(const char *s, size_t *len)
{
	size_t n = strlen(s), pad = 0;
	char *out;
	int got;

	if (n % 4)
		return NULL;
	out = malloc(n / 4 * 3 + 1);
	if (!out)
		return NULL;
	got = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)s, n);
	if (got < 0) {
		free(out);
		return NULL;
	}
	while (pad < 2 && n > pad && s[n - 1 - pad] == '=')
		pad++;
	*len = got - pad;
	out[*len] = '\0';
	return out;
}

struct json_object *etcd_json_get(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

__s64 etcd_json_i64(struct json_object *o, const char *key)
{
	struct json_object *v = etcd_json_get(o, key);

	return v ? json_object_get_int64(v) : 0;
}

void etcd_json_add_b64n(struct json_object *o, const char *key, const void *p, size_t len)
{
	char *v = malloc(4 * ((len + 2) / 3) + 1);

	if (v)
		EVP_EncodeBlock((unsigned char *)v, p, len);
	json_object_object_add(o, key, json_object_new_string(v ? v : ""));
	free(v);
}

void etcd_json_add_b64(struct json_object *o, const char *key, const char *s)
{
	etcd_json_add_b64n(o, key, s, strlen(s));
}

/*
 * The prefix with its last byte + 1 (0xff bytes dropped first); "\0" (every key) if none is left.
 */
void etcd_json_add_range_end(struct json_object *o, const char *prefix)
{
	char *end = strdup(prefix);
	size_t n = strlen(prefix);

	if (!end)
		return;
	while (n && (unsigned char)end[n - 1] == 0xff)
		end[--n] = '\0';
	if (n)
		end[n - 1]++;
	etcd_json_add_b64n(o, "range_end", n ? end : "", n ? n : 1);
	free(end);
}

int etcd_json_kv(struct json_object *o, struct etcd_kv *kv)
{
	const char *k = json_object_get_string(etcd_json_get(o, "key"));
	const char *v = json_object_get_string(etcd_json_get(o, "value"));
	size_t klen;

	memset(kv, 0, sizeof(*kv));
	kv->key = k ? unb64(k, &klen) : NULL;
	kv->value = unb64(v ? v : "", &kv->value_len);
	kv->mod_revision = etcd_json_i64(o, "mod_revision");
	kv->create_revision = etcd_json_i64(o, "create_revision");
	if (!kv->key || !kv->value) {
		free(kv->key);
		free(kv->value);
		memset(kv, 0, sizeof(*kv));
		return -EIO;
	}
	return 0;
}

int etcd_json_kvs(struct json_object *rep, struct etcd_kvs *out, bool *more, char *err,
		  size_t errlen)
{
	struct json_object *kvs = etcd_json_get(rep, "kvs");
	size_t n = json_object_is_type(kvs, json_type_array) ? json_object_array_length(kvs) : 0;
	struct etcd_kv *grown;

	out->revision = etcd_json_i64(etcd_json_get(rep, "header"), "revision");
	if (more)
		*more = json_object_get_boolean(etcd_json_get(rep, "more"));
	grown = realloc(out->v, (out->n + n + 1) * sizeof(*out->v));
	if (!grown)
		return -ENOMEM;
	out->v = grown;
	for (size_t i = 0; i < n; i++) {
		if (etcd_json_kv(json_object_array_get_idx(kvs, i), &out->v[out->n])) {
			snprintf(err, errlen, "etcd: a key or value not base64");
			return -EIO;
		}
		out->n++;
	}
	return 0;
}
