#!/usr/bin/env bash
# `make install` with PREFIX and DESTDIR puts exactly the binary, man page geoblock(8), systemd
# units, bash completion and example rules where they belong, with working contents (the page
# renders without warnings, the units run the installed binary, the completion completes, the
# example applies); `make uninstall` removes exactly those files and nothing else.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

expected_files() { # PREFIX (without the leading /)
	printf '%s\n' "$1/lib/systemd/system/geoblock-daemon.service" \
		"$1/lib/systemd/system/geoblock-restore.service" "$1/sbin/geoblock" \
		"$1/share/bash-completion/completions/geoblock" "$1/share/doc/geoblock/rules.example" \
		"$1/share/man/man8/geoblock.8" | sort
}
files() { (cd "$1" && find . -type f | sed 's|^\./||' | sort); }

for prefix in /usr/local /usr; do
	d=$tmp/dest${prefix//\//_}
	p=${prefix#/}
	# Someone else's files, which uninstall must leave alone.
	mkdir -p "$d/$p/sbin" "$d/$p/share/doc/other"
	echo x >"$d/$p/sbin/other"
	echo x >"$d/$p/share/doc/other/README"
	others=$(files "$d")
	args=(DESTDIR="$d")
	[[ $prefix != /usr/local ]] && args+=(PREFIX="$prefix")
	check "make install ($prefix)" make -s -C "$ROOT" install "${args[@]}" >/dev/null
	check_eq "installed files ($prefix)" "$(sort <(expected_files "$p") <(echo "$others"))" "$(files "$d")"
	check_eq "binary mode ($prefix)" 755 "$(stat -c %a "$d/$p/sbin/geoblock")"
	check_eq "data modes ($prefix)" "644 644 644 644 644" \
		"$(stat -c %a "$d/$p"/lib/systemd/system/* "$d/$p"/share/man/man8/geoblock.8 \
			"$d/$p"/share/bash-completion/completions/geoblock "$d/$p"/share/doc/geoblock/rules.example | paste -sd' ')"
	check "installed binary runs ($prefix)" "$d/$p/sbin/geoblock" --version >/dev/null
	check_eq "restore unit runs the installed binary ($prefix)" "ExecStart=$prefix/sbin/geoblock restore" \
		"$(grep ^ExecStart= "$d/$p/lib/systemd/system/geoblock-restore.service")"
	check_eq "daemon unit runs the installed binary ($prefix)" \
		"ExecStart=$prefix/sbin/geoblock daemon --api /run/geoblock/api.sock \$GEOBLOCK_DAEMON_ARGS" \
		"$(grep ^ExecStart= "$d/$p/lib/systemd/system/geoblock-daemon.service")"
	check "no placeholder left ($prefix)" bash -c "! grep -rq @SBINDIR@ '$d'"
	check "make uninstall ($prefix)" make -s -C "$ROOT" uninstall "${args[@]}" >/dev/null
	check_eq "uninstall removed exactly what install put there ($prefix)" "$others" "$(files "$d")"
	check "no empty geoblock doc dir left ($prefix)" test ! -e "$d/$p/share/doc/geoblock"
	check "uninstall twice is harmless ($prefix)" make -s -C "$ROOT" uninstall "${args[@]}" >/dev/null
done

# Contents, from one more install.
d=$tmp/dest
make -s -C "$ROOT" install DESTDIR="$d" >/dev/null || fail "install"
P=$d/usr/local
MAN=$P/share/man/man8/geoblock.8
check_eq "groff renders the man page without warnings" "" "$(groff -man -Tutf8 -ww -z "$MAN" 2>&1)"
check_eq "man renders it without warnings" "" \
	"$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$MAN" 2>&1 >/dev/null)"
rendered=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$MAN" 2>/dev/null)
for c in "attach" "detach" "status" "geoip load" "geoip lookup" "meeting add" "meeting set" \
	"meeting del" "meeting list" "explain" "apply" "restore" "stats" "daemon" "--allow" \
	"--expires" "--proto" "--monitor" "--reason" "--check" "EXIT STATUS" "TURN"; do
	check "man page documents $c" grep -q -- "$c" <<<"$rendered"
done
for u in "$P"/lib/systemd/system/*.service; do
	if command -v systemd-analyze >/dev/null; then
		# Without systemd as init it cannot load every dependency; it still parses the file.
		check_eq "$(basename "$u") parses" "" \
			"$(systemd-analyze verify --man=no "$u" 2>&1 | grep -Ei 'unknown|invalid|failed to parse|missing' | grep -v 'is not executable')"
	fi
done

# The completion, with the installed binary on PATH and a private instance to name meetings.
check "completion is valid bash" bash -n "$P/share/bash-completion/completions/geoblock"
"$P/sbin/geoblock" meeting add alpha --ports 7000 --block DE >/dev/null || fail "add alpha"
complete_words() { # WORDS... (the last is the one being completed)
	PATH=$P/sbin:$PATH bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_geoblock; printf "%s\n" "${COMPREPLY[@]}" | sort | paste -sd" "' _ \
		"$P/share/bash-completion/completions/geoblock" geoblock "$@"
}
check_eq "completes commands" "meeting" "$(complete_words me)"
check_eq "completes after global options" "explain" "$(complete_words --state-dir /tmp exp)"
check_eq "completes meeting verbs" "add del list ports set ufrag" "$(complete_words meeting "")"
check_eq "completes shared-port verbs" "add del list" "$(complete_words shared-port "")"
check_eq "completes add options" "--allow" "$(complete_words meeting add x --al)"
check_eq "completes --proto values" "tcp udp udp,tcp" "$(complete_words meeting add x --proto "")"
check_eq "completes explain --proto values" "tcp udp" "$(complete_words explain 1.2.3.4 80 --proto "")"
check_eq "completes --mode values" "native" "$(complete_words attach lo --mode n)"
# The interfaces here whose name begins with "l" (lo, and any other the machine has).
check_eq "completes interfaces" "$(ls /sys/class/net | grep '^l' | sort | paste -sd' ')" \
	"$(complete_words attach l | tr ' ' '\n' | sort | paste -sd' ')"
check_eq "completes meeting names" "alpha" "$(complete_words meeting set "")"
check_eq "completes set options" "--enforce" "$(complete_words meeting set alpha --enf)"

check "the example rules apply" "$P/sbin/geoblock" apply --check "$P/share/doc/geoblock/rules.example" >/dev/null
make -s -C "$ROOT" uninstall DESTDIR="$d" >/dev/null
check_eq "nothing left after uninstall" "" "$(files "$d")"
summary
