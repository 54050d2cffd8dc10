#!/bin/bash
# A signal handler's stack continues through the kernel's signal frame
# (__restore_rt) into the code it interrupted, without frame pointers.
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -F 999 -f folded -o "$TMP/p.folded" -- "$T/sigframe" 2 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
h=$(share "$TMP/p.folded" ';on_alarm;handler_spin$')
c=$(share "$TMP/p.folded" '^sigframe;_start;__libc_start_main;__libc_start_call_main;main;work;__restore_rt;on_alarm;handler_spin$')
info "in the handler: $h %, with the whole chain through __restore_rt: $c %"
# 5 ms of every 10 ms in the handler: half the samples, to 5 binomial sigmas
within_binom "$h" 50 "$(total "$TMP/p.folded")" || fail "handler share $h %, expected 50 within 5 sigma"
at_least "$c" "$(awk -v h="$h" 'BEGIN { print h * 0.95 }')" || fail "only $c % of $h % cross the signal frame: $(grep handler_spin "$TMP/p.folded" | head -2)"
exit 0
