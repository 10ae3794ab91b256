#!/usr/bin/env bash
# An expiry pass killed at a chosen point: before its first audit record, at the fsync of its
# first, at the fsync of its second (strace kills the command as it enters that write or fsync of
# the audit log); then again before the first record, for meetings whose names expired before.
# The next change finishes the pass: each expiry is audited exactly once, and the maps and the
# rules file hold only the meeting that does not expire. The same after a reboot with the rules
# file damaged, by restore. Last, an unbroken pass, traced, syncs the change log's intent before
# its first record.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR
AUDIT=$S/audit.log

# expire_records NAME: how many expiry records delete meeting NAME (and how many name it).
expire_records() {
	jq -r "select(.command == \"expire\" and (.changes[0] | startswith(\"- meeting add $1 \")))
		| .meeting" "$AUDIT" | sort | uniq -c | sed 's/^ *//' | paste -sd' '
}

check "strace is installed (scripts/install-deps.sh)" quiet command -v strace
check "meeting add keep" quiet "$GEOBLOCK" meeting add keep --ports 9000 --block DE

# expiring UNTIL: keep, and three meetings of name set $set that expire at UNTIL.
expiring() {
	echo "meeting add keep --ports 9000 --block DE"
	for k in 1 2 3; do
		echo "meeting add r$set-$k --ports $((10000 + set * 10 + k)) --block FR" \
			"--expires $(rfc3339 "$1")"
	done
}

declare -A audited=()	# name -> expiries it has had
# killed_pass KILL R: three meetings (names of round $set) expire; the change that deletes them
# is killed as KILL says (strace's options), its expiry pass left under way.
killed_pass() {
	local kill=$1 r=$2 rc
	check "round $r: apply the expiring meetings" apply_expiring "$tmp/apply.out" expiring
	check "round $r: the expiry time comes" wait_until 5 expired_now
	# The change runs the expiry pass first; strace kills it at the syscall KILL names.
	{ strace -f -o /dev/null -P "$AUDIT" $kill "$GEOBLOCK" meeting del no-such-meeting \
		>"$tmp/killed.out" 2>&1; } 2>/dev/null
	rc=$?
	check_eq "round $r: the change was killed" 137 "$rc"
	check "round $r: the expiry pass is under way in rules.log" change_under_way
	check "round $r: logged as an expiry pass" grep -q ' set expire [0-9]*$' "$S/rules.log"
}
# each_audited_once R: after the recovery, each of round $set's meetings has had one expiry
# record more, and only keep is left, in the maps and the rules file, no change under way.
each_audited_once() {
	local r=$1 k
	for k in 1 2 3; do
		audited[r$set-$k]=$((${audited[r$set-$k]:-0} + 1))
		check_eq "round $r: r$set-$k's expiry audited once" "${audited[r$set-$k]} r$set-$k" \
			"$(expire_records "r$set-$k")"
	done
	check_eq "round $r: meetings in the maps" keep \
		"$("$GEOBLOCK" meeting list --json | jq -r '.[].name' | paste -sd' ')"
	check_eq "round $r: the rules file agrees" "meeting add keep --ports 9000 --block DE" \
		"$(saved_rules)"
	check "round $r: no change under way" change_under_way_not
}
# round KILL R REASON [SET]: a killed pass (names of round SET, default R); the next change's
# recovery is audited with a reason starting REASON.
round() {
	set=${4:-$2}
	killed_pass "$1" "$2"
	# The next change finishes it.
	"$GEOBLOCK" meeting del no-such-meeting >"$tmp/next.out" 2>&1
	check_eq "round $2: the next change recovered it (audited)" "$3" "$(jq -r \
		'select(.command == "recover") | .reason' "$AUDIT" | tail -1 | cut -c1-${#3})"
	each_audited_once "$2"
}

# Before the first record is written: the pass is rolled back, then done again.
round "-e trace=write -e inject=write:signal=KILL:when=1" 1 "a change of the rule set died"
# After the first record (its fsync) and after the second: rolled forward as far as audited.
round "-e trace=fsync -e inject=fsync:signal=KILL:when=1" 2 "an expiry pass died midway"
round "-e trace=fsync -e inject=fsync:signal=KILL:when=2" 3 "an expiry pass died midway"
check "the recovery warns" grep -q "pass was finished as far as it audited" "$tmp/next.out"
# The names of round 1 again, killed before the first record: their earlier expiries' records,
# before the pass began, do not count as this pass's.
round "-e trace=write -e inject=write:signal=KILL:when=1" 4 "a change of the rule set died" 1
# Killed after the second record, then a reboot, with a line of the rules file damaged: restore
# writes the saved set anew from what it can read (the log with the pass's intent goes), and still
# keeps deleted what the pass audited.
set=6
killed_pass "-e trace=fsync -e inject=fsync:signal=KILL:when=2" 6
echo "meeting add hand --ports 9999 --blok DE" >>"$S/rules"
rm -rf "$GEOBLOCK_PIN_DIR"	# a reboot
lines=$(wc -l <"$AUDIT")
"$GEOBLOCK" restore >"$tmp/restore.out" 2>&1
check_eq "round 6: restore exits 2: a line left out" 2 "$?"
check "round 6: ... named: $(grep 'left out' "$tmp/restore.out")" \
	grep -q "left out: $S/rules line [0-9]*: .*--blok" "$tmp/restore.out"
check_eq "round 6: restore's one recovery kept deleted what the pass audited" \
	"an expiry pass died midway" "$(tail -n +$((lines + 1)) "$AUDIT" |
		jq -r 'select(.command == "recover") | .reason' | cut -c1-26 | paste -sd'|')"
each_audited_once 6

# The intent is durable before the pass's first record: rules.log synced before that write.
set=5
check "apply the expiring meetings of an unbroken pass" apply_expiring "$tmp/apply.out" expiring
check "their expiry time comes" wait_until 5 expired_now
strace -f -y -o "$tmp/trace" -e trace=write,fdatasync "$GEOBLOCK" meeting del no-such-meeting \
	>/dev/null 2>&1
sync_at=$(grep -n 'fdatasync([0-9]*</[^>]*/rules.log>' "$tmp/trace" | head -1 | cut -d: -f1)
record_at=$(grep -n 'write([0-9]*</[^>]*/audit.log>' "$tmp/trace" | head -1 | cut -d: -f1)
check "rules.log synced (line ${sync_at:-none}) before the first record (${record_at:-none})" \
	test "${sync_at:-999999}" -lt "${record_at:-0}"
check_eq "the unbroken pass audited its three" "1 r5-1 1 r5-2 1 r5-3" \
	"$(for k in 1 2 3; do expire_records "r5-$k"; done | paste -sd' ')"
check_eq "no record torn" 0 "$(grep -c '"command":"torn-record"' "$AUDIT")"
summary
