#!/usr/bin/env bash
# The controller's source keeps the shape user/README.md gives it: a file includes only headers of
# its own layer and the layers below (lib < geoip < kern < state < metrics < api < fleet < cli); no two
# modules depend on each other (by include, or by a call read off the built objects); each header
# declares only functions its own .c defines (cli/cmd.h: the commands' entry points); each .c has
# its own .h (but main.c and a command's file that offers only its entry point) and at most 620
# lines.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

cd "$ROOT/user" || exit 2
layers=(lib geoip kern state metrics api fleet cli)
layer_of() {
	local i
	for i in "${!layers[@]}"; do
		[[ ${layers[i]} == "$1" ]] && { echo "$i"; return; }
	done
	echo 99
}

# Includes: downwards or within the layer only.
bad=()
for c in */*.c */*.h; do
	own=$(layer_of "${c%%/*}")
	while read -r inc; do
		[[ $inc == */* ]] || continue
		(($(layer_of "${inc%%/*}") <= own)) || bad+=("$c includes $inc")
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$c")
done
check_eq "no file includes a higher layer" "" "${bad[*]}"

# Modules (a .c and its .h) that include each other's header.
declare -A incl=()
for c in */*.c; do
	m=${c%.c}
	for inc in $(sed -n 's/^#include "\([^"]*\)\.h".*/\1/p' "$c"); do
		[[ $inc != "$m" && -f $inc.c ]] && incl[$m>$inc]=1
	done
done
circles=()
for k in "${!incl[@]}"; do
	a=${k%%>*} b=${k#*>}
	[[ -n ${incl[$b>$a]:-} && $a < $b ]] && circles+=("$a<->$b")
done
check_eq "no two modules include each other" "" "${circles[*]}"

# Calls: a module that uses a symbol another defines depends on it; no pair both ways.
objs=("$BUILD"/user/*/*.o)
if [[ ! -f ${objs[0]} ]]; then
	fail "no objects under $BUILD/user (build first)"
else
	declare -A def=() dep=()
	for o in "${objs[@]}"; do
		m=${o#"$BUILD"/user/}
		m=${m%.o}
		while read -r s; do def[$s]=$m; done < <(nm --defined-only "$o" | awk '$2 ~ /[TDRB]/ {print $3}')
	done
	for o in "${objs[@]}"; do
		m=${o#"$BUILD"/user/}
		m=${m%.o}
		while read -r s; do
			d=${def[$s]:-}
			[[ -n $d && $d != "$m" ]] && dep[$m>$d]=1
		done < <(nm -u "$o" | awk '{print $2}')
	done
	circles=()
	for k in "${!dep[@]}"; do
		a=${k%%>*} b=${k#*>}
		[[ -n ${dep[$b>$a]:-} && $a < $b ]] && circles+=("$a<->$b")
	done
	check_eq "no two modules call each other" "" "${circles[*]}"
	check "the dependency read works (cli/main calls cli/cmd)" test -n "${dep[cli/main>cli/cmd]:-}"

	# Headers: each function a header declares is defined by its own .c; cli/cmd.h holds the
	# entry points of the commands, each defined in its command's file.
	strays=()
	for f in $(sed -n 's/^int \(cmd_[a-z_]*\)(.*/\1/p' cli/cmd.h); do
		[[ ${def[$f]:-} == cli/* ]] || strays+=("cli/cmd.h declares $f, which no cli/ file defines")
	done
	for h in */*.h; do
		[[ $h == cli/cmd.h ]] && continue
		o=$BUILD/user/${h%.h}.o
		# A header without a .c (lib/version.h) may declare no function.
		defined=$([[ -f $o ]] && nm --defined-only "$o" | awk '{print $3}')
		for f in $(grep -v '^\s*\(static\|#\|\*\|/\*\|typedef\)' "$h" |
			   grep -o '^[a-z_][a-z0-9_ *]*[ *]\([a-z_][a-z0-9_]*\)(' |
			   sed 's/.*[ *]\([a-z_][a-z0-9_]*\)($/\1/'); do
			grep -qx "$f" <<<"$defined" || strays+=("$h declares $f")
		done
	done
	check_eq "each header declares only its own module's functions" "" "${strays[*]}"
fi

missing=()
long=()
for c in */*.c; do
	# A command's file may offer nothing but its entry point (declared in cli/cmd.h).
	[[ $c == cli/main.c || -f ${c%.c}.h ]] || grep -q '^int cmd_[a-z_]*(' "$c" || missing+=("$c")
	n=$(wc -l <"$c")
	((n <= 620)) || long+=("$c: $n lines")
done
check_eq "each .c has its own .h" "" "${missing[*]}"
check_eq "no .c over 620 lines" "" "${long[*]}"
check "common.h and meeting.h are gone" test ! -e common.h -a ! -e meeting.h
summary
