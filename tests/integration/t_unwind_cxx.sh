#!/bin/bash
# C++ at -O2 without frame pointers (exceptions, inlined lambdas, a virtual
# call): native stacks reach main in >= 95 % of samples.
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -F 999 -o "$TMP/p.json" -- "$T/cxx_exc" 2 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
python3 - "$TMP/p.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
def user(s): return [f["function"] for f in s["frames"] if not f["kernel"]]
tot = p["samples"]
main = sum(s["count"] for s in p["stacks"] if user(s)[:4] == ["_start", "__libc_start_main", "__libc_start_call_main", "main"])
area = sum(s["count"] for s in p["stacks"] if user(s)[-2:] == ["main", "Square::area(int) const"])
sort = sum(s["count"] for s in p["stacks"] if "sort_work(std::vector<int, std::allocator<int> >&)" in user(s))
print(f"  {tot} samples: {100.0 * main / tot:.1f} % reach main; Square::area {100.0 * area / tot:.1f} %, under sort_work {100.0 * sort / tot:.1f} %")
assert main >= 0.95 * tot
assert area > 0.1 * tot and sort > 0.2 * tot
PY
exit 0
