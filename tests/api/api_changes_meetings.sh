#!/usr/bin/env bash
# The control API (`geoblock daemon --api PATH`), driven with curl on its unix socket: PUT creates
# and replaces a meeting, GET reads it back, ports change in place, apply makes the whole set,
# DELETE removes one; after each the rules file and `meeting list --json` agree with the API, and
# a packet explained right after a 200 gets the new verdict. Every change is audited with the
# caller's uid, pid and request. Malformed, truncated, mistyped and unknown input is 400, an
# unknown meeting 404, a port of another meeting 409, a 2 MiB body 413, each with nothing changed.
# CLI and API changes interleave. A caller outside root and --api-group is refused by the socket's
# permissions, a member of --api-group is served and audited as itself, and the daemon is still
# up after all of it. A change that fails with EPERM (the state lock immutable) is 500, not the
# 403 of a fleet-managed rule set. A second daemon refuses the socket the first serves, a daemon's
# exit leaves a socket another made at its path since, and a socket a killed daemon left is
# replaced.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
S=$GEOBLOCK_STATE_DIR
# A short path: a unix socket's path is under 108 bytes.
tmp=$(mktemp -d /tmp/gbapi.XXXXXX)
on_exit rm -rf "$tmp"
SOCK=$tmp/run/api.sock

# 192.0.2.0/24 is German, 198.51.100.0/24 French.
printf '192.0.2.0,192.0.2.255,DE\n198.51.100.0,198.51.100.255,FR\n' >"$tmp/table.csv"
"$GEOBLOCK" geoip load --force "$tmp/table.csv" >/dev/null || fail "geoip load"
"$GEOBLOCK" meeting add cli1 --ports 7000 --block FR >/dev/null || fail "meeting add cli1"

api_daemon "$SOCK"
check "it says where it serves" grep -qx "serving the API on unix:$SOCK" "$tmp/daemon.out"
check_eq "socket is 0660" 660 "$(stat -c %a "$SOCK")"
check_eq "its directory is 0750" 750 "$(stat -c %a "$tmp/run")"

# api METHOD PATH [BODY]: prints the body, then the status on its own line.
api() {
	local args=(-s --unix-socket "$SOCK" -X "$1" -w '\n%{http_code}')
	[[ $# -gt 2 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	curl "${args[@]}" "http://geoblock$2"
}
status() { api "$@" | tail -n1; }
verdict() { "$GEOBLOCK" explain "$1" "$2" --json | jq -r .verdict; }
# The set as each side sees it, one compact line per meeting: name ports block mode.
from_api() { api GET /v1/meetings | head -n -1 |
	jq -r '.meetings[] | "\(.name) \(.ports | join(",")) \(.block | join(",")) \(.mode)"' | sort; }
from_cli() { "$GEOBLOCK" meeting list --json |
	jq -r '.[] | "\(.name) \(.ports | join(",")) \(.block | join(",")) \(.mode)"' | sort; }
from_file() { saved_rules | awk '{ n = $3; p = ""; b = ""; m = "enforce"
	for (i = 4; i <= NF; i++) { if ($i == "--ports") p = $(i + 1); if ($i == "--block") b = $(i + 1)
	if ($i == "--monitor") m = "monitor" } print n, p, b, m }' | sort; }
agree() {
	local a
	a=$(from_api)
	check_eq "$1: meeting list --json agrees with the API" "$a" "$(from_cli)"
	check_eq "$1: the rules file agrees with the API" "$a" "$(from_file)"
}
audit_last() { tail -n1 "$S/audit.log" | jq -r "$1"; }
snapshot() { echo "$(saved_files)|$(wc -l <"$S/audit.log")|$(from_api)"; }

# Create, then read back.
out=$(api PUT /v1/meetings/board \
	'{"ports":["8801-8810","9000"],"block":["de"],"allow":["198.51.100.0/24"],"reason":"kickoff"}')
check_eq "PUT creates: 200" 200 "$(tail -n1 <<<"$out")"
check_eq "PUT says created" true "$(head -n1 <<<"$out" | jq .created)"
check_eq "drop right after the 200" dropped "$(verdict 192.0.2.1 8805)"
check_eq "GET reads it back" \
	'["8801-8810","9000"] ["DE"] ["198.51.100.0/24"] ["udp"] "enforce" null' \
	"$(api GET /v1/meetings/board | head -n1 |
	   jq -c '[.ports, .block, .allow, .proto, .mode, .expires] | map(tojson) | join(" ")' -r)"
check_eq "audit: the request is the command" "PUT /v1/meetings/board" "$(audit_last .command)"
check_eq "audit: the caller's uid" "$(id -u)" "$(audit_last .uid)"
check "audit: the caller's pid" test "$(audit_last .pid)" -gt 0
check_eq "audit: the reason" kickoff "$(audit_last .reason)"
agree "after create"

# Replace, make-before-break: new ports and mode; the old ports pass at once.
check_eq "PUT replaces: 200" 200 "$(status PUT /v1/meetings/board \
	'{"name":"board","ports":["8801-8805"],"block":["DE","FR"],"mode":"monitor","reason":"FR too"}')"
# Its change lines are the rules, the reason the record's own (as for a PUT that creates).
check_eq "audit: the replacing PUT's lines and reason" \
	"FR too|- meeting add board --ports 8801-8810,9000 --block DE --allow 198.51.100.0/24|+ meeting add board --ports 8801-8805 --block DE,FR --monitor" \
	"$(audit_last '"\(.reason)|\(.changes | join("|"))"')"
# A reason that starts as an option would is the body's text (no command line to mistake it).
check_eq "PUT with the reason \"--urgent\": 200" 200 "$(status PUT /v1/meetings/board \
	'{"name":"board","ports":["8801-8805"],"block":["DE","FR"],"mode":"monitor","reason":"--urgent"}')"
check_eq "audit: that reason" "--urgent" "$(audit_last .reason)"
check_eq "replaced: monitor verdict" monitor "$(verdict 192.0.2.1 8801)"
check_eq "replaced: a dropped port passes" no_meeting "$(verdict 192.0.2.1 8809)"
agree "after replace"

# Ports in place.
out=$(api POST /v1/meetings/board/ports \
	'{"add":["20000-20001",20002],"remove":["8805"],"reason":"join"}')
check_eq "ports: 200" 200 "$(tail -n1 <<<"$out")"
check_eq "ports: the meeting's ports now" '["8801-8804","20000-20002"] 4' \
	"$(head -n1 <<<"$out" | jq -rc '"\(.ports | tojson) \(.changed)"')"
check_eq "ports: an added port is the meeting's at once" monitor "$(verdict 192.0.2.1 20001)"
check_eq "ports: a removed one passes" no_meeting "$(verdict 192.0.2.1 8805)"
check_eq "audit: ports request" "POST /v1/meetings/board/ports join" \
	"$(audit_last '"\(.command) \(.reason)"')"
agree "after ports"

# The reports: the same JSON as the CLI's --json.
same_json() { jq -S . <<<"$1"; }
check_eq "GET /v1/explain is explain --json" \
	"$(same_json "$("$GEOBLOCK" explain 192.0.2.1 20001 --json)")" \
	"$(same_json "$(api GET '/v1/explain?addr=192.0.2.1&port=20001' | head -n1)")"
check_eq "GET /v1/explain, tcp" \
	"$(same_json "$("$GEOBLOCK" explain 192.0.2.1 20001 --proto tcp --json)")" \
	"$(same_json "$(api GET '/v1/explain?addr=192.0.2.1&port=20001&proto=tcp' | head -n1)")"
check_eq "GET /v1/stats is stats --json" "$(same_json "$("$GEOBLOCK" stats --json)")" \
	"$(same_json "$(api GET /v1/stats | head -n1)")"
check_eq "GET /v1/status is status --json but change_interrupted" \
	"$(same_json "$("$GEOBLOCK" status --json | jq 'del(.change_interrupted)')")" \
	"$(same_json "$(api GET /v1/status | head -n1)")"
check_eq "explain: a bad address is 400" 400 "$(status GET '/v1/explain?addr=1.2.3&port=1')"
check_eq "explain: no port is 400" 400 "$(status GET '/v1/explain?addr=192.0.2.1')"

# CLI and API interleaved.
"$GEOBLOCK" meeting set board --enforce >/dev/null || fail "CLI meeting set between API calls"
check_eq "API sees the CLI's change" enforce \
	"$(api GET /v1/meetings/board | head -n1 | jq -r .mode)"
check_eq "PUT after the CLI" 200 "$(status PUT /v1/meetings/api2 '{"ports":[7100],"block":["FR"]}')"
"$GEOBLOCK" meeting ports add api2 7101 >/dev/null || fail "CLI ports add on an API meeting"
check_eq "drop from the CLI's port" dropped "$(verdict 198.51.100.7 7101)"
agree "interleaved"

# At the same time: 10 API PUTs and 10 CLI adds in parallel all land, serialised on the lock.
for i in $(seq 10); do
	api PUT "/v1/meetings/par-api$i" "{\"ports\":[$((7200 + i))],\"block\":[\"DE\"]}" \
		>"$tmp/par-api$i" &
	"$GEOBLOCK" meeting add "par-cli$i" --ports $((7300 + i)) --block FR >/dev/null 2>&1 &
done
wait_jobs() { local j; for j in $(jobs -p); do [[ $j == "$pid" ]] || wait "$j"; done; }
wait_jobs
check_eq "parallel: every API PUT answered 200" "$(printf '200 %.0s' $(seq 10))" \
	"$(for i in $(seq 10); do printf '%s ' "$(tail -n1 "$tmp/par-api$i")"; done)"
check_eq "parallel: all 20 meetings are there" 20 "$(from_api | grep -c '^par-')"
agree "after parallel changes"
for i in $(seq 10); do
	"$GEOBLOCK" meeting del "par-cli$i" >/dev/null 2>&1 || fail "del par-cli$i"
	[[ $(status DELETE "/v1/meetings/par-api$i") == 200 ]] || fail "DELETE par-api$i"
done

# Errors: nothing changed by any of them.
before=$(snapshot)
expect() {
	local want=$1 what=$2 out
	shift 2
	out=$(api "$@")
	check_eq "$what: status" "$want" "$(tail -n1 <<<"$out")"
	check "$what: one-line JSON error" jqe '.error | type == "string"' <<<"$(head -n1 <<<"$out")" \
		>/dev/null
}
expect 400 "malformed JSON" PUT /v1/meetings/bad '{"ports":["1"],'
expect 400 "truncated JSON" PUT /v1/meetings/bad '{"ports":["8901"],"block":["DE"'
expect 400 "trailing bytes" PUT /v1/meetings/bad '{"ports":["8901"],"block":["DE"]} x'
expect 400 "unknown field" PUT /v1/meetings/bad '{"ports":["8901"],"block":["DE"],"colour":1}'
expect 400 "wrong type" PUT /v1/meetings/bad '{"ports":"8901","block":["DE"]}'
expect 400 "wrong item type" PUT /v1/meetings/bad '{"ports":["8901"],"block":[49]}'
check_eq "wrong type: ports may be integers or strings" '"ports" must be an array of integers or strings' \
	"$(api PUT /v1/meetings/bad '{"ports":null,"block":["DE"]}' | head -n1 | jq -r .error)"
check_eq "wrong item type: a port" '"ports" item 2 must be an integer or a string' \
	"$(api PUT /v1/meetings/bad '{"ports":[8901,true],"block":["DE"]}' | head -n1 | jq -r .error)"
check_eq "a number past 64 bits: not taken as the nearest that fits" 'the body has an integer past 64 bits' \
	"$(api PUT /v1/meetings/bad '{"janus_rooms":[18446744073709551616],"block":["DE"]}' | head -n1 | jq -r .error)"
check_eq "... nor a negative one" 'the body has an integer past 64 bits' \
	"$(api PUT /v1/meetings/bad '{"ports":[-9223372036854775809],"block":["DE"]}' | head -n1 | jq -r .error)"
check_eq "... wherever it is" 'the body has an integer past 64 bits' \
	"$(api PUT /v1/meetings/bad '{"ports":[8901],"block":["DE"],"x":{"y":[99999999999999999999999]}}' | head -n1 | jq -r .error)"
# The parser cuts a name or a value at a NUL: "ports\u0000x" would be taken as "ports".
check_eq "a NUL in a name" 'the body has a NUL character (\u0000) in a string' \
	"$(api PUT /v1/meetings/bad '{"ports\u0000x":[8901],"block":["DE"]}' | head -n1 | jq -r .error)"
check_eq "a NUL in a value" 'the body has a NUL character (\u0000) in a string' \
	"$(api PUT /v1/meetings/bad '{"ports":[8901],"block":["DE"],"reason":"a\u0000b"}' | head -n1 | jq -r .error)"
check_eq "an escaped backslash before u0000 is no NUL" '"block" item 1 must be a string' \
	"$(api PUT /v1/meetings/bad '{"ports":[8901],"block":[49],"reason":"a\\u0000b"}' | head -n1 | jq -r .error)"
check_eq "wrong item type: a country" '"block" item 1 must be a string' \
	"$(api PUT /v1/meetings/bad '{"ports":["8901"],"block":[49]}' | head -n1 | jq -r .error)"
expect 400 "an item with a comma" PUT /v1/meetings/bad '{"ports":["8901,8902"],"block":["DE"]}'
expect 400 "bad country" PUT /v1/meetings/bad '{"ports":["8901"],"block":["XX"]}'
# A field missing is named as the body names it, not as the command line's option.
expect 400 "no block" PUT /v1/meetings/bad '{"ports":["8901"]}'
check_eq "no block: said in the body's words" '"block" is required' \
	"$(api PUT /v1/meetings/bad '{"ports":["8901"]}' | head -n1 | jq -r .error)"
check_eq "no ports, ufrags or rooms: said in the body's words" \
	'one of "ports", "ufrags" or "janus_rooms" is required' \
	"$(api PUT /v1/meetings/bad '{"block":["DE"]}' | head -n1 | jq -r .error)"
check_eq "empty ufrags and rooms are none: said in the body's words" \
	'one of "ports", "ufrags" or "janus_rooms" is required' \
	"$(api PUT /v1/meetings/bad '{"block":["DE"],"ufrags":[],"janus_rooms":[]}' | head -n1 | jq -r .error)"
check_eq "empty ports beside empty ufrags: said in the body's words" \
	'one of "ports", "ufrags" or "janus_rooms" is required' \
	"$(api PUT /v1/meetings/bad '{"block":["DE"],"ports":[],"ufrags":[]}' | head -n1 | jq -r .error)"
expect 400 "not a country (EU)" PUT /v1/meetings/bad '{"ports":["8901"],"block":["EU"]}'
expect 400 "bad mode" PUT /v1/meetings/bad '{"ports":["8901"],"block":["DE"],"mode":"loud"}'
expect 400 "name differs from the path" PUT /v1/meetings/bad \
	'{"name":"x","ports":["8901"],"block":["DE"]}'
expect 400 "bad name" PUT /v1/meetings/-bad '{"ports":["8901"],"block":["DE"]}'
# curl removes a segment "..", not "%2E%2E"; clients that remove it too could not name the meeting.
why="HTTP clients remove \".\" and \"..\" from a URL's path; choose another"
check_eq "a new meeting named \"..\"" "invalid meeting name \"..\": $why" \
	"$(api PUT /v1/meetings/%2E%2E '{"ports":[8901],"block":["DE"]}' | head -n1 | jq -r .error)"
expect 400 "no body" PUT /v1/meetings/bad
expect 400 "ports: unknown field" POST /v1/meetings/board/ports '{"add":["9100"],"x":[]}'
expect 400 "ports: not its port" POST /v1/meetings/board/ports '{"remove":["7100"]}'
expect 400 "apply: bad meeting" POST /v1/apply '{"meetings":[{"name":"a","ports":["1"]}]}'
expect 400 "apply: check not a boolean" POST /v1/apply '{"meetings":[],"check":"yes"}'
expect 404 "GET an unknown meeting" GET /v1/meetings/nope
expect 404 "DELETE an unknown meeting" DELETE /v1/meetings/nope
expect 404 "ports of an unknown meeting" POST /v1/meetings/nope/ports '{"add":["9100"]}'
expect 409 "a port of another meeting" PUT /v1/meetings/bad '{"ports":["7000"],"block":["DE"]}'
expect 409 "ports: a port of another meeting" POST /v1/meetings/board/ports '{"add":["7000"]}'
expect 409 "replace onto another's port" PUT /v1/meetings/board '{"ports":["7000"],"block":["DE"]}'
head -c $((2 << 20)) /dev/zero | tr '\0' ' ' >"$tmp/big"
expect 413 "a 2 MiB body" PUT /v1/meetings/bad "@$tmp/big"
expect 404 "no such route" GET /v1/nothing
expect 405 "a method the path does not take" PATCH /v1/meetings/board '{}'
# A 405 says what the path takes (Allow, RFC 9110 15.5.6); HEAD is GET without the body.
allow_of() { curl -s -o /dev/null -D - --unix-socket "$SOCK" -X "$1" "http://geoblock$2" |
	tr -d '\r' | sed -n 's/^Allow: //p'; }
check_eq "405 on a meeting: Allow" "GET, HEAD, PUT, DELETE" "$(allow_of PATCH /v1/meetings/board)"
check_eq "405 on /v1/stats: Allow" "GET, HEAD" "$(allow_of POST /v1/stats)"
check_eq "405 on /v1/apply: Allow" "POST" "$(allow_of GET /v1/apply)"
check_eq "405: what it takes said in the error too" \
	"method not allowed on this path (it takes GET, HEAD)" \
	"$(api POST /v1/status '{}' | head -n1 | jq -r .error)"
check_eq "HEAD /v1/stats: 200, JSON as GET's" "200 application/json" \
	"$(curl -s -I -o /dev/null -w '%{http_code} %{content_type}' --unix-socket "$SOCK" \
		http://geoblock/v1/stats)"
# A body with a Content-Encoding is not read as JSON.
check_eq "a gzip body: 415" 415 "$(printf '{"ports":["8901"],"block":["DE"]}' | gzip |
	curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X PUT \
	-H 'Content-Encoding: gzip' --data-binary @- http://geoblock/v1/meetings/bad)"
check_eq "... whichever of two Content-Encoding lines says so: 415" 415 "$(printf '{"ports":["8901"],"block":["DE"]}' |
	gzip | curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X PUT \
	-H 'Content-Encoding: identity' -H 'Content-Encoding: gzip' --data-binary @- \
	http://geoblock/v1/meetings/bad)"
check_eq "a GET without a body, a Content-Encoding header: served" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -H 'Content-Encoding: gzip' \
		http://geoblock/v1/stats)"
check_eq "errors changed nothing (rules, audit, set)" "$before" "$(snapshot)"

# apply: check changes nothing; then the whole set, all or nothing.
body='{"meetings":[{"name":"board","ports":["8801-8804","20000-20002"],"block":["DE","FR"]},
	{"name":"fresh","ports":["6000"],"block":["DE"],"expires":"2030-01-01T00:00:00Z"}],'
out=$(api POST /v1/apply "$body\"check\":true}")
check_eq "apply check: 200, counts (board unchanged)" '200 1 0 2' \
	"$(tail -n1 <<<"$out") $(head -n1 <<<"$out" | jq -r '"\(.added) \(.changed) \(.deleted)"')"
check_eq "apply check changed nothing" "$before" "$(snapshot)"
check_eq "apply: 200" 200 "$(status POST /v1/apply "$body\"reason\":\"reset\"}")"
check_eq "apply: the set is the body's" "board fresh" "$(from_api | awk '{ print $1 }' | xargs)"
check_eq "apply: drop on the new meeting" dropped "$(verdict 192.0.2.9 6000)"
check_eq "apply: a removed meeting's port passes" no_meeting "$(verdict 198.51.100.7 7000)"
check_eq "audit: apply request" "POST /v1/apply reset" "$(audit_last '"\(.command) \(.reason)"')"
agree "after apply"

# DELETE.
check_eq "DELETE: 200" 200 "$(status DELETE /v1/meetings/fresh '{"reason":"over"}')"
check_eq "deleted: passes" no_meeting "$(verdict 192.0.2.9 6000)"
check_eq "GET after DELETE: 404" 404 "$(status GET /v1/meetings/fresh)"
check_eq "audit: delete" "DELETE /v1/meetings/fresh over" "$(audit_last '"\(.command) \(.reason)"')"
agree "after delete"

# A change from another process that leaves the log empty, as the daemon's own last change left
# it (an apply compacts it): the daemon must read the rule set anew, not change its old copy.
names() { api GET /v1/meetings | head -n -1 | jq -r '.meetings | map(.name) | sort | join(" ")'; }
check_eq "API apply: k1 alone" 200 \
	"$(status POST /v1/apply '{"meetings":[{"name":"k1","ports":["7101"],"block":["DE"]}]}')"
printf 'meeting add k2 --ports 7102 --block DE\n' >"$tmp/only-k2"
check "CLI apply: k2 alone" quiet "$GEOBLOCK" apply "$tmp/only-k2"
check_eq "API PUT k3 after the CLI's apply: 200" 200 \
	"$(status PUT /v1/meetings/k3 '{"ports":["7103"],"block":["DE"]}')"
check_eq "the rule set: the CLI's apply and k3" "k2 k3" "$(names)"
check_eq "k1 is gone from the maps" no_meeting "$(verdict 192.0.2.9 7101)"
agree "after an apply from another process"

# A caller neither root nor in the group: refused by the socket's permissions. With
# --api-group, a member may connect and change, and is audited as itself.
if id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null; then
	chmod 755 "$tmp"
	as() { setpriv --reuid=nobody --regid="$1" --clear-groups "${@:2}"; }
	out=$(as nogroup curl -s --unix-socket "$SOCK" -w '%{http_code}' \
		http://geoblock/v1/meetings 2>&1)
	check_eq "nobody is refused by the socket" 000 "$out"
	# Two directories to make: the socket's own the group's, the one above it 0755.
	GSOCK=$tmp/grp/run/api.sock
	# Its own pins and state dir: one daemon per state dir.
	on_exit rm -rf "$GEOBLOCK_PIN_DIR-grp"
	# Under a strict umask too: the modes are set, not masked.
	(umask 077; GEOBLOCK_PIN_DIR=$GEOBLOCK_PIN_DIR-grp GEOBLOCK_STATE_DIR=$tmp/grp-state \
		exec "$GEOBLOCK" daemon --metrics 127.0.0.1:0 --api "$GSOCK" --api-group nogroup \
		>"$tmp/daemon2.out" 2>&1) &
	pid2=$!
	on_exit kill_child "$pid2"
	wait_until 10 test -S "$GSOCK" || fail "daemon --api-group did not listen"
	check_eq "--api-group: socket and directory are the group's" "nogroup nogroup" \
		"$(stat -c %G "$GSOCK" "$tmp/grp/run" | xargs)"
	check_eq "--api-group: the directory made above it may be passed through" "755 root" \
		"$(stat -c '%a %G' "$tmp/grp")"
	check_eq "--api-group: the socket's own directory 0750, the socket 0660" "750 660" \
		"$(stat -c '%a' "$tmp/grp/run" "$GSOCK" | xargs)"
	out=$(as nogroup curl -s --unix-socket "$GSOCK" -X PUT -w '%{http_code}' \
		--data-binary '{"ports":["6100"],"block":["DE"],"reason":"as nobody"}' \
		http://geoblock/v1/meetings/grp 2>&1)
	check_eq "a member of --api-group may change" 200 "${out: -3}"
	check_eq "audited as the caller" "$(id -u nobody) PUT /v1/meetings/grp" \
		"$(S=$tmp/grp-state audit_last '"\(.uid) \(.command)"')"
	out=$(as 12345 curl -s --unix-socket "$GSOCK" -w '%{http_code}' \
		http://geoblock/v1/meetings 2>&1)
	check_eq "a caller outside --api-group is refused" 000 "$out"
	kill_child "$pid2"
	check "the second daemon removed its socket" test ! -e "$GSOCK"
	chmod 700 "$tmp"
else
	fail "no user nobody or group nogroup to test the socket's permissions with"
fi

check "the daemon is still up" kill -0 "$pid"
check_eq "and still answers" 200 "$(status GET /v1/meetings)"
# The largest room id, as GET gives it (a number), is taken back by a PUT of that GET.
check_eq "room 2^64-1: PUT" 200 \
	"$(api PUT /v1/meetings/maxroom '{"janus_rooms":[18446744073709551615],"block":["DE"]}' | tail -n1)"
check_eq "room 2^64-1: GET gives it" '[18446744073709551615]' \
	"$(api GET /v1/meetings/maxroom | head -n1 | grep -o '"janus_rooms":\[[0-9]*\]' | cut -d: -f2)"
check_eq "room 2^64-1: the GET put back" 200 \
	"$(api PUT /v1/meetings/maxroom "$(api GET /v1/meetings/maxroom | head -n1)" | tail -n1)"
check_eq "room 2^64-1: deleted" 200 "$(api DELETE /v1/meetings/maxroom | tail -n1)"

# A failure that is not the caller's is 500, whatever its errno: with the state lock immutable a
# change cannot open it (EPERM), and is not answered the 403 kept for a rule set a fleet store
# manages (the build before answered 403).
if chattr +i "$S/lock" 2>/dev/null; then
	on_exit chattr -i "$S/lock"
	before=$(snapshot)
	for req in "PUT /v1/meetings/imm" "POST /v1/meetings/k3/ports" "DELETE /v1/meetings/k3"; do
		body='{"ports":["6200"],"block":["DE"]}'
		[[ $req == POST* ]] && body='{"add":["6201"]}'
		[[ $req == DELETE* ]] && body='{"reason":"x"}'
		out=$(api ${req% *} "${req#* }" "$body")
		check_eq "$req, the lock immutable (EPERM): 500, the line saying why" \
			"500 cannot open lock $S/lock: Operation not permitted" \
			"$(tail -n1 <<<"$out") $(head -n1 <<<"$out" | jq -r .error)"
	done
	chattr -i "$S/lock"
	check_eq "... and nothing changed" "$before" "$(snapshot)"
else
	echo "SKIP: chattr +i does not work in $S: an EPERM that is no fleet's refusal"
fi
# The 403 stays the refusal of a rule set a store manages (its mark, as `daemon --etcd` writes it).
printf "etcd http://127.0.0.1:1 (node n1)" >"$S/managed-by"
out=$(api PUT /v1/meetings/imm '{"ports":["6200"],"block":["DE"]}')
check_eq "a change of a managed rule set: 403, the line naming the store" \
	"403 the rule set here is managed by etcd" \
	"$(tail -n1 <<<"$out") $(head -n1 <<<"$out" | jq -r .error | cut -d' ' -f1-8)"
rm "$S/managed-by"

# A second daemon (its own pins and state dir) given the socket the first serves: refused in one
# line, exit 2, the first's socket left to it (the build before took it over, and removed it at
# its exit). A daemon whose socket was removed and made anew by another daemon since leaves that
# one at its exit; a socket left by a daemon that died is replaced.
on_exit rm -rf "$GEOBLOCK_PIN_DIR-2nd" "$GEOBLOCK_PIN_DIR-3rd"
other() { # other NAME SOCKET: a daemon of its own pins and state, in the background
	GEOBLOCK_PIN_DIR=$GEOBLOCK_PIN_DIR-$1 GEOBLOCK_STATE_DIR=$tmp/state-$1 \
		"$GEOBLOCK" daemon --metrics 127.0.0.1:0 --api "$2" >"$tmp/$1.out" 2>"$tmp/$1.err" &
	other_pid=$!
	on_exit kill_child "$other_pid"
}
serving() { grep -q '^serving the API on ' "$tmp/$1.out"; }
ended_or_serving() { ! kill -0 "$other_pid" 2>/dev/null || serving "$1"; }
other 2nd "$SOCK"
wait_until 20 ended_or_serving 2nd
serving 2nd && kill_child "$other_pid"
wait "$other_pid"
check_eq "a second daemon on the socket the first serves: exit 2, one line" \
	"2 geoblock: daemon: --api $SOCK: another process (a daemon?) serves this socket; stop it first, or give another path" \
	"$? $(cat "$tmp/2nd.err")"
check "the first daemon's socket is left" test -S "$SOCK"
check_eq "the first daemon answers on it" 200 "$(status GET /v1/meetings)"
OSOCK=$tmp/other.sock
other 2nd "$OSOCK"
pid2=$other_pid
wait_until 10 serving 2nd || fail "a daemon on $OSOCK did not listen: $(cat "$tmp/2nd.err")"
rm "$OSOCK"
other 3rd "$OSOCK"
wait_until 10 serving 3rd || fail "a daemon on $OSOCK anew did not listen: $(cat "$tmp/3rd.err")"
kill_child "$pid2"
check "a daemon's exit leaves the socket made anew at its path by another" test -S "$OSOCK"
check_eq "which still answers" 200 "$(curl -s -o /dev/null -w '%{http_code}' \
	--unix-socket "$OSOCK" http://geoblock/v1/meetings)"
kill -KILL "$other_pid"
{ wait "$other_pid"; } 2>/dev/null	# not the shell's "Killed" line
check "a daemon killed leaves its socket behind" test -S "$OSOCK"
other 3rd "$OSOCK"
check "... which the next daemon replaces" wait_until 10 serving 3rd
check_eq "and serves" 200 "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$OSOCK" \
	http://geoblock/v1/meetings)"
kill_child "$other_pid"
check "its own exit removes its socket" test ! -e "$OSOCK"

summary
