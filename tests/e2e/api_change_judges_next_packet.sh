#!/usr/bin/env bash
# A packet sent right after an API change's 200 is judged by the new rule, on real traffic over a
# veth between two namespaces (geoblock attached natively on the server side, the daemon serving
# --api in the server's namespace). 20 rounds, alternately: PUT a meeting blocking France on a
# fresh port, or POST that port into a standing meeting's ports; right after the 200 a French
# client's datagram to that port is dropped (nothing arrives, the pair's drop counter is up by
# one) while a German client's arrives; then DELETE the meeting, or remove the port, and right
# after that 200 the French datagram arrives and no counter moves.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/scripts/testbed.sh"
TB_BIN=$BUILD/tests
ROUNDS=20
END_PORT=9999
FR=198.51.100.7
DE=203.0.113.9
[[ -x $GEOBLOCK && -x $TB_BIN/udp_send && -x $TB_BIN/udp_recv ]] ||
	{ fail "no $GEOBLOCK or test helpers (build them first)"; summary; exit; }
tmp=$(mktemp -d /tmp/gbnext.XXXXXX)
on_exit rm -rf "$tmp"
SOCK=$tmp/api.sock

printf '198.51.100.0,198.51.100.255,FR\n203.0.113.0,203.0.113.255,DE\n' >"$tmp/table.csv"
"$GEOBLOCK" geoip load --force "$tmp/table.csv" >/dev/null || fail "geoip load"
testbed_up "gn$$" || { fail "testbed"; summary; exit; }
on_exit testbed_down
testbed_add_client "$FR" || fail "add client $FR"
testbed_add_client "$DE" || fail "add client $DE"
check "attach native" in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" --mode native >/dev/null

# nsenter, not the in_ns function: a function in the background is a subshell, and stopping it
# would leave the daemon running.
api_daemon "$SOCK" nsenter --net="/run/netns/$TB_DST"

# api METHOD PATH [BODY]: the status alone.
api() {
	local args=(-s --max-time 10 --unix-socket "$SOCK" -X "$1" -o "$tmp/reply" -w '%{http_code}')
	[[ $# -gt 2 ]] && args+=(--data-binary "$3")
	curl "${args[@]}" "http://geoblock$2"
}
# drops MEETING: the (MEETING, FR) drop counter, as GET /v1/stats gives it.
drops() {
	curl -s --unix-socket "$SOCK" http://geoblock/v1/stats |
		jq --arg m "$1" '[.drops[] | select(.meeting == $m and .country == "FR") | .packets] |
			add // 0'
}
# change_then_send PORT METHOD PATH [BODY]: with a receiver on PORT ready, the request, then at
# once one datagram from each client; prints the status, then what arrived from each ("FR DE").
change_then_send() {
	local port=$1 fd code rpid ready
	shift
	exec {fd}< <(in_ns "$TB_DST" "$TB_BIN/udp_recv" "$port" "$END_PORT" 2 "$tmp/recv")
	rpid=$!
	read -r -t 10 ready <&"$fd"
	[[ $ready == ready ]] || { echo "receiver did not start"; return 1; }
	code=$(api "$@")
	in_ns "$TB_SRC" "$TB_BIN/udp_send" "$FR" "$TB_DST_V4" "$port" 1 "$END_PORT"
	in_ns "$TB_SRC" "$TB_BIN/udp_send" "$DE" "$TB_DST_V4" "$port" 1 "$END_PORT"
	wait "$rpid"
	exec {fd}<&-
	echo "$code $(awk -v s="$FR" '$1 == s { print $3 }' "$tmp/recv" | grep . || echo 0)" \
		"$(awk -v s="$DE" '$1 == s { print $3 }' "$tmp/recv" | grep . || echo 0)"
}

check_eq "a standing meeting: PUT" 200 "$(api PUT /v1/meetings/standing \
	'{"ports":["8700"],"block":["FR"]}')"
for ((i = 1; i <= ROUNDS; i++)); do
	port=$((8800 + i))
	if ((i % 2)); then
		m=round$i
		on="PUT /v1/meetings/$m"
		got=$(change_then_send "$port" PUT "/v1/meetings/$m" \
			"{\"ports\":[$port],\"block\":[\"FR\"]}")
	else
		m=standing
		on="POST ports add $port"
		before=$(drops standing)
		got=$(change_then_send "$port" POST /v1/meetings/standing/ports "{\"add\":[$port]}")
	fi
	check_eq "round $i, right after $on: 200, FR dropped, DE arrived" "200 0 1" "$got"
	if ((i % 2)); then
		check_eq "round $i: one drop counted for ($m, FR)" 1 "$(drops "$m")"
		got=$(change_then_send "$port" DELETE "/v1/meetings/$m")
		check_eq "round $i, right after DELETE: 200, both arrived" "200 1 1" "$got"
	else
		check_eq "round $i: one more drop counted for (standing, FR)" $((before + 1)) \
			"$(drops standing)"
		after=$(drops standing)
		got=$(change_then_send "$port" POST /v1/meetings/standing/ports \
			"{\"remove\":[$port]}")
		check_eq "round $i, right after the port's removal: 200, both arrived" "200 1 1" "$got"
		check_eq "round $i: no drop counted after the removal" "$after" "$(drops standing)"
	fi
done
check_eq "dropped verdicts: one a round" "$ROUNDS" \
	"$(curl -s --unix-socket "$SOCK" http://geoblock/v1/stats | jq .verdicts.dropped.packets)"
check "the daemon is still up" kill -0 "$pid"
check "detach" in_ns "$TB_DST" "$GEOBLOCK" detach "$TB_DST_IF" >/dev/null
summary
