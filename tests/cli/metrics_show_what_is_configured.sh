#!/usr/bin/env bash
# `geoblock daemon`: refuses bad --metrics with one line; serves /metrics that promtool accepts;
# a series for every (meeting, blocked country) from the moment the meeting exists and none once it
# is deleted; label values escaped (a GeoIP path with quote, backslash and newline); refused loads
# counted; attach state 1, then 0 when the interface goes; 503 when the pins are re-created under
# it; exits 0 on SIGTERM and on SIGINT. Listens on 127.0.0.1 with a port the kernel picks.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

geoip_data || { fail "fetch databases"; summary; exit; }
D=$GEOBLOCK_DATA_DIR
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# refused CODE MESSAGE_PART ARGS...: geoblock daemon ARGS exits CODE with one line saying PART.
refused() {
	local code=$1 part=$2 rc
	shift 2
	timeout 10 ${IN_NS:-} "$GEOBLOCK" daemon "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [[ $rc != "$code" || $(wc -l <"$tmp/err") != 1 ]] ||
		! grep -q "^geoblock: daemon: .*$part" "$tmp/err"; then
		fail "daemon $*: exit $rc, stderr '$(head -3 "$tmp/err")'; expected $code and '$part'"
	else
		pass
	fi
}
refused 1 "not ADDR:PORT" --metrics 127.0.0.1
refused 1 "not a port" --metrics 127.0.0.1:99999
refused 1 "brackets" --metrics ::1:10066
# A name to resolve: asked in a namespace of this test's with no network, so that no query leaves
# the machine (the host's resolver is not reachable from it).
NS=gbmx$$
ip netns add $NS && on_exit ip netns del $NS
IN_NS="nsenter --net=/run/netns/$NS" refused 1 "cannot resolve" --metrics no-such-host.invalid:10066
refused 1 "unexpected argument" extra
refused 1 "unknown option" --watch-nothing
refused 1 "needs a value" --metrics

# start_daemon: runs the daemon on a free loopback port; sets DPID and URL.
start_daemon() {
	exec {DFD}< <(exec "$GEOBLOCK" daemon --metrics 127.0.0.1:0 2>>"$tmp/daemon.err")
	DPID=$!
	on_exit kill_child "$DPID"
	local line
	if ! read -r -t 10 line <&"$DFD" || [[ $line != "serving metrics on http://"* ]]; then
		fail "daemon did not start: '$line' $(cat "$tmp/daemon.err")"
		return 1
	fi
	URL=${line#serving metrics on }
}
# stop_daemon SIGNAL: the daemon exits 0, promptly.
stop_daemon() {
	local rc
	kill -"$1" "$DPID"
	if ! timeout 10 tail --pid="$DPID" -f /dev/null; then
		fail "daemon still running 10 s after SIG$1"
		kill -KILL "$DPID"
	fi
	wait "$DPID"
	rc=$?
	exec {DFD}<&-
	check_eq "daemon exits 0 on SIG$1" 0 "$rc"
}
scrape() { curl -sf "$URL" >"$tmp/page" && cat "$tmp/page"; }
# value SERIES: the value of one series of the last scrape, or "absent".
value() {
	awk -v s="$1" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }' "$tmp/page"
}

start_daemon || { summary; exit; }
scrape >/dev/null || fail "first scrape"
check "promtool accepts an empty configuration's page" promtool check metrics <"$tmp/page"
check_eq "no meetings: no pair series" 0 "$(grep -c 'meeting=' "$tmp/page")"
check_eq "no table: build time 0" 0 "$(value geoblock_geoip_build_timestamp_seconds)"

# Other paths and methods.
check_eq "GET / is an index" 200 "$(curl -s -o /dev/null -w '%{http_code}' "${URL%/metrics}/")"
check_eq "unknown path: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "${URL%/metrics}/nope")"
check_eq "POST: 405" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")"
check_eq "HEAD /metrics: 200, no body" "200 0" \
	"$(curl -s -I -o /dev/null -w '%{http_code} %{size_download}' "$URL")"
check "content type is the text format 0.0.4" \
	grep -qi '^content-type: text/plain; version=0.0.4' <(curl -s -D - -o /dev/null "$URL")

# Meetings: every blocked country of each meeting, at zero, from the start; monitor mode apart.
"$GEOBLOCK" meeting add standup --ports 8801-8803 --block de,JP >/dev/null || fail "meeting add"
"$GEOBLOCK" meeting add townhall --ports 9001 --block US,CA --monitor >/dev/null || fail "meeting add"
scrape >/dev/null
check_eq "enforcing meeting: drop series per blocked country" \
	'standup DE 0|standup JP 0' \
	"$(awk -F'[{}"]' '/^geoblock_dropped_packets_total\{/ { printf "%s%s %s %s", sep, $3, $5, $7; sep = "|" }' "$tmp/page" | sed 's/  */ /g')"
check_eq "monitor meeting: monitor series per blocked country" \
	'townhall CA 0|townhall US 0' \
	"$(awk -F'[{}"]' '/^geoblock_monitor_packets_total\{/ { printf "%s%s %s %s", sep, $3, $5, $7; sep = "|" }' "$tmp/page" | sed 's/  */ /g')"
check_eq "meetings by mode" "1 1" \
	"$(value 'geoblock_meetings{mode="enforce"}') $(value 'geoblock_meetings{mode="monitor"}')"
check_eq "meeting info" 1 "$(value 'geoblock_meeting_info{meeting="townhall",mode="monitor"}')"
"$GEOBLOCK" meeting del townhall >/dev/null || fail "meeting del"
scrape >/dev/null
check_eq "a deleted meeting stops appearing" 0 "$(grep -c 'townhall' "$tmp/page")"
check_eq "the other meeting stays" 0 \
	"$(value 'geoblock_dropped_packets_total{meeting="standup",country="JP"}')"

# Label values from outside are escaped: a database path with a quote and a backslash (one with
# a newline is refused: geoip.conf records it on one line).
weird=$tmp/$'we"ird\\na\\me.mmdb'
cp "$D/dbip-country-ipv4.mmdb" "$weird"
"$GEOBLOCK" geoip load "$weird" >/dev/null || fail "geoip load from an odd path"
scrape >/dev/null
esc=${weird//\\/\\\\}
esc=${esc//\"/\\\"}
check "source label escaped" grep -qF "source=\"$esc\"} 1" "$tmp/page"
check "promtool accepts escaped label values" promtool check metrics <"$tmp/page"
# A path that is not UTF-8: every --json stays JSON (UTF-8), the byte shown as U+FFFD.
odd=$tmp/$'odd\xffname.mmdb'
cp "$D/dbip-country-ipv4.mmdb" "$odd"
"$GEOBLOCK" geoip load "$odd" >/dev/null || fail "geoip load from a path not UTF-8"
strict_json() { /usr/bin/python3 -c 'import json, sys; print(json.loads(sys.stdin.buffer.read().decode("utf-8", "strict"))["geoip"]["source"])'; }
check_eq "status --json: UTF-8, the byte as U+FFFD" "$tmp/odd"$'\xef\xbf\xbd'"name.mmdb" \
	"$("$GEOBLOCK" status --json | strict_json 2>&1)"
check_eq "stats --json: UTF-8 too" "$tmp/odd"$'\xef\xbf\xbd'"name.mmdb" \
	"$("$GEOBLOCK" stats --json | strict_json 2>&1)"
# A path given relative to the caller's directory is recorded absolute.
cp "$D/dbip-country-ipv4.mmdb" "$tmp/rel.mmdb"
(cd "$tmp" && "$GEOBLOCK" geoip load rel.mmdb >/dev/null) || fail "geoip load of a relative path"
check_eq "a relative path: recorded absolute" "$(realpath "$tmp/rel.mmdb")" \
	"$("$GEOBLOCK" status --json | jq -r .geoip.source)"
check "prefixes loaded" test "$(value 'geoblock_geoip_prefixes{family="ipv4"}')" -gt 100000
check "load time recorded" test "$(value geoblock_geoip_last_load_success_timestamp_seconds)" -gt 0

# Refused loads are counted; the loaded table stays.
before=$(value 'geoblock_geoip_prefixes{family="ipv4"}')
head -c 5000 /dev/urandom >"$tmp/junk.mmdb"
"$GEOBLOCK" geoip load "$tmp/junk.mmdb" 2>/dev/null && fail "junk database accepted"
"$GEOBLOCK" geoip load "$tmp/missing.mmdb" 2>/dev/null && fail "missing database accepted"
scrape >/dev/null
check_eq "refused loads counted" 2 "$(value geoblock_geoip_reload_failures_total)"
check "failure time recorded" test "$(value geoblock_geoip_last_load_failure_timestamp_seconds)" \
	-ge "$(value geoblock_geoip_last_load_success_timestamp_seconds)"
check_eq "the table stays" "$before" "$(value 'geoblock_geoip_prefixes{family="ipv4"}')"

# Attach state: a veth in a namespace of our own, attached generic, then deleted.
NS=gbm$$
ip netns add "$NS" && on_exit ip netns del "$NS"
ip -n "$NS" link add gbmd0 type veth peer name gbmd1 && ip -n "$NS" link set gbmd0 up
check "attach generic" nsenter --net="/run/netns/$NS" "$GEOBLOCK" attach gbmd0 --mode generic >/dev/null
scrape >/dev/null
check_eq "attached: 1" 1 "$(value 'geoblock_filter_attached{interface="gbmd0"}')"
ip -n "$NS" link del gbmd0
scrape >/dev/null
check_eq "its interface gone: 0" 0 "$(value 'geoblock_filter_attached{interface="gbmd0"}')"
check_eq "stats agrees" false \
	"$("$GEOBLOCK" stats --json | jq '.interfaces[] | select(.interface == "gbmd0") | .attached')"
check "promtool accepts the full page" promtool check metrics <"$tmp/page"

stop_daemon TERM

# Pins re-created under a running daemon: it says so (503) rather than serve orphaned counters.
start_daemon || { summary; exit; }
check_eq "scrape works" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL")"
rm -rf "$GEOBLOCK_PIN_DIR"
"$GEOBLOCK" meeting add repinned --ports 30999 --block CN >/dev/null || fail "re-create pins"
check_eq "re-created pins: 503" 503 "$(curl -s -o "$tmp/body" -w '%{http_code}' "$URL")"
check "503 says why" grep -q "re-created" "$tmp/body"
check_eq "logged once" 1 "$(curl -s -o /dev/null "$URL"; grep -c 're-created' "$tmp/daemon.err")"
stop_daemon INT
start_daemon || { summary; exit; }
check_eq "after a restart: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL")"

# Idle connections from one address: the 5th is closed at once, and a scraper on another address
# still gets its page (it did too when one address could hold all 16 connections).
hostport=${URL#http://}
hostport=${hostport%%/*}
held=0 closed=0
for i in 1 2 3 4 5 6; do
	exec {c}<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || continue
	# A held connection sends nothing for a while; a refused one reads end of file at once.
	if timeout 1 cat <&"$c" >/dev/null; then closed=$((closed + 1)); else held=$((held + 1)); fi
	idle+=("$c")
done
check_eq "idle connections from one address: 4 held, 2 closed" "4 2" "$held $closed"
check_eq "a scrape from another address still works" 200 \
	"$(curl -s --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$URL")"
for c in "${idle[@]}"; do exec {c}<&-; done
stop_daemon TERM
summary
