#!/usr/bin/env bash
# A store read whole in pages: one etcd member on loopback holding, under the fleet's prefix,
# 4,500 small keys of another node, 60 values of 1 MiB (80 MiB of JSON, more than one reply of
# the gateway may bring: 64 MiB) and, sorted after all of them, 30 meetings of node t0. The node
# reaches etcd through a gate (tests/fleet/gate.py) that holds its read at the second page, while
# the test writes a 31st meeting: the pages are read at the first one's revision, and the watch
# from there brings the 31st. The node takes all 31, every one of them (no key lost or read twice
# at a page's edge); `fleet list` lists every key of the store; the node says nothing of a read
# that failed. 3,000
# keys outside the fleet's layout (long names, about 2 MB of refusals) and the 60 big values (of
# no layout either) are refused: the node's status lists the first 100 and counts them all, and is
# written (etcd takes values of up to 1.5 MiB).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/etcd.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }

tmp=$(mktemp -d /tmp/gbfleetpages.XXXXXX)
on_exit rm -rf "$tmp"
etcd_cluster_up 1 || { summary; exit; }
EP=$(etcd_endpoints)
PREFIX=/gbp$$
S=$tmp/s
mkdir -p "$S"

# Written through the gateway on one connection (etcdctl would start a process per key).
/usr/bin/python3 - "${EP#http://}" "$PREFIX" <<'PY' || fail "fill the store"
import base64, http.client, json, sys
conn = http.client.HTTPConnection(sys.argv[1], timeout=30)
prefix = sys.argv[2]
def put(key, value):
    body = json.dumps({"key": base64.b64encode(key.encode()).decode(),
                       "value": base64.b64encode(value).decode()})
    conn.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit(f"put {key}: HTTP {r.status}")
put(prefix + "/fleet", b'{"created":1}')
for i in range(4500):
    put(f"{prefix}/nodes/other/meetings/o{i:05d}", b'{"ports":[9000]}')
big = b"x" * (1 << 20)
for i in range(60):
    put(f"{prefix}/nodes/other/zbig/b{i:03d}", big)
for i in range(3000):
    put(f"{prefix}/staging/{'s' * 600}{i:05d}", b'{}')
for i in range(30):
    put(f"{prefix}/nodes/t0/meetings/m{i:03d}", json.dumps({"ports": [7000 + i], "block": ["DE"]}).encode())
PY

# The node reaches etcd through a gate that holds the read's second page (tests/fleet/gate.py).
gate_up hold-pinned-range
GEOBLOCK_STATE_DIR=$S "$GEOBLOCK" daemon --etcd "http://127.0.0.1:$GPORT" --etcd-prefix "$PREFIX" \
	--node t0 --metrics 127.0.0.1:0 >>"$tmp/node.log" 2>&1 &
NODE_PID=$!
on_exit kill_child "$NODE_PID"
# A meeting written while the read is held between its pages: after the revision the read sees,
# so the watch that follows the read must bring it.
held() { [[ $(<"$GATE") == held ]]; }
check "the node's read held at its second page" wait_until 30 held
check "a meeting of t0 written meanwhile" quiet etcdctl put "$PREFIX/nodes/t0/meetings/m030" \
	'{"ports":[7030],"block":["DE"]}'
gate_set pass
count() { GEOBLOCK_STATE_DIR=$S "$GEOBLOCK" meeting list --json | jq length; }
all_taken() { [[ $(count) == 31 ]]; }
check "the node takes its 31 meetings, sorted after 80 MiB of other keys" wait_until 60 all_taken
check_eq "... every one, each once" "$(printf 'm%03d\n' $(seq 0 30))" \
	"$(GEOBLOCK_STATE_DIR=$S "$GEOBLOCK" meeting list --json | jq -r '.[].name' | sort)"
check_eq "... no read said to fail" "" "$(grep -i 'reply over\|fleet: etcd' "$tmp/node.log")"
"$GEOBLOCK" fleet list --json --etcd "$EP" --etcd-prefix "$PREFIX" >"$tmp/list" 2>"$tmp/list.err"
check_eq "fleet list reads the whole store: exit 0" 0 $?
check_eq "... every meeting key listed" 4531 "$(jq '[.. | objects | select(has("key"))] | length' \
	"$tmp/list" 2>/dev/null)"
status() { etcdctl get --print-value-only "$PREFIX/status/t0"; }
status_counts() { [[ $(status | jq -c '[.rejected_count, (.rejected | length)]') == "$1" ]]; }
check "the node's status: 3,060 keys refused, the first 100 listed" wait_until 20 status_counts \
	'[3060,100]'
"$GEOBLOCK" fleet status --etcd "$EP" --etcd-prefix "$PREFIX" >"$tmp/fstatus" 2>&1
check "fleet status says so: $(grep '^t0' "$tmp/fstatus")" grep -qE '^t0 .*3060 keys refused' \
	"$tmp/fstatus"
[[ $FAILED -gt 0 ]] && tail -20 "$tmp/node.log"
summary
