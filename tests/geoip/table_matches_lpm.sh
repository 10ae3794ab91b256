#!/usr/bin/env bash
# Differential test of the kernel structures: the compiled table (the default data path) and the
# LPM tries (the reference) give the same country for 1,000,000 random addresses per family, on
# both real databases, with a meeting blocking every code the table uses (the table then tells
# every country apart); and the network lists (`geoip lookup`'s default) give the same too. Then
# with meetings blocking CN alone, then CN and RU (a quarter of the addresses): the compiled table
# says CN (RU) where the LPM tries do, `**` (another country) where they name any other, `--`
# where they name none.
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
	"$GEOBLOCK" meeting del every >/dev/null 2>&1
	if ! "$GEOBLOCK" geoip load --with-lpm "$D/$db" >/dev/null; then
		fail "load $db"
		continue
	fi
	all=$("$GEOBLOCK" geoip dump | awk '$2 != "--" { print $2 }' | sort -u | paste -sd, -)
	check "meeting blocking every code of $db" quiet "$GEOBLOCK" meeting add every --ports 5004 \
		--block "$all"
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
		"$GEOBLOCK" geoip lookup - <"$tmp/addrs" >"$tmp/networks" || fail "$name: lookup"
		check_eq "$name: the networks loaded agree" 0 \
			"$(paste -d' ' "$tmp/networks" "$tmp/lpm" | awk '$2 != $4' | wc -l)"
		# The tables for fewer countries: a quarter of the addresses is plenty.
		head -n $((SAMPLES / 4)) "$tmp/addrs" >"$tmp/addrs$fam"
		head -n $((SAMPLES / 4)) "$tmp/lpm" >"$tmp/lpm$fam"
	done
	# Tables compiled for fewer countries: the meeting of every code replaced by CN's alone.
	check "meeting blocking CN" quiet "$GEOBLOCK" meeting add cn --ports 5005 --block CN
	check "meeting of every code deleted" quiet "$GEOBLOCK" meeting del every
	for keep in CN CN,RU; do
		[[ $keep == CN,RU ]] && check "meeting blocking RU" quiet "$GEOBLOCK" meeting add ru \
			--ports 5006 --block RU
		for fam in 4 6; do
			name="table_matches_lpm[$db,IPv$fam,$keep]"
			"$GEOBLOCK" geoip lookup --from table - <"$tmp/addrs$fam" >"$tmp/table" ||
				fail "$name: table lookup"
			diffs=$(paste -d' ' "$tmp/table" "$tmp/lpm$fam" | awk -v keep=",$keep," '
				{ want = $4 == "--" || index(keep, "," $4 ",") ? $4 : "**" }
				$2 != want { n++; if (n <= 5) print "  " $0 " (want " want ")" > "/dev/stderr" }
				END { print n + 0 }')
			check_eq "$name: disagreements" 0 "$diffs"
			check "$name: some are $keep" test "$(awk -v keep=",$keep," \
				'index(keep, "," $2 ",")' "$tmp/table" | wc -l)" -gt 0
		done
	done
	check "meetings deleted" quiet "$GEOBLOCK" meeting del cn
	check "meetings deleted" quiet "$GEOBLOCK" meeting del ru
	name="table_matches_lpm[$db,no meeting]"
	"$GEOBLOCK" geoip lookup --from table - <"$tmp/addrs4" >"$tmp/table"
	check_eq "$name: every address looked up" "0 $(grep -c . "$tmp/addrs4")" \
		"$? $(grep -c . "$tmp/table")"
	check_eq "$name: the table tells no country apart" "" \
		"$(awk '$2 != "--" && $2 != "**"' "$tmp/table" | head -3)"
done
summary
