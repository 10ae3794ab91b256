#!/usr/bin/env bash
# Live, atomic replacement: traffic flows without pause while the GeoIP table is swapped 20 times
# between two real databases (GeoLite2 and DB-IP lite). Sources whose country is the same in both
# get exactly the same verdict for every packet; sources whose country differs get the old or the
# new verdict, never "no country" (which a half-loaded table would give).
# The meetings are chosen so that every right verdict is a drop or a monitor hit, and every wrong
# one is counted as not_blocked or no_country: the check does not depend on how many packets the
# veth delivered under load.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/scripts/testbed.sh"
TB_BIN=$BUILD/tests
BENCH=$BUILD/bench/xdp_bench
SWAPS=${RELOAD_SWAPS:-20}
FRAMES=${RELOAD_FRAMES:-20000}
BLOCK=DE

geoip_data || { fail "fetch databases"; summary; exit; }
A=$GEOBLOCK_DATA_DIR/GeoLite2-Country.mmdb
B=$GEOBLOCK_DATA_DIR/dbip-country.mmdb
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# Sources, classified by the country each database gives them.
for fam in 4 6; do
	"$TB_BIN/mmdb_ref" sources "$A" 40000 7 $fam | sort -u >"$tmp/cand$fam"
done
cat "$tmp/cand4" "$tmp/cand6" >"$tmp/cand"
# --force on every swap: DB-IP gives countries to whole unallocated IPv6 blocks, so GeoLite2 covers
# far less IPv6 space and the load sanity check (--max-shrink) would refuse the switch.
"$GEOBLOCK" geoip load "$B" >/dev/null && "$GEOBLOCK" geoip lookup - <"$tmp/cand" >"$tmp/in_b"
"$GEOBLOCK" geoip load --force "$A" >/dev/null && "$GEOBLOCK" geoip lookup - <"$tmp/cand" >"$tmp/in_a"
paste -d' ' "$tmp/in_a" "$tmp/in_b" | awk '$2 != "--" && $4 != "--"' >"$tmp/both"
for fam in 4 6; do
	sel() { awk -v f=$fam '(f == 6) == ($1 ~ /:/)' "$tmp/both"; }
	sel | awk -v c=$BLOCK '$2 == c && $4 == c { print $1 }' | head -500 >"$tmp/blocked$fam"
	sel | awk -v c=$BLOCK '$2 != c && $4 != c { print $1 }' | head -500 >"$tmp/allowed$fam"
	sel | awk -v c=$BLOCK '($2 == c) != ($4 == c) { print $1 }' | head -500 >"$tmp/changed$fam"
	for g in blocked allowed changed; do
		n=$(wc -l <"$tmp/$g$fam")
		check "IPv$fam: $n $g sources (need >= 20)" test "$n" -ge 20
	done
done

# Every country either database gives a source (a code must name a country or be one the loaded
# table uses to be blocked, so not simply all 676 two-letter codes).
all=$(awk '$2 != "--" { print $2 }' "$tmp/in_a" "$tmp/in_b" | sort -u | paste -sd, -),
# stable-blocked: DE in both databases, blocked: every packet dropped.
"$GEOBLOCK" meeting add stable-blocked --ports 6001 --block $BLOCK >/dev/null ||
	fail "meeting add stable-blocked"
# stable-allowed: not DE in either; the meeting monitors every country but DE: every packet a
# monitor hit, and a DE answer (wrong) would be not_blocked.
"$GEOBLOCK" meeting add stable-allowed --ports 6002 --monitor \
	--block "$(tr ',' '\n' <<<"${all%,}" | grep -vx $BLOCK | paste -sd,)" >/dev/null ||
	fail "meeting add stable-allowed"
# changing: DE in one database only; every country monitored: either answer is a monitor hit.
"$GEOBLOCK" meeting add changing --ports 6003 --monitor --block "${all%,}" >/dev/null ||
	fail "meeting add changing"
testbed_up "gr$$" || { fail "testbed"; summary; exit; }
on_exit testbed_down
DST_MAC=$(ip -n "$TB_DST" -j link show "$TB_DST_IF" | jq -r '.[0].address')
SRC_IFINDEX=$(ip -n "$TB_SRC" -j link show "$TB_SRC_IF" | jq -r '.[0].ifindex')
check "attach" in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" >/dev/null
"$GEOBLOCK" stats --json >"$tmp/before.json"

# The swapper runs in the background; traffic flows until it is done.
(
	for ((i = 0; i < SWAPS; i++)); do
		db=$([[ $((i % 2)) == 0 ]] && echo "$B" || echo "$A")
		"$GEOBLOCK" geoip load --force "$db" >/dev/null || exit 1
	done
) &
swapper=$!
on_exit kill_child "$swapper"
declare -A sent
rounds=0
send() { # send GROUP FAMILY PORT
	if in_ns "$TB_SRC" "$BENCH" gen "$SRC_IFINDEX" "$2" "$tmp/$1$2" "$DST_MAC" "$3" "$FRAMES" >/dev/null; then
		sent[$1]=$((${sent[$1]:-0} + FRAMES))
	else
		fail "generator $1 IPv$2"
	fi
}
while kill -0 $swapper 2>/dev/null; do
	for fam in 4 6; do
		send blocked $fam 6001
		send allowed $fam 6002
		send changed $fam 6003
	done
	rounds=$((rounds + 1))
done
wait $swapper
check "all $SWAPS swaps loaded" test $? -eq 0
check "traffic flowed during the swaps ($rounds rounds)" test "$rounds" -ge 2
"$GEOBLOCK" stats --json >"$tmp/after.json"

delta() { echo $(($(jq "$1" "$tmp/after.json") - $(jq "$1" "$tmp/before.json"))); }
pair() { delta "[.drops[] | select(.meeting == \"$1\" $2) | .$3] | add // 0"; }
received=$(delta '[.verdicts | to_entries[] | select(.key != "not_ip" and .key != "other_proto") | .value.packets] | add')
total=$((${sent[blocked]} + ${sent[allowed]} + ${sent[changed]}))
echo "sent $total packets in $rounds rounds, $received received"
check "most packets arrived ($received of $total)" test $((received * 10)) -ge $((total * 9))
check_eq "no packet met a missing table (no_country)" 0 "$(delta .verdicts.no_country.packets)"
check_eq "no packet got a wrong country (not_blocked)" 0 "$(delta .verdicts.not_blocked.packets)"
check_eq "every received packet dropped or counted by a monitor" "$received" \
	"$(($(delta .verdicts.dropped.packets) + $(delta .verdicts.monitor.packets)))"
check "stable blocked sources: dropped" test "$(pair stable-blocked "" packets)" -gt 0
check_eq "stable blocked sources: dropped under $BLOCK only" "$(pair stable-blocked "" packets)" \
	"$(pair stable-blocked "and .country == \"$BLOCK\"" packets)"
check "stable allowed sources: monitor hits" test "$(pair stable-allowed "" monitor_packets)" -gt 0
check_eq "stable allowed sources: nothing dropped" 0 "$(pair stable-allowed "" packets)"
check "changing sources: answers of the first database ($BLOCK)" \
	test "$(pair changing "and .country == \"$BLOCK\"" monitor_packets)" -gt 0
check "changing sources: answers of the second database (not $BLOCK)" \
	test "$(pair changing "and .country != \"$BLOCK\"" monitor_packets)" -gt 0
summary
