#!/usr/bin/env bash
# One rule set on two interfaces (native with the compiled table, generic with the LPM tries);
# `status` lists both with their modes. Then a simulated reboot: the pin dir is removed (links,
# maps and table go with it; the state dir stays) and traffic flows unfiltered. `geoblock restore`
# re-creates pins, GeoIP table, rules and both attachments: real traffic over both links is
# filtered exactly as before, and a second restore changes nothing.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/scripts/testbed.sh"
TB_BIN=$BUILD/tests
COUNT=20
PORTS=8801,8802,9001,9002,9003

geoip_data || { fail "fetch databases"; summary; exit; }
DB=$GEOBLOCK_DATA_DIR/GeoLite2-Country.mmdb
check "geoip load --with-lpm" "$GEOBLOCK" geoip load --with-lpm "$DB.gz" >/dev/null
declare -A CC
for spec in "DE 4 31" "DE 6 31" "JP 4 31" "US 4 31" "US 6 31" "FR 4 31"; do
	read -r cc fam seed <<<"$spec"
	CC[$("$TB_BIN/mmdb_ref" find "$DB" "$cc" "$fam" "$seed")]=$cc
done
DE_OK=$("$TB_BIN/mmdb_ref" find "$DB" DE 4 32)
CC[$DE_OK]=DE
CLIENTS=("${!CC[@]}")

check "add standup" "$GEOBLOCK" meeting add standup --ports 8801-8802 --block DE,JP --allow "$DE_OK" \
	--proto udp,tcp >/dev/null
check "add allhands" "$GEOBLOCK" meeting add allhands --ports 9001 --block US --monitor >/dev/null
check "add town" "$GEOBLOCK" meeting add town --ports 9002 --block FR --expires 2h >/dev/null

testbed_up "gb$$" || { fail "testbed"; summary; exit; }
on_exit testbed_down
testbed_add_link || fail "second link"
for a in "${CLIENTS[@]}"; do
	testbed_add_client "$a" || fail "add client $a"
done
G() { in_ns "$TB_DST" "$GEOBLOCK" "$@"; }
check "attach $TB_DST_IF native, table" G attach "$TB_DST_IF" --mode native >/dev/null
check "attach $TB_DST_IF2 generic, lpm" G attach "$TB_DST_IF2" --mode generic --lookup lpm >/dev/null
attachments() {
	G status --json | jq -r '.attachments | sort_by(.interface)[] | "\(.interface) \(.mode) \(.lookup)"'
}
want_att=$(printf '%s native table\n%s generic lpm' "$TB_DST_IF" "$TB_DST_IF2" | sort)
check_eq "status lists both attachments and their modes" "$want_att" "$(attachments)"
human_status_lists() { G status | grep -Eq "^  $TB_DST_IF +native, table lookup" && G status | grep -Eq "^  $TB_DST_IF2 +generic, lpm lookup"; }
check "status for people lists both" human_status_lists

tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
# traffic OUT: every client sends to every port over both links; OUT gets "LINK CLIENT PORT N".
traffic() {
	send_and_count "$PORTS" 9999 "$COUNT" "$tmp/l1" "${CLIENTS[@]}" || return 1
	TB_DST_V4=$TB_DST2_V4 TB_DST_V6=$TB_DST2_V6 \
		send_and_count "$PORTS" 9999 "$COUNT" "$tmp/l2" "${CLIENTS[@]}" || return 1
	{ sed 's/^/1 /' "$tmp/l1"; sed 's/^/2 /' "$tmp/l2"; } | sort >"$1"
}
dropped() { # CLIENT PORT
	local cc=${CC[$1]}
	case $2 in
	8801 | 8802) [[ $1 != "$DE_OK" && ($cc == DE || $cc == JP) ]] ;;
	9002) [[ $cc == FR ]] ;;
	*) false ;;
	esac
}
check_traffic() { # LABEL FILE
	for link in 1 2; do
		for a in "${CLIENTS[@]}"; do
			for p in ${PORTS//,/ }; do
				got=$(awk -v l=$link -v s="$a" -v p="$p" '$1 == l && $2 == s && $3 == p { print $4 }' "$2")
				if dropped "$a" "$p"; then
					check_eq "$1: link $link ${CC[$a]} $a -> $p dropped" "" "$got"
				else
					check_eq "$1: link $link ${CC[$a]} $a -> $p arrived" "$COUNT" "$got"
				fi
			done
		done
	done
}
snapshot() {
	"$GEOBLOCK" meeting list --json | jq -c 'map(del(.id, .created))'
	for a in "${CLIENTS[@]}"; do
		for p in ${PORTS//,/ }; do
			"$GEOBLOCK" explain "$a" "$p" --json | jq -c .
		done
	done
	attachments
}

check "traffic before" traffic "$tmp/before"
check_traffic "before" "$tmp/before"
# One rule set: a meeting added once is enforced on both links.
check "add late" "$GEOBLOCK" meeting add late --ports 9003 --block JP >/dev/null
PORTS=9003 traffic "$tmp/late"
JP=$(for a in "${CLIENTS[@]}"; do [[ ${CC[$a]} == JP ]] && echo "$a"; done)
check_eq "late drops JP on both links" "" "$(awk -v s="$JP" '$2 == s { print }' "$tmp/late")"
check_eq "late lets the rest through on both links" $((2 * (${#CLIENTS[@]} - 1))) "$(wc -l <"$tmp/late")"
check "del late" "$GEOBLOCK" meeting del late >/dev/null
snapshot >"$tmp/snap.before"

# Reboot, simulated: pins gone (the links with them), state dir kept.
rm -rf "$GEOBLOCK_PIN_DIR"
no_xdp() { ! ip -n "$TB_DST" link show "$TB_DST_IF" | grep -q xdp && ! ip -n "$TB_DST" link show "$TB_DST_IF2" | grep -q xdp; }
check "links gone with the pins" wait_until 10 no_xdp
check "traffic after the reboot" traffic "$tmp/rebooted"
check_eq "unfiltered after the reboot: every flow arrives" $((2 * ${#CLIENTS[@]} * 5)) \
	"$(awk -v c="$COUNT" '$4 == c' "$tmp/rebooted" | wc -l)"

G restore >"$tmp/restore.out" 2>&1
check_eq "restore succeeds" 0 $?
check_eq "restore re-creates three meetings" "rules: 3 meetings (3 changes)" "$(grep '^rules:' "$tmp/restore.out")"
check_eq "restore re-attaches both" "$want_att" "$(attachments)"
check "restore reloads the GeoIP table" jqe '.geoip.loaded' <<<"$("$GEOBLOCK" status --json)"
check "traffic after restore" traffic "$tmp/after"
check_traffic "after restore" "$tmp/after"
check_eq "traffic after restore is traffic before" "$(cat "$tmp/before")" "$(cat "$tmp/after")"
check_eq "rules, verdicts and attachments as before" "$(cat "$tmp/snap.before")" "$(snapshot)"
G restore >"$tmp/restore2.out" 2>&1
check_eq "a second restore succeeds" 0 $?
check_eq "a second restore changes nothing" "rules: 3 meetings (0 changes)" "$(grep '^rules:' "$tmp/restore2.out")"
check_eq "a second restore keeps the attachments" 2 "$(grep -c 'attached to .* already' "$tmp/restore2.out")"

# A plain `geoip load` before restore (a database update hook that runs first): it keeps the LPM
# tries the record says were built, so restore still attaches the interface that reads them.
rm -rf "$GEOBLOCK_PIN_DIR"
check "links gone for the load before restore" wait_until 10 no_xdp
check "geoip load (no --with-lpm) onto the lost pins" "$GEOBLOCK" geoip load "$DB.gz" >/dev/null
G restore >"$tmp/restore3.out" 2>&1
rc=$?
check_eq "restore after that load succeeds ($(grep -v '^rules:\|^geoip:' "$tmp/restore3.out" | head -2))" 0 $rc
check_eq "... and re-attaches both, the lpm one too" "$want_att" "$(attachments)"

# An interface detached before the reboot stays detached after it.
check "detach the second link" G detach "$TB_DST_IF2" >/dev/null
rm -rf "$GEOBLOCK_PIN_DIR"
check "links gone again" wait_until 10 no_xdp
check "restore again" G restore >/dev/null
check_eq "only the first link is attached" "$TB_DST_IF native table" "$(attachments)"

# An interface whose name begins with '#' (the kernel takes it; the attachments file's comments
# do too, but with a blank after) is restored like any other.
hash_if="#${TB_NAME}h"
ip -n "$TB_DST" link add "$hash_if" type veth peer name "${TB_NAME}hp" &&
	ip -n "$TB_DST" link set "$hash_if" up && ip -n "$TB_DST" link set "${TB_NAME}hp" up ||
	fail "a veth named $hash_if"
check "attach $hash_if" G attach "$hash_if" --mode generic >/dev/null
rm -rf "$GEOBLOCK_PIN_DIR"
check "restore with $hash_if" G restore >/dev/null
check_eq "both restored, $hash_if too" \
	"$(printf '%s generic table\n%s native table' "$hash_if" "$TB_DST_IF" | LC_ALL=C sort)" \
	"$(attachments)"
# Renamed while attached: status says where its interface is now; run from another network
# namespace, that its ifindex is not the interface's there.
ip -n "$TB_DST" link set "$hash_if" down && ip -n "$TB_DST" link set "$hash_if" name "${TB_NAME}r" &&
	ip -n "$TB_DST" link set "${TB_NAME}r" up || fail "rename $hash_if"
idx=$(G status --json | jq --arg i "$hash_if" '.attachments[] | select(.interface == $i) | .ifindex')
check_eq "status --json: the renamed interface's name here" "${TB_NAME}r" \
	"$(G status --json | jq -r --arg i "$hash_if" '.attachments[] | select(.interface == $i) | .interface_here')"
check "status in the namespace: the rename said" eval \
	'G status | grep -qF -- "(its interface, index $idx, is ${TB_NAME}r here: renamed, or in another network namespace)"'
check "status elsewhere: another namespace said" eval \
	'"$GEOBLOCK" status | grep -F -- "$hash_if" | grep -q "network namespace)"'
ip -n "$TB_DST" link add "$hash_if" type veth peer name "${TB_NAME}hq" &&
	ip -n "$TB_DST" link set "$hash_if" up || fail "a new $hash_if"
G attach "$hash_if" --mode generic >/dev/null 2>"$tmp/err"
check_eq "attach of a new interface of the old name: refused, the rename said" \
	"1 geoblock: attach: already attached as $hash_if, to interface index $idx (${TB_NAME}r here: renamed since?); 'geoblock detach $hash_if' first" \
	"$? $(cat "$tmp/err")"
# restore neither takes the link on the renamed interface for the new one's (the build before said
# "attached to ... already", exit 0, and left the new one unfiltered) nor attaches over it.
G restore >"$tmp/out" 2>"$tmp/err"
check_eq "restore: the new $hash_if is not taken as attached (exit 2)" 2 $?
check_eq "... not said to be attached" "" "$(grep -F "attached to $hash_if already" "$tmp/out")"
check "... the rename said" grep -qF "already attached as $hash_if, to interface index $idx" "$tmp/err"
check "detach $hash_if (its name when attached)" G detach "$hash_if" >/dev/null

# A link pin removed by hand (the link with it): status names the recorded interface that has
# none, and restore attaches it again.
rm -f "$GEOBLOCK_PIN_DIR/link_$TB_DST_IF"
check_eq "status --json: the recorded interface without a pinned link" "[\"$TB_DST_IF\"]" \
	"$(G status --json | jq -c .attachments_not_pinned)"
check "status says so" eval \
	'G status | grep -Eq "^  $TB_DST_IF +recorded for restore, but no link is pinned"'
check "restore attaches it again" quiet G restore
check_eq "then no recorded interface is without one" "[]" \
	"$(G status --json | jq -c .attachments_not_pinned)"

# A meeting whose expiry passes while the machine is down is deleted by restore, audited.
brief=$(date -u -d "@$(($(date +%s) + 4))" +%Y-%m-%dT%H:%M:%SZ)
check "add brief" "$GEOBLOCK" meeting add brief --ports 9500 --block DE --expires "$brief" >/dev/null
rm -rf "$GEOBLOCK_PIN_DIR"
past() { (($(date +%s) > $(date -d "$brief" +%s))); }
check "brief's time passes while down" wait_until 10 past
G restore >"$tmp/restore3.out" 2>&1
check_eq "restore after the expiry succeeds" 0 $?
check_eq "restore deletes the expired meeting" "rules: 3 meetings (4 changes, 1 expired meeting deleted)" \
	"$(grep '^rules:' "$tmp/restore3.out")"
check_eq "brief is gone" "allhands standup town" "$("$GEOBLOCK" meeting list --json | jq -r '[.[].name] | sort | join(" ")')"
check "its expiry is audited" grep -q '"command":"expire".*meeting add brief' "$GEOBLOCK_STATE_DIR/audit.log"

# A state dir that recorded no rules leaves the live ones alone.
mkdir "$tmp/other-state"
GEOBLOCK_STATE_DIR=$tmp/other-state G restore >"$tmp/restore4.out" 2>&1
check_eq "restore from an empty state dir succeeds" 0 $?
check "it says no rules are recorded" grep -qx "rules: none recorded" "$tmp/restore4.out"
check_eq "and keeps the live meetings" 3 "$("$GEOBLOCK" meeting list --json | jq length)"
summary
