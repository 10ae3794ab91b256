#!/usr/bin/env bash
# `geoblock daemon --janus-events`, fed the events Janus's sampleevh posts (as Janus 1.1.2 writes
# them, one at a time and grouped), on loopback: a handle joined to a room a meeting covers gives
# the meeting its local ports (candidates before or after the join, selected pairs) and takes them
# back at hangup, detach, session end and after --janus-idle seconds of silence; a port another
# meeting owns, or a shared one, is refused and logged; rooms of no meeting, unknown sessions,
# unknown types and TCP candidates change nothing; ports past 65535 (2^32 + 7801 too, not wrapped
# onto 7801), malformed bodies and a burst of 10,000 events are counted and change nothing; the
# saved rule set never holds a Janus port; `apply` and `meeting ports add` keep them; a restarted
# daemon takes back its predecessor's ports; `meeting del` forgets them; every change is audited;
# a hangup Janus's Admin API is slow to answer (`--janus-hangup`) holds up no event, and one it
# refuses is asked again later and later, not at every pass; a port whose take-back fails is
# taken back later; and with --janus-events-auth a client without the credentials is answered
# 401 before its body is read.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# Usage errors: one line, exit 1.
timeout 20 "$GEOBLOCK" daemon --janus-idle 5 >/dev/null 2>"$tmp/err"
check_eq "--janus-idle without --janus-events: exit 1" "1 geoblock: daemon: --janus-events-auth, --janus-idle and --janus-admin need --janus-events ADDR:PORT" "$? $(cat "$tmp/err")"
timeout 20 "$GEOBLOCK" daemon --janus-events 127.0.0.1:0 --janus-admin http://127.0.0.1:1/admin >/dev/null 2>"$tmp/err"
check_eq "--janus-admin without its secret: exit 1" "1 geoblock: daemon: --janus-admin URL and --janus-admin-secret FILE go together" "$? $(cat "$tmp/err")"
# Files the options name are read before anything starts: the same exit either way.
timeout 20 "$GEOBLOCK" daemon --janus-events 127.0.0.1:0 --janus-events-auth "$tmp/none" >/dev/null 2>"$tmp/err"
check_eq "--janus-events-auth of no file: exit 1, one line" "1 geoblock: daemon: --janus-events-auth $tmp/none: No such file or directory" "$? $(cat "$tmp/err")"
echo nocolon >"$tmp/bad_auth"
timeout 20 "$GEOBLOCK" daemon --janus-events 127.0.0.1:0 --janus-events-auth "$tmp/bad_auth" >/dev/null 2>"$tmp/err"
check_eq "--janus-events-auth without user:password: exit 1, one line" "1 geoblock: daemon: --janus-events-auth $tmp/bad_auth: its first line must be user:password (neither empty)" "$? $(cat "$tmp/err")"
echo janus: >"$tmp/bad_auth"
timeout 20 "$GEOBLOCK" daemon --janus-events 127.0.0.1:0 --janus-events-auth "$tmp/bad_auth" >/dev/null 2>"$tmp/err"
check_eq "--janus-events-auth with an empty password: exit 1, one line" "1 geoblock: daemon: --janus-events-auth $tmp/bad_auth: its first line must be user:password (neither empty)" "$? $(cat "$tmp/err")"
timeout 20 "$GEOBLOCK" daemon --janus-events 127.0.0.1:0 --janus-events-auth "$tmp" >/dev/null 2>"$tmp/err"
check_eq "--janus-events-auth of a directory: exit 1, one line" "1 geoblock: daemon: --janus-events-auth $tmp: Is a directory" "$? $(cat "$tmp/err")"
timeout 20 "$GEOBLOCK" daemon --janus-events 127.0.0.1:0 --janus-admin http://127.0.0.1:1/admin --janus-admin-secret "$tmp/none" >/dev/null 2>"$tmp/err"
check_eq "--janus-admin-secret of no file: exit 1" 1 "$?"
timeout 20 "$GEOBLOCK" daemon --janus-events nope >/dev/null 2>"$tmp/err"
check_eq "--janus-events without a port: exit 1" 1 "$?"
timeout 20 "$GEOBLOCK" daemon --janus-events 127.0.0.1:0 --janus-hangup >/dev/null 2>"$tmp/err"
check_eq "--janus-hangup without --janus-admin: exit 1" "1 geoblock: daemon: --janus-hangup needs --janus-admin URL (its hangup_webrtc)" "$? $(cat "$tmp/err")"
timeout 20 "$GEOBLOCK" daemon --janus-events 127.0.0.1:0 --janus-idle 0 >/dev/null 2>"$tmp/err"
check_eq "--janus-idle 0: exit 1" 1 "$?"

/usr/bin/python3 -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True); time.sleep(60)' >"$tmp/held" &
held_pid=$!
on_exit kill_child "$held_pid"
wait_until 10 test -s "$tmp/held"
"$GEOBLOCK" daemon --metrics 127.0.0.1:0 --janus-events "127.0.0.1:$(cat "$tmp/held")" >/dev/null 2>"$tmp/err"
check_eq "--janus-events on a port in use: exit 2, one line" \
	"2 geoblock: daemon: cannot serve Janus events: Address already in use" "$? $(cat "$tmp/err")"
kill_child "$held_pid"

check "meeting add A on room 1234" "$GEOBLOCK" meeting add A --janus-room 1234 --block DE >/dev/null
check "meeting add O on port 20005" "$GEOBLOCK" meeting add O --ports 20005 --block FR >/dev/null
check "shared-port add 20006" "$GEOBLOCK" shared-port add 20006 >/dev/null
operator_rules=$(saved_rules)

source "$ROOT/tests/lib/janus.sh"
start_daemon

# coded_post CODING: the status of a POST whose body goes under that Transfer-Encoding, and
# whether it came at once (under 5 s).
coded_post() {
	/usr/bin/python3 - "$URL" "$1" <<'PY'
import re, socket, sys, time
host, port = re.match(r"http://([^:/]+):(\d+)", sys.argv[1]).groups()
s = socket.create_connection((host, int(port)))
start, got = time.monotonic(), b""
s.sendall(b"POST /janus-events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: %s\r\n\r\n"
          b"2\r\n[]\r\n0\r\n\r\n" % sys.argv[2].encode())
s.settimeout(30)
while b"\r\n" not in got:
    part = s.recv(4096)
    if not part:
        break
    got += part
secs = time.monotonic() - start
print(got.split(b" ")[1].decode() if got else 0, "at once" if secs < 5 else "in %d s" % secs)
PY
}
# libmicrohttpd 1.0 and later answer such a request 400 themselves.
coded=400
[[ $(pkg-config --modversion libmicrohttpd 2>/dev/null) == 0.* ]] && coded=501
check_eq "events under Transfer-Encoding gzip, chunked: $coded (not the 30 s timeout)" \
	"$coded at once" "$(coded_post "gzip, chunked")"
check_eq "... chunked ones are read" "200 at once" "$(coded_post chunked)"
check_eq "a join: 200" 200 "$(post "$(joined 1 11 1234)")"
check_eq "its candidate: 200" 200 "$(post "$(cand 1 11 20001)")"
check_eq "the port is A's" A "$(owner 20001)"
check_eq "A's Janus ports" 20001 "$(dyn A)"
check_eq "explain names the room, session and handle" '{"room":1234,"session":1,"handle":11}' \
	"$("$GEOBLOCK" explain 192.0.2.9 20001 --json | jq -c .janus)"
check "explain in words too" grep -q '^meeting:  A (the port of Janus room 1234, session 1, handle 11)$' \
	<<<"$("$GEOBLOCK" explain 192.0.2.9 20001)"
check_eq "explain of an operator port: no janus" null \
	"$("$GEOBLOCK" explain 192.0.2.9 20005 --json | jq -c .janus)"
check_eq "grouped: a subscriber's attach, candidate and selected pair" 200 \
	"$(post "[$(joined 1 12 1234 attached),$(cand 1 12 20002),$(pair 1 12 20003)]")"
check_eq "candidate before the join" 200 "$(post "[$(cand 2 21 20004),$(joined 2 21 1234)]")"
check_eq "A's Janus ports: four handles' ports" "20001 20002 20003 20004" "$(dyn A)"
check_eq "A's operator ports: none" "" "$("$GEOBLOCK" meeting list --json |
	jq -r '.[] | select(.name == "A") | .ports | join(",")')"

post "[$(joined 2 22 1234),$(cand 2 22 20005),$(cand 2 22 20006)]" >/dev/null
check_eq "O's port is not taken" O "$(owner 20005)"
check_eq "the shared port is not taken" - "$(owner 20006)"
check_eq "both refused" 2 "$(count refused)"
check "the refusal is logged" grep -q 'port 20005 of handle 22 in room 1234 not given' "$tmp/daemon.err"

post "[$(joined 3 31 999),$(cand 3 31 20007),$(cand 3 32 20010 tcp),$(cand 3 33 70000)]" >/dev/null
check_eq "a room of no meeting: its port stays no meeting's" - "$(owner 20007)"
check_eq "a TCP candidate: nothing" - "$(owner 20010)"
before=$(count events)
check_eq "unknown type: 200" 200 "$(post '{"type":128,"session_id":1,"handle_id":11,"event":{"x":1}}')"
check_eq "a detach of an unknown handle: 200" 200 \
	"$(post '{"type":2,"session_id":9,"handle_id":99,"event":{"name":"detached"}}')"
check_eq "not JSON: 400" 400 "$(post 'garbage{')"
check_eq "no type: 400" 400 "$(post '{"event":{}}')"
check_eq "an array with a bad event: 400" 400 "$(post '[1,2]')"
check_eq "malformed counted (the candidate of port 70000 among them)" 5 "$(count malformed)"
check_eq "all counted (each of an array's)" $((before + 6)) "$(count events)"
check "logged once" test "$(grep -c 'malformed event' "$tmp/daemon.err")" -eq 1
check_eq "GET elsewhere: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "${URL%/janus-events}/x")"
check_eq "A's Janus ports unchanged" "20001 20002 20003 20004" "$(dyn A)"

# A burst: 10,000 media statistics events, grouped.
jq -nc '[range(10000) | {type: 32, subtype: 3, session_id: 1, handle_id: 11,
	event: {media: "audio", packets_received: .}}]' >"$tmp/burst.json"
before=$(count events)
check_eq "10,000 events at once: 200" 200 "$(post "@$tmp/burst.json")"
check_eq "10,000 counted" $((before + 10000)) "$(count events)"
# The same counters on the metrics page.
janus_metrics() {
	curl -s "$(sed -n 's/^serving metrics on //p' "$tmp/daemon.log")" | grep '^geoblock_janus_' |
		sort
}
expected_metrics() {
	counts | jq -r '"geoblock_janus_events_total{outcome=\"used\"} \(.events - .ignored - .malformed)",
		"geoblock_janus_events_total{outcome=\"ignored\"} \(.ignored)",
		"geoblock_janus_events_total{outcome=\"malformed\"} \(.malformed)",
		"geoblock_janus_joins_total \(.joined)", "geoblock_janus_ports_given_total \(.ports_given)",
		"geoblock_janus_ports_taken_total \(.ports_taken)",
		"geoblock_janus_ports_refused_total \(.refused)", "geoblock_janus_hangups_total \(.hangups)"' |
		sort
}
check_eq "metrics: the events' counters" "$(expected_metrics)" "$(janus_metrics)"
check "metrics: malformed 5, refused 2" bash -c "grep -qx 'geoblock_janus_events_total{outcome=\"malformed\"} 5' <<<'$(janus_metrics)' &&
	grep -qx 'geoblock_janus_ports_refused_total 2' <<<'$(janus_metrics)'"
check_eq "nothing changed by them" "20001 20002 20003 20004" "$(dyn A)"
check_eq "the saved rule set holds no Janus port" "$operator_rules" "$(saved_rules)"

# A port past 65535 is a malformed event, not one wrapped onto a port of this host: 4294975097
# (2^32 + 7801) in a candidate's string, a server reflexive one's base, a selected pair's string
# and its structured candidates.local.port (the build before gave 7801-7804 to A). A subtype of
# 2^32 + 2 is no local candidate (2): an event of no use, ignored.
before=$(count malformed)
big=$((1 << 32))
srflx_big='{"type":16,"subtype":2,"session_id":3,"handle_id":34,"event":{"local-candidate":"1 1 udp 1677729535 203.0.113.5 40001 typ srflx raddr 127.0.0.1 rport '$((big + 7802))'"}}'
pair_big='{"type":16,"subtype":4,"session_id":3,"handle_id":34,"event":{"candidates":{"local":{"address":"127.0.0.1","port":'$((big + 7804))',"type":"host","transport":"udp"},"remote":{"address":"85.214.1.1","port":40000,"type":"host","transport":"udp"}}}}'
sub_big='{"type":16,"subtype":'$((big + 2))',"session_id":3,"handle_id":34,"event":{"local-candidate":"1 1 udp 2015363327 127.0.0.1 7805 typ host"}}'
check_eq "a handle in A's room: 200" 200 "$(post "$(joined 3 34 1234)")"
check_eq "a host candidate of port 2^32 + 7801: 400" 400 "$(post "$(cand 3 34 $((big + 7801)))")"
check_eq "a server reflexive candidate of base 2^32 + 7802: 400" 400 "$(post "$srflx_big")"
check_eq "a selected pair of local port 2^32 + 7803: 400" 400 \
	"$(post "$(pair 3 34 $((big + 7803)))")"
check_eq "a selected pair, structured, of local port 2^32 + 7804: 400" 400 "$(post "$pair_big")"
check_eq "... each counted as malformed" $((before + 4)) "$(count malformed)"
check_eq "a local candidate of subtype 2^32 + 2: 200, ignored" 200 "$(post "$sub_big")"
check_eq "no port of them is A's: 7801-7805" "- - - - -" \
	"$(for p in 7801 7802 7803 7804 7805; do owner $p; done | xargs)"
check_eq "nor one of A's Janus ports" "20001 20002 20003 20004" "$(dyn A)"
post '{"type":2,"session_id":3,"handle_id":34,"event":{"name":"detached"}}' >/dev/null
# A string room (Janus's string_ids) is no numeric room, whatever its digits: "1234-lobby" and
# "1234" join no meeting (the build before gave "1234-lobby" A's room, 1234).
for room in '"1234-lobby"' '"1234"'; do
	check_eq "a handle joined to room $room: 200" 200 "$(post "$(joined 3 35 "$room")")"
	check_eq "... its candidate: 200" 200 "$(post "$(cand 3 35 7806)")"
	check_eq "... its port is no meeting's" - "$(owner 7806)"
	post '{"type":2,"session_id":3,"handle_id":35,"event":{"name":"detached"}}' >/dev/null
done

# apply replaces A (make-before-break); its Janus ports go with it.
{ echo "meeting add A --janus-room 1234 --block DE,FR"; echo "meeting add O --ports 20005 --block FR"; } \
	>"$tmp/rules"
check "apply: A blocks FR too" "$GEOBLOCK" apply "$tmp/rules" >/dev/null
check_eq "A's Janus ports follow its new version" "20001 20002 20003 20004" "$(dyn A)"
check_eq "and are A's in the maps" A "$(owner 20003)"
check_eq "the saved rule set: the file" "$(sort "$tmp/rules")" "$(saved_rules | sort)"

check_eq "hangup" 200 \
	"$(post '{"type":16,"subtype":6,"session_id":1,"handle_id":11,"event":{"connection":"hangup","reason":"Close PC"}}')"
check_eq "hangup: its port goes back" - "$(owner 20001)"
check_eq "detach" 200 "$(post '{"type":2,"session_id":1,"handle_id":12,"event":{"name":"detached"}}')"
check_eq "detach: its ports go back" "20004" "$(dyn A)"
check_eq "session destroyed" 200 "$(post '{"type":1,"session_id":2,"event":{"name":"destroyed"}}')"
check_eq "session destroyed: its handles' ports go back" "" "$(dyn A)"

# An event that gives a port waits for the state lock (held here, as a long `geoip load` holds
# it): meanwhile a scrape answers at once, counters and all.
exec {LOCK}>"$GEOBLOCK_STATE_DIR/lock"
flock "$LOCK"
(
	exec {LOCK}>&-
	post "[$(joined 9 91 1234),$(cand 9 91 20040)]" >/dev/null
) &
post_pid=$!
inode=$(stat -c %i "$GEOBLOCK_STATE_DIR/lock")
# A process waiting for the lock: /proc/locks lists it under the holder with "->".
lock_waited() { grep -q -- "-> FLOCK .*:$inode " /proc/locks; }
check "the event waits for the lock" wait_until 10 lock_waited
scrape=$(curl -s -m 5 "$(sed -n 's/^serving metrics on //p' "$tmp/daemon.log")")
check_eq "a scrape meanwhile answers, with the events' counters" 8 \
	"$(grep -c '^geoblock_janus_' <<<"$scrape")"
exec {LOCK}>&-
wait "$post_pid"
check_eq "once the lock is free, the event gives its port" A "$(owner 20040)"
check_eq "its handle detached" 200 "$(post '{"type":2,"session_id":9,"handle_id":91,"event":{"name":"detached"}}')"
check_eq "its port goes back" - "$(owner 20040)"

kill_child "$pid"
start_daemon 2
post "[$(joined 4 41 1234),$(cand 4 41 20008)]" >/dev/null
check_eq "a handle that goes silent" 20008 "$(dyn A)"
check "after --janus-idle 2 (and the 5 s pass) its port goes back" wait_until 10 dyn_is A ""
check "... audited as janus idle" grep -q '"command":"janus idle",.*handle 41",.*"- port 20008 meeting A"' "$GEOBLOCK_STATE_DIR/audit.log"

# 200 handles join and leave (hangup, detach, session end in turn): no port is left behind.
for ((i = 0; i < 200; i++)); do
	case $((i % 3)) in
	0) end='{"type":16,"subtype":6,"session_id":70,"handle_id":'$((700 + i))',"event":{"connection":"hangup"}}' ;;
	1) end='{"type":2,"session_id":70,"handle_id":'$((700 + i))',"event":{"name":"detached"}}' ;;
	2) end='{"type":1,"session_id":70,"event":{"name":"destroyed"}}' ;;
	esac
	post "[$(joined 70 $((700 + i)) 1234),$(cand 70 $((700 + i)) $((21000 + i % 50))),$end]" >/dev/null
done
check_eq "200 join/leave cycles: no port left in A" "" "$(dyn A)"
check_eq "200 join/leave cycles: none in the maps" "" "$(for p in 21000 21025 21049; do
	[[ $(owner $p) == - ]] || echo "$p"; done)"
check_eq "200 join/leave cycles: given and taken alike" "$(count ports_given)" "$(count ports_taken)"

# A restarted daemon cannot know its predecessor's handles still live: it takes their ports back.
post "[$(joined 5 51 1234),$(cand 5 51 20009)]" >/dev/null
kill_child "$pid"
check_eq "the daemon gone, the port stays A's" A "$(owner 20009)"
check_eq "and listed" 20009 "$(dyn A)"
start_daemon
check_eq "a new daemon takes it back" - "$(owner 20009)"
check "... audited as janus start" grep -q '"command":"janus start",.*handle 51",.*"- port 20009 meeting A"' "$GEOBLOCK_STATE_DIR/audit.log"
post "[$(joined 6 61 1234),$(cand 6 61 20011)]" >/dev/null
check_eq "a port again" A "$(owner 20011)"
check "meeting del A" "$GEOBLOCK" meeting del A >/dev/null
check_eq "meeting del: the port is no meeting's" - "$(owner 20011)"
check "janus-ports forgets it" bash -c "! grep -q '^20011 ' '$GEOBLOCK_STATE_DIR/janus-ports'"
# The handle lives on, silent: A added again gets its port back within a pass, no event needed.
check "meeting add A again" "$GEOBLOCK" meeting add A --janus-room 1234 --block DE >/dev/null
check "A again: the live handle's port is A's within a pass" wait_until 10 dyn_is A 20011
check_eq "and A's in the maps" A "$(owner 20011)"
# A room the meeting no longer covers takes its handles' ports with it.
{ echo "meeting add A --ports 20300 --block DE"; echo "meeting add O --ports 20005 --block FR"; } \
	>"$tmp/rules"
check "apply: A without room 1234" "$GEOBLOCK" apply "$tmp/rules" >/dev/null
check_eq "the room's port is no meeting's" - "$(owner 20011)"
check_eq "A's ports: the operator's alone" "20300" "$("$GEOBLOCK" meeting list --json |
	jq -r '.[] | select(.name == "A") | .ports | join(",")')"
check "janus-ports forgets the room's port" bash -c "! grep -q '^20011 ' '$GEOBLOCK_STATE_DIR/janus-ports'"
check_eq "the saved rule set: the file" "$(sort "$tmp/rules")" "$(saved_rules | sort)"
{ echo "meeting add A --ports 20300 --janus-room 1234 --block DE"; echo "meeting add O --ports 20005 --block FR"; } \
	>"$tmp/rules"
check "apply: A with room 1234 again" "$GEOBLOCK" apply "$tmp/rules" >/dev/null
check "the room's port is A's again within a pass" wait_until 10 dyn_is A 20011
# A room moved to another meeting: its handles' ports move with it, at once.
{ echo "meeting add A --ports 20300 --block DE"; echo "meeting add O --ports 20005 --block FR"
  echo "meeting add M --janus-room 1234 --block FR --monitor"; } >"$tmp/rules"
check "apply: room 1234 moved to M" "$GEOBLOCK" apply "$tmp/rules" >/dev/null
check_eq "the room's port is M's at once" M "$(owner 20011)"
check_eq "M's Janus ports" 20011 "$(dyn M)"
check_eq "janus-ports names M" "20011 M 1234 6 61" "$(grep '^20011 ' "$GEOBLOCK_STATE_DIR/janus-ports")"
check_eq "the saved rule set: the file" "$(sort "$tmp/rules")" "$(saved_rules | sort)"
check_eq "a detach takes it from M" 200 \
	"$(post '{"type":2,"session_id":6,"handle_id":61,"event":{"name":"detached"}}')"
check_eq "a detach: the port is no meeting's" - "$(owner 20011)"
# A server reflexive candidate gives its base port (rport), a relayed one nothing.
srflx='{"type":16,"subtype":2,"session_id":6,"handle_id":62,"event":{"local-candidate":"1 1 udp 1677729535 203.0.113.5 40001 typ srflx raddr 127.0.0.1 rport 20061 generation 0"}}'
relay='{"type":16,"subtype":2,"session_id":6,"handle_id":62,"event":{"local-candidate":"3 1 udp 16777215 203.0.113.9 40002 typ relay raddr 203.0.113.5 rport 40001"}}'
relay_pair='{"type":16,"subtype":4,"session_id":6,"handle_id":62,"event":{"selected-pair":"203.0.113.9:40002 [relay,udp] <-> 85.214.1.1:40000 [host,udp]"}}'
check_eq "srflx and relay candidates: 200" 200 "$(post "[$(joined 6 62 1234),$srflx,$relay,$relay_pair]")"
check_eq "srflx: its base port is M's" M "$(owner 20061)"
check_eq "srflx: its NAT's port is not" - "$(owner 40001)"
check_eq "relay: its port is not" - "$(owner 40002)"
# One daemon per state dir: a second would take the first's Janus ports and API socket.
"$GEOBLOCK" daemon --metrics 127.0.0.1:0 --janus-events 127.0.0.1:0 >"$tmp/second.out" 2>"$tmp/second.err"
check_eq "a second daemon: exit 2, one line" \
	"2 geoblock: daemon: another geoblock daemon (pid $pid) serves state dir $GEOBLOCK_STATE_DIR; stop it first" \
	"$? $(cat "$tmp/second.err")"
check_eq "a second daemon: the first's port stays" M "$(owner 20061)"
check "meeting del M" "$GEOBLOCK" meeting del M >/dev/null
# A port Janus gave a new handle before the old one's end reached us: the old one's, given
# again by no pass, and its late end takes nothing from the new one.
check "meeting add Z on room 4444" "$GEOBLOCK" meeting add Z --janus-room 4444,1234 --block DE >/dev/null
post "[$(joined 12 121 1234),$(cand 12 121 20070),$(joined 12 122 1234),$(cand 12 122 20070)]" >/dev/null
check_eq "a port given anew: the new handle's" "20070 Z 1234 12 122" \
	"$(grep '^20070 ' "$GEOBLOCK_STATE_DIR/janus-ports")"
post "[$(joined 12 123 4444),$(cand 12 123 20071)]" >/dev/null
check "meeting del Z, add Z" bash -c "'$GEOBLOCK' meeting del Z >/dev/null &&
	'$GEOBLOCK' meeting add Z --janus-room 4444,1234 --block DE >/dev/null"
check "a pass gives the live handles their ports again" wait_until 10 dyn_is Z "20061 20070 20071"
check_eq "the port given anew is still the new handle's" "20070 Z 1234 12 122" \
	"$(grep '^20070 ' "$GEOBLOCK_STATE_DIR/janus-ports")"
check_eq "an event of the old handle (another port)" 200 "$(post "$(cand 12 121 20072)")"
check_eq "takes the port given anew back: no" "20070 Z 1234 12 122" \
	"$(grep '^20070 ' "$GEOBLOCK_STATE_DIR/janus-ports")"
check_eq "the old handle's late end" 200 \
	"$(post '{"type":2,"session_id":12,"handle_id":121,"event":{"name":"detached"}}')"
check_eq "takes nothing from the new one" Z "$(owner 20070)"
check_eq "the session ends" 200 "$(post '{"type":1,"session_id":12,"event":{"name":"destroyed"}}')"
check "meeting del Z" "$GEOBLOCK" meeting del Z >/dev/null
check "meeting add A on room 1234 again" "$GEOBLOCK" apply <(echo "meeting add A --janus-room 1234 --block DE"; echo "meeting add O --ports 20005 --block FR") >/dev/null
check "the audit log has the daemon's changes" \
	test "$(grep -c '"command":"janus event"' "$GEOBLOCK_STATE_DIR/audit.log")" -ge 9
check "the daemon is up" kill -0 "$pid"

# A hangup under way (Janus's Admin API slow to answer) holds up no event: the address checks
# and the Admin API are asked without the lock the events need, else a port is given late and a
# blocked client's DTLS can complete first.
kill_child "$pid"
printf '85.214.1.0,85.214.1.255,DE\n' >"$tmp/table.csv"
check "geoip load: 85.214.1.0/24 is DE" quiet "$GEOBLOCK" geoip load --force "$tmp/table.csv"
check "meeting add H on room 4321" quiet "$GEOBLOCK" meeting add H --janus-room 4321 --block DE
admin_stub "$tmp/admin" stall
echo secret >"$tmp/admin_secret"
start_daemon 60 --janus-admin "$ADMIN" --janus-admin-secret "$tmp/admin_secret" --janus-hangup
check_eq "a DE client's handle in H (its selected pair from 85.214.1.1): 200" 200 \
	"$(post "[$(joined 8 81 4321),$(pair 8 81 20021)]")"
check "the hangup pass asks Janus to hang it up" wait_until 10 test -e "$tmp/admin/asked"
check_eq "an event while Janus has not answered: 200 (in under 3 s)" 200 \
	"$(curl -s -o /dev/null -m 3 -w '%{http_code}' -X POST \
		--data-binary "[$(joined 8 82 4321),$(cand 8 82 20022)]" "$URL")"
check_eq "its port is H's already" H "$(owner 20022)"
check "and Janus has still not answered the hangup" test ! -e "$tmp/admin/answered"
touch "$tmp/admin/release"
check "then Janus answers" wait_until 10 test -e "$tmp/admin/answered"
hung_up() { janus_metrics | grep -qx 'geoblock_janus_hangups_total 1'; }
check "metrics: the hangup counted" wait_until 5 hung_up
check_eq "GET /janus-events: the hangup counted" 1 "$(count hangups)"
check "the hangup is audited" wait_until 5 grep -q \
	'"command":"janus hangup".*handle 81: 85.214.1.1 is in DE, blocked by meeting H' \
	"$GEOBLOCK_STATE_DIR/audit.log"

# A hangup Janus refuses (a wrong admin secret) is asked again after 10 s, then later and later:
# not at every pass of the daemon (5 s), each an audit record and a call that may wait 5 s.
kill_child "$pid"
admin_stub "$tmp/refusing" refuse
start_daemon 60 --janus-admin "$ADMIN" --janus-admin-secret "$tmp/admin_secret" --janus-hangup
asked() { grep -c . "$tmp/refusing/hangups" 2>/dev/null; }
asked_is() { [[ $(asked) == "$1" ]]; }
post "[$(joined 8 83 4321),$(pair 8 83 20023)]" >/dev/null
check "a refused hangup: asked once" wait_until 10 asked_is 1
refused_audited() { grep -q '"command":"janus hangup".*handle 83: .*"result":"failed' \
	"$GEOBLOCK_STATE_DIR/audit.log"; }
check "... audited as failed" wait_until 10 refused_audited
# No event to await for a pass that asks nothing: a bound past one pass (5 s), short of 10 s.
sleep 8
check_eq "... not asked again at the next pass" "1 /admin/8/83" \
	"$(asked) $(sort -u "$tmp/refusing/hangups" | paste -sd' ')"
check "... asked again later" wait_until 20 asked_is 2

# A take-back that fails (the state lock cannot be opened: made immutable) keeps the handle's
# ports, taken back by the daemon's pass (10 s later) once it can: they stayed the meeting's.
kill_child "$pid"
start_daemon
post "[$(joined 10 101 1234),$(cand 10 101 20031)]" >/dev/null
check_eq "a handle's port in A" A "$(owner 20031)"
if chattr +i "$GEOBLOCK_STATE_DIR/lock"; then
	on_exit chattr -i "$GEOBLOCK_STATE_DIR/lock"
	check_eq "its hangup while the lock cannot be opened: taken" 200 \
		"$(post '{"type":16,"subtype":6,"session_id":10,"handle_id":101,"event":{"connection":"hangup"}}')"
	check_eq "... its port still A's (not taken back)" A "$(owner 20031)"
	chattr -i "$GEOBLOCK_STATE_DIR/lock"
	check "... taken back by the pass once the lock opens" wait_until 20 dyn_is A ""
	check_eq "... out of the maps" - "$(owner 20031)"
	# A handle moved to another meeting's room while its take cannot be made: its port goes to
	# that meeting once taken (it was refused there for good, as another meeting's).
	check "meeting add RB on room 5679" quiet "$GEOBLOCK" meeting add RB --janus-room 5679 \
		--block DE
	post "[$(joined 10 102 1234),$(cand 10 102 20032)]" >/dev/null
	check_eq "a handle's port in A" A "$(owner 20032)"
	chattr +i "$GEOBLOCK_STATE_DIR/lock"
	check_eq "it joins RB's room while the lock cannot be opened: taken" 200 \
		"$(post "$(joined 10 102 5679)")"
	chattr -i "$GEOBLOCK_STATE_DIR/lock"
	check "... its port RB's once the pass takes it from A" wait_until 20 dyn_is RB 20032
	check_eq "... in the maps" RB "$(owner 20032)"
	# A daemon's start that cannot take back its predecessor's ports (the lock cannot be
	# opened) takes them back at a pass once it can (the build before never did).
	kill_child "$pid"
	chattr +i "$GEOBLOCK_STATE_DIR/lock"
	start_daemon
	check "a start that cannot take them back says so" grep -q \
		"cannot take back the ports of a former daemon's Janus handles yet" "$tmp/daemon.err"
	check_eq "... the predecessor's port still RB's" RB "$(owner 20032)"
	chattr -i "$GEOBLOCK_STATE_DIR/lock"
	owner_is() { [[ $(owner "$1") == "$2" ]]; }
	check "... taken back by a pass once the lock opens" wait_until 20 owner_is 20032 -
else
	fail "chattr +i does not work on $GEOBLOCK_STATE_DIR: a failing take-back untested"
fi

# An expired meeting forgets its rooms and its handles' ports, as meeting del does: else a meeting
# of its name added later would have its own port taken for a Janus port.
check "meeting add X on room 7777, expiring in 3 s" "$GEOBLOCK" meeting add X --janus-room 7777 \
	--block DE --expires "$(date -u -d '+3 sec' +%FT%TZ)" >/dev/null
post "[$(joined 9 91 7777),$(cand 9 91 20095)]" >/dev/null
check_eq "X's handle's port" X "$(owner 20095)"
x_gone() { ! "$GEOBLOCK" meeting list --json | jqe '.[] | select(.name == "X")' >/dev/null; }
check "X expires (the daemon's pass)" wait_until 15 x_gone
check "janus-ports forgets the expired meeting's port" \
	bash -c "! grep -q '^20095 ' '$GEOBLOCK_STATE_DIR/janus-ports'"
check "janus-rooms forgets its room" bash -c "! grep -qw 7777 '$GEOBLOCK_STATE_DIR/janus-rooms'"
check "meeting add X again, port 20095 its own" "$GEOBLOCK" meeting add X --ports 20095 --block DE >/dev/null
check_eq "X's ports: the operator's" 20095 "$("$GEOBLOCK" meeting list --json |
	jq -r '.[] | select(.name == "X") | .ports | join(",")')"
kill_child "$pid"
start_daemon 60 --api "$tmp/api.sock"
check_eq "a new daemon leaves the operator's port to X" X "$(owner 20095)"
check "its control API listens" wait_until 10 test -S "$tmp/api.sock"

# The operator naming a port a handle of the meeting holds makes it the operator's: saved,
# audited, and kept when the handle ends (`meeting ports add`, `apply`); removing a handle's port
# is refused, it is not the operator's.
post "[$(joined 20 201 1234),$(cand 20 201 20101),$(cand 20 201 20102),$(cand 20 201 20103)]" >/dev/null
check_eq "three handle's ports in A" "20101 20102 20103" "$(dyn A)"
"$GEOBLOCK" meeting ports del A 20101 >"$tmp/out" 2>"$tmp/err"
check_eq "meeting ports del of a handle's port: refused" \
	"1 geoblock: meeting ports del: port 20101 is not meeting \"A\"'s own: a Janus handle in its room 1234 holds it while it lives" \
	"$? $(cat "$tmp/err")"
"$GEOBLOCK" meeting ports add A 20101 >"$tmp/out" 2>"$tmp/err"
check_eq "meeting ports add of a handle's port: added, its own told from the handles'" \
	"0 meeting A: ports 20101 (1 added); its Janus handles hold 20102-20103" \
	"$? $(cat "$tmp/out" "$tmp/err")"
check_eq "the API's ports route tells them apart too" \
	'{"ports":["20101"],"janus_ports":["20102-20103"],"changed":0}' \
	"$(curl -s --unix-socket "$tmp/api.sock" -X POST http://geoblock/v1/meetings/A/ports \
		-d '{"add":[20101]}' | jq -c '{ports, janus_ports, changed}')"
check_eq "... saved" "meeting add A --ports 20101 --janus-room 1234 --block DE" \
	"$(saved_rules | grep '^meeting add A ')"
check "... audited" bash -c "tail -n1 '$GEOBLOCK_STATE_DIR/audit.log' |
	grep -qF '\"+ meeting add A --ports 20101 --janus-room 1234 --block DE\"'"
check_eq "... no longer a handle's" "20102 20103" "$(dyn A)"
{ echo "meeting add A --ports 20101-20102 --janus-room 1234 --block DE"
  echo "meeting add O --ports 20005 --block FR"; echo "meeting add H --janus-room 4321 --block DE"
  echo "meeting add X --ports 20095 --block DE"; } >"$tmp/rules"
check "apply naming another of the handle's ports" quiet "$GEOBLOCK" apply "$tmp/rules"
check_eq "apply: saved as the file says" "$(sort "$tmp/rules")" "$(saved_rules | sort)"
check_eq "apply: the handle keeps the port not named" "20103" "$(dyn A)"
"$GEOBLOCK" meeting add S --ports 20103 --block DE >/dev/null 2>"$tmp/err"
check_eq "another meeting's add of a handle's port: refused, the handle named" \
	"1 geoblock: meeting add: port 20103 already belongs to meeting \"A\" (a Janus handle in its room 1234 holds it)" \
	"$? $(cat "$tmp/err")"
"$GEOBLOCK" shared-port add 20103 >/dev/null 2>"$tmp/err"
check_eq "shared-port add of a handle's port: refused, the handle named" \
	"1 geoblock: shared-port add: port 20103 belongs to meeting \"A\" (a Janus handle in its room 1234 holds it); a port is either a meeting's or shared" \
	"$? $(cat "$tmp/err")"
check_eq "the handle detached" 200 "$(post '{"type":2,"session_id":20,"handle_id":201,"event":{"name":"detached"}}')"
check_eq "the operator's ports stay A's" "A A -" "$(owner 20101) $(owner 20102) $(owner 20103)"
check_eq "... and saved" "$(sort "$tmp/rules")" "$(saved_rules | sort)"

# A hangup ends the PeerConnection, not the handle: a new one on it (a publisher publishing
# again, with no new join) gives its new port to the room's meeting.
post "[$(joined 21 211 1234),$(cand 21 211 20111)]" >/dev/null
check_eq "a handle's port" A "$(owner 20111)"
post '{"type":16,"subtype":6,"session_id":21,"handle_id":211,"event":{"connection":"hangup"}}' >/dev/null
check_eq "hangup: the port goes back" - "$(owner 20111)"
check_eq "a new PeerConnection on the handle: its candidate" 200 "$(post "$(cand 21 211 20112)")"
check_eq "its port is the room's meeting's" A "$(owner 20112)"
post '{"type":2,"session_id":21,"handle_id":211,"event":{"name":"detached"}}' >/dev/null
check_eq "detached: back" - "$(owner 20112)"

# A port refused while another meeting's handle held it is given once that one lets it go.
check "meeting add B on room 5678" quiet "$GEOBLOCK" meeting add B --janus-room 5678 --block FR
post "[$(joined 22 221 5678),$(cand 22 221 20121)]" >/dev/null
check_eq "B's handle's port" B "$(owner 20121)"
post "[$(joined 23 231 1234),$(cand 23 231 20121)]" >/dev/null
check_eq "Janus gave it to a handle in A's room: refused while B's holds it" B "$(owner 20121)"
post '{"type":2,"session_id":22,"handle_id":221,"event":{"name":"detached"}}' >/dev/null
check "once B's handle ends, the live handle's port is A's within a pass" wait_until 10 dyn_is A 20121
post '{"type":2,"session_id":23,"handle_id":231,"event":{"name":"detached"}}' >/dev/null

# A port refused for an operator's rule is not taken later, even once the rule lets it go.
check "meeting add O2 on ports 20131-20132" quiet "$GEOBLOCK" meeting add O2 --ports 20131-20132 --block FR
post "[$(joined 25 251 1234),$(cand 25 251 20131),$(cand 25 251 20133)]" >/dev/null
check_eq "an operator's port: refused" "O2 A" "$(owner 20131) $(owner 20133)"
check "the operator lets it go" quiet "$GEOBLOCK" meeting ports del O2 20131
# A pass runs: A deleted and added again, its live handle's port comes back within one.
check "meeting del A, add A" bash -c "'$GEOBLOCK' meeting del A >/dev/null &&
	'$GEOBLOCK' apply '$tmp/rules' >/dev/null"
check "a pass gives the handle its own port back" wait_until 10 dyn_is A 20133
check_eq "... but not the port refused for the operator's rule" - "$(owner 20131)"
post '{"type":2,"session_id":25,"handle_id":251,"event":{"name":"detached"}}' >/dev/null

# A join repeated for the same handle and room counts once.
before=$(count joined)
post "$(joined 24 241 1234)" >/dev/null
post "[$(joined 24 241 1234),$(joined 24 241 1234 attached)]" >/dev/null
check_eq "a handle's join, repeated: counted once" $((before + 1)) "$(count joined)"
post '{"type":2,"session_id":24,"handle_id":241,"event":{"name":"detached"}}' >/dev/null

# Bodies that are not one JSON object or array are malformed, each counted.
before=$(count malformed)
check_eq "a number: 400" 400 "$(post 42)"
check_eq "a string: 400" 400 "$(post '"x"')"
check_eq "an event with bytes after it: 400" 400 "$(post '{"type":128,"event":{}} x')"
check_eq "two events not in an array: 400" 400 "$(post '{"type":128,"event":{}} {"type":128,"event":{}}')"
check_eq "each counted as malformed" $((before + 4)) "$(count malformed)"
# A batch is judged event by event: one with a NUL in a string, or a number past 64 bits, does not
# lose its neighbours' join and candidate (the control API refuses such a body whole).
check_eq "a batch with odd neighbours: 200" 200 "$(post "[$(joined 26 261 1234),$(cand 26 261 20140),
	{\"type\":128,\"event\":{\"x\":\"a\\u0000b\",\"n\":99999999999999999999999}}]")"
check_eq "... its join and candidate taken" A "$(owner 20140)"
post '{"type":2,"session_id":26,"handle_id":261,"event":{"name":"detached"}}' >/dev/null
check "the daemon is up" kill -0 "$pid"

# With --janus-events-auth, a client without the credentials is answered 401 on its headers, before
# any of its body is gathered: the build before read it first (up to 8 MiB, each connection), and
# left a body that never came to the 30 s timeout, unanswered.
kill_child "$pid"
printf 'janus:s3cret\n' >"$tmp/auth"
start_daemon 60 --janus-events-auth "$tmp/auth"
# unsent [HEADER]: the status of a POST announcing 8,000,000 bytes of body and sending none (0 if
# the connection closed unanswered).
unsent() {
	/usr/bin/python3 - "$URL" "${1:-}" <<'PY'
import re, socket, sys
host, port = re.match(r"http://([^:/]+):(\d+)", sys.argv[1]).groups()
s = socket.create_connection((host, int(port)))
extra = (sys.argv[2] + "\r\n").encode() if sys.argv[2] else b""
s.sendall(b"POST /janus-events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: 8000000\r\n" + extra + b"\r\n")
s.settimeout(60)
got = b""
while b"\r\n" not in got:
    part = s.recv(4096)
    if not part:
        break
    got += part
print(got.split(b" ")[1].decode() if got else 0)
PY
}
check_eq "no credentials, the body unsent: 401" 401 "$(unsent)"
check_eq "wrong credentials, the body unsent: 401" 401 \
	"$(unsent "Authorization: Basic $(printf 'janus:wrong' | base64)")"
check_eq "the right ones: an event taken" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' -u janus:s3cret -X POST \
		--data-binary "$(joined 27 271 1234)" "$URL")"
check_eq "a GET without them: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$URL")"
check_eq "a GET with them: the counts" 1 "$(curl -s -u janus:s3cret "$URL" | jq .joined)"
check "the daemon is up" kill -0 "$pid"
summary
