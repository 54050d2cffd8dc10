#!/bin/bash
# -a: every process on the machine, a row per command (--per-pid: per process).
. "$(dirname "$0")/lib.sh"
need_root
start "$T/cpu_split" 30
W1=$WPID
start "$T/cpu_split" 30
W2=$WPID
sleep 0.3
# by command: the two cpu_split are one row, with no pid
$EBPROF -a -d 3 -F 499 -n 0 >"$TMP/table" 2>"$TMP/err" || fail "ebprof -a failed: $(cat "$TMP/err")"
head -3 "$TMP/table"
grep -q '^# ebprof cpu: all processes' "$TMP/table" || fail "header"
grep -qE '^ +SELF% +TOTAL% +SAMPLES +PROCESS +FUNCTION' "$TMP/table" || fail "no PROCESS column"
[ "$(grep -cE ' cpu_split +spin_leaf ' "$TMP/table")" = 1 ] || fail "not one cpu_split spin_leaf row: $(grep spin_leaf "$TMP/table")"
grep -qE 'cpu_split\[' "$TMP/table" && fail "a cpu_split row by pid without --per-pid"
# --per-pid: a row each
$EBPROF -a --per-pid -d 3 -F 499 -n 0 >"$TMP/table" 2>"$TMP/err" || fail "ebprof -a --per-pid failed: $(cat "$TMP/err")"
grep -E "cpu_split\[$W1\] +spin_leaf " "$TMP/table" && grep -qE "cpu_split\[$W2\] +spin_leaf " "$TMP/table" ||
	fail "--per-pid: cpu_split[$W1] and [$W2] spin_leaf rows missing"
# the 3:1 split of the command's samples, by command and by process
$EBPROF -a -d 3 -F 999 -f folded -o "$TMP/all.folded" 2>"$TMP/err" || fail "folded run failed"
grep "^cpu_split;" "$TMP/all.folded" >"$TMP/mine.folded"
a=$(share "$TMP/mine.folded" ';burn_a;')
info "burn_a within the cpu_split command's samples: $a % of $(total "$TMP/mine.folded")"
within_binom "$a" 75 "$(total "$TMP/mine.folded")" || fail "burn_a $a % of cpu_split's samples, not 75 within 5 sigma"
$EBPROF -p "$W1,$W2" --per-pid -d 2 -F 999 -f folded -o "$TMP/pids.folded" 2>"$TMP/err" || fail "-p A,B --per-pid failed"
for w in $W1 $W2; do
	grep "^cpu_split-$w;" "$TMP/pids.folded" >"$TMP/one.folded"
	a=$(share "$TMP/one.folded" ';burn_a;')
	within_binom "$a" 75 "$(total "$TMP/one.folded")" || fail "pid $w: burn_a $a %, not 75 within 5 sigma"
done
kill "$W1" "$W2"
# ebprof itself is left out unless --include-self: a loop of execs keeps
# it busy reading each new process's mappings, so with --include-self it
# has samples (1046 of 4074 at 999 Hz when written), without none at all
start bash -c 'while :; do /bin/true; done'
sleep 0.3
for s in "" --include-self; do
	$EBPROF -a -d 2 -F 999 $s -f folded -o "$TMP/self.folded" 2>"$TMP/err" || fail "-a $s failed: $(cat "$TMP/err")"
	n=$(grep '^ebprof;' "$TMP/self.folded" | awk '{ n += $NF } END { print n + 0 }')
	info "-a ${s:-(default)}: ebprof's own samples $n of $(total "$TMP/self.folded")"
	if [ -z "$s" ]; then
		[ "$n" = 0 ] || fail "ebprof's own process in its -a profile: $n samples"
		# other processes are there: the loop's bash and true at least
		roots=$(cut -d';' -f1 "$TMP/self.folded" | sort -u | wc -l)
		[ "$roots" -ge 2 ] || fail "only $roots commands seen machine-wide"
	else
		[ "$n" -ge 20 ] || fail "--include-self: only $n samples of ebprof's own"
	fi
done
exit 0
