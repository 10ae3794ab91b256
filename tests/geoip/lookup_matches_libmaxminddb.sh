#!/usr/bin/env bash
# `geoip lookup` (answered from the kernel tables) agrees with libmaxminddb's own lookup on real
# databases of both layouts, for random IPv4 and IPv6 addresses.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

SAMPLES=${GEOIP_SAMPLES:-25000}
SEED=${GEOIP_SEED:-$RANDOM$RANDOM}
echo "geoip: $SAMPLES addresses per family and database, seed $SEED"
geoip_data || { fail "fetch databases"; summary; exit; }
D=$GEOBLOCK_DATA_DIR
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# loaded-file reference-file families
cases=(
	"GeoLite2-Country.mmdb.gz GeoLite2-Country.mmdb 4 6"
	"dbip-country.mmdb dbip-country.mmdb 4 6"
	"dbip-country-ipv4.mmdb dbip-country-ipv4.mmdb 4"
)
for c in "${cases[@]}"; do
	read -r file ref families <<<"$c"
	if ! "$GEOBLOCK" geoip load "$D/$file" >"$tmp/load.out"; then
		fail "load $file"
		continue
	fi
	for fam in $families; do
		name="lookup_matches_libmaxminddb[$file,IPv$fam]"
		"$BUILD/tests/mmdb_ref" sample "$D/$ref" "$SAMPLES" "$SEED" "$fam" >"$tmp/ref" ||
			{ fail "$name: reference"; continue; }
		cut -d' ' -f1 "$tmp/ref" | "$GEOBLOCK" geoip lookup - >"$tmp/got" ||
			{ fail "$name: geoblock geoip lookup -"; continue; }
		lines=$(wc -l <"$tmp/got")
		check_eq "$name: answers" "$SAMPLES" "$lines"
		diffs=$(paste -d' ' "$tmp/ref" "$tmp/got" | awk '$1 != $3 || $2 != $4' | tee "$tmp/diff" | wc -l)
		check_eq "$name: disagreements" 0 "$diffs"
		((diffs)) && head -5 "$tmp/diff" | sed 's/^/  ref vs got: /' >&2
		# The sample must exercise real answers, not only "--".
		with_country=$(awk '$2 != "--"' "$tmp/ref" | wc -l)
		check "$name: $with_country of $SAMPLES have a country (need >= 2000)" \
			test "$with_country" -ge 2000
	done
done
summary
