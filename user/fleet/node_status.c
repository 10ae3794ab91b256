// SPDX-License-Identifier: GPL-2.0
/*
 * A fleet node's status as its key holds it: what it applied and refused, and whether its GeoIP
 * table is the one the store names (build time, and the file's SHA-256 if named).
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include "lib/errors.h"
#include "state/managed.h"
#include "state/records.h"
#include "state/report.h"
#include "fleet/node_status.h"

/*
 * The SHA-256 of the loaded table's file (the copy `geoip load` keeps), "" when the table came
 * from several files or none is kept; read again only when the copy changed.
 */
static const char *loaded_sha256(const struct gb_ctx *ctx, struct geoip_digest *d)
{
	unsigned char md[EVP_MAX_MD_SIZE], buf[1 << 16];
	struct state_geoip_conf conf;
	char path[PATH_MAX];
	EVP_MD_CTX *c;
	unsigned int len;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ctx->state_dir, STATE_GEOIP_COPY);
	if (state_geoip_conf_read(ctx, &conf) || conf.files != 1 || stat(path, &st)) {
		*d->hex = '\0';
		return d->hex;
	}
	if (st.st_ino == d->file.st_ino && st.st_size == d->file.st_size &&
	    st.st_mtim.tv_sec == d->file.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == d->file.st_mtim.tv_nsec)
		return d->hex;
	*d->hex = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	c = EVP_MD_CTX_new();
	if (fd >= 0 && c && EVP_DigestInit_ex(c, EVP_sha256(), NULL)) {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			EVP_DigestUpdate(c, buf, n);
		if (!n && EVP_DigestFinal_ex(c, md, &len)) {
			for (unsigned int i = 0; i < len; i++)
				snprintf(d->hex + 2 * i, 3, "%02x", md[i]);
			d->file = st;
		}
	}
	EVP_MD_CTX_free(c);
	if (fd >= 0)
		close(fd);
	return d->hex;
}

void node_status_own_init(struct own_status *o)
{
	char host[256];
	__u64 id = 0;

	memset(o, 0, sizeof(*o));
	if (gethostname(host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	host[sizeof(host) - 1] = '\0';
	/* A clone keeps the host name, and may start the daemon under the same PID. */
	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (__u64)time(NULL) << 20 ^ (__u64)clock();
	snprintf(o->instance, sizeof(o->instance), "%s pid %ld id %016llx", host, (long)getpid(),
		 (unsigned long long)id);
}

bool node_status_own_event(struct own_status *o, const char *value, const char *node)
{
	struct json_object *j, *v;
	bool news = false;

	if (!value) {
		o->lost++;
		return true;
	}
	j = json_tokener_parse(value);
	/* Not a daemon's (etcdctl, a cut write): written again at once, as when deleted. */
	if (!j || !json_object_object_get_ex(j, "instance", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		json_object_put(j);
		o->lost++;
		return true;
	}
	if (strcmp(json_object_get_string(v), o->instance)) {
		news = strcmp(json_object_get_string(v), o->twin);
		if (news)
			gb_warn("fleet: another daemon (%s) follows the store as node %s too",
				json_object_get_string(v), node);
		snprintf(o->twin, sizeof(o->twin), "%s", json_object_get_string(v));
		o->twin_seen = time(NULL);
	}
	json_object_put(j);
	return news;
}

const char *node_status_own_twin(struct own_status *o)
{
	if (*o->twin && time(NULL) - o->twin_seen > NODE_TWIN_GONE_S)
		o->twin[0] = '\0';
	return *o->twin ? o->twin : NULL;
}

struct json_object *node_status_json(const struct gb_ctx *ctx, const struct node_facts *f,
				     struct geoip_digest *d)
{
	struct json_object *o = json_object_new_object(), *rep = NULL, *g = NULL, *v, *refused;
	struct json_object *geoip = json_object_new_object();
	long long epoch = 0;
	const char *sha;

	if (!status_json(ctx, &rep)) {
		json_object_object_get_ex(rep, "geoip", &g);
		if (g && json_object_object_get_ex(g, "build_epoch", &v))
			epoch = json_object_get_int64(v);
	}
	json_object_object_add(o, "node", json_object_new_string(f->node));
	json_object_object_add(o, "revision", json_object_new_int64(f->revision));
	json_object_object_add(o, "connected", json_object_new_boolean(f->connected));
	sha = loaded_sha256(ctx, d);
	json_object_object_add(geoip, "build_epoch", json_object_new_int64(epoch));
	json_object_object_add(geoip, "sha256", *sha ? json_object_new_string(sha) : NULL);
	if (f->geoip_given) {
		struct json_object *want = json_object_new_object();

		json_object_object_add(want, "build_epoch",
				       json_object_new_int64(f->geoip_build_epoch));
		json_object_object_add(want, "sha256", *f->geoip_sha256 ?
				       json_object_new_string(f->geoip_sha256) : NULL);
		json_object_object_add(geoip, "expected", want);
	}
	/* A digest the store names must be the loaded file's; unknown here: not a match. */
	json_object_object_add(geoip, "matches", f->geoip_given ? json_object_new_boolean(
				       f->geoip_build_epoch == (__u64)epoch &&
				       (!*f->geoip_sha256 || !strcmp(f->geoip_sha256, sha))) : NULL);
	json_object_object_add(o, "geoip", geoip);
	json_object_object_add(o, "meetings", rep && json_object_object_get_ex(rep, "meetings", &v) ?
			       json_object_get(v) : NULL);
	json_object_object_add(o, "attachments", rep &&
			       json_object_object_get_ex(rep, "attachments", &v) ?
			       json_object_get(v) : json_object_new_array());
	refused = json_object_new_array();
	/* The first ones: a value stays far below etcd's request limit (1.5 MiB), however many. */
	for (size_t i = 0; i < f->n_refused && i < NODE_STATUS_REJECTED_MAX; i++) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "key", json_object_new_string(f->refused[i].key));
		json_object_object_add(r, "reason", json_object_new_string(f->refused[i].reason));
		json_object_array_add(refused, r);
	}
	json_object_object_add(o, "rejected", refused);
	json_object_object_add(o, "rejected_count", json_object_new_int64(f->n_refused));
	json_object_object_add(o, "last_error", json_object_new_string(f->error));
	json_object_object_add(o, "drift", json_object_new_boolean(managed_drift(ctx)));
	json_object_object_add(o, "instance", json_object_new_string(f->instance));
	json_object_object_add(o, "twin", f->twin ? json_object_new_string(f->twin) : NULL);
	json_object_put(rep);
	return o;
}

void node_status_error(char *field, size_t len, const char *msg)
{
	if (*msg && strcmp(msg, field))
		fprintf(stderr, "geoblock: fleet: %s\n", msg);
	snprintf(field, len, "%s", msg);
}
