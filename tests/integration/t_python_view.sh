#!/bin/bash
# The table a Python user expects: tests/workloads/py_json.py spends its time
# in the standard library's C code (json's encoder and scanner, re), called
# from encode(), decode() and scan(), which time themselves.  By default the
# table of a Python target is by Python function (a sample counts for its
# innermost Python frame, the C code it called included): its first row is
# a Python function, and each of the three holds its measured share of the
# CPU time; --view mixed and native show the C frames, in every format.
. "$(dirname "$0")/lib.sh"
need_root
# Debian's python3.11 (static, LTO, stripped: the Python most users run);
# the view is made from the stacks, the same for every version
for py in /usr/bin/python3.11; do
	[ -x "$py" ] || { info "$py absent: skipped"; continue; }
	# the default table: Python functions, and the header says so
	$EBPROF -F 999 -n 5 -o "$TMP/t.txt" -- "$py" tests/workloads/py_json.py 2 >"$TMP/w1" 2>"$TMP/err" ||
		fail "$py: $(cat "$TMP/err")"
	grep -q "^# view: python: rows by Python function.*--view mixed" "$TMP/t.txt" || fail "$py: no view line: $(head -6 "$TMP/t.txt")"
	first=$(awk '/^ +SELF%/ { getline; print; exit }' "$TMP/t.txt")
	info "$py, first row: $first"
	[[ $first =~ \ \(.*\.py\)\ +/.*\.py$ ]] || fail "$py: the first row is not a Python function: $first"

	# the shares of encode, decode and scan (TOTAL: with what they called)
	# against the workload's own thread CPU time for each
	$EBPROF -F 999 --view python -f json -o "$TMP/p.json" -- "$py" tests/workloads/py_json.py 3 >"$TMP/w" 2>"$TMP/err" ||
		fail "$py --view python: $(cat "$TMP/err")"
	python3 - "$TMP/p.json" "$(grep '^cpu ' "$TMP/w")" "$py" <<'PY' || exit 1
import json, math, sys
p = json.load(open(sys.argv[1]))
w = sys.argv[2].split()
truth = {w[i]: float(w[i + 1]) for i in range(1, len(w), 2)}
assert p["view"] == "python", p["view"]
tot = {}
for f in p["functions"]:
    name = f["function"].split(" (")[0]
    if name in truth and f["module"].endswith("py_json.py"):
        tot[name] = tot.get(name, 0) + f["total"]
n = sum(tot.values())
# a stack with a Python frame shows only Python frames
mixed = [s for s in p["stacks"] if any(fr.get("python") for fr in s["frames"])
         and not all(fr.get("python") for fr in s["frames"])]
assert not mixed, mixed[0]
ok = True
for k in ("encode", "decode", "scan"):
    share = 100 * tot.get(k, 0) / max(n, 1)
    want = 100 * truth[k] / sum(truth.values())
    # 5 binomial sigmas of the n samples in the three
    d = 5 * 100 * math.sqrt(want / 100 * (1 - want / 100) / max(n, 1))
    print("  %s: %s %.1f %% of %d samples in the three, timed %.1f %% +- %.1f" % (sys.argv[3], k, share, n, want, d))
    ok = ok and abs(share - want) <= d
assert ok and n > 1500
PY
	# mixed: the C frames are there again, between the Python ones; the
	# C code of json and re, each its own row, come first
	$EBPROF -F 999 --view mixed -n 5 -o "$TMP/m.txt" -- "$py" tests/workloads/py_json.py 1 >/dev/null 2>&1 || fail "$py --view mixed"
	grep -q "^# view:" "$TMP/m.txt" && fail "$py: --view mixed says a view"
	first=$(awk '/^ +SELF%/ { getline; print; exit }' "$TMP/m.txt")
	[[ $first =~ \.py$ ]] && fail "$py --view mixed: a Python function first: $first"
	$EBPROF -F 999 --view native -f folded -o "$TMP/n.folded" -- "$py" tests/workloads/py_json.py 1 >/dev/null 2>&1 || fail "$py --view native"
	grep -q '\.py' "$TMP/n.folded" && fail "$py --view native: a Python frame in the folded stacks"
done
# a native profile has no view line
$EBPROF -F 999 -o "$TMP/c.txt" -- "$T/cpu_split" 0.3 >/dev/null 2>&1 || fail "cpu_split"
grep -q "^# view:" "$TMP/c.txt" && fail "a native profile says a view"
"$EBPROF" mem --view python -- true 2>"$TMP/e"; [ $? = 2 ] || fail "mem took --view: $(cat "$TMP/e")"
exit 0
