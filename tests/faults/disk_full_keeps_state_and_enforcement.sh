#!/usr/bin/env bash
# Disk full for the state dir and audit log (tiny tmpfs, in a private mount namespace so the host
# is untouched): with the disk full, meeting add is repeated until the change log's last page is
# full too; the change that no longer fits fails with a clear error and no crash and changes
# nothing (its intent, or its "done", cut short: cut from the log and undone in the maps), and
# a later add, set and del either work whole or fail the same way; a change made while only the
# audit log is full fails saying it was made but not audited; a failed change is audited as
# failed while the audit log has room, every audit line stays whole JSON, the saved rule set
# (`restore --print`) always equals what the maps hold, and the filter keeps dropping. A meeting
# with Janus rooms whose rooms file cannot be written: an add, and a replace (the API's PUT), are
# undone; a delete is done, with one warning that its rooms stay recorded.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

faults_geoip "$tmp" || { fail "GeoIP data"; summary; exit; }
faults_testbed "fs$$" || { fail "testbed"; summary; exit; }

# The namespace's part: prints "name rc lines first-error-line" per step, then the files. The audit
# log is a file of a second tmpfs bound over the state dir's audit.log, so the state dir can be
# full while the audit log has room (phase a), then both full (phase b).
cat >"$tmp/inner.sh" <<'INNER'
mount -t tmpfs -o size=4m tmpfs "$GEOBLOCK_STATE_DIR" || exit 9
mkdir "$TMP/auditfs" && mount -t tmpfs -o size=1m tmpfs "$TMP/auditfs" || exit 9
touch "$TMP/auditfs/audit.log" "$GEOBLOCK_STATE_DIR/audit.log" &&
	mount --bind "$TMP/auditfs/audit.log" "$GEOBLOCK_STATE_DIR/audit.log" || exit 9
step() {
	local n=$1; shift
	"$@" >/dev/null 2>"$TMP/err"
	echo "$n $? $(wc -l <"$TMP/err") $(head -1 "$TMP/err")"
	echo "err2-$n $(sed -n 2p "$TMP/err")"
}
list() { "$GEOBLOCK" meeting list --json | jq -c '[.[] | {name, mode, ports, block}]'; }
step load "$GEOBLOCK" geoip load "$TMP/a.csv"
step add1 "$GEOBLOCK" meeting add board --ports 8801 --block DE
step addr "$GEOBLOCK" meeting add rooms --ports 8806 --block DE --janus-room 1234
step addk2 "$GEOBLOCK" meeting add keep --ports 8808 --block DE --janus-room 77
# A daemon serving the API, for a replace (PUT) while the disk is full.
"$GEOBLOCK" daemon --api "$TMP/api.sock" --metrics 127.0.0.1:0 >"$TMP/daemon.out" 2>&1 &
dpid=$!
trap 'kill $dpid 2>/dev/null' EXIT
# (A file test, not arithmetic: in (( )) "! -S ..." stopped the loop at once, waiting for nothing.)
for ((i = 0; i < 100; i++)); do [[ -S $TMP/api.sock ]] && break; sleep 0.1; done
list() { "$GEOBLOCK" meeting list --json | jq -c '[.[] | {name, mode, ports, block}] | sort_by(.name)'; }
# Whether the saved rule set (as restore would put it back) is what the maps hold.
saved() {
	local out
	"$GEOBLOCK" restore --print >"$TMP/saved.rules" || { echo no; return; }
	out=$("$GEOBLOCK" apply "$TMP/saved.rules" --check 2>&1) || { echo no; return; }
	grep -qE '^[-+]' <<<"$out" && echo no || echo yes
}
echo "list-before $(list)"
head -c 10M /dev/zero >"$GEOBLOCK_STATE_DIR/filler" 2>/dev/null
# A meeting with Janus rooms, changed while the log's page still has room: the rooms file cannot
# be written. A replace (of its room too) and an add are undone, a delete is done (its rooms stay,
# free to others).
for c in setr addr2 delr; do
	before=$(list)
	case $c in
	setr)
		curl -s --unix-socket "$TMP/api.sock" -X PUT -o "$TMP/err" -w '%{http_code}' \
			-d '{"ports":[8806],"block":["FR"],"janus_rooms":[1235]}' \
			http://geoblock/v1/meetings/rooms >"$TMP/code"
		echo "setr $(cat "$TMP/code") $(jq -r .error "$TMP/err")"
		kill $dpid && wait $dpid
		dpid=	# gone: the trap has nothing to stop
		echo "rollback-setr $(grep -c 'putting meeting\|cannot make the maps' "$TMP/daemon.out")"
		;;
	addr2) step $c "$GEOBLOCK" meeting add rooms2 --ports 8807 --block DE --janus-room 99 ;;
	delr) step $c "$GEOBLOCK" meeting del rooms ;;
	esac
	echo "same-$c $([[ $before == "$(list)" ]] && echo yes || echo no)"
	echo "saved-$c $(saved)"
done
# fill PHASE: adds meetings until one fails (the log's page is full), prints that one's step.
fill() {
	local i base=9000
	[[ $1 == b ]] && base=9300
	for ((i = 1; i <= 200; i++)); do
		before=$(list)
		"$GEOBLOCK" meeting add "f$1$i" --ports $((base + i)) --block FR --reason "fill$1" >/dev/null 2>"$TMP/err"
		rc=$?
		((rc == 0)) && continue
		echo "fill$1 $rc $(wc -l <"$TMP/err") $(head -1 "$TMP/err")"
		echo "err2-fill$1 $(sed -n 2p "$TMP/err")"
		echo "name-fill$1 f$1$i"
		echo "same-fill$1 $([[ $before == "$(list)" ]] && echo yes || echo no)"
		echo "saved-fill$1 $(saved)"
		return
	done
	echo "fill$1 never failed"
}
fill a
# Whatever fits in the page's rest works whole, the rest fails as above: saved equals maps. (Of
# meetings fill made: board keeps filtering.)
for s in set del; do
	if [[ $s == set ]]; then step seta "$GEOBLOCK" meeting set fa2 --monitor --reason seta
	else step dela "$GEOBLOCK" meeting del fa1 --reason dela; fi
	echo "saved-${s}a $(saved)"
done
# Refilled with one record of 3,996 bytes: 100 left in its page, so the next record is written
# in part before the audit log is full too (phase b).
cp "$GEOBLOCK_STATE_DIR/audit.log" "$TMP/audit.log" &&
	printf '{"pad":"%s"}\n' "$(head -c 3985 /dev/zero | tr '\0' x)" >"$GEOBLOCK_STATE_DIR/audit.log"
head -c 10M /dev/zero >"$TMP/auditfs/filler" 2>/dev/null
fill b
cp "$GEOBLOCK_STATE_DIR/audit.log" "$TMP/audit.b.log"
ls -a "$GEOBLOCK_STATE_DIR" >"$TMP/ls"
rm -f "$GEOBLOCK_STATE_DIR/filler"
# Room for the rules again, none for the audit log (phase k): the change is made, and said so.
step addk "$GEOBLOCK" meeting add fourth --ports 8804 --block FR
echo "list-addk $(list)"
echo "rules-addk $("$GEOBLOCK" restore --print | grep -c '^meeting add fourth ')"
rm -f "$TMP/auditfs/filler"
step add3 "$GEOBLOCK" meeting add third --ports 8803 --block FR
umount "$GEOBLOCK_STATE_DIR/audit.log"
umount "$TMP/auditfs"
umount "$GEOBLOCK_STATE_DIR"
INNER
TMP=$tmp GEOBLOCK=$GEOBLOCK unshare -m --propagation private bash "$tmp/inner.sh" >"$tmp/steps" 2>&1
cat "$tmp/steps"
row() { awk -v n="$1" '$1 == n' "$tmp/steps"; }
check_eq "load and add with room" "load 0 0 |add1 0 0 " "$(row load)|$(row add1)"
before=$(row list-before)
check "the rule set before: board" grep -q '"name":"board","mode":"enforce"' <<<"$before"
check_eq "add of a meeting with a Janus room" "addr 0 0 " "$(row addr)"
check_eq "add of a second one" "addk2 0 0 " "$(row addk2)"
read -r _ code msg <<<"$(row setr)"
check_eq "setr: a PUT replacing it fails on a full disk: 500" 500 "$code"
check_eq "setr: the error says why" 'cannot replace meeting "rooms": No space left on device' "$msg"
check_eq "setr: its rollback (rooms 1234 again) not said to fail" "rollback-setr 0" "$(row rollback-setr)"
for c in setr addr2; do
	read -r _ rc lines msg <<<"$(row $c)"
	if [[ $c == addr2 ]]; then
		check "$c: fails on a full disk (exit $rc)" test "${rc:-0}" -gt 0 -a "${rc:-0}" -lt 128
		check "$c: the error names the rooms file ($msg)" grep -q \
			"janus-rooms.*No space left on device" <<<"$msg"
	fi
	check_eq "$c: the maps hold the rule set as before it" "same-$c yes" "$(row same-$c)"
	check_eq "$c: the saved rule set is what the maps hold" "saved-$c yes" "$(row saved-$c)"
done
read -r _ rc lines msg <<<"$(row delr)"
check_eq "delr: done, one warning that the rooms stay recorded" "0 1" "$rc $lines"
check "delr: ... naming the rooms file ($msg)" grep -q 	'warning: meeting "rooms" deleted, but its Janus rooms stay in .*janus-rooms: No space' <<<"$msg"
check_eq "delr: the meeting is gone" "same-delr no" "$(row same-delr)"
check_eq "delr: the saved rule set is what the maps hold" "saved-delr yes" "$(row saved-delr)"
for ph in a b; do
	read -r _ rc lines msg <<<"$(row fill$ph)"
	check "fill$ph: an add on a full disk fails at last (exit $rc)" \
		test "${rc:-0}" -gt 0 -a "${rc:-0}" -lt 128
	check "fill$ph: the error names the change log and the full disk ($msg)" \
		grep -q "rules.log: No space left on device" <<<"$msg"
	check "fill$ph: the error says nothing changed ($msg)" grep -q 'nothing changed$' <<<"$msg"
	check_eq "fill$ph: the maps hold the rule set as before it" "same-fill$ph yes" "$(row same-fill$ph)"
	check_eq "fill$ph: the saved rule set is what the maps hold" "saved-fill$ph yes" \
		"$(row saved-fill$ph)"
	# Phase b: a second line says the audit log could not be written either.
	if [[ $ph == a ]]; then
		check_eq "fill$ph: one line of error" 1 "$lines"
	else
		check_eq "fill$ph: two lines of error" 2 "$lines"
		check "fill$ph: the second names the audit log" grep -q \
			"cannot append to the audit log .*: No space left on device" <<<"$(row err2-fill$ph)"
	fi
done
for s in seta dela; do
	read -r _ rc lines msg <<<"$(row $s)"
	check "$s: done, or failed saying nothing changed (exit $rc: $msg)" \
		test "$rc" = 0 -o "${msg%nothing changed}" != "$msg"
	check_eq "$s: the saved rule set is what the maps hold" "saved-$s yes" "$(row saved-$s)"
done
check "no temporary file left" test -z "$(grep '\.tmp$' "$tmp/ls")"
check "audit lines whole" audit_whole "$tmp/audit.log"
check_eq "with the audit log full too, nothing more in it (no part of a record)" 3996 \
	"$(wc -c <"$tmp/audit.b.log")"
check "and its lines whole" audit_whole "$tmp/audit.b.log"
# Phase a: the audit log had room, so the failed change is there, as failed, with the error.
name=$(row name-filla | cut -d' ' -f2)
check "filla audited once, as failed with the error" grep -q \
	"^failed: cannot write $GEOBLOCK_STATE_DIR/rules.log: No space left on device" <<<"$(
	jq -r --arg n "$name" 'select(.changes != null and (.changes | tostring | contains("add " + $n + " "))) | .result' \
		"$tmp/audit.log")"
check_eq "no failed change audited as ok" 0 \
	"$(jq -r 'select(.result != "ok" and .result != null and (.result | startswith("failed") | not))' "$tmp/audit.log" | wc -l)"
read -r _ rc lines msg <<<"$(row addk)"
check_eq "addk with a full audit log only: exit 2, one line" "2 1" "$rc $lines"
check_eq "addk: the error says the change was made" \
	"done, but not audited: cannot append to the audit log $GEOBLOCK_STATE_DIR/audit.log: No space left on device" \
	"${msg#geoblock: meeting add: }"
check "addk: the meeting is in the maps" grep -q '"name":"fourth"' <<<"$(row list-addk)"
check_eq "addk: and in the saved rule set" "rules-addk 1" "$(row rules-addk)"
check "filtered on a full disk" filtered 8801 "on a full disk"
check_eq "with room again, the next change works" "add3 0 0 " "$(row add3)"
check "the host's state dir is untouched by the tmpfs" test ! -e "$GEOBLOCK_STATE_DIR/filler"
summary
