#!/usr/bin/env bash
# The control API's reads take no change halfway: while PUT replaces a meeting over and over
# (make-before-break: the new version made, the ports moved to it, the old one ended), its
# join-time check of a German address always answers a drop by that meeting, and GET
# /v1/meetings/NAME and GET /v1/meetings always show it with its ports. Read between a change's
# steps (as before the reads waited for the state lock), the check answered "no meeting" and the
# GETs a meeting without ports (tests/api/flip_while_reading.py). An apply's check waits for a
# change under way as they do.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
# A short path: a unix socket's path is under 108 bytes.
tmp=$(mktemp -d /tmp/gbflip.XXXXXX)
on_exit rm -rf "$tmp"

printf '192.0.2.0,192.0.2.255,DE\n198.51.100.0,198.51.100.255,FR\n' >"$tmp/table.csv"
check "geoip load" quiet "$GEOBLOCK" geoip load --force "$tmp/table.csv"
check "meeting add flip" quiet "$GEOBLOCK" meeting add flip --ports 30000 --block DE
api_daemon "$tmp/api.sock"

/usr/bin/python3 "$ROOT/tests/api/flip_while_reading.py" "$tmp/api.sock" flip 192.0.2.7 150 \
	>"$tmp/out" 2>&1
check_eq "the flips and reads ran" 0 "$?"
read -r _ puts _ reads _ bad < <(head -n1 "$tmp/out")
check_eq "150 replacements made" 150 "${puts:-}"
check "reads made meanwhile (at least 100: changes go first, reads wait behind them)" \
	test "${reads:-0}" -ge 100
check_eq "every read saw the meeting whole: a drop by it, its ports" 0 "${bad:-}"
[[ ${bad:-0} == 0 ]] || sed -n '2,$p' "$tmp/out" >&2

# A change that waits for the lock goes before the reads that come after it: flock(2) alone lets
# a shared request in past a waiting exclusive one, so reads back to back could hold changes off.
# The lock held shared here, as a long read holds it; a PUT then waits, then a check comes.
api() { curl -s --unix-socket "$tmp/api.sock" -X "$1" "http://geoblock$2" ${3:+-d "$3"}; }
exec {LOCK}<"$GEOBLOCK_STATE_DIR/lock"
flock -s "$LOCK"
inode() { stat -c %i "$GEOBLOCK_STATE_DIR/$1"; }
# waiting MODE FILE: a process waits for FILE's lock in MODE (/proc/locks: "->" under the holder).
waiting() { grep -q -- "-> FLOCK  ADVISORY  $1 .*:$(inode "$2") " /proc/locks; }
(
	exec {LOCK}<&-
	api PUT /v1/meetings/flip '{"ports":[30000],"block":["FR"]}' >"$tmp/put.out"
) &
put_pid=$!
check "a PUT waits for the lock" wait_until 10 waiting WRITE lock
(
	exec {LOCK}<&-
	api GET '/v1/meetings/flip/check?addr=192.0.2.7' >"$tmp/check.out"
) &
check_pid=$!
check "a check after it waits at the gate, behind the PUT" wait_until 10 waiting READ lock.gate
exec {LOCK}<&-
wait "$put_pid" "$check_pid"
check_eq "the check answers the PUT's version (FR only): not blocked" not_blocked \
	"$(jq -r .verdict "$tmp/check.out")"

# An apply's check reads the rule set as the other reads do: it waits for a change under way (the
# lock held here, as a change holds it) rather than plan from the maps halfway through it. The
# build before read them without the lock and answered at once.
exec {LOCK}>"$GEOBLOCK_STATE_DIR/lock"
flock "$LOCK"
(
	exec {LOCK}>&-
	api POST /v1/apply '{"meetings":[{"name":"flip","ports":[30000],"block":["DE"]}],
		"check":true}' >"$tmp/apply.out"
) &
apply_pid=$!
waits_or_answered() { waiting READ lock || ! kill -0 "$apply_pid" 2>/dev/null; }
wait_until 20 waits_or_answered
check "an apply's check waits for the lock, shared, as the other reads do" waiting READ lock
check_eq "... unanswered while a change holds it" "" "$(cat "$tmp/apply.out")"
exec {LOCK}>&-
wait "$apply_pid"
check_eq "once it is free, the check answers: flip would change (FR to DE), nothing else" \
	'{"check":true,"added":0,"changed":1,"deleted":0}' \
	"$(jq -c '{check, added, changed, deleted}' "$tmp/apply.out")"
check_eq "and changed nothing" FR "$(api GET /v1/meetings/flip | jq -r '.block | join(",")')"
check "the daemon is up" kill -0 "$pid"
summary
