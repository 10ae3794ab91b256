# A meeting list (`meeting list --json`, or the "meetings" of GET /v1/meetings) as api_load --expect
# writes a meeting's state: "NAME MODE BLOCK PORTS", one meeting a line, its ports one by one in
# ascending order; only the meetings whose name starts with $prefix.
.[] | select(.name | startswith($prefix))
| (.ports | if type == "array" then map(tostring) | join(",") else . end | split(",")
	| map(if test("-") then (split("-") | map(tonumber)) as [$a, $b] | [range($a; $b + 1)]
	      else [tonumber] end) | flatten | sort | map(tostring) | join(",")) as $p
| "\(.name) \(.mode) \(.block | join(",")) \($p)"
