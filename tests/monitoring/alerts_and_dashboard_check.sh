#!/usr/bin/env bash
# The alerting rules pass `promtool check rules` and their unit tests (`promtool test rules`); the
# Grafana dashboard is valid JSON whose every query is valid PromQL; and every geoblock metric the
# rules and the dashboard use is one docs/metrics.md documents. (That each is served for real is
# checked by tests/e2e/prometheus_counts_exact_drops.sh on a live scrape.)
set -uo pipefail
source "$(dirname "$0")/../lib/common.sh"
MON=$ROOT/scripts/monitoring
RULES=$MON/geoblock-alerts.yml
DASH=$MON/grafana-dashboard.json
DOC=$ROOT/docs/metrics.md
tmp=$(mktemp -d)
on_exit rm -rf "$tmp"

check "promtool check rules" promtool check rules "$RULES"
check "promtool test rules" promtool test rules "$ROOT"/tests/monitoring/*.test.yml
check_eq "rules: one per alert docs/metrics.md names" \
	"$(grep -o '^| `Geoblock[A-Za-z]*`' "$DOC" | tr -d '|` ' | sort | tr '\n' ' ')" \
	"$(grep -o 'alert: Geoblock[A-Za-z]*' "$RULES" | cut -d' ' -f2 | sort | tr '\n' ' ')"

check "dashboard is JSON" jqe . "$DASH" >/dev/null
check_eq "dashboard: every panel has a query" 0 \
	"$(jq '[.panels[] | select((.targets // []) | length == 0)] | length' "$DASH")"
check_eq "dashboard: panel ids unique" "$(jq '.panels | length' "$DASH")" \
	"$(jq '[.panels[].id] | unique | length' "$DASH")"
for want in geoblock_dropped_packets_total geoblock_monitor_packets_total \
	geoblock_geoip_build_timestamp_seconds geoblock_filter_attached; do
	check "dashboard shows $want" grep -q "$want" "$DASH"
done

# Dashboard queries as recording rules, Grafana's variables replaced, so promtool parses them.
{
	echo "groups:"
	echo "  - name: dashboard"
	echo "    rules:"
	jq -r '.panels[].targets[].expr' "$DASH" | nl -ba | while read -r n expr; do
		expr=${expr//\$__rate_interval/1m}
		expr=${expr//\$__range/1h}
		expr=${expr//\$instance/.*}
		expr=${expr//\$meeting/.*}
		printf '      - record: dashboard:query:%s\n        expr: %s\n' "$n" \
			"$(jq -Rn --arg e "$expr" '$e')"
	done
} >"$tmp/dashboard-rules.yml"
check_eq "dashboard: queries found" "$(jq '[.panels[].targets[]] | length' "$DASH")" \
	"$(grep -c 'record:' "$tmp/dashboard-rules.yml")"
if ! promtool check rules "$tmp/dashboard-rules.yml" >"$tmp/out" 2>&1; then
	fail "dashboard queries are valid PromQL: $(tail -3 "$tmp/out")"
else
	pass
fi

# Every metric the rules and the dashboard use is documented in docs/metrics.md's metric table.
for m in $(grep -oh 'geoblock_[a-z0-9_]*' "$RULES" "$DASH" | sort -u); do
	check "docs/metrics.md documents $m" grep -q "^| \`$m" "$DOC"
done
summary
