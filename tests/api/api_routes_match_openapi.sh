#!/usr/bin/env bash
# docs/api.yaml is the control API's contract: every route it names is served (the daemon's route
# table, `daemon --api-routes`, and a request to it on a live daemon is routed, not "no such
# route"), every route served is in it, and it is valid OpenAPI by a real validator
# (@apidevtools/swagger-cli, installed from npm into the build dir; no install, no pass).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

SPEC=$ROOT/docs/api.yaml
NPM=$BUILD/npm
# A version of its own (the latest would change under the test); npm's errors kept for the log.
if [[ ! -x $NPM/node_modules/.bin/swagger-cli ]]; then
	npm install --prefix "$NPM" --no-audit --no-fund @apidevtools/swagger-cli@4.0.4 \
		>"$BUILD/npm-swagger-cli.log" 2>&1 || cat "$BUILD/npm-swagger-cli.log" >&2
fi
check "swagger-cli installed from npm" test -x "$NPM/node_modules/.bin/swagger-cli"
check "docs/api.yaml is valid OpenAPI" "$NPM/node_modules/.bin/swagger-cli" validate "$SPEC" \
	>/dev/null

# The yaml's routes, "METHOD PATH" sorted: a path is a two-space key under `paths:`, its methods
# four-space keys under it.
documented=$(awk '/^paths:/ { in_paths = 1; next }
	/^[^ ]/ { in_paths = 0 }
	in_paths && /^  \/[^ ]*:$/ { path = $1; sub(/:$/, "", path); next }
	in_paths && /^    (get|put|post|delete|patch|head):/ {
		m = $1; sub(/:$/, "", m); print toupper(m) " " path }' "$SPEC" | sort)
served=$("$GEOBLOCK" daemon --api-routes | sort)
check "the yaml names routes" test -n "$documented"
check_eq "the routes served are the routes documented" "$documented" "$served"

# On a live daemon, every documented route is routed (anything but the "no such route" 404).
"$GEOBLOCK" meeting add probe --ports 8801 --block DE >/dev/null 2>&1
tmp=$(mktemp -d /tmp/gbapi.XXXXXX)
on_exit rm -rf "$tmp"
SOCK=$tmp/api.sock
"$GEOBLOCK" daemon --metrics 127.0.0.1:0 --api "$SOCK" >"$tmp/out" 2>&1 &
pid=$!
on_exit kill_child "$pid"
wait_until 10 test -S "$SOCK" || fail "daemon did not listen: $(cat "$tmp/out")"
while read -r method path; do
	url=http://geoblock${path//\{name\}/probe}
	body=$(curl -s --unix-socket "$SOCK" -X "$method" -d '{}' "$url")
	if [[ $body == *'no such route'* || $body == *'method not allowed'* ]]; then
		fail "$method $path is documented but not served: $body"
	else
		pass
	fi
done <<<"$documented"
body=$(curl -s --unix-socket "$SOCK" -w '%{http_code}' http://geoblock/v1/nothing-here)
check_eq "an undocumented path is no route" \
	'{"error":"no such route; see docs/api.yaml"}404' "$body"
summary
