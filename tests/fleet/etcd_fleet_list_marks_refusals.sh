#!/usr/bin/env bash
# `fleet list` shows the meetings of the store as the nodes take them. One etcd member on loopback,
# keys written with etcdctl (which checks nothing), and:
#   1. of two global keys claiming one port, the later is listed as not taken (every node refuses
#      it), with why; the earlier as a meeting line;
#   2. a node's own key claiming a port a global key holds (written before it): not taken;
#   3. a global key claiming a port a node's own key holds: a meeting line, then a comment naming
#      the node that refuses it (--json: refused_by); with --node that node, not taken;
#   4. --node N of a node whose own meeting of a name has expired lists the global one of that
#      name (the node takes it);
#   5. a node's daemon refuses exactly the keys `fleet list --node` marks as not taken;
#   6. the store's options given twice to fleet put, or --etcd empty: refused.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/etcd.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }

tmp=$(mktemp -d /tmp/gbfleetlist.XXXXXX)
on_exit rm -rf "$tmp"
etcd_cluster_up 1 || { summary; exit; }
EP=$(etcd_endpoints)
P=/gbt$$
fl() { "$GEOBLOCK" fleet "$@" --etcd "$EP" --etcd-prefix "$P"; }
put() { etcdctl put "$P/$1" "$2" >/dev/null || fail "put $1"; }

check "fleet init" quiet fl init
put meetings/a '{"ports":["5000"],"block":["DE"]}'
put meetings/b '{"ports":["5000-5001"],"block":["FR"]}'
put meetings/c '{"ports":["6000"],"block":["DE"]}'
put nodes/t1/meetings/d '{"ports":["6000"],"block":["IT"]}'
put nodes/t2/meetings/g '{"ports":["8000"],"block":["DE"]}'
put meetings/h '{"ports":["8000"],"block":["FR"]}'
put nodes/t3/meetings/x '{"ports":["9000"],"block":["DE"],"expires":"2020-01-01T00:00:00Z"}'
put meetings/x '{"ports":["9001"],"block":["FR"]}'

fl list >"$tmp/list" 2>"$tmp/err"
check_eq "fleet list: exit" 0 $?
check_eq "fleet list: nothing on stderr" "" "$(cat "$tmp/err")"
sed 's/^/    /' "$tmp/list"
line() { grep -E -- "$1" "$tmp/list"; }
# 1.
check "1. the earlier key: a meeting line" quiet line '^\* meeting add a --ports 5000 '
check "1. the later key: not taken, why" quiet \
	line "^\* # $P/meetings/b: not taken: .*5000"
check_eq "1. ... and no meeting line" "" "$(line '^\* meeting add b ')"
# 2.
check "2. a node's key on a port a global key holds: not taken" quiet \
	line "^t1 # $P/nodes/t1/meetings/d: not taken: .*6000"
check "2. the global key: a meeting line" quiet line '^\* meeting add c --ports 6000 '
# 3.
check "3. a global key on a node's port: a meeting line" quiet line '^\* meeting add h --ports 8000 '
check "3. ... marked as refused on that node" quiet \
	line "^\* # $P/meetings/h: refused on node t2: .*8000"
check_eq "3. only h is marked so" 1 "$(grep -c 'refused on node' "$tmp/list")"
fl list --json >"$tmp/list.json"
check_eq "1. --json: b's error" true \
	"$(jq --arg k "$P/meetings/b" '.[] | select(.key == $k) | .error | test("5000")' "$tmp/list.json")"
check_eq "3. --json: h refused by t2" '"t2"' \
	"$(jq -c --arg k "$P/meetings/h" '.[] | select(.key == $k) | .refused_by.node' "$tmp/list.json")"
check_eq "3. --json: a neither" '[null,null]' \
	"$(jq -c --arg k "$P/meetings/a" '.[] | select(.key == $k) | [.error, .refused_by]' "$tmp/list.json")"
fl list --node t2 >"$tmp/list2"
check "3. --node t2: h not taken" grep -qE "^\* # $P/meetings/h: not taken: .*8000" "$tmp/list2"
check "3. --node t2: its own g" grep -qE '^t2 meeting add g --ports 8000 ' "$tmp/list2"
# 4.
fl list --node t3 >"$tmp/list3"
sed 's/^/    /' "$tmp/list3"
check "4. --node t3: the global x (its own has expired)" grep -qE '^\* meeting add x --ports 9001 ' \
	"$tmp/list3"
check "4. --node t3: its own x, expired" grep -qE "^t3 # $P/nodes/t3/meetings/x: not taken: expired" \
	"$tmp/list3"
fl list --node t1 >"$tmp/list1"
check_eq "4. --node t1: one x, the global" "* meeting add x --ports 9001 --block FR" \
	"$(grep -E 'meeting add x ' "$tmp/list1")"

# 5. A node's daemon (t2, then t1) refuses what fleet list --node marks not taken.
# status_applied NODE REV: NODE's status key says it applied revision REV.
status_applied() {
	[[ $(etcdctl get --print-value-only "$P/status/$1" | jq --argjson r "$2" '.revision >= $r') == \
		true ]]
}
REV=$(etcd_revision)
take_port MPORT
for n in t2 t1; do
	mkdir -p "$tmp/s$n"
	GEOBLOCK_PIN_DIR=$GEOBLOCK_PIN_DIR-$n GEOBLOCK_STATE_DIR=$tmp/s$n "$GEOBLOCK" daemon \
		--metrics "127.0.0.1:$MPORT" --etcd "$EP" --etcd-prefix "$P" --node "$n" \
		>>"$tmp/node$n.log" 2>&1 &
	pid=$!
	on_exit kill_child "$pid"
	on_exit rm -rf "$GEOBLOCK_PIN_DIR-$n"
	check "5. node $n applied the store" wait_until 20 status_applied "$n" "$REV"
	got=$(etcdctl get --print-value-only "$P/status/$n" | jq -r '[.rejected[].key] | sort | join(" ")')
	want=$(fl list --node "$n" --json |
		jq -r '[.[] | select(.error and (.error != "expired")) | .key] | sort | join(" ")')
	check_eq "5. node $n refuses what fleet list --node $n marks" "$want" "$got"
	kill_child "$pid"
done

# 6. The store's options: given twice (fleet put parses its own), or --etcd empty (an unset
# variable), refused in one line, nothing written (the build before wrote for the last --node,
# and took "" for 127.0.0.1:2379).
"$GEOBLOCK" fleet put q --ports 5100 --block DE --etcd "$EP" --etcd-prefix "$P" --node t1 \
	--node t2 >/dev/null 2>"$tmp/err"
check_eq "6. fleet put --node twice: exit 1, one line" "1 geoblock: fleet put: --node given twice" \
	"$? $(cat "$tmp/err")"
check_eq "6. ... nothing written" "$P/nodes/t1/meetings/d $P/nodes/t2/meetings/g $P/nodes/t3/meetings/x" \
	"$(etcdctl get --prefix --keys-only "$P/nodes/" | grep . | sort | paste -sd' ')"
GEOBLOCK_ETCD=$EP "$GEOBLOCK" fleet list --etcd "" --etcd-prefix "$P" >/dev/null 2>"$tmp/err"
check_eq "6. fleet list --etcd '': exit 1, one line" \
	"1 geoblock: fleet list: --etcd needs etcd's client URLs (empty here)" "$? $(cat "$tmp/err")"
summary
