#!/usr/bin/env bash
# A fleet node converges again without a change in the store when what stopped it goes away.
# One etcd member on loopback, one node:
#   1. the node follows a fleet of one meeting;
#   2. its change log made immutable (chattr +i), a second meeting put: the node's converge
#      fails, its status says why; the log made writable again, the node takes the meeting
#      within seconds, with no further write to the store, and its status error clears;
#   3. a meeting blocking XK (no ISO 3166-1 code, and not in the loaded GeoIP table) is refused;
#      a table that has XK networks loaded (`geoblock geoip load`), the node takes it;
#   4. `fleet put` and `fleet del` whose transaction etcd makes but whose answer is lost (a TCP
#      gate, tests/fleet/gate.py, cuts the connection then), asked again of the next endpoint:
#      they say they wrote and deleted (exit 0), not that another writer came first.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/etcd.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }

tmp=$(mktemp -d /tmp/gbfleetretry.XXXXXX)
on_exit rm -rf "$tmp"
etcd_cluster_up 1 || { summary; exit; }
EP=$(etcd_endpoints)
PREFIX=/gbr$$
S=$tmp/s
mkdir -p "$S"
gbn() { GEOBLOCK_STATE_DIR=$S "$GEOBLOCK" "$@"; }
printf '%s\n' 10.0.0.0,10.0.0.255,DE >"$tmp/de.csv"
printf '%s\n' 10.0.0.0,10.0.0.255,DE 10.0.1.0,10.0.1.255,XK >"$tmp/xk.csv"
check "a table without XK loaded" quiet gbn geoip load "$tmp/de.csv"

take_port MPORT
GEOBLOCK_STATE_DIR=$S "$GEOBLOCK" daemon --metrics "127.0.0.1:$MPORT" --etcd "$EP" \
	--etcd-prefix "$PREFIX" --node t0 >>"$tmp/node.log" 2>&1 &
NODE_PID=$!
on_exit kill_child "$NODE_PID"
meetings() { gbn meeting list --json | jq -r '[.[].name] | sort | join(",")'; }
has_meetings() { [[ $(meetings) == "$1" ]]; }
status() { etcdctl get --print-value-only "$PREFIX/status/t0"; }
status_error_has() { status | jqe --arg s "$1" '.last_error | contains($s)' >/dev/null; }
status_error_none() { status | jqe '.last_error == ""' >/dev/null; }
refused_has() { status | jqe --arg k "$1" '[.rejected[]?.key] | index($k)' >/dev/null; }
put() { etcdctl put "$PREFIX/meetings/$1" "$2" >/dev/null; }

# 1. Followed.
check "1. a meeting in the store" put m1 '{"ports":[7000],"block":["DE"]}'
check "1. the node takes it" wait_until 20 has_meetings m1

# 2. A converge that fails is tried again.
if chattr +i "$S/rules.log"; then
	on_exit chattr -i "$S/rules.log"
	check "2. a second meeting in the store" put m2 '{"ports":[7001],"block":["DE"]}'
	check "2. the node's converge fails, its status says why" wait_until 20 \
		status_error_has "rules.log"
	check_eq "2. ... the meeting not taken" m1 "$(meetings)"
	chattr -i "$S/rules.log"
	check "2. the log writable again: the node takes the meeting" wait_until 20 \
		has_meetings m1,m2
	check "2. ... its status error cleared" wait_until 10 status_error_none
else
	fail "2. chattr +i on $S/rules.log (ext4 or another file system with the immutable flag)"
fi

# 3. A key refused for a country the table lacks is taken once a table has it.
check "3. a meeting blocking XK in the store" put m3 '{"ports":[7002],"block":["XK"]}'
check "3. refused: XK is no country here" wait_until 20 refused_has "$PREFIX/meetings/m3"
check_eq "3. ... the meeting not taken" m1,m2 "$(meetings)"
check "3. a table with XK networks loaded" quiet gbn geoip load "$tmp/xk.csv"
check "3. the node takes the meeting" wait_until 20 has_meetings m1,m2,m3
check "3. ... and no longer lists it refused" wait_until 10 eval '! refused_has "$PREFIX/meetings/m3"'

# 4. A write whose answer is lost.
gate_up cut-txn
fl() { "$GEOBLOCK" fleet "$@" --etcd "http://127.0.0.1:$GPORT,$EP" --etcd-prefix "$PREFIX"; }
fl put m4 --ports 7004 --block DE >"$tmp/out" 2>"$tmp/err"
check_eq "4. fleet put, its answer cut: exit 0, says it wrote" "0 wrote $PREFIX/meetings/m4|" \
	"$? $(cat "$tmp/out")|$(cat "$tmp/err")"
check_eq "4. ... the key holds the meeting" '["7004"]' \
	"$(etcdctl get --print-value-only "$PREFIX/meetings/m4" | jq -c .ports)"
check "4. ... the node takes it" wait_until 20 has_meetings m1,m2,m3,m4
fl del m4 >"$tmp/out" 2>"$tmp/err"
check_eq "4. fleet del, its answer cut: exit 0, says it deleted" "0 deleted $PREFIX/meetings/m4|" \
	"$? $(cat "$tmp/out")|$(cat "$tmp/err")"
check_eq "4. ... the key is gone" 0 "$(etcdctl get "$PREFIX/meetings/m4" -w json | jq '.count // 0')"
check "4. ... the node lets the meeting go" wait_until 20 has_meetings m1,m2,m3
check "4. the gate kept their answers from them" test "$(grep -c "^cut-txn:" "$GATE_LOG")" -ge 2
summary
