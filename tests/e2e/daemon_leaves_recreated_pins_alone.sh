#!/usr/bin/env bash
# The pins removed and made anew by a command under a running daemon (nothing attached, so the
# daemon had no link to pin them again with): the daemon's own maps are then used by nothing, and
# its expiry pass must not write the rules file from them (it dropped the meetings added since).
# It says once that it should be restarted, and the rules file keeps what the live maps hold.
# Its control API then answers 503 on every route, reads too: a list or a join-time check from
# its own maps would describe rules no packet meets; Janus's events change nothing.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
S=$GEOBLOCK_STATE_DIR
LOG=$S/daemon.log
listed() { saved_rules | grep -o '^meeting add [^ ]*' | cut -d' ' -f3 | sort | paste -sd' '; }

# Its expiry leaves the steps up to the pins' re-creation 8 s (a loaded machine's daemon start,
# six requests and a command), so that the daemon's first pass after it comes after them.
soon=$(date -u -d '+8 seconds' +%Y-%m-%dT%H:%M:%SZ)
check "a meeting expiring in 8 s" "$GEOBLOCK" meeting add old --ports 9001 --block DE --expires "$soon" >/dev/null
check "a meeting without expiry" "$GEOBLOCK" meeting add stay --ports 9003 --janus-room 77 \
	--block DE >/dev/null
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
SOCK=$tmp/api.sock
"$GEOBLOCK" daemon --metrics 127.0.0.1:0 --api "$SOCK" --janus-events 127.0.0.1:0 >"$LOG" 2>&1 &
daemon=$!
on_exit "kill_child $daemon"
check "daemon started" wait_until 10 grep -q "serving metrics" "$LOG"
check "its API listens" wait_until 10 test -S "$SOCK"
check "it serves Janus events" wait_until 10 grep -q '^serving Janus events on ' "$LOG"
URL=$(sed -n 's/^serving Janus events on //p' "$LOG")
source "$ROOT/tests/lib/janus.sh"
# code METHOD PATH: the API's status for it.
code() { curl -s -o /dev/null --unix-socket "$SOCK" -X "$1" -w '%{http_code}' "http://geoblock$2"; }
READS=(/v1/meetings /v1/meetings/stay /v1/meetings/stay/check?addr=192.0.2.1
	"/v1/explain?addr=192.0.2.1&port=9001" /v1/stats /v1/status)
for r in "${READS[@]}"; do
	check_eq "GET $r before: 200" 200 "$(code GET "$r")"
done

rm -rf "$GEOBLOCK_PIN_DIR"
check "a command makes the pins anew and adds a meeting" \
	"$GEOBLOCK" meeting add fresh --ports 9002 --block FR >/dev/null 2>&1
check "the daemon says once it should be restarted" \
	wait_until 20 grep -q "re-created since the daemon started.*restart it" "$LOG"
# A pass of the daemon (every 5 s) after the expiry: before, it deleted the expired meeting in
# its own maps and wrote the rules file from them, dropping "fresh". Nothing to await: a bound.
past() { (($(date +%s) >= $1)); }
check "a daemon pass after the expiry" wait_until 20 past $(($(date -d "$soon" +%s) + 6))
check_eq "the rules file keeps what the live maps hold" "fresh old stay" "$(listed)"
check_eq "said once" 1 "$(grep -c "re-created since the daemon started" "$LOG")"
for r in "${READS[@]}"; do
	check_eq "GET $r after: 503" 503 "$(code GET "$r")"
done
check_eq "DELETE /v1/meetings/fresh after: 503" 503 "$(code DELETE /v1/meetings/fresh)"
check_eq "... before any check of the request (a query no route takes)" 503 \
	"$(code GET '/v1/explain?bogus=1')"
check_eq "... and fresh is still there" "fresh old stay" "$(listed)"
# Janus's events change nothing either: a join to stay's room gave its port in the daemon's own
# maps, audited and recorded in janus-ports as if enforced (and so could write the rules file).
audited=$(wc -l <"$S/audit.log")
check_eq "a Janus join to stay's room: taken" 200 "$(post "$(joined 5 6 77)")"
check_eq "... its candidate on port 9100: taken" 200 "$(post "$(cand 5 6 9100)")"
check_eq "... no change audited" "$audited" "$(wc -l <"$S/audit.log")"
check "... no Janus port recorded" test -z "$(grep -s 9100 "$S/janus-ports")"
check_eq "... the rules file as before" "fresh old stay" "$(listed)"
check "daemon still running" kill -0 "$daemon"
summary
