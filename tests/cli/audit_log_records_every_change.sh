#!/usr/bin/env bash
# Every change appends exactly one JSON line to $GEOBLOCK_STATE_DIR/audit.log before the command
# returns: time, uid, SUDO_USER, the command, --reason, the result (and the rule changes). A change
# that fails while under way is recorded as failed; refused input changes nothing, the log included.
# Earlier lines are never rewritten.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
geoip_data || { fail "fetch databases"; summary; exit; }
D=$GEOBLOCK_DATA_DIR
LOG=$GEOBLOCK_STATE_DIR/audit.log
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
NS=gbaudit$$
ip netns add "$NS" || { fail "netns"; summary; exit; }
on_exit ip netns del "$NS"
# A veth (takes XDP) and a bridge (Ethernet, but no native XDP: attaching natively fails).
ip -n "$NS" link add gbv0 type veth peer name gbv1 && ip -n "$NS" link set gbv0 up &&
	ip -n "$NS" link set gbv1 up && ip -n "$NS" link add gbd0 type bridge &&
	ip -n "$NS" link set gbd0 up && ip -n "$NS" link set lo up || fail "interfaces"
G() { nsenter --net="/run/netns/$NS" "$GEOBLOCK" "$@"; }

touch "$LOG"
# logged EXIT RESULT REASON CHANGES CMD...: CMD exits EXIT and appends one line recording exactly
# CMD, RESULT (a prefix), REASON ("null" for none) and CHANGES (count), leaving earlier lines.
logged() {
	local code=$1 result=$2 reason=$3 changes=$4 rc line
	shift 4
	cp "$LOG" "$tmp/log.before"
	"$@" >/dev/null 2>"$tmp/err"
	rc=$?
	line=$(tail -n +"$(($(wc -l <"$tmp/log.before") + 1))" "$LOG")
	local name="${*:2}"
	if [[ $rc != "$code" ]]; then
		fail "$name: exit $rc, expected $code ($(cat "$tmp/err"))"
	elif [[ $(wc -l <<<"$line") != 1 || -z $line ]]; then
		fail "$name: $(grep -c . <<<"$line") new audit lines, expected 1"
	elif ! cmp -s "$tmp/log.before" <(head -c "$(stat -c %s "$tmp/log.before")" "$LOG"); then
		fail "$name: earlier audit lines changed"
	elif ! jqe . >/dev/null 2>&1 <<<"$line"; then
		fail "$name: not JSON: $line"
	else
		pass
		check_eq "$name: command" "${LAST_CMD:-${*:2}}" "$(jq -r .command <<<"$line")"
		check "$name: time" grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$' \
			<<<"$(jq -r .time <<<"$line")"
		check_eq "$name: uid" "$(id -u)" "$(jq -r .uid <<<"$line")"
		check_eq "$name: sudo_user" "${SUDO_USER:-null}" "$(jq -r .sudo_user <<<"$line")"
		check_eq "$name: reason" "$reason" "$(jq -r .reason <<<"$line")"
		check_eq "$name: result" "$result" "$(jq -r .result <<<"$line" | cut -c1-${#result})"
		check_eq "$name: changes" "$changes" "$(jq -r '.changes // [] | length' <<<"$line")"
	fi
	unset LAST_CMD
}
# unlogged EXIT CMD...: CMD exits EXIT (refused) and the log is untouched.
unlogged() {
	local code=$1 rc
	shift
	cp "$LOG" "$tmp/log.before"
	"$@" >/dev/null 2>&1
	rc=$?
	check_eq "refused, exit: $*" "$code" "$rc"
	check "refused, not logged: $*" cmp -s "$tmp/log.before" "$LOG"
}
unset SUDO_USER

logged 0 ok null 0 "$GEOBLOCK" geoip load "$D/dbip-country-ipv4.mmdb"
LAST_CMD="meeting add standup --ports 8801-8803 --block CN --reason 'board decision 7'" \
	logged 0 ok "board decision 7" 1 "$GEOBLOCK" meeting add standup --ports 8801-8803 --block CN \
	--reason "board decision 7"
SUDO_USER=alice logged 0 ok null 1 "$GEOBLOCK" meeting add retro --ports 9001 --block RU --monitor
SUDO_USER=alice
check_eq "SUDO_USER recorded" alice "$(tail -1 "$LOG" | jq -r .sudo_user)"
unset SUDO_USER
LAST_CMD="meeting set retro --enforce --reason 'go live'" \
	logged 0 ok "go live" 2 "$GEOBLOCK" meeting set retro --enforce --reason "go live"
logged 0 ok "done" 1 "$GEOBLOCK" meeting del retro --reason done
printf 'meeting add standup --ports 8801-8803 --block CN\nmeeting add new --ports 7000 --block IR\n' >"$tmp/r"
logged 0 ok "quarterly" 1 "$GEOBLOCK" apply "$tmp/r" --reason quarterly
LAST_CMD="attach gbv0 --mode generic" logged 0 ok null 0 G attach gbv0 --mode generic
LAST_CMD="attach gbd0 --mode native" logged 2 "failed: cannot attach to gbd0 in native mode" null 0 \
	G attach gbd0 --mode native
LAST_CMD="detach gbv0" logged 0 ok null 0 G detach gbv0
LAST_CMD="restore" logged 0 ok null 0 G restore
check "a meeting add line records the meeting" grep -q '"changes":\["+ meeting add standup --ports 8801-8803 --block CN"\]' "$LOG"
check "reasons with quotes stay JSON" jqe . "$LOG" >/dev/null
# A byte that is not UTF-8 in the command line (a file's name) is written as U+FFFD: the line
# stays JSON for strict readers too (jq takes the raw byte; Python's json does not).
cp "$tmp/r" "$tmp/r"$'\xff'
LAST_CMD="apply $tmp/r"$'\xef\xbf\xbd' logged 0 ok null 0 "$GEOBLOCK" apply "$tmp/r"$'\xff'
check "every line is UTF-8 JSON" /usr/bin/python3 -c 'import json, sys
for line in open(sys.argv[1], "rb").read().decode("utf-8").splitlines(): json.loads(line)' "$LOG"

unlogged 1 "$GEOBLOCK" meeting add x --ports 0 --block DE
unlogged 1 "$GEOBLOCK" meeting add x --ports 8802 --block DE
unlogged 1 "$GEOBLOCK" meeting del nosuch
unlogged 1 "$GEOBLOCK" meeting set nosuch --monitor
unlogged 1 "$GEOBLOCK" apply /nonexistent
unlogged 0 "$GEOBLOCK" apply "$tmp/r" --check	# checks change nothing
unlogged 1 G detach gbv0
unlogged 1 G attach lo	# not Ethernet: refused
unlogged 0 "$GEOBLOCK" meeting set standup --enforce	# already: no change, no record
# A reason that is not 1-255 bytes of UTF-8 text, to any command that takes one.
unlogged 1 "$GEOBLOCK" meeting set standup --monitor --reason ""
unlogged 1 "$GEOBLOCK" meeting del standup --reason $'not\xffutf8'
unlogged 1 "$GEOBLOCK" meeting ports add standup 8900 --reason $'tab\there'
unlogged 1 "$GEOBLOCK" apply "$tmp/r" --reason "$(printf '%0256d' 0)"
check "the log is only appended to" test "$(wc -l <"$LOG")" -eq 11
# Durable before the command returns: the audit log synced after the record is written, by
# changes that write to the change log and by those that do not (shared ports).
# (Its exit code is not asked: LeakSanitizer fails a sanitizer build's run under ptrace.)
synced_after_record() {
	strace -f -y -e trace=write,fsync,fdatasync -o "$tmp/strace" "$@" >/dev/null 2>&1
	awk '/^[0-9]+ +write\([0-9]+<[^>]*\/audit\.log>/ { w = 1 }
			w && /^[0-9]+ +f(data)?sync\([0-9]+<[^>]*\/audit\.log>/ { s = 1 }
			END { exit !s }' "$tmp/strace" &&
		[[ $(tail -n 1 "$LOG" | jq -r .result) == ok ]]
}
check "strace is installed (scripts/install-deps.sh)" quiet command -v strace
check "meeting add: its audit record synced before it returns" \
	synced_after_record "$GEOBLOCK" meeting add durable --ports 8950 --block DE
check "shared-port add: its audit record synced before it returns" \
	synced_after_record "$GEOBLOCK" shared-port add 8951
summary
