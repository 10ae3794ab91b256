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

rm -rf "$GEOBLOCK_PIN_DIR"
check_eq "the maps made anew hold none" "" "$(names)"
"$GEOBLOCK" meeting add third --ports 8803 --block US >/dev/null 2>"$GEOBLOCK_STATE_DIR/err"
check_eq "the change works" 0 $?
check "one warning says the meetings were put back" grep -q \
	"the maps held no meeting while the saved rule set in $S lists 2 (pins lost: after a reboot, run 'geoblock restore'); put them back first" \
	"$S/err"
check_eq "the maps hold the recorded meetings and the new one" "board team third" "$(names)"
check_eq "and so does the rules file" "board team third" "$(listed)"
check_eq "team kept its mode" "monitor" \
	"$("$GEOBLOCK" meeting list --json | jq -r '.[] | select(.name == "team") | .mode')"
check_eq "the recovery is audited with what it put back" \
	"recover ok + meeting add board --ports 8801 --block DE" \
	"$(jq -r 'select(.command == "recover") | "\(.command) \(.result) \(.changes[0])"' "$S/audit.log")"

# Every meeting deleted on purpose: an empty rule set is not a loss, nothing comes back.
for m in board team third; do "$GEOBLOCK" meeting del "$m" >/dev/null; done
"$GEOBLOCK" meeting add fourth --ports 8804 --block US >/dev/null 2>"$S/err"
# (No table is loaded in this test: that warning is expected, and the only one.)
check_eq "after deleting every meeting, no warning of a recovery" "" \
	"$(grep -v 'warning: no GeoIP table is loaded: meeting "fourth"' "$S/err")"
check_eq "and only the new meeting" "fourth" "$(names)"
summary
