#!/usr/bin/env bash
# kill -9 of `apply` at random moments (50 trials, two rules files applied in turn, every meeting
# changing between them): right after the kill the blocked client's packets to the meeting port
# still drop (make-before-break); the next command works and leaves the rule set (maps and rules
# file) exactly the old file or the new one, with no journal left and the audit log whole.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
TRIALS=${TRIALS:-$(trials 50)}
N=40
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR

faults_geoip "$tmp" || { fail "GeoIP data"; summary; exit; }
check "geoip load" "$GEOBLOCK" geoip load "$tmp/a.csv" >/dev/null
# Every meeting differs between the files: 8801 blocks DE in both, under other names and options.
{
	echo "meeting add board-a --ports 8801 --block DE"
	for ((i = 1; i <= N; i++)); do echo "meeting add a$i --ports $((9000 + i)) --block FR,US"; done
} >"$tmp/a.rules"
{
	echo "meeting add board-b --ports 8801,8802 --block DE,US --proto udp,tcp"
	for ((i = 1; i <= N; i++)); do
		echo "meeting add b$i --ports $((9000 + i)),$((9100 + i)) --block FR --allow 192.0.2.$i"
	done
} >"$tmp/b.rules"
# The rule set as meeting list and the rules file show it, ids and creation times aside.
rule_set() {
	"$GEOBLOCK" meeting list --json | jq -c 'map(del(.id, .created)) | sort_by(.name)'
	saved_rules | sort
}
declare -A WANT
for t in b a; do
	check "apply $t" "$GEOBLOCK" apply "$tmp/$t.rules" >/dev/null
	WANT[$t]=$(rule_set)
done
faults_testbed "fa$$" || { fail "testbed"; summary; exit; }
check "filtered before" filtered 8801 "before"

dur=$(elapsed_ms "$GEOBLOCK" apply "$tmp/b.rules")
dur=$(elapsed_ms "$GEOBLOCK" apply "$tmp/a.rules")
echo "an apply takes $dur ms; kills drawn from 0..$((dur * 3 / 4)) ms"
cur=a killed=0
for ((i = 1; i <= TRIALS; i++)); do
	[[ $cur == a ]] && next=b || next=a
	kill_at_random $((dur * 3 / 4)) "$tmp/apply.out" "$GEOBLOCK" apply "$tmp/$next.rules"
	if ((KILL_RC == 137)); then
		killed=$((killed + 1))
	elif ((KILL_RC != 0)); then
		fail "trial $i: an unkilled apply failed (exit $KILL_RC): $(head -1 "$tmp/apply.out")"
	fi
	# No command has run since the kill: the maps are as it left them.
	filtered 8801 "right after kill $i" && pass || fail "trial $i: traffic not filtered right after the kill"
	next_command_recovers "$i" "$cur" "$next"
	((KILL_RC == 0)) && [[ $NOW != "$next" ]] && fail "trial $i: a finished apply left the old rule set"
	cur=$NOW
done
echo "$TRIALS trials, $killed killed mid-apply, $((TRIALS - killed)) finished first"
check "a third of the kills or more landed mid-apply" test "$killed" -ge $((TRIALS / 3))
recovers=$(grep -c '"command":"recover"' "$S/audit.log")
echo "$recovers interrupted applies rolled back"
echo "$(grep -c '"command":"torn-record"' "$S/audit.log") records cut short by a kill kept whole"
check "audit log lines whole" audit_whole
[[ $cur == a ]] && next=b || next=a
check "the next apply works" "$GEOBLOCK" apply "$tmp/$next.rules" >/dev/null
check_eq "and makes its file the rule set" "${WANT[$next]}" "$(rule_set)"
check "filtered at the end" filtered 8801 "at the end"
summary
