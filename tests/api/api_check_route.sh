#!/usr/bin/env bash
# GET /v1/meetings/{name}/check?addr=A, the join-time check on the control API: 200 with the JSON
# of `geoblock check --json` whatever the answer (block, pass, exception, monitor, no country;
# IPv4 and IPv6), right after a change the new answer; 404 with one line for an unknown meeting;
# 400 with one line for a missing, empty or bad addr; 405 for another method; nothing changed.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
S=$GEOBLOCK_STATE_DIR
# A short path: a unix socket's path is under 108 bytes.
tmp=$(mktemp -d /tmp/gbchk.XXXXXX)
on_exit rm -rf "$tmp"
SOCK=$tmp/api.sock

# 192.0.2.0/24 and 2001:db8:de::/48 are German, 198.51.100.0/24 French.
cat >"$tmp/table.csv" <<'EOF'
192.0.2.0,192.0.2.255,DE
198.51.100.0,198.51.100.255,FR
2001:db8:de::,2001:db8:de:ffff:ffff:ffff:ffff:ffff,DE
EOF
"$GEOBLOCK" geoip load --force "$tmp/table.csv" >/dev/null || fail "geoip load"
"$GEOBLOCK" meeting add standup --ports 8801 --block DE --allow 192.0.2.128/25 >/dev/null ||
	fail "meeting add standup"
"$GEOBLOCK" meeting add watch --ports 8901 --block DE --monitor >/dev/null ||
	fail "meeting add watch"

api_daemon "$SOCK"

# api METHOD PATH: prints the body, then the status on its own line.
api() { curl -s --unix-socket "$SOCK" -X "$1" -w '\n%{http_code}' "http://geoblock$2"; }
status() { api "$@" | tail -n1; }
body() { api "$@" | head -n -1; }
snapshot() { echo "$(saved_files)|$(wc -l <"$S/audit.log")"; }
before=$(snapshot)

# The API's answer is the CLI's, field for field, and 200 whatever the answer.
for q in "standup 192.0.2.1 dropped" "standup 198.51.100.7 not_blocked" \
	"standup 192.0.2.200 allowed" "watch 192.0.2.1 monitor" "standup 10.0.0.1 no_country" \
	"standup 2001:db8:de::1 dropped" "standup ::ffff:192.0.2.1 dropped"; do
	read -r m a v <<<"$q"
	out=$(api GET "/v1/meetings/$m/check?addr=$a")
	check_eq "$m $a: 200" 200 "$(tail -n1 <<<"$out")"
	check_eq "$m $a: verdict" "$v" "$(head -n -1 <<<"$out" | jq -r .verdict)"
	check_eq "$m $a: the CLI's check --json" "$("$GEOBLOCK" check "$m" "$a" --json | jq -cS .)" \
		"$(head -n -1 <<<"$out" | jq -cS .)"
done
check_eq "block is true for a drop" true \
	"$(body GET '/v1/meetings/standup/check?addr=192.0.2.1' | jq .block)"
check_eq "block is false for monitor mode" false \
	"$(body GET '/v1/meetings/watch/check?addr=192.0.2.1' | jq .block)"
check_eq "the fields" \
	'["address","block","country","country_name","exception","expires","meeting","mode","network","verdict","why"]' \
	"$(body GET '/v1/meetings/standup/check?addr=192.0.2.1' | jq -c 'keys')"

# Refused: one line, the status, nothing changed.
# The daemon's log names it too, once (written before the reply is sent).
refused() {
	local want=$1 line=$2 out
	out=$(api GET "$3")
	check_eq "$3: $want" "$want" "$(tail -n1 <<<"$out")"
	check_eq "$3: its line" "$line" "$(head -n -1 <<<"$out" | jq -r .error)"
	check_eq "$3: in the daemon's log, once" 1 "$(grep -cF -- "$line" "$tmp/daemon.out")"
}
refused 404 "no meeting \"nosuch\"; see 'geoblock meeting list'" \
	'/v1/meetings/nosuch/check?addr=192.0.2.1'
refused 400 'addr is required: /v1/meetings/NAME/check?addr=ADDR' /v1/meetings/standup/check
refused 400 'unknown query parameter "address"; this route takes addr' \
	'/v1/meetings/standup/check?address=192.0.2.1'
# What the route does not read is refused, not ignored: an answer for another question.
refused 400 'unknown query parameter "proto"; this route takes addr' \
	'/v1/meetings/standup/check?addr=192.0.2.1&proto=tcp'
refused 400 'query parameter "addr" given twice' \
	'/v1/meetings/standup/check?addr=192.0.2.1&addr=198.51.100.1'
refused 400 'unknown query parameter "addr,port"; this route takes addr' \
	'/v1/meetings/standup/check?addr%2Cport=1'
refused 400 'unknown query parameter "all"; this route takes none' '/v1/meetings?all=1'
refused 400 'unknown query parameter "\xc3("; this route takes none' '/v1/meetings?%C3%28=1'
refused 400 'query parameter "addr" has no value (addr=...)' '/v1/meetings/standup/check?addr'
check_eq "empty segments are no parameter" 200 \
	"$(status GET '/v1/meetings/standup/check?&addr=192.0.2.1&&')"
refused 400 'unknown query parameter "verbose"; this route takes addr,port,proto,ufrag,sport' \
	'/v1/explain?addr=192.0.2.1&port=1&verbose=1'
check_eq "explain takes addr, port and proto" 200 "$(status GET '/v1/explain?addr=192.0.2.1&port=1&proto=udp')"
check_eq "... ufrag too (refused for what it says, not as unknown)" \
	"port 1 is not a shared port: --ufrag explains a Binding Request to one; see 'geoblock shared-port list'" \
	"$(api GET '/v1/explain?addr=192.0.2.1&port=1&ufrag=abcd' | head -n -1 | jq -r .error)"
check_eq "... and sport" \
	"port 1 is not a shared port: --sport explains a learned sender's packets to one; see 'geoblock shared-port list'" \
	"$(api GET '/v1/explain?addr=192.0.2.1&port=1&sport=5000' | head -n -1 | jq -r .error)"
refused 400 '"0" is not a source port (1-65535)' '/v1/explain?addr=192.0.2.1&port=1&sport=0'
refused 400 '"" is not an IPv4 or IPv6 address' '/v1/meetings/standup/check?addr='
refused 400 '"192.0.2" is not an IPv4 or IPv6 address' '/v1/meetings/standup/check?addr=192.0.2'
refused 400 '"192.0.2.0/24" is not an IPv4 or IPv6 address' \
	'/v1/meetings/standup/check?addr=192.0.2.0%2F24'
refused 400 '"2001:db8::g" is not an IPv4 or IPv6 address' \
	'/v1/meetings/standup/check?addr=2001:db8::g'
check_eq "POST: 405" 405 "$(status POST '/v1/meetings/standup/check?addr=192.0.2.1')"
check_eq "nothing changed" "$before" "$(snapshot)"

# Right after a change's 200, the new answer.
check_eq "meeting set --enforce" 0 "$("$GEOBLOCK" meeting set watch --enforce >/dev/null; echo $?)"
check_eq "after the switch: dropped" dropped \
	"$(body GET '/v1/meetings/watch/check?addr=192.0.2.1' | jq -r .verdict)"
check_eq "after DELETE: 200" 200 "$(status DELETE /v1/meetings/watch)"
check_eq "after DELETE: 404" 404 "$(status GET '/v1/meetings/watch/check?addr=192.0.2.1')"
check "the daemon is still up" kill -0 "$pid"
summary
