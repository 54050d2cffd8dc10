#!/bin/bash
# The flame graph's script works: hover, click-to-zoom, reset, search.
. "$(dirname "$0")/lib.sh"
need_root
command -v node >/dev/null || skip "node is not installed"
$EBPROF -F 999 -o "$TMP/p.svg" -- "$T/cpu_split" 3 >/dev/null 2>&1 || fail "ebprof failed"
out=$(node tests/integration/svg_check.js "$TMP/p.svg") || fail "$out"
echo "$out" | head -1
share=$(echo "$out" | tail -1)
n=$(grep -o '<title>all ([0-9]* samples' "$TMP/p.svg" | grep -o '[0-9]*' | head -1)
within_binom "$share" 75 "$n" || fail "Search for burn_a matched $share %, expected 75 within 5 sigma"
exit 0
