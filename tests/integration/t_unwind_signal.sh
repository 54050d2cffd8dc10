#!/bin/bash
# A signal handler's stack continues through the kernel's signal frame
# (__restore_rt) into the code it interrupted, without frame pointers.
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -F 999 -f folded -o "$TMP/p.folded" -- "$T/sigframe" 2 >"$TMP/out" 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
# the handler's share of the CPU time, as the workload measured it: 50 %
# on an idle machine, more with the CPUs busy (see sigframe.c)
truth=$(awk '/^handler_cpu_s/ { printf "%.2f\n", 100 * $2 / $4 }' "$TMP/out")
[ -n "$truth" ] || fail "sigframe printed no timing: $(cat "$TMP/out")"
h=$(share "$TMP/p.folded" ';on_alarm;handler_spin(;|$)')
# the whole chain: from _start through work() (or what it called when the
# signal came: clock_gettime in the vDSO) and the frame, into the handler
whole='^sigframe;_start;__libc_start_main;__libc_start_call_main;main;work;(.*;)?__restore_rt;on_alarm;handler_spin(;|$)'
c=$(share "$TMP/p.folded" "$whole")
info "in the handler: $h % (the workload measured $truth %), with the whole chain through __restore_rt: $c %"
# binomial: each sample is in the handler with the workload's probability
within_binom "$h" "$truth" "$(total "$TMP/p.folded")" || fail "handler share $h %, expected $truth within 5 sigma"
at_least "$c" "$(awk -v h="$h" 'BEGIN { print h * 0.95 }')" ||
	fail "only $c % of $h % cross the signal frame; the others: $(grep -E ';on_alarm;handler_spin(;| )' "$TMP/p.folded" | grep -Ev "$whole" | head -20)"
exit 0
