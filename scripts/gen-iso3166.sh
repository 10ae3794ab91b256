#!/usr/bin/env bash
# Writes user/lib/iso3166.c, the officially assigned ISO 3166-1 alpha-2 codes and their names, from
# Debian's iso-codes (/usr/share/iso-codes/json/iso_3166-1.json): the short common name where the
# standard gives one ("South Korea"), else its name. Run it again when iso-codes changes;
# tests/unit/unit_country.c checks the committed table against the installed iso-codes.
set -euo pipefail
src=${1:-/usr/share/iso-codes/json/iso_3166-1.json}
out=${2:-$(dirname "$0")/../user/lib/iso3166.c}
{
	echo '// SPDX-License-Identifier: GPL-2.0'
	echo '/* The officially assigned ISO 3166-1 alpha-2 codes and their names (scripts/gen-iso3166.sh). */'
	echo '#include "lib/iso3166.h"'
	echo
	echo 'const struct iso3166_country iso3166_countries[] = {'
	jq -r '.["3166-1"][] | [.alpha_2, (.common_name // .name)] | @tsv' "$src" | LC_ALL=C sort |
		while IFS=$'\t' read -r code name; do
			printf '\t{ "%s", "%s" },\n' "$code" "${name//\"/\\\"}"
		done
	echo '};'
	echo
	echo 'const unsigned int iso3166_count = sizeof(iso3166_countries) / sizeof(iso3166_countries[0]);'
} >"$out.tmp"
mv "$out.tmp" "$out"
