#!/usr/bin/env bash
# A saved rule set damaged by hand or by the disk (a line that does not parse, a NUL byte, a
# meeting whose name, port or ufrag clashes with one before it, a logged change that does not
# parse) does not leave every meeting unenforced after a reboot: `restore` puts back every meeting
# it can read, names each line it leaves out, keeps the files as they were beside them
# (rules.damaged-STAMP, rules.log.damaged-STAMP), writes the rest as the saved set and exits 2;
# `restore --print` prints what restore puts back, the left-out lines as comments, and exits 2.
# The next restore reads the saved set whole and exits 0. `apply` still refuses a bad file whole.
# A rules file appended to itself gives back each meeting once.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
SD=$GEOBLOCK_STATE_DIR
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

names() { "$GEOBLOCK" meeting list --json | jq -r '[.[].name] | sort | join(" ")'; }
reboot() { rm -rf "$GEOBLOCK_PIN_DIR"; }

# The saved set: a rules file written by apply, then changes in the log.
cat >"$tmp/set" <<'EOF'
meeting add alpha --ports 5001 --block DE
meeting add bravo --ports 5002 --block FR
meeting add charlie --ports 5003 --block US --ufrag chaRlie1
meeting add delta --ports 5004 --block JP
EOF
check "apply writes the rules file" "$GEOBLOCK" apply "$tmp/set"
check "echo is logged" "$GEOBLOCK" meeting add echo --ports 5005 --block CN
check "foxtrot is logged" "$GEOBLOCK" meeting add foxtrot --ports 5006 --block BR
check "the rules file is there" test -s "$SD/rules"
check "the log holds the changes since" grep -q "put meeting add foxtrot" "$SD/rules.log"

# Damage: bravo's line misspelt, a NUL byte in delta's, and three lines added by hand whose
# name, port or ufrag is an earlier meeting's.
sed -i 's/^meeting add bravo --ports 5002 --block FR$/meeting add bravo --ports 5002 --blok FR/' \
	"$SD/rules"
sed -i 's/^meeting add delta \(.*\)$/meeting add delta\x00 \1/' "$SD/rules"
{
	echo "meeting add golf --ports 5001 --block IT"
	echo "meeting add alpha --ports 5007 --block IT"
	echo "meeting add hotel --ports 5008 --block IT --ufrag chaRlie1"
	echo "meeting add india --ports 5009 --block IT"
} >>"$SD/rules"
# A logged change whose record is whole (its CRC right) but whose line does not parse.
seq=$(($(tail -n 1 "$SD/rules.log" | cut -d' ' -f1) + 1))
body="put meeting add juliet --ports 5010 --block IT --colour red"
crc=$(/usr/bin/python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(sys.argv[1].encode()))' \
	"$seq $body")
printf '%s %s %s\n%s %s done\n' "$seq" "$crc" "$body" $((seq + 1)) \
	"$(/usr/bin/python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(sys.argv[1].encode()))' \
		"$((seq + 1)) done")" >>"$SD/rules.log"
cp "$SD/rules" "$tmp/rules.damaged"
cp "$SD/rules.log" "$tmp/rules.log.damaged"
want="alpha charlie echo foxtrot india"

reboot
# A change before the restore puts the saved set back first, strictly: refused, pointing there.
"$GEOBLOCK" meeting add lima --ports 5012 --block IT >/dev/null 2>"$tmp/change.err"
check_eq "a change before the restore: exit 2" 2 $?
check "... naming the line and restore" grep -qF "$SD/rules line 4: unknown option \"--blok\"; see -h (the saved rule set is damaged: 'geoblock restore' puts back what it can read)" "$tmp/change.err"
check "... changing nothing" cmp -s "$tmp/rules.damaged" "$SD/rules"
"$GEOBLOCK" restore --print >"$tmp/print" 2>"$tmp/print.err"
check_eq "restore --print: exit 2" 2 $?
check_eq "restore --print: the meetings restore puts back" "$want" \
	"$(grep '^meeting add' "$tmp/print" | cut -d' ' -f3 | sort | xargs)"
check_eq "restore --print: six left out, as comments" 6 "$(grep -c '^# left out: ' "$tmp/print")"
check_eq "restore --print: each said on stderr" 6 "$(grep -c 'warning: left out: ' "$tmp/print.err")"
check "restore --print: changes nothing" cmp -s "$tmp/rules.damaged" "$SD/rules"
check "restore --print: apply takes its output" "$GEOBLOCK" apply --check "$tmp/print"

"$GEOBLOCK" restore >"$tmp/out" 2>"$tmp/err"
check_eq "restore: exit 2" 2 $?
check_eq "restore: every meeting it could read is back" "$want" "$(names)"
for what in 'line 4: unknown option "--blok"' 'line 6: a NUL byte' \
	'line 7: port 5001 already belongs to meeting "alpha" (line 3)' \
	'line 8: meeting "alpha" is already defined on line 3' \
	'line 9: ufrag chaRlie1 already belongs to meeting "charlie" (line 5)' \
	"change $seq: unknown option \"--colour\""; do
	check "restore: names $what" grep -qF "$what" "$tmp/err"
done
check "restore: says how many were left out" grep -q "6 lines of the saved rule set left out" \
	"$tmp/err"
stamp=$(sed -n 's|.*rules as it was is kept as .*/rules\.damaged-\([0-9TZ]*\)$|\1|p' "$tmp/out")
check "restore: names the copy" test -n "$stamp"
check "restore: the rules file as it was is kept" cmp -s "$tmp/rules.damaged" \
	"$SD/rules.damaged-$stamp"
check "restore: the log as it was is kept" cmp -s "$tmp/rules.log.damaged" \
	"$SD/rules.log.damaged-$stamp"
check "restore: the rules file is written anew" grep -q "written anew from what could be read" \
	"$tmp/out"
check "restore: audited" grep -q '"command":"restore"' "$SD/audit.log"

# The saved set is whole again: read as it is, the next restore and changes work.
"$GEOBLOCK" restore --print >"$tmp/print2" 2>&1
check_eq "restore --print after: exit 0" 0 $?
check_eq "restore --print after: nothing left out" 0 "$(grep -c 'left out' "$tmp/print2")"
reboot
"$GEOBLOCK" restore >"$tmp/out2" 2>&1
check_eq "second restore after a reboot: exit 0" 0 $?
check_eq "second restore: the same meetings" "$want" "$(names)"
check "a change after it" "$GEOBLOCK" meeting add kilo --ports 5011 --block IT
check_eq "restore changes nothing more" 0 "$("$GEOBLOCK" restore >/dev/null 2>&1; echo $?)"
check_eq "meetings" "$want kilo" "$(names)"

# apply is not restore: a file with a bad line is refused whole, nothing changed.
"$GEOBLOCK" apply "$tmp/rules.damaged" 2>/dev/null
check_eq "apply refuses the damaged file: exit 1 (bad input, not a crash)" 1 $?
check_eq "apply changed nothing" "$want kilo" "$(names)"

# A rules file appended to itself (every meeting twice, a clash per meeting) and a Janus room
# given to a meeting added by hand: each meeting restored once, the copies left out.
for i in $(seq 1 400); do
	echo "meeting add m$i --ports $((20000 + i)) --block DE$( ((i == 1)) && echo ' --janus-room 77')"
done >"$tmp/many"
check "apply 400 meetings" "$GEOBLOCK" apply "$tmp/many"
cat "$SD/rules" "$SD/rules" >"$tmp/twice"
echo "meeting add late --ports 30000 --block FR --janus-room 77" >>"$tmp/twice"
cp "$tmp/twice" "$SD/rules"
# Copies kept before, under the names this restore's would have in the next minute: kept. Every
# second from one reading of the clock (one reading per name skipped the second the clock turned
# at while they were made, which the restore could then have).
now=$(date +%s)
for d in $(seq 0 59); do
	echo kept >"$SD/rules.damaged-$(date -u -d "@$((now + d))" +%Y%m%dT%H%M%SZ)"
done
reboot
"$GEOBLOCK" restore >"$tmp/out3" 2>"$tmp/err3"
check_eq "appended to itself: exit 2" 2 $?
check_eq "appended to itself: 400 meetings, each once" 400 \
	"$("$GEOBLOCK" meeting list --json | jq '[.[].name] | unique | length')"
check_eq "appended to itself: 401 lines left out" 401 "$(grep -c 'warning: left out: ' "$tmp/err3")"
l1=$(grep -n "^meeting add m1 " "$tmp/twice" | head -1 | cut -d: -f1)
check "appended to itself: the copy named as such" grep -qF \
	"line $((l1 + 402)): meeting \"m1\" is already defined on line $l1" "$tmp/err3"
check "a room of an earlier meeting: named" grep -qF \
	"line 805: Janus room 77 already belongs to meeting \"m1\"" "$tmp/err3"
check_eq "a copy kept before is not written over" 60 \
	"$(grep -lx kept "$SD"/rules.damaged-* | wc -l)"
check "... this restore's named apart" grep -q "rules as it was is kept as .*/rules\.damaged-[0-9TZ]*-2$" \
	"$tmp/out3"
check "this restore's copy is the file as it was" cmp -s "$tmp/twice" \
	"$SD/rules.damaged-$(sed -n 's|.*rules as it was is kept as .*/rules\.damaged-\(.*\)$|\1|p' "$tmp/out3")"
# log_line SEQ BODY: a record of rules.log as geoblock writes it (its CRC right).
log_line() {
	printf '%s %s %s\n' "$1" "$(/usr/bin/python3 -c 'import sys, zlib; print("%08x" % zlib.crc32(sys.argv[1].encode()))' "$1 $2")" "$2"
}
last_seq() { tail -n 1 "$SD/rules.log" | cut -d' ' -f1; }
fresh() { # a saved set of alpha (5001) and bravo (5002), in the rules file; the log empty
	rm -rf "$GEOBLOCK_PIN_DIR" "$SD"/rules* 
	printf 'meeting add alpha --ports 5001 --block DE\nmeeting add bravo --ports 5002 --block FR\n' \
		>"$tmp/two"
	"$GEOBLOCK" apply "$tmp/two" >/dev/null 2>&1
}

# A logged change (CRC right) whose port an earlier meeting holds: left out, not a set with two
# owners of one port.
fresh
n=$(($(sed -n 's/^# through change //p' "$SD/rules") + 1))
{ log_line $n "put meeting add foxtrot --ports 5001 --block RU"; log_line $((n + 1)) done; } \
	>>"$SD/rules.log"
reboot
"$GEOBLOCK" restore >"$tmp/out4" 2>"$tmp/err4"
check_eq "a logged change clashing: exit 2" 2 $?
check "... named as a logged change" grep -qF "rules.log: meeting \"foxtrot\" (a logged change): port 5001 already belongs to meeting \"alpha\" (line 3)" "$tmp/err4"
check_eq "... the file's meetings restored, alpha with its port" "alpha 5001 bravo 5002" \
	"$("$GEOBLOCK" meeting list --json | jq -r 'sort_by(.name)[] | "\(.name) \(.ports | join(","))"' | xargs)"
reboot
check_eq "... the next restore: exit 0" 0 "$("$GEOBLOCK" restore >/dev/null 2>&1; echo $?)"

# A record whose CRC does not match, with whole records after it: damage, not a crash's end. The
# change after it is kept; the one it broke (golf's "done") is named, with the change it ends.
fresh
check "golf is logged" "$GEOBLOCK" meeting add golf --ports 5003 --block RU
check "hotel is logged" "$GEOBLOCK" meeting add hotel --ports 5004 --block RU
l=$(($(grep -n "put meeting add golf" "$SD/rules.log" | cut -d: -f1) + 1))
golf_seq=$(grep "put meeting add golf" "$SD/rules.log" | cut -d' ' -f1)
sed -i "${l}s/^\([0-9]*\) [0-9a-f]*/\1 deadbeef/" "$SD/rules.log"
check_eq "without a reboot: no change counts as interrupted" false \
	"$("$GEOBLOCK" status --json 2>/dev/null | jq .change_interrupted)"
check "without a reboot: a change works" "$GEOBLOCK" meeting add india --ports 5005 --block RU
check_eq "... and the live meetings stay" "alpha bravo golf hotel india" "$(names)"
"$GEOBLOCK" restore --print >/dev/null 2>"$tmp/err5"
check_eq "restore --print names the damaged line: exit 2" 2 $?
check "... as damaged, with the change it ends" grep -qF "line $l: damaged (its CRC does not match, and whole records follow it); change $golf_seq before it (meeting \"golf\"), whose \"done\" it may have been, goes with it" "$tmp/err5"
cp "$SD/rules.log" "$tmp/log5"
reboot
"$GEOBLOCK" restore >"$tmp/out5" 2>/dev/null
check_eq "after a reboot: exit 2" 2 $?
check_eq "... every change but the damaged one" "alpha bravo hotel india" "$(names)"
check "... the log as it was is kept" cmp -s "$tmp/log5" \
	"$SD/rules.log.damaged-$(sed -n 's|.*rules.log as it was is kept as .*/rules\.log\.damaged-\(.*\)$|\1|p' "$tmp/out5")"
reboot
check_eq "... the next restore: exit 0" 0 "$("$GEOBLOCK" restore >/dev/null 2>&1; echo $?)"
check_eq "... the same meetings" "alpha bravo hotel india" "$(names)"

# Damage among records the rules file holds already (a crash between writing it and emptying the
# log): nothing is lost, nothing said.
fresh
t=$(sed -n 's/^# through change //p' "$SD/rules")
{ log_line $((t - 1)) "put meeting add zulu --ports 5009 --block RU" | sed 's/^\([0-9]*\) [0-9a-f]*/\1 deadbeef/'
  log_line "$t" done; } >>"$SD/rules.log"
reboot
"$GEOBLOCK" restore >/dev/null 2>"$tmp/err8"
check_eq "damage the rules file holds: exit 0" 0 $?
check_eq "... nothing said" "" "$(grep 'left out' "$tmp/err8")"
check_eq "... the rules file's meetings" "alpha bravo" "$(names)"

# Restore with the maps in place (no reboot) and a damaged saved set: the maps are what was
# enforced; the saved set is written anew from them, the maps untouched.
fresh
check "juliet is logged" "$GEOBLOCK" meeting add juliet --ports 5006 --block RU
sed -i 's/^meeting add bravo .*/meeting add bravo --ports 5002 --blok FR/' "$SD/rules"
"$GEOBLOCK" restore >"$tmp/out6" 2>"$tmp/err6"
check_eq "pins in place, damaged set: exit 2" 2 $?
check "... said so" grep -q "1 line of the saved rule set left out (said above); the maps are kept, and saved as they are" "$tmp/err6"
check "... written anew from the maps" grep -q "written anew from the maps" "$tmp/out6"
check_eq "... every live meeting kept" "alpha bravo juliet" "$(names)"
check_eq "... and saved" "alpha bravo juliet" \
	"$("$GEOBLOCK" restore --print | grep '^meeting add' | cut -d' ' -f3 | sort | xargs)"

# A rules file emptied (no header): said, the log's changes restored, exit 2.
fresh
check "kilo is logged" "$GEOBLOCK" meeting add kilo --ports 5007 --block RU
: >"$SD/rules"
reboot
"$GEOBLOCK" restore >/dev/null 2>"$tmp/err7"
check_eq "an emptied rules file: exit 2" 2 $?
check "... said" grep -qF "rules line 1: not the header geoblock writes (emptied or cut short?)" "$tmp/err7"
check_eq "... the logged change restored" "kilo" "$(names)"

# A rules file cut short inside its last line, where the cut leaves a line that still parses
# (bravo without its --monitor): left out, not restored as another meeting.
rm -rf "$GEOBLOCK_PIN_DIR" "$SD"/rules*
printf 'meeting add alpha --ports 5001 --block DE\nmeeting add bravo --ports 5002 --block FR --monitor\n' \
	>"$tmp/two"
check "apply alpha, and bravo in monitor mode" quiet "$GEOBLOCK" apply "$tmp/two"
check_eq "... bravo's line ends the rules file, in monitor mode" "meeting add bravo --ports 5002 --block FR --monitor" \
	"$(tail -n 1 "$SD/rules")"
truncate -s -11 "$SD/rules"
reboot
"$GEOBLOCK" restore >/dev/null 2>"$tmp/err9"
check_eq "a rules file cut short in its last line: exit 2" 2 $?
check "... the line named as cut short" grep -qF "rules line 4: cut short (no newline at its end)" \
	"$tmp/err9"
check_eq "... the rest restored, bravo not enforcing" "alpha" "$(names)"
summary
