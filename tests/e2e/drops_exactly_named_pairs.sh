#!/usr/bin/env bash
# End to end on a veth between two namespaces, geoblock attached natively on the server side, a real
# GeoLite2 database loaded: real UDP from clients of several countries reaches exactly the
# (meeting, country) pairs that were not blocked, `stats --json` attributes every drop, and after
# detach everything flows again.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/scripts/testbed.sh"
TB_BIN=$BUILD/tests
COUNT=40

geoip_data || { fail "fetch databases"; summary; exit; }
DB=$GEOBLOCK_DATA_DIR/GeoLite2-Country.mmdb
check "geoip load" "$GEOBLOCK" geoip load --with-lpm "$DB.gz"

# Clients: real addresses of these countries in the loaded database, plus addresses with none.
declare -A CC
find_client() { "$TB_BIN/mmdb_ref" find "$DB" "$1" "$2" "$3"; }
for spec in "DE 4 1" "DE 4 2" "JP 4 1" "US 4 1" "FR 4 1" "DE 6 1" "JP 6 1" "US 6 1"; do
	read -r cc fam seed <<<"$spec"
	addr=$(find_client "$cc" "$fam" "$seed") || { fail "no $cc address"; continue; }
	CC[$addr]=$cc
done
CC[192.0.2.77]=--
CC[2001:db8::77]=--
for a in "${!CC[@]}"; do
	got=$("$GEOBLOCK" geoip lookup "$a" | cut -d' ' -f2)
	check_eq "client $a is in ${CC[$a]}" "${CC[$a]}" "$got"
done

check "meeting add standup" "$GEOBLOCK" meeting add standup --ports 8801-8803 --block de,JP >/dev/null
check "meeting add allhands" "$GEOBLOCK" meeting add allhands --ports 9001 --block US >/dev/null

testbed_up "gb$$" || { fail "testbed"; summary; exit; }
on_exit testbed_down
for a in "${!CC[@]}"; do
	testbed_add_client "$a" || fail "add client $a"
done
# run_with LOOKUP: the whole traffic check with the filter looking up the given structure.
run_with() {
	local lookup=$1 tmp
	tmp=$(mktemp -d)
	on_exit rm -rf "$tmp"
	"$GEOBLOCK" stats --json >"$tmp/before.json"
	check "attach native ($lookup)" in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" --mode native \
		--lookup "$lookup" >/dev/null
	in_ns "$TB_DST" "$GEOBLOCK" status --json >"$tmp/status.json"
	check_eq "status shows native attachment ($lookup)" "native/$lookup" \
		"$(jq -r --arg i "$TB_DST_IF" '.attachments[] | select(.interface == $i) | "\(.mode)/\(.lookup)"' "$tmp/status.json")"

	check "traffic with the filter ($lookup)" send_and_count "$PORTS" 9999 "$COUNT" "$tmp/recv" "${!CC[@]}"
	declare -A want_drops
	for a in "${!CC[@]}"; do
		for p in ${PORTS//,/ }; do
			got=$(awk -v s="$a" -v p="$p" '$1 == s && $2 == p { print $3 }' "$tmp/recv")
			if blocked "${CC[$a]}" "$p"; then
				check_eq "dropped ($lookup): ${CC[$a]} $a -> $p" "" "$got"
				m=$([[ $p == 9001 ]] && echo allhands || echo standup)
				want_drops[$m/${CC[$a]}]=$((${want_drops[$m/${CC[$a]}]:-0} + COUNT))
			else
				check_eq "arrived ($lookup): ${CC[$a]} $a -> $p" "$COUNT" "$got"
			fi
		done
	done

	# stats --json attributes each drop to (meeting, country), and nothing else was dropped.
	"$GEOBLOCK" stats --json >"$tmp/after.json"
	total=0
	delta() { # delta JQ-FILTER: after - before
		echo $(($(jq "$1" "$tmp/after.json") - $(jq "$1" "$tmp/before.json")))
	}
	for k in "${!want_drops[@]}"; do
		got=$(delta "[.drops[] | select(.meeting == \"${k%/*}\" and .country == \"${k#*/}\") | .packets] | add // 0")
		check_eq "stats ($lookup): drops of $k" "${want_drops[$k]}" "$got"
		total=$((total + ${want_drops[$k]}))
	done
	check_eq "stats ($lookup): (meeting, country) pairs with drops" "${#want_drops[@]}" \
		"$(jq '[.drops[] | select(.packets > 0)] | length' "$tmp/after.json")"
	check_eq "stats ($lookup): dropped verdicts" "$total" "$(delta .verdicts.dropped.packets)"

	# Reversible: detached, everything arrives.
	check "detach ($lookup)" "$GEOBLOCK" detach "$TB_DST_IF" >/dev/null
	check "traffic without the filter ($lookup)" send_and_count "$PORTS" 9999 "$COUNT" "$tmp/recv2" "${!CC[@]}"
	check_eq "after detach every flow arrives in full ($lookup)" "$(( ${#CC[@]} * 4 ))" \
		"$(awk -v c="$COUNT" '$3 == c' "$tmp/recv2" | wc -l)"
}

PORTS=8801,8802,9001,7000
blocked() { # blocked CC PORT
	case $2 in
	8801 | 8802) [[ $1 == DE || $1 == JP ]] ;;
	9001) [[ $1 == US ]] ;;
	*) false ;;
	esac
}
run_with table
run_with lpm
summary
