#!/usr/bin/env bash
# kill -9 of single meeting commands (`meeting add`, `meeting set`, `meeting del`) at random
# moments (60 trials): the next command leaves the maps and the rules file the same rule set, with
# the meeting either there (in one mode) or gone in both, no journal left and the audit log whole;
# a command that finished says what the rule set is.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
TRIALS=${TRIALS:-$(trials 60)}
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR

# Other meetings around the one that changes, so that the rules file has more than one line.
check "meeting add board" "$GEOBLOCK" meeting add board --ports 8801 --block DE >/dev/null
check "meeting add team" "$GEOBLOCK" meeting add team --ports 8802 --block FR,US --monitor >/dev/null

# The difference between the maps and the rules file (empty: the same rule set).
# What the maps hold of meeting m: absent, enforce or monitor.
state_of() {
	"$GEOBLOCK" meeting list --json |
		jq -r 'map(select(.name == "m")) | if length == 0 then "absent" else .[0].mode end'
}
ADD=("$GEOBLOCK" meeting add m --ports 9001,9002 --block DE,FR --allow 192.0.2.0/28)

# How long each command takes, so that kills land across the whole of it.
dur_add=$(elapsed_ms "${ADD[@]}")
dur_set=$(elapsed_ms "$GEOBLOCK" meeting set m --monitor)
dur_del=$(elapsed_ms "$GEOBLOCK" meeting del m)
echo "add takes $dur_add ms, set $dur_set ms, del $dur_del ms"
check_eq "maps and rules file agree before the trials" "" "$(differs)"

killed=0 recovered_before=0
for ((i = 1; i <= TRIALS; i++)); do
	before=$(state_of)
	case $before in
	absent) cmd=("${ADD[@]}") dur=$dur_add after=enforce ;;
	enforce) cmd=("$GEOBLOCK" meeting set m --monitor) dur=$dur_set after=monitor ;;
	monitor)
		rand_below 2
		if ((RAND)); then
			cmd=("$GEOBLOCK" meeting set m --enforce) dur=$dur_set after=enforce
		else
			cmd=("$GEOBLOCK" meeting del m) dur=$dur_del after=absent
		fi
		;;
	esac
	kill_at_random $((dur + 1)) "$tmp/cmd.out" "${cmd[@]}"
	if ((KILL_RC == 137)); then
		killed=$((killed + 1))
	elif ((KILL_RC != 0)); then
		fail "trial $i: an unkilled '${cmd[*]:1}' failed (exit $KILL_RC): $(head -1 "$tmp/cmd.out")"
	fi
	# The next change puts an interrupted one right; this one changes nothing else.
	next_command "$i"
	d=$(differs)
	[[ -z $d ]] && pass || fail "trial $i ('${cmd[*]:1}', exit $KILL_RC): maps and rules file differ: $(echo "$d" | head -2 | paste -sd' ')"
	now=$(state_of)
	if [[ $now != "$before" && $now != "$after" ]]; then
		fail "trial $i ('${cmd[*]:1}', exit $KILL_RC): meeting m is $now, neither $before nor $after"
	elif ((KILL_RC == 0)) && [[ $now != "$after" ]]; then
		fail "trial $i: a finished '${cmd[*]:1}' left meeting m $now"
	else
		pass
	fi
	change_under_way && fail "trial $i: the change under way outlived the next command"
done
echo "$TRIALS trials, $killed killed mid-command, $((TRIALS - killed)) finished first"
check "a third of the kills or more landed mid-command" test "$killed" -ge $((TRIALS / 3))
echo "$(grep -c '"command":"recover"' "$S/audit.log") interrupted changes rolled back"
check "audit log lines whole" audit_whole
check_eq "the other meetings stay" "board team" \
	"$("$GEOBLOCK" meeting list --json | jq -r 'map(select(.name != "m") | .name) | sort | join(" ")')"
summary
