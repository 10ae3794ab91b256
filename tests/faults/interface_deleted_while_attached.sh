#!/usr/bin/env bash
# The interface deleted while the filter is attached to it: status, stats and detach give sensible
# output or one clear error line (no crash), and attaching to another interface then works and
# filters.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

faults_geoip "$tmp" || { fail "GeoIP data"; summary; exit; }
check "geoip load" "$GEOBLOCK" geoip load "$tmp/a.csv" >/dev/null
check "meeting add" "$GEOBLOCK" meeting add board --ports 8801 --block DE >/dev/null
faults_testbed "fi$$" || { fail "testbed"; summary; exit; }
check "filtered before" filtered 8801 "before"
gone=$TB_DST_IF
check "interface deleted" ip -n "$TB_DST" link del "$gone"

# no_crash NAME CMD...: CMD ends by itself (no signal) and, if it fails, says why in one line.
no_crash() {
	local name=$1 rc
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	echo "$name: exit $rc; $(head -2 "$tmp/out" "$tmp/err" | grep -v '^==>\|^$' | paste -sd'|')"
	if ((rc >= 128)); then
		fail "$name: killed by a signal (exit $rc)"
	elif ((rc != 0)) && [[ $(wc -l <"$tmp/err") != 1 ]]; then
		fail "$name: exit $rc with $(wc -l <"$tmp/err") lines of error"
	else
		pass
	fi
}
no_crash status in_ns "$TB_DST" "$GEOBLOCK" status
no_crash "status --json" in_ns "$TB_DST" "$GEOBLOCK" status --json
no_crash stats in_ns "$TB_DST" "$GEOBLOCK" stats --json
no_crash detach in_ns "$TB_DST" "$GEOBLOCK" detach "$gone"
no_crash "status after detach" in_ns "$TB_DST" "$GEOBLOCK" status --json
in_ns "$TB_DST" "$GEOBLOCK" status --json >"$tmp/status.json"
check "status no longer lists the deleted interface" test "$(grep -c "\"$gone\"" "$tmp/status.json")" = 0

# A new link to the server (the veth's other end went with it: the clients move to the new one).
testbed_add_link || fail "second link"
check "attach to the new interface" in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF2" >/dev/null
for a in "$FT_BLOCKED" "$FT_PASSED"; do
	ip -n "$TB_SRC" addr add "$a/32" dev "$TB_SRC_IF2"
	ip -n "$TB_DST" route add "$a/32" dev "$TB_DST_IF2"
done
TB_DST_V4=$TB_DST2_V4
check "the new interface filters" filtered 8801 "on the new interface"
in_ns "$TB_DST" "$GEOBLOCK" status --json >"$tmp/status.json"
check "status lists it" grep -q "\"$TB_DST_IF2\"" "$tmp/status.json"
summary
