#!/bin/bash
# Without frame pointers (-O2 -fomit-frame-pointer) under libc's qsort and 12
# levels of recursion, >= 95 % of samples show the whole chain, and it is
# the chain gdb's bt shows at a breakpoint in hot() (physical frames).
. "$(dirname "$0")/lib.sh"
need_root
command -v gdb >/dev/null || skip "gdb is not installed"
bt=$(gdb -batch -x tests/integration/gdb_bt.py --args "$T/qsort_deep" 1 2>/dev/null | sed -n 's/^BT://p')
[ -n "$bt" ] || fail "gdb gave no backtrace"
info "gdb: $bt"
$EBPROF -F 999 -o "$TMP/dwarf.json" -- "$T/qsort_deep" 3 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
$EBPROF --fp -F 999 -o "$TMP/fp.json" -- "$T/qsort_deep" 2 2>"$TMP/err" || fail "ebprof --fp failed: $(cat "$TMP/err")"
python3 - "$bt" "$TMP/dwarf.json" "$TMP/fp.json" <<'PY' || exit 1
import json, re, sys

def norm(name):
    # gdb names functions by DWARF (__GI___qsort_r, __libc_start_main_impl),
    # ebprof by ELF symbol (qsort_r, __libc_start_main, msort_with_tmp.part.0)
    name = re.sub(r"\.(part|constprop|isra|cold)\.?\d*", "", name)
    name = re.sub(r"^__GI_", "", name).lstrip("_")
    return re.sub(r"_impl$", "", name)

gdb = [norm(f) for f in sys.argv[1].split(";")]
qi = gdb.index("qsort_r")
ci = gdb.index("cmp")
prefix, middle, suffix = gdb[:qi + 1], set(gdb[qi + 1:ci]), gdb[ci:]
assert suffix == ["cmp", "hot"], suffix
assert prefix[:4] == ["start", "libc_start_main", "libc_start_call_main", "main"], prefix
assert prefix.count("descend") == 13, prefix

def matches(frames):
    f = [norm(x["function"]) for x in frames if not x["kernel"]]
    return (f[:len(prefix)] == prefix and f[-len(suffix):] == suffix
            and set(f[len(prefix):-len(suffix)]) <= middle)

def share(path):
    p = json.load(open(path))
    good = sum(s["count"] for s in p["stacks"] if matches(s["frames"]))
    return 100.0 * good / p["samples"], p

d, p = share(sys.argv[2])
f, _ = share(sys.argv[3])
q = p["stack_quality"]
print(f"  whole chain as gdb shows it: {d:.1f} % with unwind tables, {f:.1f} % with frame pointers")
print(f"  stack quality: {100.0 * q['complete'] / q['user_stacks']:.1f} % complete, others {q['incomplete']}")
assert d >= 95, f"only {d:.1f} % of samples show gdb's chain"
assert f < 50, f"frame pointers alone matched {f:.1f} %: the workload no longer tests unwinding"
assert q["unwinder"] == "dwarf"
PY
exit 0
