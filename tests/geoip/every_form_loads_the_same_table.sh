#!/usr/bin/env bash
# The same database loads into the same table whatever form it comes in: plain, gzipped, in a tar
# archive (gzipped or not; GNU, ustar with a split name, pax and GNU long names), under a
# misleading file name; the format is told from the content. The table is compared in full
# (`geoip dump`).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

geoip_data || { fail "fetch databases"; summary; exit; }
D=$GEOBLOCK_DATA_DIR
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# dump_of PATH...: the hash of the table loaded from PATH..., or nothing if the load or the dump
# failed or the dump is empty (a hash of nothing would match another's failure).
dump_of() {
	local out
	"$GEOBLOCK" geoip load --force "$@" >/dev/null || return
	out=$("$GEOBLOCK" geoip dump) || return
	[[ -n $out ]] && md5sum <<<"$out"
}

# MaxMind DB: DB-IP lite, IPv4 tree (small, so every form loads quickly).
long=dir-with-a-name-long-enough/$(printf 'x%.0s' {1..90})/GeoLite2-Country_20260130
mkdir -p "$tmp/m/$long" "$tmp/m/short"
cp "$D/dbip-country-ipv4.mmdb" "$tmp/m/$long/dbip-country-ipv4.mmdb"
cp "$D/dbip-country-ipv4.mmdb" "$tmp/m/short/dbip-country-ipv4.mmdb"
echo "CC BY 4.0" >"$tmp/m/short/LICENSE.txt"
gzip -c "$D/dbip-country-ipv4.mmdb" >"$tmp/dbip.mmdb.gz"
cp "$D/dbip-country-ipv4.mmdb" "$tmp/named-like.csv"
tar -C "$tmp/m" --format=gnu -czf "$tmp/gnu.tar.gz" short
tar -C "$tmp/m" --format=gnu -czf "$tmp/gnu-longname.tar.gz" "$long"
tar -C "$tmp/m" --format=ustar -czf "$tmp/ustar-prefix.tar.gz" "$long"
tar -C "$tmp/m" --format=pax -czf "$tmp/pax-longname.tar.gz" "$long"
tar -C "$tmp/m" --format=gnu -cf "$tmp/plain.tar" short
cp "$tmp/gnu.tar.gz" "$tmp/archive.mmdb"

want=$(dump_of "$D/dbip-country-ipv4.mmdb")
check "mmdb: the plain file loads" test -n "$want"
for f in dbip.mmdb.gz named-like.csv gnu.tar.gz gnu-longname.tar.gz ustar-prefix.tar.gz \
	pax-longname.tar.gz plain.tar archive.mmdb; do
	check_eq "every_form_loads_the_same_table[mmdb,$f]" "$want" "$(dump_of "$tmp/$f")"
done

# CSV ranges: DB-IP lite, IPv4 and IPv6.
gzip -c "$D/dbip-country-ipv4.csv" >"$tmp/v4.csv.gz"
cp "$D/dbip-country-ipv6.csv" "$tmp/v6-named-like.mmdb"
cat "$D/dbip-country-ipv6.csv" "$D/dbip-country-ipv4.csv" >"$tmp/both.csv"
want=$(dump_of "$D/dbip-country-ipv4.csv" "$D/dbip-country-ipv6.csv")
check "csv: the plain files load" test -n "$want"
check_eq "every_form_loads_the_same_table[csv,gzip and misleading name]" "$want" \
	"$(dump_of "$tmp/v4.csv.gz" "$tmp/v6-named-like.mmdb")"
check_eq "every_form_loads_the_same_table[csv,both families in one file]" "$want" \
	"$(dump_of "$tmp/both.csv")"
check_eq "every_form_loads_the_same_table[csv,files in the other order]" "$want" \
	"$(dump_of "$D/dbip-country-ipv6.csv" "$D/dbip-country-ipv4.csv")"
# The same data twice is the same table (overlaps that agree are one network).
check_eq "every_form_loads_the_same_table[csv,a file given twice]" "$want" \
	"$(dump_of "$D/dbip-country-ipv4.csv" "$D/dbip-country-ipv6.csv" "$tmp/v4.csv.gz")"
# A MaxMind DB and CSV files together: DB-IP's IPv4 tree and its IPv6 ranges.
check_eq "every_form_loads_the_same_table[mmdb and csv together]" "$want" \
	"$(dump_of "$D/dbip-country-ipv4.mmdb" "$D/dbip-country-ipv6.csv")"
summary
