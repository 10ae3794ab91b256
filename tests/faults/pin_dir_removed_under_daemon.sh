#!/usr/bin/env bash
# The pin dir removed under a running daemon (with the dir it is in): the daemon holds the pinned
# links it sees, so the filter stays attached and keeps dropping; it pins the maps and links again
# and logs one line saying so; status, scrapes and changes work on the same maps again, and
# `restore`, or any change, run before it has, waits for it and finds all of it there. `detach`
# still detaches while the daemon runs (bpf_link_detach: the daemon's fd does not keep it
# filtering), and the daemon lets go of the link and does not pin it again.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
LOG=$tmp/daemon.log
# The pin dir one below a dir of its own (a site's), which is what is removed: the daemon makes
# both again.
PIN_TOP=$GEOBLOCK_PIN_DIR
export GEOBLOCK_PIN_DIR=$PIN_TOP/site
on_exit rm -rf "$PIN_TOP"

faults_geoip "$tmp" || { fail "GeoIP data"; summary; exit; }
check "geoip load" "$GEOBLOCK" geoip load "$tmp/a.csv" >/dev/null
check "meeting add" "$GEOBLOCK" meeting add board --ports 8801 --block DE >/dev/null
faults_testbed "fp$$" || { fail "testbed"; summary; exit; }
check "filtered before" filtered 8801 "before"
LINK_PIN=$GEOBLOCK_PIN_DIR/link_$TB_DST_IF
LINK_ID=$(bpftool -j link show pinned "$LINK_PIN" | jq -r .id)
# The daemon from a binary of another name (a versioned install): restore tells it by its lock.
cp "$GEOBLOCK" "$tmp/geoblock-next"
"$tmp/geoblock-next" daemon --metrics 127.0.0.1:0 >"$LOG" 2>&1 &
DAEMON=$!
on_exit kill_child $DAEMON
check "daemon started" wait_until 10 grep -q "serving metrics" "$LOG"
URL=$(sed -n 's/^serving metrics on //p' "$LOG")

# daemon_holds: the daemon has an fd of the link (its fdinfo names the link's id).
daemon_holds() { grep -qs "^link_id:[[:space:]]*$LINK_ID\$" /proc/$DAEMON/fdinfo/*; }
check "the daemon holds the link (id $LINK_ID)" wait_until 10 daemon_holds

# Removed while the daemon is stopped, then it runs on: it waits for the pin dir to be quiet for
# 200 ms before pinning again, and rm, descheduled that long on a busy machine, would then find
# the dir filled again (rm fails) and the daemon would see a second removal.
kill -STOP "$DAEMON"
check "pin dir removed (with its parent)" rm -rf "$PIN_TOP"
kill -CONT "$DAEMON"
check "German packets still dropped with the pin dir gone" filtered 8801 "after the pin dir went"
MSG="the pins under $GEOBLOCK_PIN_DIR were removed while 1 link still filtered; pinned the maps and link again"
check "the daemon pins them again and says so" wait_until 10 grep -qF "$MSG" "$LOG"
check_eq "in one line" 1 "$(grep -c "pins under" "$LOG")"
check_eq "the same link is pinned again" "$LINK_ID" \
	"$(bpftool -j link show pinned "$LINK_PIN" 2>/dev/null | jq -r .id)"
check "daemon still runs" kill -0 "$DAEMON"
"$GEOBLOCK" status >"$tmp/status" 2>&1
check_eq "status works" 0 $?
check "status shows the attachment" grep -q "$TB_DST_IF" "$tmp/status"
check_eq "a scrape answers 200 (the same maps)" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL")"
check "a change reaches the data path" "$GEOBLOCK" meeting add other --ports 8802 --block DE >/dev/null
check "the new meeting drops" filtered 8802 "the meeting added after the re-pin"
check "filtered still" filtered 8801 "after the re-pin"
# restore finds everything in place and keeps it.
check "restore" in_ns "$TB_DST" "$GEOBLOCK" restore >/dev/null
check "filtered after restore" filtered 8801 "after restore"
check_eq "restore kept the link" "$LINK_ID" \
	"$(bpftool -j link show pinned "$LINK_PIN" 2>/dev/null | jq -r .id)"

# The pin dir removed and restore run before the daemon pins again (as an operator would after
# a mistake; the daemon waits 200 ms for the dir to be quiet, here stopped until restore runs):
# restore waits for the daemon's pins rather than make new maps, for which the daemon would let
# its links go while restore found them attached.
kill -STOP "$DAEMON"
check "pin dir removed again" rm -rf "$PIN_TOP"
in_ns "$TB_DST" "$GEOBLOCK" restore >"$tmp/restore.out" 2>&1 &
restore_pid=$!
check "restore waits for the daemon" wait_until 10 grep -q 'waiting for it to pin them again' "$tmp/restore.out"
kill -CONT "$DAEMON"
wait "$restore_pid"
check_eq "restore at once: exit 0" 0 $?
check "filtered after restore at once" filtered 8801 "after restore at once"
check_eq "the same link, pinned again" "$LINK_ID" \
	"$(bpftool -j link show pinned "$LINK_PIN" 2>/dev/null | jq -r .id)"
check "the daemon did not let go of it" bash -c "! grep -q 're-created' '$LOG'"

# change_while_gone WHAT PORT NAME: a meeting add of NAME on PORT, run while the pins are gone
# (removed just before, the daemon stopped), waits for the daemon, then works; the same link
# filters, the daemon holding it still. WHAT names the case in the checks.
change_while_gone() {
	local what=$1 port=$2 name=$3 pid
	"$GEOBLOCK" meeting add "$name" --ports "$port" --block DE >"$tmp/add-$name.out" 2>&1 &
	pid=$!
	check "a change waits for the daemon ($what)" \
		wait_until 10 grep -q 'waiting for it to pin them again' "$tmp/add-$name.out"
	kill -CONT "$DAEMON"
	wait "$pid"
	check_eq "the change then works ($what): exit 0" 0 $?
	check "its meeting drops ($what)" filtered "$port" "the meeting added ($what)"
	check "filtered still ($what)" filtered 8801 "after the change ($what)"
	check_eq "the same link, pinned again ($what)" "$LINK_ID" \
		"$(bpftool -j link show pinned "$LINK_PIN" 2>/dev/null | jq -r .id)"
	check "the daemon did not let go of it ($what)" bash -c "! grep -q 're-created' '$LOG'"
}

# So does any change in that moment (a script's meeting add): it made new maps, and the daemon
# let go of its links for them.
kill -STOP "$DAEMON"
check "pin dir removed a third time" rm -rf "$PIN_TOP"
change_while_gone "the dir removed" 8803 third

# The pins removed and their dir kept (rm -rf DIR/*): a change waits the same (the build before
# waited only for a missing dir, made new maps, and the daemon let go of its links).
kill -STOP "$DAEMON"
check "the pins removed, their dir kept" \
	bash -c "rm -rf '$GEOBLOCK_PIN_DIR'/* && test -d '$GEOBLOCK_PIN_DIR'"
change_while_gone "the dir kept" 8804 fourth

# detach while the daemon runs: the daemon's fd does not keep the filter, nor the pin.
check "detach while the daemon runs" in_ns "$TB_DST" "$GEOBLOCK" detach "$TB_DST_IF" >/dev/null
out=$tmp/after-detach
send_and_count 8801 9999 3 "$out" "$FT_BLOCKED" "$FT_PASSED"
check_eq "after detach German packets arrive" 3 \
	"$(awk -v s="$FT_BLOCKED" '$1 == s && $2 == 8801 { print $3 }' "$out")"
check "the daemon lets go of the detached link" wait_until 10 bash -c "! grep -qs '^link_id:[[:space:]]*$LINK_ID\$' /proc/$DAEMON/fdinfo/*"
check "and does not pin it again" test ! -e "$LINK_PIN"
check "the link is gone from the kernel" bash -c "! bpftool link show id $LINK_ID >/dev/null 2>&1"
check_eq "still four lines about pins (one per removal)" 4 "$(grep -c "pins under" "$LOG")"
kill -TERM "$DAEMON"
wait "$DAEMON"
check_eq "daemon exits 0 on SIGTERM" 0 $?
echo "daemon log:"; sed 's/^/    /' "$LOG"
summary
