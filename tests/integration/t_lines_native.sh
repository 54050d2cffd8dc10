#!/bin/bash
# --lines for native code, from DWARF: cpu_split's burn_a and burn_b each
# spend their time on one line, the call of the work, 3:1 by construction.
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -F 999 --lines burn_a,burn_b -- "$T/cpu_split" 3 >"$TMP/out" 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
python3 - "$TMP/out" tests/workloads/cpu_split.c <<'PY' || exit 1
import re, sys
text = open(sys.argv[1]).read()
src = open(sys.argv[2]).read().splitlines()
secs = {}
for sec in text.split("\nFile: ")[1:]:
    fn = re.search(r"^Function: (\S+) at line (\d+)", sec, re.M)
    tot = int(re.search(r"^Total: (\d+) samples", sec, re.M).group(1))
    rows = {int(m.group(1)): (int(m.group(2)), float(m.group(3)), m.group(4))
            for m in re.finditer(r"^\s*(\d+)\s+(\d+)\s+([\d.]+)  (.*)$", sec, re.M)}
    secs[fn.group(1)] = (int(fn.group(2)), tot, rows, sec)
assert set(secs) == {"burn_a", "burn_b"}, "sections: %s" % sorted(secs)
a, b = secs["burn_a"][1], secs["burn_b"][1]
share = 100.0 * a / (a + b)
for fn, arg in (("burn_a", "spin_leaf(3 * UNIT);"), ("burn_b", "spin_leaf(UNIT);")):
    first, tot, rows, sec = secs[fn]
    want = next(i + 1 for i, l in enumerate(src) if arg in l)
    decl = next(i + 1 for i, l in enumerate(src) if l.startswith("noinline void %s(" % fn))
    n, pct, text_ = rows.get(want, (0, 0.0, ""))
    print("  %s (declared at line %d, report starts at %d): %d samples, line %d '%s' holds %.1f %%"
          % (fn, decl, first, tot, want, text_.strip(), pct))
    assert first == decl, "the report does not start at the function's declaration"
    assert pct >= 98 and arg in text_, "the time is not on the call line"
# 3:1 by construction: 5 binomial sigmas of the samples in both
bound = 5 * 100 * (0.75 * 0.25 / (a + b)) ** 0.5
print("  burn_a is %.1f %% of burn_a + burn_b (%d samples: 75 +- %.1f)" % (share, a + b, bound))
assert abs(share - 75) <= bound
PY
# a function with no samples: one line, non-zero exit
$EBPROF -F 99 --lines no_such_function -- "$T/cpu_split" 0.3 >/dev/null 2>"$TMP/err" && fail "--lines of an unknown function succeeded"
[ "$(wc -l <"$TMP/err")" = 1 ] && grep -q "no samples with line information in a function named 'no_such_function'" "$TMP/err" ||
	fail "unclear error: $(cat "$TMP/err")"
exit 0
