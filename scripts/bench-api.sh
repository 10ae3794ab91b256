#!/usr/bin/env bash
# Control API benchmark (`make bench-api`): acknowledged changes per second and their latency with
# 4,000 meetings holding 50,000 ports, 8 clients on the API's unix socket each changing meetings of
# its own (tests/bench/api_load.c); then the time of a CLI `meeting add`, beside `geoblock
# --version`.
# Goals: 2,000 changes/s or more, p99 20 ms or less, `meeting add` 30 ms or less. A private pin dir,
# state dir and daemon, all removed at the end, also on failure or interrupt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${GB_BUILD:-$ROOT/build}
GEOBLOCK=$BUILD/geoblock
LOAD=$BUILD/bench/api_load
MEETINGS=${BENCH_API_MEETINGS:-4000}
PORTS=${BENCH_API_PORTS:-50000}
CLIENTS=${BENCH_API_CLIENTS:-8}
OWN=${BENCH_API_OWN:-4}			# meetings each client changes
SECS=${BENCH_API_SECONDS:-10}
ADDS=${BENCH_API_CLI_ADDS:-20}
GOAL_RATE=2000 GOAL_P99=20 GOAL_ADD=30
export GEOBLOCK_PIN_DIR=/sys/fs/bpf/geoblock-bench-api-$$
export GEOBLOCK_STATE_DIR=$(mktemp -d /tmp/geoblock-bench-api-state.XXXXXX)
# A short path: a unix socket's path is under 108 bytes.
tmp=$(mktemp -d /tmp/gbbapi.XXXXXX)
SOCK=$tmp/run/api.sock
DPID= LPID=
cleanup() {
	[[ -n $LPID ]] && kill "$LPID" 2>/dev/null
	if [[ -n $DPID ]] && kill "$DPID" 2>/dev/null; then
		timeout 10 tail --pid="$DPID" -f /dev/null || kill -KILL "$DPID" 2>/dev/null || true
	fi
	rm -rf "$GEOBLOCK_PIN_DIR" "$GEOBLOCK_STATE_DIR" "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ -x $GEOBLOCK && -x $LOAD ]] || { echo "bench-api: build first (make bench-api)" >&2; exit 2; }
# The load's own meetings: ports 60000-65535, split between the clients (api_load --layout).
load_args=(--clients "$CLIENTS" --meetings "$OWN" --ports 60000-65535 --prefix load)
mean_median() {
	sort -g | awk '{ v[NR] = $1; s += $1 } END { printf "median %.1f ms, mean %.1f ms",
		(NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, s / NR }'
}
median_of() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# verdict VALUE GOAL >=|<=: met or MISSED.
verdict() {
	awk -v v="$1" -v g="$2" -v op="$3" 'BEGIN { print ((op == ">=") ? v >= g : v <= g) ? "met" : "MISSED" }'
}

# 192.0.2.0/24 is German, 198.51.100.0/24 French.
printf '192.0.2.0,192.0.2.255,DE\n198.51.100.0,198.51.100.255,FR\n' >"$tmp/table.csv"
"$GEOBLOCK" geoip load --force "$tmp/table.csv" >/dev/null

# The rule set: the load's meetings (2 ports each) and the rest holding the other ports, each a
# range from port 2000 up, blocking DE or DE,FR.
"$LOAD" --layout "${load_args[@]}" >"$tmp/rules"
own_ports=$((CLIENTS * OWN * 2))
awk -v n=$((MEETINGS - CLIENTS * OWN)) -v ports=$((PORTS - own_ports)) 'BEGIN {
	p = 2000
	for (i = 0; i < n; i++) {
		k = int(ports / n) + (i < ports % n)
		printf "meeting add m%04d --ports %d-%d --block %s\n", i, p, p + k - 1, (i % 2) ? "DE,FR" : "DE"
		p += k
	}
}' >>"$tmp/rules"
t0=$EPOCHREALTIME
"$GEOBLOCK" apply "$tmp/rules" >/dev/null
apply_ms=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
held=$("$GEOBLOCK" meeting list --json | jq '[.[].ports[] |
	if test("-") then (split("-") | map(tonumber) | .[1] - .[0] + 1) else 1 end] | add')
echo "control API benchmark: $("$GEOBLOCK" meeting list --json | jq length) meetings holding" \
	"$held ports (applied in $apply_ms ms), $CLIENTS clients for $SECS s, $(nproc) CPUs," \
	"load average $(cut -d' ' -f1 /proc/loadavg)"

"$GEOBLOCK" daemon --metrics 127.0.0.1:0 --api "$SOCK" >"$tmp/daemon.log" 2>&1 &
DPID=$!
for ((i = 0; i < 100; i++)); do
	[[ -S $SOCK ]] && break
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.1
done
if [[ ! -S $SOCK ]]; then
	echo "bench-api: the daemon did not listen: $(head -2 "$tmp/daemon.log")" >&2
	exit 2
fi

# In the background: a signal's trap runs at once, not once the load is over.
"$LOAD" --socket "$SOCK" "${load_args[@]}" --seconds "$SECS" --expect "$tmp/expect" --json \
	>"$tmp/load.json" 2>"$tmp/load.err" &
LPID=$!
rc=0
wait "$LPID" || rc=$?
LPID=
((rc == 0 || rc == 2)) || { echo "bench-api: api_load failed: $(cat "$tmp/load.err")" >&2; exit 2; }
field() { jq -r "$1" "$tmp/load.json"; }
acked=$(field .acknowledged) rate=$(field .changes_per_second) p99=$(field .latency_p99_ms)
errors=$(field '.errors | to_entries | map(if .key == "no_answer" then "\(.value) without an answer"
	else "\(.value) of status \(.key)" end) | join(", ") | if . == "" then "none" else . end')
first=$(field '.first_error // ""')
kinds=$(field '"ports \(.acknowledged_ports), put \(.acknowledged_put), delete \(.acknowledged_delete)"')
printf '  acknowledged changes/s    %8.1f  goal >= %d: %s  (%d changes: %s)\n' "$rate" \
	"$GOAL_RATE" "$(verdict "$rate" "$GOAL_RATE" ">=")" "$acked" "$kinds"
printf '  latency p50               %8.2f ms\n' "$(field .latency_p50_ms)"
printf '  latency p99               %8.2f ms  goal <= %d ms: %s\n' "$p99" "$GOAL_P99" \
	"$(verdict "$p99" "$GOAL_P99" "<=")"
printf '  latency max               %8.2f ms\n' "$(field .latency_max_ms)"
printf '  errors                    %s%s\n' "$errors" "${first:+ (the first: $first)}"
# Every acknowledged change is in the rule set (nothing was killed: no change is in doubt).
"$GEOBLOCK" meeting list --json | jq -r --arg prefix load- -f "$ROOT/tests/bench/api_state.jq" |
	sort >"$tmp/got"
if diff <(grep -v ' absent$' "$tmp/expect" | sort) "$tmp/got" >"$tmp/diff"; then
	echo "  the rule set holds every acknowledged change"
else
	echo "bench-api: the rule set differs from the acknowledged changes:" \
		"$(head -4 "$tmp/diff" | paste -sd' ')" >&2
	rc=2
fi
kill "$DPID"
timeout 10 tail --pid="$DPID" -f /dev/null || true
DPID=

# The CLI: each add a process of its own (start, open the pins, lock, change, write, audit).
for ((i = 0; i < ADDS; i++)); do
	t0=$EPOCHREALTIME
	"$GEOBLOCK" meeting add "cli$i" --ports $((52000 + i)) --block DE >/dev/null
	echo $(((${EPOCHREALTIME/./} - ${t0/./}) / 10))e-2 >>"$tmp/add"
	t0=$EPOCHREALTIME
	"$GEOBLOCK" --version >/dev/null
	echo $(((${EPOCHREALTIME/./} - ${t0/./}) / 10))e-2 >>"$tmp/version"
done
add_median=$(median_of <"$tmp/add")
printf '  CLI meeting add           %s  goal <= %d ms: %s  (%d adds, %d meetings present)\n' \
	"$(mean_median <"$tmp/add")" "$GOAL_ADD" "$(verdict "$add_median" "$GOAL_ADD" "<=")" "$ADDS" \
	"$MEETINGS"
printf '  geoblock --version        %s  (process start, for scale)\n' \
	"$(mean_median <"$tmp/version")"

((rc == 0)) || exit "$rc"
[[ $(verdict "$rate" "$GOAL_RATE" ">=") == met && $(verdict "$p99" "$GOAL_P99" "<=") == met &&
	$(verdict "$add_median" "$GOAL_ADD" "<=") == met ]] || exit 1
