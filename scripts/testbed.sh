# A two-namespace testbed, sourced by the e2e tests and the demo:
#   $TB_SRC (clients) --veth-- $TB_DST (the media server, where geoblock attaches to $TB_DST_IF).
# The namespaces have no default route and no link to any real interface: traffic stays between
# them. Server addresses are in documentation ranges; client addresses are added per test.
TB_DST_V4=192.0.2.1
TB_DST_V6=2001:db8::1

# testbed_up NAME: NAME is short (<= 10 characters) and unique to the caller. If it fails, it
# removes the namespaces it made (its callers register testbed_down only once it worked).
testbed_up() {
	TB_NAME=$1
	TB_SRC_IF=${1}s
	TB_DST_IF=${1}d
	# Named in TB_SRC and TB_DST only once made: testbed_down must not remove another run's.
	TB_SRC= TB_DST=
	ip netns add "$1-src" || return 1
	ip netns add "$1-dst" || { ip netns del "$1-src"; return 1; }
	TB_SRC=$1-src TB_DST=$1-dst
	if ! ip link add "$TB_SRC_IF" netns "$TB_SRC" type veth peer name "$TB_DST_IF" \
		netns "$TB_DST" ||
	   ! ip -n "$TB_SRC" link set lo up || ! ip -n "$TB_DST" link set lo up ||
	   ! ip -n "$TB_SRC" link set "$TB_SRC_IF" up || ! ip -n "$TB_DST" link set "$TB_DST_IF" up ||
	   ! ip -n "$TB_DST" addr add "$TB_DST_V4/32" dev "$TB_DST_IF" ||
	   ! ip -n "$TB_DST" addr add "$TB_DST_V6/128" dev "$TB_DST_IF" nodad ||
	   ! ip -n "$TB_SRC" route add "$TB_DST_V4/32" dev "$TB_SRC_IF" ||
	   ! ip -n "$TB_SRC" -6 route add "$TB_DST_V6/128" dev "$TB_SRC_IF"; then
		ip netns del "$TB_SRC"
		ip netns del "$TB_DST"
		TB_SRC= TB_DST=
		return 1
	fi
}

# testbed_add_link: a second veth between the namespaces, $TB_SRC_IF2 -- $TB_DST_IF2 (a server with
# two NICs). The server has $TB_DST2_V4 and $TB_DST2_V6 on it; clients reach those over it only
# (replies to clients go back over the first link).
TB_DST2_V4=192.0.2.2
TB_DST2_V6=2001:db8::2
testbed_add_link() {
	TB_SRC_IF2=${TB_NAME}s2
	TB_DST_IF2=${TB_NAME}d2
	ip link add "$TB_SRC_IF2" netns "$TB_SRC" type veth peer name "$TB_DST_IF2" netns "$TB_DST" || return 1
	ip -n "$TB_SRC" link set "$TB_SRC_IF2" up
	ip -n "$TB_DST" link set "$TB_DST_IF2" up
	ip -n "$TB_DST" addr add "$TB_DST2_V4/32" dev "$TB_DST_IF2"
	ip -n "$TB_DST" addr add "$TB_DST2_V6/128" dev "$TB_DST_IF2" nodad
	ip -n "$TB_SRC" route add "$TB_DST2_V4/32" dev "$TB_SRC_IF2"
	ip -n "$TB_SRC" -6 route add "$TB_DST2_V6/128" dev "$TB_SRC_IF2"
}

# testbed_add_client ADDR: a client address in $TB_SRC, routed both ways over the veth only.
testbed_add_client() {
	if [[ $1 == *:* ]]; then
		ip -n "$TB_SRC" addr add "$1/128" dev "$TB_SRC_IF" nodad &&
			ip -n "$TB_DST" -6 route add "$1/128" dev "$TB_DST_IF"
	else
		ip -n "$TB_SRC" addr add "$1/32" dev "$TB_SRC_IF" &&
			ip -n "$TB_DST" route add "$1/32" dev "$TB_DST_IF"
	fi
}

# in_ns NS CMD...: CMD in the network namespace only; mounts (bpffs pins) stay shared.
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

testbed_down() {
	[[ -n ${TB_SRC:-} ]] && ip netns del "$TB_SRC" 2>/dev/null
	[[ -n ${TB_DST:-} ]] && ip netns del "$TB_DST" 2>/dev/null
	return 0
}

# send_and_count PORTS END_PORT COUNT OUT CLIENT...: every client sends COUNT datagrams to each of
# PORTS on the server; OUT gets "CLIENT PORT RECEIVED" lines for what arrived.
send_and_count() {
	local ports=$1 end_port=$2 count=$3 out=$4 ready c dst
	shift 4
	exec {TB_FD}< <(in_ns "$TB_DST" "$TB_BIN/udp_recv" "$ports" "$end_port" "$#" "$out")
	local pid=$!
	read -r -t 10 ready <&"$TB_FD"
	[[ $ready == ready ]] || { echo "testbed: receiver did not start" >&2; return 1; }
	for c in "$@"; do
		[[ $c == *:* ]] && dst=$TB_DST_V6 || dst=$TB_DST_V4
		if ! in_ns "$TB_SRC" "$TB_BIN/udp_send" "$c" "$dst" "$ports" "$count" "$end_port"; then
			kill "$pid" 2>/dev/null
			wait "$pid"
			exec {TB_FD}<&-
			return 1
		fi
	done
	wait "$pid"
	local rc=$?
	exec {TB_FD}<&-
	return $rc
}

# tcp_listen PORTS: a TCP listener on PORTS in $TB_DST (tcp_probe), until tcp_listen_stop or the
# caller exits (its stdin is a pipe from the caller).
tcp_listen() {
	local ready
	coproc TB_TCP { in_ns "$TB_DST" "$TB_BIN/tcp_probe" listen "$1"; }
	read -r -t 10 ready <&"${TB_TCP[0]}"
	[[ $ready == ready ]] || { echo "testbed: TCP listener did not start" >&2; return 1; }
}

tcp_listen_stop() {
	[[ -n ${TB_TCP_PID:-} ]] || return 0
	local pid=$TB_TCP_PID fd=${TB_TCP[1]}
	exec {fd}>&-
	wait "$pid"
}

# tcp_count CLIENT PORT [TRIES]: how many of TRIES (default 3) connections from CLIENT to the
# server's PORT complete, each given 300 ms; a filter that drops the SYNs gives 0.
tcp_count() {
	local dst=$TB_DST_V4
	[[ $1 == *:* ]] && dst=$TB_DST_V6
	in_ns "$TB_SRC" "$TB_BIN/tcp_probe" connect "$1" "$dst" "$2" "${3:-3}" 300
}
