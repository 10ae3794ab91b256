#!/usr/bin/env bash
# `geoblock daemon --janus-events` where Janus's handles end without their own events, or say
# more than once who their client is: Janus restarted (type 256 "started") or stopped
# ("shutdown") ends every handle, audited as such; a port Janus gave a new handle before the old
# one's end came is not given back to the old one by the pass once the new one lets it go; a
# handle silent for --janus-idle gives its ports back but stays in its room, so that a new
# PeerConnection on it (a publisher publishing again, no new "joined") gives its new port; a
# publisher's "published" ties its handle to its room too; --janus-hangup judges the client by
# its selected pair, not by a relayed candidate trickled later, and a hangup Janus does not
# answer ends the pass's others; an Admin API reply without its
# sessions list is said in one line at start, and the daemon serves on; events are served while
# the daemon asks the Admin API for its handles; restore, making the maps
# anew, drops the handles' records of janus-ports: a port the operator names later is the
# meeting's own.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
source "$ROOT/tests/lib/janus.sh"
audited() { grep -q "$1" "$GEOBLOCK_STATE_DIR/audit.log"; }

# 85.214.1.0/24 is German, 90.1.1.0/24 French.
printf '85.214.1.0,85.214.1.255,DE\n90.1.1.0,90.1.1.255,FR\n' >"$tmp/table.csv"
check "geoip load" quiet "$GEOBLOCK" geoip load --force "$tmp/table.csv"
check "meeting add A on room 1234" quiet "$GEOBLOCK" meeting add A --janus-room 1234 --block DE
check "meeting add Y on room 5555" quiet "$GEOBLOCK" meeting add Y --janus-room 5555 --block DE
start_daemon

# Janus restarted: its sessions are gone, and their handles' ports with them.
post "[$(joined 1 11 1234),$(cand 1 11 20001),$(joined 1 12 1234),$(cand 1 12 20002)]" >/dev/null
check_eq "two handles' ports" "20001 20002" "$(dyn A)"
started='{"emitter":"t","type":256,"subtype":1,"timestamp":1,"event":{"status":"started","info":{"janus":"server_info"}}}'
check_eq "Janus started: 200" 200 "$(post "$started")"
check_eq "... every handle's port back" "" "$(dyn A)"
check_eq "... none in the maps" "- -" "$(owner 20001) $(owner 20002)"
check "... audited as janus restarted" audited \
	'"command":"janus restarted",.*handle 11",.*"- port 20001 meeting A"'
check_eq "... the late end of a handle of before: 200" 200 \
	"$(post '{"type":2,"session_id":1,"handle_id":11,"event":{"name":"detached"}}')"
post "[$(joined 2 21 1234),$(cand 2 21 20003)]" >/dev/null
check_eq "a handle after the restart" A "$(owner 20003)"
check_eq "Janus shutting down: 200" 200 \
	"$(post '{"emitter":"t","type":256,"subtype":2,"timestamp":1,"event":{"status":"shutdown","signum":2}}')"
check_eq "... its port back" - "$(owner 20003)"
check "... audited as janus shutdown" audited \
	'"command":"janus shutdown",.*handle 21",.*"- port 20003 meeting A"'
before=$(count ignored)
post '{"emitter":"t","type":256,"subtype":3,"timestamp":1,"event":{"status":"other"}}' >/dev/null
check_eq "another core event: ignored" $((before + 1)) "$(count ignored)"

# A port given anew: the old handle's no more, even once the new one hangs up.
post "[$(joined 3 31 1234),$(cand 3 31 20011),$(joined 3 32 1234),$(cand 3 32 20011)]" >/dev/null
check_eq "a port Janus gave anew: the new handle's" "20011 A 1234 3 32" \
	"$(grep '^20011 ' "$GEOBLOCK_STATE_DIR/janus-ports")"
post '{"type":16,"subtype":6,"session_id":3,"handle_id":32,"event":{"connection":"hangup"}}' \
	>/dev/null
check_eq "the new handle hangs up: the port is no meeting's" - "$(owner 20011)"
# A pass seen to run: a live handle's port, taken by Y's deletion, given back to Y again.
post "[$(joined 4 41 5555),$(cand 4 41 20021)]" >/dev/null
check "meeting del Y, add Y" bash -c "'$GEOBLOCK' meeting del Y >/dev/null &&
	'$GEOBLOCK' meeting add Y --janus-room 5555 --block DE >/dev/null"
check "a pass gives Y's live handle its port again" wait_until 10 dyn_is Y 20021
check_eq "... and not the old handle the port Janus gave anew" - "$(owner 20011)"
post '{"type":1,"session_id":3,"event":{"name":"destroyed"}}' >/dev/null

# A publisher silent for --janus-idle: its ports back, its room kept.
kill_child "$pid"
start_daemon 2
post "[$(joined 5 51 1234),$(cand 5 51 20031)]" >/dev/null
check_eq "a publisher's port" A "$(owner 20031)"
gone() { [[ $(owner 20031) == - ]]; }
check "silent for --janus-idle 2: its port back within a pass" wait_until 15 gone
check "... audited as janus idle" audited \
	'"command":"janus idle",.*handle 51",.*"- port 20031 meeting A"'
check_eq "it publishes again: a candidate, no new join" 200 "$(post "$(cand 5 51 20032)")"
check_eq "... its new port is its room's meeting's" A "$(owner 20032)"
post '{"type":2,"session_id":5,"handle_id":51,"event":{"name":"detached"}}' >/dev/null
check_eq "detached: back" - "$(owner 20032)"
published='{"type":64,"session_id":6,"handle_id":61,"event":{"plugin":"janus.plugin.videoroom","data":{"event":"published","room":1234,"id":9}}}'
check_eq "a candidate, then published (its join not seen): 200" 200 \
	"$(post "[$(cand 6 61 20041),$published]")"
check_eq "... its port is the room's meeting's" A "$(owner 20041)"
post '{"type":2,"session_id":6,"handle_id":61,"event":{"name":"detached"}}' >/dev/null

# --janus-hangup: the client is its selected pair's side, not a relayed candidate trickled after.
kill_child "$pid"
admin_stub "$tmp/admin" record
echo secret >"$tmp/admin_secret"
start_daemon 60 --janus-admin "$ADMIN" --janus-admin-secret "$tmp/admin_secret" --janus-hangup
relay='{"type":16,"subtype":3,"session_id":7,"handle_id":71,"event":{"remote-candidate":"candidate:3 1 udp 16777215 85.214.1.9 40002 typ relay raddr 0.0.0.0 rport 0"}}'
# One batch, so that the pass which hangs up handle 72 has judged handle 71 too.
check_eq "a French client's pair, a German relay trickled after; a German client's pair: 200" 200 \
	"$(post "[$(joined 7 71 1234),$(pair 7 71 20051 90.1.1.1),$relay,$(joined 7 72 1234),
		$(pair 7 72 20052)]")"
hung() { grep -qx "/admin/7/72" "$tmp/admin/hangups" 2>/dev/null; }
check "the German client is hung up" wait_until 10 hung
check_eq "the French one is not" "/admin/7/72" "$(cat "$tmp/admin/hangups")"
check "... audited with the pair's address" audited \
	'"command":"janus hangup".*handle 72: 85.214.1.1 is in DE, blocked by meeting A'

# A hangup Janus does not answer (past the daemon's 5 s timeout) ends the pass's hangups: the
# other blocked handles of it wait as a failed one does (10 s), rather than each wait out the
# timeout in turn while the daemon's other work waits (the build before asked them one by one).
kill_child "$pid"
admin_stub "$tmp/silent" silent
start_daemon 60 --janus-admin "$ADMIN" --janus-admin-secret "$tmp/admin_secret" --janus-hangup
check_eq "three German clients' pairs: 200" 200 "$(post "[$(joined 11 111 1234),$(pair 11 111 20081),
	$(joined 11 112 1234),$(pair 11 112 20082),$(joined 11 113 1234),$(pair 11 113 20083)]")"
check "the first hangup is asked" wait_until 10 test -s "$tmp/silent/hangups"
# No event to await for hangups not asked: a bound past one timeout (5 s), short of the wait (10 s).
sleep 7
check_eq "... no other while Janus does not answer" 1 "$(grep -c . "$tmp/silent/hangups")"
check "... one failure audited, no more" test "$(grep -c '"command":"janus hangup".*"result":"failed' \
	"$GEOBLOCK_STATE_DIR/audit.log")" -eq 1

# An Admin API that answers without its sessions list: one line, the daemon serves on.
kill_child "$pid"
admin_stub "$tmp/bare" bare
BARE=$ADMIN
start_daemon 60 --janus-admin "$BARE" --janus-admin-secret "$tmp/admin_secret"
check_eq "a reply without sessions: one line" \
	"geoblock: daemon: janus admin list_sessions: $BARE: a reply without its \"sessions\" list" \
	"$(grep -v '^geoblock: daemon: warning' "$tmp/daemon.err")"
check "... the daemon serves events" test 200 = "$(post "[$(joined 8 81 1234),$(cand 8 81 20061)]")"
check_eq "... and gives ports" A "$(owner 20061)"

# Events are served while the Admin API is asked for the handles (a Janus event handler gives up
# on an event after a few seconds of refused connections): the build before listened only once
# the Admin API had answered.
kill_child "$pid"
admin_stub "$tmp/slow" slowlist
JANUS_REBUILD_WAIT=0 start_daemon 60 --janus-admin "$ADMIN" --janus-admin-secret "$tmp/admin_secret"
check "the daemon asks the Admin API for its sessions" wait_until 10 test -e "$tmp/slow/listing"
check_eq "an event meanwhile: 200" 200 "$(post "[$(joined 9 91 1234),$(cand 9 91 20071)]")"
check_eq "... its port is the room's meeting's" A "$(owner 20071)"
check "... while the Admin API has not answered yet" test ! -e "$tmp/slow/listed"
touch "$tmp/slow/release"
check "then the rebuild ends" wait_until 10 grep -q '^rebuilt 0 Janus handles' "$tmp/daemon.log"
check_eq "... the port still the meeting's" A "$(owner 20071)"
post '{"type":2,"session_id":9,"handle_id":91,"event":{"name":"detached"}}' >/dev/null

# After the maps are made anew (a reboot; here the pins removed) restore drops the handles'
# records: the port the operator names later is the meeting's own, and a daemon's start keeps it.
kill_child "$pid"
rm -rf "$GEOBLOCK_PIN_DIR"
check "restore makes the maps anew" quiet "$GEOBLOCK" restore
check "janus-ports no longer lists the port" \
	bash -c "! grep -q '^20061 ' '$GEOBLOCK_STATE_DIR/janus-ports'"
check "the operator gives A the port" quiet "$GEOBLOCK" meeting ports add A 20061
check_eq "... A's own, not a handle's" '[["20061"],[]]' "$("$GEOBLOCK" meeting list --json |
	jq -c '.[] | select(.name == "A") | [.ports, [.janus_ports[].port]]')"
start_daemon
check_eq "a daemon's start leaves it A's" A "$(owner 20061)"
check "the daemon is up" kill -0 "$pid"
summary
