#!/usr/bin/env bash
# Shared ports and ICE ufrags, as the CLI, apply, restore and the API change them: each change is
# in the maps the data path reads (meeting_by_port's shared flag; meeting_by_ufrag's key -> slot,
# ufrag_owner's slot -> meeting), in the saved rule set and the audit log. A port is a meeting's or
# shared, never both; a ufrag is one meeting's; refused input is one line, exit 1, nothing changed.
# A ufrag moved by apply keeps its slot (senders learned for it follow it); one removed frees its
# slot with a new generation (its senders are forgotten). restore after lost pins puts back the
# shared ports and every ufrag. 200,000 ufrags fit in one apply. meeting list's columns line up.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
S=$GEOBLOCK_STATE_DIR
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

printf '192.0.2.0,192.0.2.255,DE\n198.51.100.0,198.51.100.255,FR\n' >"$tmp/table.csv"
"$GEOBLOCK" geoip load --force "$tmp/table.csv" >/dev/null || fail "geoip load"

# The maps as the data path reads them.
port_flags() {
	bpftool -j map lookup pinned "$GEOBLOCK_PIN_DIR/meeting_by_port" key \
		$(printf '0x%02x 0x%02x 0 0' $(($1 & 255)) $(($1 >> 8))) | jq -r .formatted.value.flags
}
# ufrag_key UFRAG: the bytes of its key (length, then the text zero-padded to 32 or 256 bytes).
ufrag_key() {
	local u=$1 i bytes size=32
	((${#u} > 32)) && size=256
	bytes=$(printf '0x%02x 0x%02x 0 0' $((${#u} & 255)) $((${#u} >> 8)))
	for ((i = 0; i < size; i++)); do
		if ((i < ${#u})); then
			bytes+=$(printf ' 0x%02x' "'${u:i:1}")
		else
			bytes+=" 0"
		fi
	done
	echo "$bytes"
}
# slot_of UFRAG: its slot, from meeting_by_ufrag (up to 32 characters) or meeting_by_long_ufrag.
slot_of() {
	local map=meeting_by_ufrag
	((${#1} > 32)) && map=meeting_by_long_ufrag
	bpftool -j map lookup pinned "$GEOBLOCK_PIN_DIR/$map" key $(ufrag_key "$1") \
		2>/dev/null | jq -r '.formatted.value // empty'
}
# slot_field SLOT meeting_id|gen
slot_field() {
	bpftool -j map lookup pinned "$GEOBLOCK_PIN_DIR/ufrag_owner" key \
		$(printf '0x%02x 0x%02x 0x%02x 0' $(($1 & 255)) $((($1 >> 8) & 255)) $(($1 >> 16))) |
		jq -r ".formatted.value.$2"
}
id_of() { "$GEOBLOCK" meeting list --json | jq -r --arg n "$1" '.[] | select(.name == $n) | .id'; }
# owner_of UFRAG: the meeting name the data path finds for it ("" for none).
owner_of() {
	local slot id
	slot=$(slot_of "$1")
	[[ -n $slot ]] || return 0
	id=$(slot_field "$slot" meeting_id)
	"$GEOBLOCK" meeting list --json | jq -r --argjson id "$id" '.[] | select(.id == $id) | .name'
}
ufrags_of() {
	"$GEOBLOCK" meeting list --json | jq -r --arg n "$1" '.[] | select(.name == $n) | .ufrags | join(",")'
}
snapshot() {
	saved_files
	cat "$S/audit.log" "$S/shared-ports" 2>/dev/null
	"$GEOBLOCK" meeting list --json
	"$GEOBLOCK" shared-port list --json | jq -c .ports
	ls -a "$S"
}
last_audit() { tail -n1 "$S/audit.log"; }

# ufrags given while no port is shared match nothing yet: taken, with a warning.
"$GEOBLOCK" meeting add early --ufrag Ea11 --block DE >/dev/null 2>"$tmp/err"
check_eq "meeting add --ufrag, no shared port: taken, warned" "0 geoblock: meeting add: warning: meeting early: no port is shared, so its ufrags match no packet yet (geoblock shared-port add PORTS)" "$? $(cat "$tmp/err")"
"$GEOBLOCK" meeting ufrag add early Ea22 >/dev/null 2>"$tmp/err"
check_eq "meeting ufrag add, no shared port: warned" "0 geoblock: meeting ufrag add: warning: meeting early: no port is shared, so its ufrags match no packet yet (geoblock shared-port add PORTS)" "$? $(cat "$tmp/err")"
printf 'meeting add early --ufrag Ea11 --block DE\n' >"$tmp/early"
"$GEOBLOCK" apply "$tmp/early" >/dev/null 2>"$tmp/err"
check_eq "apply of ufrags, no shared port: warned" "0 geoblock: apply: warning: $tmp/early: no port is shared, so its ufrags match no packet yet (geoblock shared-port add PORTS)" "$? $(cat "$tmp/err")"
"$GEOBLOCK" meeting add noufrag --ports 9999 --block DE >/dev/null 2>"$tmp/err"
check_eq "meeting add without ufrags, no shared port: no warning" "0 " "$? $(cat "$tmp/err")"
"$GEOBLOCK" meeting del early >/dev/null && "$GEOBLOCK" meeting del noufrag >/dev/null
# ... and the API says so in the reply's warnings.
api_daemon "$tmp/api0.sock"
api0() { curl -s --unix-socket "$tmp/api0.sock" -X "$1" "http://geoblock$2" -d "$3"; }
unshared='no port is shared, so its ufrags match no packet yet (geoblock shared-port add PORTS)'
out=$(api0 PUT /v1/meetings/early '{"ufrags":["Ea11"],"block":["DE"]}')
check_eq "API PUT with ufrags, no shared port: taken, warned" "[\"meeting early: $unshared\"] true" \
	"$(jq -c .warnings <<<"$out") $(jq .created <<<"$out")"
out=$(api0 POST /v1/meetings/early/ufrags '{"add":["Ea22"]}')
check_eq "API POST ufrags add, no shared port: warned" "[\"meeting early: $unshared\"] 1" \
	"$(jq -c .warnings <<<"$out") $(jq .added <<<"$out")"
out=$(api0 POST /v1/meetings/early/ufrags '{"remove":["Ea22"]}')
check_eq "API POST ufrags remove: no warning" "[] 1" \
	"$(jq -c .warnings <<<"$out") $(jq .removed <<<"$out")"
out=$(api0 POST /v1/apply '{"meetings":[{"name":"early","ufrags":["Ea11"],"block":["DE"]}],"check":true}')
check_eq "API apply of ufrags, no shared port: warned" "[\"the body: $unshared\"]" \
	"$(jq -c .warnings <<<"$out")"
out=$(api0 PUT /v1/meetings/noufrag '{"ports":[9999],"block":["DE"]}')
check_eq "API PUT without ufrags, no shared port: no warning" "[]" "$(jq -c .warnings <<<"$out")"
kill_child "$pid"
"$GEOBLOCK" meeting del early >/dev/null && "$GEOBLOCK" meeting del noufrag >/dev/null

# Shared ports.
out=$("$GEOBLOCK" shared-port add 10000,8801-8803 --reason "jvb and mmr" 2>&1)
check_eq "shared-port add: exit" 0 $?
check_eq "shared-port add: said" "shared ports: 8801-8803,10000 (4 added)" "$out"
for p in 8801 8803 10000; do
	check_eq "shared-port add: $p flagged shared in meeting_by_port" 1 "$(port_flags $p)"
done
check_eq "shared-port add: 8804 not shared" 0 "$(port_flags 8804)"
check_eq "shared-port add: saved" "8801-8803,10000" "$(grep -v '^#' "$S/shared-ports")"
check_eq "shared-port add: audited" "jvb and mmr|- shared ports none|+ shared ports 8801-8803,10000" \
	"$(last_audit | jq -r '[.reason, .changes[]] | join("|")')"
check_eq "shared-port list --json" '["8801-8803","10000"]' \
	"$("$GEOBLOCK" shared-port list --json | jq -c .ports)"
out=$("$GEOBLOCK" shared-port del 8802-8803 2>&1)
check_eq "shared-port del: said" "shared ports: 8801,10000 (2 removed)" "$out"
check_eq "shared-port del: 8802 no longer shared" 0 "$(port_flags 8802)"

# Meetings with ufrags.
"$GEOBLOCK" meeting add jvb-a --ufrag x7Qp,A1b2c3d4e5f6g7h8 --block DE >"$tmp/out" 2>&1
check_eq "meeting add --ufrag, no ports: exit" 0 $?
check_eq "meeting add --ufrag: said" "meeting jvb-a added: 0 ports (udp), 2 ufrags, blocking DE" \
	"$(head -n1 "$tmp/out")"
"$GEOBLOCK" meeting add jvb-b --ufrag Zz9+/abc --ports 9000 --block FR >/dev/null 2>&1
check_eq "meeting add --ufrag --ports: exit" 0 $?
check_eq "ufrag x7Qp is jvb-a's in the maps" jvb-a "$(owner_of x7Qp)"
check_eq "ufrag Zz9+/abc is jvb-b's in the maps" jvb-b "$(owner_of Zz9+/abc)"
check_eq "meeting list --json ufrags" "A1b2c3d4e5f6g7h8,x7Qp" "$(ufrags_of jvb-a)"
check_eq "saved lines" "meeting add jvb-a --ufrag A1b2c3d4e5f6g7h8,x7Qp --block DE
meeting add jvb-b --ports 9000 --ufrag Zz9+/abc --block FR" "$(saved_rules)"
check_eq "meeting list shows the ufrags" "A1b2c3d4e5f6g7h8,x7Qp" \
	"$("$GEOBLOCK" meeting list | awk '$1 == "jvb-a" { print $NF }')"
long=$(printf 'u%.0s' {1..256})
"$GEOBLOCK" meeting add longest --ufrag "$long" --block DE >/dev/null 2>&1
check_eq "a 256-character ufrag is taken" longest "$(owner_of "$long")"
u32=$(printf 'v%.0s' {1..32})
u33=$(printf 'w%.0s' {1..33})
"$GEOBLOCK" meeting ufrag add longest "$u32,$u33" >/dev/null 2>&1
check_eq "a 32-character ufrag, keyed short" longest "$(owner_of "$u32")"
check_eq "a 33-character ufrag, keyed long" longest "$(owner_of "$u33")"

# explain on a shared port: a Binding Request naming a ufrag is its meeting's; others pass.
xv() { "$GEOBLOCK" explain "$@" --json | jq -r '[.verdict, .meeting // "-", .shared] | join(" ")'; }
check_eq "explain --ufrag of jvb-a from DE" "dropped jvb-a true" "$(xv 192.0.2.1 10000 --ufrag x7Qp)"
check_eq "explain --ufrag of jvb-a from FR" "not_blocked jvb-a true" \
	"$(xv 198.51.100.1 10000 --ufrag x7Qp)"
check_eq "explain --ufrag of jvb-b from FR" "dropped jvb-b true" \
	"$(xv 198.51.100.1 10000 --ufrag Zz9+/abc)"
check_eq "explain --ufrag no meeting has" "ice_unknown_ufrag - true" \
	"$(xv 192.0.2.1 10000 --ufrag nobodys)"
check_eq "explain without --ufrag: an unlearned sender" "ice_unknown_sender - true" \
	"$(xv 192.0.2.1 10000)"
check_eq "explain TCP to a shared port" "no_meeting - true" "$(xv 192.0.2.1 10000 --proto tcp)"
check_eq "explain a meeting's port (not shared)" "dropped jvb-b false" "$(xv 198.51.100.1 9000)"
"$GEOBLOCK" explain 192.0.2.1 10000 --ufrag x7Qp --proto tcp >"$tmp/out" 2>"$tmp/err"
check_eq "explain --ufrag over TCP: refused" "1 geoblock: explain: a ufrag explains a STUN Binding Request, which is UDP, not tcp" \
	"$? $(cat "$tmp/err")"
"$GEOBLOCK" meeting add portsdel --ports 9444 --ufrag Pd11 --block DE >/dev/null
check_eq "meeting ports del of its last port: ports none" "meeting portsdel: ports none (1 removed)" \
	"$("$GEOBLOCK" meeting ports del portsdel 9444)"
"$GEOBLOCK" meeting del portsdel >/dev/null
"$GEOBLOCK" explain 192.0.2.1 9000 --ufrag x7Qp >"$tmp/out" 2>"$tmp/err"
check_eq "explain --ufrag to a port not shared: exit" 1 $?
check_eq "explain --ufrag to a port not shared: one line" \
	"geoblock: explain: port 9000 is not a shared port: --ufrag explains a Binding Request to one; see 'geoblock shared-port list'" \
	"$(cat "$tmp/err")"
# explain --sport: a sender's media, its meeting the one its way is bound to (the learned case
# is tests/e2e/shared_port_ice_real_clients.sh's, with real ICE stacks); none learned here.
check_eq "explain --sport of a sender none named" "ice_unknown_sender - false - 5000" \
	"$("$GEOBLOCK" explain 192.0.2.1 10000 --sport 5000 --json |
		jq -r '[.verdict, .meeting // "-", .sender.learned, .sender.ufrag // "-", .sport] |
			join(" ")')"
check_eq "explain --sport of an IPv4-mapped sender: as IPv4 (a dual-stack server's log)" \
	"192.0.2.0/24" "$("$GEOBLOCK" explain ::ffff:192.0.2.1 10000 --sport 5000 --json | jq -r .network)"
check_eq "explain without --sport: no sender" "null null" \
	"$("$GEOBLOCK" explain 192.0.2.1 10000 --json | jq -c '[.sport, .sender]' | tr -d '[]' |
		tr ',' ' ')"
for args in "9000 --sport 5000|port 9000 is not a shared port: --sport explains a learned sender's packets to one; see 'geoblock shared-port list'" \
	"10000 --sport 5000 --ufrag x7Qp|a source port explains a learned sender's packets to a shared port, which are UDP and not Binding Requests: not with a ufrag" \
	"10000 --sport 5000 --proto tcp|a source port explains a learned sender's packets to a shared port, which are UDP and not Binding Requests: not with tcp" \
	"10000 --sport 65536|\"65536\" is not a source port (1-65535)" \
	"10000 --sport x|\"x\" is not a source port (1-65535)"; do
	# shellcheck disable=SC2086
	"$GEOBLOCK" explain 192.0.2.1 ${args%%|*} >"$tmp/out" 2>"$tmp/err"
	check_eq "explain ${args%%|*}: exit 1, one line" "1 geoblock: explain: ${args#*|}" \
		"$? $(cat "$tmp/err")"
done

refused "geoblock: meeting add: \"x7Q\" is not an ICE ufrag: it has 3 characters, not 4-256 (the server's ice-ufrag of the SDP)" \
	meeting add short --ufrag x7Q --block DE
refused "geoblock: meeting add: \"${long:0:64}...\" is not an ICE ufrag: it has 257 characters, not 4-256 (the server's ice-ufrag of the SDP)" \
	meeting add toolong --ufrag "${long}u" --block DE
# explain's arguments, as every command's, shown as one line.
"$GEOBLOCK" explain 192.0.2.1 $'100\n00' >"$tmp/out" 2>"$tmp/err"
check_eq "explain, a port with a newline: one line" \
	'geoblock: explain: "100\x0a00" is not a port (1-65535)' "$(cat "$tmp/err")"
"$GEOBLOCK" explain 192.0.2.1 10000 --ufrag $'ab\e[31mX' >"$tmp/out" 2>"$tmp/err"
check_eq "explain, a ufrag with an escape: one line" \
	"geoblock: explain: \"ab\\x1b[31mX\" is not an ICE ufrag: use 4-256 letters, digits, '+', '/' (the server's ice-ufrag of the SDP)" \
	"$(cat "$tmp/err")"
refused "geoblock: meeting add: \"ab:cd\" is not an ICE ufrag: use 4-256 letters, digits, '+', '/' (the server's ice-ufrag of the SDP)" \
	meeting add colon --ufrag ab:cd --block DE
refused "geoblock: meeting add: --ufrag needs udp in --proto: ufrags tell meetings apart on shared ports, which are UDP" \
	meeting add tcponly --ufrag Tcp1 --proto tcp --block DE
refused 'geoblock: meeting add: ufrag x7Qp already belongs to meeting "jvb-a"' \
	meeting add other --ufrag x7Qp --block FR
refused "geoblock: meeting add: port 10000 is a shared port (its meetings are told apart by ufrag); give meeting \"other\" --ufrag instead, or 'shared-port del 10000'" \
	meeting add other --ports 10000 --block FR
refused 'geoblock: meeting add: --block and --ports, --ufrag or --janus-room are required; see -h' \
	meeting add other --block FR
refused 'geoblock: shared-port add: port 9000 belongs to meeting "jvb-b"; a port is either a meeting'"'"'s or shared' \
	shared-port add 9000
refused "geoblock: shared-port del: port 9000 is not a shared port; see 'geoblock shared-port list'" \
	shared-port del 9000
refused 'geoblock: meeting ports add: port 10000 is a shared port (its meetings are told apart by ufrag); give the meeting a ufrag instead, or '"'"'shared-port del'"'"' it' \
	meeting ports add jvb-b 10000
refused 'geoblock: meeting ufrag add: ufrag Zz9+/abc already belongs to meeting "jvb-b"' \
	meeting ufrag add jvb-a Zz9+/abc
refused 'geoblock: meeting ufrag del: ufrag Zz9+/abc does not belong to meeting "jvb-a"' \
	meeting ufrag del jvb-a Zz9+/abc
refused 'geoblock: meeting ufrag del: meeting "longest" would have no port or ufrag left; delete the meeting instead' \
	meeting ufrag del longest "$long,$u32,$u33"
refused "geoblock: meeting ufrag add: no meeting \"nope\"; see 'geoblock meeting list'" \
	meeting ufrag add nope abcd
"$GEOBLOCK" meeting add tlsonly --ports 9443 --proto tcp --block DE >/dev/null
refused 'geoblock: meeting ufrag add: meeting "tlsonly" covers tcp only: ufrags tell meetings apart on shared ports, which are UDP' \
	meeting ufrag add tlsonly Tls1
"$GEOBLOCK" meeting del tlsonly >/dev/null

# ufrag add and del change the meeting in place.
id_a=$(id_of jvb-a)
slot_x7=$(slot_of x7Qp)
gen_x7=$(slot_field "$slot_x7" gen)
out=$("$GEOBLOCK" meeting ufrag add jvb-a new1,x7Qp --reason more 2>&1)
check_eq "ufrag add: said" "meeting jvb-a: 1 ufrag added (the others were its own)" "$out"
check_eq "ufrag add: new1 is jvb-a's" jvb-a "$(owner_of new1)"
check_eq "ufrag add: same meeting id" "$id_a" "$(id_of jvb-a)"
check_eq "ufrag add: x7Qp kept its slot" "$slot_x7" "$(slot_of x7Qp)"
check_eq "ufrag add: audited" "- meeting add jvb-a --ufrag A1b2c3d4e5f6g7h8,x7Qp --block DE|+ meeting add jvb-a --ufrag A1b2c3d4e5f6g7h8,new1,x7Qp --block DE" \
	"$(last_audit | jq -r '.changes | join("|")')"
out=$("$GEOBLOCK" meeting ufrag del jvb-a x7Qp 2>&1)
check_eq "ufrag del: said" "meeting jvb-a: 1 ufrag removed" "$out"
check_eq "ufrag del: x7Qp has no key" "" "$(slot_of x7Qp)"
check_eq "ufrag del: its slot is free" 0 "$(slot_field "$slot_x7" meeting_id)"
check_eq "ufrag del: its slot's generation moved on" $((gen_x7 + 1)) "$(slot_field "$slot_x7" gen)"
check_eq "ufrag changes: maps and saved set agree" "" "$(differs)"
# One that died before its end (its "done", the log's last line, cut off): the next command
# takes the ufrag back in place, the meeting's id (and counters) kept.
"$GEOBLOCK" meeting ufrag add jvb-a cut9 >/dev/null 2>&1 || fail "meeting ufrag add jvb-a cut9"
head -n -1 "$S/rules.log" >"$tmp/log" && cat "$tmp/log" >"$S/rules.log"
"$GEOBLOCK" meeting del nosuch >"$tmp/out" 2>&1
check "died before its end: the next command rolls it back" \
	grep -q "an interrupted change was rolled back" "$tmp/out"
check_eq "died before its end: cut9 has no key" "" "$(slot_of cut9)"
check_eq "died before its end: jvb-a keeps its id" "$id_a" "$(id_of jvb-a)"
check_eq "died before its end: maps and saved set agree" "" "$(differs)"

# apply: a ufrag moves from one meeting to a new one in place (its slot kept).
slot_new1=$(slot_of new1) id_a=$(id_of jvb-a)
cat >"$tmp/set" <<'EOF'
meeting add jvb-a --ufrag A1b2c3d4e5f6g7h8 --block DE
meeting add jvb-c --ufrag new1,fresh --block DE,FR
meeting add jvb-b --ports 9000 --ufrag Zz9+/abc --block FR
EOF
"$GEOBLOCK" apply "$tmp/set" >/dev/null 2>&1
check_eq "apply: exit" 0 $?
check_eq "apply: new1 moved to jvb-c" jvb-c "$(owner_of new1)"
check_eq "apply: new1 kept its slot" "$slot_new1" "$(slot_of new1)"
check_eq "apply: jvb-a, its ufrags alone changed, changed in place" "$id_a" "$(id_of jvb-a)"
check_eq "apply: fresh is jvb-c's" jvb-c "$(owner_of fresh)"
check_eq "apply: longest's ufrag gone with it" "" "$(slot_of "$long")"
check_eq "apply: the file is the rule set" "" "$(differs)"
printf 'meeting add x --ports 10000 --block DE\n' >"$tmp/bad"
refused "geoblock: apply: $tmp/bad line 1: port 10000 is a shared port (its meetings are told apart by ufrag); use --ufrag, or 'shared-port del 10000' first" \
	apply "$tmp/bad"
printf 'meeting add x --ufrag dupl --block DE\nmeeting add y --ufrag dupl --block FR\n' >"$tmp/bad"
refused "geoblock: apply: $tmp/bad line 2: ufrag dupl already belongs to meeting \"x\" (line 1)" \
	apply "$tmp/bad"

# The API: a spec with ufrags, and POST .../ufrags.
api_daemon "$tmp/api.sock"
api() { curl -s --unix-socket "$tmp/api.sock" -X "$1" "http://geoblock$2" ${3:+-d "$3"}; }
out=$(api PUT /v1/meetings/lk '{"ufrags":["RMroom1","RMroom2"],"block":["FR"]}')
check_eq "API PUT with ufrags" '["RMroom1","RMroom2"]' "$(jq -c .meeting.ufrags <<<"$out")"
check_eq "API PUT with ufrags, ports shared: no warning" '[]' "$(jq -c .warnings <<<"$out")"
check_eq "API PUT: lk's in the maps" lk "$(owner_of RMroom2)"
out=$(api POST /v1/meetings/lk/ufrags '{"add":["RMroom3"],"remove":["RMroom1"]}')
check_eq "API POST ufrags" '{"name":"lk","ufrags":["RMroom2","RMroom3"],"added":1,"removed":1}' \
	"$(jq -c '{name, ufrags, added, removed}' <<<"$out")"
check_eq "API POST ufrags, ports shared: no warning" '[]' "$(jq -c .warnings <<<"$out")"
check_eq "API POST ufrags: RMroom1 gone" "" "$(slot_of RMroom1)"
check_eq "API GET shows ufrags" '["RMroom2","RMroom3"]' "$(api GET /v1/meetings/lk | jq -c .ufrags)"
out=$(api POST /v1/meetings/lk/ufrags '{"add":["Zz9+/abc"]}')
check_eq "API POST ufrags of another meeting: refused" 'ufrag Zz9+/abc already belongs to meeting "jvb-b"' \
	"$(jq -r .error <<<"$out")"
# Ambiguous or wrong lists: 400, nothing changed, nothing audited.
api_code() { curl -s -o "$tmp/body" -w '%{http_code}' --unix-socket "$tmp/api.sock" -X "$1" \
	"http://geoblock$2" -d "$3"; }
audited=$(wc -l <"$S/audit.log")
check_eq "API POST ufrags, one both added and removed: 400" 400 \
	"$(api_code POST /v1/meetings/lk/ufrags '{"add":["RMroom2","RMroom4"],"remove":["RMroom2"]}')"
check_eq "API POST ufrags, one both added and removed: said" \
	'ufrag RMroom2 is both in "add" and in "remove"' "$(jq -r .error "$tmp/body")"
check_eq "API POST ufrags, one not its own removed: 400" 400 \
	"$(api_code POST /v1/meetings/lk/ufrags '{"remove":["RMroom9"]}')"
check_eq "API POST ufrags, one not its own removed: said" \
	'ufrag RMroom9 does not belong to meeting "lk"' "$(jq -r .error "$tmp/body")"
check_eq "API POST ports, one both added and removed: 400" 400 \
	"$(api_code POST /v1/meetings/jvb-b/ports '{"add":[9001],"remove":[9001]}')"
check_eq "API POST ports, one both added and removed: said" \
	'port 9001 is both in "add" and in "remove"' "$(jq -r .error "$tmp/body")"
check_eq "API refusals: lk unchanged" '["RMroom2","RMroom3"]' "$(api GET /v1/meetings/lk | jq -c .ufrags)"
check_eq "API refusals: jvb-b's ports unchanged" '["9000"]' "$(api GET /v1/meetings/jvb-b | jq -c .ports)"
check_eq "API apply, a ufrag in two meetings: the later named" \
	'meeting "b": ufrag Aa11 already belongs to meeting "a"' \
	"$(api POST /v1/apply '{"meetings":[{"name":"a","ufrags":["Aa11"],"block":["DE"]},{"name":"b","ufrags":["Aa11"],"block":["FR"]}],"check":true}' | jq -r .error)"
check_eq "API refusals: none audited" "$audited" "$(wc -l <"$S/audit.log")"
check_eq "API explain, a protocol with an escape: 400" 400 \
	"$(curl -s -o "$tmp/body" -w '%{http_code}' --unix-socket "$tmp/api.sock" \
		'http://geoblock/v1/explain?addr=192.0.2.1&port=10000&proto=u%1Bdp')"
check_eq "API explain, a protocol with an escape: shown" '"u\x1bdp" is not a protocol: udp or tcp' \
	"$(jq -r .error "$tmp/body")"
check_eq "API explain, a port with a newline: shown" '"100\x0a00" is not a port (1-65535)' \
	"$(curl -s --unix-socket "$tmp/api.sock" \
		'http://geoblock/v1/explain?addr=192.0.2.1&port=100%0A00' | jq -r .error)"
# The round trip of a ufrag-only meeting: its "ports":[] beside ufrags is none.
spec=$(api GET /v1/meetings/lk)
out=$(api PUT /v1/meetings/lk "$spec")
check_eq "API PUT of its own GET: unchanged" '["RMroom2","RMroom3"]' "$(jq -c .meeting.ufrags <<<"$out")"
# A meeting of 70,000 ufrags (more items than ports, a list past 458 KB, a body under 1 MiB):
# PUT, and its own GET PUT back with another country (a policy is changed by a replace).
/usr/bin/python3 -c 'import json, sys; json.dump({"ufrags": ["bg%06d" % k for k in range(70000)],
	"block": ["DE"]}, sys.stdout)' >"$tmp/big.json"
put_file() { curl -s --unix-socket "$tmp/api.sock" -X PUT "http://geoblock$1" --data-binary "@$2"; }
check_eq "API PUT of 70,000 ufrags" 70000 \
	"$(put_file /v1/meetings/big70k "$tmp/big.json" | jq '.meeting.ufrags | length')"
api GET /v1/meetings/big70k | jq -c '.block = ["FR"]' >"$tmp/big2.json"
check_eq "... its own GET, another country, PUT back" "70000 FR" \
	"$(put_file /v1/meetings/big70k "$tmp/big2.json" |
		jq -r '"\(.meeting.ufrags | length) \(.meeting.block | join(","))"')"
check "... deleted" quiet api DELETE /v1/meetings/big70k
kill_child "$pid"

check_eq "restore --print: the shared ports as a comment" \
	"# shared ports: 8801,10000 (geoblock shared-port add 8801,10000)" \
	"$("$GEOBLOCK" restore --print | grep '^#')"
"$GEOBLOCK" restore --print >"$tmp/printed"
check_eq "restore --print: apply takes it" 0 "$("$GEOBLOCK" apply --check "$tmp/printed" >/dev/null 2>&1; echo $?)"
printf 'shared-port add 10001\n' >"$tmp/bad"
refused "geoblock: apply: $tmp/bad line 1: shared ports are not a file's: 'geoblock shared-port add' them, then apply meetings with --ufrag" \
	apply "$tmp/bad"
# Lost pins: restore puts back the shared ports and every ufrag.
before=$("$GEOBLOCK" meeting list --json | jq -c 'map({name, ports, ufrags}) | sort_by(.name)')
rm -rf "$GEOBLOCK_PIN_DIR"
"$GEOBLOCK" restore >"$tmp/out" 2>&1
check_eq "restore: exit" 0 $?
check_eq "restore: says the shared ports" "shared ports: 8801,10000" \
	"$(grep '^shared ports' "$tmp/out")"
check_eq "restore: 10000 shared again" 1 "$(port_flags 10000)"
check_eq "restore: meetings and ufrags" "$before" \
	"$("$GEOBLOCK" meeting list --json | jq -c 'map({name, ports, ufrags}) | sort_by(.name)')"
check_eq "restore: fresh is jvb-c's in the maps" jvb-c "$(owner_of fresh)"
# A damaged item in the shared-ports file is left out, named; the others are shared again.
cp "$GEOBLOCK_STATE_DIR/shared-ports" "$tmp/shared-ports.good"
# Without a reboot (the maps hold shared ports), a damaged file takes none away.
printf '8801,fo0\n' >"$GEOBLOCK_STATE_DIR/shared-ports"
"$GEOBLOCK" restore >/dev/null 2>&1
check_eq "restore of a damaged file, maps in place: exit 2" 2 $?
check_eq "... 10000, live and not in the file, still shared" "1 1" \
	"$(port_flags 8801) $(port_flags 10000)"
printf '8801,foo,10000 \n70000\n' >"$GEOBLOCK_STATE_DIR/shared-ports"
"$GEOBLOCK" restore --print >"$tmp/printed2" 2>/dev/null
check_eq "restore --print of a damaged file: exit 2" 2 $?
check_eq "... the rest printed" "# shared ports: 8801,10000 (geoblock shared-port add 8801,10000)" \
	"$(grep '^#' "$tmp/printed2")"
rm -rf "$GEOBLOCK_PIN_DIR"
"$GEOBLOCK" restore >"$tmp/out" 2>"$tmp/err"
check_eq "restore of a damaged shared-ports file: exit 2" 2 $?
check_eq "... each damaged item named" \
	"geoblock: restore: $GEOBLOCK_STATE_DIR/shared-ports: \"foo\" is not a port or port range (e.g. 8801,8802-8810); left out
geoblock: restore: $GEOBLOCK_STATE_DIR/shared-ports: port \"70000\" is out of range 1-65535; left out" \
	"$(grep 'left out' "$tmp/err")"
check_eq "... the others shared again" "1 1" "$(port_flags 8801) $(port_flags 10000)"
check_eq "... meetings and ufrags" "$before" \
	"$("$GEOBLOCK" meeting list --json | jq -c 'map({name, ports, ufrags}) | sort_by(.name)')"
cp "$tmp/shared-ports.good" "$GEOBLOCK_STATE_DIR/shared-ports"
# A shared port a saved meeting has (a geoblock without shared ports gave it to a meeting since,
# say): the meeting's, the port left out and named, and out of the file.
printf '8801,9000,10000\n' >"$GEOBLOCK_STATE_DIR/shared-ports"
"$GEOBLOCK" restore --print >/dev/null 2>"$tmp/err"
check_eq "restore --print of a shared port a meeting has: exit 2, named" \
	"2 geoblock: restore: shared port 9000 left out: meeting \"jvb-b\" of the saved rule set has it; a port is either a meeting's or shared" \
	"$? $(cat "$tmp/err")"
rm -rf "$GEOBLOCK_PIN_DIR"
"$GEOBLOCK" restore >"$tmp/out" 2>"$tmp/err"
check_eq "restore of a shared port a meeting has: exit 2, named" \
	"2 geoblock: restore: shared port 9000 left out: meeting \"jvb-b\" of the saved rule set has it; a port is either a meeting's or shared" \
	"$? $(grep 'left out' "$tmp/err")"
check_eq "... 9000 is jvb-b's, the others shared" "jvb-b false 1 1" \
	"$("$GEOBLOCK" explain 198.51.100.1 9000 --json | jq -r '"\(.meeting) \(.shared)"') $(port_flags 8801) $(port_flags 10000)"
check_eq "... the file says so now" "8801,10000" "$(grep -v '^#' "$GEOBLOCK_STATE_DIR/shared-ports")"
check "... and the next restore agrees" "$GEOBLOCK" restore >/dev/null 2>&1

# 200,000 ufrags in one apply (1,000 meetings of 200), and the data path's keys for them.
/usr/bin/python3 - "$tmp/many" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for m in range(1000):
        us = ",".join("m%04du%03d" % (m, k) for k in range(200))
        f.write("meeting add many%04d --ufrag %s --block DE\n" % (m, us))
EOF
"$GEOBLOCK" apply "$tmp/many" >/dev/null 2>"$tmp/err"
check_eq "200,000 ufrags: apply exit" 0 $?
check_eq "200,000 ufrags: counted" 200000 "$("$GEOBLOCK" shared-port list --json | jq .ufrags)"
check_eq "200,000 ufrags: keys in meeting_by_ufrag" 200000 \
	"$(bpftool -j map dump pinned "$GEOBLOCK_PIN_DIR/meeting_by_ufrag" | jq length)"
check_eq "200,000 ufrags: the last one's meeting" many0999 "$(owner_of m0999u199)"
check_eq "200,000 ufrags: the earlier set's ufrags are gone" "" "$(slot_of fresh)"
check_eq "200,000 ufrags: saved" "" "$(differs)"

# A slot freed and given again gets a generation of its own: a sender a Binding Request bound to
# it in between (its meeting read before the free, its generation after) names no ufrag then.
# The slots below gAAA's were taken when it was given (the lowest free), so gCCC gets gAAA's.
quiet "$GEOBLOCK" meeting add regen --ufrag gAAA,gBBB --block DE
slot_g=$(slot_of gAAA)
gen_g=$(slot_field "$slot_g" gen)
quiet "$GEOBLOCK" meeting ufrag del regen gAAA
quiet "$GEOBLOCK" meeting ufrag add regen gCCC
check_eq "a freed slot given again" "$slot_g" "$(slot_of gCCC)"
check_eq "... its generation raised past the free's" $((gen_g + 2)) "$(slot_field "$slot_g" gen)"
quiet "$GEOBLOCK" meeting del regen

# A meeting of Janus rooms may lose its last ufrag, as it may its last port.
quiet "$GEOBLOCK" meeting add jr --ufrag jrjr1 --janus-room 77001 --block DE
out=$("$GEOBLOCK" meeting ufrag del jr jrjr1 2>&1)
check_eq "ufrag del: the last of a meeting with rooms" "0 meeting jr: 1 ufrag removed" "$? $out"
check_eq "... its rooms kept" '{"ufrags":[],"janus_rooms":[77001]}' "$("$GEOBLOCK" meeting list \
	--json | jq -c '.[] | select(.name == "jr") | {ufrags, janus_rooms}')"
check_eq "... saved so" "meeting add jr --janus-room 77001 --block DE" \
	"$(saved_rules | grep '^meeting add jr ')"
quiet "$GEOBLOCK" meeting del jr

# A change cut short between the saved shared ports and the maps (killed after the file's write):
# the next shared-port command saves the maps' set, even one that changes nothing, so that
# restore puts back what is listed.
live=$("$GEOBLOCK" shared-port list --json | jq -c .ports)
first=$("$GEOBLOCK" shared-port list --json | jq -r '.ports[0]' | cut -d- -f1)
printf '# cut short\n' >"$S/shared-ports"
out=$("$GEOBLOCK" shared-port add "$first" 2>&1)
check_eq "shared-port add of a shared port, the saved set emptied: exit 0" 0 "$?"
check "... says it saved the maps' set" grep -q "warning: the saved shared ports were not those of the maps (a change cut short?): saved the maps' set" <<<"$out"
check_eq "... saved again" "$(jq -r 'join(",")' <<<"$live")" "$(grep -v '^#' "$S/shared-ports")"
out=$("$GEOBLOCK" shared-port add "$first" 2>&1)
check_eq "... once: the next says nothing of it" \
	"shared ports: $(jq -r 'join(",")' <<<"$live") (0 added)" "$out"

# meeting list's text: every column starts where its name does, whatever the widths of the
# exceptions, rooms and ufrags (the last column, which may hold spaces, aside).
"$GEOBLOCK" meeting add wide --ports 7000 --block DE --allow 192.0.2.0/28,198.51.100.7 \
	>/dev/null 2>&1
"$GEOBLOCK" meeting list >"$tmp/list"
check_eq "meeting list: the ufrags column of a meeting of 200" \
	"m0000u000,m0000u001,m0000u002,m0000u003 (+196 more)" \
	"$(awk '$1 == "many0000" { print $10, $11, $12 }' "$tmp/list")"
check "meeting list: columns line up under their names" awk '
	# starts: where each of the first n fields of line begins
	function starts(line, s, n,    pos, f) {
		pos = 1
		for (f = 1; f <= n && match(substr(line, pos), /[^ ]+/); f++) {
			s[f] = pos + RSTART - 1
			pos += RSTART + RLENGTH - 1
		}
		return f - 1
	}
	NR == 1 { n = starts($0, head, 10); next }
	/^!/ { next }
	{
		if (starts($0, at, n) != n) { print "line " NR ": fewer fields"; bad = 1 }
		for (i = 1; i <= n; i++)
			if (at[i] != head[i]) {
				print "line " NR " column " i ": at " at[i] ", its name at " head[i]
				bad = 1
			}
	}
	END { exit bad }' "$tmp/list"
summary
