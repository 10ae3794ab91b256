#!/usr/bin/env bash
# Runs every test (`make test` builds them first); each ends with "N passed, N failed". A test
# script, unit test or BPF test left out of the list below is counted as broken.
# Prints one line per test as it ends and the total; exits non-zero if anything failed or did not
# finish. GB_TEST_JOBS tests (default 2) run at once, each in its own pins, state dir and
# namespaces; those that must have the machine to themselves (see alone) run after them, one by
# one.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# GB_BUILD: the build to test (`make test SANITIZE=1` passes build-san).
export GB_BUILD=${GB_BUILD:-$ROOT/build}
BUILD=$GB_BUILD
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"

JOBS=${GB_TEST_JOBS:-2}
if [[ ! $JOBS =~ ^[1-9][0-9]*$ ]]; then
	echo "GB_TEST_JOBS: \"$JOBS\" is not a number of jobs" >&2
	exit 2
fi
# A test still running after this many seconds is stopped (TERM, then KILL 30 s later) and counted
# as broken: the longest takes about 105 s (more under the sanitizers).
LIMIT=${GB_TEST_TIMEOUT:-1200}

# Sanitizer reports go to files, one per process and a directory per test, so that none is lost
# when a test captures or discards a command's stderr; a test with a report fails whatever it
# printed.
SAN_LOGS=$LOGS/sanitizer
if [[ ${GB_SANITIZE:-} == 1 ]]; then
	rm -rf "$SAN_LOGS"
	mkdir -p "$SAN_LOGS"
	export LSAN_OPTIONS=suppressions=$ROOT/tests/lib/lsan.supp:print_suppressions=0
fi
SAN_REPORT='ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:'

# In this order, two at a time (then the ones that run alone): the longest first (about 50 s
# each), so that none ends the pass alone.
tests=(
	"bash $ROOT/tests/cli/janus_events_change_membership.sh"
	"bash $ROOT/tests/cli/janus_restarts_silences_and_late_candidates.sh"
	"bash $ROOT/tests/faults/kill9_daemon_then_next_start_works.sh"
	"$BUILD/tests/unit_country"
	"$BUILD/tests/unit_prefix"
	"$BUILD/tests/unit_csv"
	"$BUILD/tests/unit_table"
	"$BUILD/tests/unit_metrics"
	"$BUILD/tests/unit_exporter"
	"$BUILD/tests/unit_geoip"
	"$BUILD/tests/bpf_packets"
	"bash $ROOT/tests/diff/diff_packets.sh"
	"bash $ROOT/tests/fuzz/replay_corpora.sh"
	"bash $ROOT/tests/cli/source_layers_hold.sh"
	"bash $ROOT/tests/cli/help_man_and_completion_agree.sh"
	"bash $ROOT/tests/cli/bad_input_changes_nothing.sh"
	"bash $ROOT/tests/cli/metrics_show_what_is_configured.sh"
	"bash $ROOT/tests/monitoring/alerts_and_dashboard_check.sh"
	"$BUILD/tests/unit_parse"
	"$BUILD/tests/unit_fleet_layout"
	"$BUILD/tests/unit_fleet_store"
	"$BUILD/tests/unit_ice_hash"
	"$BUILD/tests/unit_hot"
	"$BUILD/tests/unit_shared_ports"
	"bash $ROOT/tests/cli/concurrent_changes_serialise.sh"
	"bash $ROOT/tests/cli/capacity_16384_meetings_all_ports.sh"
	"bash $ROOT/tests/cli/concurrent_mixed_commands_equal_a_serial_order.sh"
	"bash $ROOT/tests/cli/drop_counters_assigned_and_freed.sh"
	"bash $ROOT/tests/cli/meeting_live_twice_is_counted_once.sh"
	"bash $ROOT/tests/cli/lost_pins_keep_recorded_meetings.sh"
	"bash $ROOT/tests/cli/expiry_survives_tai_offset_change.sh"
	"bash $ROOT/tests/cli/audit_log_records_every_change.sh"
	"bash $ROOT/tests/cli/pinned_abi_checked_and_readers_create_nothing.sh"
	"bash $ROOT/tests/cli/retired_maps_unpinned_once_unread.sh"
	"bash $ROOT/tests/cli/country_codes_checked_and_named.sh"
	"bash $ROOT/tests/cli/country_census_follows_the_loaded_table.sh"
	"bash $ROOT/tests/cli/meeting_ports_change_incrementally.sh"
	"bash $ROOT/tests/cli/shared_ports_and_ufrags_change_as_told.sh"
	"bash $ROOT/tests/cli/ufrag_ways_follow_the_ufrags.sh"
	"bash $ROOT/tests/cli/hot_senders_follow_the_ufrags.sh"
	"bash $ROOT/tests/cli/check_answers_as_the_data_path_would.sh"
	"bash $ROOT/tests/api/api_routes_match_openapi.sh"
	"bash $ROOT/tests/api/api_changes_meetings.sh"
	"bash $ROOT/tests/api/api_check_route.sh"
	"bash $ROOT/tests/api/api_reads_see_no_change_halfway.sh"
	"bash $ROOT/tests/api/api_survives_bad_clients.sh"
	"bash $ROOT/tests/api/api_serves_while_changes_wait.sh"
	"bash $ROOT/tests/geoip/lookup_matches_libmaxminddb.sh"
	"bash $ROOT/tests/geoip/csv_matches_ranges.sh"
	"bash $ROOT/tests/geoip/every_form_loads_the_same_table.sh"
	"bash $ROOT/tests/geoip/refuses_empty_or_shrinking_table.sh"
	"bash $ROOT/tests/geoip/load_warns_and_keeps_named_copies.sh"
	"bash $ROOT/tests/geoip/table_matches_lpm.sh"
	"bash $ROOT/tests/e2e/drops_exactly_named_pairs.sh"
	"bash $ROOT/tests/e2e/reload_keeps_verdicts.sh"
	"bash $ROOT/tests/e2e/policy_table_follows_meetings.sh"
	"bash $ROOT/tests/e2e/daemon_watch_reloads.sh"
	"bash $ROOT/tests/e2e/daemon_leaves_recreated_pins_alone.sh"
	"bash $ROOT/tests/e2e/prometheus_counts_exact_drops.sh"
	"bash $ROOT/tests/e2e/rule_options_act_on_real_traffic.sh"
	"bash $ROOT/tests/e2e/expiry_stops_dropping_without_daemon.sh"
	"bash $ROOT/tests/e2e/apply_makes_file_the_rule_set.sh"
	"bash $ROOT/tests/e2e/restore_after_reboot_filters_as_before.sh"
	"bash $ROOT/tests/e2e/api_change_judges_next_packet.sh"
	"bash $ROOT/tests/e2e/shared_port_ice_real_clients.sh"
	"bash $ROOT/tests/e2e/janus_rooms_real_clients.sh"
	"bash $ROOT/tests/fleet/etcd_nodes_converge.sh"
	"bash $ROOT/tests/fleet/etcd_tls_and_resume.sh"
	"bash $ROOT/tests/fleet/etcd_prefix_names_a_fleet.sh"
	"bash $ROOT/tests/fleet/etcd_store_replaced_while_a_read_waits.sh"
	"bash $ROOT/tests/fleet/etcd_node_retries_what_failed.sh"
	"bash $ROOT/tests/fleet/etcd_store_read_in_pages.sh"
	"bash $ROOT/tests/fleet/etcd_local_change_during_a_converge_keeps_its_mark.sh"
	"bash $ROOT/tests/fleet/etcd_node_on_pins_made_anew_changes_nothing.sh"
	"bash $ROOT/tests/fleet/etcd_fleet_list_marks_refusals.sh"
	"bash $ROOT/tests/dist/install_puts_and_uninstall_removes_exact_files.sh"
	"bash $ROOT/tests/dist/deb_installs_runs_and_purges_clean.sh"
	"bash $ROOT/tests/faults/kill9_geoip_load_leaves_old_or_new_table.sh"
	"bash $ROOT/tests/faults/kill9_geoip_load_keeps_copy_of_live_table.sh"
	"bash $ROOT/tests/faults/geoip_load_cut_between_families_settles.sh"
	"bash $ROOT/tests/faults/restore_cut_short_is_finished_first.sh"
	"bash $ROOT/tests/faults/kill9_apply_leaves_old_or_new_rule_set.sh"
	"bash $ROOT/tests/faults/kill9_apply_near_capacity_recovers.sh"
	"bash $ROOT/tests/faults/attach_died_before_recording_is_recorded_again.sh"
	"bash $ROOT/tests/faults/kill9_meeting_change_keeps_maps_and_file_equal.sh"
	"bash $ROOT/tests/faults/kill9_ports_change_keeps_maps_and_file_equal.sh"
	"bash $ROOT/tests/faults/kill9_daemon_under_writers_keeps_acknowledged.sh"
	"bash $ROOT/tests/faults/bpffs_missing_mounts_or_says_so.sh"
	"bash $ROOT/tests/faults/pin_dir_removed_under_daemon.sh"
	"bash $ROOT/tests/faults/interface_deleted_while_attached.sh"
	"bash $ROOT/tests/faults/disk_full_keeps_state_and_enforcement.sh"
	"bash $ROOT/tests/faults/audit_record_cut_short_is_kept_whole.sh"
	"bash $ROOT/tests/faults/damaged_rules_file_restores_the_rest.sh"
	"bash $ROOT/tests/faults/expiry_killed_after_its_audit_is_audited_once.sh"
	"bash $ROOT/tests/faults/state_dir_swapped_for_a_symlink_is_refused.sh"
	"bash $ROOT/tests/faults/directory_sync_failing_after_rename_keeps_the_change.sh"
)

# A test left out of the list above would never run: each one found is counted as broken.
unlisted=()
for f in "$ROOT"/tests/*/*.sh "$ROOT"/tests/unit/unit_*.c "$ROOT"/tests/bpf/*.c; do
	[[ $f == */tests/lib/* || $f == */lib.sh ]] && continue
	[[ $f == *.c ]] && t=$BUILD/tests/$(basename "${f%.c}") || t="bash $f"
	[[ " ${tests[*]} " == *" $t "* ]] || unlisted+=("${f#"$ROOT"/}")
done

if [[ $(id -u) != 0 ]]; then
	echo "tests need root (BPF, XDP, network namespaces)" >&2
	exit 2
fi

# skip_reason T: why the pass skips T, if it does.
skip_reason() {
	[[ ${GB_SANITIZE:-} == 1 ]] || return 1
	# What a package installs is the same whatever the build: checked in the plain pass only.
	if [[ $1 == */tests/dist/* ]]; then
		echo "(packaging: checked in the plain pass)"
	# Real WebRTC clients against the data path: what they check is a race of milliseconds
	# (a port given before a client's DTLS completes), which a sanitized controller, several
	# times slower, changes. Their controller paths run sanitized in the CLI tests (Janus's
	# events, shared ports and ufrags).
	elif [[ $1 == *_real_clients.sh ]]; then
		echo "(real clients' timing: checked in the plain pass)"
	else
		return 1
	fi
}

# alone T: whether T runs with no other test beside it: it installs into the system, times real
# clients' handshakes to the millisecond, or starts etcd clusters whose members come back on ports
# another test could take meanwhile (and 20 daemons whose convergence it times).
alone() {
	[[ $1 == */tests/dist/* || $1 == *_real_clients.sh || $1 == */tests/fleet/* ]]
}

# run_one T NAME: runs test T (in the background, beside others) and leaves in
# $LOGS/NAME.result its exit code, seconds, and the "N passed, N failed" line. timeout runs the
# test in a process group of its own and passes a TERM on to all of it.
run_one() {
	local t=$1 name=$2 start rc line
	# A TERM to the runner's whole process group (a CI's timeout) must not end this shell before
	# its test: stop_running passes it on to the test (timeout, which resets TERM for the test).
	trap '' TERM
	start=$(date +%s)
	if [[ ${GB_SANITIZE:-} == 1 ]]; then
		mkdir -p "$SAN_LOGS/$name"
		local to=$SAN_LOGS/$name/report
		export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:log_path=$to
		export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$to
	fi
	timeout -k 30 "$LIMIT" $t >"$LOGS/$name.log" 2>&1 </dev/null
	rc=$?
	((rc == 124)) && echo "stopped after $LIMIT s (GB_TEST_TIMEOUT)" >>"$LOGS/$name.log"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGS/$name.log" | tail -1)
	printf '%s %s %s\n' "$rc" "$(($(date +%s) - start))" "$line" >"$LOGS/$name.result"
}

total_pass=0
total_fail=0
broken=${#unlisted[@]}	# tests left out of the list count as broken
# report NAME: the line of a test that ended, and its part of the totals.
report() {
	local name=$1 rc=? secs=? line= p f status
	[[ -r $LOGS/$name.result ]] && read -r rc secs line <"$LOGS/$name.result"
	if [[ ${GB_SANITIZE:-} == 1 ]]; then
		mkdir -p "$SAN_LOGS/$name"
		# Reports on stderr too, should a runtime ignore log_path.
		grep -E -A3 "$SAN_REPORT" "$LOGS/$name.log" >"$SAN_LOGS/$name/report.stderr" ||
			rm -f "$SAN_LOGS/$name/report.stderr"
		if grep -q -E "$SAN_REPORT" "$SAN_LOGS/$name"/report.* 2>/dev/null; then
			echo "FAIL  $name: sanitizer reports in $SAN_LOGS/$name:"
			grep -h -m3 -E "$SAN_REPORT|SUMMARY" "$SAN_LOGS/$name"/report.* | head -12 |
				sed 's/^/    /'
			total_fail=$((total_fail + 1))
			san_counted[$name]=1
		fi
	fi
	if [[ -z $line ]]; then
		echo "BROKEN  $name (exit $rc, no summary; see $LOGS/$name.log)"
		tail -5 "$LOGS/$name.log" | sed 's/^/    /'
		broken=$((broken + 1))
		return
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
	printf '%-5s %-36s %s (%ss)\n' "$status" "$name" "$line" "$secs"
	((rc != 0 && f == 0)) && broken=$((broken + 1))
}

declare -A san_counted=()	# tests failed for a sanitizer report
declare -A running=()	# PID of its run_one -> name
# reap: waits for one running test to end and reports it (a run_one that wait cannot name, one
# gone by a signal, is reported once it is gone).
reap() {
	local pid=
	wait -n -p pid "${!running[@]}"
	if [[ -n $pid && -n ${running[$pid]:-} ]]; then
		report "${running[$pid]}"
		unset "running[$pid]"
		return
	fi
	for pid in "${!running[@]}"; do
		kill -0 "$pid" 2>/dev/null && continue
		report "${running[$pid]}"
		unset "running[$pid]"
	done
}
# stop_running CODE: stops the running tests (TERM to each one's timeout, which passes it on to
# the test's process group: the tests clean up on TERM) and exits CODE.
stop_running() {
	local pid
	for pid in "${!running[@]}"; do pkill -TERM -P "$pid"; done
	wait
	exit "$1"
}
trap 'stop_running 130' INT
trap 'stop_running 143' TERM

for f in "${unlisted[@]}"; do
	echo "BROKEN  $f: not in tests/run.sh's list, never run"
done
later=()
for t in "${tests[@]}"; do
	name=$(basename "${t##* }")
	name=${name%.sh}
	if why=$(skip_reason "$t"); then
		printf '%-5s %-36s %s\n' skip "$name" "$why"
		continue
	fi
	if alone "$t"; then
		later+=("$t")
		continue
	fi
	rm -f "$LOGS/$name.result"
	while ((${#running[@]} >= JOBS)); do reap; done
	run_one "$t" "$name" &
	running[$!]=$name
done
while ((${#running[@]})); do reap; done
for t in "${later[@]}"; do
	name=$(basename "${t##* }")
	name=${name%.sh}
	rm -f "$LOGS/$name.result"
	run_one "$t" "$name" &
	running[$!]=$name
	reap
done
# A report written after its test was reported (a process of it still ending then).
if [[ ${GB_SANITIZE:-} == 1 ]]; then
	for d in "$SAN_LOGS"/*/; do
		name=$(basename "$d")
		[[ -n ${san_counted[$name]:-} ]] && continue
		if grep -q -E "$SAN_REPORT" "$d"report.* 2>/dev/null; then
			echo "FAIL  $name: sanitizer reports in $d (written after its line above):"
			grep -h -m3 -E "$SAN_REPORT|SUMMARY" "$d"report.* | head -12 |
				sed 's/^/    /'
			total_fail=$((total_fail + 1))
		fi
	done
fi
echo "$total_pass passed, $((total_fail + broken)) failed"
((total_fail == 0 && broken == 0))
