#!/usr/bin/env bash
# A fleet node whose pins were made anew under it (removed, then re-created by a local command
# before the node pinned its maps again): its maps are read by no packet, so a store change is
# not converged into them (it was, and the rules file written from them: the meeting made on the
# live maps was lost). The node stays up, says why in its status, and the rules file keeps what
# the live maps hold. One etcd member on loopback, one node, nothing attached.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/etcd.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }

tmp=$(mktemp -d /tmp/gbfleetstale.XXXXXX)
on_exit rm -rf "$tmp"
etcd_cluster_up 1 || { summary; exit; }
EP=$(etcd_endpoints)
PREFIX=/gbs$$
S=$GEOBLOCK_STATE_DIR
"$GEOBLOCK" daemon --etcd "$EP" --etcd-prefix "$PREFIX" --node t0 --metrics 127.0.0.1:0 \
	>"$tmp/node.log" 2>&1 &
NODE_PID=$!
on_exit kill_child "$NODE_PID"
meetings() { "$GEOBLOCK" meeting list --json | jq -r '[.[].name] | sort | join(",")'; }
has_meetings() { [[ $(meetings) == "$1" ]]; }
listed() { saved_rules | grep -o '^meeting add [^ ]*' | cut -d' ' -f3 | sort | paste -sd,; }
status_error() { etcdctl get --print-value-only "$PREFIX/status/t0" | jq -r '.last_error // ""'; }
says_stale() { [[ $(status_error) == *"re-created since the daemon started"*"restart it" ]]; }

check "a meeting in the store" quiet etcdctl put "$PREFIX/meetings/m1" '{"ports":[7000],"block":["DE"]}'
check "the node takes it" wait_until 20 has_meetings m1

rm -rf "$GEOBLOCK_PIN_DIR"
check "a local change makes the pins anew (the saved m1 put back first)" quiet \
	"$GEOBLOCK" --local-override meeting add loc --ports 7100 --block FR
check_eq "the live maps" loc,m1 "$(meetings)"
check "the node says it should be restarted" \
	wait_until 20 grep -q "re-created since the daemon started.*restart it" "$tmp/node.log"
check "a store change" quiet etcdctl put "$PREFIX/meetings/m2" '{"ports":[7002],"block":["DE"]}'
check "the node's status says why it did not converge it" wait_until 20 says_stale
check "the node is up" kill -0 "$NODE_PID"
check_eq "the live maps as before" loc,m1 "$(meetings)"
check_eq "the rules file keeps what the live maps hold" loc,m1 "$(listed)"
summary
