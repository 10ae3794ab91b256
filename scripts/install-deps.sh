#!/usr/bin/env bash
# Installs the Debian packages geoblock needs to build, test and run the demo; skips what is there.
set -euo pipefail

pkgs=(
	clang llvm make gcc pkg-config	# clang for the BPF target
	libclang-rt-14-dev		# clang's sanitizer and libFuzzer runtimes (SANITIZE=1, make fuzz)
	libbpf-dev libelf-dev zlib1g-dev	# libbpf, libelf, zlib
	libmaxminddb-dev mmdb-bin	# MaxMind DB reader (mmdblookup for spot checks)
	libjson-c-dev			# JSON output
	libmicrohttpd-dev		# the daemon's /metrics HTTP server
	libcurl4-openssl-dev		# HTTP client: etcd's JSON gateway (fleet), Janus's Admin API, bench-api
	libssl-dev			# libcrypto: base64 of etcd's keys and values
	etcd-server etcd-client		# a real etcd cluster for the fleet tests (tests/fleet/)
	openssl				# the fleet TLS test's own CA and certificates
	bpftool				# BPF skeletons
	iproute2			# namespaces and veth for tests and the demo
	jq				# reading --json output in tests
	strace				# kills a command at a chosen system call (a fault test)
	procps e2fsprogs		# sysctl and chattr in tests
	python3				# Debian's /usr/bin/python3: raw connections in the API tests
	# Real WebRTC clients for the shared-port ICE test (tests/e2e/shared_port_ice_real_clients.sh)
	# and the Janus rooms test (tests/e2e/janus_rooms_real_clients.sh):
	# aiortc (its server side too), and GStreamer's webrtcbin with libnice, DTLS, SRTP and Opus
	python3-aiortc
	python3-gst-1.0 gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice
	janus				# a real SFU (VideoRoom) for tests/e2e/janus_rooms_real_clients.sh
	iso-codes			# ISO 3166-1, checked against user/lib/iso3166.c (scripts/gen-iso3166.sh)
	groff-base man-db		# checking that the man page renders without warnings
	nftables bc			# the benchmark compares with an nftables interval set
	time				# wall time and peak memory of geoip load (bench-geoip)
	npm				# fetches GeoIP databases from the npm registry
	prometheus curl			# promtool, a private server and scrapes in the exporter tests
	dpkg-dev build-essential debhelper lintian	# make deb (no fakeroot: Rules-Requires-Root: no)
)
missing=()
for p in "${pkgs[@]}"; do
	[[ $p == \#* ]] && continue
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come from elsewhere (e.g. a Node.js install): only the command matters.
if command -v npm >/dev/null; then
	missing=("${missing[@]/npm/}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if ((${#missing[@]})); then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# The prometheus package would start a system server on :9090 (janus one on :8088); the tests
	# run their own, so keep the packages' services from starting (policy-rc.d, for this
	# install only, unless the host already has one).
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
