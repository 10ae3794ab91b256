#!/usr/bin/env bash
# Scrape benchmark (`make bench`, or `make bench-metrics` alone): 1,000 meetings blocking 20
# countries each, every (meeting, country) pair with a drop counter on every CPU (20,000 pairs);
# `geoblock daemon` serves /metrics in a namespace of its own and curl scrapes it ROUNDS times.
# Prints the median and the spread of the scrape time as curl sees it (request to last byte) and as
# the daemon reports it (geoblock_scrape_duration_seconds), the page size, the daemon's peak memory,
# and checks that the page sums to what was written. Budget: 50 ms a scrape.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
GEOBLOCK=$BUILD/geoblock
MEETINGS=${BENCH_MEETINGS:-1000}
COUNTRIES=${BENCH_COUNTRIES:-20}
ROUNDS=${BENCH_ROUNDS:-21}
BUDGET_MS=50
NS=gbmb$$
export GEOBLOCK_PIN_DIR=/sys/fs/bpf/geoblock-bench-metrics-$$
export GEOBLOCK_STATE_DIR=$(mktemp -d /tmp/geoblock-bench-state.XXXXXX)
tmp=$(mktemp -d -p /dev/shm)	# pages land in memory: the disk is not what is measured
DPID=
cleanup() {
	if [[ -n $DPID ]] && kill "$DPID" 2>/dev/null; then
		timeout 10 tail --pid="$DPID" -f /dev/null || true
	fi
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$GEOBLOCK_PIN_DIR" "$GEOBLOCK_STATE_DIR" "$tmp"
}
trap cleanup EXIT

# ms FILE: "median (best-worst) ms" of the seconds in FILE, one a line.
ms() {
	sort -g "$1" | awk '{ v[NR] = $1 * 1000 }
		END { printf "%.1f ms (%.1f-%.1f)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

echo "scrape benchmark: $MEETINGS meetings x $COUNTRIES countries, $(nproc) CPUs, $ROUNDS scrapes," \
	"load average $(cut -d' ' -f1 /proc/loadavg)"
read -r _ pairs _ packets _ bytes < <("$BUILD/tests/metrics_fill" "$MEETINGS" "$COUNTRIES")
ip netns add "$NS"
ip -n "$NS" link set lo up
exec {DFD}< <(exec nsenter --net="/run/netns/$NS" "$GEOBLOCK" daemon)
DPID=$!
read -r -t 10 line <&"$DFD"
[[ $line == "serving metrics on http://127.0.0.1:10066/metrics" ]] ||
	{ echo "bench: daemon did not start: $line" >&2; exit 2; }
URL=http://127.0.0.1:10066/metrics

: >"$tmp/curl"
: >"$tmp/self"
for ((i = 0; i < ROUNDS; i++)); do
	ip netns exec "$NS" curl -sf -o "$tmp/page" -w '%{time_total}\n' "$URL" >>"$tmp/curl"
	awk '$1 == "geoblock_scrape_duration_seconds" { print $2 }' "$tmp/page" >>"$tmp/self"
done

# The page is complete and exact: every pair, and the sums that were written.
got_pairs=$(grep -c '^geoblock_dropped_packets_total{' "$tmp/page")
got_packets=$(awk '/^geoblock_dropped_packets_total\{/ { s += $NF } END { printf "%.0f", s }' "$tmp/page")
got_bytes=$(awk '/^geoblock_dropped_bytes_total\{/ { s += $NF } END { printf "%.0f", s }' "$tmp/page")
if [[ $got_pairs != "$pairs" || $got_packets != "$packets" || $got_bytes != "$bytes" ]]; then
	echo "bench: page wrong: $got_pairs pairs, $got_packets packets, $got_bytes bytes;" \
		"expected $pairs, $packets, $bytes" >&2
	exit 2
fi
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$DPID/status")
curl_ms=$(sort -g "$tmp/curl" | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] * 1000 }')
printf '  series per scrape         %d (%d pairs x drop packets and bytes, and the rest)\n' \
	"$(grep -vc '^#' "$tmp/page")" "$pairs"
printf '  page size                 %.1f MB\n' "$(stat -c %s "$tmp/page" | awk '{ print $1 / 1e6 }')"
printf '  scrape, as curl sees it   %s  median (best-worst)\n' "$(ms "$tmp/curl")"
printf '  of which in the daemon    %s  reading the maps and rendering\n' "$(ms "$tmp/self")"
printf '  daemon peak RSS           %.1f MB\n' "$(awk -v k="$hwm" 'BEGIN { print k / 1024 }')"
printf '  budget                    %d ms for the median: %s (%.1fx under)\n' "$BUDGET_MS" \
	"$(awk -v m="$curl_ms" -v b="$BUDGET_MS" 'BEGIN { print (m < b) ? "met" : "MISSED" }')" \
	"$(awk -v m="$curl_ms" -v b="$BUDGET_MS" 'BEGIN { print b / m }')"
awk -v m="$curl_ms" -v b="$BUDGET_MS" 'BEGIN { exit !(m < b) }'
