#!/bin/bash
# ebprof mem on CPython 3.13 (launched and attached), Debian's python3.11
# beside valgrind: the third part of t_mem_python.sh (helpers: pymem.sh).
. "$(dirname "$0")/lib.sh"
need_root
. "$(dirname "$0")/pymem.sh"
builds 3.13

# Debian's, launched, beside valgrind on the same script at two sizes:
# what the work allocates (the second run less the first) is the same to
# the call and the byte.  The start-up differs by a constant (12
# allocations, 32 frees, ~500 bytes here; more bytes with longer paths):
# valgrind adds 4 variables to the environment (LD_PRELOAD and others),
# which Python copies into os.environ.
if command -v valgrind >/dev/null; then
	$EBPROF mem --exact -f json -o "$TMP/ldebian.json" -- "$DEB" "$W" $N $M $K >/dev/null 2>"$TMP/l1.err" ||
		fail "mem -- python3.11: $(cat "$TMP/l1.err")"
	python3 "$TMP/by.py" "$TMP/ldebian.json" "$TMP/ldebian.sum"
	$EBPROF mem --exact -f json -o "$TMP/l2.json" -- "$DEB" "$W" $((2 * N)) $((2 * M)) $((2 * K)) >/dev/null 2>"$TMP/l2.err" ||
		fail "mem -- python3.11 (twice the work): $(cat "$TMP/l2.err")"
	python3 "$TMP/by.py" "$TMP/l2.json" "$TMP/l2.sum"
	for x in 1 2; do
		PYTHONMALLOC=malloc valgrind "$DEB" "$W" $((x * N)) $((x * M)) $((x * K)) >/dev/null 2>"$TMP/vg$x.err"
	done
	python3 - "$TMP/ldebian.sum" "$TMP/l2.sum" "$(grep -o 'total heap usage: .*' "$TMP/vg1.err" | tr -d ,)" \
		"$(grep -o 'total heap usage: .*' "$TMP/vg2.err" | tr -d ,)" <<'PY' || exit 1
import json, re, sys
e = [json.load(open(a))["t"] for a in sys.argv[1:3]]
# the frees of the interpreter's teardown are not counted as frees (what it held is what it held then): valgrind's are
e = [(t["allocs_all"], t["frees_all"], t["bytes_all"]) for t in e]
v = [tuple(int(x) for x in re.findall(r"(\d+) allocs (\d+) frees (\d+) bytes", a)[0]) for a in sys.argv[3:5]]
de, dv = [b - a for a, b in zip(*e)], [b - a for a, b in zip(*v)]
print("  debian, launched: %d allocs, %d frees, %d bytes; valgrind %d, %d, %d; the work (twice less once): ebprof %s, valgrind %s"
      % (e[0] + v[0] + (tuple(de), tuple(dv))))
assert de == dv, (de, dv)
assert all(0 <= b - a <= 64 for a, b in zip(e[0][:2], v[0][:2])), (e, v)
PY
fi

exit 0
