#!/usr/bin/env bash
# Disk full for the state dir and audit log (tiny tmpfs, in a private mount namespace so the host
# is untouched): meeting add, set and del fail with a clear error and no crash and change nothing,
# whether the rules file cannot be written or not even the journal written before the change; a
# change made while only the audit log is full fails saying it was made but not audited
# (the maps hold the rule set as before, the rules file stays whole and as it was), a failed
# change is audited as failed while the audit log has room, every audit line stays whole JSON,
# and the filter keeps dropping.
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
cp "$GEOBLOCK_STATE_DIR/rules" "$TMP/rules.before"
echo "list-before $(list)"
# One page left: the journal of a change fits, the rules file does not (phases a and b).
head -c 4096 /dev/zero >"$GEOBLOCK_STATE_DIR/spare"
head -c 10M /dev/zero >"$GEOBLOCK_STATE_DIR/filler" 2>/dev/null
rm "$GEOBLOCK_STATE_DIR/spare"
for phase in a b; do
	if [[ $phase == b ]]; then
		# Refilled with one record of 3,996 bytes: 100 left in its page, so the next record
		# is written in part before the disk is full.
		cp "$GEOBLOCK_STATE_DIR/audit.log" "$TMP/audit.log" &&
			printf '{"pad":"%s"}\n' "$(head -c 3985 /dev/zero | tr '\0' x)" >"$GEOBLOCK_STATE_DIR/audit.log"
		head -c 10M /dev/zero >"$TMP/auditfs/filler" 2>/dev/null
	fi
	step add2$phase "$GEOBLOCK" meeting add other --ports 8802 --block FR --reason "add2$phase"
	echo "list-add2$phase $(list)"
	step set$phase "$GEOBLOCK" meeting set board --monitor --reason "set$phase"
	echo "list-set$phase $(list)"
	step del$phase "$GEOBLOCK" meeting del board --reason "del$phase"
	echo "list-del$phase $(list)"
done
# Not even the journal fits (phase j).
head -c 10M /dev/zero >"$GEOBLOCK_STATE_DIR/filler2" 2>/dev/null
step addj "$GEOBLOCK" meeting add other --ports 8802 --block FR
echo "list-addj $(list)"
step setj "$GEOBLOCK" meeting set board --monitor
echo "list-setj $(list)"
step delj "$GEOBLOCK" meeting del board
echo "list-delj $(list)"
cp "$GEOBLOCK_STATE_DIR/rules" "$TMP/rules.after"
cp "$GEOBLOCK_STATE_DIR/audit.log" "$TMP/audit.b.log"
ls -a "$GEOBLOCK_STATE_DIR" >"$TMP/ls"
rm -f "$GEOBLOCK_STATE_DIR/filler" "$GEOBLOCK_STATE_DIR/filler2"
# Room for the rules again, none for the audit log (phase k): the change is made, and said so.
step addk "$GEOBLOCK" meeting add fourth --ports 8804 --block FR
echo "list-addk $(list)"
echo "rules-addk $(grep -c '^meeting add fourth ' "$GEOBLOCK_STATE_DIR/rules")"
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
for s in add2a seta dela add2b setb delb; do
	read -r _ rc lines msg <<<"$(row $s)"
	check "$s on a full disk fails (exit $rc)" test "${rc:-0}" -ne 0 -a "${rc:-0}" -lt 128
	# Phase b: a second line says the audit log could not be written either.
	if [[ $s == *a ]]; then
		check_eq "$s: one line of error" 1 "$lines"
	else
		check_eq "$s: two lines of error" 2 "$lines"
		check "$s: the second names the audit log" grep -q \
			"cannot append to the audit log .*: No space left on device" <<<"$(row err2-$s)"
	fi
	check "$s: the error names the full disk ($msg)" grep -q 'No space left on device' <<<"$msg"
	check "$s: the error says nothing changed ($msg)" grep -q 'nothing changed$' <<<"$msg"
	check_eq "$s: the maps hold the rule set as before" "${before#list-before }" \
		"$(row list-$s | cut -d' ' -f2-)"
done
# Phase j: the journal, written before the maps change, cannot be written: nothing changes.
for s in addj setj delj; do
	read -r _ rc lines msg <<<"$(row $s)"
	check "$s on a disk with no page left fails (exit $rc)" test "${rc:-0}" -ne 0 -a "${rc:-0}" -lt 128
	check_eq "$s: the error names the journal" \
		"cannot write $GEOBLOCK_STATE_DIR/rules.journal: No space left on device; nothing changed" \
		"${msg#geoblock: meeting [a-z][a-z][a-z]: }"
	check_eq "$s: the maps hold the rule set as before" "${before#list-before }" \
		"$(row list-$s | cut -d' ' -f2-)"
done
check "the rules file stays as it was" cmp "$tmp/rules.before" "$tmp/rules.after"
check "no temporary file left" test -z "$(grep '\.tmp$' "$tmp/ls")"
check "audit lines whole" bash -c "! jq -R 'fromjson? // \"BAD\"' '$tmp/audit.log' | grep -q BAD"
check_eq "with the audit log full too, nothing more in it (no part of a record)" 3996 \
	"$(wc -c <"$tmp/audit.b.log")"
check "and its lines whole" bash -c "! jq -R 'fromjson? // \"BAD\"' '$tmp/audit.b.log' | grep -q BAD"
# Phase a: the audit log had room, so each failed change is there, as failed, with the error.
for s in add2a seta dela; do
	check_eq "$s audited once, as failed with the error" \
		"failed: cannot write $GEOBLOCK_STATE_DIR/rules: No space left on device; nothing changed" \
		"$(jq -r --arg r "$s" 'select(.reason == $r) | .result' "$tmp/audit.log")"
done
check_eq "no failed change audited as ok" 0 \
	"$(jq -r 'select(.reason != null and .result == "ok")' "$tmp/audit.log" | wc -l)"
read -r _ rc lines msg <<<"$(row addk)"
check_eq "addk with a full audit log only: exit 2, one line" "2 1" "$rc $lines"
check_eq "addk: the error says the change was made" \
	"done, but not audited: cannot append to the audit log $GEOBLOCK_STATE_DIR/audit.log: No space left on device" \
	"${msg#geoblock: meeting add: }"
check "addk: the meeting is in the maps" grep -q '"name":"fourth"' <<<"$(row list-addk)"
check_eq "addk: and in the rules file" "rules-addk 1" "$(row rules-addk)"
check "filtered on a full disk" filtered 8801 "on a full disk"
check_eq "with room again, the next change works" "add3 0 0 " "$(row add3)"
check "the host's state dir is untouched by the tmpfs" test ! -e "$GEOBLOCK_STATE_DIR/filler"
summary
