#!/usr/bin/env bash
# Capacity: 16,384 meetings holding all 65,535 ports, made by one apply; at that size a meeting is
# still replaced make-before-break (apply of a set with one meeting changed: its new version is
# complete before its ports move to it, nothing else touched), ports move between meetings in
# place, `meeting add` and `meeting del` work, and the whole set comes back from the saved rule
# set after the pins are lost (`restore`).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# 192.0.2.0/24 is German, 198.51.100.0/24 French.
printf '192.0.2.0,192.0.2.255,DE\n198.51.100.0,198.51.100.255,FR\n' >"$tmp/table.csv"
"$GEOBLOCK" geoip load --force "$tmp/table.csv" >/dev/null || fail "geoip load"
verdict() { "$GEOBLOCK" explain "$1" "$2" --json | jq -r '"\(.meeting) \(.verdict)"'; }

# Meeting i owns ports 4i-3..4i; the last one 65533-65535.
awk 'BEGIN { for (i = 1; i <= 16384; i++) { lo = 4 * i - 3; hi = (i == 16384) ? 65535 : 4 * i
	printf "meeting add c%d --ports %d-%d --block DE\n", i, lo, hi } }' >"$tmp/full.rules"
check "apply 16,384 meetings" "$GEOBLOCK" apply "$tmp/full.rules" >/dev/null
check_eq "16,384 meetings live" 16384 "$("$GEOBLOCK" meeting list --json | jq length)"
check_eq "port 1 is c1's" "c1 dropped" "$(verdict 192.0.2.1 1)"
check_eq "port 65535 is c16384's" "c16384 dropped" "$(verdict 192.0.2.1 65535)"
check_eq "every port is owned" 65535 "$("$GEOBLOCK" meeting list --json |
	jq '[.[].ports[] | split("-") | map(tonumber) |
	     if length == 2 then .[1] - .[0] + 1 else 1 end] | add')"

# Make-before-break at full size: c5 blocks FR instead, in one apply.
sed 's/^meeting add c5 --ports 17-20 --block DE$/meeting add c5 --ports 17-20 --block FR/' \
	"$tmp/full.rules" >"$tmp/c5.rules"
out=$("$GEOBLOCK" apply "$tmp/c5.rules" 2>&1)
check_eq "apply replacing c5 at full size: exit" 0 $?
check_eq "it changes c5 alone" "- meeting add c5 --ports 17-20 --block DE
+ meeting add c5 --ports 17-20 --block FR" "$(grep -E '^[-+]' <<<"$out")"
check_eq "c5 now drops FR" "c5 dropped" "$(verdict 198.51.100.1 18)"
check_eq "and passes DE" "c5 not_blocked" "$(verdict 192.0.2.1 18)"
check_eq "c6 is as it was" "c6 dropped" "$(verdict 192.0.2.1 21)"

# A change of expiry alone is made in place: 100 meetings given one need no free slot (63 are).
awk '{ n = substr($3, 2) + 0; print (n >= 100 && n < 200) ? $0 " --expires 8h" : $0 }' \
	"$tmp/c5.rules" >"$tmp/exp.rules"
out=$("$GEOBLOCK" apply "$tmp/exp.rules" 2>&1)
check_eq "apply giving 100 meetings an expiry at full size: exit" 0 $?
check_eq "... in place" "applied: 0 added, 100 changed, 0 switched mode, 0 deleted, 16284 unchanged" \
	"$(tail -1 <<<"$out")"
check_eq "... c150 expires" true \
	"$("$GEOBLOCK" meeting list --json | jq '.[] | select(.name == "c150") | .expires != null')"

# Ports move in place, one meeting to another.
check "ports del c1 1" "$GEOBLOCK" meeting ports del c1 1 >/dev/null
check "ports add c2 1" "$GEOBLOCK" meeting ports add c2 1 >/dev/null
check_eq "port 1 is c2's" "c2 dropped" "$(verdict 192.0.2.1 1)"
check "meeting del c3" "$GEOBLOCK" meeting del c3 >/dev/null
check "meeting add c3x on c3's ports" "$GEOBLOCK" meeting add c3x --ports 9-12 --block FR >/dev/null
check_eq "port 10 is c3x's" "c3x dropped" "$(verdict 198.51.100.1 10)"

# The pins lost: the saved rule set brings all of it back.
"$GEOBLOCK" meeting list --json | jq -S 'map(del(.created, .id)) | sort_by(.name)' >"$tmp/list.before"
rm -rf "$GEOBLOCK_PIN_DIR"
check "restore" "$GEOBLOCK" restore >/dev/null
check_eq "restore gives the same 16,384 meetings back" "" "$(diff "$tmp/list.before" \
	<("$GEOBLOCK" meeting list --json | jq -S "map(del(.created, .id)) | sort_by(.name)") | head -5)"
summary
