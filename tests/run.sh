#!/usr/bin/env bash
# Runs every test (`make test` builds them first); each ends with "N passed, N failed".
# Prints one line per test and the total; exits non-zero if anything failed or did not finish.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"

tests=(
	"$BUILD/tests/unit_country"
	"$BUILD/tests/unit_prefix"
	"$BUILD/tests/unit_csv"
	"$BUILD/tests/unit_table"
	"$BUILD/tests/unit_metrics"
	"$BUILD/tests/unit_exporter"
	"$BUILD/tests/bpf_packets"
	"bash $ROOT/tests/cli/bad_input_changes_nothing.sh"
	"bash $ROOT/tests/cli/metrics_show_what_is_configured.sh"
	"bash $ROOT/tests/monitoring/alerts_and_dashboard_check.sh"
	"$BUILD/tests/unit_parse"
	"bash $ROOT/tests/cli/concurrent_changes_serialise.sh"
	"bash $ROOT/tests/cli/audit_log_records_every_change.sh"
	"bash $ROOT/tests/geoip/lookup_matches_libmaxminddb.sh"
	"bash $ROOT/tests/geoip/csv_matches_ranges.sh"
	"bash $ROOT/tests/geoip/every_form_loads_the_same_table.sh"
	"bash $ROOT/tests/geoip/refuses_empty_or_shrinking_table.sh"
	"bash $ROOT/tests/geoip/table_matches_lpm.sh"
	"bash $ROOT/tests/e2e/drops_exactly_named_pairs.sh"
	"bash $ROOT/tests/e2e/reload_keeps_verdicts.sh"
	"bash $ROOT/tests/e2e/daemon_watch_reloads.sh"
	"bash $ROOT/tests/e2e/prometheus_counts_exact_drops.sh"
	"bash $ROOT/tests/e2e/rule_options_act_on_real_traffic.sh"
	"bash $ROOT/tests/e2e/expiry_stops_dropping_without_daemon.sh"
	"bash $ROOT/tests/e2e/apply_makes_file_the_rule_set.sh"
	"bash $ROOT/tests/e2e/restore_after_reboot_filters_as_before.sh"
	"bash $ROOT/tests/dist/install_puts_and_uninstall_removes_exact_files.sh"
)

if [[ $(id -u) != 0 ]]; then
	echo "tests need root (BPF, XDP, network namespaces)" >&2
	exit 2
fi
total_pass=0
total_fail=0
broken=0
for t in "${tests[@]}"; do
	name=$(basename "${t##* }")
	name=${name%.sh}
	start=$(date +%s)
	$t >"$LOGS/$name.log" 2>&1
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGS/$name.log" | tail -1)
	if [[ -z $line ]]; then
		echo "BROKEN  $name (exit $rc, no summary; see $LOGS/$name.log)"
		tail -5 "$LOGS/$name.log" | sed 's/^/    /'
		broken=$((broken + 1))
		continue
	fi
	p=${line%% passed*}
	f=${line#*passed, }
	f=${f%% failed*}
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	status=ok
	if ((f > 0 || rc != 0)); then
		status=FAIL
		grep -E '^FAIL' "$LOGS/$name.log" | head -20 | sed 's/^/    /'
	fi
	printf '%-5s %-36s %s (%ss)\n' "$status" "$name" "$line" "$(($(date +%s) - start))"
	((rc != 0 && f == 0)) && broken=$((broken + 1))
done
echo "$total_pass passed, $((total_fail + broken)) failed"
((total_fail == 0 && broken == 0))
