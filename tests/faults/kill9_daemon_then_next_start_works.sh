#!/usr/bin/env bash
# kill -9 of the daemon at random moments (50 trials) while it reloads a watched GeoIP file or
# deletes expired meetings: afterwards the table is exactly the old or the new one, the meetings
# are the ones that have not expired (once the next change ran), the rules file agrees, the audit
# log is whole, the blocked client's packets still drop, and the next daemon starts and serves.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
TRIALS=${TRIALS:-$(trials 50)}
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR
W=$tmp/watched.csv
LOG=$tmp/daemon.log

faults_geoip "$tmp" || { fail "GeoIP data"; summary; exit; }
declare -A HASH
for t in b a; do
	check "load $t" "$GEOBLOCK" geoip load --force "$tmp/$t.csv" >/dev/null
	HASH[$t]=$(table_hash)
done
check "the two tables differ (both dumped)" test -n "${HASH[a]}" -a -n "${HASH[b]}" -a "${HASH[a]}" != "${HASH[b]}"
cp "$tmp/a.csv" "$W"
check "meeting add" "$GEOBLOCK" meeting add board --ports 8801 --block DE >/dev/null
faults_testbed "fd$$" || { fail "testbed"; summary; exit; }
check "filtered before" filtered 8801 "before"
pins=$(ls "$GEOBLOCK_PIN_DIR" | sort)

DAEMON=
on_exit '[[ -n $DAEMON ]] && kill -KILL $DAEMON'
# start_daemon: a daemon watching $W, up once it says it serves (the event it prints). The log
# is emptied here: the daemon's own redirection runs in the child, after the wait may have begun.
start_daemon() {
	: >"$LOG"
	"$GEOBLOCK" daemon --metrics 127.0.0.1:0 --watch "$W" >"$LOG" 2>&1 &
	DAEMON=$!
	wait_until 10 grep -q "serving metrics" "$LOG"
}
# kill_daemon_at_random MAX_MS: the fault; sets KILL_RC (137: it was still running, as it should).
kill_daemon_at_random() {
	local ms
	rand_below "$1"
	ms=$RAND
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL "$DAEMON"
	{ wait "$DAEMON"; } 2>/dev/null
	KILL_RC=$?
	DAEMON=
}
# expiring UNTIL: board, and six meetings of trial $i that expire at UNTIL.
expiring() {
	echo "meeting add board --ports 8801 --block DE"
	for k in 1 2 3 4 5 6; do
		echo "meeting add e$i-$k --ports $((10000 + i * 10 + k)) --block FR" \
			"--expires $(rfc3339 "$1")"
	done
}

# How long a reload takes, from the rename to the daemon's line about it.
check "daemon starts" start_daemon
cp "$tmp/b.csv" "$tmp/new.csv"
t0=$EPOCHREALTIME
mv "$tmp/new.csv" "$W"
check "daemon reloads" wait_until 20 grep -q "reloaded the GeoIP table" "$LOG"
reload_ms=$(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
kill -KILL "$DAEMON"
{ wait "$DAEMON"; } 2>/dev/null
DAEMON=
cur=b
echo "a reload takes $reload_ms ms"

killed=0 expired_total=0
for ((i = 1; i <= TRIALS; i++)); do
	if ((i % 2)); then
		# Reload: the other table renamed over the watched file, then the kill.
		[[ $cur == a ]] && next=b || next=a
		start_daemon || fail "trial $i: the daemon did not start: $(head -2 "$LOG")"
		cp "$tmp/$next.csv" "$tmp/new.csv"
		mv "$tmp/new.csv" "$W"
		kill_daemon_at_random "$reload_ms"
		h=$(table_hash)
		if [[ $h == "${HASH[$cur]}" ]]; then
			pass
		elif [[ $h == "${HASH[$next]}" ]]; then
			cur=$next
			pass
		else
			fail "trial $i: the table is neither the old nor the new one"
		fi
	else
		# Expiry: meetings that expire within a second; the daemon deletes them as it starts.
		# One apply adds them (board stays as it is).
		check "trial $i: apply the expiring meetings" apply_expiring "$tmp/apply.out" expiring
		# Waits for the expiry time itself, the moment under test.
		check "trial $i: the expiry time comes" wait_until 5 expired_now
		t0=$EPOCHREALTIME
		start_daemon || fail "trial $i: the daemon did not start: $(head -2 "$LOG")"
		# The daemon deletes at start: kills land from before that up to a little after.
		kill_daemon_at_random 200
		expired_total=$((expired_total + 6))
		# The next change finishes the deletions; then only board is left, in maps and file.
		"$GEOBLOCK" meeting del no-such-meeting >/dev/null 2>&1
		check_eq "trial $i: meetings after the next change" board \
			"$("$GEOBLOCK" meeting list --json | jq -r '.[].name' | paste -sd' ')"
		check_eq "trial $i: the rules file agrees" "meeting add board --ports 8801 --block DE" \
			"$(saved_rules)"
	fi
	((KILL_RC == 137)) && killed=$((killed + 1))
	[[ $(ls "$GEOBLOCK_PIN_DIR" | sort) == "$pins" ]] || fail "trial $i: pins changed"
	((i % 5 == 0)) && { filtered 8801 "after trial $i" && pass || fail "trial $i: traffic not filtered"; }
done
echo "$TRIALS trials, $killed kills landed on a running daemon; $expired_total meetings expired"
check_eq "every kill landed on a running daemon" "$TRIALS" "$killed"
check "audit log lines whole" audit_whole
check_eq "every expiry audited once" "$expired_total" "$(grep -c '"command":"expire"' "$S/audit.log")"
check "the next daemon starts" start_daemon
check "and serves metrics" bash -c "curl -sf \"\$(sed -n 's/^serving metrics on //p' '$LOG')\" | grep -q '^geoblock_'"
kill_child "$DAEMON"
wait "$DAEMON"
check_eq "and stops cleanly" 0 $?
DAEMON=
check "filtered at the end" filtered 8801 "at the end"
summary
