# Shared by the tests of `geoblock daemon --janus-events`: the daemon, and Janus's events as its
# sample event handler posts them. Source it after common.sh, with $tmp set (the test's temp dir).

# start_daemon [IDLE [OPTION...]]: --janus-idle IDLE (default 60: no handle goes idle unless a
# step wants it), and the options given.
start_daemon() {
	local idle=${1:-60}
	shift
	: >"$tmp/daemon.log"	# here: the wait must not find the last daemon's line
	"$GEOBLOCK" daemon --metrics 127.0.0.1:0 --janus-events 127.0.0.1:0 --janus-idle "$idle" \
		"$@" >"$tmp/daemon.log" 2>"$tmp/daemon.err" &
	pid=$!
	on_exit kill_child "$pid"
	wait_until 10 grep -q '^serving Janus events on ' "$tmp/daemon.log" ||
		{ fail "daemon did not listen: $(cat "$tmp/daemon.err")"; summary; exit; }
	URL=$(sed -n 's/^serving Janus events on //p' "$tmp/daemon.log")
	# Events are served while the Admin API is asked: its rebuild over (or failed) first, unless
	# JANUS_REBUILD_WAIT=0.
	if [[ " $* " == *" --janus-admin "* && ${JANUS_REBUILD_WAIT:-1} != 0 ]]; then
		wait_until 10 grep -q -e '^rebuilt ' -e 'janus admin' "$tmp/daemon.log" \
			"$tmp/daemon.err" || fail "the daemon did not rebuild from the Admin API"
	fi
}
# post BODY: the HTTP status of a POST of BODY.
post() { curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary "$1" "$URL"; }
counts() { curl -s "$URL"; }
count() { counts | jq ".$1"; }
joined() { # joined SESSION HANDLE ROOM [EVENT]
	printf '{"emitter":"t","type":64,"timestamp":1,"session_id":%s,"handle_id":%s,"event":{"plugin":"janus.plugin.videoroom","data":{"event":"%s","room":%s,"id":7}}}' \
		"$1" "$2" "${4:-joined}" "$3"
}
cand() { # cand SESSION HANDLE PORT [PROTO]
	printf '{"type":16,"subtype":2,"session_id":%s,"handle_id":%s,"event":{"local-candidate":"1 1 %s 2015363327 127.0.0.1 %s typ host","stream_id":1,"component_id":1}}' \
		"$1" "$2" "${4:-udp}" "$3"
}
pair() { # pair SESSION HANDLE PORT [REMOTE]: the client at REMOTE (default 85.214.1.1)
	printf '{"type":16,"subtype":4,"session_id":%s,"handle_id":%s,"event":{"selected-pair":"127.0.0.1:%s [host,udp] <-> %s:40000 [host,udp]"}}' \
		"$1" "$2" "$3" "${4:-85.214.1.1}"
}
dyn() { # the meeting's Janus ports, sorted, space-separated
	"$GEOBLOCK" meeting list --json | jq -r --arg m "$1" \
		'[.[] | select(.name == $m) | .janus_ports[].port] | sort | map(tostring) | join(" ")'
}
# dyn_is MEETING PORTS: polled by wait_until (re-read at each try).
dyn_is() { [[ $(dyn "$1") == "$2" ]]; }
owner() { "$GEOBLOCK" explain 192.0.2.9 "$1" --json | jq -r '.meeting // "-"'; }
# admin_stub DIR MODE: a stand-in for Janus's Admin API (tests/cli/janus_admin_stub.py, MODE as
# it says) writing to DIR, stopped when the test ends; its URL in ADMIN. Ends the test if it does
# not listen within 10 s.
admin_stub() {
	mkdir -p "$1"
	/usr/bin/python3 "$ROOT/tests/cli/janus_admin_stub.py" "$1" "$2" 2>"$1.err" &
	on_exit kill_child "$!"
	wait_until 10 test -s "$1/port" ||
		{ fail "the stand-in Admin API did not listen: $(cat "$1.err")"; summary; exit; }
	ADMIN=http://127.0.0.1:$(cat "$1/port")/admin
}
