#!/bin/bash
# A 0.3 s command and a child that exits before ebprof are both symbolized.
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -F 999 -o "$TMP/short.folded" -- "$T/cpu_split" 0.3 >/dev/null 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
n=$(total "$TMP/short.folded")
s=$(share "$TMP/short.folded" ';main;work;burn_[ab]')
info "0.3 s command: $n samples, $s % under main;work;burn_a/b"
at_least "$n" 150 || fail "too few samples: $n"
at_least "$s" 90 || fail "only $s % symbolized through main;work"
grep -q '\[unknown\]' "$TMP/short.folded" && grep '\[unknown\]' "$TMP/short.folded" | head -3

$EBPROF -F 999 -o "$TMP/fork.folded" -- "$T/forker" 2>"$TMP/err" || fail "ebprof failed on forker: $(cat "$TMP/err")"
c=$(share "$TMP/fork.folded" '^forker-[0-9]+;.*;main;child_work$')
p=$(share "$TMP/fork.folded" '^forker-[0-9]+;.*;main;parent_work$')
roots=$(grep -E 'child_work|parent_work' "$TMP/fork.folded" | cut -d';' -f1 | sort -u | wc -l)
info "forker: child_work $c %, parent_work $p %, processes $roots"
# 0.5 s each: half the samples each, to 5 binomial sigmas
within_binom "$c" 50 "$(total "$TMP/fork.folded")" || fail "child_work $c % (expected 50 within 5 sigma)"
within_binom "$p" 50 "$(total "$TMP/fork.folded")" || fail "parent_work $p % (expected 50 within 5 sigma)"
[ "$roots" -eq 2 ] || fail "child and parent should be separate processes, got $roots"
exit 0
