#!/usr/bin/env bash
# Live, atomic replacement: traffic flows without pause while the GeoIP table is swapped 20 times
# between two real databases (GeoLite2 and DB-IP lite). Sources whose country is the same in both
# get exactly the same verdict for every packet; sources whose country differs get the old or the
# new verdict, never "no country" (which a half-loaded table would give).
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

"$GEOBLOCK" meeting add stable-blocked --ports 6001 --block $BLOCK >/dev/null
"$GEOBLOCK" meeting add stable-allowed --ports 6002 --block $BLOCK >/dev/null
"$GEOBLOCK" meeting add changing --ports 6003 --block $BLOCK >/dev/null
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
drops() { delta "[.drops[] | select(.meeting == \"$1\") | .packets] | add // 0"; }
total=$((${sent[blocked]} + ${sent[allowed]} + ${sent[changed]}))
# (ARP and neighbour discovery on the veth count as not_ip / other_proto: left out)
check_eq "every packet got a verdict" "$total" \
	"$(delta '[.verdicts | to_entries[] | select(.key != "not_ip" and .key != "other_proto") | .value.packets] | add')"
check_eq "no packet met a missing table (no_country)" 0 "$(delta .verdicts.no_country.packets)"
check_eq "stable blocked sources: every packet dropped" "${sent[blocked]}" "$(drops stable-blocked)"
check_eq "stable allowed sources: no packet dropped" 0 "$(drops stable-allowed)"
changed=$(drops changing)
check "changing sources: old or new verdict ($changed of ${sent[changed]} dropped)" \
	test "$changed" -le "${sent[changed]}"
check_eq "drops only under the blocked country" "$(delta '.verdicts.dropped.packets')" \
	"$(delta "[.drops[] | select(.country == \"$BLOCK\") | .packets] | add // 0")"
summary
