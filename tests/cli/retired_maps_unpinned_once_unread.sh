#!/usr/bin/env bash
# Maps an earlier version of this ABI pinned and this one no longer uses (ice_senders, lookup_v4,
# lookup_v6_tree, lookup_live_v4): `status` reports them and whether a loaded program still reads
# each; the first change after no program reads one unpins it, and one still read stays; so does
# the daemon's pass (every 5 s), with no change. Stand-ins: an unused array pinned as lookup_v4
# (lookup_v6_tree), and the map of a loaded test program (xdpgen's sources) pinned as ice_senders
# (lookup_live_v4).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
PIN=$GEOBLOCK_PIN_DIR
PROG_DIR=/sys/fs/bpf/geoblock-test-prog-$GB_TEST_ID
on_exit rm -rf "$PROG_DIR"
retired() { "$GEOBLOCK" status --json | jq -c '[.retired_maps[] | [.name, .read_by_a_program]]'; }
pinned() { # the retired names pinned, in the order given
	local n out=()
	for n in ice_senders lookup_v4 lookup_v6_tree lookup_live_v4; do
		[[ -e $PIN/$n ]] && out+=("$n")
	done
	echo "${out[*]}"
}

check "a first change makes the pins" quiet "$GEOBLOCK" meeting add a --ports 7001 --block DE
check_eq "none retired: an empty list" "[]" "$(retired)"
check_eq "... and no line in status" "" "$("$GEOBLOCK" status | grep '^retired:')"

check "an unread stand-in" bpftool map create "$PIN/lookup_v4" type array key 4 value 4096 \
	entries 256 name lookup_v4
mkdir -p "$PROG_DIR"
check "a loaded program" bpftool prog load "$BUILD/bench/xdpgen.bpf.o" "$PROG_DIR/prog" \
	pinmaps "$PROG_DIR"
check "its map pinned as ice_senders" mv "$PROG_DIR/sources" "$PIN/ice_senders"
check_eq "status: which, and which are read" '[["ice_senders",true],["lookup_v4",false]]' \
	"$(retired)"
# The sizes are what this kernel charges (memlock), not checked to the byte.
line=$("$GEOBLOCK" status | grep '^retired:' | sed -E 's/[0-9]+\.[0-9] MiB/N MiB/g')
check_eq "the status line" "retired:   2 maps of an earlier version, 1 still read by a loaded \
program, as one attached before the upgrade (N MiB; detach and attach again to free), 1 read by \
none (N MiB; the daemon or the next change unpins them)" "$line"
check_eq "a reader removes nothing" "ice_senders lookup_v4" "$(pinned)"

"$GEOBLOCK" meeting add b --ports 7002 --block FR >/dev/null 2>"$GEOBLOCK_STATE_DIR/err"
check_eq "a change unpins the unread one, and says so" \
	"geoblock: unpinned lookup_v4, left by an earlier version and read by no program: N MiB freed" \
	"$(grep -v 'warning: no GeoIP table is loaded' "$GEOBLOCK_STATE_DIR/err" |
	   sed -E 's/[0-9]+\.[0-9] MiB/N MiB/')"
check_eq "... and leaves the one a program reads" "ice_senders" "$(pinned)"

id=$(bpftool -j prog show pinned "$PROG_DIR/prog" | jq .id)
rm -rf "$PROG_DIR"
gone() { ! bpftool prog show id "$id" >/dev/null 2>&1; }
check "the program unloaded" wait_until 10 gone
check_eq "now read by none" '[["ice_senders",false]]' "$(retired)"
"$GEOBLOCK" meeting del b >/dev/null 2>"$GEOBLOCK_STATE_DIR/err"
check_eq "the next change unpins it" \
	"geoblock: unpinned ice_senders, left by an earlier version and read by no program: N MiB freed" \
	"$(grep -v 'warning: no GeoIP table is loaded' "$GEOBLOCK_STATE_DIR/err" |
	   sed -E 's/[0-9]+\.[0-9] MiB/N MiB/')"
check_eq "unpinned" "" "$(pinned)"
check_eq "status: none left" "[]" "$(retired)"
check "the meetings kept" test "$("$GEOBLOCK" meeting list --json | jq -r '.[].name')" = a

# A daemon's pass unpins what no program reads, with no change made, and leaves what one reads.
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
api_daemon "$tmp/api.sock"
mkdir -p "$PROG_DIR"
check "a loaded program again" bpftool prog load "$BUILD/bench/xdpgen.bpf.o" "$PROG_DIR/prog" \
	pinmaps "$PROG_DIR"
check "its map pinned as lookup_live_v4" mv "$PROG_DIR/sources" "$PIN/lookup_live_v4"
check "an unread stand-in" bpftool map create "$PIN/lookup_v6_tree" type array key 4 \
	value 4096 entries 256 name lookup_v6_tree
only_read() { [[ $(pinned) == lookup_live_v4 ]]; }
check "the daemon unpins the unread one" wait_until 15 only_read
check "... and says so" grep -q "^geoblock: unpinned lookup_v6_tree, left by an earlier version \
and read by no program: .* MiB freed$" "$tmp/daemon.out"
id=$(bpftool -j prog show pinned "$PROG_DIR/prog" | jq .id)
rm -rf "$PROG_DIR"
check "the program unloaded" wait_until 10 gone
none_left() { [[ -z $(pinned) ]]; }
check "then the one it read" wait_until 15 none_left
check "... saying so" grep -q "^geoblock: unpinned lookup_live_v4, left by" "$tmp/daemon.out"
check_eq "no change was made" 1 "$("$GEOBLOCK" meeting list --json | jq length)"
summary
