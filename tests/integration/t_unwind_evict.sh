#!/bin/bash
# A full unwind table pool gives back the rows of files no process uses
# any more: a compile loop's tables (cc1, as, gcc: ~950 000 rows) fill a
# pool sized to them to within 20 rows, then cpu_split runs.  Its table
# (43 rows) has room only if the pool takes back what the compilers left:
# then its stacks are whole (burn_a or burn_b under spin_leaf, the leaf
# without a frame), else it is walked by frame pointers and the callers of
# the leaf are lost (0 of 998 stacks had them when the pool could not).
. "$(dirname "$0")/lib.sh"
need_root
phase_a="bash tests/workloads/compile_loop.sh -r 15 >/dev/null"
$EBPROF -v -F 99 -f folded -o "$TMP/a.folded" -- bash -c "$phase_a" 2>"$TMP/a.err" || fail "phase a: $(cat "$TMP/a.err")"
rows=$(sed -nE 's/.*unwind tables: ([0-9]+) rows of.*/\1/p' "$TMP/a.err")
[ -n "$rows" ] && [ "$rows" -gt 100000 ] || fail "the compile loop's tables: '$rows' rows ($(cat "$TMP/a.err"))"
$EBPROF -v -F 999 --unwind-rows $((rows + 20)) -f folded -o "$TMP/b.folded" \
	-- bash -c "$phase_a; exec $T/cpu_split 1 >/dev/null" 2>"$TMP/b.err" || fail "phase b: $(cat "$TMP/b.err")"
back=$(sed -nE "s/.*; ([0-9]+) files' rows given back.*/\1/p" "$TMP/b.err")
grep '^cpu_split' "$TMP/b.folded" >"$TMP/cs.folded"
n=$(total "$TMP/cs.folded")
whole=$(awk '/;burn_[ab];/ { m += $NF } END { print m + 0 }' "$TMP/cs.folded")
info "pool of $((rows + 20)) rows (the compile loop's $rows + 20): $back files' rows given back; cpu_split: $whole of $n stacks through burn_a or burn_b"
[ "${back:-0}" -ge 1 ] || fail "no rows given back: $(grep -E 'unwind|pool' "$TMP/b.err")"
at_least "$n" 500 || fail "cpu_split: only $n samples"
# every sample's stack whole but for a few at most (1 %: 1020 of 1022 when written)
at_least "$whole" $((n * 99 / 100)) || fail "cpu_split: $whole of $n stacks whole"
a=$(share "$TMP/cs.folded" ';burn_a;')
within_binom "$a" 75 "$n" || fail "burn_a $a %"
exit 0
