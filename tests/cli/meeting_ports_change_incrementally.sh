#!/usr/bin/env bash
# `meeting ports add|del NAME LIST` change which ports a live meeting owns and nothing else: its id,
# policy and drop counters stay; an added port drops right after the command returns, a removed one
# passes (no_meeting); the rules file holds the new ports, the change is audited with the old and
# new line, and no journal is left. Adding a port the meeting owns already is said, not refused.
# A port of another meeting, a port the meeting does not own, its last port, an unknown meeting and
# a bad list are refused in one line, exit 1, with the rules file, the audit log and the maps as
# they were. A rules file that cannot be written (made immutable) undoes the change in the maps;
# one that died before its end is rolled back in place too, the meeting's counters kept.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
S=$GEOBLOCK_STATE_DIR
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# 192.0.2.0/24 is German: every meeting here blocks DE.
printf '192.0.2.0,192.0.2.255,DE\n198.51.100.0,198.51.100.255,FR\n' >"$tmp/table.csv"
"$GEOBLOCK" geoip load --force "$tmp/table.csv" >/dev/null || fail "geoip load"
"$GEOBLOCK" meeting add board --ports 8801-8810 --block DE >/dev/null || fail "meeting add board"
"$GEOBLOCK" meeting add other --ports 9000 --block DE,FR >/dev/null || fail "meeting add other"

verdict() { "$GEOBLOCK" explain 192.0.2.1 "$1" --json | jq -r .verdict; }
# of NAME FIELD: the field of meeting NAME in meeting list --json.
of() { "$GEOBLOCK" meeting list --json | jq -r --arg n "$1" ".[] | select(.name == \$n) | .$2"; }
ports_of() { of "$1" 'ports | join(",")'; }
id_of() { of "$1" id; }
# pinned MAP ID: the map's entry for a meeting id (drop_slot: which drop counters it holds).
pinned() {
	bpftool -j map lookup pinned "$GEOBLOCK_PIN_DIR/$1" key \
		$(printf '0x%02x 0x%02x 0 0' $(($2 & 255)) $(($2 >> 8)))
}
rules_line() { saved_rules | grep "^meeting add $1 "; }
# What must not change for board: its id, its policy, the drop counters it holds.
board_id=$(id_of board)
identity() {
	echo "$(id_of board) $(pinned meeting_policy "$board_id") $(pinned drop_slot "$board_id")"
}
before_identity=$(identity)
check_eq "board's policy read from its pin" board \
	"$(pinned meeting_policy "$board_id" | jq -r .formatted.value.name)"
check_eq "board holds one drop counter" 1 \
	"$(pinned drop_slot "$board_id" | jq '[.formatted.value.slot[] | select(. != 0)] | length')"
new_audit() { tail -n +"$(($1 + 1))" "$S/audit.log"; }

# changed NAME EXPECTED_OUT CMD...: exit 0, one line of output, no journal left, one audit record
# of CMD; maps and rules file agree; the meeting is the same (id, policy, counters).
changed() {
	local name=$1 out=$2 lines rc w shown=""
	shift 2
	for w in "$@"; do	# as the audit log quotes it
		[[ $w == *" "* ]] && w="'$w'"
		shown+="${shown:+ }$w"
	done
	lines=$(wc -l <"$S/audit.log")
	"$GEOBLOCK" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check_eq "$name: exit" 0 "$rc"
	check_eq "$name: output" "$out" "$(cat "$tmp/out")"
	check_eq "$name: nothing on stderr" "" "$(cat "$tmp/err")"
	check "$name: no change left under way" change_under_way_not
	check_eq "$name: one audit record" 1 "$(new_audit "$lines" | wc -l)"
	check_eq "$name: its command" "$shown" "$(new_audit "$lines" | jq -r .command)"
	check_eq "$name: its result" ok "$(new_audit "$lines" | jq -r .result)"
	check_eq "$name: maps and rules file agree" "" "$(differs)"
	check_eq "$name: board keeps its id, policy and drop counters" "$before_identity" \
		"$(identity)"
	AUDIT=$(new_audit "$lines")
}

# snapshot: what a refused command must leave as it was.
snapshot() {
	saved_files
	cat "$S/audit.log"
	"$GEOBLOCK" meeting list --json
	ls -a "$S"
}

check_eq "before: board's ports" 8801-8810 "$(ports_of board)"
check_eq "before: 8811 belongs to no meeting" no_meeting "$(verdict 8811)"

# add
changed "ports add" "meeting board: ports 8801-8812,9001 (3 added)" \
	meeting ports add board 8811-8812,9001 --reason "two more rooms"
check_eq "ports add: meeting list" 8801-8812,9001 "$(ports_of board)"
check_eq "ports add: rules file" "meeting add board --ports 8801-8812,9001 --block DE" \
	"$(rules_line board)"
check_eq "ports add: the other meeting's line" "meeting add other --ports 9000 --block DE,FR" \
	"$(rules_line other)"
check_eq "ports add: audited reason" "two more rooms" "$(jq -r .reason <<<"$AUDIT")"
check_eq "ports add: audited change lines" \
	"- meeting add board --ports 8801-8810 --block DE
+ meeting add board --ports 8801-8812,9001 --block DE" "$(jq -r '.changes[]' <<<"$AUDIT")"
for p in 8801 8810 8811 8812 9001; do
	check_eq "ports add: $p drops right after" dropped "$(verdict "$p")"
done
check_eq "ports add: 8813 still no meeting's" no_meeting "$(verdict 8813)"

# add, partly or wholly owned already
changed "ports add, one already its own" \
	"meeting board: ports 8801-8812,9001-9002 (1 added; already its own: 8801)" \
	meeting ports add board 8801,9002
check_eq "ports add, one already its own: 9002 drops" dropped "$(verdict 9002)"
lines=$(wc -l <"$S/audit.log")
saved_files >"$tmp/rules.before"
out=$("$GEOBLOCK" meeting ports add board 8801,9001-9002 2>&1)
check_eq "ports add, all its own: exit" 0 $?
check_eq "ports add, all its own: said" \
	"meeting board: ports 8801-8812,9001-9002 (0 added; already its own: 8801,9001-9002)" "$out"
check_eq "ports add, all its own: nothing audited" "$lines" "$(wc -l <"$S/audit.log")"
check "ports add, all its own: saved rule set as it was" cmp -s "$tmp/rules.before" <(saved_files)
check "ports add, all its own: no change under way" change_under_way_not

# refusals
refused 'geoblock: meeting ports add: port 9000 already belongs to meeting "other"' \
	meeting ports add board 9000
refused 'geoblock: meeting ports add: port 9000 already belongs to meeting "other"' \
	meeting ports add board 8813,9000-9003
check_eq "a refused add adds none of its ports" no_meeting "$(verdict 8813)"
refused 'geoblock: meeting ports del: port 9000 does not belong to meeting "board"' \
	meeting ports del board 8812,9000
refused 'geoblock: meeting ports del: port 7000 does not belong to meeting "board"' \
	meeting ports del board 7000
check_eq "a refused del removes none of its ports" dropped "$(verdict 8812)"
last='would have no port left; delete the meeting instead'
refused "geoblock: meeting ports del: meeting \"board\" $last" \
	meeting ports del board 8801-8812,9001-9002
refused "geoblock: meeting ports del: meeting \"other\" $last" meeting ports del other 9000
refused "geoblock: meeting ports add: no meeting \"nosuch\"; see 'geoblock meeting list'" \
	meeting ports add nosuch 7000
refused "geoblock: meeting ports del: no meeting \"nosuch\"; see 'geoblock meeting list'" \
	meeting ports del nosuch 7000
refused 'geoblock: meeting ports add: "abc" is not a port or port range (e.g. 8801,8802-8810)' \
	meeting ports add board abc
refused 'geoblock: meeting ports add: port "0" is out of range 1-65535' \
	meeting ports add board 0
refused 'geoblock: meeting ports del: expected a meeting NAME and a port LIST; see -h' \
	meeting ports del board
# meeting set and del share the lookup.
refused "geoblock: meeting set: no meeting \"nosuch\"; see 'geoblock meeting list'" \
	meeting set nosuch --monitor
refused "geoblock: meeting del: no meeting \"nosuch\"; see 'geoblock meeting list'" \
	meeting del nosuch

# del
changed "ports del" "meeting board: ports 8801-8810,9001-9002 (2 removed)" \
	meeting ports del board 8811-8812 --reason "rooms closed"
check_eq "ports del: meeting list" 8801-8810,9001-9002 "$(ports_of board)"
check_eq "ports del: rules file" "meeting add board --ports 8801-8810,9001-9002 --block DE" \
	"$(rules_line board)"
check_eq "ports del: audited change lines" \
	"- meeting add board --ports 8801-8812,9001-9002 --block DE
+ meeting add board --ports 8801-8810,9001-9002 --block DE" "$(jq -r '.changes[]' <<<"$AUDIT")"
check_eq "ports del: audited reason" "rooms closed" "$(jq -r .reason <<<"$AUDIT")"
for p in 8811 8812; do
	check_eq "ports del: $p passes right after" no_meeting "$(verdict "$p")"
done
for p in 8801 8810 9001 9002; do
	check_eq "ports del: $p still drops" dropped "$(verdict "$p")"
done
changed "ports del down to one port" "meeting board: ports 8801 (11 removed)" \
	meeting ports del board 8802-8810,9001-9002
check_eq "ports del down to one port: rules file" "meeting add board --ports 8801 --block DE" \
	"$(rules_line board)"
changed "ports add after" "meeting board: ports 8801-8810 (9 added)" \
	meeting ports add board 8802-8810
check_eq "the other meeting is untouched" "9000 dropped" "$(ports_of other) $(verdict 9000)"

# The change log cannot be written (immutable): nothing changes, in the maps either.
if chattr +i "$S/rules.log" 2>/dev/null; then
	on_exit chattr -i "$S/rules.log"
	for cmd in "add board 8820" "del board 8810"; do
		before=$("$GEOBLOCK" meeting list --json)
		lines=$(wc -l <"$S/audit.log")
		# shellcheck disable=SC2086
		"$GEOBLOCK" meeting ports $cmd >"$tmp/out" 2>"$tmp/err"
		check_eq "unwritable change log, ports $cmd: exit" 2 $?
		check_eq "unwritable change log, ports $cmd: one line" "geoblock: meeting ports \
${cmd%% *}: cannot write $S/rules.log: Operation not permitted; nothing changed" "$(cat "$tmp/err")"
		check_eq "unwritable change log, ports $cmd: maps as before" "$before" \
			"$("$GEOBLOCK" meeting list --json)"
		check "unwritable change log, ports $cmd: no change under way" change_under_way_not
		check_eq "unwritable change log, ports $cmd: audited as failed" \
			"failed: cannot write $S/rules.log" \
			"$(new_audit "$lines" | jq -r .result | cut -d: -f1-2)"
	done
	check_eq "unwritable change log: 8820 still passes" no_meeting "$(verdict 8820)"
	check_eq "unwritable change log: 8810 still drops" dropped "$(verdict 8810)"
	chattr -i "$S/rules.log"
	check_eq "unwritable change log: maps and rules file agree" "" "$(differs)"
	check_eq "unwritable change log: board keeps its id, policy and counters" \
		"$before_identity" "$(identity)"
else
	fail "chattr +i does not work in $S: the undo after an unwritable change log untested"
fi

# A ports change that died before its end (its "done", the log's last line, cut off): the next
# command puts the saved ports back in place, as the command changes them; board keeps its id,
# policy and counters (no second version beside it, which would need a free slot).
"$GEOBLOCK" meeting ports add board 8820 >/dev/null || fail "meeting ports add board 8820"
check_eq "died before its end: the log's last line is its done" done \
	"$(tail -1 "$S/rules.log" | cut -d' ' -f3)"
head -n -1 "$S/rules.log" >"$tmp/log" && cat "$tmp/log" >"$S/rules.log"
"$GEOBLOCK" meeting del nosuch >"$tmp/out" 2>&1
check "died before its end: the next command rolls it back" \
	grep -q "an interrupted change was rolled back" "$tmp/out"
check_eq "died before its end: 8820 passes again" no_meeting "$(verdict 8820)"
check_eq "died before its end: board's ports" 8801-8810 "$(ports_of board)"
check_eq "died before its end: board keeps its id, policy and drop counters" "$before_identity" \
	"$(identity)"
check_eq "died before its end: maps and rules file agree" "" "$(differs)"
check "died before its end: no change under way" change_under_way_not

# After all of it, restore from the saved rule set alone gives the same meetings.
"$GEOBLOCK" meeting list --json | jq -S 'map(del(.created))' >"$tmp/list.before"
rm -rf "$GEOBLOCK_PIN_DIR"
"$GEOBLOCK" restore >/dev/null 2>&1 || fail "restore"
check_eq "restore gives the meetings back with their ports" "$(cat "$tmp/list.before")" \
	"$("$GEOBLOCK" meeting list --json | jq -S 'map(del(.created))')"
summary
