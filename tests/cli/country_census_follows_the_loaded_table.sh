#!/usr/bin/env bash
# The networks per country that `meeting add` shows and warns about are counted once, when a table
# is loaded (`geoip load`, the daemon's --watch reload, `restore`), and kept in the state dir's
# `census` with the table's identity; changes read that census while it names the loaded table.
# A census of another table (an earlier load), or a missing, cut short or garbled one, is never
# used: the change counts the table itself, answers as without a census, and keeps the count when
# it holds the lock (a read-only command keeps nothing).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR
C=$S/census
port=30200

# Table A: DE (IPv4 and IPv6) and XK; table B: FR only, no DE; table C: DE back, and FR.
printf '%s\n' 192.0.2.0,192.0.2.255,DE 198.51.100.0,198.51.100.255,XK \
	2001:db8::,2001:db8::ffff,DE >"$tmp/a.csv"
printf '%s\n' 192.0.2.0,192.0.2.255,FR 198.51.100.0,198.51.100.255,FR >"$tmp/b.csv"
printf '%s\n' 192.0.2.0,192.0.2.255,FR 198.51.100.0,198.51.100.255,FR 10.0.0.0,10.0.0.255,DE \
	10.0.2.0,10.0.2.255,DE 2001:db8::,2001:db8::ffff,DE >"$tmp/c.csv"

# add NAME CC: `meeting add` blocking CC on a new port; its output in $tmp/out, $tmp/err.
add() {
	port=$((port + 1))
	"$GEOBLOCK" meeting add "$1" --ports $port --block "$2" >"$tmp/out" 2>"$tmp/err"
}
de_none="geoblock: meeting add: warning: the loaded GeoIP table has no network in DE: meeting"
# de_is NAME LINE: a new meeting blocking DE is added, shows LINE, and warns iff DE has none.
de_is() {
	add "$1" DE
	check_eq "$1: exit 0" 0 $?
	check_eq "$1: DE shown" "  DE Germany: $2" "$(sed -n 2p "$tmp/out")"
	if [[ $2 == "0 IPv4 + 0 IPv6 networks" ]]; then
		check_eq "$1: one warning" "$de_none \"$1\" blocks nothing from it" "$(cat "$tmp/err")"
	else
		check_eq "$1: no warning" "" "$(cat "$tmp/err")"
	fi
}
table_line() { grep '^table ' "$C"; }

# A load keeps the census of what it loaded.
"$GEOBLOCK" geoip load --force "$tmp/a.csv" >/dev/null || fail "load A"
check "load A: the census is kept" test -s "$C"
check_eq "load A: its counts" "$(printf 'DE 1 1\nXK 1 0\nend 2')" "$(grep -v '^#\|^table ' "$C")"
cp "$C" "$tmp/census.a"
de_is a1 "1 IPv4 + 1 IPv6 networks"

# Changes read it: a count doctored in the census of the loaded table shows.
sed -i 's/^DE 1 1$/DE 7 5/' "$C"
de_is a2 "7 IPv4 + 5 IPv6 networks"
cp "$tmp/census.a" "$C"

# Another table: a census of its own; DE gone, so blocking DE warns.
"$GEOBLOCK" geoip load --force "$tmp/b.csv" >/dev/null || fail "load B"
check "load B: a census of another table" test "$(table_line)" != "$(grep '^table ' "$tmp/census.a")"
check_eq "load B: its counts" "$(printf 'FR 2 0\nend 1')" "$(grep -v '^#\|^table ' "$C")"
cp "$C" "$tmp/census.b"
de_is b1 "0 IPv4 + 0 IPv6 networks"

# A's census put back while B is loaded: not used, counted again, and B's census kept again.
cp "$tmp/census.a" "$C"
de_is stale "0 IPv4 + 0 IPv6 networks"
check "stale: the census counted again is B's" cmp -s "$C" "$tmp/census.b"

# Missing, empty, cut short, garbled, miscounted: counted again, right, and kept again.
# broken NAME: B's census made broken by the command that follows, then a change.
broken() {
	local name=$1
	shift
	cp "$tmp/census.b" "$C"
	"$@"
	de_is "$name" "0 IPv4 + 0 IPv6 networks"
	check "$name: B's census kept again" cmp -s "$C" "$tmp/census.b"
}
broken missing rm -f "$C"
broken empty truncate -s 0 "$C"
broken cut-short sed -i '/^end /d' "$C"
broken garbled sed -i 's/^FR 2 0$/FR 2x 0/' "$C"
broken miscounted sed -i 's/^end 1$/end 2/' "$C"
broken no-table sed -i '/^table /d' "$C"
broken binary dd if=/dev/urandom of="$C" bs=1k count=4 status=none
broken huge sh -c "yes 'DE 1 1' | head -c 100000 >>'$C'"

# A read-only command counts for itself and keeps nothing; it still sees B's counts.
add listed FR
cp "$tmp/census.a" "$C"
"$GEOBLOCK" meeting list --json >"$tmp/list" || fail "meeting list"
check_eq "meeting list with A's census: a DE meeting is marked (B has no DE)" 1 \
	"$(jq '.[] | select(.name == "b1") | .warnings | length' "$tmp/list")"
check_eq "meeting list with A's census: the FR meeting is not" 0 \
	"$(jq '.[] | select(.name == "listed") | .warnings | length' "$tmp/list")"
check "meeting list kept nothing (A's census stays)" cmp -s "$C" "$tmp/census.a"

# The daemon's --watch reload keeps the census of what it loaded.
cp "$tmp/b.csv" "$tmp/watched.csv"
"$GEOBLOCK" geoip load --force "$tmp/watched.csv" >/dev/null || fail "load B as the watched file"
before=$(table_line)
"$GEOBLOCK" daemon --metrics 127.0.0.1:0 --watch "$tmp/watched.csv" >"$tmp/daemon.log" 2>&1 &
daemon=$!
on_exit "kill_child $daemon"
check "daemon started" wait_until 10 grep -q "serving metrics" "$tmp/daemon.log"
cp "$tmp/c.csv" "$tmp/.new" && mv "$tmp/.new" "$tmp/watched.csv"
check "watch: reloaded" wait_until 30 grep -q "reloaded the GeoIP table" "$tmp/daemon.log"
check "watch: a census of the new table" test "$(table_line)" != "$before"
check_eq "watch: its counts" "$(printf 'DE 2 1\nFR 2 0\nend 2')" "$(grep -v '^#\|^table ' "$C")"
de_is watched "2 IPv4 + 1 IPv6 networks"
kill_child $daemon

# `restore` after the pins are lost loads the kept copy into new maps: a census of those.
before=$(table_line)
rm -rf "$GEOBLOCK_PIN_DIR"
"$GEOBLOCK" restore >/dev/null 2>&1 || fail "restore"
check "restore: a census of the maps it made" test "$(table_line)" != "$before"
de_is restored "2 IPv4 + 1 IPv6 networks"

# A line of geoip.conf damaged by hand: named in a warning, the rest as recorded, the table loaded.
sed -i 's/^with_lpm 0$/with_lmp 0/' "$GEOBLOCK_STATE_DIR/geoip.conf"
rm -rf "$GEOBLOCK_PIN_DIR"
"$GEOBLOCK" restore >/dev/null 2>"$tmp/restore.err"
check_eq "restore with a line of geoip.conf not understood: exit 0" 0 $?
check_eq "... said, with what it loads" \
	"geoblock: restore: warning: $GEOBLOCK_STATE_DIR/geoip.conf line 3 is not understood; loading with field country, 1 file" \
	"$(cat "$tmp/restore.err")"
de_is restored_with_it "2 IPv4 + 1 IPv6 networks"

summary
