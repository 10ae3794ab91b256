#!/usr/bin/env bash
# Drop counters (one per blocked country of a meeting, in drop_counts): a meeting that needs more
# than are free is refused in one line and changes nothing; deleting a meeting frees its counters;
# a counter taken again starts at zero, whatever it held; apply counts them before changing anything.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

all=$(for a in {A..Z}; do for b in {A..Z}; do printf '%s%s,' $a $b; done; done)
all=${all%,}
# A code is taken when it names a country or the loaded table uses it: a table with a network for
# each of the 676 codes makes them all blockable here.
i=0
for cc in ${all//,/ }; do
	echo "10.$((i / 256)).$((i % 256)).0,10.$((i / 256)).$((i % 256)).255,$cc"
	i=$((i + 1))
done >"$tmp/all.csv"
"$GEOBLOCK" geoip load --force "$tmp/all.csv" >/dev/null || fail "geoip load of every code"
quiet() { "$@" >/dev/null; }
stats_pair() { # MEETING CC: packets of the pair in stats --json (0 when not listed)
	"$GEOBLOCK" stats --json | jq -r --arg m "$1" --arg c "$2" \
		'[.drops[] | select(.meeting == $m and .country == $c) | .packets] | add // 0'
}

# 65,535 counters: 96 meetings blocking all 676 codes take 64,896, leaving 639.
for i in $(seq 1 96); do
	"$GEOBLOCK" meeting add "all$i" --ports $((10000 + i)) --block "$all" >/dev/null ||
		fail "meeting add all$i"
done
check_eq "96 meetings of 676 countries" 96 "$("$GEOBLOCK" meeting list --json | jq length)"
out=$("$GEOBLOCK" meeting add one-too-many --ports 11000 --block "$all" 2>&1)
check_eq "a meeting needing more counters than are free: refused" 2 "$?"
check_eq "in one line naming what is free" \
	'geoblock: meeting add: not enough free drop counters for meeting "one-too-many" (639 of 65535 free, one per blocked country); delete a meeting first' \
	"$out"
check_eq "and nothing of it is left" 96 "$("$GEOBLOCK" meeting list --json | jq length)"
check "a meeting of 600 countries still fits" \
	quiet "$GEOBLOCK" meeting add six-hundred --ports 11001 --block "$(echo "$all" | cut -d, -f1-600)"
out=$("$GEOBLOCK" meeting add two --ports 11002 --block "$(echo "$all" | cut -d, -f1-40)" 2>&1)
check_eq "then 39 are free, not 40" 2 "$?"
check "deleting a meeting frees its counters" quiet "$GEOBLOCK" meeting del all1
check "so the large meeting fits now" \
	quiet "$GEOBLOCK" meeting add one-too-many --ports 11000 --block "$all"

# apply refuses a rule set that needs more counters than exist, before changing anything, and
# --check says so.
"$GEOBLOCK" meeting list --json | jq -S . >"$tmp/before"
audited=$(wc -l <"$GEOBLOCK_STATE_DIR/audit.log")
for i in $(seq 1 97); do echo "meeting add big$i --ports $((30000 + i)) --block $all"; done >"$tmp/rules"
for how in --check ""; do
	"$GEOBLOCK" apply "$tmp/rules" $how >"$tmp/out" 2>"$tmp/err"
	check_eq "apply $how of more counters than exist: refused, exit 1" 1 "$?"
	check_eq "... saying why, nothing printed" \
		"geoblock: apply: $tmp/rules: the rule set needs 65572 drop counters (one per meeting and country it blocks); at most 65535 exist|" \
		"$(cat "$tmp/err")|$(cat "$tmp/out")"
done
check_eq "with nothing changed" "$(cat "$tmp/before")" "$("$GEOBLOCK" meeting list --json | jq -S .)"
# The same set as a saved rule set (a rules file edited by hand): restore leaves out the meeting
# that passes the counters, says so, and keeps the others.
mkdir -p "$tmp/st"
cp "$tmp/rules" "$tmp/st/rules"
GEOBLOCK_STATE_DIR=$tmp/st "$GEOBLOCK" restore --print >"$tmp/print" 2>"$tmp/err"
check_eq "restore --print of it: exit 2" 2 $?
check "... naming the meeting left out" \
	grep -q 'meeting "big97" does not fit.*65535 drop counters' "$tmp/err"
check_eq "... printing the 96 that fit" 96 "$(grep -c '^meeting add big' "$tmp/print")"
# One that fits, but not beside the meetings it changes (make-before-break): 39 counters free,
# and a meeting of 676 countries moved to another port and switched to monitor (a new version;
# a move alone is made in place, needing no room: checked after).
"$GEOBLOCK" restore --print | grep -v '^#' | sed 's/--ports 10002 /--ports 10902 --monitor /' \
	>"$tmp/rules"
check "the file changes one meeting" grep -q -- "--ports 10902 --monitor " "$tmp/rules"
for how in --check ""; do
	"$GEOBLOCK" apply "$tmp/rules" $how >"$tmp/out" 2>"$tmp/err"
	check_eq "apply $how of a switch without room for it: exit 2" 2 "$?"
	check "... saying what is short: $(cat "$tmp/err")" grep -q "not enough free meeting slots, drop counters, exception entries or ufrag slots to switch every meeting without a gap (drop counters: 676 needed, 39 free); nothing changed" "$tmp/err"
	check_eq "... nothing printed" "" "$(cat "$tmp/out")"
done
check_eq "with nothing changed" "$(cat "$tmp/before")" "$("$GEOBLOCK" meeting list --json | jq -S .)"
check_eq "and nothing audited" "$audited" "$(wc -l <"$GEOBLOCK_STATE_DIR/audit.log")"
# The same change through the API's PUT: refused before anything changes, saying what is short.
SOCK=$tmp/api.sock
api_daemon "$SOCK"
body=$(jq -nc --arg all "$all" '{ports: [10902], block: ($all | split(",")), mode: "monitor"}')
out=$(curl -s --unix-socket "$SOCK" -X PUT -w '\n%{http_code}' --data-binary "$body" \
	http://geoblock/v1/meetings/all2)
check_eq "PUT of a switch without room for it: 500, what is short" \
	'500 meeting "all2": not enough free meeting slots, drop counters, exception entries or ufrag slots to switch every meeting without a gap (drop counters: 676 needed, 39 free); nothing changed' \
	"$(tail -n1 <<<"$out") $(head -n1 <<<"$out" | jq -r .error | sed 's/ (apply in two steps.*//')"
check_eq "... with nothing changed" "$(cat "$tmp/before")" "$("$GEOBLOCK" meeting list --json | jq -S .)"
kill_child "$pid"
# The move alone: made in place (the meeting keeps its id and counters), so it needs no room.
id2=$("$GEOBLOCK" meeting list --json | jq '.[] | select(.name == "all2") | .id')
sed -i 's/--ports 10902 --monitor /--ports 10902 /' "$tmp/rules"
"$GEOBLOCK" apply "$tmp/rules" >"$tmp/out" 2>"$tmp/err"
rc=$? others=$(($(grep -c . "$tmp/rules") - 1))
check_eq "apply of the move alone, without room for a second version: done in place" \
	"0 applied: 0 added, 1 changed, 0 switched mode, 0 deleted, $others unchanged" \
	"$rc $(tail -1 "$tmp/out")"
check_eq "... the meeting on its new port, its id kept" "10902 $id2" \
	"$("$GEOBLOCK" meeting list --json | jq -r '.[] | select(.name == "all2") | "\(.ports | join(",")) \(.id)"')"

# Counter reuse: write a count into the counter a meeting holds, delete it, add another meeting
# blocking the same country; it gets a counter back, which must read zero.
for n in $("$GEOBLOCK" meeting list --json | jq -r '.[].name'); do "$GEOBLOCK" meeting del "$n" >/dev/null; done
"$GEOBLOCK" meeting add first --ports 5000 --block DE >/dev/null || fail "meeting add first"
dc=$(bpftool -j map dump pinned "$GEOBLOCK_PIN_DIR/drop_slot" | jq '[.[] | .formatted.value.slot |
	select(. != null) | map(select(. != 0))[]] | first')
check "the meeting holds one counter" test "$dc" -gt 0
bpftool map update pinned "$GEOBLOCK_PIN_DIR/drop_counts" key $(printf '0x%02x 0x%02x 0 0' $((dc & 255)) $((dc >> 8))) \
	value 7 0 0 0 0 0 0 0 100 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 || fail "bpftool update"
ncpu=$(bpftool -j map lookup pinned "$GEOBLOCK_PIN_DIR/drop_counts" key $(printf '0x%02x 0x%02x 0 0' $((dc & 255)) $((dc >> 8))) | jq '.values | length')
check_eq "stats shows what the counter holds" $((7 * ncpu)) "$(stats_pair first DE)"
"$GEOBLOCK" meeting del first >/dev/null || fail "meeting del first"
"$GEOBLOCK" meeting add second --ports 5000 --block DE >/dev/null || fail "meeting add second"
dc2=$(bpftool -j map dump pinned "$GEOBLOCK_PIN_DIR/drop_slot" | jq '[.[] | .formatted.value.slot |
	select(. != null) | map(select(. != 0))[]] | first')
check_eq "the freed counter is taken again" "$dc" "$dc2"
check_eq "and starts at zero" 0 "$(stats_pair second DE)"

# A meeting holding no counter (pins kept from a geoblock that counted drops in a hash) gets its
# counters with the next change.
id=$(bpftool -j map dump pinned "$GEOBLOCK_PIN_DIR/meeting_policy" |
	jq '[.[] | select(.formatted.value.name == "second") | .formatted.key] | first')
bpftool map update pinned "$GEOBLOCK_PIN_DIR/drop_slot" key $(printf '0x%02x 0 0 0' "$id") \
	value $(printf '0 %.0s' $(seq 1 1360)) || fail "bpftool update drop_slot"
held() { bpftool -j map lookup pinned "$GEOBLOCK_PIN_DIR/drop_slot" key $(printf '0x%02x 0 0 0' "$id") |
	jq '[.formatted.value.slot[] | select(. != 0)] | length'; }
check_eq "simulated: the meeting holds no counter" 0 "$(held)"
"$GEOBLOCK" meeting add third --ports 5002 --block FR >/dev/null || fail "meeting add third"
check_eq "the next change gives it one per blocked country" 1 "$(held)"
summary
