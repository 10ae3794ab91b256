#!/usr/bin/env bash
# Changes waiting for the state lock hold up no other client: with the lock held here (as a long
# `geoip load` holds it) and 40 PUTs waiting for it, each on a connection of its own, a GET of
# /v1/stats, a request for no route and a GET on a keep-alive connection opened before are all
# answered while every PUT still waits; once the lock is free each PUT is made, and the daemon's
# threads and descriptors come back to where they were. The build before served the API in a pool
# of 8 threads, each blocked by a waiting change with every connection it held: no more than 8
# changes waited at once, and nothing else was answered until the lock was free. The connection
# limit still holds: a daemon serving 64 at once (its limit of open files lowered) keeps a 65th and
# a 66th waiting, unanswered and not closed, and answers them once one of the 64 ends.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
[[ -x /usr/bin/python3 ]] || { fail "no /usr/bin/python3 (it holds a keep-alive connection)"; summary; exit; }
# A short path: a unix socket's path is under 108 bytes.
tmp=$(mktemp -d /tmp/gbwait.XXXXXX)
on_exit rm -rf "$tmp"
SOCK=$tmp/api.sock
S=$GEOBLOCK_STATE_DIR
N=40

api_daemon "$SOCK"
# api METHOD PATH [BODY]: the status alone; 000 if no answer came within 20 s (the daemon's
# answers take milliseconds: 20 s only bounds how long a test of a broken build waits).
api() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 20 --unix-socket "$SOCK" -X "$1" \
		${3:+--data-binary "$3"} "http://geoblock$2"
}
threads() { ls "/proc/$pid/task" | wc -l; }
threads_at_most() { (($(threads) <= $1)); }
fds() { ls "/proc/$pid/fd" | wc -l; }
fds_at_most() { (($(fds) <= $1)); }
check_eq "a change before counting (the daemon keeps the change log open from its first)" 200 \
	"$(api PUT /v1/meetings/first '{"ports":[9000],"block":["DE"]}')"
base_threads=$(threads)
base_fds=$(fds)

# A keep-alive connection, opened and used before the lock is taken: a GET on it for each line
# read, its status printed (000 if none came within 20 s).
cat >"$tmp/keep.py" <<'EOF'
import http.client, socket, sys
class Unix(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(20)
        self.sock.connect(sys.argv[1])
c = Unix("geoblock")
for line in sys.stdin:
    try:
        c.request("GET", line.strip())
        r = c.getresponse()
        r.read()
        print(r.status, "open" if c.sock else "closed", flush=True)
    except OSError:
        print("000", flush=True)
EOF
coproc KEEP { /usr/bin/python3 "$tmp/keep.py" "$SOCK" 2>&1; }
on_exit kill_child "$KEEP_PID"
echo /v1/stats >&"${KEEP[1]}"
read -r -u "${KEEP[0]}" line
check_eq "a keep-alive connection: its first GET, the connection kept" "200 open" "$line"

# The lock, held here; children let go of it.
exec {LOCK}>"$S/lock"
flock "$LOCK"
puts=()
for ((i = 1; i <= N; i++)); do
	(
		exec {LOCK}>&-
		curl -s -o /dev/null -w '%{http_code}' --max-time 300 --unix-socket "$SOCK" -X PUT \
			--data-binary "{\"ports\":[$((9000 + i))],\"block\":[\"DE\"]}" \
			"http://geoblock/v1/meetings/wait$i" >"$tmp/put$i"
	) &
	puts+=($!)
done
# A change waits for the lock, the ones after it at lock.gate (/proc/locks: "->" under the holder).
waiters() {
	local lock gate
	lock=$(stat -c %i "$S/lock")
	gate=$(stat -c %i "$S/lock.gate")
	grep -cE -- "-> FLOCK  ADVISORY  WRITE .*:($lock|$gate) " /proc/locks
}
waiters_at_least() { (($(waiters) >= $1)); }
# Far more than the 8 threads of the build before, where at most 8 waited, and a thread that had
# taken more than one connection left the others unserved. One of the waits may be the daemon's
# own expiry pass (each 5 s).
check "$N waits for the lock at once: the changes" wait_until 20 waiters_at_least $N

check_eq "while they wait: GET /v1/stats is answered" 200 "$(api GET /v1/stats)"
check_eq "while they wait: a request for no route is answered" 404 "$(api GET /v1/nothing)"
echo /v1/status >&"${KEEP[1]}"
read -r -u "${KEEP[0]}" line
check_eq "while they wait: a GET on the keep-alive connection is answered" "200 open" "$line"
still=0
for ((i = 1; i <= N; i++)); do
	kill -0 "${puts[i - 1]}" 2>/dev/null && [[ ! -s $tmp/put$i ]] && still=$((still + 1))
done
check_eq "... before the lock was let go: every PUT still waits, unanswered" "$N" "$still"

exec {LOCK}>&-
wait "${puts[@]}"
made=0
for ((i = 1; i <= N; i++)); do
	[[ $(cat "$tmp/put$i") == 200 ]] && made=$((made + 1))
done
check_eq "once the lock is free, every PUT is answered 200" "$N" "$made"
check_eq "and made" "$N" "$("$GEOBLOCK" meeting list --json |
	jq '[.[] | select(.name | startswith("wait"))] | length')"
keep_in=${KEEP[1]}
exec {keep_in}>&-
wait "$KEEP_PID"
# Each connection's thread ends with it (at the latest at the 10 s idle timeout).
check "the daemon's threads come back to $base_threads" wait_until 25 threads_at_most "$base_threads"
check "its descriptors come back to $base_fds" wait_until 25 fds_at_most "$base_fds"
check "the daemon is up" kill -0 "$pid"

# The connection limit holds as documented: past it, connections wait until one ends, neither
# closed at once (as libmicrohttpd does with a thread per connection, a design this one is not)
# nor left unserved. A daemon whose limit of open files leaves room for 64.
kill_child "$pid"
(ulimit -n 300 && exec "$GEOBLOCK" daemon --metrics 127.0.0.1:0 --api "$SOCK") \
	>"$tmp/daemon.out" 2>&1 &
pid=$!
on_exit kill_child "$pid"
wait_until 10 grep -q '^serving the API on ' "$tmp/daemon.out" ||
	{ fail "the daemon did not listen: $(cat "$tmp/daemon.out")"; summary; exit; }
check "it says its limit" grep -q 'room for 64 connections at once, not 1024' "$tmp/daemon.out"
# Connections it has taken (its ends, named by the socket's path), and those in its listen queue.
conns() { ss -xHpn | awk -v s="$SOCK" -v p="pid=$pid," '$5 == s && index($0, p)' | wc -l; }
conns_are() { (($(conns) == $1)); }
queued() { ss -xlHn | awk -v s="$SOCK" '$5 == s { print $3 }'; }
held_or_queued() { (($(conns) + $(queued) == $1)); }
# N connections opened and held; one closed for each line read.
cat >"$tmp/idle.py" <<'EOF'
import socket, sys
conns = []
for _ in range(int(sys.argv[2])):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(sys.argv[1])
    conns.append(c)
print("open", len(conns), flush=True)
for line in sys.stdin:
    conns.pop().close()
    print("closed one", flush=True)
EOF
coproc IDLE { /usr/bin/python3 "$tmp/idle.py" "$SOCK" 64 2>&1; }
on_exit kill_child "$IDLE_PID"
read -r -u "${IDLE[0]}" line
check_eq "64 idle connections" "open 64" "$line"
check "the daemon takes all 64" wait_until 20 conns_are 64
over=()
for i in 65 66; do
	curl -s -o /dev/null -w '%{http_code}' --max-time 60 --unix-socket "$SOCK" \
		http://geoblock/v1/stats >"$tmp/over$i.code" &
	over+=($!)
done
# Both wait: in the listen queue, or taken by the daemon and held, but neither closed.
check "a 65th and a 66th wait, held or in the listen queue" wait_until 20 held_or_queued 66
check "... unanswered" kill -0 "${over[@]}"
echo >&"${IDLE[1]}"
read -r -u "${IDLE[0]}" line
wait "${over[@]}"
check_eq "once one of the 64 ends, both are answered" "200 200" \
	"$(cat "$tmp/over65.code") $(cat "$tmp/over66.code")"
idle_in=${IDLE[1]}
exec {idle_in}>&-
wait "$IDLE_PID"
check "the daemon is up" kill -0 "$pid"
summary
