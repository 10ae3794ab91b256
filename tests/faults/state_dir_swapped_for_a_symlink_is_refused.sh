#!/usr/bin/env bash
# A directory geoblock makes gets its mode through the directory made, not its name: a state dir
# swapped for a symlink between its mkdir and the mode's change (strace holds the command there)
# fails the command with one line, and the symlink's target keeps its mode and stays empty.
# Without the swap, the mode is set whatever the umask.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

check "strace is installed (scripts/install-deps.sh)" quiet command -v strace
target=$tmp/target
state=$tmp/state
mkdir -m 0755 "$target"

# The command is held 3 s as it enters each open or chmod of the state dir, after its mkdir.
GEOBLOCK_STATE_DIR=$state strace -o /dev/null -P "$state" -e trace=openat,chmod,fchmodat \
	-e inject=openat,chmod,fchmodat:delay_enter=3s \
	"$GEOBLOCK" meeting add m --ports 9000 --block DE >"$tmp/out" 2>"$tmp/err" &
pid=$!
on_exit kill_child "$pid"
check "the state dir is made" wait_until 10 test -d "$state"
rmdir "$state" && ln -s "$target" "$state"
wait "$pid"
rc=$?

check "the command fails" test "$rc" -ne 0
# one_line_refusal: the command's stderr is one line naming the state dir and why: ENOTDIR
# (O_DIRECTORY) or ELOOP (O_NOFOLLOW), as the kernel checks them.
one_line_refusal() {
	local why="(Not a directory|Too many levels of symbolic links)"

	(($(wc -l <"$tmp/err") == 1)) &&
		grep -qxE "geoblock: meeting add: cannot create state dir $state: $why" "$tmp/err"
}
check "with one line naming the state dir: $(cat "$tmp/err")" one_line_refusal
check_eq "the target keeps its mode" 755 "$(stat -c %a "$target")"
check_eq "and nothing is written through the symlink" "" "$(ls -A "$target")"
# Nothing pinned (the command stopped first) or no meeting m.
check "no meeting is added" test -z "$("$GEOBLOCK" meeting list --json 2>/dev/null |
	jq -r '.[] | .name')"

# Unbroken, under a umask that masks every bit: the mode is the one asked for.
(umask 0777; GEOBLOCK_STATE_DIR=$tmp/state2 "$GEOBLOCK" meeting add m --ports 9000 \
	--block DE >/dev/null 2>"$tmp/err2")
rc=$?	# read before the name's command substitution sets $? to its own
check "the command succeeds: $(cat "$tmp/err2")" test "$rc" = 0
check_eq "and adds its meeting" m "$("$GEOBLOCK" meeting list --json | jq -r '.[] | .name')"
check_eq "the state dir made under umask 0777 has mode 700" 700 "$(stat -c %a "$tmp/state2")"
summary
