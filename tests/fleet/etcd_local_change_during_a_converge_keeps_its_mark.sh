#!/usr/bin/env bash
# A local change (--local-override) made while the node converges keeps its drift mark. One etcd
# member on loopback, one node; the test holds the state lock, so that the node's converge of a
# store change (a meeting and a shared port, one transaction) waits for it; a local `meeting add`
# then waits too. The lock let go, the converge puts the store's meeting in, the local change is
# made (and marks its drift), then the converge shares the port: the node's status must say drift
# (the local meeting stands), as its drift file does. While the converge waits, the node's status
# key stays (its lease kept alive).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/etcd.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }

tmp=$(mktemp -d /tmp/gbfleetdrift.XXXXXX)
on_exit rm -rf "$tmp"
etcd_cluster_up 1 || { summary; exit; }
EP=$(etcd_endpoints)
PREFIX=/gbd$$
S=$tmp/s
mkdir -p "$S"
gbn() { GEOBLOCK_STATE_DIR=$S "$GEOBLOCK" "$@"; }
GEOBLOCK_STATE_DIR=$S "$GEOBLOCK" daemon --etcd "$EP" --etcd-prefix "$PREFIX" --node t0 \
	--metrics 127.0.0.1:0 \
	>>"$tmp/node.log" 2>&1 &
NODE_PID=$!
on_exit kill_child "$NODE_PID"
meetings() { gbn meeting list --json | jq -r '[.[].name] | sort | join(",")'; }
has_meetings() { [[ $(meetings) == "$1" ]]; }
shared_is() { [[ $(gbn shared-port list --json | jq -r '.ports | join(",")') == "$1" ]]; }
drift_is() { [[ $(etcdctl get --print-value-only "$PREFIX/status/t0" | jq -r .drift) == "$1" ]]; }
# in_flock PID [ALL]: a thread of PID other than its main one (ALL: any) waits in flock(2). The
# node's main thread takes the lock for its expiry pass; the others, for a converge.
in_flock() {
	local t
	for t in /proc/"$1"/task/*; do
		[[ ${t##*/} == "$1" && -z ${2:-} ]] && continue
		[[ $(cat "$t/wchan" 2>/dev/null) == locks_lock_inode_wait ]] && return 0
	done
	return 1
}
# put_both: a meeting and the shared ports in one transaction (etcd's gateway).
put_both() {
	b64() { printf %s "$1" | base64 -w0; }
	jq -n --arg k1 "$(b64 "$PREFIX/meetings/m2")" --arg v1 "$(b64 '{"ports":[7001],"block":["DE"]}')" \
		--arg k2 "$(b64 "$PREFIX/shared-ports")" --arg v2 "$(b64 '{"ports":[9999]}')" \
		'{success: [{request_put: {key: $k1, value: $v1}}, {request_put: {key: $k2, value: $v2}}]}' |
		curl -sf -X POST --data-binary @- "${EP%%,*}/v3/kv/txn" >/dev/null
}

check "a meeting in the store" quiet etcdctl put "$PREFIX/meetings/m1" '{"ports":[7000],"block":["DE"]}'
check "the node takes it" wait_until 20 has_meetings m1
check "no drift" wait_until 10 drift_is false

# The state lock held here; the store changed in one transaction.
exec {LK}>>"$S/lock"
check "the state lock taken" flock -x -n "$LK"
check "a meeting and a shared port put in one transaction" put_both
check "the node's converge waits for the lock" wait_until 20 in_flock "$NODE_PID"
# Meanwhile the node's status key stays: its lease (10 s) is kept alive while the converge waits.
status_gone=0
for ((t = SECONDS + 12; SECONDS < t;)); do
	[[ -n $(etcdctl get --print-value-only "$PREFIX/status/t0") ]] || status_gone=1
	sleep 0.5
done
check_eq "the status key stays while the converge waits (12 s; its lease lasts 10)" 0 "$status_gone"
GEOBLOCK_STATE_DIR=$S "$GEOBLOCK" --local-override meeting add loc --ports 7100 --block DE \
	>"$tmp/loc.out" 2>&1 &
LOC_PID=$!
on_exit kill_child "$LOC_PID"
check "a local change waits for the lock too" wait_until 10 in_flock "$LOC_PID" all
flock -u "$LK"
exec {LK}>&-
wait "$LOC_PID"
check_eq "the local change made" 0 $?
check "the converge done: the store's meeting" wait_until 20 has_meetings loc,m1,m2
check "... and its shared port" wait_until 20 shared_is 9999
check "the local change's drift mark kept" test -e "$S/drift"
check "the node's status says drift" wait_until 15 drift_is true
summary
