#!/bin/bash
# -a: every process on the machine, grouped by process.
. "$(dirname "$0")/lib.sh"
need_root
start "$T/cpu_split" 8
sleep 0.3
$EBPROF -a -d 3 -F 499 -n 0 >"$TMP/table" 2>"$TMP/err" || fail "ebprof -a failed: $(cat "$TMP/err")"
head -3 "$TMP/table"
grep -q '^# ebprof cpu: all processes' "$TMP/table" || fail "header"
grep -qE '^ +SELF% +TOTAL% +SAMPLES +PROCESS +FUNCTION' "$TMP/table" || fail "no PROCESS column"
grep -E "cpu_split\[$WPID\] +spin_leaf " "$TMP/table" || fail "cpu_split[$WPID] spin_leaf row missing"
$EBPROF -a -d 3 -F 999 -f folded -o "$TMP/all.folded" 2>"$TMP/err" || fail "folded run failed"
grep "^cpu_split-$WPID;" "$TMP/all.folded" >"$TMP/mine.folded"
a=$(share "$TMP/mine.folded" ';burn_a;')
info "burn_a within cpu_split's samples: $a %"
within_binom "$a" 75 "$(total "$TMP/mine.folded")" || fail "burn_a $a % of cpu_split's samples, not 75 within 5 sigma"
# other processes are there too (ebprof's own symbolization at least runs before it stops)
roots=$(cut -d';' -f1 "$TMP/all.folded" | sort -u | wc -l)
[ "$roots" -ge 2 ] || fail "only $roots process seen machine-wide"
exit 0
