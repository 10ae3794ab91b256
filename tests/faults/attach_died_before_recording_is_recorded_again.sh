#!/usr/bin/env bash
# An attach that died between pinning its link and recording the attachment (the state a kill
# there leaves, made here by taking the interface out of the attachments file): the filter runs
# but restore would not attach it after a reboot. Attaching again records it as it runs (mode and
# lookup read from the live link), audited, without detaching; it does not attach twice.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR

faults_geoip "$tmp" || { fail "GeoIP data"; summary; exit; }
check "geoip load" "$GEOBLOCK" geoip load --with-lpm "$tmp/a.csv" >/dev/null
check "meeting add" "$GEOBLOCK" meeting add board --ports 8801 --block DE >/dev/null
testbed_up "fr$$" || { fail "testbed"; summary; exit; }
on_exit testbed_down
testbed_add_client "$FT_BLOCKED" && testbed_add_client "$FT_PASSED"
check "attach (native, LPM)" in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" --mode native --lookup lpm
check_eq "recorded" "$TB_DST_IF native lpm" "$(grep -v '^#' "$S/attachments")"
prog=$(ip -n "$TB_DST" -j link show "$TB_DST_IF" | jq -r '.[0].xdp.prog.id')

# The record lost, as if the attach had been killed before writing it.
grep '^#' "$S/attachments" >"$tmp/att" && cp "$tmp/att" "$S/attachments"
check "filtered with the record lost" filtered 8801 "record lost"
in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" >"$tmp/out" 2>&1
rc=$?
check_eq "attach again: exit" 0 "$rc"
check "it says it was attached and is recorded now" grep -q "already attached to $TB_DST_IF (native mode, lpm lookup), but not recorded" "$tmp/out"
check_eq "recorded as it runs, not as asked (auto, table)" "$TB_DST_IF native lpm" "$(grep -v '^#' "$S/attachments")"
check_eq "the same program stays attached" "$prog" "$(ip -n "$TB_DST" -j link show "$TB_DST_IF" | jq -r '.[0].xdp.prog.id')"
check_eq "audited" "attach $TB_DST_IF: ok" "$(tail -1 "$S/audit.log" | jq -r '.command + ": " + .result')"
check "filtered after" filtered 8801 "after"

# Recorded and attached: a further attach is refused as before, and changes nothing.
in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" >"$tmp/out" 2>&1
rc=$?
check_eq "attach a third time: exit" 1 "$rc"
check "already attached" grep -q "already attached to $TB_DST_IF; 'geoblock detach" "$tmp/out"
check "detach" in_ns "$TB_DST" "$GEOBLOCK" detach "$TB_DST_IF"
check_eq "no record left" "" "$(grep -v '^#' "$S/attachments")"
summary
