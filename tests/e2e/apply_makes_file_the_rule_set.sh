#!/usr/bin/env bash
# `apply FILE`: the file becomes exactly the rule set, all or nothing. --check prints the difference
# and changes nothing; a bad line is refused with its line number and nothing changes; meetings
# that stay the same keep their counters (so does a switch of --monitor alone), changed meetings
# take effect on real traffic; an apply that died midway is rolled back by the next change; one
# that cannot be done without a gap is refused whole.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/scripts/testbed.sh"
TB_BIN=$BUILD/tests
COUNT=20
S=$GEOBLOCK_STATE_DIR

geoip_data || { fail "fetch databases"; summary; exit; }
DB=$GEOBLOCK_DATA_DIR/GeoLite2-Country.mmdb
check "geoip load" "$GEOBLOCK" geoip load "$DB.gz" >/dev/null
declare -A CC
for spec in "DE 4 41" "FR 4 41" "US 6 41"; do
	read -r cc fam seed <<<"$spec"
	CC[$("$TB_BIN/mmdb_ref" find "$DB" "$cc" "$fam" "$seed")]=$cc
done
CLIENTS=("${!CC[@]}")
for m in "keep 8801" "modeonly 8802" "changed 8803" "gone 8804"; do
	check "add ${m% *}" "$GEOBLOCK" meeting add ${m% *} --ports ${m#* } --block DE >/dev/null
done

testbed_up "gb$$" || { fail "testbed"; summary; exit; }
on_exit testbed_down
for a in "${CLIENTS[@]}"; do
	testbed_add_client "$a" || fail "add client $a"
done
check "attach" in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" >/dev/null
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
PORTS=8801,8802,8803,8804,8805
check "traffic before" send_and_count "$PORTS" 9999 "$COUNT" "$tmp/recv0" "${CLIENTS[@]}"
drops() { "$GEOBLOCK" stats --json | jq --arg m "$1" --arg c "$2" \
	'[.drops[] | select(.meeting == $m and .country == $c) | .packets] | add // 0'; }
for m in keep modeonly changed gone; do
	check_eq "before: $m dropped DE" "$COUNT" "$(drops $m DE)"
done
id_of() { "$GEOBLOCK" meeting list --json | jq --arg m "$1" '.[] | select(.name == $m) | .id'; }
keep_id=$(id_of keep)

cat >"$tmp/a.rules" <<'RULES'
# the rule set for this week

meeting add keep --ports 8801 --block DE
meeting add modeonly --ports 8802 --block de --monitor   # counting only, from now on
meeting add changed --ports 8803,8805 --block DE,FR --reason "FR too"
	meeting add fresh --ports 8804 --block US
RULES
# The rule set, its counters and the state dir (not the verdict totals: the veth carries stray
# IPv6 neighbour discovery now and then).
snapshot() {
	{
		"$GEOBLOCK" meeting list --json
		"$GEOBLOCK" stats --json | jq .drops
		saved_files
		cat "$S/audit.log"
		ls "$S"
	} 2>&1
}
before=$(snapshot)
"$GEOBLOCK" apply "$tmp/a.rules" --check >"$tmp/check.out" 2>&1
check_eq "--check succeeds" 0 $?
check_eq "--check prints the difference" "$(cat <<'DIFF'
- meeting add modeonly --ports 8802 --block DE
+ meeting add modeonly --ports 8802 --block DE --monitor
- meeting add changed --ports 8803 --block DE
+ meeting add changed --ports 8803,8805 --block DE,FR --reason 'FR too'
+ meeting add fresh --ports 8804 --block US
- meeting add gone --ports 8804 --block DE
check: valid; 1 to add, 1 to change, 1 to switch mode, 1 to delete, 1 unchanged
DIFF
)" "$(cat "$tmp/check.out")"
check_eq "--check changes nothing" "$before" "$(snapshot)"

# Refused files: the line is named, nothing changes.
refused_file() { # NAME MESSAGE TEXT
	printf '%s' "$3" >"$tmp/bad.rules"
	"$GEOBLOCK" apply "$tmp/bad.rules" >/dev/null 2>"$tmp/err"
	local rc=$?
	check_eq "$1: exit 1" 1 "$rc"
	check_eq "$1: one line naming it" "1 yes" "$(wc -l <"$tmp/err") $(grep -q -- "$2" "$tmp/err" && echo yes)"
	check_eq "$1: nothing changed" "$before" "$(snapshot)"
}
refused_file "bad port on line 3" "bad.rules line 3: \"88o1\" is not a port" \
	$'meeting add a --ports 1 --block DE\n# x\nmeeting add b --ports 88o1 --block DE\n'
refused_file "port shared with line 1" "line 2: port 5 already belongs to meeting \"a\" (line 1)" \
	$'meeting add a --ports 1-9 --block DE\nmeeting add b --ports 5 --block FR\n'

check "apply" "$GEOBLOCK" apply "$tmp/a.rules" --reason "weekly rules" >"$tmp/apply.out"
check_eq "apply summary" "applied: 1 added, 1 changed, 1 switched mode, 1 deleted, 1 unchanged" \
	"$(tail -1 "$tmp/apply.out")"
check_eq "the rule set is exactly the file" "$(cat <<'SET'
meeting add changed --ports 8803,8805 --block DE,FR
meeting add fresh --ports 8804 --block US
meeting add keep --ports 8801 --block DE
meeting add modeonly --ports 8802 --block DE --monitor
SET
)" "$(saved_rules | sort)"
check_eq "unchanged meeting kept its slot" "$keep_id" "$(id_of keep)"
check_eq "unchanged meeting kept its counters" "$COUNT" "$(drops keep DE)"
check_eq "mode switch kept its counters" "$COUNT" "$(drops modeonly DE)"
check_eq "changed meeting starts new counters" 0 "$(drops changed DE)"
last=$(tail -1 "$S/audit.log")
check_eq "audit: reason" "weekly rules" "$(jq -r .reason <<<"$last")"
check_eq "audit: result" ok "$(jq -r .result <<<"$last")"
check_eq "audit: the changes" 6 "$(jq '.changes | length' <<<"$last")"

check "traffic after apply" send_and_count "$PORTS" 9999 "$COUNT" "$tmp/recv1" "${CLIENTS[@]}"
dropped() { # CC PORT
	case $2 in
	8801) [[ $1 == DE ]] ;;
	8802) false ;;
	8803 | 8805) [[ $1 == DE || $1 == FR ]] ;;
	8804) [[ $1 == US ]] ;;
	esac
}
for a in "${CLIENTS[@]}"; do
	for p in ${PORTS//,/ }; do
		got=$(awk -v s="$a" -v p="$p" '$1 == s && $2 == p { print $3 }' "$tmp/recv1")
		if dropped "${CC[$a]}" "$p"; then
			check_eq "after apply: ${CC[$a]} -> $p dropped" "" "$got"
		else
			check_eq "after apply: ${CC[$a]} -> $p arrived" "$COUNT" "$got"
		fi
	done
done

# The same file again: nothing to do, every counter stays.
c1=$(drops keep DE)
check_eq "re-apply: nothing to do" "applied: 0 added, 0 changed, 0 switched mode, 0 deleted, 4 unchanged" \
	"$("$GEOBLOCK" apply "$tmp/a.rules" | tail -1)"
check_eq "re-apply keeps counters" "$c1" "$(drops keep DE)"

# A relative --expires (a file applied again and again by config management): the expiry moves,
# in place, a change that keeps the meeting's slot and counters; so with its mode too.
expiry_of() { "$GEOBLOCK" meeting list --json | jq -r '.[] | select(.name == "keep") | .expires'; }
for a in "${CLIENTS[@]}"; do [[ ${CC[$a]} == DE ]] && de=$a; done
for step in "--expires 8h|1 changed, 0 switched mode|dropped" \
	"--expires 9h --monitor|1 changed, 0 switched mode|monitor" \
	"|1 changed, 0 switched mode|dropped"; do
	opts=${step%%|*} rest=${step#*|}
	sed "s/^meeting add keep --ports 8801 --block DE\$/& $opts/" "$tmp/a.rules" >"$tmp/exp.rules"
	before_exp=$(expiry_of)
	check_eq "keep ${opts:-without --expires}: in place" \
		"applied: 0 added, ${rest%|*}, 0 deleted, 3 unchanged" \
		"$("$GEOBLOCK" apply "$tmp/exp.rules" | tail -1)"
	check "keep ${opts:-without --expires}: its expiry changed ($before_exp, then $(expiry_of))" \
		test "$before_exp" != "$(expiry_of)"
	check_eq "keep ${opts:-without --expires}: same slot" "$keep_id" "$(id_of keep)"
	check_eq "keep ${opts:-without --expires}: counters kept" "$c1" "$(drops keep DE)"
	check_eq "keep ${opts:-without --expires}: the data path judges by it" "${rest##*|}" \
		"$("$GEOBLOCK" explain "$de" 8801 --json | jq -r .verdict)"
done

# A change that died midway (its intent logged and made in the maps, its "done" never written):
# the next change rolls the maps back to the saved rule set, audited.
check "a change the crash interrupted" "$GEOBLOCK" meeting add extra --ports 9100 --block FR >/dev/null
check "its done is the log's last line" change_under_way_not
sed -i '$d' "$S/rules.log"
# Until then, what reads the maps says the set may be mixed; not while a change holds the lock.
interrupted="geoblock: meeting list: warning: a change of the rule set died midway and is not rolled back yet: the maps may hold the old and the new version of a meeting (the next change, or geoblock restore, puts back the saved rule set)"
"$GEOBLOCK" meeting list --json >"$tmp/out" 2>"$tmp/err"
check_eq "meeting list after the crash: warned" "0 $interrupted" "$? $(cat "$tmp/err")"
check "... its --json still JSON" jqe . "$tmp/out" >/dev/null
for c in "stats" "explain 192.0.2.1 9100" "check keep 192.0.2.1" "status --json"; do
	# shellcheck disable=SC2086
	"$GEOBLOCK" $c >/dev/null 2>"$tmp/err"
	check "$c after the crash: warned" grep -q "warning: a change of the rule set died midway" "$tmp/err"
done
check "status says so" eval '"$GEOBLOCK" status 2>/dev/null | grep -q "^change: *one died midway, not rolled back yet"'
check_eq "status --json says so" true "$("$GEOBLOCK" status --json 2>/dev/null | jq .change_interrupted)"
check_eq "not while a change holds the state lock" "" \
	"$(flock "$S/lock" "$GEOBLOCK" meeting list 2>&1 >/dev/null)"
"$GEOBLOCK" meeting set modeonly --monitor >"$tmp/out" 2>"$tmp/err"
check_eq "next change succeeds" 0 $?
check_eq "then nothing to warn of" "" "$("$GEOBLOCK" meeting list 2>&1 >/dev/null)"
check_eq "status --json: nothing interrupted" false \
	"$("$GEOBLOCK" status --json 2>/dev/null | jq .change_interrupted)"
check "it says it rolled back" grep -q "interrupted change was rolled back" "$tmp/err"
check_eq "the interrupted meeting is gone" "changed fresh keep modeonly" \
	"$("$GEOBLOCK" meeting list --json | jq -r '[.[].name] | sort | join(" ")')"
check "no change is under way any more" change_under_way_not
check_eq "recovery audited" "recover - meeting add extra --ports 9100 --block FR" \
	"$(grep '"command":"recover"' "$S/audit.log" | tail -1 | jq -r '"\(.command) \(.changes[0])"')"

# Refused whole: switching 40000 IPv4 exceptions for 40000 others needs both sets in the trie at
# once (make-before-break), more than it holds.
allow_list() { awk -v b="$1" 'BEGIN { for (i = 0; i < 40000; i++) printf "%s%d.%d.%d.0/24", i ? "," : "", b, int(i / 256), i % 256 }'; }
echo "meeting add big --ports 9200 --block DE --allow $(allow_list 10)" >"$tmp/big1.rules"
echo "meeting add big --ports 9200 --block DE --allow $(allow_list 11)" >"$tmp/big2.rules"
check "apply 40000 exceptions" "$GEOBLOCK" apply "$tmp/big1.rules" >/dev/null
check_eq "40000 exceptions listed" 40000 "$("$GEOBLOCK" meeting list --json | jq '.[0].allow | length')"
before=$(snapshot | grep -v '^{"time"')
audited=$(wc -l <"$S/audit.log")
"$GEOBLOCK" apply "$tmp/big2.rules" --check >"$tmp/out" 2>"$tmp/err"
check_eq "apply --check of too big a switch: exit 2" 2 $?
check "... it says why" grep -q "not enough free meeting slots, drop counters, exception entries or ufrag slots" "$tmp/err"
"$GEOBLOCK" apply "$tmp/big2.rules" >"$tmp/out" 2>"$tmp/err"
check_eq "too big a switch fails" 2 $?
check "it says why" grep -q "not enough free meeting slots, drop counters, exception entries or ufrag slots" "$tmp/err"
check_eq "before printing a change" "" "$(cat "$tmp/out")"
check_eq "and changed nothing" "$before" "$(snapshot | grep -v '^{"time"')"
check_eq "refused before any change: nothing audited" "$audited" "$(wc -l <"$S/audit.log")"

check "apply an empty file" "$GEOBLOCK" apply <(echo "# nothing") >/dev/null
check_eq "no meetings left" 0 "$("$GEOBLOCK" meeting list --json | jq length)"
check_eq "no exceptions left in the trie" 0 "$(bpftool -j map dump pinned "$GEOBLOCK_PIN_DIR/allow_v4" | jq length)"
summary
