#!/usr/bin/env bash
# A record cut short at the end of the audit log (its writer killed inside the write: the kernel
# stops a write of more than a page at SIGKILL and keeps the part written, with no newline) is
# kept whole: the next command that takes the state lock, even one refused, replaces the part with
# one "torn-record" line whose "torn" field is the part's text (less a UTF-8 character cut in two);
# a change then appends its own record. Earlier lines stay byte for byte, every line is whole
# JSON. When that line does not fit (a full disk) the part stays as it was, and a change says it
# was done but not audited.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
export LC_ALL=C	# lengths and cuts in bytes
LOG=$GEOBLOCK_STATE_DIR/audit.log
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# cut_last BYTES: cuts the log's last record to its first BYTES bytes, as a killed writer leaves
# it; sets BEFORE (the log up to that record) and PART (what is left of it).
cut_last() {
	local size last
	size=$(stat -c %s "$LOG")
	last=$(tail -n 1 "$LOG")
	BEFORE=$((size - ${#last} - 1))
	PART=${last:0:$1}
	truncate -s $((BEFORE + $1)) "$LOG"
	head -c "$BEFORE" "$LOG" >"$tmp/before"
}

# repaired WHAT TORN [COMMAND]: the log is the earlier lines unchanged, then a torn-record line
# whose "torn" is TORN, then the record of COMMAND (if given), and nothing else.
repaired() {
	local what=$1 command=${3:-}
	printf '%s' "$2" >"$tmp/torn.want"
	check "$what: every line whole JSON" audit_whole "$LOG"
	check "$what: earlier lines unchanged" cmp -s "$tmp/before" <(head -c "$BEFORE" "$LOG")
	tail -c +$((BEFORE + 1)) "$LOG" >"$tmp/new"
	check_eq "$what: new lines" $((${#command} ? 2 : 1)) "$(wc -l <"$tmp/new")"
	check_eq "$what: the first is a torn-record" torn-record "$(head -1 "$tmp/new" | jq -r .command)"
	head -1 "$tmp/new" | jq -j .torn >"$tmp/torn.got" 2>/dev/null
	check_eq "$what: holding the part ($(wc -c <"$tmp/torn.want") bytes)" \
		"$(sha1sum <"$tmp/torn.want")" "$(sha1sum <"$tmp/torn.got")"
	[[ -z $command ]] ||
		check_eq "$what: then the change's own record" "$command" "$(sed -n 2p "$tmp/new" | jq -r .command)"
}

check "add m1" "$GEOBLOCK" meeting add m1 --ports 9001 --block FR --reason "première réunion" >/dev/null
# Cut between the two bytes of "è": the lone first byte is not kept.
last=$(tail -n 1 "$LOG")
lead=${last%%è*}
cut_last $((${#lead} + 1))
check "the cut ends in half a character" test "$(tail -c 1 "$LOG" | od -An -tx1 | tr -d ' ')" = c3
check "add m2" "$GEOBLOCK" meeting add m2 --ports 9002 --block FR >/dev/null
repaired "UTF-8 cut" "${PART:0:${#PART}-1}" "meeting add m2 --ports 9002 --block FR"

check "del m1" "$GEOBLOCK" meeting del m1 >/dev/null
cut_last 40
"$GEOBLOCK" meeting del no-such-meeting >/dev/null 2>&1
check_eq "a refused command" 1 $?
repaired "plain cut, then a refused command" "$PART"
check "del m2" "$GEOBLOCK" meeting del m2 >/dev/null
check_eq "then a change adds its line" 1 "$(($(wc -l <"$LOG") - $(wc -l <"$tmp/before") - 1))"
check "every line whole JSON" audit_whole "$LOG"

# A log that is nothing but a part.
printf '{"time":"2026-11-29T' >"$LOG"
BEFORE=0
: >"$tmp/before"
check "add m3" "$GEOBLOCK" meeting add m3 --ports 9003 --block FR >/dev/null
repaired "no line before" '{"time":"2026-11-29T' "meeting add m3 --ports 9003 --block FR"

# Full disk: the audit log is a file of a tiny tmpfs (a private mount namespace), filled up once
# the part of a long record (4,000 ports apart, on its command line and in its changes) is there.
Q=$(seq -s, 20000 2 27998)
cat >"$tmp/inner.sh" <<'INNER'
mkdir "$TMP/auditfs" && mount -t tmpfs -o size=1m tmpfs "$TMP/auditfs" || exit 9
cp "$LOG" "$TMP/auditfs/audit.log" && mount --bind "$TMP/auditfs/audit.log" "$LOG" || exit 9
"$GEOBLOCK" meeting ports add m3 "$Q" >/dev/null || exit 9
last=$(tail -n 1 "$LOG")
truncate -s $(($(stat -c %s "$LOG") - ${#last} - 1 + 20000)) "$LOG"
cp "$LOG" "$TMP/log.full"
head -c 2M /dev/zero >"$TMP/auditfs/filler" 2>/dev/null
"$GEOBLOCK" meeting set m3 --monitor >/dev/null 2>"$TMP/err"
echo "rc $?"
cmp -s "$LOG" "$TMP/log.full" && echo "log as it was"
rm "$TMP/auditfs/filler"
"$GEOBLOCK" meeting del m3 >/dev/null 2>&1 && echo "del ok"
cp "$LOG" "$TMP/log.after"
INNER
TMP=$tmp GEOBLOCK=$GEOBLOCK LOG=$LOG Q=$Q unshare -m --propagation private bash "$tmp/inner.sh" \
	>"$tmp/steps" 2>&1
check_eq "full disk: setup" 0 $?
check_eq "full disk: the change fails" "rc 2" "$(grep '^rc' "$tmp/steps")"
check "full disk: saying it was done but not audited" grep -q 'done, but not audited' "$tmp/err"
check "full disk: the part stays as it was" grep -qx 'log as it was' "$tmp/steps"
check "with room again: the next change works" grep -qx 'del ok' "$tmp/steps"
LOG=$tmp/log.after
last=$(tail -n 1 "$tmp/log.full")
BEFORE=$(($(stat -c %s "$tmp/log.full") - ${#last}))
head -c "$BEFORE" "$tmp/log.full" >"$tmp/before"
repaired "after the full disk" "$last" "meeting del m3"
check_eq "the meeting is gone" "[]" "$("$GEOBLOCK" meeting list --json | jq -c .)"
summary
