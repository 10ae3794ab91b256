// SPDX-License-Identifier: GPL-2.0
/*
 * The control API's request bodies: the bytes read as JSON, then each change's body checked and
 * turned into what state/ops takes, before any map is opened (tests/fuzz/fuzz_api.c feeds these
 * the same way the server does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "lib/parse.h"
#include "api/spec_json.h"
#include "api/body.h"

/* The members of every object in o. */
static size_t members(struct json_object *o)
{
	size_t n = 0;

	if (json_object_is_type(o, json_type_array))
		for (size_t i = 0; i < json_object_array_length(o); i++)
			n += members(json_object_array_get_idx(o, i));
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val) {
			(void)key;
			n += 1 + members(val);
		}
	}
	return n;
}

/* What JSON text (valid) writes that the parser does not tell: see scan_text. */
struct text_scan {
	size_t members;		/* one ':' outside strings each */
	bool nul;		/* a string with \u0000, which the parser cuts it short at */
	bool huge;		/* an integer past 64 bits, which the parser reads as the nearest */
};

/* Whether the integer at buf (len bytes, JSON's grammar) fits 64 bits, signed or not. */
static bool integer_fits(const char *buf, size_t len)
{
	char num[32], *end;

	if (len >= sizeof(num))
		return false;
	memcpy(num, buf, len);
	num[len] = '\0';
	errno = 0;
	if (*num == '-')
		(void)strtoll(num, &end, 10);
	else
		(void)strtoull(num, &end, 10);
	return errno != ERANGE;
}

static void scan_text(const char *buf, size_t len, struct text_scan *t)
{
	bool in_string = false;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < len; i++) {
		if (in_string && buf[i] == '\\') {
			t->nul |= i + 5 < len && !memcmp(buf + i + 1, "u0000", 5);
			i++;
		} else if (buf[i] == '"') {
			in_string = !in_string;
		} else if (!in_string && buf[i] == ':') {
			t->members++;
		} else if (!in_string && (buf[i] == '-' || (buf[i] >= '0' && buf[i] <= '9'))) {
			bool integer = true;
			size_t n = 0;

			/* Within len: the bytes need not end in a NUL. */
			for (; i + n < len && buf[i + n] && strchr("-+0123456789.eE", buf[i + n]); n++)
				integer &= !strchr("+.eE", buf[i + n]);
			/* A fraction or an exponent is a double: no list takes one. */
			if (integer)
				t->huge |= !integer_fits(buf + i, n);
			i += n - 1;
		}
	}
}

static int parse_json(const char *buf, size_t len, bool exact, struct json_object **out,
		      char *err, size_t errlen)
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
	/* A number or literal ends at what follows it: "null" is whole, "{" still is not. */
	if (jerr == json_tokener_continue) {
		*out = json_tokener_parse_ex(tok, " ", 1);
		jerr = json_tokener_get_error(tok);
	}
	json_tokener_free(tok);
	if (jerr == json_tokener_success) {
		struct text_scan t;

		scan_text(buf, len, &t);
		/* The parser keeps the last of a name given twice: not for it to pick. */
		if (members(*out) != t.members)
			snprintf(err, errlen, "the body gives a name twice in one object");
		else if (t.nul && exact)
			snprintf(err, errlen, "the body has a NUL character (\\u0000) in a string");
		else if (t.huge && exact)
			snprintf(err, errlen, "the body has an integer past 64 bits");
		else
			return 0;
		json_object_put(*out);
		*out = NULL;
		return -EINVAL;
	}
	json_object_put(*out);
	*out = NULL;
	snprintf(err, errlen, "the body is not JSON: %s", jerr == json_tokener_continue ?
		 "it ends too early" : json_tokener_error_desc(jerr));
	return -EINVAL;
}

int body_json(const char *buf, size_t len, struct json_object **out, char *err, size_t errlen)
{
	return parse_json(buf, len, true, out, err, errlen);
}

int body_json_loose(const char *buf, size_t len, struct json_object **out, char *err,
		    size_t errlen)
{
	return parse_json(buf, len, false, out, err, errlen);
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

/* The optional "reason" of a change body: absent, or a string reason_check takes. */
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
	return reason_check(*reason, err, len);
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
	/* Which of the two was meant is not for the filter to guess. */
	for (__u32 p = 1; !ret && b->has_add && b->has_remove && p < GB_PORT_COUNT; p++)
		if (port_isset(b->add, p) && port_isset(b->remove, p)) {
			snprintf(err, errlen, "port %u is both in \"add\" and in \"remove\"", p);
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
	for (size_t i = 0; !ret && i < b->n_add; i++)
		if (ufrag_list_has(b->remove, b->n_remove, b->add[i])) {
			snprintf(err, errlen, "ufrag %s is both in \"add\" and in \"remove\"",
				 b->add[i]);
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
