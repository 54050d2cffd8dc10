#!/bin/bash
# Debian's python3.11 (no frame pointers) running a pure-Python loop: native
# stacks reach main (and _start beyond it) in >= 95 % of samples; with
# --no-python the eval loop shows as the native frames it is.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3.11
[ -x $PY ] || skip "$PY is not installed"
start $PY -c '
def f(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
while True:
    f(100000)
'
sleep 1
$EBPROF --no-python -p "$WPID" -d 3 -F 499 -o "$TMP/p.json" 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
python3 - "$TMP/p.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
def user(s): return [f["function"] for f in s["frames"] if not f["kernel"]]
tot = p["samples"]
# Debian's main() tail-calls Py_BytesMain: past main, the walk reached the entry
main = sum(s["count"] for s in p["stacks"]
           if user(s)[:3] == ["_start", "__libc_start_main", "__libc_start_call_main"]
           and user(s)[3] in ("main", "Py_BytesMain"))
ev = sum(s["count"] for s in p["stacks"] if "_PyEval_EvalFrameDefault" in user(s))
q = p["stack_quality"]
print(f"  {tot} samples: {100.0 * main / tot:.1f} % from _start through main, {100.0 * ev / tot:.1f} % in the eval loop; quality {q}")
assert main >= 0.95 * tot, "stacks do not reach main"
assert ev >= 0.8 * tot
assert q["complete"] >= 0.95 * q["user_stacks"]
PY
exit 0
