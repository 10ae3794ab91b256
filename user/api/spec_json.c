// SPDX-License-Identifier: GPL-2.0
/*
 * A meeting spec in JSON, both ways. Read: the fields become the words of `meeting add` and go
 * through spec_parse, so that the API, the CLI, apply files and the rules file share one grammar
 * and one set of error lines.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/parse.h"
#include "state/rules_file.h"
#include "api/spec_json.h"

/*
 * The longest list the words may carry: as long as a body can be (server.h's 1 MiB), so that
 * the meeting a GET gives can be PUT back whatever its ufrags; at most as many items as there
 * are ufrags in "ufrags", as there are ports in the others.
 */
#define LIST_MAX	(1 << 20)

static const char *const spec_fields[] = {
	"name", "ports", "ufrags", "janus_rooms", "block", "allow", "proto", "mode", "expires", NULL
};

static bool known(const char *key, bool with_reason)
{
	for (int i = 0; spec_fields[i]; i++)
		if (!strcmp(key, spec_fields[i]))
			return true;
	return with_reason && !strcmp(key, "reason");
}

/*
 * The array at key (at most max items) joined with commas into out (malloc'd); NULL when absent.
 * Items are strings (or, for ports and room ids, integers too); a comma inside an item would
 * smuggle in a second one.
 */
static int join_list(struct json_object *o, const char *key, bool ints, size_t max, char **out,
		     char *err, size_t errlen)
{
	struct json_object *arr, *item;
	size_t len = 0, n;
	char *buf;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "\"%s\" must be an array of %s", key,
			 ints ? "integers or strings" : "strings");
		return -EINVAL;
	}
	n = json_object_array_length(arr);
	if (n > max) {
		snprintf(err, errlen, "\"%s\" has %zu items; at most %zu", key, n, max);
		return -EINVAL;
	}
	buf = malloc(LIST_MAX + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	*buf = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *v;
		char num[24];

		item = json_object_array_get_idx(arr, i);
		if (ints && json_object_is_type(item, json_type_int)) {
			/* Room ids go past INT64_MAX: a non-negative number read as unsigned. */
			if (json_object_get_int64(item) < 0)
				snprintf(num, sizeof(num), "%lld",
					 (long long)json_object_get_int64(item));
			else
				snprintf(num, sizeof(num), "%llu",
					 (unsigned long long)json_object_get_uint64(item));
			v = num;
		} else if (json_object_is_type(item, json_type_string)) {
			v = json_object_get_string(item);
		} else {
			snprintf(err, errlen, "\"%s\" item %zu must be %s", key, i + 1,
				 ints ? "an integer or a string" : "a string");
			goto bad;
		}
		/* A NUL inside a string would cut it short unseen. */
		if (!*v || strchr(v, ',') ||
		    (v != num && strlen(v) != (size_t)json_object_get_string_len(item))) {
			snprintf(err, errlen, "\"%s\" item %zu must be one non-empty item, without ','",
				 key, i + 1);
			goto bad;
		}
		if (len + strlen(v) + 1 > LIST_MAX) {
			snprintf(err, errlen, "\"%s\" is too long", key);
			goto bad;
		}
		len += snprintf(buf + len, LIST_MAX + 1 - len, "%s%s", i ? "," : "", v);
	}
	*out = buf;
	return 0;
bad:
	free(buf);
	return -EINVAL;
}

static int get_string(struct json_object *o, const char *key, const char **out, bool null_ok,
		      char *err, size_t errlen)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || (null_ok && !v))
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		snprintf(err, errlen, "\"%s\" must be a string%s", key, null_ok ? " or null" : "");
		return -EINVAL;
	}
	*out = json_object_get_string(v);
	return 0;
}

int spec_from_json(struct json_object *o, const char *name, bool with_reason, __s64 now,
		   unsigned int flags, struct meeting_spec *s, char *err, size_t errlen)
{
	const char *given, *mode, *expires, *reason;
	/*
	 * At most 20 words and the NULL: "add", 6 options with their lists, --monitor, --expires
	 * and --reason with theirs, "--", the name.
	 */
	char *lists[6] = {}, *argv[21], *words[8] = {};
	static const char *const list_keys[6] = { "ports", "block", "allow", "proto", "ufrags",
						  "janus_rooms" };
	static const char *const list_opts[6] = { "--ports", "--block", "--allow", "--proto",
						  "--ufrag", "--janus-room" };
	int argc = 0, err_ret;

	memset(s, 0, sizeof(*s));
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "a meeting must be a JSON object");
		return -EINVAL;
	}
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (!known(key, with_reason)) {
			char shown[64 * 4 + 1];

			snprintf(err, errlen, "unknown field \"%s\"",
				 printable(key, strlen(key), 64, shown, sizeof(shown)));
			return -EINVAL;
		}
	}
	err_ret = get_string(o, "name", &given, false, err, errlen);
	if (!err_ret && !given && !name) {
		snprintf(err, errlen, "\"name\" is required");
		err_ret = -EINVAL;
	}
	if (!err_ret && given && name && strcmp(given, name)) {
		snprintf(err, errlen, "\"name\" differs from the meeting named in the path");
		err_ret = -EINVAL;
	}
	if (!err_ret)
		err_ret = get_string(o, "mode", &mode, false, err, errlen);
	if (!err_ret && mode && strcmp(mode, "enforce") && strcmp(mode, "monitor")) {
		snprintf(err, errlen, "\"mode\" must be \"enforce\" or \"monitor\"");
		err_ret = -EINVAL;
	}
	if (!err_ret)
		err_ret = get_string(o, "expires", &expires, true, err, errlen);
	if (!err_ret)
		err_ret = get_string(o, "reason", &reason, false, err, errlen);
	for (int i = 0; i < 6 && !err_ret; i++)
		err_ret = join_list(o, list_keys[i], !i || i == 5,
				    strcmp(list_keys[i], "ufrags") ? GB_PORT_COUNT : GB_UFRAGS_MAX,
				    &lists[i], err, errlen);
	/* Said in the body's words, not in the command line's that spec_parse would use. */
	if (!err_ret && !lists[1]) {
		snprintf(err, errlen, "\"block\" is required");
		err_ret = -EINVAL;
	} else if (!err_ret && !(lists[0] && *lists[0]) && !(lists[4] && *lists[4]) &&
		   !(lists[5] && *lists[5])) {
		snprintf(err, errlen, "one of \"ports\", \"ufrags\" or \"janus_rooms\" is required");
		err_ret = -EINVAL;
	}
	if (err_ret)
		goto out;

	argv[argc++] = "add";
	for (int i = 0; i < 6; i++) {
		/*
		 * An empty list of exceptions, ufrags or rooms is none at all, so are empty ports
		 * beside ufrags or rooms (as meeting list gives them); the others say what is wrong.
		 */
		bool none = lists[i] && !*lists[i] &&
			    (i == 2 || i == 4 || i == 5 || (i == 0 && ((lists[4] && *lists[4]) ||
									(lists[5] && *lists[5]))));

		if (!lists[i] || none)
			continue;
		/* OPTION=VALUE: a value that starts as an option would is the body's, not refused. */
		if (asprintf(&words[i], "%s=%s", list_opts[i], lists[i]) < 0) {
			words[i] = NULL;
			goto oom;
		}
		argv[argc++] = words[i];
	}
	if (mode && !strcmp(mode, "monitor"))
		argv[argc++] = "--monitor";
	if (expires && asprintf(&words[6], "--expires=%s", expires) < 0)
		words[6] = NULL;
	if (reason && asprintf(&words[7], "--reason=%s", reason) < 0)
		words[7] = NULL;
	if ((expires && !words[6]) || (reason && !words[7]))
		goto oom;
	if (expires)
		argv[argc++] = words[6];
	if (reason)
		argv[argc++] = words[7];
	argv[argc++] = "--";
	argv[argc++] = (char *)(given ? given : name);
	argv[argc] = NULL;
	err_ret = spec_parse(argc, argv, now, flags, s, err, errlen);
	if (err_ret == SPEC_HELP)
		err_ret = -EINVAL;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
	err_ret = -ENOMEM;
out:
	for (int i = 0; i < 6; i++)
		free(lists[i]);
	for (int i = 0; i < 8; i++)
		free(words[i]);
	return err_ret;
}

int specs_from_json(struct json_object *arr, __s64 now, struct spec_list *l, char *err,
		    size_t errlen)
{
	char msg[512];
	int ret = 0;

	memset(l, 0, sizeof(*l));
	if (!json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "\"meetings\" must be an array of meetings");
		return -EINVAL;
	}
	for (size_t i = 0; i < json_object_array_length(arr) && !ret; i++) {
		struct meeting_spec s;

		ret = spec_from_json(json_object_array_get_idx(arr, i), NULL, false, now, 0, &s, msg,
				     sizeof(msg));
		if (ret) {
			snprintf(err, errlen, "meeting %zu: %s", i + 1, msg);
			break;
		}
		ret = spec_list_push(l, &s);
		if (ret) {
			spec_free(&s);
			snprintf(err, errlen, "out of memory");
		}
	}
	if (!ret)
		ret = spec_list_check(l, err, errlen);
	if (ret)
		spec_list_free(l);
	return ret;
}

int ports_from_json(struct json_object *o, const char *key, __u8 ports[GB_PORT_COUNT / 8],
		    bool *given, char *err, size_t errlen)
{
	char *list, msg[512];
	int ret;

	*given = false;
	ret = join_list(o, key, true, GB_PORT_COUNT, &list, msg, sizeof(msg));
	if (!ret && list && *list) {
		*given = true;
		ret = parse_ports(list, ports, msg, sizeof(msg));
	}
	if (ret)
		snprintf(err, errlen, "%s", msg);
	free(list);
	return ret;
}

int ufrags_from_json(struct json_object *o, const char *key, char ***out, size_t *n,
		     bool *given, char *err, size_t errlen)
{
	char *list, msg[512];
	int ret;

	*out = NULL;
	*n = 0;
	*given = false;
	ret = join_list(o, key, false, GB_UFRAGS_MAX, &list, msg, sizeof(msg));
	if (!ret && list && *list) {
		*given = true;
		ret = parse_ufrags(list, out, n, msg, sizeof(msg));
	}
	if (ret)
		snprintf(err, errlen, "%s", msg);
	free(list);
	return ret;
}

struct json_object *ufrags_to_json(char *const *ufrags, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(ufrags[i]));
	return arr;
}

struct json_object *ports_to_json(const __u8 ports[GB_PORT_COUNT / 8])
{
	struct json_object *arr = json_object_new_array();
	char item[16];

	/* The ranges format_ports writes, one string each. */
	for (unsigned int p = port_next(ports, 1), q; p < GB_PORT_COUNT; p = port_next(ports, q + 1)) {
		for (q = p; q + 1 < GB_PORT_COUNT && port_isset(ports, q + 1); q++)
			;
		if (q > p)
			snprintf(item, sizeof(item), "%u-%u", p, q);
		else
			snprintf(item, sizeof(item), "%u", p);
		json_object_array_add(arr, json_object_new_string(item));
	}
	return arr;
}

struct json_object *spec_to_json(const struct meeting_spec *s)
{
	struct json_object *o = json_object_new_object(), *block = json_object_new_array();
	struct json_object *allow = json_object_new_array(), *proto = json_object_new_array();
	struct json_object *ufrags = ufrags_to_json(s->ufrags, s->n_ufrags);
	struct json_object *rooms = json_object_new_array();
	char when[32];

	for (size_t i = 0; i < s->n_janus_rooms; i++)
		json_object_array_add(rooms, json_object_new_uint64(s->janus_rooms[i]));
	for (__u16 c = 1; c < GB_COUNTRY_COUNT; c++) {
		char cc[3];

		if (!country_isset(s->blocked, c))
			continue;
		country_code(c, cc);
		json_object_array_add(block, json_object_new_string(cc));
	}
	for (size_t i = 0; i < s->n_allow; i++) {
		char net[64];

		format_cidr(&s->allow[i], net, sizeof(net));
		json_object_array_add(allow, json_object_new_string(net));
	}
	if (s->flags & GB_MEETING_UDP)
		json_object_array_add(proto, json_object_new_string("udp"));
	if (s->flags & GB_MEETING_TCP)
		json_object_array_add(proto, json_object_new_string("tcp"));
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "ports", ports_to_json(s->ports));
	json_object_object_add(o, "ufrags", ufrags);
	json_object_object_add(o, "janus_rooms", rooms);
	json_object_object_add(o, "block", block);
	json_object_object_add(o, "allow", allow);
	json_object_object_add(o, "proto", proto);
	json_object_object_add(o, "mode", json_object_new_string(
				   s->flags & GB_MEETING_MONITOR ? "monitor" : "enforce"));
	json_object_object_add(o, "expires", s->expires && !format_rfc3339(s->expires, when,
				sizeof(when)) ? json_object_new_string(when) : NULL);
	return o;
}
