#!/usr/bin/env bash
# kill -9 of the API daemon under 8 writers (20 trials): each writer (a client of
# tests/bench/api_load.c) changes meetings of its own through the API (PUT, DELETE, ports) until
# the daemon dies at a random moment; after the next command every meeting is as its last
# acknowledged change left it, or, for a change sent and not acknowledged, as that change left it
# (whole: never a mix), in `meeting list --json` and in what the maps decide (`explain`); the
# same set after a simulated reboot (pin dir removed, `restore`); the meetings no writer touches
# stay as they were; the next daemon serves that set.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
TRIALS=${TRIALS:-$(trials 20)}
LOAD=$BUILD/bench/api_load
JQ_STATE=$ROOT/tests/bench/api_state.jq
[[ -x $GEOBLOCK && -x $LOAD ]] || { fail "no $GEOBLOCK or $LOAD (build first)"; summary; exit; }
# A short path: a unix socket's path is under 108 bytes.
tmp=$(mktemp -d /tmp/gbk9w.XXXXXX)
on_exit rm -rf "$tmp"
SOCK=$tmp/run/api.sock
# 8 writers with 2 meetings each, each meeting changing within 50 ports of its own.
args=(--clients 8 --meetings 2 --ports 60000-60799 --prefix w)

# 192.0.2.0/24 is German, 198.51.100.0/24 French.
printf '192.0.2.0,192.0.2.255,DE\n198.51.100.0,198.51.100.255,FR\n' >"$tmp/table.csv"
check "geoip load" "$GEOBLOCK" geoip load --force "$tmp/table.csv" >/dev/null
{
	"$LOAD" --layout "${args[@]}"
	for k in $(seq 0 19); do
		echo "meeting add m$k --ports $((10000 + k * 3))-$((10002 + k * 3)) --block DE"
	done
} >"$tmp/rules"
check "apply the writers' and 20 other meetings" "$GEOBLOCK" apply "$tmp/rules" >/dev/null
# Each writer meeting's own ports, its whole slice: "NAME FIRST-LAST".
"$LOAD" --layout "${args[@]}" --layout-ports 50 | awk '{ print $3, $5 }' >"$tmp/slices"

# Sorted by name: meeting ids (the order of `meeting list`) are not kept across a reboot.
states() { jq -r --arg prefix "$1" -f "$JQ_STATE" | sort; }
others=$("$GEOBLOCK" meeting list --json | states m)	# no writer's name starts with m

DAEMON= LPID=
on_exit '[[ -n $DAEMON ]] && kill -KILL $DAEMON'
on_exit '[[ -n $LPID ]] && kill -KILL $LPID'
# start_daemon: up once it says it serves (it replaces the socket a killed daemon left). The log
# is emptied here, not by the daemon's redirection: that runs in the child, which the wait's first
# grep can overtake, finding the last daemon's line.
start_daemon() {
	: >"$tmp/daemon.log"
	"$GEOBLOCK" daemon --metrics 127.0.0.1:0 --api "$SOCK" >"$tmp/daemon.log" 2>&1 &
	DAEMON=$!
	wait_until 10 grep -q "serving the API" "$tmp/daemon.log"
}

# acked_equal WHAT [COUNT]: the writers' meetings in `meeting list --json` against api_load's
# --expect file ("NAME STATE [STATE IN DOUBT]"); with COUNT, adds the changes in doubt found made
# to TAKEN and those found not made to UNTAKEN; the other meetings as they were.
acked_equal() {
	local what=$1 out
	"$GEOBLOCK" meeting list --json >"$tmp/list.json" || { fail "$what: meeting list"; return; }
	states "" <"$tmp/list.json" >"$tmp/all"
	grep '^w-' "$tmp/all" >"$tmp/got"
	out=$(awk 'NR == FNR { got[$1] = $2 " " $3 " " $4; next }
		function state(i) { return ($i == "absent") ? "absent" : $i " " $(i + 1) " " $(i + 2) }
		{
			seen[$1] = 1
			a = state(2)
			nx = (a == "absent") ? 3 : 5
			b = (NF >= nx) ? state(nx) : ""
			g = ($1 in got) ? got[$1] : "absent"
			if (g == a) {
				if (b != "") untaken++
			} else if (b != "" && g == b) {
				taken++
			} else {
				print "BAD " $1 ": is \"" g "\", acknowledged \"" a "\"" \
					(b != "" ? ", in doubt \"" b "\"" : "")
			}
		}
		END {
			for (n in got) if (!(n in seen)) print "BAD " n ": a meeting no writer made"
			print "COUNT", taken + 0, untaken + 0
		}' "$tmp/got" "$tmp/expect")
	if grep -q '^BAD' <<<"$out"; then
		fail "$what: the writers' meetings are not as acknowledged:" \
			"$(grep '^BAD' <<<"$out" | head -3 | cut -c5- | paste -sd';')"
	else
		pass
	fi
	read -r _ t u < <(grep '^COUNT' <<<"$out")
	[[ -n ${2:-} ]] && TAKEN=$((TAKEN + t)) UNTAKEN=$((UNTAKEN + u))
	check_eq "$what: the other meetings" "$others" "$(grep -v '^w-' "$tmp/all")"
}

# probes N: "PORT MEETING VERDICT" lines for N writer meetings (of 16) drawn at random, as the list
# read by acked_equal has them: a port it holds is its own (a German source dropped, or counted in
# monitor mode), a port of its slice it does not hold belongs to no meeting.
probes() {
	local name lo hi mode ports held span p j arr source=$RANDOM
	while read -r name lo; do
		hi=${lo#*-} lo=${lo%-*}
		read -r _ mode _ ports < <(grep "^$name " "$tmp/got") || mode= ports=
		held=,$ports,
		if [[ -n $ports ]]; then
			IFS=, read -ra arr <<<"$ports"
			[[ $mode == monitor ]] || mode=dropped
			rand_below ${#arr[@]}
			echo "${arr[RAND]} $name $mode"
		fi
		rand_below $((hi - lo + 1))
		span=$((hi - lo + 1)) p=$((lo + RAND))
		for ((j = 0; j < span; j++)); do
			[[ $held == *",$p,"* ]] || break
			p=$((p == hi ? lo : p + 1))
		done
		((j < span)) && echo "$p null no_meeting"
	done < <(shuf -n "$1" --random-source=<(yes "$source") "$tmp/slices")
}

# enforced WHAT N cli|api: what the maps decide for the probes of N meetings, through `explain`
# (a process each) or the daemon's /v1/explain (one curl for all).
enforced() {
	local p
	probes "$2" >"$tmp/probes"
	if [[ $3 == cli ]]; then
		while read -r p _; do
			"$GEOBLOCK" explain 192.0.2.1 "$p" --json
		done <"$tmp/probes" >"$tmp/explained"
	else
		curl -s --unix-socket "$SOCK" $(awk '{ printf "http://geoblock/v1/explain?addr=%s&port=%d\n",
			"192.0.2.1", $1 }' "$tmp/probes") >"$tmp/explained"
	fi
	jq -r '"\(.port) \(.meeting) \(.verdict)"' "$tmp/explained" >"$tmp/decided"
	if diff "$tmp/probes" "$tmp/decided" >"$tmp/diff"; then
		pass
	else
		fail "$1: the maps do not decide as the list says:" \
			"$(grep '^[<>]' "$tmp/diff" | head -4 | paste -sd' ')"
	fi
}

ACKED=0 DOUBT=0 TAKEN=0 UNTAKEN=0
check "daemon starts" start_daemon
for ((i = 1; i <= TRIALS; i++)); do
	# load.err too: the writers truncate it only once started, and the wait below must not find
	# the last trial's "running" in it (then the kill could land in the writers' own setup).
	rm -f "$tmp/expect" "$tmp/load.err"
	"$LOAD" --socket "$SOCK" "${args[@]}" --seconds 60 --until-gone --seed $((FAULT_SEED + i)) \
		--expect "$tmp/expect" --json >"$tmp/load.json" 2>"$tmp/load.err" &
	LPID=$!
	wait_until 10 grep -qs '^api_load: running' "$tmp/load.err" ||
		fail "trial $i: the writers did not start: $(head -2 "$tmp/load.err")"
	rand_below 1000
	ms=$((50 + RAND))
	sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
	kill -KILL "$DAEMON"
	{ wait "$DAEMON"; } 2>/dev/null
	check_eq "trial $i: the kill landed on a running daemon" 137 $?
	DAEMON=
	wait_until 30 bash -c "! kill -0 $LPID 2>/dev/null" || fail "trial $i: the writers did not stop"
	wait "$LPID"
	rc=$? LPID=
	if ((rc != 0)) || ! jqe '(.errors | keys) - ["no_answer"] == [] and .reply_mismatches == 0' \
		"$tmp/load.json" >/dev/null; then
		fail "trial $i: the writers (exit $rc): $(head -c 300 "$tmp/load.json")" \
			"$(head -2 "$tmp/load.err")"
	fi
	read -r n d < <(jq -r '"\(.acknowledged) \(.in_doubt)"' "$tmp/load.json")
	ACKED=$((ACKED + n)) DOUBT=$((DOUBT + d))

	next_command "$i"
	what="trial $i, after the next command ($n acknowledged, $d in doubt, killed at $ms ms)"
	acked_equal "$what" count
	enforced "trial $i, after the next command" 2 cli
	before=$(cat "$tmp/got")
	# A reboot: the pins are gone, restore puts back what the state dir holds.
	rm -rf "$GEOBLOCK_PIN_DIR"
	out=$("$GEOBLOCK" restore 2>&1) || fail "trial $i: restore after a reboot: $out"
	acked_equal "trial $i, after a reboot"
	check_eq "trial $i: the same set after a reboot" "$before" "$(cat "$tmp/got")"
	start_daemon || fail "trial $i: the next daemon did not start: $(head -2 "$tmp/daemon.log")"
	check_eq "trial $i: the next daemon serves the set" "$before" \
		"$(curl -s --unix-socket "$SOCK" http://geoblock/v1/meetings | jq .meetings | states w-)"
	enforced "trial $i, after a reboot, the next daemon" 8 api
done
echo "$TRIALS trials: $ACKED changes acknowledged; $DOUBT in doubt at the kill, $TAKEN of them" \
	"found made, $UNTAKEN not"
check "changes were acknowledged in every trial on average" test "$ACKED" -ge "$TRIALS"
check "kills landed with changes in doubt" test "$DOUBT" -gt 0
summary
