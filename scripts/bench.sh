#!/usr/bin/env bash
# Data-path benchmark (`make bench`): UDP frames generated with BPF_PROG_TEST_RUN live frames are sent
# over a veth between two namespaces to the receiving side, which runs in turn: a bare XDP_DROP,
# geoblock with the compiled table, geoblock reading no table (every source one blocked country:
# the ceiling of any lookup), geoblock with the LPM tries, and an nftables netdev ingress
# interval set with the same prefixes (BENCH_NFT=0 skips it: loading it takes minutes). Sources
# cycle through 1,000,000 distinct addresses of the real GeoLite2 database; one meeting blocks every
# country, so every packet is looked up. Rounds alternate the variants; medians are printed.
# Then the typical policies (BENCH_POLICIES, default "CN ten"): a meeting blocking CN only, one
# blocking ten countries, each sent sources of its countries only (every packet dropped) and the
# world mix, against the no-table ceiling of the same rounds. With BENCH_SHARED=1, the shared-port
# (ICE) runs: RTP from learned senders and STUN Binding Requests to a shared port, each beside the
# same frames to a port the meeting owns (see docs/benchmarks.md, "Shared ports (ICE)"), and with
# BENCH_SHARED_OLD another build's program in the same runs, in turn. Then ns per packet from
# BPF_PROG_TEST_RUN against a bare XDP_PASS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
GEOBLOCK=$BUILD/geoblock
BENCH=$BUILD/bench/xdp_bench
source "$ROOT/scripts/testbed.sh"
source "$ROOT/scripts/bench-lib.sh"

ROUNDS=${BENCH_ROUNDS:-5}
FRAMES=${BENCH_FRAMES:-4000000}
SOURCES=${BENCH_SOURCES:-1000000}
NFT=${BENCH_NFT:-1}
if [[ -n ${BENCH_VARIANTS:-} ]]; then
	NFT=0
	if [[ $BENCH_VARIANTS == *nft* ]]; then NFT=1; fi
fi
export GEOBLOCK_PIN_DIR=/sys/fs/bpf/geoblock-bench-$$
export GEOBLOCK_STATE_DIR=$(mktemp -d /tmp/geoblock-bench-state.XXXXXX)
tmp=$(mktemp -d)
PIN=$GEOBLOCK_PIN_DIR/bench_link
cleanup() {
	ip netns exec gbbench-dst nft delete table netdev gbbench 2>/dev/null || true
	testbed_down
	rm -rf "$GEOBLOCK_PIN_DIR" "$GEOBLOCK_STATE_DIR" "$tmp"
}
trap cleanup EXIT

# BENCH_POLICIES: the typical policies, each a word: "ten" for the ten countries below, any other
# a list CC[,CC...] with CN in it (the ceiling's country); each is meeting policyI on port 5010+I.
TEN=CN,RU,IR,KP,SY,CU,BY,VE,MM,AF
read -r -a policies <<<"${BENCH_POLICIES-CN ten}"
declare -A policy_index
for i in "${!policies[@]}"; do
	policy_index[${policies[i]}]=$i
done
policy_ccs() { if [[ $1 == ten ]]; then echo "$TEN"; else echo "${1^^}"; fi; }

# BENCH_SHARED=1: meeting "ice" blocks CN on port 5020 (its own) and by ufrag on shared port 10000.
# Per family BENCH_SHARED_SOURCES distinct CN addresses, each a sender (address, source port)
# learned before the rounds (by default 2 x 500,000, in ice_sender_sets of 2,097,152 ways);
# BENCH_SHARED_ACTIVE of them, spread evenly over the others, send in the runs;
# BENCH_SHARED_UFRAGS server ufrags of 4 characters and as many of 32, sender i naming ufrag
# i % BENCH_SHARED_UFRAGS.
SHARED=${BENCH_SHARED:-0}
SH_SOURCES=${BENCH_SHARED_SOURCES:-500000}
SH_ACTIVE=${BENCH_SHARED_ACTIVE:-100000}
SH_UFRAGS=${BENCH_SHARED_UFRAGS:-$SH_ACTIVE}
SH_PORT=10000
SH_OWN_PORT=5020
# The 32-character ufrags (webrtcbin's length): this prefix, then the sender's 4-character tag.
SH_PREFIX32=Hk3sP9vQx2LmT7cRb5nWz8dFj4Ga
SH_CLIENT32=Gq7vK2mWx9TzR4pLbN8sYc3dHf6jQa1E
declare -A SH_PAYLOAD=([media]=rtp [stun4]=stun::Cl1e
	[stun32]=stun-libnice:$SH_PREFIX32:$SH_CLIENT32)
if ((SHARED)) && ((SH_ACTIVE > SH_SOURCES || SH_UFRAGS > SH_ACTIVE)); then
	echo "bench: want BENCH_SHARED_UFRAGS <= BENCH_SHARED_ACTIVE <= BENCH_SHARED_SOURCES" >&2
	exit 2
fi
# BENCH_SHARED_OLD=PATH: another build's geoblock binary (one of the same pinned ABI), whose
# program runs each shared-port run too (old-KIND), attached on the same pins, so with the same
# learned senders, ufrags and caches; the two take turns, the order swapped every round.
SH_OLD=${BENCH_SHARED_OLD:-}
if [[ -n $SH_OLD ]] && { ! ((SHARED)) || [[ ! -x $SH_OLD ]]; }; then
	echo "bench: BENCH_SHARED_OLD wants BENCH_SHARED=1 and another build's geoblock binary" >&2
	exit 2
fi

# ufrag_tag: an awk function, tag(U): ufrag number U as 4 characters of [a-z0-9].
ufrag_tag='function tag(u,  s, k) {
	s = ""
	for (k = 0; k < 4; k++) {
		s = substr("abcdefghijklmnopqrstuvwxyz0123456789", u % 36 + 1, 1) s
		u = int(u / 36)
	}
	return s
}'

# bench_shared_prepare: the senders, $tmp/ice-learnF ("ADDR PORT TAG", every one) and
# $tmp/ice-activeF (those that send in the runs), F the family; shared port SH_PORT; meeting "ice"
# blocking CN on SH_OWN_PORT and with every ufrag the senders name.
bench_shared_prepare() {
	local fam f part per

	bench_sources "$tmp" "$SH_SOURCES" ice. CN
	for fam in 4 6; do
		awk -v u="$SH_UFRAGS" "$ufrag_tag"'
			{ print $1, 1024 + (NR * 40503) % 64512, tag((NR - 1) % u) }' \
			"$tmp/ice.$fam" >"$tmp/ice-learn$fam"
		awk -v a="$SH_ACTIVE" -v n="$SH_SOURCES" \
			'int(NR * a / n) != int((NR - 1) * a / n)' "$tmp/ice-learn$fam" >"$tmp/ice-active$fam"
	done
	awk -v u="$SH_UFRAGS" "$ufrag_tag"' BEGIN { for (i = 0; i < u; i++) print tag(i) }' \
		>"$tmp/ufrags4"
	sed "s/^/$SH_PREFIX32/" "$tmp/ufrags4" >"$tmp/ufrags32"
	"$GEOBLOCK" shared-port add $SH_PORT >/dev/null
	"$GEOBLOCK" meeting add ice --ports $SH_OWN_PORT --block CN >/dev/null
	# An argument is at most 128 KiB: some 120 KB of ufrags a command.
	for f in ufrags4 ufrags32; do
		per=$((120000 / ($(head -1 "$tmp/$f" | wc -c))))
		split -l "$per" "$tmp/$f" "$tmp/$f.part."
		for part in "$tmp/$f.part."*; do
			"$GEOBLOCK" meeting ufrag add ice "$(paste -sd, "$part")" >/dev/null
		done
		rm -f "$tmp/$f.part."*
	done
	echo "shared port $SH_PORT: meeting ice has $((2 * SH_UFRAGS)) ufrags; $SH_ACTIVE of $SH_SOURCES" \
		"learned senders per family send"
}

# stats_of JQ: a figure of geoblock stats --json.
stats_of() { "$GEOBLOCK" stats --json | jq -r "$1"; }

# bench_shared_learn FAMILY FILE KIND: one Binding Request (SH_PAYLOAD[KIND]) from every sender
# of FILE (in $tmp, FAMILY appended) to the shared port, with geoblock attached; warns unless each
# was dropped (so judged: its ufrag known, its sender learned).
bench_shared_learn() {
	local n before

	n=$(wc -l <"$tmp/$2$1")
	before=$(stats_of .verdicts.dropped.packets)
	"${GEN[@]}" "$1" "$tmp/$2$1" "$DST_MAC" $SH_PORT "$n" "${SH_PAYLOAD[$3]}" >/dev/null
	n=$((n - ($(stats_of .verdicts.dropped.packets) - before)))
	((n == 0)) || echo "warning: learning $2 ($3) IPv$1: $n Binding Requests not dropped"
}

bench_database
echo "preparing: $SOURCES sources per family, GeoLite2-Country, $ROUNDS rounds of $FRAMES frames"
bench_sources "$tmp" "$SOURCES"
for i in "${!policies[@]}"; do
	bench_sources "$tmp" "$SOURCES" "blocked$i." "$(policy_ccs "${policies[i]}")"
done
"$GEOBLOCK" geoip load --with-lpm "$DB" >/dev/null
bench_meeting "$GEOBLOCK"
"$GEOBLOCK" meeting add other --ports 5006 --block AQ >/dev/null
if ((SHARED)); then
	bench_shared_prepare
fi
for i in "${!policies[@]}"; do
	ccs=$(policy_ccs "${policies[i]}")
	# What the loaded table says of the sources: the share of the world mix the policy drops
	# (for its ceiling), and that every one of its own sources is dropped.
	for fam in 4 6; do
		for mix in sources blocked$i.; do
			"$GEOBLOCK" geoip lookup - <"$tmp/$mix$fam" | awk -v l="$ccs" '
				BEGIN { n = split(l, a, ","); for (k = 1; k <= n; k++) w[a[k]] = 1 }
				w[$2] { in_policy++ }
				END { print in_policy / NR }' >"$tmp/share-$i-$mix$fam"
		done
		share=$(cat "$tmp/share-$i-blocked$i.$fam")
		[[ $share == 1 ]] || echo "warning: policy ${policies[i]}:" \
			"the table puts $share of its IPv$fam sources in $ccs"
	done
done

testbed_up gbbench
bench_generator
if ((SHARED)); then
	# Every sender learned once, as ice_sender_sets holds them on a busy server; the rounds refresh
	# only the active ones.
	in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" --lookup table >/dev/null
	for fam in 4 6; do
		bench_shared_learn $fam ice-learn stun4
	done
	"$GEOBLOCK" detach "$TB_DST_IF" >/dev/null
	echo "shared port: $(stats_of .ice_senders.learned) senders learned;" \
		"$("$GEOBLOCK" shared-port list --json |
			jq -r '"\(.senders) remembered of \(.senders_max), \(.senders_evicted) evicted"')"
fi

if ((NFT)); then
	echo "loading the nftables interval sets (this is the slow part)"
	{
		echo "table netdev gbbench {"
		echo "  set v4 { type ipv4_addr; flags interval; }"
		echo "  set v6 { type ipv6_addr; flags interval; }"
		echo "}"
		"$GEOBLOCK" geoip dump | awk '$2 != "--" && $1 !~ /:/ { print $1 }' |
			awk 'BEGIN { n = 0 } { if (n % 20000 == 0) printf "%sadd element netdev gbbench v4 { ", (n ? "}\n" : ""); else printf ", "; printf "%s", $1; n++ } END { if (n) print " }" }'
		"$GEOBLOCK" geoip dump | awk '$2 != "--" && $1 ~ /:/ { print $1 }' |
			awk 'BEGIN { n = 0 } { if (n % 20000 == 0) printf "%sadd element netdev gbbench v6 { ", (n ? "}\n" : ""); else printf ", "; printf "%s", $1; n++ } END { if (n) print " }" }'
	} >"$tmp/nft"
	start=$(date +%s.%N)
	ip netns exec "$TB_DST" nft -f "$tmp/nft"
	echo "nft: sets loaded in $(echo "$(date +%s.%N) - $start" | bc) s"
fi

# A run: the program (variant) attached, the port it is sent to, the sources. The typical policies'
# runs are POLICY-blocked and POLICY-world, geoblock with the compiled table; nolookup-pass is the
# no-table program sent to meeting "other", which does not block its country: every packet passes
# as the world mix's packets that a policy does not block.
run_of() {
	local i

	payload=
	case $1 in
	nolookup-pass) variant=nolookup port=5006 src=sources ;;
	ported-* | shared-* | old-*)
		# The same frames from the same senders, to the port meeting ice owns or to the shared one.
		variant=table port=$SH_OWN_PORT src=ice-active payload=${SH_PAYLOAD[${1#*-}]}
		[[ $1 == ported-* ]] || port=$SH_PORT
		if [[ $1 == old-* ]]; then variant=old-table; fi
		;;
	*-blocked | *-world)
		i=${policy_index[${1%-*}]}
		variant=table port=$((5010 + i)) src=sources
		[[ $1 == *-world ]] || src=blocked$i.
		;;
	*) variant=$1 port=5004 src=sources ;;
	esac
}

attach() {
	case $1 in
	bare) in_ns "$TB_DST" "$BENCH" attach "$DST_IFINDEX" drop "$PIN" ;;
	nolookup) in_ns "$TB_DST" "$BENCH" attach "$DST_IFINDEX" nolookup "$PIN" ;;
	table | lpm) in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" --lookup "$1" >/dev/null ;;
	old-table) in_ns "$TB_DST" "$SH_OLD" attach "$TB_DST_IF" --lookup table >/dev/null ;;
	nft)
		in_ns "$TB_DST" "$BENCH" attach "$DST_IFINDEX" pass "$PIN"
		ip netns exec "$TB_DST" nft add chain netdev gbbench in \
			"{ type filter hook ingress device $TB_DST_IF priority 0; }"
		ip netns exec "$TB_DST" nft add rule netdev gbbench in udp dport 5004 ip saddr @v4 drop
		ip netns exec "$TB_DST" nft add rule netdev gbbench in udp dport 5004 ip6 saddr @v6 drop
		;;
	esac
}
detach() {
	case $1 in
	bare | nolookup) "$BENCH" detach "$PIN" ;;
	table | lpm) "$GEOBLOCK" detach "$TB_DST_IF" >/dev/null ;;
	old-table) "$SH_OLD" detach "$TB_DST_IF" >/dev/null ;;
	nft)
		ip netns exec "$TB_DST" nft delete chain netdev gbbench in
		"$BENCH" detach "$PIN"
		;;
	esac
}

# The meetings of a run, live alone so that the data path's table is compiled for their countries:
# "bench" (every code) for the variants, meeting policyI for policy I's runs ("other", and "ice"
# with BENCH_SHARED, stay: AQ and CN).
live=all
meetings_for() {
	local want=all

	case $1 in *-blocked | *-world) want=${policy_index[${1%-*}]} ;; esac
	[[ $want == "$live" ]] && return
	if [[ $want == all ]]; then
		bench_meeting "$GEOBLOCK"
	else
		"$GEOBLOCK" meeting add "policy$want" --ports $((5010 + want)) \
			--block "$(policy_ccs "${policies[want]}")" >/dev/null
	fi
	"$GEOBLOCK" meeting del "$([[ $live == all ]] && echo bench || echo "policy$live")" >/dev/null
	live=$want
}

# Frames the receiving veth has counted.
rx_packets() { ip -n "$TB_DST" -j -s link show "$TB_DST_IF" | jq '.[0].stats64.rx.packets'; }

# BENCH_VARIANTS: a subset to run, e.g. "bare table" (bare is needed for the ratios)
read -r -a variants <<<"${BENCH_VARIANTS:-bare table nolookup lpm}"
((NFT)) && [[ -z ${BENCH_VARIANTS:-} ]] && variants+=(nft)
# Every run of a round: the typical policies' right after nolookup, their ceiling.
policy_runs=()
for p in "${policies[@]}"; do
	policy_runs+=("$p-blocked" "$p-world")
done
((${#policies[@]})) && policy_runs+=(nolookup-pass)
runs=()
for v in "${variants[@]}"; do
	runs+=("$v")
	[[ $v == nolookup ]] && runs+=("${policy_runs[@]}")
done
if ((${#policies[@]})) && [[ " ${variants[*]} " != *" nolookup "* ]]; then
	runs+=(nolookup "${policy_runs[@]}")
fi
shared_kinds=(media stun4 stun32)
if ((SHARED)); then
	for k in "${shared_kinds[@]}"; do
		runs+=("ported-$k" "shared-$k")
		[[ -n $SH_OLD ]] && runs+=("old-$k")
	done
fi
for ((r = 1; r <= ROUNDS; r++)); do
	order=("${runs[@]}")
	if [[ -n $SH_OLD ]] && ((r % 2 == 0)); then
		# Every other round the other build's run first.
		for i in "${!order[@]}"; do
			case ${order[i]} in
			shared-*) order[i]=old-${order[i]#shared-} ;;
			old-*) order[i]=shared-${order[i]#old-} ;;
			esac
		done
	fi
	for v in "${order[@]}"; do
		run_of "$v"
		meetings_for "$v"
		attach "$variant"
		for fam in 4 6; do
			# Binding Requests naming this run's ufrags first, so that the run's are refreshes
			# (a sender's checks name one ufrag), and before media the 4-character ones, so
			# that every active sender is learned (learning the million evicts some); not
			# timed.
			case $v in
			shared-stun* | old-stun*) bench_shared_learn $fam ice-active "${v#*-}" ;;
			shared-media | old-media) bench_shared_learn $fam ice-active stun4 ;;
			esac
			[[ -n $payload ]] && dropped=$(stats_of .verdicts.dropped.packets)
			rx=$(rx_packets)
			mpps=$("${GEN[@]}" $fam "$tmp/$src$fam" "$DST_MAC" $port "$FRAMES" \
				${payload:+"$payload"} | cut -d' ' -f3)
			# The rate is the generator's: it counts only if every frame reached the receiver
			# (the namespaces add a few packets of their own).
			rx=$(($(rx_packets) - rx))
			((rx >= FRAMES)) || echo "warning: $v IPv$fam: the receiving veth counted $rx of $FRAMES frames"
			if [[ -n $payload ]]; then
				# ... and, for the shared-port runs, only if every frame was judged and dropped.
				dropped=$(($(stats_of .verdicts.dropped.packets) - dropped))
				((dropped == FRAMES)) ||
					echo "warning: $v IPv$fam: $dropped of $FRAMES frames dropped"
			fi
			echo "$v $fam $mpps $r" >>"$tmp/results"
		done
		detach "$variant"
	done
	echo "round $r: $(awk -v r=$r '$4 == r { printf "%s %s %s  ", $1, $2, $3 }' "$tmp/results")"
done

echo
echo "Median of $ROUNDS rounds, $FRAMES frames each, sources cycling through $SOURCES addresses"
echo "(the ratio is the median of each round's ratio to the bare XDP_DROP run next to it):"
printf '%-28s %10s %10s %12s\n' variant family Mpps "vs XDP_DROP"
for fam in 4 6; do
	for v in "${variants[@]}"; do
		m=$(awk -v v=$v -v f=$fam '$1 == v && $2 == f { print $3 }' "$tmp/results" | median)
		ratio=$(awk -v v=$v -v f=$fam '$2 == f && $1 == "bare" { b[$4] = $3 }
			$2 == f && $1 == v { m[$4] = $3 } END { for (r in m) print m[r] / b[r] }' \
			"$tmp/results" | median)
		printf '%-28s %10s %10.2f %11.2fx\n' "$v" "IPv$fam" "$m" "$ratio"
	done
done

# The typical policies against their ceiling, round by round: ns per packet are 1000 / Mpps (the
# generator and the receiver share one CPU, so a packet's costs add up). A world mix whose share S
# the policy drops has for ceiling S nolookup packets (dropped) and 1 - S nolookup-pass ones.
# policy_row RUN FAMILY LABEL S
policy_row() {
	local m

	m=$(awk -v v="$1" -v f="$2" '$1 == v && $2 == f { print $3 }' "$tmp/results" | median)
	awk -v v="$1" -v f="$2" -v s="$4" '$2 != f { next }
		$1 == "nolookup" { d[$4] = 1000 / $3 }
		$1 == "nolookup-pass" { p[$4] = 1000 / $3 }
		$1 == v { t[$4] = 1000 / $3 }
		END { for (r in t) { c = s * d[r] + (1 - s) * p[r]; print c / t[r], t[r] - c } }' \
		"$tmp/results" >"$tmp/vs"
	printf '%-34s %10s %10.2f %11.2fx %10.1f\n' "$3" "IPv$2" "$m" \
		"$(cut -d' ' -f1 "$tmp/vs" | median)" "$(cut -d' ' -f2 "$tmp/vs" | median)"
}
if ((${#policies[@]})); then
	echo
	echo "Typical policies (BENCH_POLICIES): median Mpps, and the medians of each round's ratio"
	echo "to the no-table ceiling of the same round and of the ns per packet added over it; the"
	echo "ceiling of a world mix is nolookup (dropped) and nolookup-pass (passed) in the shares"
	echo "the policy gives it:"
	printf '%-34s %10s %10s %12s %10s\n' run family Mpps "vs nolookup" "ns added"
	for fam in 4 6; do
		for v in nolookup nolookup-pass; do
			m=$(awk -v v=$v -v f=$fam '$1 == v && $2 == f { print $3 }' "$tmp/results" |
				median)
			printf '%-34s %10s %10.2f %12s %10s\n' "$v" "IPv$fam" "$m" - -
		done
		for p in "${policies[@]}"; do
			share=$(cat "$tmp/share-${policy_index[$p]}-sources$fam")
			pct=$(awk -v s="$share" 'BEGIN { printf "%.1f", 100 * s }')
			policy_row "$p-blocked" $fam "$p, its countries (all dropped)" 1
			policy_row "$p-world" $fam "$p, world ($pct% dropped)" "$share"
		done
	done
fi

# The shared-port runs against the same frames to the meeting's own port in the same round (the
# goals: RTP 0.8, Binding Requests 0.6), and against the table run (world sources to port 5004)
# where it ran: medians of the per-round ratios, and of the ns per packet added (1000 / Mpps).
if ((SHARED)); then
	echo
	echo "Shared ports (ICE): median Mpps; medians of each round's ratio to the same frames sent to"
	echo "the port meeting ice owns (and to the table run), and of the ns per packet added over it;"
	echo "$SH_ACTIVE senders per family, learned among $SH_SOURCES, every frame dropped:"
	printf '%-16s %8s %8s %12s %10s %10s %6s\n' run family Mpps "vs own port" "ns added" \
		"vs table" goal
	declare -A goal=([media]=0.8 [stun4]=0.6 [stun32]=0.6)
	for fam in 4 6; do
		for k in "${shared_kinds[@]}"; do
			for v in "ported-$k" "shared-$k" ${SH_OLD:+"old-$k"}; do
				m=$(awk -v v=$v -v f=$fam '$1 == v && $2 == f { print $3 }' "$tmp/results" |
					median)
				awk -v v=$v -v o="ported-$k" -v f=$fam '$2 != f { next }
					$1 == o { b[$4] = $3 } $1 == "table" { t[$4] = $3 } $1 == v { m[$4] = $3 }
					END { for (r in m) print m[r] / b[r], 1000 / m[r] - 1000 / b[r],
						((r in t) ? m[r] / t[r] : "-") }' "$tmp/results" >"$tmp/vs"
				vs_table=-
				grep -q '^table ' "$tmp/results" &&
					vs_table=$(cut -d' ' -f3 "$tmp/vs" | grep -vx -- - | median |
						awk '{ printf "%.2fx", $1 }')
				if [[ $v == ported-* ]]; then
					printf '%-16s %8s %8.2f %12s %10s %10s %6s\n' "$v" "IPv$fam" "$m" 1 "" \
						"$vs_table" ""
				else
					printf '%-16s %8s %8.2f %11.2fx %10.1f %10s %6s\n' "$v" "IPv$fam" "$m" \
						"$(cut -d' ' -f1 "$tmp/vs" | median)" \
						"$(cut -d' ' -f2 "$tmp/vs" | median)" "$vs_table" "${goal[$k]}"
				fi
			done
		done
	done
	echo "ice_senders: $(stats_of '.ice_senders | "\(.learned) learned, \(.refreshed) refreshed, \(.moved) moved, \(.kept) kept"');" \
		"passed as unknown senders: $(stats_of .verdicts.ice_unknown_sender.packets)"
	if [[ -n $SH_OLD ]]; then
		echo "this build's shared-port runs against $SH_OLD's (old-): the median of each"
		echo "round's ratio shared/old of their Mpps, then every round's ratio:"
		for fam in 4 6; do
			for k in "${shared_kinds[@]}"; do
				awk -v k=$k -v f=$fam '$2 != f { next }
					$1 == "shared-" k { n[$4] = $3 } $1 == "old-" k { o[$4] = $3 }
					END { for (r in n) print n[r] / o[r] }' "$tmp/results" >"$tmp/vs"
				printf '  %-8s IPv%s %6.3f   %s\n' "$k" $fam "$(median <"$tmp/vs")" \
					"$(sort -n "$tmp/vs" | awk '{ printf "%.3f ", $1 }')"
			done
		done
	fi
fi

# Where geoblock's time goes (BENCH_PROFILE=0 skips it; needs perf): CPU 0 is sampled while the
# generator sends to geoblock with the compiled table; the program's samples are counted per
# source line through its line information. Its ns per packet are its share of the samples times
# the time per packet of that run; a load that misses the cache shows on the line that waits.
# profile FAMILY [SOURCES PORT [PAYLOAD]]: the world mix to the meeting that blocks every country,
# or SOURCES (a file of $tmp, the family appended) to PORT, with PAYLOAD (see xdp_bench gen). The
# STUN walk, stun_ufrag, is a function of its own (its own symbol): its share and its lines
# (BENCH_PROFILE_STUN_LINES, default 8) are printed apart.
# With PAYLOAD (the shared-port runs, whose map lookups cost most in the kernel's hash map code,
# outside the program's lines), also the symbols with most samples (BENCH_PROFILE_SYMS, default 8).
profile() {
	local fam=$1 src=${2:-sources} port=${3:-5004} payload=${4:-} mpps
	"$BENCH" lines "$GEOBLOCK_PIN_DIR/link_$TB_DST_IF" >"$tmp/lines" || return 1
	rm -f "$tmp/ctl" "$tmp/ack" && mkfifo "$tmp/ctl" "$tmp/ack" || return 1
	# Events start disabled; the generator enables them for its sending only.
	mpps=$(BENCH_PERF_CTL=$tmp/ctl BENCH_PERF_ACK=$tmp/ack perf record -q -D -1 \
		--control "fifo:$tmp/ctl,$tmp/ack" -C 0 -o "$tmp/perf.data" -- \
		"${GEN[@]}" "$fam" "$tmp/$src$fam" "$DST_MAC" "$port" "$FRAMES" ${payload:+"$payload"} \
		2>/dev/null | cut -d' ' -f3)
	[[ -n $mpps ]] || return 1
	perf script -i "$tmp/perf.data" -F ip,sym,symoff 2>/dev/null |
		awk -v mpps="$mpps" -v fam="$fam" -v top="${BENCH_PROFILE_LINES:-14}" \
			-v stop="${BENCH_PROFILE_STUN_LINES:-8}" \
			-v syms="$([[ -n $payload ]] && echo "${BENCH_PROFILE_SYMS:-8}" || echo 0)" \
			-v walk_from="$walk_from" -v walk_to="$walk_to" '
		function hex(s,   i, v) {
			v = 0
			for (i = 1; i <= length(s); i++)
				v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
			return v
		}
		# Per BPF function: its lines in the order of their code (n[f] of them).
		NR == FNR {
			f = $1; i = n[f]++; off[f, i] = $2; where[f, i] = $3
			$1 = $2 = $3 = ""; text[f, i] = substr($0, 4); next
		}
		# The source line of the code at offset o of function f.
		# ks: the keys of a, the most counted first; returns how many there are.
		function by_count(a, ks,   k, m, i, j, t) {
			m = 0
			for (k in a) { ks[m++] = k }
			for (i = 0; i < m; i++)
				for (j = i + 1; j < m; j++)
					if (a[ks[j]] > a[ks[i]]) { t = ks[i]; ks[i] = ks[j]; ks[j] = t }
			return m
		}
		function line_of(f, o,   lo, hi, mid) {
			lo = 0; hi = n[f] - 1
			while (lo < hi) { mid = int((lo + hi + 1) / 2); if (off[f, mid] <= o) lo = mid; else hi = mid - 1 }
			return lo
		}
		NF { all++; sym = $NF; sub(/\+0x[0-9a-f]+$/, "", sym); bysym[sym]++ }
		/_stun_ufrag\+0x/ {
			stun++
			i = line_of("stun_ufrag", hex(substr($NF, index($NF, "+0x") + 3)))
			scnt[where["stun_ufrag", i] " " text["stun_ufrag", i]]++
		}
		/_geoblock_xdp\+0x/ {
			i = line_of("geoblock_xdp", hex(substr($NF, index($NF, "+0x") + 3)))
			k = where["geoblock_xdp", i] " " text["geoblock_xdp", i]
			cnt[k]++; prog++
			split(where["geoblock_xdp", i], fl, ":")
			if (fl[1] == "geoblock.bpf.c" && fl[2] >= walk_from && fl[2] < walk_to)
				walk++
		}
		END {
			if (!prog) { print "  no samples in the program"; exit }
			pns = prog / all * 1000 / mpps
			printf "IPv%s, %.2f Mpps: geoblock_xdp has %.0f%% of the CPU samples, %.1f ns of the %.1f ns per packet\n", fam, mpps, 100 * prog / all, pns, 1000 / mpps
			printf "  the table walk (geoblock.bpf.c:%d-%d): %.1f%% of its samples, %.1f ns\n", walk_from, walk_to - 1, 100 * walk / prog, pns * walk / prog
			if (stun) {
				printf "  and stun_ufrag, apart: %.0f%% of the CPU samples, %.1f ns; its lines:\n", 100 * stun / all, stun / all * 1000 / mpps
				m = by_count(scnt, lkeys)
				for (i = 0; i < m && i < stop; i++)
					printf "    %5.1f%% %5.1f ns  %s\n", 100 * scnt[lkeys[i]] / stun, scnt[lkeys[i]] / all * 1000 / mpps, substr(lkeys[i], 1, 108)
				printf "  geoblock_xdp'"'"'s lines:\n"
			}
			m = by_count(cnt, keys)
			for (i = 0; i < m && i < top; i++)
				printf "  %5.1f%% %5.1f ns  %s\n", 100 * cnt[keys[i]] / prog, pns * cnt[keys[i]] / prog, substr(keys[i], 1, 110)
			if (syms) {
				printf "  the symbols with most of the CPU samples (ns of the %.1f per packet):\n", 1000 / mpps
				m = by_count(bysym, skeys)
				for (i = 0; i < m && i < syms; i++)
					printf "  %5.1f%% %6.1f ns  %s\n", 100 * bysym[skeys[i]] / all, bysym[skeys[i]] / all * 1000 / mpps, skeys[i]
			}
		}' "$tmp/lines" -
}
# The compiled table's walk: the source lines from not_below to the end of table_lookup_v6.
walk_from=$(grep -n '^static __always_inline __u32 not_below' "$ROOT/bpf/geoblock.bpf.c" | cut -d: -f1)
walk_to=$(grep -n '^static __always_inline void count_verdict' "$ROOT/bpf/geoblock.bpf.c" | cut -d: -f1)
if [[ ${BENCH_PROFILE:-1} != 0 ]]; then
	echo
	if command -v perf >/dev/null; then
		echo "where geoblock's time goes (perf samples of the sending CPU, per source line of the program):"
		meetings_for table
		in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" --lookup table >/dev/null
		((${#policies[@]})) && echo "every country blocked, world sources:"
		for fam in 4 6; do
			profile $fam || echo "  IPv$fam: no profile (perf record failed)"
		done
		for i in "${!policies[@]}"; do
			meetings_for "${policies[i]}-world"
			for mix in blocked world; do
				echo "policy ${policies[i]}, $mix sources:"
				src=sources
				[[ $mix == world ]] || src=blocked$i.
				for fam in 4 6; do
					profile $fam "$src" $((5010 + i)) ||
						echo "  IPv$fam: no profile (perf record failed)"
				done
			done
		done
		for k in "${shared_kinds[@]}"; do
			((SHARED)) || break
			echo "shared port, $k from the active senders:"
			for fam in 4 6; do
				bench_shared_learn $fam ice-active \
					"$([[ $k == stun* ]] && echo "$k" || echo stun4)"
				profile $fam ice-active $SH_PORT "${SH_PAYLOAD[$k]}" ||
					echo "  IPv$fam: no profile (perf record failed)"
			done
		done
		"$GEOBLOCK" detach "$TB_DST_IF" >/dev/null
	else
		echo "no profile: perf is not installed (BENCH_PROFILE=0 skips this part)"
	fi
fi
meetings_for table

echo
echo "ns per packet (BPF_PROG_TEST_RUN, median of 9 rounds of 1,000,000 runs, geoblock and bare in turn):"
in_ns "$TB_DST" "$GEOBLOCK" attach "$TB_DST_IF" --lookup table >/dev/null
# With BENCH_SHARED=1, also Binding Requests naming the meeting's ufrags (4 characters, Chrome's
# attribute order; 32, libnice's) to the shared port, and RTP from the sender they learned.
nspp_shared=()
nspp_ufrags=()
if ((SHARED)); then
	nspp_shared=($SH_PORT NSPP "${SH_PREFIX32}NSPP")
	nspp_ufrags=(--ufrag "NSPP,${SH_PREFIX32}NSPP")
fi
for fam in 4 6; do
	# an allowed source (country A) and a dropped one (country B); the meeting blocks B only
	head -200 "$tmp/sources$fam" | "$GEOBLOCK" geoip lookup - >"$tmp/cc$fam"
	read -r allowed cca < <(head -1 "$tmp/cc$fam")
	read -r dropped ccb < <(awk -v a="$cca" '$2 != a' "$tmp/cc$fam" | head -1)
	"$GEOBLOCK" meeting del bench >/dev/null
	"$GEOBLOCK" meeting add bench --ports 5004 "${nspp_ufrags[@]}" --block "$ccb" >/dev/null
	"$BENCH" nspp "$GEOBLOCK_PIN_DIR/link_$TB_DST_IF" $fam "$allowed" "$dropped" 5004 7000 9 \
		"${nspp_shared[@]}"
done
"$GEOBLOCK" detach "$TB_DST_IF" >/dev/null

echo
echo "kernel memory of the loaded tables (memlock of each map, from geoblock status --json):"
"$GEOBLOCK" status --json | jq -r '.geoip.kernel_memory_bytes | to_entries[] |
	"  \(.key) \(.value / 1048576 * 10 | floor / 10) MiB"'
