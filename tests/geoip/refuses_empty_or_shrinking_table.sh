#!/usr/bin/env bash
# `geoip load` refuses, with one line and exit 2, a table without any network with a country (even
# with --force) and one that covers more than --max-shrink percent (default 10) less IPv4 or IPv6
# address space than the loaded one (unless --force); after a refusal the loaded table is the
# same, and the refusal is counted (failed_reloads). A smaller shrink, a larger --max-shrink and
# --force do load.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

geoip_data || { fail "fetch databases"; summary; exit; }
D=$GEOBLOCK_DATA_DIR
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
V4=$D/dbip-country-ipv4.csv
V6=$D/dbip-country-ipv6.csv

# A table as the filter sees it: the description, the networks, answers for a few addresses.
snapshot() {
	{
		"$GEOBLOCK" status --json | jq -c '.geoip | del(.failed_reloads, .last_failure_at)'
		"$GEOBLOCK" geoip dump | md5sum
		printf '1.0.0.1\n8.8.8.8\n81.2.69.160\n2001:4860::1\n2a00:1450::1\n' | "$GEOBLOCK" geoip lookup -
	} 2>&1
}

# refused MESSAGE_PART ARGS...: geoip load fails with exit 2, one stderr line, the table unchanged.
refused() {
	local part=$1 rc lines before failed
	shift
	before=$(snapshot)
	failed=$(failed_reloads)
	"$GEOBLOCK" geoip load "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	lines=$(wc -l <"$tmp/err")
	if [[ $rc != 2 ]]; then
		fail "geoip load $*: exit $rc, expected 2 ($(head -1 "$tmp/err"))"
	elif [[ $lines != 1 ]]; then
		fail "geoip load $*: $lines lines on stderr, expected 1"
	elif ! grep -q "^geoblock: geoip load: .*$part.*the loaded table is unchanged$" "$tmp/err"; then
		fail "geoip load $*: message '$(cat "$tmp/err")' does not say '$part'"
	elif [[ "$(snapshot)" != "$before" ]]; then
		fail "geoip load $*: the loaded table changed"
	elif [[ $(failed_reloads) != $((failed + 1)) ]]; then
		fail "geoip load $*: failed_reloads went from $failed to $(failed_reloads), not up by one"
	else
		pass
	fi
}

failed_reloads() { "$GEOBLOCK" stats --json | jq '.geoip.failed_reloads'; }

# loaded ARGS...: geoip load succeeds and the table is the new one.
loaded() {
	local before
	before=$(snapshot)
	if ! "$GEOBLOCK" geoip load "$@" >"$tmp/out" 2>"$tmp/err"; then
		fail "geoip load $*: $(cat "$tmp/err")"
	elif [[ "$(snapshot)" == "$before" ]]; then
		fail "geoip load $*: the table did not change"
	else
		pass
	fi
}

# The first load has nothing to compare with.
"$GEOBLOCK" geoip load "$V4" "$V6" >/dev/null || fail "first load"

# Empty: no row with a country, or nothing at all after a header; --force does not help.
printf 'ip_range_start,ip_range_end,country_code\n' >"$tmp/header-only.csv"
printf '1.0.0.0,1.0.0.255,\n2001:db8::,2001:db8::ffff,-\n' >"$tmp/no-country.csv"
refused "has no network with a country code" "$tmp/header-only.csv"
refused "has no network with a country code" --force "$tmp/header-only.csv"
refused "has no network with a country code" --force "$tmp/no-country.csv"
refused "has no network with a registered_country code" --force --field registered_country \
	"$D/dbip-country.mmdb"
# A damaged gzip stream: zlib's reason, the file named once (not zlib's "<fd:N>").
gzip -c "$D/dbip-country-ipv4.csv" >"$tmp/damaged.csv.gz"
printf '\377\377\377\377\377\377\377\377' |
	dd of="$tmp/damaged.csv.gz" bs=1 seek=100 conv=notrunc status=none
refused "$tmp/damaged.csv.gz: corrupt gzip data: invalid [a-z ]*;" \
	--force "$tmp/damaged.csv.gz"

# Shrinking: every fourth IPv4 row dropped (about a quarter of the space), or no IPv6 at all.
awk 'NR % 4' "$V4" >"$tmp/v4-three-quarters.csv"
refused "covers [0-9.]*% less IPv4 address space than the loaded one.*--max-shrink 10%.*pass --force" \
	"$tmp/v4-three-quarters.csv" "$V6"
refused "covers 100.0% less IPv6 address space" "$V4"
refused "covers [0-9.]*% less IPv4 address space.*--max-shrink 20%" --max-shrink 20 \
	"$tmp/v4-three-quarters.csv" "$V6"

# A small shrink (one row in 500) passes the default limit; --max-shrink 100 and --force load
# anything that is not empty.
awk 'NR % 500' "$V4" >"$tmp/v4-almost.csv"
loaded "$tmp/v4-almost.csv" "$V6"
loaded "$V4" "$V6"
loaded --max-shrink 100 "$tmp/v4-three-quarters.csv" "$V6"
loaded "$V4" "$V6"
loaded --force "$V4"
check "a table covering less than the limit is refused against the IPv4-only one too" \
	test "$("$GEOBLOCK" geoip load "$tmp/v4-three-quarters.csv" 2>&1 >/dev/null | grep -c "less IPv4")" = 1
# Growing is never refused.
loaded "$D/GeoLite2-Country.mmdb.gz"

# Bad --max-shrink values are usage errors.
for v in abc -1 101 ""; do
	"$GEOBLOCK" geoip load --max-shrink "$v" "$V4" >/dev/null 2>"$tmp/err"
	check_eq "--max-shrink '$v' exit" 1 "$?"
	check "--max-shrink '$v' message" grep -q "is not a percentage from 0 to 100" "$tmp/err"
done
summary
