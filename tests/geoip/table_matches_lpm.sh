#!/usr/bin/env bash
# Differential test of the two kernel structures: the compiled table (the default data path) and
# the LPM tries (the reference) give the same country for 1,000,000 random addresses per family,
# on both real databases.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

SAMPLES=${DIFF_SAMPLES:-1000000}
SEED=${GEOIP_SEED:-$RANDOM$RANDOM}
echo "table vs lpm: $SAMPLES addresses per family and database, seed $SEED"
geoip_data || { fail "fetch databases"; summary; exit; }
D=$GEOBLOCK_DATA_DIR
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

for db in GeoLite2-Country.mmdb dbip-country.mmdb; do
	if ! "$GEOBLOCK" geoip load --with-lpm "$D/$db" >/dev/null; then
		fail "load $db"
		continue
	fi
	for fam in 4 6; do
		name="table_matches_lpm[$db,IPv$fam]"
		"$BUILD/tests/mmdb_ref" sample "$D/$db" "$SAMPLES" "$SEED" "$fam" | cut -d' ' -f1 >"$tmp/addrs"
		"$GEOBLOCK" geoip lookup --from table - <"$tmp/addrs" >"$tmp/table" || fail "$name: table lookup"
		"$GEOBLOCK" geoip lookup --from lpm - <"$tmp/addrs" >"$tmp/lpm" || fail "$name: lpm lookup"
		check_eq "$name: answers" "$SAMPLES" "$(wc -l <"$tmp/table")"
		diffs=$(paste -d' ' "$tmp/table" "$tmp/lpm" | awk '$2 != $4' | tee "$tmp/diff" | wc -l)
		check_eq "$name: disagreements" 0 "$diffs"
		((diffs)) && head -5 "$tmp/diff" | sed 's/^/  table vs lpm: /' >&2
		with_country=$(awk '$2 != "--"' "$tmp/table" | wc -l)
		check "$name: $with_country have a country" test "$with_country" -ge $((SAMPLES / 10))
	done
done
summary
