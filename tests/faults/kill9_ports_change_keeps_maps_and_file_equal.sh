#!/usr/bin/env bash
# kill -9 of `meeting ports add|del` at random moments (60 trials): the next command leaves the maps
# and the rules file the same rule set, the meeting with its old ports or its new ones (never a
# mix, never gone), the other meeting as it was, the meeting's drop counters kept by every trial
# (a recovery puts its ports back in place, as the command changes them, not by replacing the
# meeting, which would need a second slot and give it new counters), no journal left and the
# audit log whole; a command that finished says what the ports are.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
TRIALS=${TRIALS:-$(trials 60)}
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR

check "meeting add board" "$GEOBLOCK" meeting add board --ports 8801 --block DE >/dev/null
check "meeting add m" "$GEOBLOCK" meeting add m --ports 9001 --block DE,FR >/dev/null

ports_of() {
	"$GEOBLOCK" meeting list --json | jq -r '.[] | select(.name == "m") | .ports | join(",")'
}
# The drop counters meeting m holds (its slots in drop_slot), which a port change never touches.
slots_of() {
	local id
	id=$("$GEOBLOCK" meeting list --json | jq '.[] | select(.name == "m") | .id')
	bpftool -j map lookup pinned "$GEOBLOCK_PIN_DIR/drop_slot" key $(printf '0x%02x 0x%02x 0 0' \
		$((id & 255)) $((id >> 8))) | jq -c '[.formatted.value.slot[] | select(. != 0)]'
}
FEW=9001 MANY=9001-9040
slots=$(slots_of)
check "meeting m holds two counters" test "$(jq length <<<"$slots")" = 2

dur_add=$(elapsed_ms "$GEOBLOCK" meeting ports add m 9002-9040)
dur_del=$(elapsed_ms "$GEOBLOCK" meeting ports del m 9002-9040)
echo "ports add takes $dur_add ms, del $dur_del ms"

killed=0
for ((i = 1; i <= TRIALS; i++)); do
	before=$(ports_of)
	slots=$(slots_of)
	if [[ $before == "$FEW" ]]; then
		cmd=("$GEOBLOCK" meeting ports add m 9002-9040) dur=$dur_add after=$MANY
	else
		cmd=("$GEOBLOCK" meeting ports del m 9002-9040) dur=$dur_del after=$FEW
	fi
	kill_at_random $((dur + 1)) "$tmp/cmd.out" "${cmd[@]}"
	if ((KILL_RC == 137)); then
		killed=$((killed + 1))
	elif ((KILL_RC != 0)); then
		fail "trial $i: an unkilled '${cmd[*]:1}' failed (exit $KILL_RC): $(head -1 "$tmp/cmd.out")"
	fi
	next_command "$i"
	d=$(differs)
	[[ -z $d ]] && pass || fail "trial $i ('${cmd[*]:1}', exit $KILL_RC): maps and rules file differ: $(echo "$d" | head -2 | paste -sd' ')"
	now=$(ports_of)
	if [[ $now != "$before" && $now != "$after" ]]; then
		fail "trial $i ('${cmd[*]:1}', exit $KILL_RC): meeting m has ports '$now', neither $before nor $after"
	elif ((KILL_RC == 0)) && [[ $now != "$after" ]]; then
		fail "trial $i: a finished '${cmd[*]:1}' left ports '$now'"
	else
		pass
	fi
	change_under_way && fail "trial $i: the change under way outlived the next command"
	[[ $(slots_of) == "$slots" ]] && pass ||
		fail "trial $i ('${cmd[*]:1}', exit $KILL_RC): the meeting's counters changed"
done
echo "$TRIALS trials, $killed killed mid-command, $((TRIALS - killed)) finished first"
check "a third of the kills or more landed mid-command" test "$killed" -ge $((TRIALS / 3))
echo "$(grep -c '"command":"recover"' "$S/audit.log") interrupted changes rolled back"
check "audit log lines whole" audit_whole
check_eq "the other meeting stays" "board 8801" \
	"$("$GEOBLOCK" meeting list --json | jq -r '.[] | select(.name == "board") | "\(.name) \(.ports | join(","))"')"
summary
