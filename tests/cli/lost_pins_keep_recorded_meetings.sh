#!/usr/bin/env bash
# The pins lost (a reboot before `restore`, or the pin dir removed) and the maps made anew by the
# next command: a change then first puts back the meetings the rules file lists (one warning,
# audited as a recovery) instead of writing the rules file from the empty maps, which dropped them.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
S=$GEOBLOCK_STATE_DIR
names() { "$GEOBLOCK" meeting list --json | jq -r 'map(.name) | sort | join(" ")'; }
listed() { saved_rules | grep -o '^meeting add [^ ]*' | cut -d' ' -f3 | sort | paste -sd' '; }

check "meeting add board" "$GEOBLOCK" meeting add board --ports 8801 --block DE >/dev/null
check "meeting add team" "$GEOBLOCK" meeting add team --ports 8802 --block FR --monitor >/dev/null
check_eq "two meetings recorded" "board team" "$(listed)"
check "shared-port add 10000" "$GEOBLOCK" shared-port add 10000 >/dev/null

rm -rf "$GEOBLOCK_PIN_DIR"
# Before anything makes the maps anew, a read says to restore (attach would filter with none).
for cmd in "meeting list" "status" "stats" "explain 192.0.2.1 8801"; do
	name=${cmd%% [0-9]*}
	# shellcheck disable=SC2086
	out=$("$GEOBLOCK" $cmd 2>&1 >/dev/null)
	check_eq "$cmd with nothing pinned: exit 2, one line saying to restore" "2 geoblock: $name: nothing pinned under $GEOBLOCK_PIN_DIR, while the saved rule set in $S lists 2 meetings: run 'geoblock restore' (after a reboot, as at every boot)" \
		"$? $out"
done
check "... and nothing pinned by them" test ! -e "$GEOBLOCK_PIN_DIR"
# A GeoIP load (a hook before restore, say) makes the maps anew without a rule.
printf '192.0.2.0,192.0.2.255,DE\n198.51.100.0,198.51.100.255,FR\n203.0.113.0,203.0.113.255,US\n' \
	>"$S/table.csv"
check "geoip load on the lost pins" "$GEOBLOCK" geoip load --force "$S/table.csv" >/dev/null
check_eq "the maps made anew hold none" "" "$(names)"
# Until a change puts them back, what reads the maps says the saved meetings are not enforced.
LOST="geoblock: meeting list: warning: the maps hold no meeting while the saved rule set in $S lists 2: their pins were lost (a reboot before 'geoblock restore'), so none is enforced until 'geoblock restore' (or the next change) puts them back"
check_eq "meeting list warns: the saved meetings are not in the maps" "$LOST" \
	"$("$GEOBLOCK" meeting list 2>&1 >/dev/null)"
for cmd in "status" "status --json" "stats" "explain 192.0.2.1 8801" "check board 192.0.2.1"; do
	# shellcheck disable=SC2086
	check_eq "$cmd warns too" "${LOST/meeting list/${cmd%% *}}" \
		"$("$GEOBLOCK" $cmd 2>&1 >/dev/null | grep 'pins were lost')"
done
# apply --check cannot say what an apply would change: that puts the saved set back first.
printf 'meeting add board --ports 8801 --block DE\n' >"$S/one.rules"
before=$(saved_rules; cat "$S/audit.log")
"$GEOBLOCK" apply "$S/one.rules" --check >"$S/out" 2>"$S/err"
check_eq "apply --check refuses: exit 2, one line" "2 geoblock: apply: the maps hold no meeting while the saved rule set in $S lists 2 (pins lost: after a reboot, run 'geoblock restore'); an apply would put them back first, so a check cannot say what it changes: run 'geoblock restore' first" \
	"$? $(cat "$S/err")"
check_eq "... and prints nothing, changes nothing" "|$before" "$(cat "$S/out")|$(saved_rules; cat "$S/audit.log")"
check_eq "the maps still hold none" "" "$(names)"
"$GEOBLOCK" meeting add third --ports 8803 --block US >/dev/null 2>"$GEOBLOCK_STATE_DIR/err"
check_eq "the change works" 0 $?
check "one warning says the meetings were put back" grep -q \
	"the maps held no meeting while the saved rule set in $S lists 2 (pins lost: after a reboot, run 'geoblock restore'); put them back first" \
	"$S/err"
check "one warning says the shared ports were put back" grep -q \
	"the maps held no shared port while $S/shared-ports lists 10000 (pins lost: after a reboot, run 'geoblock restore'); put them back first" \
	"$S/err"
check_eq "the maps hold the recorded meetings and the new one" "board team third" "$(names)"
check_eq "... and the shared port" '["10000"]' \
	"$("$GEOBLOCK" shared-port list --json | jq -c .ports)"
check_eq "and so does the rules file" "board team third" "$(listed)"
check_eq "team kept its mode" "monitor" \
	"$("$GEOBLOCK" meeting list --json | jq -r '.[] | select(.name == "team") | .mode')"
check_eq "the recovery is audited with what it put back" \
	"recover ok + meeting add board --ports 8801 --block DE" \
	"$(jq -r 'select(.command == "recover") | "\(.command) \(.result) \(.changes[0])"' "$S/audit.log")"

# Lost again, a change died midway before (its rollback puts the saved set back first), and a
# damaged shared-ports file: what the file still names is shared again, before the rules.
check "a change the crash interrupted" "$GEOBLOCK" meeting add extra --ports 8805 --block FR >/dev/null
sed -i '$d' "$S/rules.log"
printf '10000,x\n' >"$S/shared-ports"
rm -rf "$GEOBLOCK_PIN_DIR"
check "geoip load on the lost pins, again" "$GEOBLOCK" geoip load --force "$S/table.csv" >/dev/null
"$GEOBLOCK" meeting add fifth --ports 8806 --block US >/dev/null 2>"$S/err"
check_eq "the change works" 0 $?
check_eq "the shared port the damaged file names is back, the damaged item said" \
	'["10000"] 1' "$("$GEOBLOCK" shared-port list --json | jq -c .ports) $(grep -c 'left out' "$S/err")"
check_eq "the saved meetings are back, the interrupted one rolled back" "board fifth team third" \
	"$(names)"

# Every meeting deleted on purpose: an empty rule set is not a loss, nothing comes back.
for m in board team third fifth; do "$GEOBLOCK" meeting del "$m" >/dev/null; done
"$GEOBLOCK" meeting add fourth --ports 8804 --block US >/dev/null 2>"$S/err"
check_eq "after deleting every meeting, no warning of a recovery" "" "$(cat "$S/err")"
check_eq "nor of lost pins from a reader" "" "$("$GEOBLOCK" meeting list 2>&1 >/dev/null)"
check_eq "and only the new meeting" "fourth" "$(names)"

# A put-back of the shared ports cut short (what a kill leaves: the maps hold some of them and no
# meeting; made here by hand, the file naming one more): the next change puts the rest back (the
# build before took the few for all, and the next shared-port change saved them over the file).
"$GEOBLOCK" meeting del fourth >/dev/null
rm -rf "$GEOBLOCK_PIN_DIR"
check "geoip load on lost pins, a third time" "$GEOBLOCK" geoip load --force "$S/table.csv" >/dev/null
check "shared-port add 10000 (the put-back's first)" quiet "$GEOBLOCK" shared-port add 10000
printf '10000,10001\n' >"$S/shared-ports"
"$GEOBLOCK" meeting add sixth --ports 8807 --block US >/dev/null 2>"$S/err"
check_eq "the change works" 0 $?
check_eq "the shared ports are back, all of them" '["10000-10001"]' \
	"$("$GEOBLOCK" shared-port list --json | jq -c .ports)"
check "... said" grep -q "the maps held not every shared port $S/shared-ports lists (10000-10001: a put-back cut short)" \
	"$S/err"
summary
