#!/usr/bin/env bash
# A restore after a reboot (the pins removed), cut short with some of the saved meetings back in
# the maps and not all (strace kills it at its Nth bpf call, N tried from its last call down until
# the maps hold such a state), one of them a meeting whose expiry passed while the machine was
# down. Whatever comes next finishes the restore before anything else: a read says a change is
# under way; the next change (or restore again) puts every saved meeting back, deletes the expired
# one (audited), and the saved rule set loses no meeting. (Cut short unlogged, the maps' few
# meetings were taken for the rule set: the expiry pass saved them over the rules file.)
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"
check "strace is installed (scripts/install-deps.sh)" quiet command -v strace || { summary; exit; }
# strace in between: LeakSanitizer cannot run under it, and would change the exit code.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
S=$GEOBLOCK_STATE_DIR

UNTIL=$(($(date +%s) + 3))
check "meeting a, expiring in 3 s" quiet "$GEOBLOCK" meeting add a --ports 5000 --block DE \
	--expires "$(date -u -d "@$UNTIL" +%Y-%m-%dT%H:%M:%SZ)" 2>/dev/null
for m in b c d e f; do
	port=$((5001 + $(printf '%d' "'$m") - 98))
	check "meeting $m" quiet "$GEOBLOCK" meeting add "$m" --ports "$port" --block FR 2>/dev/null
done
ALL="b:5001 c:5002 d:5003 e:5004 f:5005"
# The meetings in the maps (name:ports; expired ones too), and those not expired.
live() {
	"$GEOBLOCK" meeting list --json 2>/dev/null |
		jq -r '[.[] | "\(.name):\(.ports | join(","))"] | sort | join(" ")'
}
unexpired() {
	"$GEOBLOCK" meeting list --json 2>/dev/null |
		jq -r '[.[] | select(.expired | not) | "\(.name):\(.ports | join(","))"] | sort | join(" ")'
}
saved() { saved_rules | awk '{ print $3 ":" $5 }' | sort | paste -sd' '; }
expired_now() { (($(date +%s) >= UNTIL)); }
check "a's expiry passes (the machine down)" wait_until 10 expired_now
cp -a "$S" "$tmp/state0"

# reboot: the pins gone, the state dir as saved.
reboot() {
	rm -rf "$GEOBLOCK_PIN_DIR" "$S"
	cp -a "$tmp/state0" "$S"
}
# The bpf calls of a whole restore (its last one is where the search starts).
reboot
strace -f -o "$tmp/trace" -e trace=bpf "$GEOBLOCK" restore >/dev/null 2>&1
calls=$(grep -c 'bpf(' "$tmp/trace")
check "a whole restore makes bpf calls" test "$calls" -gt 10
check_eq "a whole restore: every meeting but the expired one" "$ALL" "$(unexpired)"

# cut_restore: a restore killed at the Nth bpf call, N from the last down, until the maps hold
# some meetings (a among them) but not all six. 0 once they do.
cut_restore() {
	local n
	for ((n = calls; n > 0; n--)); do
		reboot
		(strace -f -o /dev/null -e trace=bpf -e inject=bpf:signal=KILL:when=$n \
			"$GEOBLOCK" restore >/dev/null 2>&1
			echo $? >"$tmp/rc") 2>/dev/null
		CUT=$(live)
		[[ $(<"$tmp/rc") == 137 && $CUT == a:* && $(wc -w <<<"$CUT") -lt 6 ]] && return 0
	done
	return 1
}

for next in change restore; do
	if ! check "$next: restore cut short with some meetings back" cut_restore; then
		continue
	fi
	echo "    cut at: $CUT"
	"$GEOBLOCK" meeting list >/dev/null 2>"$tmp/read.err"
	check "$next: a read says a change is under way" grep -q "interrupted\|died midway\|under way" \
		"$tmp/read.err"
	if [[ $next == change ]]; then
		"$GEOBLOCK" meeting add z --ports 5009 --block FR >/dev/null 2>"$tmp/next.err"
		check_eq "$next: the next change works" 0 $?
		want="$ALL z:5009"
	else
		"$GEOBLOCK" restore >/dev/null 2>"$tmp/next.err"
		check_eq "$next: restore again works" 0 $?
		want=$ALL
	fi
	check_eq "$next: every saved meeting back in the maps, a expired" "$want" "$(unexpired)"
	check_eq "$next: ... and a deleted" "$want" "$(live)"
	check_eq "$next: the saved rule set lost none" "$want" "$(saved)"
	check "$next: a's expiry audited" grep -q '"reason":"expired at' "$S/audit.log"
done
summary
