#!/usr/bin/env bash
# An expiry stays the time that was given when the kernel's TAI offset changes (NTP sets it after
# boot, from 0 to 37 s, while `restore` may have run before): `meeting list`, `apply --check` and
# the rules file keep it, and the next change converts it for the data path again. The change of
# offset is simulated: the policy's CLOCK_TAI copy is moved 37 s back, as if written under the
# other offset (before, the expiry read back moved with it, 37 s per reboot).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
S=$GEOBLOCK_STATE_DIR
MAP=$GEOBLOCK_PIN_DIR/meeting_policy

# tai_copy ID: the policy's expires_tai_ns (bytes 16-23, little-endian).
tai_copy() {
	bpftool -j map lookup pinned "$MAP" key "$1" 0 0 0 |
		jq -r '.value[16:24] | reverse | map(.[2:]) | join("")' | sed 's/^/0x/'
}
# set_tai_copy ID VALUE: writes VALUE into it, the rest of the policy as it is.
set_tai_copy() {
	local id=$1 v=$2 bytes=() i
	mapfile -t bytes < <(bpftool -j map lookup pinned "$MAP" key "$id" 0 0 0 | jq -r '.value[]')
	for ((i = 0; i < 8; i++)); do
		bytes[16 + i]=$(printf '0x%02x' $(((v >> (8 * i)) & 0xff)))
	done
	bpftool map update pinned "$MAP" key "$id" 0 0 0 value "${bytes[@]}"
}
expiry() { "$GEOBLOCK" meeting list --json | jq -r '.[] | select(.name == "m") | .expires'; }

check "meeting add with --expires" "$GEOBLOCK" meeting add m --ports 9001 --block DE --expires 2h >/dev/null
id=$("$GEOBLOCK" meeting list --json | jq -r '.[] | select(.name == "m") | .id')
given=$(expiry)
line=$(saved_rules | grep '^meeting add m ')
tai=$(tai_copy "$id")
check "the expiry has a CLOCK_TAI copy" test $((tai)) -gt 0

check "move the TAI copy 37 s back" set_tai_copy "$id" $((tai - 37000000000))
check_eq "meeting list still shows the given time" "$given" "$(expiry)"
check_eq "apply --check of the rules file sees no difference" "" "$(differs)"
check "another change" "$GEOBLOCK" meeting add other --ports 9002 --block FR >/dev/null
check_eq "the rules file keeps the given time" "$line" "$(saved_rules | grep '^meeting add m ')"
check_eq "the data path's copy is converted again" "$tai" "$(tai_copy "$id")"
summary
