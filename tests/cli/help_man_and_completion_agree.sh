#!/usr/bin/env bash
# The command table behind `geoblock --help` and every `geoblock CMD [SUB] -h` agrees with the man
# page and the bash completion. --help lists each command once; each has its synopsis and its entry
# in geoblock(8) and is completed; each long option its -h lists is in its synopsis, described in
# the page and completed after it, and the completion offers no command or option the table lacks;
# an option taking one of a few values completes to exactly those; the global options are in the
# page's OPTIONS and completed. `meeting add`'s options, which spec_parse() reads (as it reads apply
# files and the rules file), are the table's: each accepted, an unknown one refused.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

MAN=$ROOT/scripts/dist/geoblock.8
COMPLETION=$ROOT/scripts/dist/geoblock.bash-completion
[[ -x $GEOBLOCK ]] || { fail "no $GEOBLOCK (build it first)"; summary; exit; }
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

# section HELP TITLE: the lines of one section of a help ("Commands:", "Options:").
section() { awk -v s="$2" '$0 == s { on = 1; next } /^$/ { on = 0 } on' <<<"$1"; }
# The commands a help lists: the words of each usage line up to its first argument.
commands_of() {
	section "$1" "Commands:" | awk '/^  [a-z]/ {
		c = $1; for (i = 2; i <= NF && $i ~ /^[a-z][a-z-]*$/; i++) c = c " " $i; print c }'
}
# Its long options, with the value's name if they take one: "--ports LIST", "--json".
options_of() {
	section "$1" "Options:" | sed -nE 's/^  (-[a-zA-Z], )?(--[a-z][a-z0-9-]*)( [^ ]+)?.*/\2\3/p'
}
long_options_of() { options_of "$1" | cut -d' ' -f1; }
# choices_of HELP OPTION: "a b c" when the option takes one of a|b|c.
choices_of() {
	options_of "$1" | sed -nE "s/^$2 ([a-z_,]+(\|[a-z_,]+)+)$/\1/p" | tr '|' '\n' | sort |
		paste -sd' '
}

# The page's source with its escapes undone ("\-" is "-"), fonts and quotes dropped.
man=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\~/ /g' -e 's/\\ / /g' -e 's/\\&//g' "$MAN")
man_section() { awk -v s=".SH $1" '$0 == s { on = 1; next } /^\.SH / { on = 0 } on' <<<"$man"; }
synopsis=$(man_section SYNOPSIS)
# The rest of the page, where options are described.
described=$(awk '/^\.SH SYNOPSIS$/ { on = 1; next } /^\.SH / { on = 0 } !on' <<<"$man")
# man_synopsis CMD: the synopsis of "geoblock CMD", from its .B line to the next .br or .PP.
man_synopsis() {
	awk -v s=".B geoblock${1:+ $1}" '$0 == s { on = 1; print; next }
		/^\.(br|PP)$/ { on = 0 } on' <<<"$synopsis"
}
# The words of each entry of COMMANDS (the line after .TP), quotes and macro dropped.
man_entries=$(man_section COMMANDS | awk 'tp { gsub(/"/, ""); sub(/^\.[A-Z]+ +/, ""); print }
	{ tp = /^\.TP/ }')
# has_option TEXT OPTION: OPTION appears in TEXT as a whole option name.
has_option() { grep -qE -- "(^|[^a-zA-Z0-9-])$2([^a-zA-Z0-9-]|$)" <<<"$1"; }

# completions WORDS...: what the completion offers for the last word, sorted, on one line.
completions() {
	bash -c 'source "$1"; shift; COMP_WORDS=(geoblock "$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _geoblock; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$COMPLETION" "$@" 2>/dev/null | sed '/^$/d' | sort -u | paste -sd' '
}
has_word() { tr ' ' '\n' <<<"$1" | grep -qxF -- "$2"; }

help=$("$GEOBLOCK" --help)
check_eq "geoblock --help exits 0" 0 $?
mapfile -t cmds < <(commands_of "$help")
check "geoblock --help lists the commands (${#cmds[@]})" test "${#cmds[@]}" -ge 10
check_eq "geoblock --help lists each command once" "" \
	"$(printf '%s\n' "${cmds[@]}" | sort | uniq -d | paste -sd,)"

# The command words, both ways: the completion offers what --help lists, and nothing else.
check_eq "completion offers the commands --help lists" \
	"$(printf '%s\n' "${cmds[@]}" | cut -d' ' -f1 | sort -u | paste -sd' ')" \
	"$(completions "" | tr ' ' '\n' | grep -v '^-' | paste -sd' ')"
# Every group, nested ones too ("meeting ports"): the words --help lists after it.
mapfile -t groups < <(printf '%s\n' "${cmds[@]}" |
	awk '{ g = $1; for (i = 2; i <= NF; i++) { print g; g = g " " $i } }' | sort -u)
for group in "${groups[@]}"; do
	read -ra gwords <<<"$group"
	check_eq "completion offers the $group commands --help lists" \
		"$(printf '%s\n' "${cmds[@]}" | awk -v n="${#gwords[@]}" -v g="$group" '{
			c = $1; for (i = 2; i <= n; i++) c = c " " $i } c == g { print $(n + 1) }' |
			sort -u | paste -sd' ')" \
		"$(completions "${gwords[@]}" "")"
done

for c in "${cmds[@]}"; do
	read -ra words <<<"$c"
	h=$("$GEOBLOCK" "${words[@]}" -h)
	check_eq "geoblock $c -h exits 0" 0 $?
	opts=$(long_options_of "$h")
	check "geoblock $c -h lists --help" has_word "$opts" --help
	entry=$(man_synopsis "$c")
	check "geoblock(8) has a synopsis of $c" test -n "$entry"
	check "geoblock(8) has an entry for $c in COMMANDS" grep -qE "^$c( |$)" <<<"$man_entries"
	offered=$(completions "${words[@]}" --)
	for o in $opts; do
		check "completion offers $o after $c" has_word "$offered" "$o"
		[[ $o == --help ]] && continue	# every command's, in OPTIONS
		check "geoblock(8) synopsis of $c has $o" has_option "$entry" "$o"
		check "geoblock(8) describes $o" has_option "$described" "$o"
		choices=$(choices_of "$h" "$o")
		[[ -n $choices ]] && check_eq "completion of $c $o values" "$choices" \
			"$(completions "${words[@]}" "$o" "")"
	done
	for o in $offered; do
		check "completion offers $o after $c, which $c takes" has_word "$opts" "$o"
	done
done

# The global options.
gopts=$(long_options_of "$help")
check "geoblock --help lists --verbose, --pin-dir, --version" \
	test "$(grep -cxE -- '--(verbose|pin-dir|version)' <<<"$gopts")" = 3
for o in $gopts; do
	check "geoblock(8) OPTIONS has $o" has_option "$(man_section OPTIONS)" "$o"
	check "completion offers $o before a command" has_word "$(completions --)" "$o"
done
for o in $(completions --); do
	check "completion offers $o before a command, which geoblock takes" has_word "$gopts" "$o"
done

# meeting add: each option of the table is one spec_parse() knows (a refusal names the value or
# what is missing, never the option), and an unknown one is refused.
add_help=$("$GEOBLOCK" meeting add -h)
for o in $(long_options_of "$add_help"); do
	[[ $o == --help ]] && continue
	"$GEOBLOCK" meeting add "$o" >/dev/null 2>"$tmp/err"
	check_eq "meeting add $o: refused for what is missing (exit 1)" 1 $?
	check "meeting add $o: not an unknown option ($(cat "$tmp/err"))" \
		bash -c "! grep -q 'unknown option' '$tmp/err'"
done
"$GEOBLOCK" meeting add x --ports 7000 --block DE --frobnicate >/dev/null 2>"$tmp/err"
check_eq "meeting add --frobnicate: refused (exit 1)" 1 $?
check "meeting add --frobnicate: named unknown" grep -q 'unknown option "--frobnicate"' "$tmp/err"
# The same options, taking a value or not, as the getopt table of spec_parse() lists them.
check_eq "meeting add: the table's options are spec_parse()'s" \
	"$(sed -nE 's/^\s*\{ "([a-z-]+)", (required|no)_argument.*/--\1 \2/p' \
		"$ROOT/user/state/rules_file.c" | sort | paste -sd,)" \
	"$(options_of "$add_help" | awk '{ print $1, (NF > 1 ? "required" : "no") }' | sort |
		paste -sd,)"
# A group without its command: the help on stdout, and one error line on stderr for a script
# (the build before printed nothing there).
"$GEOBLOCK" meeting >"$tmp/out" 2>"$tmp/err"
check_eq "geoblock meeting: exit 1, one error line" \
	"1 geoblock: meeting: a command is needed (see the list above)" "$? $(cat "$tmp/err")"
check "... its help on stdout" grep -q "^Commands:" "$tmp/out"
summary
