#!/usr/bin/env bash
# A geoip load cut short inside its switch, between the two families' network lists (strace
# kills it, or fails its bpf call, at the Nth bpf system call; N is tried across the switch until
# the state is the one sought). The next command that takes the state lock leaves the data path's
# table answering as the network lists do (as check and explain read them): a load whose IPv4 list
# went live and IPv6 list did not is compiled from the lists live, with a warning to load again;
# a load of a table without IPv4 networks, killed once its IPv6 list went live, is finished (the
# IPv4 list goes). A load that fails (not killed) before any of its lists went live, on pins with
# no table, leaves no copy for restore to load.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
check "strace is installed (scripts/install-deps.sh)" quiet command -v strace
# strace in between: LeakSanitizer cannot run under it, and would change the exit code.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

printf '1.0.0.0,1.0.0.255,DE\n2.0.0.0,2.0.0.255,FR\n2001:db8::,2001:db8::ffff,DE\n' >"$tmp/a.csv"
printf '1.0.0.0,1.0.0.255,FR\n2.0.0.0,2.0.0.255,DE\n2001:db8::,2001:db8::ffff,FR\n' >"$tmp/b.csv"
printf '2001:db8::,2001:db8::ffff,FR\n' >"$tmp/b6.csv"
V4=1.0.0.1 V6=2001:db8::1

cc() { "$GEOBLOCK" geoip lookup --from "$1" "$2" 2>/dev/null | awk '{ print $2 }'; }
# The state as the four answers: the network lists' (v4, v6), then the data path table's.
state() { echo "$(cc networks $V4) $(cc networks $V6) $(cc table $V4) $(cc table $V6)"; }

check "load a" quiet "$GEOBLOCK" geoip load "$tmp/a.csv"
check "a meeting blocking DE" quiet "$GEOBLOCK" meeting add m --ports 5000 --block DE
check_eq "a's table" "DE DE DE DE" "$(state)"

# cut_load FILE HOW WANT: loads FILE under strace, HOW (signal=KILL or error=ENOMEM) injected at the
# Nth bpf call for N from 60 on, after load a each time, until the network lists answer WANT
# (v4 and v6). 0 once they do, the load's stderr in $tmp/err.
cut_load() {
	local file=$1 how=$2 want=$3 n
	for ((n = 60; n < 260; n++)); do
		"$GEOBLOCK" geoip load --force "$tmp/a.csv" >/dev/null 2>&1 || return 1
		# Its exit code through a file: bash would report strace killed by the signal it
		# passes on, where the subshell's stderr goes.
		(strace -f -o /dev/null -e trace=bpf -e inject=bpf:$how:when=$n \
			"$GEOBLOCK" geoip load --force "$file" >/dev/null 2>"$tmp/err"
			echo $? >"$tmp/rc") 2>/dev/null
		CUT_RC=$(<"$tmp/rc")
		[[ "$(cc networks $V4) $(cc networks $V6)" == "$want" ]] && return 0
	done
	return 1
}

# 1. Killed between the lists: IPv4's is b's, IPv6's still a's; the tables still a's.
if check "killed with b's IPv4 list live, a's IPv6 list" \
	cut_load "$tmp/b.csv" signal=KILL "FR DE"; then
	check_eq "killed (exit 137)" 137 "$CUT_RC"
	check_eq "status says a load waits to be settled" true \
		"$("$GEOBLOCK" status --json | jq .geoip_load_interrupted)"
	# A change that needs no country the table did not tell apart already (DE).
	"$GEOBLOCK" meeting add n --ports 5001 --block DE >/dev/null 2>"$tmp/next"
	check_eq "the next change works" 0 $?
	check_eq "then the data path's table is the lists' (FR, not blocked: **)" "FR DE ** DE" \
		"$(state)"
	check "and it says to load again" grep -q "is not the one kept for restore.*load it again" \
		"$tmp/next"
	check_eq "check answers as the data path: 1.0.0.1 is FR, not blocked by m" false \
		"$("$GEOBLOCK" check m $V4 --json | jq .block)"
	check "audited" grep -q \
		'"recover","reason":"a geoip load of .*b.csv was killed while it switched' \
		"$GEOBLOCK_STATE_DIR/audit.log"
	check "a load then works" quiet "$GEOBLOCK" geoip load --force "$tmp/b.csv"
	check_eq "b's table" "FR FR ** **" "$(state)"
	"$GEOBLOCK" meeting del n >/dev/null
fi

# 2. The same cut by a failure (ENOMEM) rather than a kill: the load itself settles it.
if check "failed with b's IPv4 list live, a's IPv6 list" \
	cut_load "$tmp/b.csv" error=ENOMEM "FR DE"; then
	check_eq "the load fails (exit 2)" 2 "$CUT_RC"
	check "saying why" grep -q "cannot switch to the new IPv6 network list" "$tmp/err"
	check_eq "the data path's table is the lists' at once" "FR DE ** DE" "$(state)"
	check_eq "nothing waits to be settled" false \
		"$("$GEOBLOCK" status --json | jq .geoip_load_interrupted)"
	check "audited as failed, not killed" grep -q \
		'"command":"recover","reason":"a geoip load of .*b.csv failed while it switched' \
		"$GEOBLOCK_STATE_DIR/audit.log"
fi

# 3. A table without IPv4 networks, killed once its IPv6 list went live: the load is finished.
if check "killed with b6's IPv6 list live, a's IPv4 list" \
	cut_load "$tmp/b6.csv" signal=KILL "DE FR"; then
	check_eq "killed (exit 137)" 137 "$CUT_RC"
	"$GEOBLOCK" meeting add n --ports 5001 --block FR >/dev/null 2>"$tmp/next"
	check_eq "the next change works" 0 $?
	check_eq "then the table is b6's: no IPv4 networks" "-- FR -- FR" "$(state)"
	check "no warning: the table kept is the one live" test ! -s "$tmp/next" -o -z \
		"$(grep "not the one kept" "$tmp/next")"
	check_eq "status describes b6" "$tmp/b6.csv" \
		"$("$GEOBLOCK" status --json | jq -r .geoip.source)"
	check "its copy is kept for restore" cmp -s "$GEOBLOCK_STATE_DIR/geoip.db" "$tmp/b6.csv"
	check "audited" grep -q \
		'"recover","reason":"a geoip load of .*b6.csv was killed after it switched' \
		"$GEOBLOCK_STATE_DIR/audit.log"
fi

# 4. The first load onto pins without a table fails before any list went live: no copy is kept.
rm -rf "$GEOBLOCK_PIN_DIR" "$GEOBLOCK_STATE_DIR"
mkdir -p "$GEOBLOCK_STATE_DIR"
first=""
for ((n = 60; n < 260; n++)); do
	rm -rf "$GEOBLOCK_PIN_DIR" "$GEOBLOCK_STATE_DIR"/*
	strace -f -o /dev/null -e trace=bpf -e inject=bpf:error=ENOMEM:when=$n \
		"$GEOBLOCK" geoip load "$tmp/a.csv" >/dev/null 2>"$tmp/err"
	grep -q "cannot switch to the new IPv4 network list" "$tmp/err" && first=$n && break
done
if check "a first load failing at its first switch" test -n "$first"; then
	check_eq "no copy kept for restore" "" "$(cd "$GEOBLOCK_STATE_DIR" && ls -A | grep geoip)"
	check_eq "no table loaded" "--" "$(cc networks $V4)"
	check "nothing recovered in the audit log" test -z \
		"$(grep -s '"command":"recover"' "$GEOBLOCK_STATE_DIR/audit.log")"
fi
summary
