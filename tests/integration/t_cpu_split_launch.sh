#!/bin/bash
# Launch mode: burn_a does 3x the work of burn_b, by construction.
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -F 999 -o "$TMP/p.folded" -- "$T/cpu_split" 3 >"$TMP/out" 2>&1 || fail "ebprof failed: $(cat "$TMP/out")"
n=$(total "$TMP/p.folded")
a=$(share "$TMP/p.folded" ';work;burn_a(;|$)')
b=$(share "$TMP/p.folded" ';work;burn_b(;|$)')
info "samples $n, burn_a $a %, burn_b $b %"
# ~3000 at 999 Hz for 3 s on a whole CPU; a machine kept busy gives it
# ~2/3 of one (the share's bound widens with fewer samples, by itself)
at_least "$n" 1000 || fail "too few samples: $n (expected ~3000 at 999 Hz for 3 s)"
within_binom "$a" 75 "$n" || fail "burn_a $a % is not 75 within 5 sigma"
within_binom "$b" 25 "$n" || fail "burn_b $b % is not 25 within 5 sigma"
# the full chain, from libc's start code down to the frameless leaf
m=$(share "$TMP/p.folded" '^cpu_split;_start;__libc_start_main;__libc_start_call_main;main;work;burn_[ab];spin_leaf$')
info "full-chain share $m %"
at_least "$m" 95 || fail "only $m % of stacks show _start;__libc_start_main;__libc_start_call_main;main;work;burn_x;spin_leaf"
grep -q "^work_s" "$TMP/out" || fail "the command's own output is missing"
# the frame-pointer walk (--fp) finds the frameless leaf's caller too
$EBPROF --fp -F 999 -o "$TMP/fp.folded" -- "$T/cpu_split" 3 >/dev/null 2>&1 || fail "ebprof --fp failed"
m=$(share "$TMP/fp.folded" '^cpu_split;__libc_start_call_main;main;work;burn_[ab];spin_leaf$')
info "--fp: full-chain share $m %, burn_a $(share "$TMP/fp.folded" ';burn_a;') %"
at_least "$m" 95 || fail "--fp: only $m % of stacks show __libc_start_call_main;main;work;burn_x;spin_leaf"
within_binom "$(share "$TMP/fp.folded" ';burn_a;')" 75 "$(total "$TMP/fp.folded")" || fail "--fp: burn_a is not 75 within 5 sigma"
exit 0
