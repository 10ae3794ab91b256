#!/usr/bin/env bash
# CSV inputs ("start,end,CC" ranges as ip-location-db publishes them) load exactly: `geoip lookup`
# agrees with the ranges themselves for random IPv4 and IPv6 addresses (most at, next to or inside
# a range's bounds), the whole loaded table covers exactly the ranges' addresses with their
# countries, and every prefix `geoip lookup --json` names lies wholly in ranges of its country.
# Cases: an IPv4 and an IPv6 file loaded together (DB-IP lite and GeoLite2), gzipped files, and
# one file with both families' rows shuffled (unsorted input, CRLF line ends). A file of one family
# dumps as that family's networks and nothing of the other.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

SAMPLES=${GEOIP_SAMPLES:-100000}
JSON_SAMPLES=${GEOIP_JSON_SAMPLES:-2000}
SEED=${GEOIP_SEED:-$RANDOM$RANDOM}
echo "csv: $SAMPLES addresses per family and case, $JSON_SAMPLES --json prefixes, seed $SEED"
geoip_data || { fail "fetch databases"; summary; exit; }
D=$GEOBLOCK_DATA_DIR
REF=$BUILD/tests/csv_ref
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

gzip -c "$D/geolite2-country-ipv4.csv" >"$tmp/geolite2-country-ipv4.csv.gz"
gzip -c "$D/geolite2-country-ipv6.csv" >"$tmp/geolite2-country-ipv6.csv.gz"
cat "$D/dbip-country-ipv4.csv" "$D/dbip-country-ipv6.csv" | shuf --random-source=<(yes "$SEED") |
	sed 's/$/\r/' >"$tmp/dbip-shuffled.csv"

# One family: as many dump lines as prefixes loaded, none of the other family (whose empty map
# dumped as a "::/0 --" or "0.0.0.0/0 --" network).
for fam in 4 6; do
	what="csv_matches_ranges[dbip-ipv$fam-only,dump]"
	if ! "$GEOBLOCK" geoip load --force "$D/dbip-country-ipv$fam.csv" >"$tmp/load.out"; then
		fail "$what: geoip load"
		continue
	fi
	prefixes=$(sed -n "s/.* \([0-9]*\) IPv$fam prefixes.*/\1/p" "$tmp/load.out")
	"$GEOBLOCK" geoip dump >"$tmp/dump" || fail "$what: geoip dump"
	if ((fam == 4)); then grep : "$tmp/dump"; else grep -v : "$tmp/dump"; fi >"$tmp/other"
	check_eq "$what: lines of the other family" "" "$(head -3 "$tmp/other")"
	check_eq "$what: lines" "$prefixes" "$(wc -l <"$tmp/dump")"
done

# name|files to load|reference files (plain)
cases=(
	"dbip-ipv4+ipv6|$D/dbip-country-ipv4.csv $D/dbip-country-ipv6.csv|$D/dbip-country-ipv4.csv $D/dbip-country-ipv6.csv"
	"geolite2-gzip|$tmp/geolite2-country-ipv4.csv.gz $tmp/geolite2-country-ipv6.csv.gz|$D/geolite2-country-ipv4.csv $D/geolite2-country-ipv6.csv"
	"dbip-shuffled-one-file|$tmp/dbip-shuffled.csv|$D/dbip-country-ipv4.csv $D/dbip-country-ipv6.csv"
)
for c in "${cases[@]}"; do
	IFS='|' read -r name files refs <<<"$c"
	# shellcheck disable=SC2086 # lists of files
	if ! "$GEOBLOCK" geoip load --force $files >"$tmp/load.out"; then
		fail "$name: geoip load $files"
		continue
	fi
	echo "$name: $(cat "$tmp/load.out")"
	rows=$(cat $refs | wc -l)
	for fam in 4 6; do
		what="csv_matches_ranges[$name,IPv$fam]"
		"$REF" sample "$SAMPLES" "$SEED" $fam $refs >"$tmp/ref" || { fail "$what: reference"; continue; }
		cut -d' ' -f1 "$tmp/ref" | "$GEOBLOCK" geoip lookup - >"$tmp/got" ||
			{ fail "$what: geoblock geoip lookup -"; continue; }
		check_eq "$what: answers" "$SAMPLES" "$(wc -l <"$tmp/got")"
		diffs=$(paste -d' ' "$tmp/ref" "$tmp/got" | awk '$1 != $3 || $2 != $4' | tee "$tmp/diff" | wc -l)
		check_eq "$what: disagreements" 0 "$diffs"
		((diffs)) && head -5 "$tmp/diff" | sed 's/^/  ref vs got: /' >&2
		with_country=$(awk '$2 != "--"' "$tmp/ref" | wc -l)
		without=$((SAMPLES - with_country))
		check "$what: $with_country of $SAMPLES have a country (need >= 2000)" \
			test "$with_country" -ge 2000
		check "$what: $without of $SAMPLES have none (need >= 100)" test "$without" -ge 100
		echo "$what: $diffs disagreements; $with_country with a country, $without without"

		# The prefixes --json names, against the ranges.
		head -n "$JSON_SAMPLES" "$tmp/ref" | cut -d' ' -f1 | "$GEOBLOCK" geoip lookup --json - |
			jq -r 'select(.country != null) | "\(.prefix) \(.country) \(.address)"' >"$tmp/json"
		bad=$("$REF" within $refs <"$tmp/json" | tee "$tmp/bad" | wc -l)
		check_eq "$what: --json prefixes not holding the address or outside its country" 0 "$bad"
		((bad)) && head -5 "$tmp/bad" | sed 's/^/  /' >&2
		named=$(wc -l <"$tmp/json")
		check "$what: --json named $named prefixes (need >= $((JSON_SAMPLES / 2)))" \
			test "$named" -ge $((JSON_SAMPLES / 2))
	done
	# The whole table, both ways: the same addresses with the same countries.
	what="csv_matches_ranges[$name,whole table]"
	"$GEOBLOCK" geoip dump >"$tmp/dump" || fail "$what: geoip dump"
	if "$REF" equal $refs <"$tmp/dump" >"$tmp/equal"; then
		pass
	else
		fail "$what: the table and the ranges differ"
		head -5 "$tmp/equal" | sed 's/^/  /' >&2
	fi
	echo "$what: $rows rows, $(wc -l <"$tmp/dump") networks; $(tail -1 "$tmp/equal")"
done
summary
