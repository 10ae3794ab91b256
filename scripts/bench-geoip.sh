#!/usr/bin/env bash
# GeoIP load benchmark (`make bench`, or `make bench-geoip` alone): wall time and peak memory of
# `geoblock geoip load` (read, compile, build the kernel tables, swap them in) on full world
# databases, IPv4 + IPv6: GeoLite2-Country as MaxMind ships it (.mmdb.gz) and as CSV ranges, DB-IP
# lite as .mmdb and as CSV ranges. Each input is loaded once to warm up, then BENCH_GEOIP_RUNS
# times (default 5) into a table that is already loaded, as a reload does; medians are printed
# with the networks read and the prefixes left after merging, and the CPU time (user + system),
# which other work on the machine disturbs less than the wall time. Targets: 2 s, 256 MiB.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
GEOBLOCK=$BUILD/geoblock
RUNS=${BENCH_GEOIP_RUNS:-5}
DATA=${GEOBLOCK_DATA_DIR:-$BUILD/geoip}
export GEOBLOCK_PIN_DIR=/sys/fs/bpf/geoblock-bench-geoip-$$
export GEOBLOCK_STATE_DIR=$(mktemp -d /tmp/geoblock-bench-state.XXXXXX)
tmp=$(mktemp -d)
trap 'rm -rf "$GEOBLOCK_PIN_DIR" "$GEOBLOCK_STATE_DIR" "$tmp"' EXIT

[[ -x /usr/bin/time ]] || { echo "bench-geoip: needs /usr/bin/time (Debian package time)" >&2; exit 2; }
bash "$ROOT/scripts/fetch-geoip.sh" "$DATA"

# name|files
inputs=(
	"GeoLite2-Country .mmdb.gz|$DATA/GeoLite2-Country.mmdb.gz"
	"GeoLite2-Country CSV v4+v6|$DATA/geolite2-country-ipv4.csv $DATA/geolite2-country-ipv6.csv"
	"DB-IP lite .mmdb|$DATA/dbip-country.mmdb"
	"DB-IP lite CSV v4+v6|$DATA/dbip-country-ipv4.csv $DATA/dbip-country-ipv6.csv"
)

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "geoblock geoip load: median of $RUNS loads after a warm-up; $(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %22s %22s %7s %7s %9s\n' input "IPv4 networks>prefixes" "IPv6 networks>prefixes" "wall s" "CPU s" "peak MiB"
for entry in "${inputs[@]}"; do
	name=${entry%%|*}
	files=${entry#*|}
	: >"$tmp/runs"
	for ((r = 0; r <= RUNS; r++)); do
		# --max-shrink 100: the comparison with the loaded table runs, but never refuses
		# shellcheck disable=SC2086 # a list of files
		/usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$GEOBLOCK" geoip load --max-shrink 100 $files \
			>"$tmp/out"
		((r == 0)) || cat "$tmp/time" >>"$tmp/runs"
	done
	# "loaded ...: A IPv4 prefixes (B networks), C IPv6 prefixes (D networks)"
	read -r p4 n4 p6 n6 < <(sed -E 's/.*: ([0-9]+) IPv4 prefixes \(([0-9]+) networks\), ([0-9]+) IPv6 prefixes \(([0-9]+) networks\)/\1 \2 \3 \4/' "$tmp/out")
	wall=$(cut -d' ' -f1 "$tmp/runs" | median)
	rss=$(cut -d' ' -f2 "$tmp/runs" | median)
	cpu=$(awk '{ print $3 + $4 }' "$tmp/runs" | median)
	mib=$(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }')
	verdict=$(awk -v w="$wall" -v m="$mib" 'BEGIN { print (w <= 2 && m < 256) ? "" : "  over the 2 s / 256 MiB target" }')
	printf '%-28s %22s %22s %7.2f %7.2f %9s%s\n' "$name" "$n4>$p4" "$n6>$p6" "$wall" "$cpu" "$mib" \
		"$verdict"
	echo "  runs (wall s, peak KiB, user s, system s): $(tr '\n' ' ' <"$tmp/runs")" >&2
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
