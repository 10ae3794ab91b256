#!/usr/bin/env bash
# A fleet of geoblock nodes following one etcd store (docs/fleet.md), end to end: a 3-member etcd
# cluster on loopback, FLEET_NODES (default 20; 10 under GB_SANITIZE=1; at least 10) daemons `--etcd ... --node nNN`, each
# with its own pin dir, state dir, API socket and metrics port. The daemons run in the test's own
# network namespace (etcd is on its loopback); FLEET_TRAFFIC (3) of them have the filter attached
# (`geoblock attach`, run in the node's server namespace) to a veth between two namespaces of their
# own, with real UDP from DE (85.214.1.1) and FR (90.84.1.1) clients and the DB-IP lite table
# loaded; the others have no GeoIP table (rules need none).
#
# A node's rule set is right when its `meeting list --json` (the pinned maps) is exactly the set the
# store holds for it (the global meeting keys, each replaced by the node's own key of the same name,
# less the keys it must refuse), and its geoblock_fleet_applied_revision has reached the newest
# change that concerns it. Checked:
#   (a) the first converge of every node; status keys, metrics;
#   (b) FLEET_CHANGES (1,000; 200 under GB_SANITIZE=1) puts and deletes of global and node-local
#       keys (tests/fleet/churn.py, through etcd's gateway): every node converges, no acknowledged
#       change is lost from the store;
#   (c) during that churn the etcd leader is killed (and started again after): all converge;
#   (d) all of etcd stopped: geoblock_fleet_connected goes 0 on every node, the traffic nodes keep
#       dropping DE and passing FR on the blocked meeting (their drop counters grow), a meeting
#       expiring during the outage stops dropping once it expires; etcd started again: connected 1,
#       changes made right after converge everywhere;
#   (e) a traffic node's daemon killed, changes made, the store compacted past its revision; the
#       daemon started again resyncs to the store while traffic runs: every round DE 0 of 3 and FR
#       3 of 3, the (meeting, DE) drop counter up by exactly 3 a round;
#   (f) bad keys (invalid JSON, unknown country XX, a port of two meetings, a value over 64 KiB, a
#       key outside the layout, a node-local key of a node name holding '/', and a good meeting
#       changed to a bad value): each refused, counted (geoblock_fleet_rejected_keys_total), listed in
#       PREFIX/status/NODE's "rejected", the other keys applied; deleted, nothing is listed;
#       a relative expiry ("1h") written to the store is refused too;
#   (h) fleet put/del/list/status, a lagging node marked (its daemon stopped with SIGSTOP);
#   (g) a local `meeting add` on a node refused (exit 2, one line naming the prefix), made with
#       --local-override, the node's status shows drift, the store's next change puts it back;
#   (i) a second daemon started with a node's name (its own pins and state): each daemon warns of
#       the other, the node's status names the twin, fleet status marks that node (exit 2); the
#       twin stopped, the node's status key deleted is written again within 10 s;
#   (j) a member frozen (SIGSTOP) while it serves a node's watch: the node applies the next change
#       through another member within 90 s, saying why (its own status write not seen).
# Waits are on events (wait_until polling), never sleeps. Everything made (etcd members, daemons,
# namespaces, pin dirs, state dirs) is removed on exit, by PID and by name, also on failure; on
# failure the daemons' and etcd's logs go to build/test-logs/.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/etcd.sh"
source "$ROOT/scripts/testbed.sh"
TB_BIN=$BUILD/tests
# The sanitizer pass (several times slower per daemon) checks the same code with 10 nodes and 200
# changes; the plain pass makes the issue's 20 nodes and 1,000 changes.
if [[ ${GB_SANITIZE:-} == 1 ]]; then NODES=${FLEET_NODES:-10}; else NODES=${FLEET_NODES:-20}; fi
NTRAFFIC=${FLEET_TRAFFIC:-3}
((NODES >= 10)) || { echo "FLEET_NODES: at least 10 (nodes n00..n09 are named below)" >&2; exit 2; }
if [[ ${GB_SANITIZE:-} == 1 ]]; then CHANGES=${FLEET_CHANGES:-200}; else CHANGES=${FLEET_CHANGES:-1000}; fi
PREFIX=/gbt$$
DE=85.214.1.1
FR=90.84.1.1
TM_PORT=5000      # the traffic meeting "tm" (global), blocking DE
SHORT_PORT=5001   # "short": blocking DE, expiring during the etcd outage
CHURN_BASE=20000  # churn meetings c000..c059: ports 20000..20239
FLEET_SEED=${FLEET_SEED:-$(((RANDOM << 15) | RANDOM))}
echo "seed $FLEET_SEED (FLEET_SEED=$FLEET_SEED repeats the churn); $NODES nodes, $CHANGES changes"
T0=$SECONDS
phase() { echo "[$((SECONDS - T0))s] $*"; }

[[ -x $GEOBLOCK && -x $TB_BIN/udp_send && -x $TB_BIN/udp_recv ]] ||
	{ fail "no $GEOBLOCK or test helpers (build them first)"; summary; exit; }
tmp=$(mktemp -d /tmp/gbfleet.XXXXXX)
on_exit rm -rf "$tmp"
: >"$tmp/deletes"
geoip_data || { fail "fetch databases"; summary; exit; }
DB=$GEOBLOCK_DATA_DIR/dbip-country.mmdb

# --- etcd -------------------------------------------------------------------------------------
etcd_cluster_up 3 || { summary; exit; }
EPS=$(etcd_endpoints)
phase "etcd up: $EPS"

# --- nodes ------------------------------------------------------------------------------------
# Node i: name N[i], pin dir PIN[i], state dir STATE[i], metrics port MPORT[i], daemon PID DPID[i].
N=() PIN=() STATE=() MPORT=() DPID=()
for ((i = 0; i < NODES; i++)); do
	N[i]=$(printf 'n%02d' "$i")
	PIN[i]=/sys/fs/bpf/geoblock-test-$GB_TEST_ID-${N[i]}
	STATE[i]=$tmp/${N[i]}
	mkdir -p "${STATE[i]}"
	take_port "MPORT[$i]"
	on_exit rm -rf "${PIN[i]}"
done
# gbn I CMD...: geoblock as node I (its pins and state).
gbn() {
	local i=$1
	shift
	GEOBLOCK_PIN_DIR=${PIN[i]} GEOBLOCK_STATE_DIR=${STATE[i]} "$GEOBLOCK" "$@"
}
# The daemon of node I, in the background of this shell (its output appended to its log).
daemon_up() {
	local i=$1
	GEOBLOCK_PIN_DIR=${PIN[i]} GEOBLOCK_STATE_DIR=${STATE[i]} "$GEOBLOCK" daemon \
		--etcd "$EPS" --etcd-prefix "$PREFIX" --node "${N[i]}" --api "${STATE[i]}/api.sock" \
		--metrics "127.0.0.1:${MPORT[i]}" >>"${STATE[i]}/daemon.log" 2>&1 &
	DPID[i]=$!
}
daemon_alive() { [[ -n ${DPID[$1]:-} ]] && kill -0 "${DPID[$1]}" 2>/dev/null; }
daemon_down() { # daemon_down I [SIG]: stops it, by PID, and waits for it to be gone
	local i=$1 sig=${2:-TERM}
	daemon_alive "$i" || return 0
	kill -"$sig" "${DPID[i]}"
	timeout 15 tail --pid="${DPID[i]}" -f /dev/null
	wait "${DPID[i]}" 2>/dev/null
	DPID[i]=
}
stop_all_daemons() {
	local i
	for ((i = 0; i < NODES; i++)); do
		daemon_alive "$i" && kill -CONT "${DPID[i]}" && kill -TERM "${DPID[i]}"
	done
	for ((i = 0; i < NODES; i++)); do
		daemon_alive "$i" && { timeout 15 tail --pid="${DPID[i]}" -f /dev/null ||
			kill -KILL "${DPID[i]}"; }
	done
	return 0
}
save_daemon_logs() {
	((FAILED > 0)) || return 0
	local d=$BUILD/test-logs/etcd_nodes_converge-nodes i
	mkdir -p "$d"
	for ((i = 0; i < NODES; i++)); do
		cp "${STATE[i]}/daemon.log" "$d/${N[i]}.log" 2>/dev/null
		cp "${STATE[i]}/audit.log" "$d/${N[i]}.audit.log" 2>/dev/null
	done
	echo "daemon logs: $d" >&2
}
on_exit save_daemon_logs
on_exit stop_all_daemons

# metric I NAME: the value of an unlabelled metric on node I's page ("" if none).
metric() {
	curl -s --max-time 5 "http://127.0.0.1:${MPORT[$1]}/metrics" |
		awk -v m="$2" '$1 == m { print $2 }' | head -1
}
metric_is() { [[ $(metric "$1" "$2") == "$3" ]]; }
all_metric_is() { # all_metric_is NAME VALUE: on every node
	local i
	for ((i = 0; i < NODES; i++)); do
		metric_is "$i" "$1" "$2" || return 1
	done
}
# status I: node I's status key's value.
status() { etcdctl get --print-value-only "$PREFIX/status/${N[$1]}" 2>/dev/null; }

# --- traffic testbeds ---------------------------------------------------------------------------
# Traffic node i (< NTRAFFIC): namespaces TSRC[i] (clients DE and FR) -- TDST[i] (server, filter
# attached to TDIF[i]); the DB-IP lite table loaded in its pins.
TSRC=() TDST=() TDIF=()
for ((i = 0; i < NTRAFFIC; i++)); do
	check "node ${N[i]}: geoip load" quiet gbn "$i" geoip load "$DB"
	testbed_up "f$$$i" || { fail "testbed $i"; summary; exit; }
	TSRC[i]=$TB_SRC TDST[i]=$TB_DST TDIF[i]=$TB_DST_IF
	on_exit ip netns del "${TSRC[i]}"
	on_exit ip netns del "${TDST[i]}"
	testbed_add_client "$DE" || fail "add client $DE ($i)"
	testbed_add_client "$FR" || fail "add client $FR ($i)"
	check "node ${N[i]}: attach in its namespace" quiet \
		in_ns "${TDST[i]}" env GEOBLOCK_PIN_DIR="${PIN[i]}" GEOBLOCK_STATE_DIR="${STATE[i]}" \
		"$GEOBLOCK" attach "${TDIF[i]}"
done
check_eq "85.214.1.1 is DE in DB-IP lite" "$DE DE" "$(gbn 0 geoip lookup "$DE")"
check_eq "90.84.1.1 is FR in DB-IP lite" "$FR FR" "$(gbn 0 geoip lookup "$FR")"
EPOCH=$(gbn 0 status --json | jq -r .geoip.build_epoch)

# traffic I PORT COUNT: COUNT datagrams from each client to PORT on traffic node I's server; prints
# what arrived, "DE FR".
traffic() {
	local i=$1 port=$2 count=$3 out=$tmp/recv.$1 de fr
	TB_SRC=${TSRC[i]} TB_DST=${TDST[i]} send_and_count "$port" 9999 "$count" "$out" "$DE" "$FR" ||
		{ echo "x x"; return 1; }
	de=$(awk -v s="$DE" -v p="$port" '$1 == s && $2 == p { print $3 }' "$out")
	fr=$(awk -v s="$FR" -v p="$port" '$1 == s && $2 == p { print $3 }' "$out")
	echo "${de:-0} ${fr:-0}"
}
# drops I MEETING: node I's drop counter of (MEETING, DE).
drops() {
	gbn "$1" stats --json | jq --arg m "$2" \
		'[.drops[] | select(.meeting == $m and .country == "DE") | .packets] | add // 0'
}

# --- what each node must hold -------------------------------------------------------------------
# Canonical meetings, one JSON line: [{name,ports,block,allow,proto,mode}] sorted by name; expired
# meetings left out on both sides.
CANON='{name, ports: (.ports // [] | map(tostring)), block: (.block // [] | map(ascii_upcase) | sort),
	allow: (.allow // []), proto: (.proto // ["udp"]), mode: (.mode // "enforce")}'
# The store, and its revision, read once per look ($tmp/store.json), and what it holds for each
# node, computed for every node at once: EXP[NODE].
# NEED[NODE]: the revision the node must have applied (geoblock_fleet_applied_revision moves with
# the changes that concern the node, not with others' keys and statuses): the newest mod_revision of
# its meeting keys, the geoip and shared-ports keys, and of the deletes of its meeting keys
# ($tmp/deletes: {"key","rev"} for each delete that removed a key).
declare -A EXP NEED
read_store() {
	local n e
	etcdctl get --prefix "$PREFIX/" -w json >"$tmp/store.json" 2>/dev/null || return 1
	EXP=() NEED=()
	while IFS=$'\t' read -r n r e; do
		EXP[$n]=$e
		NEED[$n]=$r
	done < <(expected_all)
}
store_rev() { jq -r .header.revision "$tmp/store.json"; }
# expected_all: "NODE<TAB>MEETINGS" for every node: the meetings the store holds for it (the global
# keys, each replaced by the node's own of the same name), less SKIP (a JSON array of keys it must
# refuse) and meetings already expired.
SKIP='[]'
expected_all() {
	jq -r --arg p "$PREFIX" --slurpfile deletes "$tmp/deletes" --argjson nodes "$(printf '%s\n' "${N[@]}" | jq -R . | jq -sc .)" \
		--argjson skip "$SKIP" --argjson now "$(date +%s)" '
		[.kvs[]? | {k: (.key | @base64d), v: (.value | @base64d), rev: (.mod_revision | tonumber)}]
			as $kvs
		| [$kvs[] | select(.k as $k | $skip | index([$k]) | not)] as $all
		| ($all | map(select(.k | startswith($p + "/meetings/"))
			| {name: (.k | ltrimstr($p + "/meetings/")), v})) as $global
		| $nodes[] as $n
		| reduce ($global[], ($all[] | select(.k | startswith($p + "/nodes/" + $n + "/meetings/"))
				| {name: (.k | ltrimstr($p + "/nodes/" + $n + "/meetings/")), v}))
			as $e ({}; .[$e.name] = ($e.v | fromjson? // {bad: true}))
		| ([$deletes[] | select(.key | startswith($p + "/meetings/") or
				startswith($p + "/nodes/" + $n + "/meetings/")) | .rev]
		   + [$kvs[] | select(.k as $k | ($k | startswith($p + "/meetings/")) or
				($k | startswith($p + "/nodes/" + $n + "/meetings/")) or
				$k == $p + "/geoip" or $k == $p + "/shared-ports")
			| select(.k as $k | $skip | index([$k]) | not) | .rev]
		   | max // 0) as $need
		| to_entries | map(select(.value.bad | not)
			| select((.value.expires // null) == null or
				((.value.expires | fromdateiso8601? // 0) > $now))
			| .value + {name: .key} | '"$CANON"') | sort_by(.name)
		| "\($n)\t\($need)\t\(tojson)"' "$tmp/store.json"
}
expected() { echo "${EXP[${N[$1]}]}"; }
need_rev() { echo "${NEED[${N[$1]}]}"; }
actual() {
	gbn "$1" meeting list --json | jq -c 'map(select(.expired | not) | '"$CANON"') | sort_by(.name)'
}
# in_step I: node I holds exactly what the store says and has applied its revision.
in_step() {
	local i=$1 rev
	rev=$(metric "$i" geoblock_fleet_applied_revision)
	[[ $rev =~ ^[0-9]+$ ]] && ((rev >= $(need_rev "$i"))) || { WHY="applied revision ${rev:-none} < $(need_rev "$i")"; return 1; }
	[[ $(expected "$i") == "$(actual "$i")" ]] || { WHY="rule set differs: $(diff <(expected "$i" | jq -c '.[]') <(actual "$i" | jq -c '.[]') | grep '^[<>]' | head -3 | paste -sd' ')"; return 1; }
}
# all_in_step: every node (the store read again first); OUT lists the nodes that are not.
all_in_step() {
	local i
	OUT=
	read_store || return 1
	for ((i = 0; i < NODES; i++)); do
		in_step "$i" || OUT+="${N[i]}: $WHY; "
	done
	[[ -z $OUT ]]
}
# converge WHAT [SECONDS]: waits until every node is in step; one check.
converge() {
	local t=$SECONDS
	if wait_until "${2:-60}" all_in_step; then
		pass
		phase "$1: all $NODES nodes in step at revision $(store_rev) in $((SECONDS - t))s"
	else
		fail "$1: not in step after ${2:-60}s: ${OUT:0:2000}"
	fi
}
put() { etcdctl put "$PREFIX/$1" "$2" >/dev/null || fail "etcdctl put $1"; }
del() {
	local r
	r=$(etcdctl del -w json "$PREFIX/$1") || { fail "etcdctl del $1"; return; }
	jq -c --arg k "$PREFIX/$1" 'select((.deleted // 0) > 0) | {key: $k, rev: .header.revision}' \
		<<<"$r" >>"$tmp/deletes"
}

# --- (a) first converge -------------------------------------------------------------------------
put meetings/tm "{\"ports\":[$TM_PORT],\"block\":[\"DE\"]}"
# Every country the churn names, on a port nobody sends to: the traffic nodes' table stays compiled
# for them, so that no churn change has to compile it again.
put meetings/z-countries '{"ports":["4999"],"block":["DE","FR","GB","US","IT"],"mode":"monitor"}'
put meetings/g1 '{"ports":["5100-5109"],"block":["CN","RU"],"allow":["10.0.0.0/8"],"proto":["udp","tcp"]}'
put nodes/n03/meetings/g1 '{"ports":["5100-5101"],"block":["FR"]}'
put nodes/n04/meetings/only-n04 '{"ports":[5200],"block":["IT"],"mode":"monitor"}'
put geoip "{\"build_epoch\":$EPOCH}"
for ((i = 0; i < NODES; i++)); do
	daemon_up "$i"
done
connected_all() { all_metric_is geoblock_fleet_connected 1; }
if wait_until 60 connected_all; then pass; else
	fail "(a) not every daemon connected in 60 s: $(for ((i = 0; i < NODES; i++)); do metric_is "$i" geoblock_fleet_connected 1 || echo -n "${N[i]} "; done)"
fi
converge "(a) first converge"
check_eq "(a) n03's own g1 replaces the global one" \
	'{"name":"g1","ports":["5100-5101"],"block":["FR"],"allow":[],"proto":["udp"],"mode":"enforce"}' \
	"$(actual 3 | jq -c '.[] | select(.name == "g1")')"
check_eq "(a) n05 has the global g1" \
	'{"name":"g1","ports":["5100-5109"],"block":["CN","RU"],"allow":["10.0.0.0/8"],"proto":["udp","tcp"],"mode":"enforce"}' \
	"$(actual 5 | jq -c '.[] | select(.name == "g1")')"
check_eq "(a) only n04 has only-n04" "n04" \
	"$(for ((i = 0; i < NODES; i++)); do actual "$i" | jqe 'any(.[]; .name == "only-n04")' >/dev/null && echo "${N[i]}"; done | paste -sd,)"
status_ok() { # status_ok I: its status key says in step
	status "$1" | jqe --arg n "${N[$1]}" --argjson rev "$(need_rev "$1")" \
		'.node == $n and .connected == true and .revision >= $rev and .rejected == [] and
		 .drift == false and (.time | type) == "number" and .time + 30 >= now' >/dev/null
}
for i in 0 3 4 $((NODES - 1)); do
	check "(a) ${N[i]}'s status key: $(status "$i" | head -c 300)" wait_until 15 status_ok "$i"
done
check_eq "(a) n04's status: meetings" "$(actual 4 | jq length)" "$(status 4 | jq .meetings)"
check_eq "(a) traffic node n00's status: 1 attachment, its GeoIP build matches the store's" \
	"1 $EPOCH true" "$(status 0 | jq -r '"\(.attachments | length) \(.geoip.build_epoch) \(.geoip.matches)"')"
check_eq "(a) n05 (no GeoIP table): 0 attachments, GeoIP does not match" "0 false" \
	"$(status 5 | jq -r '"\(.attachments | length) \(.geoip.matches)"')"
check "(a) last sync within 10 s" \
	awk -v t="$(metric 7 geoblock_fleet_last_sync_timestamp_seconds)" -v now="$(date +%s)" \
	'BEGIN { exit !(t + 10 >= now && t <= now + 1) }'
check_eq "(a) no key rejected" 0 "$(metric 7 geoblock_fleet_rejected_keys_total)"
for ((i = 0; i < NTRAFFIC; i++)); do
	check_eq "(a) ${N[i]}: tm drops DE, passes FR" "0 3" "$(traffic "$i" $TM_PORT 3)"
	check_eq "(a) ${N[i]}: 3 DE drops counted" 3 "$(drops "$i" tm)"
done

# --- (b), (c) churn with the leader killed ----------------------------------------------------
phase "(b) $CHANGES changes"
nodes_csv=$(IFS=,; echo "${N[*]}")
/usr/bin/python3 "$ROOT/tests/fleet/churn.py" "$EPS" "$PREFIX" "$nodes_csv" "$CHANGES" \
	"$FLEET_SEED" "$CHURN_BASE" "$tmp/churn.log" $((CHANGES / 3)) "$tmp/churn.mark" \
	>"$tmp/churn.out" 2>&1 &
churn=$!
on_exit kill_child "$churn"
if wait_until 120 test -e "$tmp/churn.mark"; then
	leader=$(etcd_leader)
	phase "(c) killing etcd leader m$leader after $((CHANGES / 3)) changes"
	check "(c) kill the leader" etcd_kill "$leader"
	check "(c) a new leader" wait_until 20 etcd_leader
else
	fail "(c) churn did not reach $((CHANGES / 3)) changes"
fi
wait "$churn"
rc=$?
check_eq "(b) churn: nothing acknowledged lost (exit)" 0 "$rc"
check "(b) churn: $(tail -1 "$tmp/churn.out")" grep -q 'lost 0$' "$tmp/churn.out"
awk -v p="$PREFIX" '$2 == "ACK" && $3 == "del" && $7 > 0 { printf "{\"key\":\"%s\",\"rev\":%d}\n", $4, $5 }' \
	"$tmp/churn.log" >>"$tmp/deletes"
phase "(b) churn done: $(tail -1 "$tmp/churn.out"), $(grep -c ' ACK ' "$tmp/churn.log") acknowledged"
# Under the sanitizers a converge takes ~1 s per node with 10 daemons on 2 CPUs: more time to catch up.
converge "(b,c) after $CHANGES changes and a leader kill" $((${GB_SANITIZE:-0} == 1 ? 180 : 90))
check "(c) the killed member back" etcd_start "$leader"
check "(c) revision moved past the churn" test "$(store_rev)" -gt "$CHANGES"
for ((i = 0; i < NTRAFFIC; i++)); do
	check_eq "(b) ${N[i]}: tm still drops DE, passes FR" "0 3" "$(traffic "$i" $TM_PORT 3)"
done

# --- (d) etcd down: fail static -----------------------------------------------------------------
# "short" expires 25 s after it is written: converged and tried within that, etcd then stopped, the
# expiry falls in the outage.
short_exp=$(($(date +%s) + 25))
put meetings/short "{\"ports\":[$SHORT_PORT],\"block\":[\"DE\"],\"expires\":\"$(date -u -d "@$short_exp" +%FT%TZ)\"}"
converge "(d) short written"
for ((i = 0; i < NTRAFFIC; i++)); do
	check_eq "(d) ${N[i]}: short drops DE before it expires" "0 3" "$(traffic "$i" $SHORT_PORT 3)"
done
phase "(d) stopping etcd"
check "(d) stop all of etcd" etcd_stop_all
disconnected_all() { all_metric_is geoblock_fleet_connected 0; }
check "(d) geoblock_fleet_connected 0 on every node" wait_until 30 disconnected_all
phase "(d) every node disconnected"
((short_exp > $(date +%s))) || fail "(d) short expired before every node saw the outage (test too slow)"
for ((i = 0; i < NTRAFFIC; i++)); do
	before=$(drops "$i" tm)
	check_eq "(d) ${N[i]}, etcd down: tm drops DE, passes FR" "0 3" "$(traffic "$i" $TM_PORT 3)"
	check_eq "(d) ${N[i]}, etcd down: 3 more DE drops counted" $((before + 3)) "$(drops "$i" tm)"
done
short_passes() { # every traffic node lets DE through to short's port
	local i
	for ((i = 0; i < NTRAFFIC; i++)); do
		[[ $(traffic "$i" $SHORT_PORT 1) == "1 1" ]] || return 1
	done
}
check "(d) short stops dropping once it expires, during the outage" wait_until 40 short_passes
check "(d) ... not before its expiry" test "$(date +%s)" -ge "$short_exp"
check "(d) the daemons are still up" all_metric_is geoblock_fleet_connected 0
phase "(d) starting etcd"
check "(d) start all of etcd" etcd_start_all
check "(d) geoblock_fleet_connected 1 on every node" wait_until 60 connected_all
del meetings/short
put meetings/after-outage '{"ports":[5300],"block":["DE"]}'
put nodes/n06/meetings/after-outage '{"ports":[5300],"block":["FR"],"mode":"monitor"}'
del nodes/n04/meetings/only-n04
converge "(d) changes right after etcd came back"

# --- (e) a node down while the store compacts past its revision --------------------------------
E=1
phase "(e) ${N[E]} down"
old_rev=$(metric "$E" geoblock_fleet_applied_revision)
daemon_down "$E" KILL
for k in 1 2 3 4 5; do
	put "meetings/while-down-$k" "{\"ports\":[$((5400 + k))],\"block\":[\"FR\"]}"
	put "nodes/${N[E]}/meetings/mine-$k" "{\"ports\":[$((5500 + k))],\"block\":[\"DE\"]}"
done
del meetings/after-outage
put meetings/g1 '{"ports":["5100-5104"],"block":["CN"]}'
comp=$(etcd_compact)
check "(e) compacted past ${N[E]}'s revision ($old_rev < $comp)" test "${comp:-0}" -gt "${old_rev:-0}"
# Continuous traffic to tm on node E: rounds of 3 datagrams from each client, then the counter.
rounds() {
	local n=0 got
	while [[ ! -e $tmp/rounds.stop ]]; do
		got=$(traffic "$E" $TM_PORT 3)
		echo "$n $got $(drops "$E" tm)"
		n=$((n + 1))
	done >"$tmp/rounds"
}
rm -f "$tmp/rounds.stop"
rounds &
rpid=$!
on_exit kill_child "$rpid"
rounds_at_least() { (($(wc -l <"$tmp/rounds") >= $1)); }
wait_until 30 rounds_at_least 2
daemon_up "$E"
phase "(e) ${N[E]} started again"
resynced() { read_store && in_step "$E"; }
if wait_until 60 resynced; then pass; else fail "(e) ${N[E]} did not resync: $WHY"; fi
phase "(e) ${N[E]} in step at $(store_rev)"
n=$(wc -l <"$tmp/rounds")
wait_until 30 rounds_at_least $((n + 2))
touch "$tmp/rounds.stop"
wait "$rpid"
check "(e) traffic rounds during the resync ($(wc -l <"$tmp/rounds"))" rounds_at_least 4
check_eq "(e) every round: DE 0 of 3, FR 3 of 3" "" "$(awk '$2 != 0 || $3 != 3' "$tmp/rounds" | head -5)"
check_eq "(e) the (tm, DE) counter up by 3 every round, never reset" "" \
	"$(awk 'NR > 1 && $4 != prev + 3 { print } { prev = $4 }' "$tmp/rounds" | head -5)"
converge "(e) after the resync"

# --- (f) bad keys ---------------------------------------------------------------------------------
phase "(f) bad keys"
rej_before=()
for ((i = 0; i < NODES; i++)); do
	rej_before[i]=$(metric "$i" geoblock_fleet_rejected_keys_total)
done
put meetings/was-good '{"ports":[5600],"block":["DE"]}'
converge "(f) was-good applied"
big=$(printf '{"ports":[5604],"block":["DE"]%70000s}' '')
put meetings/bad-json '{"ports":[5601],"block":["DE"]'
put meetings/bad-cc '{"ports":[5602],"block":["XX"]}'
put meetings/dup-a '{"ports":[5603],"block":["DE"]}'
put meetings/dup-b '{"ports":[5603],"block":["FR"]}'
put meetings/big "$big"
put junk '{"ports":[5605],"block":["DE"]}'
put nodes/n03/evil/meetings/slash '{"ports":[5606],"block":["DE"]}'
put meetings/was-good '{"ports":[5600],"block":["XX"]}'
put meetings/good-f1 '{"ports":[5610],"block":["DE"]}'
put nodes/n04/meetings/good-f2 '{"ports":[5611],"block":["FR"]}'
BAD_GLOBAL=(meetings/bad-json meetings/bad-cc meetings/dup-b meetings/big junk meetings/was-good)
SKIP=$(printf '%s\n' "${BAD_GLOBAL[@]}" nodes/n03/evil/meetings/slash |
	jq -R --arg p "$PREFIX" '$p + "/" + .' | jq -sc .)
# was-good's refused new value leaves the version applied before on every node.
expected_f() { expected "$1" | jq -c '. + [{name: "was-good", ports: ["5600"], block: ["DE"],
	allow: [], proto: ["udp"], mode: "enforce"}] | sort_by(.name)'; }
in_step_f() {
	local i=$1 rev
	rev=$(metric "$i" geoblock_fleet_applied_revision)
	[[ $rev =~ ^[0-9]+$ ]] && ((rev >= $(need_rev "$i"))) || { WHY="applied revision ${rev:-none} < $(need_rev "$i")"; return 1; }
	[[ $(expected_f "$i") == "$(actual "$i")" ]] || { WHY="rule set differs: $(diff <(expected_f "$i" | jq -c '.[]') <(actual "$i" | jq -c '.[]') | grep '^[<>]' | head -3 | paste -sd' ')"; return 1; }
}
all_in_step_f() {
	local i
	OUT=
	read_store || return 1
	for ((i = 0; i < NODES; i++)); do
		in_step_f "$i" || OUT+="${N[i]}: $WHY; "
	done
	[[ -z $OUT ]]
}
if wait_until 60 all_in_step_f; then pass; else fail "(f) not in step with the bad keys refused: ${OUT:0:2000}"; fi
phase "(f) every node holds the good keys, none of the bad"
# rejected_keys I: the keys (less the prefix) node I's status lists as rejected, sorted, one line.
rejected_keys() { status "$1" | jq -r --arg p "$PREFIX/" '[.rejected[]?.key | ltrimstr($p)] | sort | join(" ")'; }
# The slash key is outside the layout, so every node refuses it (not only n03, whose name it
# starts with).
want_rej=$(printf '%s\n' "${BAD_GLOBAL[@]}" nodes/n03/evil/meetings/slash | sort | paste -sd' ')
rejected_is() { [[ $(rejected_keys "$1") == "$2" ]]; }
for i in 0 3 $((NODES - 1)); do
	wait_until 15 rejected_is "$i" "$want_rej"
	check_eq "(f) ${N[i]}'s status lists the refused keys" "$want_rej" "$(rejected_keys "$i")"
done
check_eq "(f) every rejected key has a reason" "true" \
	"$(status 0 | jq '[.rejected[] | .reason | type == "string" and length > 0] | all')"
status 0 | jq -r '.rejected[] | "    \(.key): \(.reason)"'
for i in 0 3 $((NODES - 1)); do
	got=$(metric "$i" geoblock_fleet_rejected_keys_total)
	check "(f) ${N[i]}: geoblock_fleet_rejected_keys_total up by >= ${#BAD_GLOBAL[@]} (${rej_before[i]} -> $got)" \
		test "$((got - rej_before[i]))" -ge "${#BAD_GLOBAL[@]}"
done
check_eq "(f) dup-a (written first) kept its port on the last node" 5603 \
	"$(actual $((NODES - 1)) | jq -r '.[] | select(.name == "dup-a") | .ports[]')"
for k in "${BAD_GLOBAL[@]}" nodes/n03/evil/meetings/slash; do
	del "$k"
done
SKIP='[]'
converge "(f) bad keys deleted"
none_rejected() { [[ -z $(rejected_keys "$1") ]]; }
for i in 0 3 $((NODES - 1)); do
	check "(f) ${N[i]}: nothing rejected once the bad keys are gone" wait_until 15 none_rejected "$i"
done

# A relative expiry written straight to the store ("1h", the grammar of meeting add --expires):
# each node would count it from its own reading of the key, and again at every full read (a
# restart), so nodes would end the meeting at different times, later each restart. fleet put writes
# a time; the node must refuse a relative one (it refuses "+1h").
put meetings/rel-exp '{"ports":[5607],"block":["DE"],"expires":"1h"}'
rel_rejected() { rejected_keys 0 | grep -qw 'meetings/rel-exp'; }
check "(f) a relative expiry (\"1h\") in the store is refused (n00's status: $(status 0 | jq -c .rejected))" \
	wait_until 15 rel_rejected
check_eq "(f) ... and not applied on n00" "" \
	"$(gbn 0 meeting list --json | jq -r '.[] | select(.name == "rel-exp") | "\(.name) expires \(.expires)"')"
del meetings/rel-exp

# --- (h) the fleet commands ------------------------------------------------------------------------
phase "(h) fleet commands"
# Most nodes have no GeoIP table: without the geoip key none is marked "geoip differs", so that
# fleet status's exit says whether a node lags.
del geoip
fl() { "$GEOBLOCK" fleet "$@" --etcd "$EPS" --etcd-prefix "$PREFIX"; }
check "(h) fleet put fp1" quiet fl put fp1 --ports 5700-5701 --block DE,fr --expires 2h
check_eq "(h) fp1 in the store" '["5700-5701"] ["DE","FR"] true' \
	"$(etcdctl get --print-value-only "$PREFIX/meetings/fp1" | jq -c -r '"\(.ports) \(.block) \(.expires | test("^20[0-9-]+T"))"')"
check "(h) fleet put fp2 --node n07" quiet fl put fp2 --ports 5702 --block IT --monitor --node n07
check "(h) fp2 is n07's" quiet etcdctl get "$PREFIX/nodes/n07/meetings/fp2"
fl put fp3 --ports 5701 --block DE >"$tmp/out" 2>"$tmp/err"
check_eq "(h) fleet put of a port fp1 holds: exit 1" 1 $?
check_eq "(h) ... one line" 1 "$(wc -l <"$tmp/err")"
check_eq "(h) ... nothing written" "" "$(etcdctl get --keys-only "$PREFIX/meetings/fp3")"
fl put fp4 --ports 5703 --block XX >"$tmp/out" 2>"$tmp/err"
check_eq "(h) fleet put --block XX: exit 1" 1 $?
check_eq "(h) ... nothing written" "" "$(etcdctl get --keys-only "$PREFIX/meetings/fp4")"
converge "(h) fleet put"
check "(h) fleet list shows fp1" grep -q 'fp1' <(fl list)
check "(h) fleet list shows fp2 for n07" grep -q 'n07.*fp2\|fp2.*n07' <(fl list)
fl list --json >"$tmp/list.json"
check "(h) fleet list --json is JSON naming fp1 and fp2" quiet \
	jqe '[.. | strings] | (index("fp1") != null) and (index("fp2") != null)' "$tmp/list.json"
fl status >"$tmp/fstatus"
check_eq "(h) fleet status: exit 0, all in step" 0 $?
sed -n '1,3p;$p' "$tmp/fstatus" | sed 's/^/    /'
check_eq "(h) fleet status: one line per node" "$NODES" "$(grep -c -E '\bn[0-9]{2}\b' "$tmp/fstatus")"
check_eq "(h) fleet status --json: every node" "$NODES" "$(fl status --json | jq '[.. | objects | select(has("node"))] | length')"
# A lagging node: its daemon stopped (SIGSTOP), a change made, the others in step.
L=9
kill -STOP "${DPID[L]}"
on_exit cont_child "${DPID[L]}"
check "(h) fleet put fp5" quiet fl put fp5 --ports 5705 --block DE
others_in_step() {
	local i
	read_store || return 1
	for ((i = 0; i < NODES; i++)); do
		((i == L)) || in_step "$i" || return 1
	done
}
check "(h) the others in step" wait_until 30 others_in_step
fl status >"$tmp/fstatus"
check_eq "(h) fleet status with a lagging node: exit 2" 2 $?
grep -i lagging "$tmp/fstatus" | sed 's/^/    /'
check_eq "(h) fleet status marks ${N[L]} lagging, and only it" "${N[L]}" \
	"$(grep -i lagging "$tmp/fstatus" | grep -o -E '\bn[0-9]{2}\b' | paste -sd,)"
kill -CONT "${DPID[L]}"
converge "(h) ${N[L]} resumed"
# A status key no daemon wrote (etcdctl's, cut short): named and marked, not left out.
etcdctl put "$PREFIX/status/junk" 'not json{' >/dev/null
fl status >"$tmp/fstatus"
check_eq "(h) fleet status with an unreadable status key: exit 2" 2 $?
check "(h) ... names it: $(grep junk "$tmp/fstatus")" \
	grep -qE "^junk +status key $PREFIX/status/junk is not a JSON object" "$tmp/fstatus"
check_eq "(h) ... --json: unreadable" true \
	"$(fl status --json | jq '.[] | select(.node == "junk") | .unreadable')"
# An object that is not a daemon's status is named by its key, not by what it says.
etcdctl put "$PREFIX/status/junk2" '{"node":"n00","twin":5}' >/dev/null
check_eq "(h) a status key is named by its key, not by its value" 1 \
	"$(fl status --json | jq '[.[] | select(.node == "junk2")] | length')"
check_eq "(h) ... a twin that is not text is none" 0 "$(fl status | grep -c 'another daemon as this node')"
# Fields of other types than a daemon writes: read as none, no crash.
etcdctl put "$PREFIX/status/junk2" '{"rejected":1,"meetings":"x","geoip":2,"connected":[]}' >/dev/null
fl status >"$tmp/fstatus" 2>&1
check_eq "(h) a status of other types: exit 2 (marked), not a crash" 2 $?
check "(h) ... listed, no key refused: $(grep junk2 "$tmp/fstatus")" \
	grep -qE '^junk2 +revision 0 \(lagging\), not connected, 0 meetings, 0 keys refused' "$tmp/fstatus"
etcdctl del "$PREFIX/status/junk2" >/dev/null
etcdctl del "$PREFIX/status/junk" >/dev/null
# A delete leaves no key to compare with: fleet del rewrites PREFIX/fleet in its transaction.
kill -STOP "${DPID[L]}"
created=$(etcdctl get --print-value-only "$PREFIX/fleet" | jq .created)
check "(h) fleet del fp5" quiet fl del fp5
check "(h) the others in step after the delete" wait_until 30 others_in_step
fl status >"$tmp/fstatus"
check_eq "(h) fleet status with a node behind a delete: exit 2" 2 $?
check_eq "(h) fleet status marks ${N[L]} lagging behind the delete, and only it" "${N[L]}" \
	"$(grep -i lagging "$tmp/fstatus" | grep -o -E '\bn[0-9]{2}\b' | paste -sd,)"
check_eq "(h) PREFIX/fleet keeps its created time ($created), adds the delete's" true \
	"$(etcdctl get --print-value-only "$PREFIX/fleet" | jq --argjson c "${created:-null}" '.created == $c and .last_delete >= $c')"
kill -CONT "${DPID[L]}"
converge "(h) ${N[L]} resumed after the delete"
check "(h) fleet del fp1" quiet fl del fp1
check "(h) fleet del fp2 --node n07" quiet fl del fp2 --node n07
check_eq "(h) fp1 gone from the store" "" "$(etcdctl get --keys-only "$PREFIX/meetings/fp1")"
converge "(h) fleet del"

# --- (g) local changes on a managed node ----------------------------------------------------------
phase "(g) local changes"
G=5
gbn "$G" meeting add loc1 --ports 5800 --block DE >"$tmp/out" 2>"$tmp/err"
check_eq "(g) local meeting add refused: exit 2" 2 $?
check_eq "(g) ... one line" 1 "$(wc -l <"$tmp/err")"
check "(g) ... naming the prefix: $(cat "$tmp/err")" grep -qF "$PREFIX" "$tmp/err"
check_eq "(g) ... nothing added" "" "$(actual "$G" | jq -r '.[] | select(.name == "loc1") | .name')"
gbn "$G" shared-port add 5801 >"$tmp/out" 2>"$tmp/err"
check_eq "(g) local shared-port add refused: exit 2" 2 $?
check "(g) ... naming the store's key for it: $(cat "$tmp/err")" grep -qF "change it there (its shared-ports key)" "$tmp/err"
check "(g) --local-override meeting add" quiet gbn "$G" --local-override meeting add loc1 --ports 5800 --block DE
check_eq "(g) loc1 is in the maps" loc1 "$(actual "$G" | jq -r '.[] | select(.name == "loc1") | .name')"
drift_is() { [[ $(status "$G" | jq -r .drift) == "$1" ]]; }
check "(g) status shows drift: $(status "$G" | jq -c '{drift}')" wait_until 15 drift_is true
fl status >"$tmp/fstatus"
grep -E '\bn05\b' "$tmp/fstatus" | sed 's/^/    /'
check "(g) fleet status shows n05's drift" grep -q -i 'n05.*drift' "$tmp/fstatus"
put meetings/after-drift '{"ports":[5900],"block":["DE"]}'
converge "(g) the store's next change puts n05's set back"
check "(g) drift over" wait_until 15 drift_is false

# --- (i) two daemons as one node ---------------------------------------------------------------
phase "(i) two daemons as one node"
T=3
TWIN_PIN=/sys/fs/bpf/geoblock-test-$GB_TEST_ID-twin
on_exit rm -rf "$TWIN_PIN"
mkdir -p "$tmp/twin"
take_port TWIN_MPORT
GEOBLOCK_PIN_DIR=$TWIN_PIN GEOBLOCK_STATE_DIR=$tmp/twin "$GEOBLOCK" daemon --etcd "$EPS" \
	--etcd-prefix "$PREFIX" --node "${N[T]}" --metrics "127.0.0.1:$TWIN_MPORT" \
	>>"$tmp/twin/daemon.log" 2>&1 &
TWIN_PID=$!
on_exit kill_child "$TWIN_PID"
twin_named() { [[ $(status "$T" | jq -r '.twin // empty') == *" pid "* ]]; }
check "(i) ${N[T]}'s status names a twin" wait_until 30 twin_named
said_twin() { grep -F "another daemon ($1 id " "$2" | grep -qF "follows the store as node ${N[T]} too"; }
check "(i) ${N[T]}'s daemon warned of the twin" wait_until 15 said_twin "$(hostname) pid $TWIN_PID" "${STATE[T]}/daemon.log"
check "(i) the twin warned of ${N[T]}'s daemon" wait_until 15 said_twin "$(hostname) pid ${DPID[T]}" "$tmp/twin/daemon.log"
fl status >"$tmp/fstatus"
check_eq "(i) fleet status with a twin: exit 2" 2 $?
check_eq "(i) fleet status marks ${N[T]}, and only it" "${N[T]}" \
	"$(grep -i 'another daemon as this node' "$tmp/fstatus" | grep -o -E '\bn[0-9]{2}\b' | paste -sd,)"
kill_child "$TWIN_PID"
# Its key deleted (the twin's lease ended, etcdctl): the node writes it again at once, not at its
# 30-s refresh. (Not while the twin runs: its own write may come last, and stand.)
own_status_back() { [[ $(status "$T" | jq -r .instance) == "$(hostname) pid ${DPID[T]} "* ]]; }
check "(i) the twin stopped: ${N[T]}'s status key is its own daemon's" wait_until 15 own_status_back
check_eq "(i) ${N[T]}'s status key deleted" 1 "$(etcdctl del "$PREFIX/status/${N[T]}")"
check "(i) ... written again within 10 s" wait_until 10 own_status_back
# So is a value no daemon wrote (etcdctl's), which has no lease and would stay.
put "status/${N[T]}" '{"node":"x"}'
check "(i) ${N[T]}'s status key overwritten with etcdctl: written again within 10 s" \
	wait_until 10 own_status_back
others_twinless() {
	local i
	for ((i = 0; i < NODES; i++)); do
		((i == T)) || [[ $(status "$i" | jq -r .twin) == null ]] || return 1
	done
}
check "(i) no other node's status names a twin" others_twinless

# --- (j) a member that stops answering under a node's watch -------------------------------------
# Frozen (SIGSTOP) it keeps the stream open and sends nothing; the node's status goes on through
# another member, and its own write not brought back by the watch moves the watch on.
phase "(j) a member frozen under a node's watch"
leader=$(etcd_leader) || leader=0
FZ=$(((leader + 1) % ETCD_N))
others=
for ((i = 0; i < ETCD_N; i++)); do
	((i == FZ)) || others+="${others:+,}${ETCD_CLIENT[i]}"
done
FZ_PIN=/sys/fs/bpf/geoblock-test-$GB_TEST_ID-frozen
on_exit rm -rf "$FZ_PIN"
mkdir -p "$tmp/frozen"
take_port FZ_MPORT
GEOBLOCK_PIN_DIR=$FZ_PIN GEOBLOCK_STATE_DIR=$tmp/frozen "$GEOBLOCK" daemon \
	--etcd "${ETCD_CLIENT[FZ]},$others" --etcd-prefix "$PREFIX" --node nfz \
	--metrics "127.0.0.1:$FZ_MPORT" >>"$tmp/frozen/daemon.log" 2>&1 &
FZ_PID=$!
on_exit kill_child "$FZ_PID"
fz() { GEOBLOCK_PIN_DIR=$FZ_PIN GEOBLOCK_STATE_DIR=$tmp/frozen "$GEOBLOCK" "$@"; }
fz_has() { fz meeting list --json 2>/dev/null | jqe --arg m "$1" 'any(.[]; .name == $m)' >/dev/null; }
put nodes/nfz/meetings/fz1 '{"ports":[5950],"block":["DE"]}'
check "(j) the node follows m$FZ's watch" wait_until 30 fz_has fz1
# A burst of changes for it: its status follows, but is written at most five times a second.
"$ETCDCTL_BIN" --endpoints="$others" $(etcd_client_tls) watch "$PREFIX/status/nfz" >"$tmp/fz.watch" 2>&1 &
FZ_WATCH=$!
on_exit kill_child "$FZ_WATCH"
t0=$(date +%s%N)
for k in $(seq 1 40); do
	put "nodes/nfz/meetings/burst$k" "{\"ports\":[$((5960 + k))],\"block\":[\"DE\"]}"
done
check "(j) the burst applied" wait_until 30 fz_has burst40
kill_child "$FZ_WATCH"
ms=$((($(date +%s%N) - t0) / 1000000))
writes=$(grep -c '^PUT$' "$tmp/fz.watch")
check "(j) status writes during the burst: $writes in $ms ms, at most 5 a second (and some)" \
	test "$writes" -ge 1 -a "$writes" -le $((ms * 5 / 1000 + 1))
logged=$(wc -c <"$tmp/frozen/daemon.log")
kill -STOP "${ETCD_PID[FZ]}"
on_exit cont_child "${ETCD_PID[FZ]}"
"$ETCDCTL_BIN" --endpoints="$others" --dial-timeout=2s --command-timeout=5s $(etcd_client_tls) \
	put "$PREFIX/nodes/nfz/meetings/fz2" '{"ports":[5951],"block":["DE"]}' >/dev/null ||
	fail "(j) put fz2 through the other members"
# Its status is rewritten every 30 s; the watch moves within 10 s of that write.
check "(j) m$FZ frozen: the node applies the next change through another member" wait_until 90 fz_has fz2
since=$(tail -c +$((logged + 1)) "$tmp/frozen/daemon.log")
check "(j) ... saying why: $(grep -F "watch: silent" <<<"$since" | head -1)" \
	grep -qF "watch: silent, its own write not seen or not taken in 10 s" <<<"$since"
kill -CONT "${ETCD_PID[FZ]}"
kill_child "$FZ_PID"

all_daemons_alive() {
	local i
	for ((i = 0; i < NODES; i++)); do
		daemon_alive "$i" || return 1
	done
}
check "the daemons are all still up" all_daemons_alive
phase "done"
summary
