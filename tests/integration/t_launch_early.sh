#!/bin/bash
# A launched command is walked by unwind tables from its first instruction:
# it stops at exec and at each new executable mapping until ebprof has the
# tables.  early_alloc mallocs 700 blocks as soon as main() starts, without
# frame pointers: all 700 stacks must reach main, in every run (before,
# 0 of 700 did).  Every mode on a launched command shares this.
. "$(dirname "$0")/lib.sh"
need_root
for i in 1 2 3 4 5; do
	$EBPROF mem --exact -f json -o "$TMP/ea.json" -- "$T/early_alloc" >/dev/null 2>"$TMP/err" || fail "ebprof mem: $(cat "$TMP/err")"
	python3 - "$TMP/ea.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
grow = sum(s["allocs"] for s in p["stacks"] if "grow_cache" in [f["function"] for f in s["frames"]])
full = sum(s["allocs"] for s in p["stacks"]
           if [f["function"] for f in s["frames"]][:3] == ["_start", "__libc_start_main", "__libc_start_call_main"]
           and "main" in [f["function"] for f in s["frames"]] and "grow_cache" in [f["function"] for f in s["frames"]])
print("  mem --exact: %d allocations under grow_cache, %d of them walked from _start through main" % (grow, full))
assert grow == 700 and full == 700, (grow, full)
PY
done

# cpu: a 0.3 s command without frame pointers (a fixed amount of work, so
# as many samples however busy the machine), 5 times; every sample in
# hot() walks to main, and every walk is complete: from the first
# instruction (exec's, where ebprof has no tables yet) through the dynamic
# loader (whose entry has no CFI) to the program's own code.  Its process
# before the exec is ebprof's fork, not sampled (as perf enables its events
# on exec).  Before, 1 or 2 of ~330 walks ended short in one run in two.
for i in 1 2 3 4 5; do
	$EBPROF -F 999 -f json -o "$TMP/q.json" -- "$T/qsort_deep" -r 30 >/dev/null 2>"$TMP/err" || fail "ebprof: $(cat "$TMP/err")"
	python3 - "$TMP/q.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
hot = sum(s["count"] for s in p["stacks"] if "hot" in [f["function"] for f in s["frames"]])
full = sum(s["count"] for s in p["stacks"] if "hot" in [f["function"] for f in s["frames"]]
           and [f["function"] for f in s["frames"]][:1] == ["_start"] and "main" in [f["function"] for f in s["frames"]])
q = p["stack_quality"]
print("  cpu: %d samples in hot, %d walked from _start; %d of %d walks complete %s"
      % (hot, full, q["complete"], q["user_stacks"], q["incomplete"] or ""))
assert hot > 100 and full == hot, (hot, full)  # ~300 on a whole CPU
assert q["complete"] == q["user_stacks"] and not q["incomplete"], q
PY
done
exit 0
