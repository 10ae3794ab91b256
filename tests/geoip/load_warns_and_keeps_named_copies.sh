#!/usr/bin/env bash
# `geoip load`: a load after which a live meeting blocks a country the new table has no network in
# says so on stderr, in the words of the meeting commands (and loads); the state dir keeps only the
# copies the record names (geoip.db.1 of a two-file load goes with a one-file load); `geoip lookup
# -` reads an address with blanks around it.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR
printf '1.0.0.0,1.0.0.255,DE\n5.0.0.0,5.0.0.255,FR\n' >"$tmp/v4.csv"
printf '2001:db8::,2001:db8::ffff,DE\n' >"$tmp/v6.csv"
printf '1.0.0.0,1.0.0.255,DE\n5.0.0.0,5.0.0.255,IT\n2001:db8::,2001:db8::ffff,DE\n' \
	>"$tmp/no-fr.csv"

# load ARGS...: geoip load succeeds; its stderr in $tmp/err.
load() { "$GEOBLOCK" geoip load "$@" >/dev/null 2>"$tmp/err"; }

# Copies: two files, then one.
check "load two files" load "$tmp/v4.csv" "$tmp/v6.csv"
check "two copies kept" test -e "$S/geoip.db" -a -e "$S/geoip.db.1"
check "load one file" load --force "$tmp/no-fr.csv"
check "the copy the record no longer names is removed" test ! -e "$S/geoip.db.1"
check "the kept copy is the file loaded" cmp -s "$S/geoip.db" "$tmp/no-fr.csv"
check_eq "the record names one file" "files 1" "$(grep '^files ' "$S/geoip.conf")"

# A meeting blocking FR: loads of a table without FR say so, loads with FR say nothing.
check "load with FR" load "$tmp/v4.csv" "$tmp/v6.csv"
check "meeting add board --block FR,DE" \
	quiet "$GEOBLOCK" meeting add board --ports 9000 --block FR,DE
check "meeting add other --block DE" quiet "$GEOBLOCK" meeting add other --ports 9001 --block DE
check "load without FR: loaded" load --force "$tmp/no-fr.csv"
no_fr='the loaded GeoIP table has no network in FR: meeting "board" blocks nothing from it'
check_eq "load without FR: one warning naming the meeting and the country" \
	"geoblock: geoip load: warning: $no_fr" "$(cat "$tmp/err")"
check_eq "load without FR: the table is the new one" "5.0.0.1 IT" \
	"$("$GEOBLOCK" geoip lookup 5.0.0.1)"
check "load with FR again" load --force "$tmp/v4.csv" "$tmp/v6.csv"
check_eq "load with FR: nothing on stderr" "" "$(cat "$tmp/err")"

# Lookup from stdin: blanks around an address are left out, as are blank lines.
check_eq "lookup - with blanks around addresses" $'1.0.0.1 DE\n5.0.0.1 FR\n2001:db8::1 DE' \
	"$(printf ' 1.0.0.1\n\t5.0.0.1 \r\n\n  2001:db8::1\t\n' | "$GEOBLOCK" geoip lookup -)"
summary
