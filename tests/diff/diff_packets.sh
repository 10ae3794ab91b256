#!/usr/bin/env bash
# Differential test of the data path (see diff_packets.c) on GeoLite2-Country: at least 1,000,000
# generated frames through both lookup modes against the reference classifier, then over
# 1,000,000 frames of STUN and media to shared ports (every valid frame to one: DIFF_SHARED=100;
# 400,000 in the sanitizer pass).
# DIFF_SEED, DIFF_PACKETS, DIFF_FIRST, DIFF_SHARED reproduce a run or one frame of it (one run).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

if ! geoip_data; then
	fail "fetch databases"
	summary
	exit
fi
db=$GEOBLOCK_DATA_DIR/GeoLite2-Country.mmdb.gz
if [[ -n ${DIFF_PACKETS:-}${DIFF_FIRST:-}${DIFF_SHARED:-} ]]; then
	# Not exec: this shell's cleanup (its state dir) runs when it ends.
	"$BUILD/tests/diff_packets" "$db"
	exit
fi
# Each run ends with its "N passed, N failed": summed into this test's.
for run in mixed shared; do
	if [[ $run == shared ]]; then
		# The sanitizer pass checks the same code on fewer frames: memory errors, not rare rules.
		n=1400000
		[[ ${GB_SANITIZE:-} == 1 ]] && n=400000
		out=$(DIFF_SHARED=100 DIFF_PACKETS=$n "$BUILD/tests/diff_packets" "$db" 2>&1)
	else
		out=$("$BUILD/tests/diff_packets" "$db" 2>&1)
	fi
	rc=$?
	echo "$out"
	read -r p _ f _ <<<"$(tail -n1 <<<"$out")"
	if [[ $p =~ ^[0-9]+$ && $f =~ ^[0-9]+$ ]]; then
		PASSED=$((PASSED + p))
		FAILED=$((FAILED + f))
	else
		fail "$run run: no summary"
	fi
	((rc == 0)) || ((f > 0)) || fail "$run run: exit $rc"
done
summary
