#!/bin/bash
# ebprof mem on a launched CPython, its default: the interposer wraps the
# interpreter's object allocator (PyMem_SetAllocator before it starts),
# pymalloc kept.  Checked by construction: small objects still in
# pymalloc's arenas (none in the brk heap, where malloc puts them), each
# block 16 bytes larger (the stride between floats made in a row); the
# blocks pymalloc asks of malloc for itself counted once (K objects of 633
# bytes: K more allocations, K x 633 more bytes, as valgrind counts them
# with PYTHONMALLOC=malloc); an allocator the user chose (PYTHONMALLOC,
# -X dev, PYTHONDEVMODE) or a CPython before 3.8 left alone, and the
# report says its objects are not counted.
. "$(dirname "$0")/lib.sh"
need_root
DEB=/usr/bin/python3.11
[ -x "$DEB" ] || skip "no $DEB"
W=$PWD/tests/workloads/py_pymalloc.py
K=10000
# the same objects every run (dicts and sets are laid out by the hash seed)
export PYTHONHASHSEED=0

run() {	# NAME K [none]: ebprof mem's JSON in $TMP/NAME.json, the script's output in $TMP/NAME.out
	local name=$1
	shift
	$EBPROF mem -f json -o "$TMP/$name.json" -- "$DEB" "$W" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" ||
		fail "ebprof mem ($name): $(cat "$TMP/$name.err")"
}
run none $K none
run big $K
"$DEB" "$W" 0 >"$TMP/bare.out" || fail "$DEB $W"
grep -q 'is CPython: ebprof.s counter wraps its object allocator' "$TMP/big.err" ||
	fail "the wrapper not said: $(cat "$TMP/big.err")"
if command -v valgrind >/dev/null; then
	for x in none big; do
		PYTHONMALLOC=malloc valgrind "$DEB" "$W" $K $([ $x = none ] && echo none) >/dev/null 2>"$TMP/vg-$x" ||
			fail "valgrind: $(tail -3 "$TMP/vg-$x")"
	done
	vg=$(for x in none big; do
		sed -n 's/.*total heap usage: \([0-9,]*\) allocs, [0-9,]* frees, \([0-9,]*\) bytes allocated.*/\1 \2/p' "$TMP/vg-$x" | tr -d ,
	done | tr '\n' ' ')
else
	info "valgrind is not installed: against the objects' own sizes only"
	vg=""
fi
python3 - "$TMP" $K "$vg" <<'PY' || exit 1
import json, sys
tmp, k, vg = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
def out(name):
    return dict(l.split()[:2] for l in open("%s/%s.out" % (tmp, name)) if l.startswith(("heap", "stride")))
bare, big = out("bare"), out("big")
print("  floats in the brk heap: %s bare, %s under ebprof; stride %s bare, %s under ebprof"
      % (bare["heap"], big["heap"], bare["stride"], big["stride"]))
# pymalloc kept: its arenas are mappings of their own; a block 16 bytes larger (a float: 24 bytes, 32 -> 48)
assert big["heap"] == "0", big
assert int(big["stride"]) == int(bare["stride"]) + 16, (bare, big)
t = {}
for x in ("none", "big"):
    p = json.load(open("%s/%s.json" % (tmp, x)))
    assert p["interposer"]["python_allocator"] == "wrapped", p["interposer"]
    t[x] = p["totals"]
da = t["big"]["allocs"] - t["none"]["allocs"]
db = t["big"]["bytes_allocated"] - t["none"]["bytes_allocated"]
print("  K = %d objects of 633 bytes: %d more allocations, %d more bytes" % (k, da, db), end="")
# once each (twice would be 2K); what else the loop makes differs by a few objects between the runs
assert abs(da - k) <= 50 and abs(db - 633 * k) <= 2000, (da, db)
if vg:
    va, vb = int(vg[2]) - int(vg[0]), int(vg[3]) - int(vg[1])
    print(" (valgrind, PYTHONMALLOC=malloc: %d, %d)" % (va, vb))
    # the same calls but for the environment's few (ebprof's two variables, valgrind's)
    assert abs(da - va) <= 4 and abs(db - vb) <= 256, (da, db, va, vb)
else:
    print()
PY
[ $? -eq 0 ] || exit 1

# the user's choice kept, and the objects it hides said
chosen() {	# WHAT JSON-VALUE ENV... -- ARGS
	local what=$1 want=$2 envs=() args
	shift 2
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" $EBPROF mem -f json -o "$TMP/c.json" -- "$@" >"$TMP/c.out" 2>"$TMP/c.err" ||
		fail "ebprof mem ($what): $(cat "$TMP/c.err")"
	env "${envs[@]}" $EBPROF mem -o "$TMP/c.txt" -- "$@" >/dev/null 2>&1 || fail "ebprof mem ($what), table"
	got=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["interposer"]["python_allocator"])' "$TMP/c.json")
	[ "$got" = "$want" ] || fail "$what: python_allocator $got, not $want"
	if [ "$want" = wrapped ] || [ "$want" = None ]; then
		grep -q INCOMPLETE "$TMP/c.txt" && fail "$what: said incomplete: $(grep -A2 INCOMPLETE "$TMP/c.txt")"
	else
		grep -q 'warning: counts are INCOMPLETE: .*CPython' "$TMP/c.txt" || fail "$what: not said: $(head -12 "$TMP/c.txt")"
	fi
	info "$what: $got, $(sed -n 's/^heap/in the brk heap:/p' "$TMP/c.out")"
}
chosen "PYTHONMALLOC=pymalloc" "not wrapped" PYTHONMALLOC=pymalloc -- "$DEB" "$W" 0
chosen "PYTHONDEVMODE=1" "not wrapped" PYTHONDEVMODE=1 -- "$DEB" "$W" 0
chosen "-X dev" "not wrapped" -- "$DEB" -X dev "$W" 0
chosen "-E with PYTHONMALLOC=pymalloc" wrapped PYTHONMALLOC=pymalloc -- "$DEB" -E "$W" 0
chosen "PYTHONMALLOC=malloc" None PYTHONMALLOC=malloc -- "$DEB" "$W" 0
grep -q '^heap 2000 of 2000' "$TMP/c.out" || fail "PYTHONMALLOC=malloc: $(cat "$TMP/c.out")"
PY37=$(ls -d "$(pyenv root 2>/dev/null)"/versions/3.7*/bin/python3 2>/dev/null | head -1)
if [ -x "$PY37" ]; then
	chosen "CPython 3.7" "not wrapped (before 3.8)" -- "$PY37" "$W" 0
else
	info "no CPython 3.7 in pyenv: not checked"
fi
[ "$(ebprof_progs)" = 0 ] || fail "BPF programs left loaded"
ls -d /tmp/ebprof-mem.* 2>/dev/null && fail "the interposer's files were left in /tmp"
exit 0
