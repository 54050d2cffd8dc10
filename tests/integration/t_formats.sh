#!/bin/bash
# The four outputs agree with each other; -o picks the format by extension.
. "$(dirname "$0")/lib.sh"
need_root
start "$T/cpu_split" 10
sleep 0.3
for ext in folded json svg txt; do
	$EBPROF -p "$WPID" -d 1 -F 999 -o "$TMP/p.$ext" 2>/dev/null || fail "-o p.$ext failed"
done
head -c 5 "$TMP/p.svg" | grep -q '<?xml' || fail "p.svg is not SVG"
grep -q '^# ebprof cpu' "$TMP/p.txt" || fail "p.txt is not a table"
python3 - "$TMP" <<'PY' || exit 1
import json, sys, xml.dom.minidom
d = sys.argv[1]
p = json.load(open(d + "/p.json"))
assert p["samples"] == sum(s["count"] for s in p["stacks"]), "samples != sum of stacks"
assert p["functions"][0]["function"] == "spin_leaf", p["functions"][0]
for s in p["stacks"]:
    assert s["frames"], "empty stack"
tot_a = sum(s["count"] for s in p["stacks"] if any(f["function"] == "burn_a" for f in s["frames"]))
# 3:1 by construction: 5 binomial sigmas of the samples
assert abs(100.0 * tot_a / p["samples"] - 75) <= 5 * 100 * (0.75 * 0.25 / p["samples"]) ** 0.5, tot_a
# the SVG parses as XML, is self-contained, and its root holds every sample
svg = xml.dom.minidom.parse(d + "/p.svg")
titles = [t.firstChild.data for t in svg.getElementsByTagName("title")]
assert titles[0].startswith("all ("), titles[0]
assert any(t.startswith("burn_a (") for t in titles)
assert not svg.getElementsByTagName("image") and "href" not in open(d + "/p.svg").read()
# folded lines are comm;frames count, counts positive integers
for line in open(d + "/p.folded"):
    stack, n = line.rsplit(" ", 1)
    assert int(n) > 0 and stack.startswith("cpu_split;"), line
print("  json, svg and folded agree")
PY
# --format wins over the extension
$EBPROF -p "$WPID" -d 0.5 --format folded -o "$TMP/x.json" 2>/dev/null || fail "--format run failed"
grep -q '^cpu_split;' "$TMP/x.json" || fail "--format folded ignored"
# deterministic: the same counts render the same text
$EBPROF -p "$WPID" -d 0.5 -f json 2>/dev/null | python3 -c 'import json,sys; json.load(sys.stdin)' || fail "json to stdout"
exit 0
