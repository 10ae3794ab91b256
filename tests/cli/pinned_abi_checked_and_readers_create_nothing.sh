#!/usr/bin/env bash
# The pinned ABI: the pins record GB_ABI_VERSION (abi_version); pins of another version are refused
# by every command with one line naming both versions and what to do, nothing changed; following
# that line (remove the pin dir, restore) brings the rules back. Pins from before the version was
# recorded are taken as version 1 and get it at the next change. Read-only commands create
# nothing: with nothing pinned they say so and exit 2; beside partial pins they pin nothing new.
# Nor does a geoip load that fails.
# -v shows libbpf's log, which is silent without it.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

version=$(sed -n 's/^#define GB_ABI_VERSION[[:space:]]*\([0-9]*\).*/\1/p' "$ROOT/bpf/geoblock.h")
check "GB_ABI_VERSION read from bpf/geoblock.h" test -n "$version"
pinned_version() {
	bpftool -j map lookup pinned "$GEOBLOCK_PIN_DIR/abi_version" key 0 0 0 0 2>/dev/null |
		sed -n 's/.*"formatted":{"key":0,"value":\([0-9]*\)}.*/\1/p'
}
readers=("stats" "status" "meeting list" "explain 192.0.2.1 30001" "geoip lookup 192.0.2.1"
	 "geoip dump" "stats --json")

# Read-only commands on an empty pin dir: one line, exit 2, nothing created.
for c in "${readers[@]}"; do
	# shellcheck disable=SC2086
	"$GEOBLOCK" $c >/dev/null 2>"$GEOBLOCK_STATE_DIR/err"
	rc=$?
	check_eq "$c with nothing pinned: exit" 2 "$rc"
	name=${c%% [0-9-]*}
	check_eq "$c with nothing pinned: one line" \
		"geoblock: $name: nothing pinned under $GEOBLOCK_PIN_DIR: run 'geoblock attach' or 'geoblock geoip load' first" \
		"$(cat "$GEOBLOCK_STATE_DIR/err")"
	check "$c with nothing pinned: pin dir not created" test ! -e "$GEOBLOCK_PIN_DIR"
done
"$GEOBLOCK" apply --check /dev/null >/dev/null 2>&1
check_eq "apply --check with nothing pinned: plans against empty maps" 0 $?
check "apply --check: pin dir not created" test ! -e "$GEOBLOCK_PIN_DIR"
# Nor does a geoip load that fails before it changes anything (it counts failures in the pins
# when there are some).
"$GEOBLOCK" geoip load "$GEOBLOCK_STATE_DIR/no-such.csv" >/dev/null 2>&1
check_eq "geoip load of a missing file: exit" 2 $?
check "geoip load of a missing file: pin dir not created" test ! -e "$GEOBLOCK_PIN_DIR"

# A change pins the maps and records the version.
check "meeting add" "$GEOBLOCK" meeting add m --ports 30001 --block CN
check_eq "abi_version recorded" "$version" "$(pinned_version)"
saved_files >"$GEOBLOCK_STATE_DIR/../saved.before.$$"
on_exit rm -f "$GEOBLOCK_STATE_DIR/../saved.before.$$"
audit_lines=$(wc -l <"$GEOBLOCK_STATE_DIR/audit.log")

# Pins of another version: refused by readers and writers alike.
other=$((version + 98))
bpftool map update pinned "$GEOBLOCK_PIN_DIR/abi_version" key 0 0 0 0 value $other 0 0 0
want="the pins under $GEOBLOCK_PIN_DIR are of ABI version $other, this geoblock is of version $version: stop the daemon, remove $GEOBLOCK_PIN_DIR (filtering stops), run 'geoblock restore' to make them anew from the state dir, then start the daemon"
for c in "${readers[@]}" "meeting add n --ports 30002 --block RU" "meeting del m" \
	 "meeting set m --monitor" "restore"; do
	# shellcheck disable=SC2086
	"$GEOBLOCK" $c >/dev/null 2>"$GEOBLOCK_STATE_DIR/err"
	rc=$?
	check_eq "$c on version $other pins: exit" 2 "$rc"
	check_eq "$c on version $other pins: one line naming both versions" "$want" \
		"$(sed 's/^geoblock: [a-z ]*: //' "$GEOBLOCK_STATE_DIR/err")"
done
check_eq "refused: version left as it was" "$other" "$(pinned_version)"
check "refused: saved rule set unchanged" cmp -s <(saved_files) \
	"$GEOBLOCK_STATE_DIR/../saved.before.$$"
check_eq "refused: nothing audited" "$audit_lines" "$(wc -l <"$GEOBLOCK_STATE_DIR/audit.log")"

# What the line says to do works.
rm -rf "$GEOBLOCK_PIN_DIR"
check "restore after removing the pin dir" "$GEOBLOCK" restore
check_eq "restore: version recorded" "$version" "$(pinned_version)"
check "restore: the meeting is back" grep -q '^meeting add m ' <(saved_rules)
check_eq "restore: meeting list shows it" m "$("$GEOBLOCK" meeting list --json | jq -r '.[0].name // .meetings[0].name')"

# Pins from before the version was recorded: read as they are, the version added at a change.
rm "$GEOBLOCK_PIN_DIR/abi_version"
check "old pins: meeting list works" "$GEOBLOCK" meeting list
check "old pins: a reader pins nothing" test ! -e "$GEOBLOCK_PIN_DIR/abi_version"
check "old pins: a change works" "$GEOBLOCK" meeting set m --monitor
check_eq "old pins: the change recorded the version" "$version" "$(pinned_version)"

# Partial pins (a map missing): a reader leaves it missing.
rm "$GEOBLOCK_PIN_DIR/verdict_stats"
check "partial pins: stats works" "$GEOBLOCK" stats
check "partial pins: stats pins nothing" test ! -e "$GEOBLOCK_PIN_DIR/verdict_stats"

# -v: libbpf's log on stderr; silent without it.
check_eq "without -v: libbpf says nothing" 0 \
	"$("$GEOBLOCK" meeting list 2>&1 >/dev/null | grep -c '^libbpf: ')"
n=$("$GEOBLOCK" -vv meeting list 2>&1 >/dev/null | grep -c '^libbpf: ')
check "-vv: libbpf's log shown ($n lines)" test "$n" -gt 0
summary
