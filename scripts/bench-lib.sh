# What the data-path benchmarks share (sourced by bench.sh and bench-ab.sh, after testbed.sh,
# with ROOT, BUILD and GEOBLOCK set): the database, the source addresses, the blocking meeting.

# bench_database: DB, the plain GeoLite2-Country.mmdb (fetched into GEOBLOCK_DATA_DIR if need be).
bench_database() {
	local data=${GEOBLOCK_DATA_DIR:-$BUILD/geoip}

	bash "$ROOT/scripts/fetch-geoip.sh" "$data"
	DB=$data/GeoLite2-Country.mmdb
}

# bench_sources DIR N [NAME CC,CC...]: DIR/sources4 and DIR/sources6, N distinct addresses each,
# drawn from DB; with NAME, DIR/NAME4 and DIR/NAME6, N distinct addresses each of the countries
# CC only (see mmdb_ref sources).
# IPv6 sources: not the IPv4 tree inside the IPv6 one (::/96 and ::ffff:0:0/96, about a third of
# the database's IPv6 networks), which no packet carries as its source address; 6to4 and Teredo
# addresses stay (they go through the IPv4 table as well).
bench_sources() {
	local dir=$1 n=$2 name=${3:-sources} ccs=${4:-} fam got over

	for fam in 4 6; do
		# Enough for N distinct ones once duplicates (and the world mix's ::/16) are gone.
		over=$((fam == 4 ? 11 : 17))
		[[ -n $ccs ]] && over=13
		"$BUILD/tests/mmdb_ref" sources "$DB" $((n * over / 10)) 42 $fam ${ccs:+"$ccs"} |
			awk '!/^::/' | sort -u | shuf --random-source=<(yes) |
			awk -v n="$n" 'NR <= n' >"$dir/$name$fam"
		got=$(wc -l <"$dir/$name$fam")
		((got == n)) || {
			echo "bench: only $got distinct IPv$fam sources${ccs:+ of $ccs}" >&2
			return 2
		}
	done
}

# bench_meeting GEOBLOCK: meeting "bench" on port 5004 blocks every country code, so that every
# packet is looked up (and dropped).
bench_meeting() {
	local all

	# Every code the loaded table uses: the codes a meeting may block are the assigned ones and
	# those the table uses, and any other blocks nothing.
	all=$("$1" geoip dump | awk '$2 != "--" { print $2 }' | sort -u | paste -sd, -)
	"$1" meeting add bench --ports 5004 --block "$all" >/dev/null
}

# bench_generator: GEN, the generator command (FAMILY SOURCES DST_MAC PORT FRAMES appended),
# pinned to CPU 0 at SCHED_FIFO in the sending namespace of the testbed (a command, not the in_ns
# function, so that perf can run it too); DST_MAC and DST_IFINDEX of the receiving veth.
bench_generator() {
	local src_ifindex

	DST_MAC=$(ip -n "$TB_DST" -j link show "$TB_DST_IF" | jq -r '.[0].address')
	DST_IFINDEX=$(ip -n "$TB_DST" -j link show "$TB_DST_IF" | jq -r '.[0].ifindex')
	src_ifindex=$(ip -n "$TB_SRC" -j link show "$TB_SRC_IF" | jq -r '.[0].ifindex')
	GEN=(nsenter --net="/run/netns/$TB_SRC" taskset -c 0 chrt -f 50 "$BUILD/bench/xdp_bench" gen
		"$src_ifindex")
}

# median: the median of the numbers on stdin, one per line.
median() {
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
