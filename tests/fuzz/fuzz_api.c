// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target: the control API's request bodies, through the functions the daemon calls on them
 * (user/api/body.c), without maps. The first byte picks the route (0 PUT /v1/meetings/board, 1
 * POST .../ports, 2 POST /v1/apply, 3 DELETE); the rest is the body. A refusal is -EINVAL (or
 * -ENOMEM) with one printable line; an accepted spec has a valid name, the path's, and written
 * back as the API writes it (spec_to_json) reads back the same; accepted ports are some to add
 * or remove and print back to the same set; an accepted apply passes spec_list_check and its
 * meetings read back the same too.
 */
#include <errno.h>
#include <json-c/json.h>
#include "lib/country.h"
#include "api/body.h"
#include "api/spec_json.h"
#include "fuzz.h"

#define NOW 1767225600	/* 2026-01-01T00:00:00Z: fixed, so that inputs replay alike */

static void refused_cleanly(int ret, const char *err, size_t cap, const char *what)
{
	FUZZ_ASSERT(ret == -EINVAL || ret == -ENOMEM, "%s returned %d", what, ret);
	FUZZ_ASSERT(fuzz_message_ok(err, cap), "%s: message \"%s\"", what, err);
}

/* The spec as the API writes it (GET), through the bytes, read back as a PUT body. */
static void round_trip(const struct meeting_spec *s)
{
	struct json_object *o = spec_to_json(s), *in;
	struct meeting_spec again;
	char err[1024] = "";
	const char *text;
	int ret;

	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ret = body_json(text, strlen(text), &in, err, sizeof(err));
	FUZZ_ASSERT(!ret, "the API's own JSON does not read: %s: %s", err, text);
	ret = body_meeting(in, s->name, NOW, &again, err, sizeof(err));
	FUZZ_ASSERT(!ret, "written back, meeting %s is refused: %s: %s", s->name, err, text);
	FUZZ_ASSERT(spec_equal(s, &again, false), "meeting %s written as %s reads back otherwise",
		    s->name, text);
	spec_free(&again);
	json_object_put(in);
	json_object_put(o);
}

static void ports_round_trip(const __u8 *ports, const char *key)
{
	struct json_object *o = json_object_new_object(), *in;
	static __u8 again[GB_PORT_COUNT / 8];
	char err[1024] = "";
	const char *text;
	bool given;
	int ret;

	json_object_object_add(o, key, ports_to_json(ports));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ret = body_json(text, strlen(text), &in, err, sizeof(err));
	FUZZ_ASSERT(!ret, "the API's own JSON does not read: %s: %s", err, text);
	memset(again, 0, sizeof(again));
	ret = ports_from_json(in, key, again, &given, err, sizeof(err));
	FUZZ_ASSERT(!ret && given, "\"%s\" written as %s is refused: %s", key, text, err);
	FUZZ_ASSERT(!memcmp(ports, again, sizeof(again)), "\"%s\" written as %s reads otherwise",
		    key, text);
	json_object_put(in);
	json_object_put(o);
}

static bool any_port(const __u8 *ports)
{
	for (size_t i = 0; i < GB_PORT_COUNT / 8; i++)
		if (ports[i])
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ports_body ports;
	struct json_object *in;
	struct apply_body apply;
	struct meeting_spec s;
	char err[1024] = "";
	const char *reason;
	int ret;

	if (!size)
		return 0;
	ret = body_json((const char *)data + 1, size - 1, &in, err, sizeof(err));
	if (ret) {
		refused_cleanly(ret, err, sizeof(err), "body_json");
		FUZZ_ASSERT(!in, "a refused body left a JSON value");
		return 0;
	}
	switch (data[0] & 3) {
	case 0:
		ret = body_meeting(in, "board", NOW, &s, err, sizeof(err));
		if (ret) {
			refused_cleanly(ret, err, sizeof(err), "body_meeting");
			break;
		}
		FUZZ_ASSERT(!strcmp(s.name, "board"), "PUT board accepted meeting \"%s\"", s.name);
		FUZZ_ASSERT(!s.expires || s.expires > NOW, "an expiry in the past accepted");
		round_trip(&s);
		spec_free(&s);
		break;
	case 1:
		ret = body_ports(in, &ports, err, sizeof(err));
		if (ret) {
			refused_cleanly(ret, err, sizeof(err), "body_ports");
			break;
		}
		FUZZ_ASSERT(ports.has_add || ports.has_remove, "no ports, accepted");
		FUZZ_ASSERT(!ports.has_add || any_port(ports.add), "\"add\" given, but empty");
		FUZZ_ASSERT(!ports.has_remove || any_port(ports.remove),
			    "\"remove\" given, but empty");
		if (ports.has_add)
			ports_round_trip(ports.add, "add");
		if (ports.has_remove)
			ports_round_trip(ports.remove, "remove");
		break;
	case 2:
		ret = body_apply(in, NOW, &apply, err, sizeof(err));
		if (ret) {
			refused_cleanly(ret, err, sizeof(err), "body_apply");
			FUZZ_ASSERT(!apply.want.n && !apply.want.v, "a refused apply left meetings");
			break;
		}
		ret = spec_list_check(&apply.want, err, sizeof(err));
		FUZZ_ASSERT(!ret, "an accepted apply fails its check: %s", err);
		for (size_t i = 0; i < apply.want.n; i++) {
			FUZZ_ASSERT(meeting_name_valid(apply.want.v[i].name), "name \"%s\"",
				    apply.want.v[i].name);
			round_trip(&apply.want.v[i]);
		}
		spec_list_free(&apply.want);
		break;
	default:
		ret = body_delete(in, &reason, err, sizeof(err));
		if (ret)
			refused_cleanly(ret, err, sizeof(err), "body_delete");
		else
			FUZZ_ASSERT(!reason || strlen(reason) ==
				    (size_t)json_object_get_string_len(json_object_object_get(in,
										  "reason")),
				    "a reason with a NUL accepted");
		break;
	}
	json_object_put(in);
	return 0;
}
