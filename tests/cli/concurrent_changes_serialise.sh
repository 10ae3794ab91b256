#!/usr/bin/env bash
# Concurrent commands serialise on the state lock: 20 parallel `meeting add` all land (maps, rules
# file, audit log); 10 parallel adds of one port: exactly one wins, the others are refused; 20
# parallel deletes all land; parallel applies each leave one whole file's rule set.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR

# The pins are made by the first change, under the state lock like the rest of it (read-only
# commands such as `meeting list` create nothing), so first-time setup does not race either.

# run_parallel N CMD_TEMPLATE: N processes, {} replaced by 1..N; exit codes in $tmp/rc.N
run_parallel() {
	local n=$1 i pids=()
	shift
	for ((i = 1; i <= n; i++)); do
		"${@//\{\}/$i}" >"$tmp/out.$i" 2>"$tmp/err.$i" &
		pids[i]=$!
	done
	for ((i = 1; i <= n; i++)); do
		wait "${pids[i]}"
		echo $? >"$tmp/rc.$i"
	done
}
codes() { cat "$tmp"/rc.* | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }'; }

run_parallel 20 "$GEOBLOCK" meeting add "m{}" --ports "2{}00-2{}05" --block DE --reason "r{}"
check_eq "20 parallel adds all succeed" "0:20 " "$(codes)"
check_eq "20 meetings in the maps" 20 "$("$GEOBLOCK" meeting list --json | jq length)"
check_eq "each with its own ports" "$(for i in $(seq 1 20); do echo "m$i 2${i}00-2${i}05"; done | sort)" \
	"$("$GEOBLOCK" meeting list --json | jq -r '.[] | "\(.name) \(.ports | join(","))"' | sort)"
check_eq "20 meetings in the saved rule set" 20 "$(saved_rules | grep -c '^meeting add m')"
check_eq "20 audit records" 20 "$(grep -c '"result":"ok"' "$S/audit.log")"
check_eq "each with its reason" "$(seq 1 20 | sed 's/^/r/' | sort)" "$(jq -r .reason "$S/audit.log" | sort)"
check "every audit line is whole JSON" jqe . "$S/audit.log" >/dev/null

rm -f "$tmp"/rc.*
run_parallel 10 "$GEOBLOCK" meeting add "c{}" --ports 9000 --block FR
check_eq "one of 10 conflicting adds wins" "0:1 1:9 " "$(codes)"
check_eq "the losers say why" 9 "$(cat "$tmp"/err.* | grep -c 'port 9000 already belongs to meeting "c[0-9]*"')"
check_eq "one meeting owns port 9000" 1 "$("$GEOBLOCK" meeting list --json | jq '[.[] | select(.ports == ["9000"])] | length')"

rm -f "$tmp"/rc.*
run_parallel 20 "$GEOBLOCK" meeting del "m{}"
check_eq "20 parallel deletes all succeed" "0:20 " "$(codes)"
check_eq "one meeting left" 1 "$("$GEOBLOCK" meeting list --json | jq length)"

# Parallel applies: whichever runs last wins, whole; never a mix of two files.
for i in 1 2 3 4 5 6; do
	for j in 1 2 3; do
		echo "meeting add f${i}m$j --ports 7${i}0$j --block DE"
	done >"$tmp/f$i.rules"
done
rm -f "$tmp"/rc.*
run_parallel 6 "$GEOBLOCK" apply "$tmp/f{}.rules"
check_eq "6 parallel applies all succeed" "0:6 " "$(codes)"
names=$("$GEOBLOCK" meeting list --json | jq -r '[.[].name] | sort | join(" ")')
check "the rule set is one whole file" grep -qx "$names" <(for i in 1 2 3 4 5 6; do echo "f${i}m1 f${i}m2 f${i}m3"; done)
check_eq "the saved rule set agrees" "$names" "$(saved_rules | awk '{ print $3 }' | sort | paste -sd' ')"
summary
