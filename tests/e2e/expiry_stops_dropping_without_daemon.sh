#!/usr/bin/env bash
# --expires is enforced by the data path itself: with no process running, real traffic from a
# blocked country is dropped until the expiry time and passes after it (explain says "expired").
# Afterwards rules_expire() (the daemon's pass) or the next change deletes the expired meeting,
# audited, and frees its ports.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/scripts/testbed.sh"
TB_BIN=$BUILD/tests
COUNT=20

geoip_data || { fail "fetch databases"; summary; exit; }
DB=$GEOBLOCK_DATA_DIR/GeoLite2-Country.mmdb
check "geoip load" "$GEOBLOCK" geoip load "$DB.gz" >/dev/null
declare -A CC
for spec in "DE 4 21" "DE 6 21" "FR 4 21"; do
	read -r cc fam seed <<<"$spec"
	CC[$("$TB_BIN/mmdb_ref" find "$DB" "$cc" "$fam" "$seed")]=$cc
done
CLIENTS=("${!CC[@]}")

testbed_up "gb$$" || { fail "testbed"; summary; exit; }
on_exit testbed_down
for a in "${CLIENTS[@]}"; do
	testbed_add_client "$a" || fail "add client $a"
done
check "attach" in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" >/dev/null
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# An RFC 3339 time a few seconds ahead, and a duration. What must come before an expiry (a round
# of traffic, a refused add, an apply) has seconds to spare: two tests run at once.
soon=$(date -u -d "@$(($(date +%s) + 8))" +%Y-%m-%dT%H:%M:%SZ)
check "add soon (RFC 3339)" "$GEOBLOCK" meeting add soon --ports 8801 --block DE --expires "$soon" >/dev/null
check "add later (duration)" "$GEOBLOCK" meeting add later --ports 8802 --block DE --expires 2h >/dev/null
exp_later=$(date -d "$("$GEOBLOCK" meeting list --json | jq -r '.[] | select(.name == "later") | .expires')" +%s)
check "later expires in 2h" test $((exp_later - $(date +%s))) -ge 7190 -a $((exp_later - $(date +%s))) -le 7200
check_eq "list shows the RFC 3339 expiry" "$soon" \
	"$("$GEOBLOCK" meeting list --json | jq -r '.[] | select(.name == "soon") | .expires')"

# round LABEL SOON_DROPS: DE is dropped on 8802 always, on 8801 only while SOON_DROPS is "yes".
round() {
	check "$1: traffic" send_and_count 8801,8802 9999 "$COUNT" "$tmp/recv" "${CLIENTS[@]}"
	for a in "${CLIENTS[@]}"; do
		for p in 8801 8802; do
			got=$(awk -v s="$a" -v p="$p" '$1 == s && $2 == p { print $3 }' "$tmp/recv")
			if [[ ${CC[$a]} == DE && ($p == 8802 || $2 == yes) ]]; then
				check_eq "$1: ${CC[$a]} $a -> $p dropped" "" "$got"
			else
				check_eq "$1: ${CC[$a]} $a -> $p arrived" "$COUNT" "$got"
			fi
		done
	done
}
DE=$(for a in "${CLIENTS[@]}"; do [[ ${CC[$a]} == DE ]] && echo "$a"; done | head -1)
check_eq "before expiry: explain says dropped" dropped "$("$GEOBLOCK" explain "$DE" 8801 --json | jq -r .verdict)"
round "before expiry" yes
expired() { [[ $("$GEOBLOCK" explain "$DE" 8801 --json | jq -r .verdict) == expired ]]; }
check "explain says expired within 15 s" wait_until 15 expired
check "the expiry time has passed" test "$(date +%s)" -ge "$(date -d "$soon" +%s)"
round "after expiry" no
check_eq "every packet to the expired meeting counted as expired" $((3 * COUNT)) "$("$GEOBLOCK" stats --json | jq .verdicts.expired.packets)"
check_eq "still listed, marked expired (no daemon ran)" true \
	"$("$GEOBLOCK" meeting list --json | jq '.[] | select(.name == "soon") | .expired')"

# The daemon's pass: deletes it, audited, once.
before=$(wc -l <"$GEOBLOCK_STATE_DIR/audit.log")
check_eq "rules_expire deletes one meeting" 1 "$("$TB_BIN/expire_pass")"
check_eq "rules_expire again: none" 0 "$("$TB_BIN/expire_pass")"
check_eq "soon is gone" "later" "$("$GEOBLOCK" meeting list --json | jq -r '.[].name')"
"$GEOBLOCK" restore --print >"$tmp/saved" 2>/dev/null
check_eq "the saved rule set: later alone (soon gone)" later \
	"$(awk '$1 == "meeting" { print $3 }' "$tmp/saved")"
check_eq "one audit line" $((before + 1)) "$(wc -l <"$GEOBLOCK_STATE_DIR/audit.log")"
last=$(tail -1 "$GEOBLOCK_STATE_DIR/audit.log")
check_eq "audit: command" expire "$(jq -r .command <<<"$last")"
check_eq "audit: reason" "expired at $soon" "$(jq -r .reason <<<"$last")"
check_eq "audit: change" "- meeting add soon --ports 8801 --block DE --expires $soon" \
	"$(jq -r '.changes[0]' <<<"$last")"

# Without a daemon, the next change deletes expired meetings first: their ports are free again.
soon2=$(date -u -d "@$(($(date +%s) + 4))" +%Y-%m-%dT%H:%M:%SZ)
check "add soon2" "$GEOBLOCK" meeting add soon2 --ports 8803 --block DE --expires "$soon2" >/dev/null
check "port taken while soon2 runs" bash -c "! '$GEOBLOCK' meeting add taker --ports 8803 --block FR 2>/dev/null"
expired2() { [[ $("$GEOBLOCK" explain "$DE" 8803 --json | jq -r .verdict) == expired ]]; }
check "soon2 expires" wait_until 15 expired2
check "its port is free for the next meeting" "$GEOBLOCK" meeting add taker --ports 8803 --block FR >/dev/null
check_eq "the expiry was audited" "expire" \
	"$(grep -c '"command":"expire".*soon2' "$GEOBLOCK_STATE_DIR/audit.log" | sed 's/^1$/expire/')"
check_eq "rule set: later, taker" "later taker" "$("$GEOBLOCK" meeting list --json | jq -r '[.[].name] | sort | join(" ")')"

# The daemon deletes an expired meeting on its own, with no other command run.
soon3=$(date -u -d "@$(($(date +%s) + 2))" +%Y-%m-%dT%H:%M:%SZ)
check "add soon3" "$GEOBLOCK" meeting add soon3 --ports 8804 --block DE --expires "$soon3" >/dev/null
"$GEOBLOCK" daemon --metrics 127.0.0.1:0 >"$GEOBLOCK_STATE_DIR/../daemon.$$.out" 2>&1 &
daemon=$!
on_exit "kill_child $daemon; rm -f '$GEOBLOCK_STATE_DIR/../daemon.$$.out'"
gone3() { ! "$GEOBLOCK" meeting list --json | jqe '.[] | select(.name == "soon3")' >/dev/null; }
check "the daemon deletes soon3 within 20 s" wait_until 20 gone3
check "after its expiry time" test "$(date +%s)" -ge "$(date -d "$soon3" +%s)"
check "audited as expire" grep -q '"command":"expire".*soon3' "$GEOBLOCK_STATE_DIR/audit.log"
# Another process changes the rules while the daemon runs: the rule set the daemon keeps between
# its passes is read again, and it goes on deleting what expires after.
soon4=$(date -u -d "@$(($(date +%s) + 6))" +%Y-%m-%dT%H:%M:%SZ)
soon5=$(date -u -d "@$(($(date +%s) + 11))" +%Y-%m-%dT%H:%M:%SZ)
{
	saved_rules
	echo "meeting add soon4 --ports 8805 --block DE --expires $soon4"
	echo "meeting add soon5 --ports 8806 --block DE --expires $soon5"
} >"$GEOBLOCK_STATE_DIR/../rules.$$"
on_exit "rm -f '$GEOBLOCK_STATE_DIR/../rules.$$'"
gone45() { [[ $("$GEOBLOCK" meeting list --json | jq -r '[.[].name] | sort | join(" ")') == "later taker" ]]; }
check "add soon4 and soon5 (apply, another process)" quiet "$GEOBLOCK" apply "$GEOBLOCK_STATE_DIR/../rules.$$"
check "the daemon deletes soon4 and soon5 within 30 s" wait_until 30 gone45
check "not before soon5's expiry" test "$(date +%s)" -ge "$(date -d "$soon5" +%s)"
kill_child $daemon
check_eq "the daemon said it deleted 3 expired meetings" 3 \
	"$(awk '/deleted [0-9]+ expired meeting/ { n += $4 } END { print n + 0 }' "$GEOBLOCK_STATE_DIR/../daemon.$$.out")"
summary
