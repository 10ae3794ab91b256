#!/usr/bin/env bash
# The state dir's fsync fails (EIO, injected by strace) after a change renamed the new rules file
# into place: the file holds the new rule set, so the change stands, with one warning that a crash
# may yet lose the rename, and the change log keeps its record until the next save; it is not rolled
# back in the maps under a file holding the new set (which restore applied after a reboot).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR

check "strace is installed (scripts/install-deps.sh)" quiet command -v strace
check "meeting add a" "$GEOBLOCK" meeting add a --ports 8801 --block DE >/dev/null 2>&1
printf 'meeting add b --ports 8802 --block DE\n' >"$tmp/b.rules"
names() { "$GEOBLOCK" meeting list --json | jq -r 'map(.name) | join(" ")'; }

# The apply's fsyncs: the new rules file's, then the state dir's after the rename (the second and
# every one after it fail). LeakSanitizer cannot run under ptrace: off for a sanitizer build.
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	strace -f -o "$tmp/trace" -e trace=fsync,rename -e inject=fsync:error=EIO:when=2+ \
	"$GEOBLOCK" apply "$tmp/b.rules" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "the injected failure hit the dir's fsync, after the rename" \
	grep -qE '^[0-9]+ +fsync\(.*= -1 EIO .*INJECTED' "$tmp/trace"
check_eq "... which came after the rename" "fsync rename fsync" \
	"$(grep -oE '^[0-9]+ +(rename|fsync)' "$tmp/trace" | awk '{print $2}' | head -3 | paste -sd' ')"
check_eq "apply: exit 0" 0 "$rc"
check_eq "apply: one warning line, on the directory" "geoblock: apply: warning: $S/rules written, but its directory cannot be synced (Input/output error): a crash may yet lose it" \
	"$(grep -v 'no GeoIP table' "$tmp/err")"
check_eq "the maps hold the new set" b "$(names)"
check_eq "the maps and the saved rule set agree" "" "$(differs)"
check_eq "the saved rule set is the new one" "meeting add b --ports 8802 --block DE" \
	"$(saved_rules)"
check "no change left under way" change_under_way_not
# The log is not emptied (compacted) while the rename is not known durable: it still holds the
# change's record, after the old file's ("set": a crash that lost the rename rolls it back whole).
check_eq "the change log keeps the change's record" "set" "$(tail -1 "$S/rules.log" | cut -d' ' -f3)"
summary
