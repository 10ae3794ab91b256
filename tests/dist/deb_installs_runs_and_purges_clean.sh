#!/usr/bin/env bash
# `make deb` builds geoblock_VERSION_ARCH.deb (lintian clean, or `make deb` fails) with the version
# of the Makefile, debian/changelog and `geoblock --version`; `dpkg -i` installs the binary, man
# page, units, completion, example rules and /etc/default/geoblock (a conffile), enables and starts
# nothing, and the installed binary runs; `dpkg -P` removes every file it installed and leaves no
# other behind, and dpkg forgets the package. GB_DEB=PATH tests that .deb instead of building one.
# A geoblock package already on the machine, or a file where the package would put one, is left
# alone: the test is skipped.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

skip() {
	echo "SKIP: $*"
	summary
	exit
}
installed_status() { dpkg-query -W -f='${db:Status-Status}' geoblock 2>/dev/null; }

st=$(installed_status)
if [[ -n $st && $st != not-installed ]]; then
	skip "a geoblock package is on this machine ($st, version" \
		"$(dpkg-query -W -f='${Version}' geoblock)); this test installs and purges its own," \
		"so it leaves that one alone"
fi

version=$(make -s --no-print-directory -C "$ROOT" --eval='gb-version: ; @echo $(VERSION)' \
	gb-version)
check_eq "debian/changelog's version is the Makefile's" "$version" \
	"$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)"
arch=$(dpkg --print-architecture)
deb=${GB_DEB:-$ROOT/build/geoblock_${version}_$arch.deb}
if [[ -z ${GB_DEB:-} ]]; then
	start=$SECONDS
	if ! make -s -C "$ROOT" deb >"$tmp/make-deb.log" 2>&1; then
		tail -30 "$tmp/make-deb.log" | sed 's/^/    /'
		fail "make deb (lintian errors or warnings fail it too)"
		summary
		exit
	fi
	pass
	echo "make deb: $((SECONDS - start)) s"
fi
check "the package is where make deb says" test -s "$deb"
check_eq "package name" geoblock "$(dpkg-deb -f "$deb" Package)"
check_eq "package version" "$version" "$(dpkg-deb -f "$deb" Version)"
check_eq "package architecture" "$arch" "$(dpkg-deb -f "$deb" Architecture)"

# What the package holds: paths without the leading '.', directories apart.
dpkg-deb -c "$deb" | awk '{ print substr($1, 1, 1), $6 }' | sed 's| \./| /|; s|/$||' \
	>"$tmp/contents"
pkg_files=$(awk '$1 != "d" { print $2 }' "$tmp/contents" | sort)
pkg_dirs=$(awk '$1 == "d" && $2 != "" { print $2 }' "$tmp/contents" | sort)
check_eq "files in the package" "/etc/default/geoblock
/lib/systemd/system/geoblock-daemon.service
/lib/systemd/system/geoblock-restore.service
/usr/sbin/geoblock
/usr/share/bash-completion/completions/geoblock
/usr/share/doc/geoblock/changelog.gz
/usr/share/doc/geoblock/copyright
/usr/share/doc/geoblock/rules.example
/usr/share/man/man8/geoblock.8.gz" "$pkg_files"
check_eq "conffiles" /etc/default/geoblock "$(dpkg-deb -I "$deb" conffiles)"

for f in $pkg_files; do
	if [[ -e $f || -L $f ]]; then
		skip "$f is already on this machine (not from a geoblock package, e.g. make install" \
			"PREFIX=/usr); installing the package would replace it and purging it remove it"
	fi
done

# What could change: the directories the package puts anything in (one level), and where systemd
# and deb-systemd-helper keep enablement and state.
snapshot() {
	{
		for d in / $pkg_dirs; do
			[[ -d $d ]] && find -H "$d" -mindepth 1 -maxdepth 1
		done
		find /etc/systemd /var/lib/systemd/deb-systemd-helper-enabled \
			/var/lib/systemd/deb-systemd-helper-masked /var/lib/geoblock 2>/dev/null
		find /var/lib/dpkg/info -name 'geoblock[.:]*'
	} | sort -u
}
snapshot >"$tmp/before"

on_exit dpkg -P geoblock
# run NAME CMD...: check, showing CMD's output when it fails.
run() {
	local name=$1
	shift
	if "$@" >"$tmp/run.log" 2>&1; then
		pass
	else
		fail "$name"
		sed 's/^/    /' "$tmp/run.log"
	fi
}
run "dpkg -i" dpkg -i "$deb"
check_eq "dpkg knows it installed" "install ok installed" \
	"$(dpkg-query -W -f='${Status}' geoblock 2>&1)"
check_eq "dpkg lists the package's files" "$pkg_files" \
	"$(dpkg -L geoblock | while read -r p; do [[ -d $p ]] || echo "$p"; done | sort)"
for f in $pkg_files; do
	check "$f installed" test -f "$f"
done
check_eq "geoblock --version" "geoblock $version (pinned ABI $(sed -n 's/^#define GB_ABI_VERSION[[:space:]]*//p' "$ROOT/bpf/geoblock.h"))" \
	"$(/usr/sbin/geoblock --version 2>&1)"
check_eq "restore unit runs the installed binary" "ExecStart=/usr/sbin/geoblock restore" \
	"$(grep ^ExecStart= /lib/systemd/system/geoblock-restore.service)"
check_eq "daemon unit runs the installed binary" \
	"ExecStart=/usr/sbin/geoblock daemon --api /run/geoblock/api.sock \$GEOBLOCK_DAEMON_ARGS" \
	"$(grep ^ExecStart= /lib/systemd/system/geoblock-daemon.service)"
check_eq "both units read /etc/default/geoblock" \
	"EnvironmentFile=-/etc/default/geoblock EnvironmentFile=-/etc/default/geoblock" \
	"$(grep -h ^EnvironmentFile= /lib/systemd/system/geoblock-*.service | paste -sd' ')"
check_eq "/etc/default/geoblock sets the daemon's options, empty" "" \
	"$(bash -c 'set -eu; source /etc/default/geoblock; echo "$GEOBLOCK_DAEMON_ARGS"' 2>&1)"

# Nothing enabled or started: no unit linked anywhere systemd looks for enabled units (systemctl
# may not run here); with systemd running, it says so too.
check_eq "no unit enabled" "" "$(find /etc/systemd -name 'geoblock*' 2>/dev/null)"
check_eq "no enablement recorded" "" "$(find /var/lib/systemd/deb-systemd-helper-enabled \
	-name 'geoblock*' ! -name '*.dsh-also' 2>/dev/null)"
if [[ -d /run/systemd/system ]]; then
	for u in geoblock-restore.service geoblock-daemon.service; do
		check_eq "$u disabled" disabled "$(systemctl is-enabled "$u" 2>&1)"
		check_eq "$u not started" inactive "$(systemctl is-active "$u" 2>&1)"
	done
fi

# The installed binary works, on this test's private pin and state dirs.
/usr/sbin/geoblock status >"$tmp/out" 2>"$tmp/err"
rc=$?
if ((rc == 2)); then
	check_eq "status with nothing pinned: one line" "geoblock: status: nothing pinned under\
 $GEOBLOCK_PIN_DIR: run 'geoblock attach' or 'geoblock geoip load' first" "$(cat "$tmp/err")"
else
	check_eq "status with nothing pinned: exit 0 or 2" 0 "$rc"
fi
check "installed geoblock adds a meeting" \
	/usr/sbin/geoblock meeting add t --ports 30001 --block CN --reason "deb test" >/dev/null
/usr/sbin/geoblock status >"$tmp/out" 2>"$tmp/err"
rc=$?
check_eq "installed geoblock status: exit 0, nothing on stderr" "0 ''" "$rc '$(cat "$tmp/err")'"
check "status shows the private pin dir" grep -qx "pin dir: *$GEOBLOCK_PIN_DIR" "$tmp/out"
check "status counts the meeting" grep -qx "meetings: *1" "$tmp/out"

run "dpkg -P" dpkg -P geoblock
check "dpkg no longer knows the package" bash -c '! dpkg -s geoblock >/dev/null 2>&1'
gone=""
for f in $pkg_files; do
	[[ -e $f || -L $f ]] && gone+=" $f"
done
check_eq "every file the package installed is gone" "" "$gone"
snapshot >"$tmp/after"
check_eq "nothing else left behind, nothing else removed" "" \
	"$(diff "$tmp/before" "$tmp/after" | grep '^[<>]')"
summary
