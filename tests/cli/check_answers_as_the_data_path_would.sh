#!/usr/bin/env bash
# `geoblock check MEETING ADDR` answers, for IPv4 and IPv6, what the data path decides for packets
# from ADDR to the meeting's ports: a blocked country is "block" (dropped), another country "pass"
# (not_blocked), an address inside an exception "pass" (allowed), a meeting in monitor mode
# "monitor", an address without a country "pass" (no_country), an expired meeting "pass"
# (expired); one line each, exit 0 whatever the answer. --json carries the meeting, address,
# country, network, mode, expiry, exception, block and verdict. For a set of addresses its verdict
# is explain's for a packet to one of the meeting's ports (of the protocol the meeting covers).
# An unknown meeting and a bad address are refused in one line, exit 1; with nothing pinned it
# exits 2 and creates nothing. It changes nothing (rules, audit log).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
S=$GEOBLOCK_STATE_DIR
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# 192.0.2.0/24 and 2001:db8:de::/48 are German, 198.51.100.0/24 and 2001:db8:f7::/48 French,
# 203.0.113.0/24 Japanese; 10.0.0.0/8 and the rest of 2001:db8::/32 have no country.
cat >"$tmp/table.csv" <<'EOF'
192.0.2.0,192.0.2.255,DE
198.51.100.0,198.51.100.255,FR
203.0.113.0,203.0.113.255,JP
2001:db8:de::,2001:db8:de:ffff:ffff:ffff:ffff:ffff,DE
2001:db8:f7::,2001:db8:f7:ffff:ffff:ffff:ffff:ffff,FR
EOF
"$GEOBLOCK" geoip load --force "$tmp/table.csv" >/dev/null || fail "geoip load"
"$GEOBLOCK" meeting add standup --ports 8801-8802 --block DE,JP \
	--allow 192.0.2.128/25,2001:db8:de:1::/64 >/dev/null || fail "meeting add standup"
"$GEOBLOCK" meeting add watch --ports 8901 --block DE --monitor >/dev/null ||
	fail "meeting add watch"
"$GEOBLOCK" meeting add tcponly --ports 9101 --block FR --proto tcp >/dev/null ||
	fail "meeting add tcponly"
"$GEOBLOCK" meeting add later --ports 9201 --block DE --expires 2h >/dev/null ||
	fail "meeting add later"

# answers NAME MEETING ADDR LINE: exit 0, exactly LINE on stdout, nothing on stderr.
answers() {
	local rc
	"$GEOBLOCK" check "$2" "$3" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check_eq "$1: exit" 0 "$rc"
	check_eq "$1: line" "$4" "$(cat "$tmp/out")"
	check_eq "$1: nothing on stderr" "" "$(cat "$tmp/err")"
}
# field MEETING ADDR JQ: a field of check --json.
field() { "$GEOBLOCK" check "$1" "$2" --json | jq -c "$3"; }
verdict() { field "$1" "$2" .verdict | tr -d '"'; }

audit_before=$(wc -l <"$S/audit.log")
rules_before=$(saved_files)

answers "blocked country" standup 192.0.2.1 \
	'block: 192.0.2.1 is in DE Germany (192.0.2.0/24), blocked by meeting "standup"'
answers "second blocked country" standup 203.0.113.77 \
	'block: 203.0.113.77 is in JP Japan (203.0.113.0/24), blocked by meeting "standup"'
answers "other country" standup 198.51.100.7 \
	'pass: 198.51.100.7 is in FR France (198.51.100.0/24), not blocked by meeting "standup"'
answers "inside an exception" standup 192.0.2.200 \
	'pass: 192.0.2.200 is in DE Germany (192.0.2.0/24), blocked by meeting "standup" but inside its exception 192.0.2.128/25'
answers "monitor mode" watch 192.0.2.1 \
	'monitor: 192.0.2.1 is in DE Germany (192.0.2.0/24), would be blocked, meeting "watch" is in monitor mode'
answers "no country" standup 10.1.2.3 \
	'pass: 10.1.2.3 has no country in the GeoIP table, which meeting "standup" cannot block'
answers "IPv6 blocked country" standup 2001:db8:de::1 \
	'block: 2001:db8:de::1 is in DE Germany (2001:db8:de::/48), blocked by meeting "standup"'
answers "IPv6 inside an exception" standup 2001:db8:de:1::5 \
	'pass: 2001:db8:de:1::5 is in DE Germany (2001:db8:de::/48), blocked by meeting "standup" but inside its exception 2001:db8:de:1::/64'
answers "IPv6 other country" standup 2001:db8:f7::9 \
	'pass: 2001:db8:f7::9 is in FR France (2001:db8:f7::/48), not blocked by meeting "standup"'
answers "IPv6 no country" standup 2001:db8:ffff::1 \
	'pass: 2001:db8:ffff::1 has no country in the GeoIP table, which meeting "standup" cannot block'
# The participant is judged whatever protocol the meeting covers: a TCP-only meeting too.
answers "a TCP-only meeting" tcponly 198.51.100.7 \
	'block: 198.51.100.7 is in FR France (198.51.100.0/24), blocked by meeting "tcponly"'

check_eq "verdict: blocked" dropped "$(verdict standup 192.0.2.1)"
check_eq "verdict: other country" not_blocked "$(verdict standup 198.51.100.7)"
check_eq "verdict: exception" allowed "$(verdict standup 192.0.2.200)"
check_eq "verdict: monitor" monitor "$(verdict watch 192.0.2.1)"
check_eq "verdict: no country" no_country "$(verdict standup 10.1.2.3)"
check_eq "verdict: IPv6 blocked" dropped "$(verdict standup 2001:db8:de::1)"
check_eq "verdict: IPv6 exception" allowed "$(verdict standup 2001:db8:de:1::5)"

# --json: every field, for a drop, an exception, monitor mode, no country.
check_eq "--json of a drop" \
	'{"address":"192.0.2.1","meeting":"standup","country":"DE","country_name":"Germany","network":"192.0.2.0/24","mode":"enforce","expires":null,"exception":null,"block":true,"verdict":"dropped","why":"192.0.2.1 is in DE Germany (192.0.2.0/24), blocked by meeting \"standup\""}' \
	"$(field standup 192.0.2.1 .)"
check_eq "--json of an exception" \
	'["allowed",false,"192.0.2.128/25","enforce"]' \
	"$(field standup 192.0.2.200 '[.verdict, .block, .exception, .mode]')"
check_eq "--json of monitor mode" '["monitor",false,"monitor",null]' \
	"$(field watch 192.0.2.1 '[.verdict, .block, .mode, .exception]')"
check_eq "--json of no country" '["no_country",false,null,null,null]' \
	"$(field standup 10.1.2.3 '[.verdict, .block, .country, .country_name, .network]')"
check_eq "--json of IPv6" '["2001:db8:de::1","DE","2001:db8:de::/48",true]' \
	"$(field standup 2001:db8:de::1 '[.address, .country, .network, .block]')"
check_eq "--json: the expiry of a meeting that has one" \
	"$("$GEOBLOCK" meeting list --json | jq -c '.[] | select(.name == "later") | .expires')" \
	"$(field later 192.0.2.1 .expires)"

# check's verdict is explain's for a packet to one of the meeting's ports, address by address
# (an IPv4-mapped one taken as IPv4 by both).
addrs=(192.0.2.1 192.0.2.127 192.0.2.128 192.0.2.255 198.51.100.1 203.0.113.1 203.0.113.255
	10.0.0.1 0.0.0.0 255.255.255.255 2001:db8:de::1 2001:db8:de:1::1 2001:db8:de:2::1
	2001:db8:f7::1 2001:db8:ffff::1 ::1 ::ffff:192.0.2.1 ::ffff:192.0.2.129)
for spec in "standup 8801 udp" "standup 8802 udp" "watch 8901 udp" "tcponly 9101 tcp" \
	"later 9201 udp"; do
	read -r m port proto <<<"$spec"
	differ=()
	for a in "${addrs[@]}"; do
		c=$(verdict "$m" "$a")
		e=$("$GEOBLOCK" explain "$a" "$port" --proto "$proto" --json | jq -r .verdict)
		[[ -n $c && $c == "$e" ]] || differ+=("$a: check $c, explain $e")
	done
	check_eq "$m: check's verdict is explain's on port $port/$proto (${#addrs[@]} addresses)" \
		"" "$(printf '%s\n' "${differ[@]}" | sed '/^$/d')"
done
# An IPv4 client as a dual-stack socket shows it: its packets are IPv4, from that address.
answers "IPv4-mapped IPv6" standup ::ffff:192.0.2.1 \
	'block: ::ffff:192.0.2.1 is in DE Germany (192.0.2.0/24), blocked by meeting "standup"'
check_eq "IPv4-mapped IPv6 inside an exception" allowed "$(verdict standup ::ffff:192.0.2.129)"
check_eq "the addresses give every verdict of a meeting" \
	"allowed dropped monitor no_country not_blocked" \
	"$(for m in standup watch; do for a in "${addrs[@]}"; do verdict "$m" "$a"; done
		done | sort -u | paste -sd' ')"

# Refused: one line on stderr, nothing on stdout, exit 1.
refused() {
	local line=$1 rc
	shift
	"$GEOBLOCK" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check_eq "$*: exit" 1 "$rc"
	check_eq "$*: one line" "$line" "$(cat "$tmp/err")"
	check_eq "$*: nothing on stdout" "" "$(cat "$tmp/out")"
}
refused "geoblock: check: no meeting \"nosuch\"; see 'geoblock meeting list'" \
	check nosuch 192.0.2.1
refused "geoblock: check: no meeting \"nosuch\"; see 'geoblock meeting list'" \
	check nosuch 192.0.2.1 --json
refused 'geoblock: check: "192.0.2" is not an IPv4 or IPv6 address' check standup 192.0.2
refused 'geoblock: check: "2001:db8::g" is not an IPv4 or IPv6 address' \
	check standup 2001:db8::g
refused 'geoblock: check: "192.0.2.0/24" is not an IPv4 or IPv6 address' \
	check standup 192.0.2.0/24
# The address is checked before the meeting is looked for.
refused 'geoblock: check: "x" is not an IPv4 or IPv6 address' check nosuch x
"$GEOBLOCK" check standup >/dev/null 2>"$tmp/err"
check_eq "one argument: exit 1" 1 $?
check_eq "one argument: one line" 1 "$(wc -l <"$tmp/err")"
"$GEOBLOCK" check standup 192.0.2.1 192.0.2.2 >/dev/null 2>"$tmp/err"
check_eq "three arguments: exit 1" 1 $?

check_eq "check changed nothing: audit log" "$audit_before" "$(wc -l <"$S/audit.log")"
check_eq "check changed nothing: saved rule set" "$rules_before" "$(saved_files)"

# Nothing pinned: a failure (exit 2), one line, and no pin made.
none=/sys/fs/bpf/geoblock-test-$GB_TEST_ID-none
on_exit rm -rf "$none"
GEOBLOCK_PIN_DIR=$none "$GEOBLOCK" check standup 192.0.2.1 >"$tmp/out" 2>"$tmp/err"
check_eq "nothing pinned: exit 2" 2 $?
check_eq "nothing pinned: one line" 1 "$(wc -l <"$tmp/err")"
check "nothing pinned: no pin made" test ! -e "$none"

# No GeoIP table loaded (as after a reboot, before restore): every address has no country, and
# the answer says why rather than blaming the address; explain agrees.
bare=/sys/fs/bpf/geoblock-test-$GB_TEST_ID-bare
on_exit rm -rf "$bare"
nt() { GEOBLOCK_PIN_DIR=$bare GEOBLOCK_STATE_DIR=$tmp/bare-state "$GEOBLOCK" "$@"; }
nt meeting add m --ports 9501 --block DE >/dev/null 2>"$tmp/err" || fail "no table: meeting add"
check_eq "no table: meeting add warns" \
	'geoblock: meeting add: warning: no GeoIP table is loaded: meeting "m" blocks nothing until one is (geoblock geoip load PATH, or geoblock restore after a reboot)' \
	"$(cat "$tmp/err")"
printf 'meeting add m --ports 9501 --block DE\nmeeting add n --ports 9502 --block FR\n' >"$tmp/nt.rules"
nt apply --check "$tmp/nt.rules" >/dev/null 2>"$tmp/err"
check_eq "no table: apply warns once for the file" \
	"0 geoblock: apply: warning: $tmp/nt.rules: no GeoIP table is loaded: its meetings block nothing until one is (geoblock geoip load PATH, or geoblock restore after a reboot)" \
	"$? $(cat "$tmp/err")"
check_eq "no table: check" \
	'pass: 192.0.2.1 has no country: no GeoIP table is loaded, so meeting "m" blocks no address (geoblock geoip load PATH, or geoblock restore after a reboot)' \
	"$(nt check m 192.0.2.1 2>&1)"
check_eq "no table: check --json" '["no_country",false,null]' \
	"$(nt check m 2001:db8:de::1 --json | jq -c '[.verdict, .block, .country]')"
check_eq "no table: explain" \
	'no_country: no GeoIP table is loaded, so no address has a country (geoblock geoip load PATH, or geoblock restore after a reboot)' \
	"$(nt explain 192.0.2.1 9501 --json | jq -r '.verdict + ": " + .why')"
# Nothing is attached here: explain says its verdict reaches no packet.
check_eq "nothing attached: explain --json counts 0 interfaces" 0 \
	"$(nt explain 192.0.2.1 9501 --json | jq -r .attached_interfaces)"
check_eq "nothing attached: explain says so" \
	"note:     the filter is attached to no interface, so no packet is dropped or counted yet ('geoblock attach IFACE')" \
	"$(nt explain 192.0.2.1 9501 | grep '^note:')"
api_daemon "$tmp/nt.sock" env GEOBLOCK_PIN_DIR="$bare" GEOBLOCK_STATE_DIR="$tmp/bare-state"
ntapi() { curl -s --unix-socket "$tmp/nt.sock" -X "$1" "http://geoblock$2" -d "$3"; }
check_eq "no table: the API's PUT warns" \
	'["no GeoIP table is loaded: meeting \"p\" blocks nothing until one is (geoblock geoip load PATH, or geoblock restore after a reboot)"]' \
	"$(ntapi PUT /v1/meetings/p '{"ports":[9503],"block":["DE"]}' | jq -c .warnings)"
check_eq "no table: /v1/apply warns once" \
	'["the body: no GeoIP table is loaded: its meetings block nothing until one is (geoblock geoip load PATH, or geoblock restore after a reboot)"]' \
	"$(ntapi POST /v1/apply '{"check":true,"meetings":[{"name":"m","ports":[9501],"block":["DE"]},{"name":"n","ports":[9502],"block":["FR"]}]}' | jq -c .warnings)"
check_eq "no table: the API's check says why" "no_country" \
	"$(curl -s --unix-socket "$tmp/nt.sock" 'http://geoblock/v1/meetings/m/check?addr=192.0.2.1' | jq -r 'select(.why | test("no GeoIP table is loaded")) | .verdict')"
kill_child "$pid"
nt geoip load --force "$tmp/table.csv" >/dev/null 2>&1 || fail "no table: geoip load"
check_eq "a table loaded: blocked" dropped "$(nt check m 192.0.2.1 --json | jq -r .verdict)"
nt apply --check "$tmp/nt.rules" >/dev/null 2>"$tmp/err"
check_eq "a table loaded: apply does not warn" "0 " "$? $(cat "$tmp/err")"
check_eq "a table loaded: an address of no country is blamed again" \
	'pass: 10.1.2.3 has no country in the GeoIP table, which meeting "m" cannot block' \
	"$(nt check m 10.1.2.3 2>&1)"

# Expired: the meeting's rule has ended, its packets pass, and so does the participant. Last, as
# the next change deletes an expired meeting.
soon=$(date -u -d "@$(($(date +%s) + 5))" +%Y-%m-%dT%H:%M:%SZ)
"$GEOBLOCK" meeting add soon --ports 9301 --block DE --expires "$soon" >/dev/null ||
	fail "meeting add soon"
check_eq "before its expiry: blocked" dropped "$(verdict soon 192.0.2.1)"
expired() { [[ $("$GEOBLOCK" explain 192.0.2.1 9301 --json | jq -r .verdict) == expired ]]; }
check "explain says expired within 15 s" wait_until 15 expired
answers "expired" soon 192.0.2.1 \
	"pass: 192.0.2.1 is in DE Germany (192.0.2.0/24); meeting \"soon\" expired at $soon and blocks nothing"
check_eq "--json of an expired meeting" "[\"expired\",false,\"$soon\"]" \
	"$(field soon 192.0.2.1 '[.verdict, .block, .expires]')"
check_eq "expired: explain agrees" expired \
	"$("$GEOBLOCK" explain 198.51.100.1 9301 --json | jq -r .verdict)"
check_eq "expired: check of another country too" expired "$(verdict soon 198.51.100.1)"
# Not deleted yet (no change since): restore --print leaves it out as a comment, and apply takes
# what it prints (an expiry in the past it would refuse).
check "restore --print: the expired meeting as a comment" eval \
	'"$GEOBLOCK" restore --print | grep -q "^# expired, left out: meeting add soon --ports 9301 "'
"$GEOBLOCK" restore --print >"$tmp/printed"
check_eq "apply --check takes restore --print" 0 "$("$GEOBLOCK" apply --check "$tmp/printed" >/dev/null 2>&1; echo $?)"

# An exception given as IPv4-mapped IPv6 is that IPv4 network, for check and for the data path.
"$GEOBLOCK" meeting add mapped --ports 9401 --block DE --allow ::ffff:192.0.2.7,::ffff:192.0.2.16/124 \
	>/dev/null || fail "meeting add mapped"
check_eq "an IPv4-mapped exception is kept as IPv4" '["192.0.2.7/32","192.0.2.16/28"]' \
	"$("$GEOBLOCK" meeting list --json | jq -c '.[] | select(.name == "mapped") | .allow')"
check_eq "... check: allowed, both forms" "allowed allowed allowed dropped" \
	"$(for a in 192.0.2.7 ::ffff:192.0.2.7 192.0.2.20 192.0.2.8; do verdict mapped "$a"; done | paste -sd' ')"
check_eq "... explain (the data path's lookup): allowed, both forms" "allowed allowed" \
	"$(for a in 192.0.2.7 ::ffff:192.0.2.7; do "$GEOBLOCK" explain "$a" 9401 --json |
		jq -r .verdict; done | paste -sd' ')"
"$GEOBLOCK" meeting del mapped >/dev/null
summary
