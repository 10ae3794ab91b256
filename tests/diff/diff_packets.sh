#!/usr/bin/env bash
# Differential test of the data path (see diff_packets.c) on GeoLite2-Country: at least 1,000,000
# generated frames through both lookup modes against the reference classifier.
# DIFF_SEED, DIFF_PACKETS, DIFF_FIRST reproduce a run or one frame of it.
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"

if ! geoip_data; then
	fail "fetch databases"
	summary
	exit
fi
exec "$BUILD/tests/diff_packets" "$GEOBLOCK_DATA_DIR/GeoLite2-Country.mmdb.gz"
