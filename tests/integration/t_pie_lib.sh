#!/bin/bash
# A PIE executable and a function in a shared library the tests build.
. "$(dirname "$0")/lib.sh"
need_root
readelf -h "$T/pie_main" | grep -q 'DYN' || fail "pie_main is not PIE"
$EBPROF -F 499 -o "$TMP/p.json" -- "$T/pie_main" 2 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
python3 - "$TMP/p.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
tot = p["samples"]
def share(fn, mod):
    return 100.0 * sum(s["count"] for s in p["stacks"]
                       if s["frames"] and s["frames"][-1]["function"] == fn and s["frames"][-1]["module"] == mod) / tot
e, l = share("exe_hot", "pie_main"), share("lib_hot", "libhot.so")
print(f"  samples {tot}, exe_hot {e:.1f} %, lib_hot {l:.1f} %")
assert tot > 300, "too few samples"  # ~1000 on a whole CPU
# 1:1 by construction: 5 binomial sigmas of the samples (5.8 % at 1000)
bound = 5 * 100 * (0.25 / tot) ** 0.5
assert abs(e - 50) <= bound, f"exe_hot {e} not 50 +- {bound:.1f}"
assert abs(l - 50) <= bound, f"lib_hot {l} not 50 +- {bound:.1f}"
callers = {tuple(f["function"] for f in s["frames"][-2:]) for s in p["stacks"] if s["frames"][-1]["function"] == "lib_hot"}
assert ("main", "lib_hot") in callers, f"lib_hot's caller is not main: {callers}"
PY
exit 0
