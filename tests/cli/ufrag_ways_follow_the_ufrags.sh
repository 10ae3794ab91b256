#!/usr/bin/env bash
# ufrag_sets, where the data path finds a short ufrag by its hash: every ufrag of up to 32
# characters has one way there naming its slot, longer ones none; a ufrag taken away loses its way;
# a way lost (cleared) is given back, and a way that names no ufrag's slot where it is (left by an
# interrupted change) is cleared, at the next change.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

printf '192.0.2.0,192.0.2.255,DE\n' >"$tmp/table.csv"
"$GEOBLOCK" geoip load --force "$tmp/table.csv" >/dev/null || fail "geoip load"
"$GEOBLOCK" shared-port add 10000 >/dev/null || fail "shared-port add"

SETS=$GEOBLOCK_PIN_DIR/ufrag_sets
# The ways of ufrag_sets as "LINE SLOT", one per line, sorted by slot (Python's integers are
# exact; jq's are doubles, too coarse for a 64-bit way).
ways() {
	bpftool -j map dump pinned "$SETS" | /usr/bin/python3 -c '
import re, sys
for m in re.finditer(r"\"formatted\":\{\"key\":(\d+),\"value\":\{\"way\":\[([0-9,]*)\]",
                     sys.stdin.read()):
    for w in m.group(2).split(","):
        if w != "0":
            print(m.group(1), int(w) % 262144)' | sort -k2,2n
}
slots_of_ways() { ways | awk '{ print $2 }' | paste -sd, -; }
# slot_of UFRAG (up to 32 characters): its slot, from its key in meeting_by_ufrag.
slot_of() {
	local u=$1 i bytes
	bytes=$(printf '0x%02x 0 0 0' ${#u})
	for ((i = 0; i < 32; i++)); do
		if ((i < ${#u})); then bytes+=$(printf ' 0x%02x' "'${u:i:1}"); else bytes+=" 0"; fi
	done
	bpftool -j map lookup pinned "$GEOBLOCK_PIN_DIR/meeting_by_ufrag" key $bytes 2>/dev/null |
		jq -r '.formatted.value // empty'
}
slots() {
	local u out=()
	for u in "$@"; do out+=("$(slot_of "$u")"); done
	printf '%s\n' "${out[@]}" | sort -n | paste -sd, -
}
# line_bytes LINE: the key of line LINE of ufrag_sets.
line_bytes() { printf '0x%02x 0x%02x 0x%02x 0' $(($1 & 255)) $((($1 >> 8) & 255)) $(($1 >> 16)); }

long=$(printf 'L%.0s' {1..40})
u32=$(printf 'v%.0s' {1..32})
"$GEOBLOCK" meeting add m1 --ufrag abcd,efgh,"$u32","$long" --block DE >/dev/null 2>&1
check_eq "meeting add: exit" 0 $?
check_eq "a way for each short ufrag, none for the long one" "$(slots abcd efgh "$u32")" \
	"$(slots_of_ways)"
"$GEOBLOCK" meeting add m2 --ufrag ijkl --block DE >/dev/null 2>&1
check_eq "a second meeting's ufrag has its way" "$(slots abcd efgh "$u32" ijkl)" "$(slots_of_ways)"
"$GEOBLOCK" meeting ufrag del m1 efgh >/dev/null 2>&1
check_eq "ufrag del: its way is gone" "$(slots abcd "$u32" ijkl)" "$(slots_of_ways)"

# A lost way is given back at the next change.
read -r line slot < <(ways | awk -v s="$(slot_of abcd)" '$2 == s')
check "abcd's way found" test -n "${line:-}"
bpftool map update pinned "$SETS" key $(line_bytes "${line:-0}") value $(printf '0 %.0s' {1..64}) ||
	fail "bpftool update"
check_eq "the line cleared by hand" "$(slots "$u32" ijkl)" "$(slots_of_ways)"
"$GEOBLOCK" meeting ufrag add m2 mnop >/dev/null 2>&1
check_eq "the next change gives abcd its way back" "$(slots abcd "$u32" ijkl mnop)" \
	"$(slots_of_ways)"

# A way naming abcd's slot in a line that is not one of abcd's, and one naming no slot in use.
read -r line slot < <(ways | awk -v s="$(slot_of abcd)" '$2 == s')
other=$(((line + 12345) % 65536))
while ways | awk -v l="$other" '$1 == l' | grep -q .; do other=$(((other + 1) % 65536)); done
# way = high bits 1 << 20 (as if some hash), low bits the slot: little-endian bytes.
stray() { printf '0x%02x 0x%02x 0x%02x 0 0 0 0 0 ' $(($1 & 255)) $((($1 >> 8) & 255)) \
	$(((($1 >> 16) & 3) | 16)); }
bpftool map update pinned "$SETS" key $(line_bytes "$other") \
	value $(stray "$slot") $(stray 9999) $(printf '0 %.0s' {1..48}) || fail "bpftool update"
check_eq "two stray ways written" 2 "$(ways | awk -v l="$other" '$1 == l' | wc -l)"
"$GEOBLOCK" meeting ufrag del m2 mnop >/dev/null 2>&1
check_eq "the next change clears the strays (and mnop's way)" "$(slots abcd "$u32" ijkl)" \
	"$(slots_of_ways)"

"$GEOBLOCK" meeting del m1 >/dev/null 2>&1
"$GEOBLOCK" meeting del m2 >/dev/null 2>&1
check_eq "meetings deleted: no way left" "" "$(slots_of_ways)"
summary
