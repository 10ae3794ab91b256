#!/usr/bin/env bash
# Runs each libFuzzer target (`make fuzz` builds them in build-fuzz/fuzz/) for SECONDS from its seeds
# (tests/fuzz/corpus/NAME) and what earlier runs found (build-fuzz/corpus/NAME), and prints its
# executions and CPU time. A crash, leak, hang or out-of-memory fails, naming the saved input: make
# it a regression test by copying it to tests/fuzz/regressions/NAME/ (make test replays those).
#   scripts/fuzz.sh BUILD_DIR SECONDS TARGET...      FUZZ_FLAGS: more libFuzzer flags
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$1
SECONDS_EACH=$2
shift 2

export LSAN_OPTIONS=suppressions=$ROOT/tests/lib/lsan.supp:print_suppressions=0
failed=0
printf '%-8s %12s %9s %8s %7s  %s\n' target executions exec/s cpu-s corpus result
for t in "$@"; do
	work=$B/corpus/$t
	art=$B/artifacts/$t
	log=$B/fuzz-$t.log
	mkdir -p "$work" "$art"
	rm -f "$art"/*
	TIMEFORMAT='%U %S'
	{ time "$B/fuzz/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/" ${FUZZ_FLAGS:-} \
		"$work" "$ROOT/tests/fuzz/corpus/$t" >"$log" 2>&1; } 2>"$B/time-$t"
	rc=$?
	execs=$(awk '/^stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
	rate=$(awk '/^stat::average_exec_per_sec/ {print $2}' "$log" | tail -1)
	cpu=$(awk '{printf "%.0f", $1 + $2}' "$B/time-$t")
	corpus=$(find "$work" -type f | wc -l)
	result=ok
	if ((rc != 0)) || compgen -G "$art/*" >/dev/null; then
		result="FAIL (exit $rc): $(ls "$art" | head -3 | tr '\n' ' ')"
		failed=$((failed + 1))
	fi
	printf '%-8s %12s %9s %8s %7s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "$cpu" "$corpus" "$result"
	if [[ $result != ok ]]; then
		grep -E -m5 'ERROR|fuzz:|SUMMARY|runtime error' "$log" | sed 's/^/    /'
		echo "    log: $log; input(s) in $art/: copy to tests/fuzz/regressions/$t/ once fixed"
	fi
done
((failed == 0))
