#!/usr/bin/env bash
# Policy-change benchmark (`make bench-policy`): how long a meeting change takes to be enforced
# when it changes the countries the data path's table is compiled for. On each world database
# (GeoLite2-Country, DB-IP lite; IPv4 + IPv6), with a meeting blocking CN live, BENCH_POLICY_RUNS
# times (default 15): `meeting add` of a meeting blocking a country no meeting names (the table is
# compiled again and swapped in before the meeting is active: "grow"), its `meeting del` ("shrink"),
# and the add and delete of a meeting blocking CN, already told apart ("same"); then the same
# through the control API (PUT and DELETE of /v1/meetings/NAME, the daemon already running). A
# change is enforced when the command (or request) returns; after each grow, `geoip lookup --from
# table` checks that the live table tells the new country apart, and after each shrink that it no
# longer does. Wall times in ms: median, p90, max. Goal: a grow enforced within 300 ms.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
GEOBLOCK=$BUILD/geoblock
RUNS=${BENCH_POLICY_RUNS:-15}
DATA=${GEOBLOCK_DATA_DIR:-$BUILD/geoip}
export GEOBLOCK_PIN_DIR=/sys/fs/bpf/geoblock-bench-policy-$$
export GEOBLOCK_STATE_DIR=$(mktemp -d /tmp/geoblock-bench-state.XXXXXX)
tmp=$(mktemp -d)
daemon=
cleanup() {
	[[ -n $daemon ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	rm -rf "$GEOBLOCK_PIN_DIR" "$GEOBLOCK_STATE_DIR" "$tmp"
}
trap cleanup EXIT
bash "$ROOT/scripts/fetch-geoip.sh" "$DATA"
# Countries that meetings name in turn, one per run (none of them CN), and an address of each.
CCS=(RU IR KP SY CU BY VE MM AF DE FR GB US JP BR IN IT ES PL NL SE KR AU MX TR)
((RUNS <= ${#CCS[@]})) || RUNS=${#CCS[@]}

now_ms() { date +%s%3N; }
# stats FILE: median, p90 and max of the numbers in FILE
stats() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%7d %7d %7d", v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.99)], v[NR] }'; }
table_says() { "$GEOBLOCK" geoip lookup --from table "$1" | cut -d' ' -f2; }
api() { curl -s -o /dev/null -w '%{http_code}' --unix-socket "$tmp/api.sock" -X "$1" \
	"http://geoblock$2" ${3:+-H 'Content-Type: application/json' --data "$3"}; }

echo "meeting changes and the data path's table: $RUNS runs each; $(nproc) CPUs, $(uname -r)," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-20s %-6s %-7s %7s %7s %7s  %s\n' database via change "p50 ms" "p90 ms" "max ms" ""
for db in GeoLite2-Country.mmdb dbip-country.mmdb; do
	"$GEOBLOCK" geoip load --force "$DATA/$db" >/dev/null
	"$GEOBLOCK" meeting add base --ports 5000 --block CN >/dev/null
	# The first address of the first network of each country.
	"$GEOBLOCK" geoip dump | awk -v dir="$tmp" '!seen[$2]++ { sub("/.*", "", $1); print $1 >(dir "/addr-" $2) }'

	for via in cli api; do
		if [[ $via == api ]]; then
			"$GEOBLOCK" daemon --api "$tmp/api.sock" --metrics 127.0.0.1:0 \
				>"$tmp/daemon.out" 2>&1 &
			daemon=$!
			for ((i = 0; i < 100; i++)); do
				[[ -S $tmp/api.sock ]] && break
				sleep 0.1	# the daemon says nothing when it listens: its socket does
			done
		fi
		: >"$tmp/grow"; : >"$tmp/shrink"; : >"$tmp/same"; bad=0
		for ((i = 0; i < RUNS; i++)); do
			cc=${CCS[i]} addr=$(cat "$tmp/addr-${CCS[i]}")
			for kind in grow same; do
				c=$([[ $kind == grow ]] && echo "$cc" || echo CN)
				t0=$(now_ms)
				if [[ $via == cli ]]; then
					"$GEOBLOCK" meeting add "m$i" --ports $((6000 + i)) --block "$c" >/dev/null
				else
					[[ $(api PUT "/v1/meetings/m$i" "{\"ports\":[\"$((6000 + i))\"],\"block\":[\"$c\"]}") == 20? ]] ||
						{ echo "PUT /v1/meetings/m$i failed" >&2; exit 1; }
				fi
				echo $(($(now_ms) - t0)) >>"$tmp/$kind"
				[[ $kind == same || $(table_says "$addr") == "$cc" ]] || bad=$((bad + 1))
				t0=$(now_ms)
				if [[ $via == cli ]]; then
					"$GEOBLOCK" meeting del "m$i" >/dev/null
				else
					[[ $(api DELETE "/v1/meetings/m$i") == 20? ]] ||
						{ echo "DELETE /v1/meetings/m$i failed" >&2; exit 1; }
				fi
				[[ $kind == same ]] || echo $(($(now_ms) - t0)) >>"$tmp/shrink"
				[[ $kind == same || $(table_says "$addr") == '**' ]] || bad=$((bad + 1))
			done
		done
		for kind in grow shrink same; do
			printf '%-20s %-6s %-7s %s  %s\n' "${db%.mmdb}" "$via" "$kind" "$(stats "$tmp/$kind")" \
				"$([[ $kind == grow ]] && awk -v m="$(sort -n "$tmp/grow" | tail -n1)" \
					'BEGIN { if (m > 300) print "over the 300 ms goal" }')"
		done
		((bad == 0)) || echo "  $bad of $((2 * RUNS)) lookups: the table did not follow the change"
		if [[ $via == api ]]; then
			kill "$daemon"
			wait "$daemon" 2>/dev/null || true
			daemon=
		fi
	done
	"$GEOBLOCK" meeting del base >/dev/null
done
