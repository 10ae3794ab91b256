#!/usr/bin/env bash
# Janus VideoRoom rooms as meetings, against a real SFU and real WebRTC clients: Janus (Debian's
# janus 1.1.2) in a server namespace, its HTTP API on 192.0.2.1:8088, its sample event handler
# posting every event (events="all", grouping=false, basic auth) to `geoblock daemon
# --janus-events` in the same namespace; geoblock attached natively on the server's veth; WebRTC
# clients on two stacks, aiortc (tests/e2e/janus_client_aiortc.py) and GStreamer's webrtcbin with
# libnice (tests/e2e/janus_client_webrtcbin.py, the names ending in _gst), in namespaces whose only
# address is German (85.214.1.1) or French (90.84.1.1) in DB-IP lite, joined by a bridge. Meeting
# A covers room 1234, meeting B room 5678; neither blocks anyone here at first (JP).
#   1. FR and DE publish in A (aiortc), DE in B on each stack, an FR subscriber on each stack in
#      A receives FR's media: all connect; Janus receives the webrtcbin publisher's media (Admin
#      API); each handle's Janus port (the subscribers' too) is a dynamic port of its room's
#      meeting (`meeting list --json` janus_ports), not an operator port, and not in the saved
#      rule set;
#   1b. the daemon restarts with --janus-admin: the handles' ports come back from Janus's Admin API;
#   2. `geoblock apply` makes A block DE: the DE publisher in A is cut within 1 s (the (A, DE)
#      drop counter grows within 1 s, Janus reports its media stopped), FR's media to A (both
#      subscribers) and DE's to B (both publishers) go on, the dynamic ports stay with A's new
#      version;
#   3. with --janus-hangup, Janus is asked to hang up the DE publisher blocked mid-call; a new DE
#      publisher in A on each stack never connects: no DTLS, Janus never has it up nor its media
#      (its ICE alone may complete, if its first check beats the event by a millisecond), and is
#      hung up;
#   4. the clients end: their ports return to no meeting; the changes are audited.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
E2E=$ROOT/tests/e2e
PY=/usr/bin/python3
SRV_ADDR=192.0.2.1
DE=85.214.1.1
FR=90.84.1.1
ROOM_A=1234
ROOM_B=5678
CONNECT_S=30

$PY -c "import aiortc" 2>/dev/null ||
	{ fail "no python3 module aiortc (scripts/install-deps.sh)"; summary; exit; }
$PY -c "import gi; gi.require_version('GstWebRTC', '1.0')" 2>/dev/null ||
	{ fail "no GStreamer webrtcbin for python3 (scripts/install-deps.sh)"; summary; exit; }
JANUS=$(command -v janus) || { fail "no janus (scripts/install-deps.sh)"; summary; exit; }
JANUS_LIB=$(dirname "$(dpkg -L janus | grep -m1 '/janus/plugins/libjanus_videoroom.so$')")/..
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (run make first)"; summary; exit; }

phase() { echo "[${SECONDS}s] $*"; }
tmp=$(mktemp -d /tmp/gbjanus.XXXXXX)
on_exit rm -rf "$tmp"
keep_logs() {
	local keep=$BUILD/test-logs/janus_rooms_real_clients
	((FAILED)) || [[ -n ${GB_JANUS_KEEP:-} ]] || return 0
	rm -rf "$keep" && mkdir -p "$keep" && cp "$tmp"/*.log "$tmp"/*.err "$keep"/ 2>/dev/null
}
on_exit keep_logs

phase "GeoIP"
geoip_data || { fail "fetch databases"; summary; exit; }
check "geoip load dbip" "$GEOBLOCK" geoip load "$GEOBLOCK_DATA_DIR/dbip-country-ipv4.mmdb" \
	>/dev/null
check_eq "$DE is in DE" "$DE DE" "$("$GEOBLOCK" geoip lookup "$DE")"
check_eq "$FR is in FR" "$FR FR" "$("$GEOBLOCK" geoip lookup "$FR")"

# Namespaces (gbj-*): the server, a switch and one per client country; no default route, no link
# to a real interface.
P=gbj$$
SRV=gbj-$$-srv
SW=gbj-$$-sw
NS_DE=gbj-$$-de
NS_FR=gbj-$$-fr
SRV_IF=${P}sv
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}
netns_up() {
	local ns port
	for ns in "$SRV" "$SW" "$NS_DE" "$NS_FR"; do
		ip netns add "$ns" || return 1
		on_exit ip netns del "$ns"
		ip -n "$ns" link set lo up || return 1
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	ip -n "$SW" link add br0 type bridge && ip -n "$SW" link set br0 up || return 1
	ip link add "$SRV_IF" netns "$SRV" type veth peer name "${P}bs" netns "$SW" || return 1
	ip link add "${P}de" netns "$NS_DE" type veth peer name "${P}bd" netns "$SW" || return 1
	ip link add "${P}fr" netns "$NS_FR" type veth peer name "${P}bf" netns "$SW" || return 1
	for port in "${P}bs" "${P}bd" "${P}bf"; do
		ip -n "$SW" link set "$port" master br0 up || return 1
	done
	ip -n "$SRV" link set "$SRV_IF" up &&
		ip -n "$SRV" addr add "$SRV_ADDR/32" dev "$SRV_IF" &&
		ip -n "$SRV" route add "$DE/32" dev "$SRV_IF" &&
		ip -n "$SRV" route add "$FR/32" dev "$SRV_IF" || return 1
	ip -n "$NS_DE" link set "${P}de" up && ip -n "$NS_DE" addr add "$DE/32" dev "${P}de" &&
		ip -n "$NS_DE" route add "$SRV_ADDR/32" dev "${P}de" || return 1
	ip -n "$NS_FR" link set "${P}fr" up && ip -n "$NS_FR" addr add "$FR/32" dev "${P}fr" &&
		ip -n "$NS_FR" route add "$SRV_ADDR/32" dev "${P}fr" || return 1
}
phase "namespaces"
netns_up || { fail "namespaces"; summary; exit; }

phase "geoblock: attach, meetings, daemon"
check "attach native in the server namespace" in_ns "$SRV" "$GEOBLOCK" attach "$SRV_IF" \
	--mode native >/dev/null
on_exit "$GEOBLOCK" detach "$SRV_IF"
# rules A_BLOCK: the rule set; meetings on Janus rooms alone, no operator port.
rules() {
	echo "meeting add A --janus-room $ROOM_A --block $1"
	echo "meeting add B --janus-room $ROOM_B --block JP"
}
rules JP >"$tmp/rules"
check "apply: A and B on Janus rooms" "$GEOBLOCK" apply "$tmp/rules" >/dev/null
echo "janus:$(head -c 12 /dev/urandom | base64 | tr -d '/+=')" >"$tmp/auth"
head -c 12 /dev/urandom | base64 | tr -d '/+=' >"$tmp/admin_secret"
# The daemon in the server namespace, on its loopback (a fixed port: Janus is told it once).
# start_daemon [OPTION...]: its output in $tmp/daemon.log and .err (appended).
start_daemon() {
	: >"$tmp/daemon.log"
	nsenter --net="/run/netns/$SRV" "$GEOBLOCK" daemon --metrics 127.0.0.1:0 \
		--janus-events 127.0.0.1:10067 --janus-events-auth "$tmp/auth" --janus-idle 30 "$@" \
		>>"$tmp/daemon.log" 2>>"$tmp/daemon.err" &
	DAEMON_PID=$!
	on_exit kill_child "$DAEMON_PID"
	if ! wait_until 10 grep -q '^serving Janus events on ' "$tmp/daemon.log"; then
		fail "daemon did not listen: $(cat "$tmp/daemon.err")"
		summary
		exit
	fi
}
start_daemon
EVENTS_URL=$(sed -n 's/^serving Janus events on //p' "$tmp/daemon.log")
check_eq "events without the password: 401" 401 "$(in_ns "$SRV" curl -s -o /dev/null \
	-w '%{http_code}' -X POST -d '{}' "$EVENTS_URL")"
# What the events did so far (GET on the endpoint).
event_counts() { in_ns "$SRV" curl -s -u "$(cat "$tmp/auth")" "$EVENTS_URL"; }

phase "janus"
CONF=$tmp/janus
mkdir -p "$CONF"
cat >"$CONF/janus.jcfg" <<JCFG
general: {
	configs_folder = "$CONF"
	plugins_folder = "$JANUS_LIB/plugins"
	transports_folder = "$JANUS_LIB/transports"
	events_folder = "$JANUS_LIB/events"
	loggers_folder = "$JANUS_LIB/loggers"
	log_to_stdout = true
	debug_level = 4
	interface = "$SRV_ADDR"
	session_timeout = 60
	admin_secret = "$(cat "$tmp/admin_secret")"
}
media: {
	rtp_port_range = "20000-20099"
	no_media_timer = 1
}
nat: {
	ice_tcp = false
	full_trickle = false
	ignore_mdns = true
	ice_enforce_list = "$SRV_ADDR"
}
plugins: {
	disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so"
}
transports: {
	disable = "libjanus_websockets.so,libjanus_pfunix.so,libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_rabbitmq.so"
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
events: {
	broadcast = true
	disable = "libjanus_gelfevh.so,libjanus_mqttevh.so,libjanus_nanomsgevh.so,libjanus_rabbitmqevh.so,libjanus_wsevh.so"
	stats_period = 5
}
JCFG
cat >"$CONF/janus.transport.http.jcfg" <<JCFG
general: {
	json = "plain"
	base_path = "/janus"
	http = true
	port = 8088
	ip = "$SRV_ADDR"
	https = false
}
admin: {
	admin_base_path = "/admin"
	admin_http = true
	admin_port = 7088
	admin_ip = "127.0.0.1"
	admin_https = false
}
JCFG
cat >"$CONF/janus.plugin.videoroom.jcfg" <<JCFG
general: {
}
room-$ROOM_A: {
	description = "A"
	publishers = 6
	audiocodec = "opus"
}
room-$ROOM_B: {
	description = "B"
	publishers = 6
	audiocodec = "opus"
}
JCFG
cat >"$CONF/janus.eventhandler.sampleevh.jcfg" <<JCFG
general: {
	enabled = true
	events = "all"
	grouping = false
	json = "plain"
	backend = "$EVENTS_URL"
	backend_user = "$(cut -d: -f1 "$tmp/auth")"
	backend_pwd = "$(cut -d: -f2- "$tmp/auth")"
}
JCFG
nsenter --net="/run/netns/$SRV" "$JANUS" -F "$CONF" -C "$CONF/janus.jcfg" \
	>"$tmp/janus.log" 2>"$tmp/janus.err" &
JANUS_PID=$!
on_exit kill_child "$JANUS_PID"
JANUS_URL=http://$SRV_ADDR:8088/janus
if ! wait_until 20 in_ns "$SRV" curl -sf -o /dev/null "$JANUS_URL/info"; then
	fail "janus did not start: $(tail -5 "$tmp/janus.log")"
	summary
	exit
fi

CLIENTS="fr_a de_a de_b de_b_gst fr_sub fr_sub_gst de_a2 de_a2_gst"
declare -A PID NS_OF=([fr_a]=$NS_FR [de_a]=$NS_DE [de_b]=$NS_DE [de_b_gst]=$NS_DE
	[fr_sub]=$NS_FR [fr_sub_gst]=$NS_FR [de_a2]=$NS_DE [de_a2_gst]=$NS_DE)
declare -A ROOM_OF=([fr_a]=$ROOM_A [de_a]=$ROOM_A [de_b]=$ROOM_B [de_b_gst]=$ROOM_B
	[fr_sub]=$ROOM_A [fr_sub_gst]=$ROOM_A [de_a2]=$ROOM_A [de_a2_gst]=$ROOM_A)
# start_client NAME [FEED]: a publisher, or with FEED a subscriber to that publisher; on
# webrtcbin for a NAME ending in _gst, else on aiortc.
start_client() {
	local client=janus_client_aiortc.py
	[[ $1 == *_gst ]] && client=janus_client_webrtcbin.py
	nsenter --net="/run/netns/${NS_OF[$1]}" "$PY" "$E2E/$client" "$JANUS_URL" \
		"${ROOM_OF[$1]}" 120 ${2:+"$2"} >"$tmp/$1.log" 2>"$tmp/$1.err" &
	PID[$1]=$!
	on_exit kill_child "${PID[$1]}"
}
said() { grep -qx "$2" "$tmp/$1.log"; }
connected() { said "$1" 'conn connected' && said "$1" 'janus webrtcup'; }
# never_connected CLIENT: its PeerConnection never connected (ICE and DTLS), and Janus never had
# it up nor received its media. Its ICE alone may complete: Janus posts the event naming the
# port as it sends the answer holding it, and a client's first check can beat the event to the
# data path by a millisecond; from the next packet on it is dropped, DTLS with it (docs/janus.md).
never_connected() {
	! grep -Eqx 'conn connected|janus webrtcup|janus media audio receiving' "$tmp/$1.log"
}
janus_port() { awk '$1 == "janus-port" { print $2; exit }' "$tmp/$1.log"; }
# janus_in CLIENT: the RTP packets Janus received from the client, as its Admin API says.
janus_in() {
	local sid hid
	sid=$(awk '$1 == "session" { print $2; exit }' "$tmp/$1.log")
	hid=$(awk '$1 == "handle" { print $2; exit }' "$tmp/$1.log")
	jq -n --rawfile s "$tmp/admin_secret" \
		'{janus: "handle_info", transaction: "t", admin_secret: ($s | rtrimstr("\n"))}' |
		in_ns "$SRV" curl -s -d @- "http://127.0.0.1:7088/admin/${sid:-0}/${hid:-0}" |
		jq '[.info.webrtc.media[]?.stats.in.packets] | add // 0'
}
janus_in_over() { (($(janus_in "$1") > $2)); }
why_not() { # what a client said, for a failure message
	echo "$(grep -Ev '^candidate' "$tmp/$1.log" | tr '\n' ' ') $(tail -2 "$tmp/$1.err" | tr '\n' ' ')"
}
# dyn_ports MEETING: its dynamic ports (Janus handles'), sorted, space-separated.
dyn_ports() {
	"$GEOBLOCK" meeting list --json | jq -r --arg m "$1" \
		'[.[] | select(.name == $m) | .janus_ports[].port] | sort | map(tostring) | join(" ")'
}
# dyn_is MEETING PORTS, drops_over MEETING CC N: polled by wait_until (re-read at each try).
dyn_is() { [[ $(dyn_ports "$1") == "$2" ]]; }
drops_over() { (($(drops "$1" "$2") > $3)); }
op_ports() {
	"$GEOBLOCK" meeting list --json |
		jq -r --arg m "$1" '.[] | select(.name == $m) | .ports | join(",")'
}
# no_stop CLIENT: Janus never said it stopped receiving the client's media.
no_stop() { ! said "$1" 'janus media audio stopped'; }
drops() {
	"$GEOBLOCK" stats --json | jq --arg m "$1" --arg c "$2" \
		'[.drops[] | select(.meeting == $m and .country == $c) | .packets] | add // 0'
}
now() { date +%s.%N; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
plus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
until_time() { until le "$1" "$(now)"; do sleep 0.05; done; }

# ---- 1. FR and DE publish in A, DE in B ----
phase "1. fr_a and de_a publish in room A, de_b and de_b_gst in room B"
for c in fr_a de_a de_b de_b_gst; do
	start_client "$c"
done
for c in fr_a de_a de_b de_b_gst; do
	if wait_until "$CONNECT_S" connected "$c"; then
		pass
	else
		fail "$c connects in room ${ROOM_OF[$c]}: $(why_not "$c")"
	fi
done
check "Janus receives de_b_gst's media (Admin API)" wait_until 5 janus_in_over de_b_gst 0
# Subscribers from FR in A, to fr_a's feed: their handles' ports are A's too.
for c in fr_sub fr_sub_gst; do
	start_client "$c" "$(awk '$1 == "publisher-id" { print $2 }' "$tmp/fr_a.log")"
done
for c in fr_sub fr_sub_gst; do
	if wait_until "$CONNECT_S" connected "$c"; then pass; else fail "$c connects: $(why_not "$c")"; fi
	check "$c receives fr_a's media" wait_until 10 said "$c" 'received 100'
done
declare -A JPORT
for c in fr_a de_a de_b de_b_gst fr_sub fr_sub_gst; do
	JPORT[$c]=$(janus_port "$c")
	check "$c: Janus gave it a port in its range (${JPORT[$c]})" \
		test "${JPORT[$c]:-0}" -ge 20000 -a "${JPORT[$c]:-0}" -le 20099
done
# ports CLIENT...: their Janus ports, sorted, space-separated (as dyn_ports prints them).
ports() { for c; do echo "${JPORT[$c]}"; done | sort -n | paste -sd' '; }
want_a=$(ports fr_a de_a fr_sub fr_sub_gst)
want_b=$(ports de_b de_b_gst)
check "A's dynamic ports are its handles' ($want_a)" wait_until 5 dyn_is A "$want_a"
check "B's dynamic ports are its handles' ($want_b)" wait_until 5 dyn_is B "$want_b"
check_eq "A has no operator port" "" "$(op_ports A)"
check "the saved rule set holds the rooms and no dynamic port" \
	test "$(saved_rules | sort)" == "$(rules JP | sort)"
check_eq "explain: de_a's port is A's, room $ROOM_A, its handle" \
	"A $ROOM_A $(awk '$1 == "handle" { print $2 }' "$tmp/de_a.log")" \
	"$("$GEOBLOCK" explain "$DE" "${JPORT[de_a]}" --json | jq -r '"\(.meeting) \(.janus.room) \(.janus.handle)"')"
check_eq "no drops yet for (A, DE)" 0 "$(drops A DE)"

# A restarted daemon takes back what its predecessor gave, then asks Janus's Admin API.
phase "1b. the daemon restarts, rebuilding from the Admin API"
kill_child "$DAEMON_PID"
check_eq "the daemon gone, A keeps its ports" "$want_a" "$(dyn_ports A)"
start_daemon --janus-admin http://127.0.0.1:7088/admin --janus-admin-secret "$tmp/admin_secret"
check "it rebuilt the six handles" wait_until 10 grep -qx 'rebuilt 6 Janus handles from the Admin API' \
	"$tmp/daemon.log"
check "its predecessor's six ports were taken back first (audited)" \
	test "$(grep -o '"- port [0-9]* meeting [AB]"' "$GEOBLOCK_STATE_DIR/audit.log" | wc -l)" -ge 6
check_eq "A's ports again, from the Admin API" "$want_a" "$(dyn_ports A)"
check_eq "B's ports again" "$want_b" "$(dyn_ports B)"

# ---- 2. A blocks DE mid-call: de_a is cut within 1 s ----
phase "2. A blocks DE"
rules DE >"$tmp/rules"
a_de0=$(drops A DE)
b_gst0=$(janus_in de_b_gst)
check "apply: A blocks DE" "$GEOBLOCK" apply "$tmp/rules" >/dev/null
t_change=$(now)
# Polled against the clock (wait_until counts whole seconds).
t_grew=
while le "$(now)" "$(plus "$t_change" 1)"; do
	drops_over A DE "$a_de0" && { t_grew=$(now); break; }
	sleep 0.05
done
check "(A, DE) drops grow within 1 s of apply" test -n "$t_grew"
echo "(A, DE) drops grew $(plus "${t_grew:-0}" "-$t_change") s after apply returned"
check "Janus reports de_a's media stopped" wait_until 5 said de_a 'janus media audio stopped'
stop_at=$(awk '$3 == "media" && $5 == "stopped" { print $1; exit }' "$tmp/de_a.err")
# Janus says so once no_media_timer (1 s) has passed without a packet, looked at once a second.
echo "Janus reported de_a's media stopped $(plus "${stop_at:-0}" "-$t_change") s after apply"
check "de_a's media stopped within 1 s (+ Janus's 1 s no-media timer, seen each second)" \
	le "${stop_at:-99999999999}" "$(plus "$t_change" 3)"
check_eq "A's dynamic ports followed its new version" "$want_a" "$(dyn_ports A)"
sleep_to=$(plus "$(now)" 2)
until_time "$sleep_to"
for c in fr_a de_b de_b_gst; do
	check "$c: Janus still receives its media" no_stop "$c"
done
check "Janus's count of de_b_gst's packets still grows (Admin API)" \
	wait_until 5 janus_in_over de_b_gst "$b_gst0"
for c in fr_sub fr_sub_gst; do
	n=$(awk '$1 == "received" { n = $2 } END { print n + 0 }' "$tmp/$c.log")
	check "$c still receives fr_a's media" wait_until 5 grep -qx "received $((n + 100))" "$tmp/$c.log"
done
check_eq "no drops of (B, DE)" 0 "$(drops B DE)"

# ---- 3. a new DE publisher in A never connects, on either stack ----
# With --janus-hangup from now on: Janus hangs up handles whose client A blocks.
phase "3. de_a2 and de_a2_gst publish in A (daemon with --janus-hangup)"
kill_child "$DAEMON_PID"
start_daemon --janus-admin http://127.0.0.1:7088/admin --janus-admin-secret "$tmp/admin_secret" \
	--janus-hangup
check "de_a, blocked mid-call, is hung up by Janus within 6 s" wait_until 6 grep -q '^janus hangup' \
	"$tmp/de_a.log"
since=0
for c in de_a2 de_a2_gst; do
	start_client "$c"
done
for c in de_a2 de_a2_gst; do
	check "$c starts its checks" wait_until 20 said "$c" 'ice checking'
	t=$(awk '$2 == "ice" && $3 == "checking" { print $1; exit }' "$tmp/$c.err")
	le "${t:-0}" "$since" || since=$t
done
until_time "$(plus "$since" 8)"
for c in de_a2 de_a2_gst; do
	never_connected "$c" && pass || fail "$c never connects in A: $(why_not "$c")"
	if grep -Eqx 'ice (connected|completed)' "$tmp/$c.log"; then
		echo "note: $c's ICE completed (its first check beat the event), DTLS did not"
	fi
	JPORT[$c]=$(janus_port "$c")
	# (until Janus hangs it up: then it goes back)
	check "$c's Janus port was given to A (${JPORT[$c]})" \
		grep -q "\"+ port ${JPORT[$c]:-none} meeting A\"" "$GEOBLOCK_STATE_DIR/audit.log"
	check "$c is hung up by Janus (--janus-hangup)" wait_until 6 grep -q '^janus hangup' \
		"$tmp/$c.log"
done
for c in fr_a fr_sub fr_sub_gst de_b de_b_gst; do
	check "$c is not hung up" bash -c "! grep -q '^janus hangup' '$tmp/$c.log'"
done
check "the hangups are audited" grep -q '"command":"janus hangup"' "$GEOBLOCK_STATE_DIR/audit.log"

# ---- 4. the clients end: their ports go back ----
phase "4. clients end"
for c in $CLIENTS; do
	kill_child "${PID[$c]}"
done
check "A's dynamic ports go back" wait_until 10 dyn_is A ""
check "B's dynamic ports go back" wait_until 10 dyn_is B ""
for c in $CLIENTS; do
	check_eq "port ${JPORT[$c]:-?} ($c) belongs to no meeting" "" \
		"$("$GEOBLOCK" explain "$DE" "${JPORT[$c]:-1}" --json | jq -r '.meeting // empty')"
done
check "the audit log records the ports given and taken back" \
	test "$(grep -c '"command":"janus event"' "$GEOBLOCK_STATE_DIR/audit.log")" -ge 8
counts=$(event_counts)
echo "events: $counts"
check_eq "no malformed event from Janus" 0 "$(jq .malformed <<<"$counts")"
check "the daemon is still up" kill -0 "$DAEMON_PID"
check "janus is still up" kill -0 "$JANUS_PID"
phase "done"
summary
