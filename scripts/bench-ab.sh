#!/usr/bin/env bash
# Two builds side by side (`make bench-ab BENCH_AB_OLD=PATH`): the drop path of this build's
# geoblock against another build's (PATH: its geoblock binary, which carries its own XDP program),
# e.g. of an earlier commit:
#   git worktree add ../geoblock-old REV && make -C ../geoblock-old
#   make bench-ab BENCH_AB_OLD=../geoblock-old/build/geoblock
# Each build has its own pins, state and table (compiled by its own controller from the same
# database) and the meeting that blocks every country. Every round sends the same frames as
# `make bench` (sources cycling through 1,000,000 addresses) to a bare XDP_DROP, then to the two
# builds attached in turn, the order swapped every round; it prints each round and the median of
# the per-round ratios new/old and of each build to the bare program, per family. Then, under
# BPF_PROG_TEST_RUN with one source, the ns per packet of both programs and of a bare XDP_PASS run
# in turn (xdp_bench nspp-ab): to a port of no meeting, to a meeting port from an allowed and from
# a dropped source (BENCH_AB_NSPP_ROUNDS rounds, default 15).
# BENCH_AB_SHARED=1: the ns per packet also of shared port 10000, where the meeting has a ufrag
# of 4 characters and one of 32: a Binding Request naming each (Chrome's and libnice's order),
# then RTP from the sender they learned (both builds must know shared ports).
# BENCH_AB_POLICY=CC[,CC...]: a typical policy instead: the meeting blocks those countries only,
# and the sources are 1,000,000 addresses of those countries (every packet dropped), e.g.
# BENCH_AB_POLICY=CN, or BENCH_AB_POLICY=CN,RU,IR,KP,SY,CU,BY,VE,MM,AF for `make bench`'s ten.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
GEOBLOCK=$BUILD/geoblock
BENCH=$BUILD/bench/xdp_bench
source "$ROOT/scripts/testbed.sh"
source "$ROOT/scripts/bench-lib.sh"

OLD=${BENCH_AB_OLD:-}
POLICY=${BENCH_AB_POLICY:-}
ROUNDS=${BENCH_ROUNDS:-8}
FRAMES=${BENCH_FRAMES:-2000000}
SOURCES=${BENCH_SOURCES:-1000000}
if [[ -z $OLD || ! -x $OLD ]]; then
	echo "bench-ab: BENCH_AB_OLD must name the other build's geoblock binary" >&2
	exit 2
fi
OLD=$(realpath "$OLD")
tmp=$(mktemp -d)
PIN_BARE=/sys/fs/bpf/geoblock-ab-$$-bare
declare -A PINS=([old]=/sys/fs/bpf/geoblock-ab-$$-old [new]=/sys/fs/bpf/geoblock-ab-$$-new)
declare -A BINS=([old]=$OLD [new]=$GEOBLOCK)
cleanup() {
	testbed_down
	rm -rf "${PINS[old]}" "${PINS[new]}" "$PIN_BARE" "$tmp"
}
trap cleanup EXIT

# as BUILD CMD...: a geoblock command of build BUILD (old or new), with its own pins and state.
as() {
	local b=$1
	shift
	GEOBLOCK_PIN_DIR=${PINS[$b]} GEOBLOCK_STATE_DIR=$tmp/state-$b "$@"
}

bench_database
echo "preparing: $SOURCES sources per family, GeoLite2-Country, $ROUNDS rounds of $FRAMES frames"
echo "old: $OLD"
echo "new: $GEOBLOCK"
echo "policy: ${POLICY:-every country blocked, sources of the world}"
bench_sources "$tmp" "$SOURCES" sources "$POLICY"
for b in old new; do
	mkdir -p "$tmp/state-$b"
	as $b "${BINS[$b]}" geoip load "$DB" >/dev/null
	if [[ -n $POLICY ]]; then
		as $b "${BINS[$b]}" meeting add bench --ports 5004 --block "$POLICY" >/dev/null
	else
		as $b bench_meeting "${BINS[$b]}"
	fi
done
testbed_up gbab
bench_generator

# run WHAT FAMILY: Mpps of the generator with WHAT (bare, old, new) on the receiving veth.
run() {
	local what=$1 fam=$2 mpps
	if [[ $what == bare ]]; then
		in_ns "$TB_DST" "$BENCH" attach "$DST_IFINDEX" drop "$PIN_BARE"
	else
		as $what in_ns "$TB_DST" "${BINS[$what]}" attach "$TB_DST_IF" >/dev/null
	fi
	mpps=$("${GEN[@]}" "$fam" "$tmp/sources$fam" "$DST_MAC" 5004 "$FRAMES" | cut -d' ' -f3)
	if [[ $what == bare ]]; then
		"$BENCH" detach "$PIN_BARE"
	else
		as $what "${BINS[$what]}" detach "$TB_DST_IF" >/dev/null
	fi
	echo "$mpps"
}

for ((r = 1; r <= ROUNDS; r++)); do
	line="round $r:"
	for fam in 4 6; do
		bare=$(run bare $fam)
		if ((r % 2)); then order="old new"; else order="new old"; fi
		declare -A m=()
		for b in $order; do
			m[$b]=$(run $b $fam)
		done
		echo "$fam $bare ${m[old]} ${m[new]}" >>"$tmp/results"
		line+="  IPv$fam bare $bare old ${m[old]} new ${m[new]}"
	done
	echo "$line"
done

echo
echo "Median of $ROUNDS rounds (of each round's ratios):"
printf '%-8s %12s %12s %10s\n' family "old vs bare" "new vs bare" "new/old"
for fam in 4 6; do
	old=$(awk -v f=$fam '$1 == f { print $3 / $2 }' "$tmp/results" | median)
	new=$(awk -v f=$fam '$1 == f { print $4 / $2 }' "$tmp/results" | median)
	ratio=$(awk -v f=$fam '$1 == f { print $4 / $3 }' "$tmp/results" | median)
	printf '%-8s %12.3f %12.3f %10.3f\n' "IPv$fam" "$old" "$new" "$ratio"
done

# The ns per packet need sources of two countries: the world mix's.
[[ -z $POLICY ]] || exit 0

# Both programs loaded at once for BPF_PROG_TEST_RUN: old on the receiving veth, new on the
# sending one (the generator no longer runs). The meeting of each blocks one country only, so
# that a source of another is allowed.
echo
echo "ns per packet (BPF_PROG_TEST_RUN, median of ${BENCH_AB_NSPP_ROUNDS:-15} rounds of 1,000,000 runs," \
	"new, old and bare in turn; wall clock, then the kernel's whole ns):"
as old in_ns "$TB_DST" "$OLD" attach "$TB_DST_IF" >/dev/null
as new in_ns "$TB_SRC" "$GEOBLOCK" attach "$TB_SRC_IF" >/dev/null
shared=()
ufrags=()
if [[ ${BENCH_AB_SHARED:-0} == 1 ]]; then
	shared=(10000 NSPP Hk3sP9vQx2LmT7cRb5nWz8dFj4GaNSPP)
	ufrags=(--ufrag "${shared[1]},${shared[2]}")
	for b in old new; do
		as $b "${BINS[$b]}" shared-port add "${shared[0]}" >/dev/null
	done
fi
for fam in 4 6; do
	head -200 "$tmp/sources$fam" | as new "$GEOBLOCK" geoip lookup - >"$tmp/cc$fam"
	read -r allowed cca < <(head -1 "$tmp/cc$fam")
	read -r dropped ccb < <(awk -v a="$cca" '$2 != a' "$tmp/cc$fam" | head -1)
	for b in old new; do
		as $b "${BINS[$b]}" meeting del bench >/dev/null
		as $b "${BINS[$b]}" meeting add bench --ports 5004 "${ufrags[@]}" --block "$ccb" >/dev/null
	done
	# At SCHED_FIFO on one CPU, as the generator: the wall clock then counts little but the runs.
	taskset -c 0 chrt -f 50 "$BENCH" nspp-ab "${PINS[new]}/link_$TB_SRC_IF" "${PINS[old]}/link_$TB_DST_IF" $fam \
		"$allowed" "$dropped" 5004 7000 "${BENCH_AB_NSPP_ROUNDS:-15}" "${shared[@]}"
done
as old "$OLD" detach "$TB_DST_IF" >/dev/null
as new "$GEOBLOCK" detach "$TB_SRC_IF" >/dev/null
