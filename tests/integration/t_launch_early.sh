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

# cpu: a 0.3 s command without frame pointers; every sample in hot() walks
# to main, and no walk fell back to frame pointers for want of tables
$EBPROF -F 999 -f json -o "$TMP/q.json" -- "$T/qsort_deep" 0.3 >/dev/null 2>"$TMP/err" || fail "ebprof: $(cat "$TMP/err")"
python3 - "$TMP/q.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
hot = sum(s["count"] for s in p["stacks"] if "hot" in [f["function"] for f in s["frames"]])
full = sum(s["count"] for s in p["stacks"] if "hot" in [f["function"] for f in s["frames"]]
           and [f["function"] for f in s["frames"]][:1] == ["_start"] and "main" in [f["function"] for f in s["frames"]])
inc = p["stack_quality"]["incomplete"]
print("  cpu: %d samples in hot, %d walked from _start; incomplete walks %s" % (hot, full, inc))
assert hot > 100 and full == hot, (hot, full)  # ~300 on a whole CPU
assert not inc.get("frame_pointers") and not inc.get("no_mapping") and not inc.get("no_table"), inc
PY
exit 0
