#!/bin/bash
# Maps too small for the stacks: losses are counted and reported with the fix,
# and no sample is silently dropped from the total.
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF --map-size 64 -F 999 -n 3 -- "$T/manystacks" 2 >"$TMP/small" 2>&1 || fail "ebprof failed: $(cat "$TMP/small")"
cat "$TMP/small"
grep -qE '^# warning: [0-9]+ user stacks lost .*--map-size' "$TMP/small" || fail "no loss warning with the fix"
# a big enough map loses nothing
$EBPROF --map-size 65536 -F 999 -n 3 -- "$T/manystacks" 2 >"$TMP/big" 2>&1 || fail "ebprof failed"
grep -q '^# warning' "$TMP/big" && fail "losses with a large map: $(grep warning "$TMP/big")"
grep -qE ', [0-9]+ samples, 0 lost$' "$TMP/big" || fail "header: $(sed -n 2p "$TMP/big")"
# recursion: descend's total counts each sample once, however deep
$EBPROF -F 999 -f json -o "$TMP/p.json" -- "$T/manystacks" 1 2>/dev/null || fail "json run"
python3 - "$TMP/p.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
row = next(f for f in p["functions"] if f["function"] == "descend")
assert row["total"] <= p["samples"], row
assert row["total"] >= 0.95 * p["samples"], (row, p["samples"])
depths = {sum(1 for f in s["frames"] if f["function"] == "descend") for s in p["stacks"]}
print(f"  descend total {row['total']} of {p['samples']}, {len(depths)} distinct depths")
assert len(depths) > 50, depths
PY
exit 0
