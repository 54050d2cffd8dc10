#!/bin/bash
# ebprof mem on the CPython builds here (Debian's static LTO+PGO python3.11,
# pyenv's shared 3.8-3.13), launched and attached (-p), against objects made
# in known numbers (tests/workloads/py_objects.py): ints() keeps N ints and
# drops the N range made, strs() keeps M string keys, temps() makes and drops
# K bytes objects.
. "$(dirname "$0")/lib.sh"
need_root
. "$(dirname "$0")/pymem.sh"
# (3.11 and 3.12: t_mem_python2.sh; 3.13 and valgrind: t_mem_python3.sh;
# each file within run.sh's 120 s)
builds debian 3.8 3.9 3.10

# Debian's, attached: pymalloc inlined into 242 call sites, where no probe
# sees it.  Said, and the Python allocators left out rather than seen in
# part (the exported PyObject_Free gets the frees of objects whose
# allocations were inlined): what is counted is libc's, consistent.
attach "$DEB" pdeb --exact
python3 - "$TMP/pdeb.sum" <<'PY' || exit 1
import json, sys
s = json.load(open(sys.argv[1])); t = s["t"]
print("  debian, -p: %d call sites inline the allocator; %d allocations, %d frees (libc's); ints %d"
      % (s["inlined"], t["allocs"], t["frees"], s["by"]["ints"][0]))
assert s["inlined"] >= 16 and not s["incomplete"], s
assert t["frees"] - s["unseen"] <= t["allocs"] and s["by"]["ints"][0] < 100, s
PY
grep -q "inlines CPython's object allocator into [0-9]* call sites" "$TMP/pdeb.err" ||
	fail "mem -p on Debian's python3.11 did not say what it cannot see: $(cat "$TMP/pdeb.err")"
grep -q "python_allocator_inlined\": [1-9]" "$TMP/pdeb.json" || fail "the JSON does not say what -p cannot see"

# Debian's, launched, the budgeted mode (--overhead: the probes, not the interposer): estimates within the
# bounds printed, or floors that say so.  CPython allocates every few
# hundred ns, against ~15 us of traps a call (4.4x its work between calls
# in a run of 4.2 million): floors, and a run this short has too few
# windows to scale by anyway
$EBPROF mem --overhead 5 -f json -o "$TMP/bdeb.json" -- "$DEB" "$W" $N $M $K >/dev/null 2>"$TMP/bdeb.err" || fail "mem -- python3.11: $(cat "$TMP/bdeb.err")"
python3 "$TMP/by.py" "$TMP/bdeb.json" "$TMP/bdeb.sum"
python3 - "$TMP/bdeb.sum" "$TMP/ldebian.sum" <<'PY' || exit 1
import json, sys
s, x = (json.load(open(a)) for a in sys.argv[1:3]); t, e = s["t"], s["est"]
print("  debian, default mode: %s%d allocations of %d (the exact run), +- %.0f %%, %d windows"
      % (">= " if e["floor_only"] else "~", t["allocs"], x["t"]["allocs"], 100 * e["uncertainty"], e["windows"]))
if e["floor_only"]:
    assert t["allocs"] <= x["t"]["allocs"] * 1.01, (t, x["t"])
else:
    assert abs(t["allocs"] / x["t"]["allocs"] - 1) <= e["uncertainty"] + 0.01, (t, e)
PY
grep -q "counts are FLOORS" <("$EBPROF" mem --overhead 5 -- "$DEB" "$W" $N $M $K 2>/dev/null) || fail "the default mode's table does not say its counts are floors"

# -p, every call, on a process freeing thousands of blocks it made before
# the attach, after the first 2 s: said as counts that may be incomplete
start_held "$T/alloc_work" hold 5000 100
$EBPROF mem -v --exact -p "$WPID" -d 8 -o "$TMP/late.txt" 2>"$TMP/late.err" &
E=$!
for _ in $(seq 400); do grep -q "tracing the allocations" "$TMP/late.err" && break; sleep 0.05; done
sleep 2.5
kill -USR1 "$WPID"
wait $E || fail "mem -p on old frees: $(cat "$TMP/late.err")"
grep -q "counts may be INCOMPLETE: 5001 of the 5001 frees after the first 2 s" "$TMP/late.txt" ||
	fail "5000 frees of blocks from before the attach not said: $(head -5 "$TMP/late.txt")"
info "old blocks freed late: $(grep -o 'counts may be INCOMPLETE: [0-9]* of the [0-9]* frees' "$TMP/late.txt")"
exit 0
