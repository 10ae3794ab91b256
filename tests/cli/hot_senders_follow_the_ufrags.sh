#!/usr/bin/env bash
# ice_hot, where the data path keeps the meeting of each sender it heard lately: an entry holds a
# meeting, so a change that takes a ufrag from a meeting (freed, or moved to another) clears that
# meeting's entries, and no other; one that takes none clears nothing. An entry also holds its
# source's country by the live tables, so new tables (a GeoIP load, a meeting blocking a country
# no other did) clear every entry. A change counts itself in the control word, odd while it
# clears; one that stopped there (the count left odd) has the next change clear them all, through
# the CLI (which repairs first) and through the daemon's API (which clears all when it finds the
# count odd); with no change to come, the daemon's expiry pass repairs it. The entries here are written by hand (any sender would do): what is checked is which
# of them a change leaves.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

printf '192.0.2.0,192.0.2.255,DE\n' >"$tmp/table.csv"
"$GEOBLOCK" geoip load --force "$tmp/table.csv" >/dev/null || fail "geoip load"
"$GEOBLOCK" shared-port add 10000 >/dev/null || fail "shared-port add"

HOT=$GEOBLOCK_PIN_DIR/ice_hot
LINES=32768
id_of() { "$GEOBLOCK" meeting list --json | jq -r --arg n "$1" '.[] | select(.name == $n) | .id'; }
# key LINE: the key of line LINE of ice_hot.
key() { printf '0x%02x 0x%02x 0x%02x 0' $(($1 & 255)) $((($1 >> 8) & 255)) $(($1 >> 16)); }
# entries ID...: a line of ice_hot holding an entry for each meeting id (0: a free entry), each
# naming some way, as bytes for bpftool.
entries() {
	/usr/bin/python3 -c '
import sys
ids = [int(a) for a in sys.argv[1:]] + [0] * (8 - len(sys.argv[1:]))
out = []
for k, m in enumerate(ids):
    e = ((k + 1) * 0x9e3779b9 << 28 | 1 << 27 | m) & (2**64 - 1) if m else 0
    out += [str(b) for b in e.to_bytes(8, "little")]
print(" ".join(out))' "$@"
}
put_line() { bpftool map update pinned "$HOT" key $(key "$1") value $(entries "${@:2}") ||
	fail "bpftool update line $1"; }
# The meeting ids of the entries in use, sorted, comma-separated (Python: exact 64-bit values).
hot_meetings() {
	bpftool -j map dump pinned "$HOT" | /usr/bin/python3 -c '
import re, sys
ids = []
for m in re.finditer(r"\"formatted\":\{\"key\":(\d+),\"value\":\{\"e\":\[([0-9,]*)\]",
                     sys.stdin.read()):
    if int(m.group(1)) < '"$LINES"':
        ids += [int(e) & 0x7fff for e in m.group(2).split(",") if e != "0"]
print(",".join(str(i) for i in sorted(ids)))'
}
control() {
	bpftool -j map lookup pinned "$HOT" key $(key $LINES) | jq -r '.formatted.value.e[0]'
}

"$GEOBLOCK" meeting add m1 --ufrag abcd,efgh --block DE >/dev/null 2>&1
check_eq "meeting add m1: exit" 0 $?
"$GEOBLOCK" meeting add m2 --ufrag ijkl --block DE >/dev/null 2>&1
"$GEOBLOCK" meeting add m3 --ufrag mnop --block DE >/dev/null 2>&1
m1=$(id_of m1) m2=$(id_of m2) m3=$(id_of m3)
check "three meeting ids" test -n "$m1" -a -n "$m2" -a -n "$m3"
sorted() { printf '%s\n' "$@" | sort -n | paste -sd, -; }
seed() {
	put_line 5 "$m1" "$m2" 0 "$m1"
	put_line 20000 "$m3" "$m1" "$m2"
}
seed
check_eq "entries written" "$(sorted "$m1" "$m1" "$m1" "$m2" "$m2" "$m3")" "$(hot_meetings)"

"$GEOBLOCK" meeting ufrag add m1 qrst >/dev/null 2>&1
check_eq "ufrag add: no entry cleared" "$(sorted "$m1" "$m1" "$m1" "$m2" "$m2" "$m3")" \
	"$(hot_meetings)"
"$GEOBLOCK" meeting ufrag del m1 efgh >/dev/null 2>&1
check_eq "ufrag del: the meeting's entries cleared, the others' kept" \
	"$(sorted "$m2" "$m2" "$m3")" "$(hot_meetings)"

# apply moves ijkl from m2 to a new meeting (its slot, and so its senders, kept): m2's entries go.
seed
cat >"$tmp/set" <<'EOF'
meeting add m1 --ufrag abcd,qrst --block DE
meeting add m2 --ufrag zzzz --block DE
meeting add m3 --ufrag mnop --block DE
meeting add m4 --ufrag ijkl --block DE
EOF
"$GEOBLOCK" apply "$tmp/set" >/dev/null 2>&1
check_eq "apply: exit" 0 $?
check_eq "apply: ijkl is m4's" ijkl "$("$GEOBLOCK" meeting list --json |
	jq -r '.[] | select(.name == "m4") | .ufrags | join(",")')"
check_eq "apply: the entries of m2 (its ufrag moved) cleared" \
	"$(sorted "$m1" "$m1" "$m1" "$m3")" "$(hot_meetings)"

"$GEOBLOCK" meeting del m1 >/dev/null 2>&1
check_eq "meeting del: its entries cleared" "$m3" "$(hot_meetings)"

# A change that stopped while clearing: `shared-port list` says the cache is unused, and the next
# change clears every entry.
seed
cache() {
	"$GEOBLOCK" shared-port list --json | jq -c '[.senders_cached, .senders_cache_suspended]'
}
check_eq "shared-port list: the entries in use" "[6,false]" "$(cache)"
bpftool map update pinned "$HOT" key $(key $LINES) value 1 $(printf '0 %.0s' {1..63}) ||
	fail "bpftool update control"
check_eq "shared-port list: count odd, the cache unused" "[6,true]" "$(cache)"
check "shared-port list: says so" bash -c "\"$GEOBLOCK\" shared-port list |
	grep -qx 'cached:       6 of 262144 senders, unused: .*'"
"$GEOBLOCK" meeting ufrag add m3 uvwx >/dev/null 2>&1
check_eq "count left odd: the next change clears every entry" "" "$(hot_meetings)"
check_eq "count even again" 2 "$(control)"
check_eq "shared-port list: none in use, the cache used" "[0,false]" "$(cache)"
seed
"$GEOBLOCK" meeting ufrag add m3 wxyz >/dev/null 2>&1
check_eq "count even: a change taking no ufrag clears nothing" \
	"$(sorted "$m1" "$m1" "$m1" "$m2" "$m2" "$m3")" "$(hot_meetings)"
check_eq "a change clearing nothing does not count" 2 "$(control)"

# New tables: the entries' countries may be wrong in them, so every entry goes.
"$GEOBLOCK" geoip load --force "$tmp/table.csv" >/dev/null 2>&1
check_eq "geoip load: exit" 0 $?
check_eq "geoip load: every entry cleared" "" "$(hot_meetings)"
check_eq "geoip load: counted, even" 4 "$(control)"
seed
"$GEOBLOCK" meeting add m5 --ports 7000 --block DE >/dev/null 2>&1
check_eq "a meeting blocking no new country: no entry cleared" \
	"$(sorted "$m1" "$m1" "$m1" "$m2" "$m2" "$m3")" "$(hot_meetings)"
"$GEOBLOCK" meeting add m6 --ports 7001 --block FR >/dev/null 2>&1
check_eq "meeting add m6: exit" 0 $?
check_eq "a meeting blocking a new country (new tables): every entry cleared" "" \
	"$(hot_meetings)"

# The daemon keeps its rule set between changes (no repair before each): its changes clear entries
# as the CLI's do, and one that takes a ufrag clears every entry if the count was left odd.
api_daemon "$tmp/api.sock"
api() { curl -s --unix-socket "$tmp/api.sock" -X "$1" "http://geoblock$2" ${3:+-d "$3"}; }
m3=$(id_of m3)
seed
api POST /v1/meetings/m3/ufrags '{"remove":["wxyz"]}' >/dev/null
check_eq "API: ufrag removed: the meeting's entries cleared, the others' kept" \
	"$(sorted "$m1" "$m1" "$m1" "$m2" "$m2")" "$(hot_meetings)"
# The cache's state as the exporter and `status` give it: the entries in use, and 1/true while
# the count is odd.
check "daemon serves metrics" wait_until 10 grep -q "^serving metrics on " "$tmp/daemon.out"
URL=$(sed -n 's/^serving metrics on //p' "$tmp/daemon.out")
metrics() {
	curl -s "$URL" | grep -E '^geoblock_ice_senders_cache(d|_suspended) ' | paste -sd' ' -
}
status_cache() {
	"$GEOBLOCK" status --json | jq -c '[.ice.senders_cached, .ice.senders_cache_suspended]'
}
check_eq "metrics: the entries the ufrag's removal left" \
	"geoblock_ice_senders_cached 5 geoblock_ice_senders_cache_suspended 0" "$(metrics)"
seed
check_eq "metrics: the entries in use" \
	"geoblock_ice_senders_cached 6 geoblock_ice_senders_cache_suspended 0" "$(metrics)"
check_eq "status: the entries in use" "[6,false]" "$(status_cache)"
check "status: says so" bash -c "\"$GEOBLOCK\" status | grep -q '^ice: .*, 6 senders cached; '"
# The state lock held here, as a change holds it: the daemon's expiry pass waits, so the count
# stays as written while the readers (which take no lock) look.
lock() { exec {LOCK}>"$GEOBLOCK_STATE_DIR/lock" && flock "$LOCK"; }
unlock() { exec {LOCK}>&-; }
odd() {
	bpftool map update pinned "$HOT" key $(key $LINES) value "$1" $(printf '0 %.0s' {1..63}) ||
		fail "bpftool update control"
}
lock
odd 1
check_eq "metrics: count odd, the cache unused" \
	"geoblock_ice_senders_cached 6 geoblock_ice_senders_cache_suspended 1" "$(metrics)"
check_eq "status: count odd, the cache unused" "[6,true]" "$(status_cache)"
check "status: says so" bash -c "\"$GEOBLOCK\" status |
	grep -q '^ice: .*, 6 senders cached (cache unused until a running daemon or the next \
change repairs it); '"
# With no change to come (no ufrag ever taken away, as where only `geoip load` stopped half way),
# the daemon's pass repairs it once the lock is free.
even() { (($(control) % 2 == 0)); }
unlock
check "expiry pass: count even again" wait_until 15 even
check_eq "expiry pass: every entry cleared" "" "$(hot_meetings)"
check "expiry pass: says so" grep -q "warning: a change stopped while clearing the cache of \
shared ports' senders (ice_hot), leaving it unused; cleared it" "$tmp/daemon.out"
check_eq "metrics: the cache used again, empty" \
	"geoblock_ice_senders_cached 0 geoblock_ice_senders_cache_suspended 0" "$(metrics)"
# A change through the API that finds the count odd clears every entry (unless the pass, which
# may take the lock first, cleared them all already): m1's and m2's too, not only m3's. Which of
# the two gets the lock first is the kernel's choice; tests/unit/unit_hot.c checks the change's
# own clearing without a race.
seed
lock
odd 3
# (Its shell without the lock's descriptor, or the lock would stay held while it waits.)
(
	exec {LOCK}>&-
	api POST /v1/meetings/m3/ufrags '{"remove":["uvwx"]}' >/dev/null
) &
api_pid=$!
unlock
wait "$api_pid"
check_eq "API: ufrag removed" mnop "$("$GEOBLOCK" meeting list --json |
	jq -r '.[] | select(.name == "m3") | .ufrags | join(",")')"
check_eq "API: count left odd: every entry cleared" "" "$(hot_meetings)"
check "API: count even again" even
summary
