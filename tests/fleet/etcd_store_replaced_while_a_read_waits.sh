#!/usr/bin/env bash
# A store made anew while a node waits to read it whole keeps the node's rule set, as one found
# behind at the watch's start does (etcd_prefix_names_a_fleet, step 8). One etcd member on
# loopback; the node reaches it through a gate (tests/fleet/gate.py) the test closes at will:
#   1. the node follows a fleet: a meeting and a shared port, both applied;
#   2. the node stopped (SIGSTOP), the gate closed, the store written on and compacted past the
#      node's revision; the gate set to close again once etcd says so to a watch; continued, the
#      node finds its revision compacted away, and its read of the whole store fails;
#   3. etcd made anew meanwhile (its data dir removed), the gate opened: the node reads a store
#      behind the revision it saw, says so, and is kept back (a store holding no fleet's key) with
#      its meeting and shared port, its status saying why; nothing removed, nothing audited;
#   4. a meeting written to the new store: the node converges to it;
#   5. as 2 and 3, but the store made anew is written past the revision the node saw before the
#      gate opens: its fleet key, gone, tells the node; kept back as in 3.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/etcd.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }

tmp=$(mktemp -d /tmp/gbfleetgate.XXXXXX)
on_exit rm -rf "$tmp"
etcd_cluster_up 1 || { summary; exit; }
EP=$(etcd_endpoints)
PREFIX=/gbt$$
gate_up pass

take_port MPORT
gbn() { GEOBLOCK_STATE_DIR=$tmp/s "$GEOBLOCK" "$@"; }
mkdir -p "$tmp/s"
GEOBLOCK_STATE_DIR=$tmp/s "$GEOBLOCK" daemon --metrics "127.0.0.1:$MPORT" \
	--etcd "http://127.0.0.1:$GPORT" --etcd-prefix "$PREFIX" --node t0 >>"$tmp/node.log" 2>&1 &
NODE_PID=$!
on_exit kill_child "$NODE_PID"
# A node left stopped by a failed step is continued, so that kill_child can stop it.
cont_node() { [[ $(awk '{ print $4 }' "/proc/$NODE_PID/stat" 2>/dev/null) == "$$" ]] &&
	kill -CONT "$NODE_PID"; }
on_exit cont_node
said() { grep -q -- "$1" "$tmp/node.log"; }
meetings() { gbn meeting list --json | jq -r '[.[].name] | sort | join(",")'; }
has_meetings() { [[ $(meetings) == "$1" ]]; }
shared() { gbn shared-port list --json | jq -r '.ports | join(",")'; }
shared_is() { [[ $(shared) == "$1" ]]; }
status() { etcdctl get --print-value-only "$PREFIX/status/t0"; }
status_error_has() { status | jqe --arg s "$1" '.last_error | contains($s)' >/dev/null; }

# 1. A fleet followed. Another node's key, rewritten, takes the revision the node sees well past
# what a new store reaches in this test (checked in 3).
for k in $(seq 20); do
	etcdctl put "$PREFIX/nodes/other/meetings/o" '{"ports":[8000]}' >/dev/null
done
check "1. a meeting in the store" quiet "$GEOBLOCK" fleet put m1 --ports 7000 --block DE \
	--etcd "$EP" --etcd-prefix "$PREFIX"
check "1. the store shares 10000" quiet etcdctl put "$PREFIX/shared-ports" '{"ports":[10000]}'
check "1. the node takes the meeting" wait_until 20 has_meetings m1
check "1. ... and the shared port" wait_until 20 shared_is 10000

applied_revision() {
	curl -s "http://127.0.0.1:$MPORT/metrics" |
		awk '$1 == "geoblock_fleet_applied_revision" { print $2 }'
}
compactions() { grep -c "was compacted away" "$tmp/node.log"; }
# Said as the link's error, after the last compaction (curl's words for a cut connection vary).
read_failed() { tac "$tmp/node.log" | awk '/was compacted away/ { found = 1; exit }
	/^geoblock: fleet: etcd http:/ { f = 1 } END { exit !(found && f) }'; }
gate_down() { [[ $(<"$GATE") == down ]]; }
# cut_off STEP: the node stopped, its revision compacted away, continued: its read of the whole
# store fails at the gate, closed right after etcd's answer to its watch. Sets applied, audited.
cut_off() {
	local step=$1 before compacted
	applied=$(applied_revision)
	audited=$(wc -l <"$tmp/s/audit.log")
	before=$(compactions)
	kill -STOP "$NODE_PID"
	gate_set down
	for k in 1 2 3 4 5; do etcdctl put "/other$$/$k" x >/dev/null; done
	compacted=$(etcd_compact)
	check "$step. compacted past the node's revision (${applied:-?} < ${compacted:-?})" \
		test "${applied:-0}" -gt 0 -a "${applied:-0}" -lt "${compacted:-0}"
	gate_set cut-at-compact
	kill -CONT "$NODE_PID"
	check "$step. the node finds its revision compacted away" wait_until 30 \
		eval '(($(compactions) > before))'
	check "$step. ... and the gate closed after that answer" wait_until 10 gate_down
	check "$step. its read of the whole store fails" wait_until 20 read_failed
}
# anew STEP: etcd made anew (its data dir removed).
anew() {
	check "$1. etcd stopped" etcd_kill 0 TERM
	rm -rf "$ETCD_DIR/m0.data"
	check "$1. etcd started on an empty data dir" etcd_start 0
}

# 2. Its revision compacted away while it was stopped; its read of the whole store then fails.
cut_off 2

# 3. The store made anew before the read succeeds: behind what the node saw.
anew 3
check "3. the new store behind the node's revision" test "$(etcd_revision)" -lt "$applied"
gate_set pass
check "3. the node says the store is behind what it saw" wait_until 30 said \
	"behind the [0-9]* seen here (restored or made anew)"
check "3. ... keeps its rule set, and says why" wait_until 20 status_error_has \
	"no fleet under $PREFIX/"
check_eq "3. its meeting kept" m1 "$(meetings)"
check_eq "3. its shared port kept" 10000 "$(shared)"
check_eq "3. nothing changed: its audit log as before" "$audited" "$(wc -l <"$tmp/s/audit.log")"

# 4. The new store given a meeting: the node converges to it.
check "4. a meeting in the new store" quiet etcdctl put "$PREFIX/meetings/fresh" \
	'{"ports":[7100],"block":["FR"]}'
check "4. the node converges to it" wait_until 20 has_meetings fresh
check_eq "4. the shared port gone with the old store" "" "$(shared)"
check "4. the new store marked a fleet" quiet "$GEOBLOCK" fleet init --etcd "$EP" \
	--etcd-prefix "$PREFIX"
mark=$(etcdctl get -w json "$PREFIX/fleet" | jq -r '.kvs[0].mod_revision')
applied_from() { (($(applied_revision) >= $1)); }
check "4. the node has seen the mark" wait_until 20 applied_from "$mark"

# 5. Made anew again during the read, and written past the revision the node saw: no revision
# tells, its fleet key does.
cut_off 5
anew 5
# Past what the node saw, which is more than it applied (its own status writes): by a margin.
for ((k = 0; k <= applied + 30; k++)); do etcdctl put "/filler$$/$k" x >/dev/null; done
check "5. the new store past the node's revision" test "$(etcd_revision)" -gt "$applied"
gate_set pass
check "5. the node says the fleet key is not as it saw it" wait_until 30 said \
	"$PREFIX/fleet is not as revision [0-9]* left it"
check "5. ... keeps its meeting, and says why" wait_until 20 status_error_has \
	"no fleet under $PREFIX/"
check_eq "5. its meeting kept" fresh "$(meetings)"
check_eq "5. nothing changed: its audit log as before" "$audited" "$(wc -l <"$tmp/s/audit.log")"

if ((FAILED)); then
	echo "--- node log"; tail -n 30 "$tmp/node.log"; echo "--- gate"; cat "$GATE_LOG"
fi
summary
