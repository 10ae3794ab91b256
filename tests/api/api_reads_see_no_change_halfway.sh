#!/usr/bin/env bash
# The control API's reads take no change halfway: while PUT replaces a meeting over and over
# (make-before-break: the new version made, the ports moved to it, the old one ended), its
# join-time check of a German address always answers a drop by that meeting, and GET
# /v1/meetings/NAME and GET /v1/meetings always show it with its ports. Read between a change's
# steps (as before the reads waited for the state lock), the check answered "no meeting" and the
# GETs a meeting without ports (tests/api/flip_while_reading.py).
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
check "reads made meanwhile (at least 300)" test "${reads:-0}" -ge 300
check_eq "every read saw the meeting whole: a drop by it, its ports" 0 "${bad:-}"
[[ ${bad:-0} == 0 ]] || sed -n '2,$p' "$tmp/out" >&2
check "the daemon is up" kill -0 "$pid"
summary
