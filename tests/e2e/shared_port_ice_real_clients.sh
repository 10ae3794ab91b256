#!/usr/bin/env bash
# Meetings on one shared UDP port, told apart by the server's ICE ufrag, against WebRTC stacks
# nobody here wrote: aiortc (python3-aiortc) and GStreamer's webrtcbin (libnice). A server
# namespace runs tests/e2e/ice_lite_server.py, an ICE-lite media server hosting meetings A, B
# and C on 192.0.2.1:10000 (one aiortc PeerConnection per client behind its demultiplexer, for
# DTLS and SRTP); geoblock is attached natively on its veth; clients sit in namespaces whose only
# address is German (85.214.1.1) or French (90.84.1.1) in DB-IP lite, joined by a bridge.
#   - A blocks DE, B and C block only JP (nobody here): a DE client never connects to A (none of
#     its Binding Requests reaches the server, the (A, DE) drop counter grows) while on the same
#     port it connects to B, and an FR client connects to A; with aiortc and with webrtcbin;
#   - mid-call, `geoblock apply` makes C block DE: the DE client's media to C stops within 1 s
#     (the server's RTP count for it no longer grows), its media to B goes on;
#   - `geoblock meeting ufrag del A` of the DE clients' ufrags: both connect to A then.
# Without `geoblock shared-port` (the feature not built yet), or with GB_ICE_FILTER=0, the test
# runs the same clients without the filter and expects every one of them to connect and send:
# it says so, and proves the harness (servers, clients, namespaces) rather than the filter.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
E2E=$ROOT/tests/e2e
PY=/usr/bin/python3
PORT=10000
SRV_ADDR=192.0.2.1
DE=85.214.1.1
FR=90.84.1.1
CONNECT_S=45

for m in aiortc gi; do
	$PY -c "import $m" 2>/dev/null ||
		{ fail "no python3 module $m (scripts/install-deps.sh)"; summary; exit; }
done
$PY -c 'import gi; gi.require_version("GstWebRTC", "1.0"); gi.require_version("GstSdp", "1.0")
from gi.repository import Gst, GstWebRTC, GstSdp; Gst.init(None)
assert all(Gst.ElementFactory.find(e) for e in ("webrtcbin", "nicesrc", "dtlsenc", "srtpenc",
	"opusenc", "rtpopuspay", "audiotestsrc"))' 2>/dev/null ||
	{ fail "no GStreamer webrtcbin, nice, dtls, srtp, opus (scripts/install-deps.sh)"; summary; exit; }
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (run make first)"; summary; exit; }

# With the filter unless GB_ICE_FILTER=0 says otherwise (by hand, to see the clients' baseline):
# a geoblock without shared ports fails here rather than passing without the filter.
if [[ -z ${GB_ICE_FILTER:-} ]]; then
	GB_ICE_FILTER=1
	"$GEOBLOCK" shared-port -h >/dev/null 2>&1 ||
		{ fail "$GEOBLOCK has no shared-port command"; summary; exit; }
fi
if ((GB_ICE_FILTER)); then
	echo "mode: with the filter (geoblock shared-port)"
else
	echo "mode: WITHOUT the filter: $GEOBLOCK has no shared-port (or GB_ICE_FILTER=0); the ICE" \
		"parts are checked without geoblock, every client is expected to connect"
fi

phase() { echo "[${SECONDS}s] $*"; }
tmp=$(mktemp -d /tmp/gbice.XXXXXX)
on_exit rm -rf "$tmp"
# On a failure (or with GB_ICE_KEEP=1), the server's and the clients' output (event lines, and
# timelines in the .err files) is kept for a post-mortem.
keep_logs() {
	local keep=$BUILD/test-logs/shared_port_ice_real_clients
	((FAILED)) || [[ -n ${GB_ICE_KEEP:-} ]] || return 0
	rm -rf "$keep" && mkdir -p "$keep" && cp "$tmp"/*.log "$tmp"/*.err "$keep"/
}
on_exit keep_logs
SOCK=$tmp/signal.sock

# The countries of the client addresses, in the DB-IP lite table loaded into the kernel.
phase "GeoIP"
geoip_data || { fail "fetch databases"; summary; exit; }
# IPv4 only, as the test's addresses: half the load time of the whole database.
check "geoip load dbip" "$GEOBLOCK" geoip load "$GEOBLOCK_DATA_DIR/dbip-country-ipv4.mmdb" \
	>/dev/null
check_eq "$DE is in DE" "$DE DE" "$("$GEOBLOCK" geoip lookup "$DE")"
check_eq "$FR is in FR" "$FR FR" "$("$GEOBLOCK" geoip lookup "$FR")"

# Namespaces: the server, a switch (a bridge) and one per client country; no default route, no
# link to a real interface. Interface names: ${P}sv (server), ${P}de, ${P}fr, and their bridge
# ports ${P}bs, ${P}bd, ${P}bf.
P=gi$$
SRV=$P-srv
SW=$P-sw
NS_DE=$P-de
NS_FR=$P-fr
SRV_IF=${P}sv
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}
netns_up() {
	local ns
	for ns in "$SRV" "$SW" "$NS_DE" "$NS_FR"; do
		ip netns add "$ns" || return 1
		on_exit ip netns del "$ns"
		ip -n "$ns" link set lo up || return 1
		# IPv4 only: a client's one address is its one host candidate.
		in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 || return 1
	done
	ip -n "$SW" link add br0 type bridge || return 1
	ip -n "$SW" link set br0 up || return 1
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
	ip -n "$NS_DE" link set "${P}de" up &&
		ip -n "$NS_DE" addr add "$DE/32" dev "${P}de" &&
		ip -n "$NS_DE" route add "$SRV_ADDR/32" dev "${P}de" || return 1
	ip -n "$NS_FR" link set "${P}fr" up &&
		ip -n "$NS_FR" addr add "$FR/32" dev "${P}fr" &&
		ip -n "$NS_FR" route add "$SRV_ADDR/32" dev "${P}fr" || return 1
}
phase "namespaces"
netns_up || { fail "namespaces"; summary; exit; }

# Server ufrags, one per client session: lengths 4 (aiortc's and Janus' own), 16 (pion), 32
# (webrtcbin) and 256 (the longest RFC 8839 allows); ice-chars only.
ufrag() { # ufrag PREFIX LENGTH
	local s=$1
	while ((${#s} < $2)); do s+=x0Y1z2W3; done
	echo "${s:0:$2}"
}
declare -A UF=(
	[ai_de_a]=$(ufrag Aad 4) [ai_fr_a]=$(ufrag AafR 16) [wb_de_a]=$(ufrag AwdE 32)
	[wb_fr_a]=$(ufrag AwfR 256) [ai_de_b]=$(ufrag Bad 4) [wb_de_b]=$(ufrag BwdE 32)
	[ai_de_c]=$(ufrag Cad 16)
)
declare -A MEETING_OF=([ai_de_a]=A [ai_fr_a]=A [wb_de_a]=A [wb_fr_a]=A [ai_de_b]=B [wb_de_b]=B
	[ai_de_c]=C)
declare -A NS_OF=([ai_de_a]=$NS_DE [ai_fr_a]=$NS_FR [wb_de_a]=$NS_DE [wb_fr_a]=$NS_FR
	[ai_de_b]=$NS_DE [wb_de_b]=$NS_DE [ai_de_c]=$NS_DE)
ufrags_of() { # ufrags_of MEETING: its ufrags, comma-separated
	local c out=()
	for c in "${!MEETING_OF[@]}"; do
		[[ ${MEETING_OF[$c]} == "$1" ]] && out+=("${UF[$c]}")
	done
	local IFS=,
	echo "${out[*]}"
}
jq -n --arg a "$(ufrags_of A)" --arg b "$(ufrags_of B)" --arg c "$(ufrags_of C)" \
	'{A: ($a | split(",")), B: ($b | split(",")), C: ($c | split(","))}' >"$tmp/meetings.json"

# The rule set (filter mode), as `meeting add` lines; C_BLOCK is what C blocks.
rules() {
	echo "meeting add A --ufrag $(ufrags_of A) --block DE"
	echo "meeting add B --ufrag $(ufrags_of B) --block JP"
	echo "meeting add C --ufrag $(ufrags_of C) --block $C_BLOCK"
}
# drops MEETING CC: that pair's drop counter.
drops() {
	"$GEOBLOCK" stats --json | jq --arg m "$1" --arg c "$2" \
		'[.drops[] | select(.meeting == $m and .country == $c) | .packets] | add // 0'
}
if ((GB_ICE_FILTER)); then
	# ---- needs the shared-port feature (issue 15) ----
	phase "geoblock: attach, shared port, meetings"
	check "attach native in the server namespace" in_ns "$SRV" "$GEOBLOCK" attach "$SRV_IF" \
		--mode native >/dev/null
	on_exit "$GEOBLOCK" detach "$SRV_IF"
	check "shared-port add $PORT" "$GEOBLOCK" shared-port add "$PORT" >/dev/null
	C_BLOCK=JP
	while read -r line; do
		# shellcheck disable=SC2086
		check "$line" "$GEOBLOCK" $line >/dev/null
	done < <(rules)
	check "shared-port list --json names $PORT" grep -qw "$PORT" <("$GEOBLOCK" shared-port list --json)
fi

phase "server"
# The server, in its namespace; its events in server.log. Background processes are started by
# nsenter itself, not through in_ns: a function in the background is a subshell, and stopping it
# would leave the process running.
nsenter --net="/run/netns/$SRV" "$PY" "$E2E/ice_lite_server.py" "$SRV_ADDR" "$PORT" "$SOCK" \
	"$tmp/meetings.json" >"$tmp/server.log" 2>"$tmp/server.err" &
SERVER_PID=$!
on_exit kill_child "$SERVER_PID"
if ! wait_until 20 grep -q '^ready ' "$tmp/server.log"; then
	fail "server did not start: $(tail -3 "$tmp/server.err")"
	summary
	exit
fi

counts() { "$PY" "$E2E/ice_signal.py" "$SOCK" '{"op": "counts"}'; }
# session FIELD CLIENT: FIELD of CLIENT's session on the server (its ufrag's).
session() { counts | jq -r --arg u "${UF[$2]}" ".sessions[\$u].$1 // empty"; }
# rtp_over CLIENT N: the server has counted more than N RTP packets from CLIENT.
rtp_over() {
	local n
	n=$(session rtp "$1")
	[[ -n $n ]] && ((n > $2))
}

declare -A PID
# start_client NAME: NAME is ai_* (aiortc) or wb_* (webrtcbin); its output in $tmp/NAME.log.
start_client() {
	local name=$1 prog=ice_client_aiortc.py
	[[ $name == wb_* ]] && prog=ice_client_webrtcbin.py
	local debug=()
	# webrtcbin's debug log, and libnice's (GLib's debug messages, on stdout among the events),
	# kept with the others on a failure
	[[ $name == wb_* ]] && debug=("GST_DEBUG=webrtcbin:5,webrtcnice:6"
		"GST_DEBUG_FILE=$tmp/$name.gst.err" G_MESSAGES_DEBUG=libnice)
	nsenter --net="/run/netns/${NS_OF[$name]}" env "${debug[@]}" "$PY" "$E2E/$prog" "$SOCK" \
		"${UF[$name]}" 110 >"$tmp/$name.log" 2>"$tmp/$name.err" &
	PID[$name]=$!
	on_exit kill_child "${PID[$name]}"
}
stop_client() { kill_child "${PID[$1]}"; }
# connected NAME: the client says its PeerConnection is connected (ICE and DTLS), the server says
# the same of the session, and has counted RTP from it (in server.log from line SRV_FROM on).
SRV_FROM=1
server_said() { tail -n "+$SRV_FROM" "$tmp/server.log" | grep -q "$1"; }
connected() {
	grep -qx 'conn connected' "$tmp/$1.log" &&
		server_said "^pc ${MEETING_OF[$1]} ${UF[$1]} connected$" &&
		server_said "^media ${MEETING_OF[$1]} ${UF[$1]} "
}
checking() { grep -qx 'ice checking' "$tmp/$1.log"; }
never_connected() { ! grep -Eqx 'ice (connected|completed)|conn connected' "$tmp/$1.log"; }
why_not() { # what a client and the server said, for a failure message
	echo "client: $(grep -E '^(local-ufrag|ice|conn|error) ' "$tmp/$1.log" | tr '\n' ' ')" \
		"$(tail -2 "$tmp/$1.err" | tr '\n' ' ')" \
		"server: $(grep " ${UF[$1]}" "$tmp/server.log" | tr '\n' ' ')"
}
# Each client's own ICE: one UDP host candidate, its namespace's address (webrtcbin offers ICE-TCP
# candidates as well, which this server, as XDP, leaves aside).
check_candidates() {
	local want=$DE
	[[ ${NS_OF[$1]} == "$NS_FR" ]] && want=$FR
	check_eq "$1 offers one UDP candidate, host $want" "1 $want host" \
		"$(awk '/^candidate/ && toupper($4) == "UDP" { n++; a = $6 " " $9 } END { print n + 0, a }' \
			"$tmp/$1.log")"
}

now() { date +%s.%N; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; } # le A B: A <= B, as decimals
until_time() { until le "$1" "$(now)"; do sleep 0.05; done; } # until_time T: until `now` is T
plus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; } # plus A B: A + B, decimals

# ---- 1. Everyone dials at once: aiortc and webrtcbin, DE and FR, meetings A, B and C ----
phase "1. seven clients dial A, B and C on port $PORT"
ALLOWED=(ai_de_b ai_fr_a wb_de_b wb_fr_a ai_de_c)
BLOCKED=(ai_de_a wb_de_a)
if ((!GB_ICE_FILTER)); then
	ALLOWED+=("${BLOCKED[@]}")
	BLOCKED=()
fi
t_start=$SECONDS
for c in "${!UF[@]}"; do
	start_client "$c"
done
# await_connected NAME...: each connects (the seconds it took printed) within CONNECT_S.
await_connected() {
	local c left=("$@") waiting
	declare -A took
	while ((${#left[@]})) && ((SECONDS - t_start < CONNECT_S)); do
		waiting=()
		for c in "${left[@]}"; do
			if connected "$c"; then took[$c]=$((SECONDS - t_start)); else waiting+=("$c"); fi
		done
		left=("${waiting[@]}")
		((${#left[@]})) && sleep 0.2
	done
	for c in "$@"; do
		if [[ -n ${took[$c]:-} ]]; then
			pass
			echo "$c connected to ${MEETING_OF[$c]} and sent media after ${took[$c]} s"
		else
			fail "$c connects to ${MEETING_OF[$c]} and sends media: $(why_not "$c")"
		fi
	done
}
await_connected "${ALLOWED[@]}"
# A blocked client prints its offer's candidates before its checks start; the allowed ones have
# connected, but a blocked one may still be starting (seven clients start at once on two CPUs).
for c in "${BLOCKED[@]}"; do
	wait_until 20 checking "$c" || fail "$c never started its checks: $(why_not "$c")"
done
for c in "${!UF[@]}"; do
	check_candidates "$c"
	echo "$c: client ufrag $(awk '/^local-ufrag/ { print $2 }' "$tmp/$c.log" | tee "$tmp/$c.ufrag")" \
		"($(wc -L <"$tmp/$c.ufrag") characters), server ufrag ${#UF[$c]} characters"
done
for c in "${ALLOWED[@]}"; do
	check_eq "$c: the server's session for ${UF[$c]:0:8}... learned one sender" 1 \
		"$(session 'learned | length' "$c")"
done
# explain_sender CLIENT: what `explain --sport` says of the media of the sender the server
# learned for CLIENT: verdict, meeting, the ufrag the data path bound it to.
explain_sender() {
	local a
	a=$(session 'learned[0]' "$1")
	"$GEOBLOCK" explain "${a%:*}" "$PORT" --sport "${a##*:}" --json |
		jq -r '[.verdict, .meeting // "-", .sender.ufrag // "-"] | join(" ")'
}

if ((GB_ICE_FILTER)); then
	# ---- needs the shared-port feature ----
	# A blocked client's own ICE gives up: webrtcbin (libnice) says failed after about 10 s of
	# unanswered checks. aiortc would take 30 s and more (a check is retried at 0.5, 1.5, 3.5,
	# 7.5, 15.5 s), so it gets 8 s since its first check: 5 checks, none answered. (Both started
	# their checks: awaited above.)
	check "wb_de_a: its ICE fails" wait_until 30 grep -qx 'ice failed' "$tmp/wb_de_a.log"
	since=$(awk '$2 == "ice" && $3 == "checking" { print $1; exit }' "$tmp/ai_de_a.err")
	until_time "$(plus "${since:-0}" 8)"
	for c in "${BLOCKED[@]}"; do
		check "$c: DE never connects to A ($(grep '^ice ' "$tmp/$c.log" | tr '\n' ' '))" \
			never_connected "$c"
		check_eq "$c: no Binding Request of it reached the server" "0" \
			"$(session requests "$c")"
		check_eq "$c: no media of it reached the server" "0" "$(session rtp "$c")"
	done
	a_de=$(drops A DE)
	check "drops of (A, DE) counted: $a_de" test "$a_de" -gt 0
	check_eq "drops of (B, DE)" 0 "$(drops B DE)"
	check_eq "drops of (A, FR)" 0 "$(drops A FR)"
	check_eq "drops of (C, DE) before the change" 0 "$(drops C DE)"
	# Every client's sender learned, none evicted: the senders remembered are the learned ones.
	sp=$("$GEOBLOCK" shared-port list --json)
	check "senders remembered: one at least per client ($(jq -c '{senders, senders_evicted}' \
		<<<"$sp"))" test "$(jq .senders <<<"$sp")" -ge 7
	check_eq "senders learned = remembered + evicted" "$(jq .ice_senders.learned <<<"$sp")" \
		"$(jq '.senders + .senders_evicted' <<<"$sp")"
	check_eq "no sender evicted" 0 "$(jq .senders_evicted <<<"$sp")"
	# The data path's view of each allowed client's media, as explain reads it: its meeting.
	for c in "${ALLOWED[@]}"; do
		check_eq "$c: explain --sport of its media" \
			"not_blocked ${MEETING_OF[$c]} ${UF[$c]}" "$(explain_sender "$c")"
	done
fi

# ---- 2. Mid-call, C is made to block DE: the DE client's media to C stops within 1 s ----
phase "2. mid-call change of C"
# (without the filter: nothing changes, and its media goes on, which the check needs to mean
# anything)
check "ai_de_c sends media to C" wait_until 10 rtp_over ai_de_c 50
if ((GB_ICE_FILTER)); then
	# ---- needs the shared-port feature ----
	C_BLOCK=DE
	rules >"$tmp/rules.new"
	t_apply=$(now)
	check "apply: C blocks DE" "$GEOBLOCK" apply "$tmp/rules.new" >/dev/null
fi
t_change=$(now)
until_time "$(plus "$t_change" 1)"
c1=$(session rtp ai_de_c)
b1=$(session rtp ai_de_b)
until_time "$(plus "$t_change" 3)"
c2=$(session rtp ai_de_c)
b2=$(session rtp ai_de_b)
last=$(session last_rtp ai_de_c)
if ((GB_ICE_FILTER)); then
	check_eq "ai_de_c: no media to C from 1 s to 3 s after the change" "$c1" "$c2"
	check "ai_de_c: its last RTP at most 1 s after apply returned (last $last, returned $t_change)" \
		le "${last:-0}" "$(plus "$t_change" 1)"
	check "drops of (C, DE) counted: $(drops C DE)" test "$(drops C DE)" -gt 0
	check_eq "ai_de_c: explain --sport of its media after the change" \
		"dropped C ${UF[ai_de_c]}" "$(explain_sender ai_de_c)"
	check_eq "ai_de_b: explain --sport of its media after the change" \
		"not_blocked B ${UF[ai_de_b]}" "$(explain_sender ai_de_b)"
	echo "ai_de_c: apply ran $(plus "$t_change" "-$t_apply") s; its last RTP came" \
		"$(plus "${last:-0}" "-$t_apply") s after apply started"
else
	check "ai_de_c: media to C goes on without the filter ($c1, then $c2)" test "$c2" -gt "$c1"
fi
check "ai_de_b: DE media to B goes on meanwhile ($b1, then $b2)" test "$b2" -gt "$b1"

# ---- 3. The DE clients' ufrags taken out of A: they connect to A ----
phase "3. the DE clients' ufrags out of A"
for c in ai_de_a wb_de_a; do
	stop_client "$c"
done
if ((GB_ICE_FILTER)); then
	# ---- needs the shared-port feature ----
	check "meeting ufrag del A" "$GEOBLOCK" meeting ufrag del A "${UF[ai_de_a]},${UF[wb_de_a]}" \
		>/dev/null
	a_de=$(drops A DE)
fi
SRV_FROM=$(($(wc -l <"$tmp/server.log") + 1))
t_start=$SECONDS
start_client ai_de_a
start_client wb_de_a
await_connected ai_de_a wb_de_a
if ((GB_ICE_FILTER)); then
	check_eq "no more drops of (A, DE) once the ufrags are gone" "$a_de" "$(drops A DE)"
fi
for c in ai_fr_a wb_fr_a; do
	r1=$(session rtp "$c")
	check "$c: FR media to A goes on" wait_until 5 rtp_over "$c" "$r1"
done

check "the server is still up" kill -0 "$SERVER_PID"
phase "done"
if grep -q Traceback "$tmp/server.err"; then
	fail "server errors: $(grep -A3 Traceback "$tmp/server.err" | head -8)"
fi
((GB_ICE_FILTER)) ||
	echo "NOTE: ICE, DTLS and media checked WITHOUT the filter (no geoblock shared-port)"
summary
