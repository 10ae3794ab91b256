#!/usr/bin/env bash
# A fleet node over TLS, and a node whose watch resumes at a compacted revision. One etcd member
# on loopback serving clients over https only to certificates of the test's own CA
# (--client-cert-auth; tests/lib/etcd.sh, etcd_tls_files), and:
#   1. a node with --etcd-cacert/--etcd-cert/--etcd-key follows it: a meeting `fleet put` wrote
#      over TLS is applied, the node's status key is written, geoblock_fleet_connected is 1;
#   2. without a client certificate, or without the CA, nothing connects: `fleet list` fails with
#      one line (exit 2), a second node stays at connected 0, applies nothing and says why;
#   3. the first node is stopped (SIGSTOP) while etcd restarts (its connection is gone), meetings
#      change and the store is compacted past the node's revision; continued, the node finds its
#      revision compacted away (it says so), reads the store whole and holds exactly its set; the
#      meeting that did not change was never removed (the audit log has no line removing it);
#   3b. etcd frozen (SIGSTOP: the watch stream stays open and silent, the node's writes time
#      out): the node says it is not connected (geoblock_fleet_connected 0) and why; continued
#      (SIGCONT), it is connected again and applies the next change;
#   4. the node stopped (SIGTERM), its status key is gone at once (its lease revoked); `fleet
#      status` says no node reports (exit 2).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/etcd.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
command -v openssl >/dev/null || { fail "no openssl (scripts/install-deps.sh)"; summary; exit; }

tmp=$(mktemp -d /tmp/gbfleettls.XXXXXX)
on_exit rm -rf "$tmp"
check "certificates" etcd_tls_files "$tmp"
ETCD_TLS=$tmp
etcd_cluster_up 1 || { summary; exit; }
EP=$(etcd_endpoints)
PREFIX=/gbt$$
TLS=(--etcd-cacert "$tmp/ca.pem" --etcd-cert "$tmp/client.pem" --etcd-key "$tmp/client-key.pem")
STORE=(--etcd "$EP" --etcd-prefix "$PREFIX")

# Node I: its own pins, state dir, metrics port and log; PID in NODE_PID[I].
NODE_PID=()
MPORT=()
node_up() {
	local i=$1
	shift
	take_port "MPORT[$i]"
	mkdir -p "$tmp/s$i"
	GEOBLOCK_PIN_DIR=$GEOBLOCK_PIN_DIR-$i GEOBLOCK_STATE_DIR=$tmp/s$i "$GEOBLOCK" daemon \
		--metrics "127.0.0.1:${MPORT[i]}" "${STORE[@]}" --node "t$i" "$@" \
		>>"$tmp/node$i.log" 2>&1 &
	NODE_PID[i]=$!
	on_exit rm -rf "$GEOBLOCK_PIN_DIR-$i"
	on_exit kill_child "${NODE_PID[i]}"
}
metric() { curl -s "http://127.0.0.1:${MPORT[$1]}/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
meetings() { GEOBLOCK_PIN_DIR=$GEOBLOCK_PIN_DIR-$1 GEOBLOCK_STATE_DIR=$tmp/s$1 \
	"$GEOBLOCK" meeting list --json | jq -r '[.[].name] | sort | join(",")'; }
has_meetings() { [[ $(meetings "$1") == "$2" ]]; }
connected() { [[ $(metric "$1" geoblock_fleet_connected) == 1 ]]; }
said() { grep -q -- "$2" "$tmp/node$1.log"; }

# 1. Over TLS.
check "fleet put over TLS" quiet "$GEOBLOCK" fleet put keep --ports 6000 --block DE "${STORE[@]}" \
	"${TLS[@]}"
check "fleet put over TLS (2)" quiet "$GEOBLOCK" fleet put changes --ports 6001 --block FR \
	"${STORE[@]}" "${TLS[@]}"
node_up 0 "${TLS[@]}"
check "1. the node over TLS applies the store's meetings" wait_until 20 has_meetings 0 changes,keep
check "1. connected" wait_until 10 connected 0
check "1. its status key" wait_until 10 eval "etcdctl get --print-value-only $PREFIX/status/t0 |
	jqe '.connected and .meetings == 2' >/dev/null"

# 2. Without the client certificate, or the CA.
out=$("$GEOBLOCK" fleet list "${STORE[@]}" --etcd-cacert "$tmp/ca.pem" 2>&1)
check_eq "2. fleet list without a client certificate: exit 2" 2 "$?"
check_eq "2. ... one line" 1 "$(wc -l <<<"$out")"
out=$("$GEOBLOCK" fleet list "${STORE[@]}" --etcd-cert "$tmp/client.pem" \
	--etcd-key "$tmp/client-key.pem" 2>&1)
check_eq "2. fleet list without the CA: exit 2" 2 "$?"
check "2. ... says why: $out" grep -qi "certificate\|SSL" <<<"$out"
out=$("$GEOBLOCK" fleet list "${STORE[@]}" --etcd-cert "$tmp/nope.pem" --etcd-key "$tmp/client-key.pem" 2>&1)
check_eq "2. a certificate file missing: exit 1, named" "1 geoblock: fleet list: --etcd-cert: cannot read $tmp/nope.pem: No such file or directory" "$? $out"
out=$("$GEOBLOCK" fleet list --etcd http://127.0.0.1:1 "${TLS[@]}" 2>&1)
check_eq "2. TLS files for an http:// endpoint: exit 1" "1 geoblock: fleet list: --etcd-cacert is for https:// endpoints; http://127.0.0.1:1 is http://" "$? $out"
node_up 1 --etcd-cacert "$tmp/ca.pem"
check "2. a node without a client certificate says why" wait_until 15 said 1 "geoblock: fleet: etcd"
check_eq "2. ... is not connected" 0 "$(metric 1 geoblock_fleet_connected)"
check_eq "2. ... and applied nothing" "" "$(meetings 1)"
kill_child "${NODE_PID[1]}"

# 3. Resuming at a compacted revision.
rev=$(metric 0 geoblock_fleet_applied_revision)
kill -STOP "${NODE_PID[0]}"
check "3. etcd stopped" etcd_stop_all
check "3. etcd started again" etcd_start_all
check "3. a meeting changed" quiet "$GEOBLOCK" fleet put changes --ports 6002 --block FR \
	"${STORE[@]}" "${TLS[@]}"
check "3. a meeting added" quiet "$GEOBLOCK" fleet put added --ports 6003 --block DE "${STORE[@]}" \
	"${TLS[@]}"
for i in 1 2 3; do
	check "3. churn $i" quiet "$GEOBLOCK" fleet put "gone$i" --ports "610$i" --block DE \
		"${STORE[@]}" "${TLS[@]}"
	check "3. churn $i deleted" quiet "$GEOBLOCK" fleet del "gone$i" "${STORE[@]}" "${TLS[@]}"
done
compacted=$(etcd_compact)
check "3. compacted past the node's revision ($rev < $compacted)" test "$rev" -lt "$compacted"
kill -CONT "${NODE_PID[0]}"
check "3. the node says its revision was compacted away" wait_until 30 said 0 "was compacted away"
check "3. ... and holds the store's set" wait_until 20 has_meetings 0 added,changes,keep
check "3. ... with the changed meeting's new port" eval "GEOBLOCK_PIN_DIR=$GEOBLOCK_PIN_DIR-0 \
	GEOBLOCK_STATE_DIR=$tmp/s0 $GEOBLOCK explain 1.1.1.1 6002 | grep -q changes"
check "3. ... connected again" wait_until 10 connected 0
check_eq "3. the unchanged meeting was never removed" "" \
	"$(grep -F -- '- meeting add keep ' "$tmp/s0/audit.log")"
check "3. its applied revision reached the compaction" \
	test "$(metric 0 geoblock_fleet_applied_revision)" -ge "$compacted"

# 3b. The store hung whole (its one member frozen: the stream stays open and silent): the node's
# own writes are not taken, so it says it is not connected, and why; continued, it follows again.
kill -STOP "${ETCD_PID[0]}"
on_exit cont_child "${ETCD_PID[0]}"
check "3b. etcd frozen: the node is not connected" wait_until 40 eval '! connected 0'
check "3b. ... and says why" said 0 "watch: silent, its own write not seen or not taken in 10 s"
kill -CONT "${ETCD_PID[0]}"
check "3b. continued: connected again" wait_until 30 connected 0
check "3b. ... and follows: a meeting added" quiet "$GEOBLOCK" fleet put after --ports 6004 \
	--block DE "${STORE[@]}" "${TLS[@]}"
check "3b. ... applied" wait_until 20 has_meetings 0 added,after,changes,keep

# 4. Stopped cleanly: its status key goes with the daemon (its lease revoked), not 10 s later.
status_key_there() { [[ $(etcdctl get --keys-only "$PREFIX/status/t0" | head -n 1) == "$PREFIX/status/t0" ]]; }
check "4. the node's status key is there" wait_until 10 status_key_there
kill_child "${NODE_PID[0]}"
check_eq "4. the node stopped: its status key is gone at once" "" \
	"$(etcdctl get --keys-only "$PREFIX/status/t0")"
out=$("$GEOBLOCK" fleet status "${STORE[@]}" "${TLS[@]}" 2>&1)
check_eq "4. fleet status: meetings and no node: said, exit 2" \
	"2 no node reports a status: no daemon follows this store" "$? $out"
((FAILED)) && { echo "--- node logs"; tail -n 20 "$tmp"/node*.log; }
summary
