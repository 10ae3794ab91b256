// SPDX-License-Identifier: GPL-2.0
/*
 * The control API's request bodies: the bytes read as JSON, then each change's body checked and
 * turned into what state/ops takes, before any map is opened (tests/fuzz/fuzz_api.c feeds these
 * the same way the server does).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "api/spec_json.h"
#include "api/body.h"

int body_json(const char *buf, size_t len, struct json_object **out, char *err, size_t errlen)
{
	enum json_tokener_error jerr;
	struct json_tokener *tok;

	*out = NULL;
	if (!len)
		return 0;
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* JSON as RFC 8259 has it: no single quotes, trailing commas or bad escapes. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	*out = json_tokener_parse_ex(tok, buf, len);
	jerr = json_tokener_get_error(tok);
	/* Trailing bytes after the value are as bad as a value cut short. */
	if (jerr == json_tokener_success && json_tokener_get_parse_end(tok) != len)
		jerr = json_tokener_error_parse_unexpected;
	json_tokener_free(tok);
	if (jerr == json_tokener_success)
		return 0;
	json_object_put(*out);
	*out = NULL;
	snprintf(err, errlen, "the body is not JSON: %s", jerr == json_tokener_continue ?
		 "it ends too early" : json_tokener_error_desc(jerr));
	return -EINVAL;
}

/* Fields of a change body other than the ones named: refused, as in a spec. */
static int only_fields(struct json_object *in, const char *const *names, char *err, size_t len)
{
	if (!json_object_is_type(in, json_type_object)) {
		snprintf(err, len, "the body must be a JSON object");
		return -EINVAL;
	}
	json_object_object_foreach(in, key, val) {
		char shown[64 * 4 + 1];
		bool ok = false;

		(void)val;
		for (int i = 0; names[i] && !ok; i++)
			ok = !strcmp(key, names[i]);
		if (!ok) {
			snprintf(err, len, "unknown field \"%s\"",
				 printable(key, strlen(key), 64, shown, sizeof(shown)));
			return -EINVAL;
		}
	}
	return 0;
}

/* The optional "reason" of a change body: a string without NUL, or absent. */
static int reason_of(struct json_object *in, const char **reason, char *err, size_t len)
{
	struct json_object *v;

	*reason = NULL;
	if (!json_object_object_get_ex(in, "reason", &v))
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v)) {
		snprintf(err, len, "\"reason\" must be a string");
		return -EINVAL;
	}
	*reason = json_object_get_string(v);
	return 0;
}

/* What the body got wrong, whatever errno the grammar gave (-ERANGE: a time or port too big). */
static int refused(int ret)
{
	return ret == -ENOMEM || !ret ? ret : -EINVAL;
}

int body_meeting(struct json_object *in, const char *name, __s64 now, struct meeting_spec *s,
		 char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (!in) {
		snprintf(err, errlen, "a meeting spec is required as the body");
		return -EINVAL;
	}
	return refused(spec_from_json(in, name, true, now, 0, s, err, errlen));
}

int body_delete(struct json_object *in, const char **reason, char *err, size_t errlen)
{
	static const char *const fields[] = { "reason", NULL };

	*reason = NULL;
	if (!in)
		return 0;
	if (only_fields(in, fields, err, errlen))
		return -EINVAL;
	return reason_of(in, reason, err, errlen);
}

int body_ports(struct json_object *in, struct ports_body *b, char *err, size_t errlen)
{
	static const char *const fields[] = { "add", "remove", "reason", NULL };
	int ret;

	memset(b, 0, sizeof(*b));
	if (!in) {
		snprintf(err, errlen, "{\"add\":[...],\"remove\":[...]} is required as the body");
		return -EINVAL;
	}
	ret = only_fields(in, fields, err, errlen);
	if (!ret)
		ret = ports_from_json(in, "add", b->add, &b->has_add, err, errlen);
	if (!ret)
		ret = ports_from_json(in, "remove", b->remove, &b->has_remove, err, errlen);
	if (!ret)
		ret = reason_of(in, &b->reason, err, errlen);
	if (!ret && !b->has_add && !b->has_remove) {
		snprintf(err, errlen, "give ports to \"add\" or \"remove\"");
		ret = -EINVAL;
	}
	return refused(ret);
}

int body_ufrags(struct json_object *in, struct ufrags_body *b, char *err, size_t errlen)
{
	static const char *const fields[] = { "add", "remove", "reason", NULL };
	bool has_add = false, has_remove = false;
	int ret;

	memset(b, 0, sizeof(*b));
	if (!in) {
		snprintf(err, errlen, "{\"add\":[...],\"remove\":[...]} is required as the body");
		return -EINVAL;
	}
	ret = only_fields(in, fields, err, errlen);
	if (!ret)
		ret = ufrags_from_json(in, "add", &b->add, &b->n_add, &has_add, err, errlen);
	if (!ret)
		ret = ufrags_from_json(in, "remove", &b->remove, &b->n_remove, &has_remove, err,
				       errlen);
	if (!ret)
		ret = reason_of(in, &b->reason, err, errlen);
	if (!ret && !has_add && !has_remove) {
		snprintf(err, errlen, "give ufrags to \"add\" or \"remove\"");
		ret = -EINVAL;
	}
	if (ret)
		body_ufrags_free(b);
	return refused(ret);
}

void body_ufrags_free(struct ufrags_body *b)
{
	ufrag_list_free(b->add, b->n_add);
	ufrag_list_free(b->remove, b->n_remove);
	memset(b, 0, sizeof(*b));
}

int body_apply(struct json_object *in, __s64 now, struct apply_body *b, char *err, size_t errlen)
{
	static const char *const fields[] = { "meetings", "check", "reason", NULL };
	struct json_object *meetings, *check;
	int ret;

	memset(b, 0, sizeof(*b));
	if (!in) {
		snprintf(err, errlen, "{\"meetings\":[...]} is required as the body");
		return -EINVAL;
	}
	ret = only_fields(in, fields, err, errlen);
	if (!ret)
		ret = reason_of(in, &b->reason, err, errlen);
	if (ret)
		return ret;
	if (json_object_object_get_ex(in, "check", &check)) {
		if (!json_object_is_type(check, json_type_boolean)) {
			snprintf(err, errlen, "\"check\" must be true or false");
			return -EINVAL;
		}
		b->check = json_object_get_boolean(check);
	}
	if (!json_object_object_get_ex(in, "meetings", &meetings)) {
		snprintf(err, errlen, "\"meetings\" is required");
		return -EINVAL;
	}
	return refused(specs_from_json(meetings, now, &b->want, err, errlen));
}
