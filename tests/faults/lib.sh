# Shared by the fault tests (source after tests/lib/common.sh): a seeded random source, kill -9 at a
# random moment, and a traffic check through a namespace testbed.
source "$ROOT/scripts/testbed.sh"
TB_BIN=$BUILD/tests

# The seed is printed; FAULT_SEED=N repeats a run's random choices.
FAULT_SEED=${FAULT_SEED:-$(((RANDOM << 15) | RANDOM))}
RANDOM=$FAULT_SEED
echo "seed $FAULT_SEED (FAULT_SEED=$FAULT_SEED repeats these choices)"

# rand_below N: sets RAND to a number in 0..N-1. Called in this shell, not in a command
# substitution: bash reseeds a subshell's generator (from the clock and its PID), so numbers drawn
# there neither follow FAULT_SEED nor advance this shell's sequence.
rand_below() { RAND=$((((RANDOM << 15) | RANDOM) % $1)); }

# elapsed_ms CMD...: runs CMD (output discarded) and prints how long it took, in ms.
elapsed_ms() {
	local t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1
	echo $(((${EPOCHREALTIME/./} - ${t0/./}) / 1000))
}

rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# apply_expiring OUT LINES_FN: applies the rules LINES_FN UNTIL prints, for meetings that expire
# at UNTIL (set here: the next second), its output in OUT. An expiry that passed while apply ran
# is refused whole: the next second is tried, up to three times; 0 once it applied.
apply_expiring() {
	local out=$1 fn=$2 try
	for try in 1 2 3; do
		UNTIL=$(($(date +%s) + 1))
		"$fn" "$UNTIL" >"$out.rules"
		"$GEOBLOCK" apply "$out.rules" >"$out" 2>&1 && return 0
		grep -q 'already passed' "$out" || return 1
	done
	return 1
}
# expired_now: the expiry time apply_expiring set has come (a meeting's expiry has passed once
# the clock reads its second).
expired_now() { (($(date +%s) >= UNTIL)); }

# kill_at_random MAX_MS OUT CMD...: starts CMD (stdout and stderr to OUT), sends it SIGKILL after a
# delay drawn from 0..MAX_MS-1 ms, and sets KILL_RC to its exit status: 137 when the kill landed
# while it ran, its own status when it finished first. The delay is the fault, not a wait.
kill_at_random() {
	local max=$1 out=$2 pid ms
	shift 2
	rand_below "$max"
	ms=$RAND
	"$@" >"$out" 2>&1 &
	pid=$!
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL "$pid" 2>/dev/null
	{ wait "$pid"; } 2>/dev/null
	KILL_RC=$?
}

# faults_testbed NAME: namespaces with a blocked client ($FT_BLOCKED, in DE) and a passed one
# ($FT_PASSED, in FR), geoblock attached on the server side. The test's GeoIP tables map
# 198.51.100.0/24 to DE and 203.0.113.0/24 to FR (documentation ranges, in no real database).
FT_BLOCKED=198.51.100.7
FT_PASSED=203.0.113.7
faults_testbed() {
	testbed_up "$1" || return 1
	on_exit testbed_down
	testbed_add_client "$FT_BLOCKED" && testbed_add_client "$FT_PASSED" &&
		in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" >/dev/null
}

# filtered PORT [WHAT]: 3 datagrams from each client to PORT: none from the blocked client may
# arrive and all from the passed one must (so a dead link cannot pass for a drop).
filtered() {
	local out got_b got_p
	out=$(mktemp)
	if ! send_and_count "$1" 9999 3 "$out" "$FT_BLOCKED" "$FT_PASSED"; then
		rm -f "$out"
		echo "filtered ${2:-}: traffic could not be sent" >&2
		return 1
	fi
	got_b=$(awk -v s="$FT_BLOCKED" -v p="$1" '$1 == s && $2 == p { print $3 }' "$out")
	got_p=$(awk -v s="$FT_PASSED" -v p="$1" '$1 == s && $2 == p { print $3 }' "$out")
	rm -f "$out"
	[[ -z $got_b && $got_p == 3 ]] && return 0
	echo "filtered ${2:-}: to port $1 arrived ${got_b:-0} of 3 from DE (want 0), ${got_p:-0} of 3 from FR (want 3)" >&2
	return 1
}

# faults_geoip DIR: two GeoIP tables, DIR/a.csv (DB-IP lite) and DIR/b.csv (GeoLite2), the first
# 50,000 IPv4 ranges of each real database plus the test clients' ranges; prints nothing.
faults_geoip() {
	geoip_data >/dev/null || return 1
	local src
	for src in "dbip a" "geolite2 b"; do
		{
			head -n 50000 "$GEOBLOCK_DATA_DIR/${src% *}-country-ipv4.csv"
			echo "198.51.100.0,198.51.100.255,DE"
			echo "203.0.113.0,203.0.113.255,FR"
		} >"$1/${src#* }.csv" || return 1
	done
}

# audit_whole [LOG]: every line of the audit log (or LOG) is one whole JSON object.
audit_whole() {
	local log=${1:-$GEOBLOCK_STATE_DIR/audit.log} bad
	# Each caller made changes, each audited: no log is a failure, not a log with no bad line.
	[[ -s $log ]] || { echo "audit log: $log missing or empty" >&2; return 1; }
	bad=$(jq -R 'fromjson? // "BAD"' "$log" | grep -c '^"BAD"$')
	((bad == 0)) || { echo "audit log: $bad broken lines" >&2; return 1; }
}

# next_command I: after trial I, a command that changes nothing itself (and so puts right what an
# interrupted change left) runs and refuses as it should; EXTRA is added to the failure line.
next_command() {
	local i=$1 rc
	"$GEOBLOCK" meeting del no-such-meeting >"$tmp/next.out" 2>&1
	rc=$?
	if ((rc != 1)) || ! grep -q 'no meeting "no-such-meeting"' "$tmp/next.out"; then
		fail "trial $i${EXTRA:-}: the next command (exit $rc): $(grep -v 'rolled back' "$tmp/next.out" | head -1)"
	fi
}

# next_command_recovers I CUR NEXT: after trial I, an apply from rules file CUR to NEXT that may have
# been killed, the next command (one that changes nothing itself) must put an interrupted apply
# right: the rule set (the test's rule_set function) is then exactly WANT[CUR] or WANT[NEXT], and
# no journal is left. Sets NOW to the file it equals; EXTRA is added to the failure lines.
next_command_recovers() {
	local i=$1 cur=$2 next=$3 got
	next_command "$i"
	got=$(rule_set)
	if [[ $got == "${WANT[$cur]}" ]]; then
		NOW=$cur
		pass
	elif [[ $got == "${WANT[$next]}" ]]; then
		NOW=$next
		pass
	else
		fail "trial $i (exit $KILL_RC)${EXTRA:-}: the rule set is neither file: $(diff <(echo "${WANT[$cur]}") <(echo "$got") | head -4 | paste -sd' ')"
		NOW=$next
	fi
	change_under_way && fail "trial $i${EXTRA:-}: the change under way outlived the next command"
	return 0
}
