#!/bin/bash
# Attach mode (-p) on an already running process: the same 3:1 split.
. "$(dirname "$0")/lib.sh"
need_root
start "$T/cpu_split" 8
sleep 0.5
$EBPROF -p "$WPID" -d 3 -F 999 -f folded -o "$TMP/p.folded" 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
n=$(total "$TMP/p.folded")
a=$(share "$TMP/p.folded" ';burn_a(;|$)')
b=$(share "$TMP/p.folded" ';burn_b(;|$)')
info "samples $n, burn_a $a %, burn_b $b %"
# ~3000 at 999 Hz for 3 s on a whole CPU; a machine kept busy gives it
# ~2/3 of one (the share's bound widens with fewer samples, by itself)
at_least "$n" 1000 || fail "too few samples: $n (expected ~3000 at 999 Hz for 3 s)"
within_binom "$a" 75 "$n" || fail "burn_a $a % is not 75 within 5 sigma"
within_binom "$b" 25 "$n" || fail "burn_b $b % is not 25 within 5 sigma"
# the table shows the same thing, with the header
$EBPROF -p "$WPID" -d 1 -n 5 >"$TMP/table" 2>&1 || fail "table run failed"
grep -q "^# ebprof cpu: pid $WPID (cpu_split)" "$TMP/table" || fail "no header: $(head -3 "$TMP/table")"
grep -qE '^ +[0-9.]+ +[0-9.]+ +[0-9]+  spin_leaf +cpu_split$' "$TMP/table" || fail "spin_leaf is not the top row: $(cat "$TMP/table")"
exit 0
