#!/bin/bash
# The target exits mid-profile: ebprof stops, symbolizes and exits 0.
. "$(dirname "$0")/lib.sh"
need_root
start "$T/cpu_split" 1.5
sleep 0.2
t0=$(date +%s%N)
$EBPROF -p "$WPID" -d 30 -F 999 -f folded -o "$TMP/p.folded" 2>"$TMP/err" || fail "ebprof exited $? : $(cat "$TMP/err")"
secs=$(awk -v d=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.2f", d / 1e9 }')
info "ebprof ran $secs s for a target that lived 1.3 s more"
at_least 3 "$secs" || fail "ebprof took $secs s to notice the exit"
within_binom "$(share "$TMP/p.folded" ';burn_a')" 75 "$(total "$TMP/p.folded")" || fail "burn_a not 75 within 5 sigma after the target exited"
exit 0
