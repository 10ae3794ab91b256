#!/usr/bin/env bash
# The data path's table is compiled for the countries live meetings block or monitor, and compiled
# again whenever that set changes. Traffic flows without pause while a meeting naming a new country
# is added and deleted CHURN times (each add grows the table, each delete shrinks it): sources of
# DE, blocked by a meeting all along, are dropped at every packet, and FR sources, monitored by
# another, are counted at every packet; none meets a table without its country (no_country) or
# one that does not tell it apart (not_blocked). After each add the new country's sources are
# dropped at once, and `geoip lookup --from table` says the table grew, then shrank. Pins of an
# earlier geoblock, without the live tables' maps, get them compiled when the filter is attached.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/scripts/testbed.sh"
TB_BIN=$BUILD/tests
BENCH=$BUILD/bench/xdp_bench
FRAMES=${POLICY_FRAMES:-10000}
# Countries the churning meeting names in turn: none of them DE or FR.
CHURN_CCS=(RU CN US JP BR IN GB IT ES PL NL SE KR AU MX)
# Half as many in the sanitizer pass (trials), which runs several times slower.
CHURN=${POLICY_CHURN:-$(trials ${#CHURN_CCS[@]})}

geoip_data || { fail "fetch databases"; summary; exit; }
DB=$GEOBLOCK_DATA_DIR/dbip-country.mmdb
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

check "load DB-IP" quiet "$GEOBLOCK" geoip load "$DB"
for fam in 4 6; do
	for cc in DE FR "${CHURN_CCS[@]}"; do
		n=500
		[[ $cc == DE || $cc == FR ]] || n=50
		"$TB_BIN/mmdb_ref" sources "$DB" $n 11 $fam "$cc" | sort -u >"$tmp/$cc$fam"
	done
	# The loaded networks agree with the reference reader on each source's country.
	# not_of FILE CC: the first of FILE's addresses the table does not put in CC; a failed or
	# empty lookup says so (it would read as none).
	not_of() {
		local out
		out=$("$GEOBLOCK" geoip lookup - <"$1") || { echo "lookup failed"; return; }
		[[ -n $out ]] || { echo "lookup answered nothing"; return; }
		awk -v c="$2" '$2 != c' <<<"$out" | head -3
	}
	for cc in DE FR "${CHURN_CCS[@]}"; do
		check_eq "IPv$fam $cc sources are of $cc" "" "$(not_of "$tmp/$cc$fam" "$cc")"
	done
done

"$GEOBLOCK" meeting add stable --ports 6001 --block DE >/dev/null || fail "meeting add stable"
"$GEOBLOCK" meeting add watch --ports 6002 --monitor --block FR >/dev/null ||
	fail "meeting add watch"
table_says() { # table_says FILE: the compiled table's answer for the first address of FILE
	head -n1 "$1" | "$GEOBLOCK" geoip lookup --from table - | cut -d' ' -f2
}
check_eq "the table tells DE apart" DE "$(table_says "$tmp/DE4")"
check_eq "... and FR" FR "$(table_says "$tmp/FR6")"
check_eq "... not RU, named by no meeting" '**' "$(table_says "$tmp/RU4")"

# Pins made by a geoblock from before the live tables have none of their maps: a reader makes
# none, and attach compiles them before the program reads them.
rm -f "$GEOBLOCK_PIN_DIR/lookup_live4" "$GEOBLOCK_PIN_DIR/lookup_live_v6" \
	"$GEOBLOCK_PIN_DIR/lookup_cover"
check_eq "without the live tables' pins: no answer, and no pin made" "-- 0" \
	"$(table_says "$tmp/DE4") $(find "$GEOBLOCK_PIN_DIR" -name 'lookup_*' | wc -l)"
testbed_up "gp$$" || { fail "testbed"; summary; exit; }
on_exit testbed_down
DST_MAC=$(ip -n "$TB_DST" -j link show "$TB_DST_IF" | jq -r '.[0].address')
SRC_IFINDEX=$(ip -n "$TB_SRC" -j link show "$TB_SRC_IF" | jq -r '.[0].ifindex')
check "attach" in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" >/dev/null
check_eq "attach compiled them: DE and FR apart" "DE FR" \
	"$(table_says "$tmp/DE6") $(table_says "$tmp/FR4")"
"$GEOBLOCK" stats --json >"$tmp/before.json"
gen() { in_ns "$TB_SRC" "$BENCH" gen "$SRC_IFINDEX" "$@" >/dev/null; }

# The churner: a meeting naming one more country, added then deleted, in turn; after each add its
# country's sources to its port are sent (dropped if the table tells the country apart).
(
	for ((i = 0; i < CHURN; i++)); do
		cc=${CHURN_CCS[i % ${#CHURN_CCS[@]}]}
		"$GEOBLOCK" meeting add churn --ports 7001 --block "$cc" >/dev/null || exit 1
		echo "add $cc $(table_says "$tmp/${cc}4") $(table_says "$tmp/${cc}6")"
		before=$("$GEOBLOCK" stats --json | jq '[.drops[] | select(.meeting == "churn") | .packets] | add // 0')
		for fam in 4 6; do
			gen $fam "$tmp/$cc$fam" "$DST_MAC" 7001 50 || exit 1
		done
		after=$("$GEOBLOCK" stats --json | jq "[.drops[] | select(.meeting == \"churn\" and .country == \"$cc\") | .packets] | add // 0")
		echo "dropped $cc $((after - before))"
		"$GEOBLOCK" meeting del churn >/dev/null || exit 1
		echo "del $cc $(table_says "$tmp/${cc}4") $(table_says "$tmp/${cc}6")"
	done
) >"$tmp/churn" &
churner=$!
on_exit kill_child "$churner"
declare -A sent
rounds=0
send() { # send GROUP FAMILY PORT
	if gen "$2" "$tmp/$1$2" "$DST_MAC" "$3" "$FRAMES"; then
		sent[$1]=$((${sent[$1]:-0} + FRAMES))
	else
		fail "generator $1 IPv$2"
	fi
}
while kill -0 $churner 2>/dev/null; do
	for fam in 4 6; do
		send DE $fam 6001
		send FR $fam 6002
	done
	rounds=$((rounds + 1))
done
wait $churner
check "the churner made all $CHURN changes" test $? -eq 0
check "traffic flowed during the changes ($rounds rounds)" test "$rounds" -ge 2
"$GEOBLOCK" stats --json >"$tmp/after.json"

check_eq "each add: the table tells its country apart (IPv4, IPv6)" "" \
	"$(awk '$1 == "add" && ($3 != $2 || $4 != $2)' "$tmp/churn")"
check_eq "each add: its country's sources dropped at once (50 + 50 sent)" "" \
	"$(awk '$1 == "dropped" && $3 < 90' "$tmp/churn")"
check_eq "each delete: the table no longer tells it apart" "" \
	"$(awk '$1 == "del" && ($3 != "**" || $4 != "**")' "$tmp/churn")"
check_eq "$CHURN adds, drops and deletes seen" "$((3 * CHURN))" "$(wc -l <"$tmp/churn")"

delta() { echo $(($(jq "$1" "$tmp/after.json") - $(jq "$1" "$tmp/before.json"))); }
pair() { delta "[.drops[] | select(.meeting == \"$1\" $2) | .$3] | add // 0"; }
received=$(delta '[.verdicts | to_entries[] | select(.key != "not_ip" and .key != "other_proto") | .value.packets] | add')
total=$((${sent[DE]} + ${sent[FR]} + 100 * CHURN))
echo "sent $total packets in $rounds rounds, $received received"
check "most packets arrived ($received of $total)" test $((received * 10)) -ge $((total * 9))
check_eq "no packet met a table without its country (no_country)" 0 \
	"$(delta .verdicts.no_country.packets)"
check_eq "no packet met a table that did not tell its country apart (not_blocked)" 0 \
	"$(delta .verdicts.not_blocked.packets)"
check_eq "every received packet dropped or counted by a monitor" "$received" \
	"$(($(delta .verdicts.dropped.packets) + $(delta .verdicts.monitor.packets)))"
check "DE sources: dropped" test "$(pair stable "and .country == \"DE\"" packets)" -gt 0
check_eq "FR sources: monitor hits, nothing dropped" 0 "$(pair watch "" packets)"
check "FR sources: monitor hits" test "$(pair watch "and .country == \"FR\"" monitor_packets)" -gt 0
check_eq "the table, after: DE and FR apart, the rest not" "DE FR **" \
	"$(table_says "$tmp/DE6") $(table_says "$tmp/FR4") $(table_says "$tmp/RU6")"
summary
