# A private etcd cluster on loopback for the fleet tests and the fleet benchmark. Source it after
# tests/lib/common.sh (it uses on_exit, wait_until, fail and $BUILD), then call etcd_cluster_up.
#
#   etcd_cluster_up [N]      N members (default 3, ETCD_MEMBERS) on free loopback ports (never
#                            2379/2380, where a system etcd may listen), data dirs and logs under a
#                            private temp dir ($ETCD_DIR); returns once every member is healthy
#   etcd_endpoints           the client URLs, comma-separated
#   etcdctl ARGS...          etcdctl (API v3) with the endpoints of the members running now
#   etcd_leader              the index (0..N-1) of the member that is the leader now
#   etcd_kill I [SIG]        kills member I (SIGKILL unless SIG) and waits for it to be gone
#   etcd_start I             starts member I again on its data dir; returns once it is healthy
#   etcd_stop_all            stops every member (SIGTERM), waits for each to be gone
#   etcd_start_all           starts every stopped member, returns once the cluster is healthy
#   etcd_revision            the store's current revision
#   etcd_compact             compacts the store to its current revision (physically); prints it
#   gate_up MODE             a TCP gate (tests/fleet/gate.py) in front of member 0, on $GPORT;
#                            gate_set MODE changes what it does
#   etcd_tls_files DIR       writes a CA, a server certificate for 127.0.0.1 and a client
#                            certificate to DIR (openssl); with ETCD_TLS=DIR set before
#                            etcd_cluster_up, the members serve clients over https only to
#                            certificates of that CA (--client-cert-auth), and etcdctl uses them
#
# Members run in the background of the calling shell (never call etcd_cluster_up, etcd_start or
# etcd_start_all in a subshell, as in $(...)): each one's PID is kept in ETCD_PID[I] and it is
# killed, by that PID, when the test ends. On failure (FAILED > 0 when the test ends) the members'
# logs are copied to $BUILD/test-logs/NAME-etcd/ (NAME: the script's name).

ETCD_BIN=${ETCD_BIN:-$(command -v etcd)}
ETCDCTL_BIN=${ETCDCTL_BIN:-$(command -v etcdctl)}
export ETCDCTL_API=3
ETCD_DIR=
ETCD_N=0
ETCD_PID=()
ETCD_CLIENT=()
ETCD_PEER=()
ETCD_CLUSTER=
ETCD_PORTS_TAKEN=" 2379 2380 "
ETCD_TLS=${ETCD_TLS:-}

# The client side of TLS for etcdctl, when the members serve it.
etcd_client_tls() {
	[[ -n $ETCD_TLS ]] &&
		echo "--cacert=$ETCD_TLS/ca.pem --cert=$ETCD_TLS/client.pem --key=$ETCD_TLS/client-key.pem"
}

# etcd_tls_files DIR: a CA, and certificates it signed for the server (IP 127.0.0.1) and a client.
etcd_tls_files() {
	local d=$1 who
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=gbt-ca -keyout "$d/ca-key.pem" \
		-out "$d/ca.pem" 2>/dev/null || return 1
	for who in server client; do
		openssl req -newkey rsa:2048 -nodes -subj "/CN=gbt-$who" -keyout "$d/$who-key.pem" \
			-out "$d/$who.csr" 2>/dev/null || return 1
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=%s\n' \
			"$([[ $who == server ]] && echo serverAuth,clientAuth || echo clientAuth)" \
			>"$d/$who.ext"
		openssl x509 -req -in "$d/$who.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" \
			-CAcreateserial -days 2 -extfile "$d/$who.ext" -out "$d/$who.pem" 2>/dev/null ||
			return 1
	done
}

# free_port: a loopback TCP port nobody listens on and this test has not handed out yet, outside
# the kernel's ephemeral range: else a connection's source port (a daemon's, etcdctl's) can take
# it while its member is down, and the member cannot come back on it.
free_port() {
	local p lo=32768 hi=60999 base=20000 span
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	if ((lo - base >= 2000)); then
		span=$((lo - base))
	elif ((65535 - hi >= 2000)); then
		base=$((hi + 1)) span=$((65535 - hi))
	else
		span=30000
	fi
	while :; do
		p=$((base + (((RANDOM << 15) | RANDOM) % span)))
		[[ $ETCD_PORTS_TAKEN == *" $p "* ]] && continue
		[[ -z $(ss -Htan "( sport = :$p )" 2>/dev/null) ]] || continue
		ETCD_PORTS_TAKEN+="$p "
		echo "$p"
		return 0
	done
}
# free_port is called in $(...), a subshell that cannot update ETCD_PORTS_TAKEN: take_port VAR
# sets VAR and records the port in this shell.
take_port() {
	local _tp
	_tp=$(free_port)
	ETCD_PORTS_TAKEN+="$_tp "
	printf -v "$1" '%s' "$_tp"
}

# gate_up MODE: a TCP gate (tests/fleet/gate.py) on a free port ($GPORT) in front of member 0's
# client port, in MODE; its control file $GATE, its stderr $GATE_LOG; stopped when the test ends.
# Checks that it listens. gate_set MODE changes its mode (written whole: never read half).
gate_up() {
	take_port GPORT
	GATE=$ETCD_DIR/gate
	GATE_LOG=$ETCD_DIR/gate.log
	gate_set "$1"
	/usr/bin/python3 "$ROOT/tests/fleet/gate.py" "$GPORT" "${ETCD_CLIENT[0]##*:}" "$GATE" \
		2>"$GATE_LOG" &
	GATE_PID=$!
	on_exit kill_child "$GATE_PID"
	check "the gate listens" wait_until 10 gate_open
}
gate_set() { echo "$1" >"$GATE.new" && mv "$GATE.new" "$GATE"; }
gate_open() { (exec 3<>"/dev/tcp/127.0.0.1/$GPORT") 2>/dev/null; }

etcd_endpoints() {
	local IFS=,
	echo "${ETCD_CLIENT[*]}"
}

# etcd_live_endpoints: the client URLs of the members running now (a client given a dead member
# first may spend its whole timeout on it).
etcd_live_endpoints() {
	local i eps=
	for ((i = 0; i < ETCD_N; i++)); do
		etcd_alive "$i" && eps+="${eps:+,}${ETCD_CLIENT[i]}"
	done
	echo "${eps:-$(etcd_endpoints)}"
}

# shellcheck disable=SC2046 # the TLS options are words
etcdctl() { "$ETCDCTL_BIN" --endpoints="$(etcd_live_endpoints)" --dial-timeout=2s --command-timeout=5s $(etcd_client_tls) "$@"; }

# etcd_member_up I: member I (stopped) started in the background of this shell.
etcd_member_up() {
	local i=$1 tls=()
	[[ -n $ETCD_TLS ]] && tls=(--cert-file "$ETCD_TLS/server.pem" --key-file
		"$ETCD_TLS/server-key.pem" --trusted-ca-file "$ETCD_TLS/ca.pem" --client-cert-auth)
	"$ETCD_BIN" --name "m$i" --data-dir "$ETCD_DIR/m$i.data" "${tls[@]}" \
		--listen-client-urls "${ETCD_CLIENT[i]}" --advertise-client-urls "${ETCD_CLIENT[i]}" \
		--listen-peer-urls "${ETCD_PEER[i]}" --initial-advertise-peer-urls "${ETCD_PEER[i]}" \
		--initial-cluster "$ETCD_CLUSTER" --initial-cluster-state new \
		--initial-cluster-token "gbt-$$" --heartbeat-interval 100 --election-timeout 1000 \
		--logger zap --log-outputs stderr \
		>>"$ETCD_DIR/m$i.log" 2>&1 &
	ETCD_PID[i]=$!
	echo "--- started pid ${ETCD_PID[i]} at $(date -u +%T.%N)" >>"$ETCD_DIR/m$i.events"
}

# etcd_healthy I: member I answers and says it is healthy (it has a leader and can serve).
etcd_healthy() {
	# shellcheck disable=SC2046
	"$ETCDCTL_BIN" --endpoints="${ETCD_CLIENT[$1]}" --dial-timeout=1s --command-timeout=2s \
		$(etcd_client_tls) endpoint health >/dev/null 2>&1
}

etcd_all_healthy() {
	local i
	for ((i = 0; i < ETCD_N; i++)); do
		etcd_healthy "$i" || return 1
	done
}

# etcd_alive I: member I's process is still the one this shell started.
etcd_alive() {
	local pid=${ETCD_PID[$1]:-}
	[[ -n $pid && -r /proc/$pid/cmdline ]] &&
		tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "--data-dir $ETCD_DIR/m$1.data"
}

etcd_gone() { ! etcd_alive "$1"; }

etcd_cluster_up() {
	local n=${1:-${ETCD_MEMBERS:-3}} i c p
	[[ -x $ETCD_BIN && -x $ETCDCTL_BIN ]] || { fail "no etcd ($ETCD_BIN)"; return 1; }
	ETCD_DIR=$(mktemp -d /tmp/geoblock-test-etcd.XXXXXX)
	on_exit rm -rf "$ETCD_DIR"
	on_exit etcd_save_logs
	on_exit etcd_kill_all
	ETCD_N=$n
	ETCD_CLUSTER=
	for ((i = 0; i < n; i++)); do
		take_port c
		take_port p
		ETCD_CLIENT[i]=http${ETCD_TLS:+s}://127.0.0.1:$c
		ETCD_PEER[i]=http://127.0.0.1:$p
		ETCD_CLUSTER+="${ETCD_CLUSTER:+,}m$i=${ETCD_PEER[i]}"
	done
	for ((i = 0; i < n; i++)); do
		etcd_member_up "$i"
	done
	if ! wait_until 30 etcd_all_healthy; then
		fail "etcd: the $n members did not become healthy in 30 s (logs in $ETCD_DIR)"
		return 1
	fi
}

# etcd_kill I [SIG]
etcd_kill() {
	local i=$1 sig=${2:-KILL}
	etcd_alive "$i" || return 0
	kill -"$sig" "${ETCD_PID[i]}"
	echo "--- killed (SIG$sig) pid ${ETCD_PID[i]} at $(date -u +%T.%N)" >>"$ETCD_DIR/m$i.events"
	wait_until 30 etcd_gone "$i" || { fail "etcd member $i did not end on SIG$sig"; return 1; }
	wait "${ETCD_PID[i]}" 2>/dev/null
	return 0
}

etcd_start() {
	local i=$1
	etcd_alive "$i" && return 0
	etcd_member_up "$i"
	wait_until 30 etcd_healthy "$i" || { fail "etcd member $i did not come back healthy"; return 1; }
}

etcd_stop_all() {
	local i
	for ((i = 0; i < ETCD_N; i++)); do
		etcd_alive "$i" && kill -TERM "${ETCD_PID[i]}"
	done
	for ((i = 0; i < ETCD_N; i++)); do
		etcd_kill "$i" TERM || return 1
	done
}

etcd_start_all() {
	local i
	for ((i = 0; i < ETCD_N; i++)); do
		etcd_alive "$i" || etcd_member_up "$i"
	done
	wait_until 30 etcd_all_healthy || { fail "etcd: the cluster did not become healthy again"; return 1; }
}

# Cleanup (on_exit): every member this shell started, by PID.
etcd_kill_all() {
	local i
	for ((i = 0; i < ETCD_N; i++)); do
		if etcd_alive "$i"; then
			kill -KILL "${ETCD_PID[i]}" 2>/dev/null
			wait "${ETCD_PID[i]}" 2>/dev/null
		fi
	done
}

etcd_save_logs() {
	((FAILED > 0)) || return 0
	[[ -d $ETCD_DIR ]] || return 0
	local dest
	dest=$BUILD/test-logs/$(basename "$0" .sh)-etcd
	mkdir -p "$dest" && cp "$ETCD_DIR"/m*.log "$ETCD_DIR"/m*.events "$dest/" 2>/dev/null
	echo "etcd logs: $dest" >&2
}

# etcd_leader: the member index of the leader, from `endpoint status -w json` (each member's own
# id in .Status.header.member_id, the leader's id in .Status.leader). Fails if no member says so.
etcd_leader() {
	local eps i leader
	eps=$(etcd_endpoints)
	# shellcheck disable=SC2046
	leader=$("$ETCDCTL_BIN" --endpoints="$eps" --dial-timeout=1s --command-timeout=2s \
		$(etcd_client_tls) endpoint status -w json 2>/dev/null |
		jq -r '.[] | select(.Status.header.member_id == .Status.leader) | .Endpoint' | head -1)
	[[ -n $leader ]] || return 1
	for ((i = 0; i < ETCD_N; i++)); do
		[[ ${ETCD_CLIENT[i]} == "$leader" || ${ETCD_CLIENT[i]#http*://} == "$leader" ]] &&
			{ echo "$i"; return 0; }
	done
	return 1
}

# etcd_revision: the store's revision (the header of a read).
etcd_revision() {
	etcdctl get -w json --keys-only --limit 1 / 2>/dev/null | jq -r '.header.revision'
}

etcd_compact() {
	local rev
	rev=$(etcd_revision)
	[[ $rev =~ ^[0-9]+$ ]] || { fail "etcd_compact: no revision"; return 1; }
	etcdctl compact "$rev" --physical >/dev/null || { fail "etcd_compact $rev"; return 1; }
	echo "$rev"
}
