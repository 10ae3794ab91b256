#!/usr/bin/env bash
# The pin dir removed under a running daemon: the daemon keeps running, answers scrapes with 503
# and logs one line saying so, stops cleanly on SIGTERM; status says nothing is attached (the
# pinned bpf_link was the only holder of the attachment, so the kernel detached the filter: see
# the report), and `restore` brings the filter back from the state dir.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
LOG=$tmp/daemon.log

faults_geoip "$tmp" || { fail "GeoIP data"; summary; exit; }
check "geoip load" "$GEOBLOCK" geoip load "$tmp/a.csv" >/dev/null
check "meeting add" "$GEOBLOCK" meeting add board --ports 8801 --block DE >/dev/null
faults_testbed "fp$$" || { fail "testbed"; summary; exit; }
check "filtered before" filtered 8801 "before"
"$GEOBLOCK" daemon --metrics 127.0.0.1:0 >"$LOG" 2>&1 &
DAEMON=$!
on_exit kill -KILL $DAEMON
check "daemon started" wait_until 10 grep -q "serving metrics" "$LOG"
URL=$(sed -n 's/^serving metrics on //p' "$LOG")

check "pin dir removed" rm -rf "$GEOBLOCK_PIN_DIR"
check_eq "a scrape gets 503" 503 "$(curl -s -o /dev/null -w '%{http_code}' "$URL")"
check "the daemon logs why, once" test "$(grep -c "pinned maps under $GEOBLOCK_PIN_DIR were removed since the daemon started; restart it" "$LOG")" = 1
check "daemon still runs" kill -0 "$DAEMON"
"$GEOBLOCK" status >"$tmp/status" 2>&1
check_eq "status works" 0 $?
check "status says nothing is attached" grep -q '^attached: *nowhere' "$tmp/status"
# Without the link's pin the kernel dropped the attachment: packets pass (fail open).
filtered 8801 "after the pin dir went" 2>/dev/null && echo "note: the filter still drops"
check "restore brings it back" in_ns "$TB_DST" "$GEOBLOCK" restore >/dev/null
check "the filter drops again" filtered 8801 "after restore"
kill -TERM "$DAEMON"
wait "$DAEMON"
check_eq "daemon exits 0 on SIGTERM" 0 $?
echo "daemon log:"; sed 's/^/    /' "$LOG"
summary
