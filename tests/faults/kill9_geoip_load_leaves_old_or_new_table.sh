#!/usr/bin/env bash
# kill -9 of `geoip load` at random moments (50 trials, two tables loaded in turn): afterwards the
# kernel's table is exactly the old one or the new one (its dump hashes to one of the two), the
# kept copy in the state dir is whole, no pins are left behind, the blocked client's packets are
# still dropped, and the next load works.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
TRIALS=${TRIALS:-$(trials 50)}
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR

faults_geoip "$tmp" || { fail "GeoIP data"; summary; exit; }
declare -A HASH
for t in b a; do
	check "load $t" "$GEOBLOCK" geoip load --force "$tmp/$t.csv" >/dev/null
	HASH[$t]=$(table_hash)
	cp "$S/geoip.db" "$tmp/$t.kept"
done
check "the two tables differ (both dumped)" test -n "${HASH[a]}" -a -n "${HASH[b]}" -a "${HASH[a]}" != "${HASH[b]}"
check "meeting add" "$GEOBLOCK" meeting add board --ports 8801 --block DE >/dev/null
faults_testbed "fk$$" || { fail "testbed"; summary; exit; }
check "filtered before" filtered 8801 "before"
pins=$(ls "$GEOBLOCK_PIN_DIR" | sort)

# A whole load takes DUR ms here; kills land anywhere in it.
dur=$(elapsed_ms "$GEOBLOCK" geoip load --force "$tmp/b.csv")
dur=$(elapsed_ms "$GEOBLOCK" geoip load --force "$tmp/a.csv")
echo "a load takes $dur ms; kills drawn from 0..$dur ms"
cur=a killed=0 bad=0
for ((i = 1; i <= TRIALS; i++)); do
	[[ $cur == a ]] && next=b || next=a
	kill_at_random "$dur" "$tmp/load.out" "$GEOBLOCK" geoip load --force "$tmp/$next.csv"
	if ((KILL_RC == 137)); then
		killed=$((killed + 1))
	elif ((KILL_RC != 0)); then
		fail "trial $i: an unkilled load failed (exit $KILL_RC): $(head -1 "$tmp/load.out")"
	fi
	h=$(table_hash)
	if [[ $h == "${HASH[$cur]}" ]]; then
		now=$cur
	elif [[ $h == "${HASH[$next]}" ]]; then
		now=$next
	else
		fail "trial $i (exit $KILL_RC): the table is neither the old nor the new one"
		bad=$((bad + 1))
		now=$next
	fi
	((KILL_RC == 0)) && [[ $now != "$next" ]] && fail "trial $i: a finished load left the old table"
	# The kept copy (restore's source) is one of the two whole files.
	if ! cmp -s "$S/geoip.db" "$tmp/a.kept" && ! cmp -s "$S/geoip.db" "$tmp/b.kept"; then
		fail "trial $i (exit $KILL_RC): $S/geoip.db is neither database"
	fi
	got=$(ls "$GEOBLOCK_PIN_DIR" | sort)
	[[ $got == "$pins" ]] || fail "trial $i: pins changed: $(diff <(echo "$pins") <(echo "$got") | grep '^[<>]' | paste -sd' ')"
	# Every few trials (each is slow), the data path: a blocked packet still drops.
	((i % 5 == 0)) && { filtered 8801 "after trial $i" || fail "trial $i: traffic not filtered"; }
	cur=$now
	if ((i % 10 == 0)); then
		# The next command works: a load to completion, which must switch.
		[[ $cur == a ]] && next=b || next=a
		check "trial $i: the next load works" "$GEOBLOCK" geoip load --force "$tmp/$next.csv" >/dev/null
		check_eq "trial $i: the next load's table" "${HASH[$next]}" \
			"$(table_hash)"
		cur=$next
	fi
done
echo "$TRIALS trials, $killed killed mid-load, $((TRIALS - killed)) finished first"
check "most kills landed mid-load" test "$killed" -ge $((TRIALS / 2))
check_eq "tables neither old nor new" 0 "$bad"
check "filtered at the end" filtered 8801 "at the end"
check "status works" "$GEOBLOCK" status >/dev/null
check "audit log lines whole" audit_whole
summary
