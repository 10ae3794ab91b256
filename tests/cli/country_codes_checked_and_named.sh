#!/usr/bin/env bash
# Country codes are taken only when they mean a country: officially assigned ISO 3166-1 codes, and
# codes the loaded GeoIP table uses (XK). UK, EU, AP, EL, ZZ, QQ are refused with one line (and a
# hint where there is one), in `meeting add` and in apply files (the line named), with nothing
# changed and nothing audited. An accepted code the table has no network for is added with one
# warning line; `meeting list` (a mark, and "warnings" in --json) and `status` name such meetings.
# `meeting add` and `explain` print each blocked country's name and networks. The compiled ISO
# table equals Debian's iso-codes. `status` shows times as RFC 3339 with their age, and the version.
# `restore` takes a saved meeting whose line a change would refuse, and says so.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
S=$GEOBLOCK_STATE_DIR

# The table compiled in equals the standard as Debian ships it.
if [[ -f /usr/share/iso-codes/json/iso_3166-1.json ]]; then
	bash "$ROOT/scripts/gen-iso3166.sh" /usr/share/iso-codes/json/iso_3166-1.json "$tmp/iso3166.c"
	check "user/lib/iso3166.c equals iso-codes" cmp -s "$tmp/iso3166.c" "$ROOT/user/lib/iso3166.c"
else
	fail "iso-codes is not installed (scripts/install-deps.sh installs it)"
fi

# A small table: DE and XK networks (IPv4), nothing for FR.
printf '%s\n' 192.0.2.0,192.0.2.255,DE 198.51.100.0,198.51.100.255,XK 2001:db8::,2001:db8::ffff,DE \
	>"$tmp/small.csv"
check "a meeting before any table: CN" "$GEOBLOCK" meeting add before --ports 30100 --block CN
check_eq "XK before a table uses it: refused" 1 \
	"$("$GEOBLOCK" meeting add x --ports 30101 --block XK >/dev/null 2>&1; echo $?)"
"$GEOBLOCK" geoip load --force "$tmp/small.csv" >/dev/null || fail "geoip load"

saved_files >"$tmp/rules.before"
audit_before=$(wc -l <"$S/audit.log")
# refused CODE LINE: meeting add with --block CODE exits 1 with exactly LINE, nothing changed.
refused() {
	"$GEOBLOCK" meeting add bad --ports 30102 --block "$1" >"$tmp/out" 2>"$tmp/err"
	check_eq "--block $1: exit 1, one line" "1 geoblock: meeting add: $2" "$? $(cat "$tmp/err")"
}
refused UK "UK is not a country code; the United Kingdom is GB"
refused uk "UK is not a country code; the United Kingdom is GB"
refused EU "EU is a continent (Europe), not a country code"
refused AP "AP is a region (Asia/Pacific), not a country code"
refused EL "EL is not a country code; Greece is GR"
refused ZZ "ZZ is not a country code (it stands for an unknown country)"
refused QQ "QQ is not an ISO 3166-1 country code, nor one the loaded GeoIP table uses"
refused DE,UK "UK is not a country code; the United Kingdom is GB"

printf 'meeting add ok --ports 30103 --block DE\nmeeting add bad --ports 30104 --block CN,EU\n' \
	>"$tmp/bad.rules"
"$GEOBLOCK" apply "$tmp/bad.rules" >"$tmp/out" 2>"$tmp/err"
check_eq "apply: a file with EU refused, its line named" \
	"1 geoblock: apply: $tmp/bad.rules line 2: EU is a continent (Europe), not a country code" \
	"$? $(cat "$tmp/err")"
"$GEOBLOCK" apply --check "$tmp/bad.rules" >/dev/null 2>&1
check_eq "apply --check refuses it too" 1 $?
check "refused: saved rule set unchanged" cmp -s <(saved_files) "$tmp/rules.before"
check_eq "refused: nothing audited" "$audit_before" "$(wc -l <"$S/audit.log")"

# Accepted: what the table uses, and what it names; with the countries shown.
"$GEOBLOCK" meeting add kosovo --ports 30105 --block xk >"$tmp/out" 2>"$tmp/err"
check_eq "XK (the table uses it): exit 0, quiet" "0 " "$? $(cat "$tmp/err")"
check_eq "meeting add names XK and its networks" "  XK Kosovo: 1 IPv4 + 0 IPv6 networks" \
	"$(sed -n 2p "$tmp/out")"
"$GEOBLOCK" meeting add swiss --ports 30106 --block ch,de >"$tmp/out" 2>"$tmp/err"
rc=$?
check_eq "CH (Switzerland, no network here): added" 0 "$rc"
check_eq "CH: named, as Switzerland" \
	"$(printf '  CH Switzerland: 0 IPv4 + 0 IPv6 networks\n  DE Germany: 1 IPv4 + 1 IPv6 networks')" \
	"$(tail -n +2 "$tmp/out")"
check_eq "CH: one warning line" \
	"geoblock: meeting add: warning: the loaded GeoIP table has no network in CH: meeting \"swiss\" blocks nothing from it" \
	"$(cat "$tmp/err")"
printf 'meeting add fr --ports 30107 --block FR,DE\nmeeting add de --ports 30108 --block DE\n' \
	>"$tmp/ok.rules"
"$GEOBLOCK" apply "$tmp/ok.rules" >"$tmp/out" 2>"$tmp/err"
check_eq "apply with FR: exit 0, one warning naming the meeting" \
	"0 geoblock: apply: warning: the loaded GeoIP table has no network in FR: meeting \"fr\" blocks nothing from it" \
	"$? $(cat "$tmp/err")"

# Marked where the meetings are shown.
"$GEOBLOCK" meeting list >"$tmp/list"
check_eq "meeting list marks fr" "DE,FR!" "$(awk '$1 == "fr" {print $5}' "$tmp/list")"
check_eq "meeting list does not mark de" "DE" "$(awk '$1 == "de" {print $5}' "$tmp/list")"
check "meeting list explains the mark" \
	grep -q '^! blocks a country the loaded GeoIP table has no network in' "$tmp/list"
check_eq "meeting list --json: warnings of fr" \
	'["the loaded GeoIP table has no network in FR"]' \
	"$("$GEOBLOCK" meeting list --json | jq -c '.[] | select(.name == "fr") | .warnings')"
check_eq "meeting list --json: none for de" '[]' \
	"$("$GEOBLOCK" meeting list --json | jq -c '.[] | select(.name == "de") | .warnings')"
check_eq "status names the meetings" \
	"meetings:  2 (blocking a country without a network in the GeoIP table: fr)" \
	"$("$GEOBLOCK" status | grep '^meetings:')"
check_eq "status --json names them" '["fr"]' \
	"$("$GEOBLOCK" status --json | jq -c .meetings_blocking_countries_without_networks)"

# explain: the meeting's countries, named and counted.
"$GEOBLOCK" explain 192.0.2.1 30107 >"$tmp/out"
check_eq "explain: the countries of the meeting" \
	"$(printf 'blocks:   DE Germany: 1 IPv4 + 1 IPv6 networks\n          FR France: 0 IPv4 + 0 IPv6 networks')" \
	"$(grep -A1 '^blocks:' "$tmp/out")"
check_eq "explain --json: blocks" '[["DE","Germany",1,1],["FR","France",0,0]]' \
	"$("$GEOBLOCK" explain 192.0.2.1 30107 --json |
	   jq -c '[.blocks[] | [.code, .name, .ipv4_networks, .ipv6_networks]]')"

# The control API's replies warn in the CLI's words, naming the meeting (in an apply, each).
api_daemon "$tmp/api.sock"
api() { curl -s --unix-socket "$tmp/api.sock" -X "$1" "http://geoblock$2" -d "$3"; }
nonet() { echo "the loaded GeoIP table has no network in $1: meeting \"$2\" blocks nothing from $3"; }
out=$(api PUT /v1/meetings/swiss2 '{"ports":[30109],"block":["CH","DE"]}')
check_eq "API PUT: the CLI's warning" "[\"$(nonet CH swiss2 it | sed 's/"/\\"/g')\"]" \
	"$(jq -c .warnings <<<"$out")"
out=$(api PUT /v1/meetings/swiss2 '{"ports":[30109],"block":["DE"]}')
check_eq "API PUT: none when the table has every country" "[]" "$(jq -c .warnings <<<"$out")"
out=$(api POST /v1/apply '{"check":true,"meetings":[{"name":"fr","ports":[30107],"block":["FR","DE"]},{"name":"de","ports":[30108],"block":["DE"]},{"name":"two","ports":[30110],"block":["CH","FR"]}]}')
check_eq "API apply: one warning per meeting, each named" \
	"$(nonet FR fr it; nonet CH,FR two them)" "$(jq -r '.warnings[]' <<<"$out")"
kill_child "$pid"

# status: times for people, both in JSON; the version.
"$GEOBLOCK" status >"$tmp/status"
check "status: build and load times in RFC 3339 with their age" \
	grep -Eq '^ +built (never|[0-9-]{10}T[0-9:]{8}Z \([^)]*\)), loaded [0-9-]{10}T[0-9:]{8}Z \((now|[0-9]+ [a-z]+ ago)\)$' \
	"$tmp/status"
check "status: no database type in the human line" test -z "$(grep -F '(CSV ranges)' "$tmp/status")"
check "status --json keeps the seconds" test "$("$GEOBLOCK" status --json | jq .geoip.loaded_at)" -gt 0
version=$(sed -n 's/^VERSION[[:space:]]*:=[[:space:]]*//p' "$ROOT/Makefile")
abi=$(sed -n 's/^#define GB_ABI_VERSION[[:space:]]*//p' "$ROOT/bpf/geoblock.h")
check_eq "--version: the version and the pinned ABI it makes" "geoblock $version (pinned ABI $abi)" \
	"$("$GEOBLOCK" --version)"
check_eq "status --json: version" "$version" "$("$GEOBLOCK" status --json | jq -r .version)"

# A rules file edited by hand: restore takes a meeting blocking ZZ as saved and says so in one
# line (apply would refuse its line); XK, which the restored table uses, quietly. restore --print
# says the same before the restore, and of XK too: no table is loaded then.
printf '%s\n' "meeting add kos --ports 30190 --block XK" "meeting add de --ports 30191 --block DE" \
	>"$tmp/set"
check "apply writes the rules file" quiet "$GEOBLOCK" apply "$tmp/set"
# Also a name refused since it was saved, and a meeting expired (deleted by restore: not said).
printf '%s\n' "meeting add hand --ports 30192 --block DE,ZZ" \
	"meeting add .. --ports 30193 --block DE" \
	"meeting add gone --ports 30194 --block ZZ --expires 2026-01-01T00:00:00Z" >>"$S/rules"
refuse_dots="apply would refuse its line: invalid meeting name \"..\": HTTP clients remove \".\""
refuse_dots+=" and \"..\" from a URL's path; choose another"
refuse_zz='apply would refuse its line: ZZ is not a country code (it stands for an unknown country)'
refuse_xk='apply would refuse its line: XK is not an ISO 3166-1 country code (and no GeoIP table is'
refuse_xk+=' loaded that could use it)'
rm -rf "$GEOBLOCK_PIN_DIR"	# a reboot
"$GEOBLOCK" restore --print >"$tmp/out" 2>"$tmp/err"
check_eq "restore --print before restore: exit 0, a warning each for XK, ZZ and the name" \
	"0 geoblock: restore: warning: saved meeting \"kos\": $refuse_xk
geoblock: restore: warning: saved meeting \"hand\": $refuse_zz
geoblock: restore: warning: saved meeting \"..\": $refuse_dots" "$? $(cat "$tmp/err")"
check_eq "... four printed, the expired one as a comment" "4 1" \
	"$(grep -c '^meeting add' "$tmp/out") $(grep -c '^# expired, left out: ' "$tmp/out")"
check "... and nothing pinned" test ! -e "$GEOBLOCK_PIN_DIR"
"$GEOBLOCK" restore >"$tmp/out" 2>"$tmp/err"
check_eq "restore: exit 0, a warning each for ZZ and the name" \
	"0 geoblock: restore: warning: saved meeting \"hand\": $refuse_zz
geoblock: restore: warning: saved meeting \"..\": $refuse_dots" "$? $(cat "$tmp/err")"
check_eq "... the meetings restored as saved, the expired one deleted" \
	".. DE; de DE; hand DE,ZZ; kos XK" \
	"$("$GEOBLOCK" meeting list --json | jq -r 'map("\(.name) \(.block | join(","))") | sort |
		join("; ")')"
"$GEOBLOCK" restore --print >"$tmp/out" 2>"$tmp/err"
check_eq "restore --print after it: the warnings for ZZ and the name" \
	"0 geoblock: restore: warning: saved meeting \"hand\": $refuse_zz
geoblock: restore: warning: saved meeting \"..\": $refuse_dots" "$? $(cat "$tmp/err")"
check "the meeting \"..\" can be deleted" quiet "$GEOBLOCK" meeting del ..
summary
