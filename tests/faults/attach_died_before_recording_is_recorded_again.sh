#!/usr/bin/env bash
# An attach that died between pinning its link and recording the attachment (the state a kill
# there leaves, made here by taking the interface out of the attachments file): the filter runs
# but restore would not attach it after a reboot. Attaching again records it as it runs (mode and
# lookup read from the live link), audited, without detaching; it does not attach twice. An attach
# whose record cannot be written is undone (it fails whole); such a detach says it detached.
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
check_eq "status --json: not recorded" false "$(in_ns "$TB_DST" "$GEOBLOCK" status --json |
	jq --arg i "$TB_DST_IF" '.attachments[] | select(.interface == $i) | .recorded')"
check "status says so, and what records it" eval "in_ns '$TB_DST' '$GEOBLOCK' status |
	grep -qF \"(not recorded for restore: 'geoblock attach $TB_DST_IF' records it)\""
in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" >"$tmp/out" 2>&1
rc=$?
check_eq "attach again: exit" 0 "$rc"
check "it says it was attached and is recorded now" grep -q "already attached to $TB_DST_IF (native mode, lpm lookup), but not recorded" "$tmp/out"
check_eq "recorded as it runs, not as asked (auto, table)" "$TB_DST_IF native lpm" "$(grep -v '^#' "$S/attachments")"
check_eq "the same program stays attached" "$prog" "$(ip -n "$TB_DST" -j link show "$TB_DST_IF" | jq -r '.[0].xdp.prog.id')"
check_eq "audited" "attach $TB_DST_IF: ok" "$(tail -1 "$S/audit.log" | jq -r '.command + ": " + .result')"
check "filtered after" filtered 8801 "after"
check_eq "status --json: recorded" true "$(in_ns "$TB_DST" "$GEOBLOCK" status --json |
	jq --arg i "$TB_DST_IF" '.attachments[] | select(.interface == $i) | .recorded')"

# Recorded and attached: a further attach is refused as before, and changes nothing.
in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" >"$tmp/out" 2>&1
rc=$?
check_eq "attach a third time: exit" 1 "$rc"
check "already attached" grep -q "already attached to $TB_DST_IF; 'geoblock detach" "$tmp/out"
check "detach" in_ns "$TB_DST" "$GEOBLOCK" detach "$TB_DST_IF"
check_eq "no record left" "" "$(grep -v '^#' "$S/attachments")"

# The record cannot be written (a directory in its place): an attach that cannot record itself is
# undone, so that it fails whole; a detach that cannot forget its record says it detached.
xdp_prog() { ip -n "$TB_DST" -j link show "$TB_DST_IF" | jq -r '.[0].xdp.prog.id // "none"'; }
mv "$S/attachments" "$tmp/att.saved" && mkdir -p "$S/attachments/x"
in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" >"$tmp/out" 2>"$tmp/err"
check_eq "unrecordable attach: exit 2, one line, not attached" "2 geoblock: attach: cannot record the attachment in $S/attachments: Is a directory; not attached" \
	"$? $(cat "$tmp/err")"
check_eq "... no program on the interface" none "$(xdp_prog)"
check "... no link pinned" test ! -e "$GEOBLOCK_PIN_DIR/link_$TB_DST_IF"
check_eq "... audited as failed" "attach $TB_DST_IF: failed" \
	"$(tail -1 "$S/audit.log" | jq -r '.command + ": " + .result' | cut -d: -f1-2)"
rm -rf "$S/attachments" && mv "$tmp/att.saved" "$S/attachments"
check "attach with the record writable" in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF"
mv "$S/attachments" "$tmp/att.saved" && mkdir -p "$S/attachments/x"
in_ns "$TB_DST" "$GEOBLOCK" detach "$TB_DST_IF" >"$tmp/out" 2>"$tmp/err"
check_eq "unrecordable detach: exit 2, one line saying it detached" "2 geoblock: detach: detached from $TB_DST_IF, but cannot forget its record in $S/attachments (restore would attach it again): Is a directory" \
	"$? $(cat "$tmp/err")"
check_eq "... no program on the interface" none "$(xdp_prog)"
rm -rf "$S/attachments" && mv "$tmp/att.saved" "$S/attachments"
summary
