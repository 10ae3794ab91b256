#!/usr/bin/env bash
# How long `geoblock fleet list` takes on a big store (root or not; one etcd member on loopback,
# tests/lib/etcd.sh). Two stores, each read by every binary given, side by side:
#   global: BENCH_LIST_GLOBAL (2000) meetings of every node, and BENCH_LIST_NODES (200) nodes with
#           one meeting of their own, on ports no other meeting has;
#   local:  10 meetings of every node, and BENCH_LIST_NODES * 5 (1000) nodes with 10 meetings of
#           their own each (the same 10 ports on every node).
# Usage: bash scripts/bench-fleet-list.sh [BINARY...] (default build/geoblock). Prints seconds per
# list, the median of BENCH_LIST_ROUNDS (3), and the number of lines listed.
set -uo pipefail
source "$(dirname "$0")/../tests/lib/common.sh"
source "$ROOT/tests/lib/etcd.sh"
GLOBAL=${BENCH_LIST_GLOBAL:-2000}
NODES=${BENCH_LIST_NODES:-200}
ROUNDS=${BENCH_LIST_ROUNDS:-3}
BINS=("$@")
((${#BINS[@]})) || BINS=("$GEOBLOCK")

etcd_cluster_up 1 || { summary; exit 1; }
EP=$(etcd_endpoints)
# fill PREFIX GLOBAL NODES OWN: the store's keys, written through etcd's JSON gateway.
fill() {
	/usr/bin/python3 - "$EP" "$@" <<'EOF'
import base64, json, sys, urllib.request
ep, p, n_global, n_nodes, n_own = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6])
def put(k, v):
    b = json.dumps({"key": base64.b64encode(k.encode()).decode(),
                    "value": base64.b64encode(v.encode()).decode()}).encode()
    urllib.request.urlopen(urllib.request.Request(ep + "/v3/kv/put", data=b)).read()
put(p + "/fleet", '{"created":1}')
for i in range(n_global):
    put(f"{p}/meetings/g{i}", json.dumps({"ports": [str(10000 + i)], "block": ["DE"]}))
for n in range(n_nodes):
    for m in range(n_own):
        port = 30000 + n if n_own == 1 else 20000 + m
        put(f"{p}/nodes/n{n}/meetings/own{m}", json.dumps({"ports": [str(port)], "block": ["FR"]}))
EOF
}
fill /global "$GLOBAL" "$NODES" 1 || { fail "fill /global"; summary; exit 1; }
fill /local 10 $((NODES * 5)) 10 || { fail "fill /local"; summary; exit 1; }
for prefix in /global /local; do
	for bin in "${BINS[@]}"; do
		times=()
		for ((r = 0; r < ROUNDS; r++)); do
			t0=$EPOCHREALTIME
			lines=$("$bin" fleet list --etcd "$EP" --etcd-prefix "$prefix" | wc -l)
			times+=("$(echo "$EPOCHREALTIME - $t0" | bc)")
		done
		median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p")
		printf '%-8s %-40s %8.3f s  %d lines\n' "$prefix" "$bin" "$median" "$lines"
	done
done
