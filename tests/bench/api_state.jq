# `meeting list --json` as api_load --expect writes a meeting's state: "NAME MODE BLOCK PORTS", one
# meeting a line, its ports one by one in ascending order; only names starting with $prefix.
.[] | select(.name | startswith($prefix))
| (.ports | split(",") | map(if test("-") then (split("-") | map(tonumber)) as [$a, $b]
	| [range($a; $b + 1)] else [tonumber] end) | flatten | sort | map(tostring) | join(",")) as $p
| "\(.name) \(.mode) \(.block | join(",")) \($p)"
