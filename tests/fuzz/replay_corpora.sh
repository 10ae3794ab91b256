#!/usr/bin/env bash
# Replays every fuzz target's seeds (tests/fuzz/corpus/NAME) and the inputs that once made it fail
# (tests/fuzz/regressions/NAME) without libFuzzer, each in its own process: none may crash, hang,
# leak (SANITIZE=1) or break a property. Also checks that the geoip seeds are what mkmmdb writes.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

F=$ROOT/tests/fuzz
for src in "$F"/fuzz_*.c; do
	t=${src##*/fuzz_}
	t=${t%.c}
	dirs=("$F/corpus/$t")
	[[ -d $F/regressions/$t ]] && dirs+=("$F/regressions/$t")
	out=$("$BUILD/tests/fuzz_$t" "${dirs[@]}")
	rc=$?
	grep '^FAIL' <<<"$out" >&2
	n=$(sed -n 's/^replayed \([0-9]*\) inputs, \([0-9]*\) failed$/\1 \2/p' <<<"$out")
	if [[ -z $n ]]; then
		fail "fuzz_$t: replay did not finish (exit $rc)"
		continue
	fi
	echo "fuzz_$t: replayed ${n% *} inputs, ${n#* } failed"
	check "fuzz_$t has seeds" test "${n% *}" -gt 0
	PASSED=$((PASSED + ${n% *} - ${n#* }))
	FAILED=$((FAILED + ${n#* }))
done

tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
if "$BUILD/tests/mkmmdb" "$tmp"; then
	for f in "$tmp"/*; do
		check "seed ${f##*/} is what mkmmdb writes" cmp -s "$f" "$F/corpus/geoip/${f##*/}"
	done
else
	fail "mkmmdb"
fi
summary
