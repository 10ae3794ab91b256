#!/usr/bin/env bash
# A meeting live in two versions (a replace under way, or stopped midway: the new version is
# written complete before the ports move to it) is one meeting to `stats` and the metrics: one
# (meeting, country) pair with both versions' counters summed, one geoblock_meeting_info series
# (the newer version's mode), and counted once in the meetings by mode. The state is made by
# writing a second version of a meeting into the pinned maps with bpftool.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

printf '%s\n' 10.0.0.0,10.0.0.255,DE 10.0.1.0,10.0.1.255,FR >"$tmp/t.csv"
"$GEOBLOCK" geoip load "$tmp/t.csv" >/dev/null || fail "geoip load"
check "meeting add m" quiet "$GEOBLOCK" meeting add m --ports 5000 --block DE,FR
check "meeting add other" quiet "$GEOBLOCK" meeting add other --ports 5001 --block DE

P=$GEOBLOCK_PIN_DIR
le32() { printf '0x%02x 0x%02x 0x%02x 0x%02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) \
	$(($1 >> 24)); }
id=$(bpftool -j map dump pinned "$P/meeting_policy" |
	jq '[.[] | select(.formatted.value.name == "m") | .formatted.key] | first')
check "m has an id" test "$id" -gt 0
# m's DE counter (DE is country 83: slot[83] of its drop_slots) holds 7 packets, 70 bytes a CPU.
dc=$(bpftool -j map lookup pinned "$P/drop_slot" key $(le32 "$id") | jq '.formatted.value.slot[83]')
check "m holds a DE counter" test "$dc" -gt 0
bpftool map update pinned "$P/drop_counts" key $(le32 "$dc") \
	value 7 0 0 0 0 0 0 0 70 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 || fail "bpftool drop_counts"
ncpu=$(bpftool -j map lookup pinned "$P/drop_counts" key $(le32 "$dc") | jq '.values | length')

# The newer version: m's policy in a free slot, in monitor mode (flags: active | monitor), its
# DE counter a free one holding 5 packets, 50 bytes a CPU.
id2=$((id + 40))
dc2=$((dc + 400))
pol=$(bpftool -j map lookup pinned "$P/meeting_policy" key $(le32 "$id") | jq -r '.value[1:] | join(" ")')
bpftool map update pinned "$P/meeting_policy" key $(le32 "$id2") value 0x03 $pol ||
	fail "bpftool meeting_policy"
slots=$(for ((i = 0; i < 680; i++)); do ((i == 83)) && echo -n "$((dc2 & 255)) $((dc2 >> 8)) " ||
	echo -n "0 0 "; done)
bpftool map update pinned "$P/drop_slot" key $(le32 "$id2") value $slots || fail "bpftool drop_slot"
bpftool map update pinned "$P/drop_counts" key $(le32 "$dc2") \
	value 5 0 0 0 0 0 0 0 50 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 || fail "bpftool drop_counts 2"
check_eq "simulated: m live twice" 2 "$(bpftool -j map dump pinned "$P/meeting_policy" |
	jq '[.[] | select(.formatted.value.name == "m")] | length')"

"$GEOBLOCK" stats --json >"$tmp/stats" || fail "stats --json"
check_eq "stats: one (m, DE) pair, both versions' packets and bytes" \
	"1 $((12 * ncpu)) $((120 * ncpu))" \
	"$(jq -r '[.drops[] | select(.meeting == "m" and .country == "DE")] |
		"\(length) \(map(.packets) | add) \(map(.bytes) | add)"' "$tmp/stats")"
check_eq "stats: m counted once, in the newer version's mode" '{"enforce":1,"monitor":1}' \
	"$(jq -c .meetings "$tmp/stats")"

exec {DFD}< <(exec "$GEOBLOCK" daemon --metrics 127.0.0.1:0 2>>"$tmp/daemon.err")
DPID=$!
on_exit kill_child "$DPID"
if read -r -t 10 line <&"$DFD" && [[ $line == "serving metrics on http://"* ]]; then
	curl -sf "${line#serving metrics on }" >"$tmp/page" || fail "scrape"
	check "promtool accepts the page" promtool check metrics <"$tmp/page"
	check_eq "metrics: one (m, DE) drop series, the sum" \
		"geoblock_dropped_packets_total{meeting=\"m\",country=\"DE\"} $((12 * ncpu))" \
		"$(grep '^geoblock_dropped_packets_total{meeting="m",country="DE"}' "$tmp/page")"
	check_eq "metrics: one (m, FR) monitor series" \
		'geoblock_monitor_packets_total{meeting="m",country="FR"} 0' \
		"$(grep '^geoblock_monitor_packets_total{meeting="m",country="FR"}' "$tmp/page")"
	check_eq "metrics: other's series as they were" \
		'geoblock_dropped_packets_total{meeting="other",country="DE"} 0' \
		"$(grep '^geoblock_dropped_packets_total{meeting="other"' "$tmp/page")"
	check_eq "metrics: one info series for m, the newer version's mode" \
		'geoblock_meeting_info{meeting="m",mode="monitor"} 1' \
		"$(grep '^geoblock_meeting_info{meeting="m"' "$tmp/page")"
	check_eq "metrics: meetings by mode" \
		$'geoblock_meetings{mode="enforce"} 1\ngeoblock_meetings{mode="monitor"} 1' \
		"$(grep '^geoblock_meetings{' "$tmp/page")"
else
	fail "daemon did not start: '${line:-}' $(cat "$tmp/daemon.err")"
fi
summary
