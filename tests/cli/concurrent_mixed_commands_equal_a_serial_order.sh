#!/usr/bin/env bash
# 20 concurrent mixed commands (meeting add, del, set, apply; several conflicting on names and
# ports), each with its own --reason: every one succeeds (audited ok) or is refused (exit 1, one
# line, not audited), and the result equals a serial order: the successful commands, replayed one
# by one on a fresh instance in the order of the audit log, all succeed and give the same rule
# set; each refused command is refused at some point of that order (replayed on a third instance
# set to the replay's rule set after k commands, for k from the end back to the start).
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
MAIN_PIN=$GEOBLOCK_PIN_DIR MAIN_STATE=$GEOBLOCK_STATE_DIR
REPLAY_PIN=$MAIN_PIN-replay REPLAY_STATE=$tmp/replay-state
SCRATCH_PIN=$MAIN_PIN-scratch SCRATCH_STATE=$tmp/scratch-state
on_exit rm -rf "$REPLAY_PIN" "$SCRATCH_PIN"

# on PIN STATE CMD...: runs geoblock CMD on that instance.
on() { GEOBLOCK_PIN_DIR=$1 GEOBLOCK_STATE_DIR=$2 "$GEOBLOCK" "${@:3}"; }
# rules_of PIN STATE: the rule set, without what differs between instances (slot ids, times).
rules_of() { on "$1" "$2" meeting list --json | jq -c 'map(del(.id, .created)) | sort_by(.name)'; }

printf 'meeting add f1 --ports 3201 --block DE\nmeeting add f2 --ports 3202 --block FR\nmeeting add a6 --ports 3106 --block DE\n' >"$tmp/fileA"
printf 'meeting add g1 --ports 3301 --block DE --monitor\nmeeting add a1 --ports 3101 --block FR\n' >"$tmp/fileB"
printf 'meeting add h1 --ports 3401 --block DE\nmeeting add h2 --ports 3401 --block FR\n' >"$tmp/fileBad"
CMDS=(
	"meeting add a1 --ports 3101 --block DE"
	"meeting add a2 --ports 3102 --block DE,FR"
	"meeting add a3 --ports 3103 --block DE"
	"meeting add a4 --ports 3104-3105 --block DE --proto udp,tcp"
	"meeting add a5 --ports 3110 --block FR --monitor"
	"meeting add x1 --ports 3101 --block FR"
	"meeting add a2 --ports 3999 --block DE"
	"meeting add x2 --ports 3201 --block DE"
	"meeting add x3 --ports 3103,3301 --block US"
	"meeting del a3"
	"meeting del a4"
	"meeting del f1"
	"meeting del x1"
	"meeting set a1 --monitor"
	"meeting set a5 --enforce"
	"meeting set f2 --monitor"
	"meeting set g1 --enforce"
	"apply $tmp/fileA"
	"apply $tmp/fileB"
	"apply $tmp/fileBad"
)
N=${#CMDS[@]}
# No pins yet: the first change makes them under the state lock (read-only commands make none).

# All at once; each command's reason is its index.
pids=()
for ((i = 0; i < N; i++)); do
	# shellcheck disable=SC2086 # the command's words
	on "$MAIN_PIN" "$MAIN_STATE" ${CMDS[i]} --reason "c$i" >"$tmp/out.$i" 2>"$tmp/err.$i" &
	pids[i]=$!
done
for ((i = 0; i < N; i++)); do
	wait "${pids[i]}"
	echo $? >"$tmp/rc.$i"
done
result=$(rules_of "$MAIN_PIN" "$MAIN_STATE")
echo "concurrent result: $result"

# The order the lock gave the successful commands: the audit log's.
order=$(jq -r 'select(.result == "ok") | .reason' "$MAIN_STATE/audit.log" | sed -n 's/^c//p')
refused=()
for ((i = 0; i < N; i++)); do
	rc=$(cat "$tmp/rc.$i")
	audited=$(jq -r --arg r "c$i" 'select(.reason == $r) | .result' "$MAIN_STATE/audit.log" | paste -sd' ')
	case $rc in
	0) check_eq "c$i (${CMDS[i]}): succeeded, audited ok once" ok "$audited" ;;
	1)
		check_eq "c$i (${CMDS[i]}): refused, not audited" "" "$audited"
		check_eq "c$i: one line of error" 1 "$(wc -l <"$tmp/err.$i")"
		refused+=("$i")
		;;
	*) fail "c$i (${CMDS[i]}): exit $rc, want 0 or 1: $(head -1 "$tmp/err.$i")" ;;
	esac
done
check_eq "every successful command is in the audit order once" \
	"$(for ((i = 0; i < N; i++)); do [[ $(cat "$tmp/rc.$i") == 0 ]] && echo "$i"; done | sort -n)" \
	"$(sort -n <<<"$order")"
echo "serial order: $(paste -sd' ' <<<"$order"); refused: ${refused[*]}"
check "some commands were refused (the mix conflicts)" test "${#refused[@]}" -gt 0

# Replay the successful commands in that order; keep the rule set after each step.
on "$REPLAY_PIN" "$REPLAY_STATE" apply /dev/null >/dev/null 2>&1
on "$REPLAY_PIN" "$REPLAY_STATE" restore --print >"$tmp/snap.0"
k=0
for i in $order; do
	k=$((k + 1))
	# shellcheck disable=SC2086
	on "$REPLAY_PIN" "$REPLAY_STATE" ${CMDS[i]} --reason "replay c$i" >/dev/null 2>"$tmp/rerr"
	rc=$?	# read before the name's command substitution sets $? to its own
	check_eq "replayed step $k, c$i (${CMDS[i]}), succeeds: $(head -1 "$tmp/rerr")" 0 "$rc"
	on "$REPLAY_PIN" "$REPLAY_STATE" restore --print >"$tmp/snap.$k"
done
check_eq "the serial replay gives the concurrent result" "$result" \
	"$(rules_of "$REPLAY_PIN" "$REPLAY_STATE")"

# Each refused command is refused at some point of the serial order.
for i in "${refused[@]}"; do
	at=none
	for ((j = k; j >= 0; j--)); do
		on "$SCRATCH_PIN" "$SCRATCH_STATE" apply "$tmp/snap.$j" >/dev/null 2>&1 || break
		# shellcheck disable=SC2086
		on "$SCRATCH_PIN" "$SCRATCH_STATE" ${CMDS[i]} >/dev/null 2>&1
		if [[ $? == 1 ]]; then at=$j; break; fi
	done
	check "c$i (${CMDS[i]}) is refused after $at of the serial commands" test "$at" != none
done
summary
