#!/bin/bash
# Targets that cannot be profiled, and runs that end in unusual ways: each
# says what happened in one line, with the right exit status (issue 18).
. "$(dirname "$0")/lib.sh"
need_root

# a zombie: its parent sleeps without reaping it
python3 -c 'import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
time.sleep(30)' >"$TMP/zombie" &
PIDS+=($!)
for _ in $(seq 50); do [ -s "$TMP/zombie" ] && break; sleep 0.1; done
z=$(cat "$TMP/zombie")
for _ in $(seq 50); do [ "$(awk '{ print $3 }' /proc/$z/stat 2>/dev/null)" = Z ] && break; sleep 0.1; done
for mode in cpu mem stat; do
	$EBPROF $mode -p "$z" -d 1 >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ $rc -eq 1 ] || fail "$mode -p zombie: exit $rc: $(cat "$TMP/err")"
	grep -q "^ebprof: pid $z (.*) is a zombie: it has exited and its parent (pid [0-9]*) has not reaped it" "$TMP/err" ||
		fail "$mode -p zombie: $(cat "$TMP/err")"
	[ "$(wc -l <"$TMP/err")" = 1 ] || fail "$mode -p zombie: more than one line: $(cat "$TMP/err")"
done
info "zombie: one line, exit 1, in cpu, mem and stat"

# a kernel thread: no user space to profile; stat counts it (as perf stat does)
kt=$(pgrep -x kthreadd | head -1)
for mode in cpu mem; do
	$EBPROF $mode -p "$kt" -d 1 >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ $rc -eq 1 ] || fail "$mode -p kthreadd: exit $rc"
	grep -q "^ebprof: pid $kt (kthreadd) is a kernel thread: it has no user space; ebprof -a profiles the kernel" "$TMP/err" ||
		fail "$mode -p kthreadd: $(cat "$TMP/err")"
done
$EBPROF stat -p "$kt" -d 0.2 >/dev/null 2>"$TMP/err" || fail "stat -p kthreadd failed: $(cat "$TMP/err")"
info "kernel thread: refused by cpu and mem, counted by stat"

# a thread id: the whole process, said so
start env WAIT_FOR_SIGUSR1=0 "$T/threads" 30
for _ in $(seq 50); do [ "$(ls /proc/$WPID/task 2>/dev/null | wc -l)" -gt 2 ] && break; sleep 0.1; done
tid=$(ls /proc/$WPID/task | grep -vx "$WPID" | head -1)
[ -n "$tid" ] || fail "threads started no thread"
$EBPROF -p "$tid" -d 1 -f folded -o "$TMP/t.folded" 2>"$TMP/err" || fail "-p TID failed: $(cat "$TMP/err")"
grep -q "^ebprof: pid $tid is a thread of process $WPID (threads): profiling the whole process (--per-thread splits it by thread)" "$TMP/err" ||
	fail "-p TID: $(cat "$TMP/err")"
[ "$(total "$TMP/t.folded")" -gt 50 ] || fail "-p TID: $(total "$TMP/t.folded") samples of a busy process"
kill -9 "$WPID"
info "thread id: the process, said so"

# an idle process: an empty table says why
sleep 30 &
sp=$!
PIDS+=($sp)
$EBPROF -p "$sp" -d 1 >"$TMP/out" 2>"$TMP/err" || fail "-p of sleep failed: $(cat "$TMP/err")"
grep -q "^ebprof: no samples in 1.0[0-9] s: the target ran on a CPU for less than one sample period (10.1 ms); it was waiting or sleeping$" "$TMP/err" ||
	fail "-p of sleep: $(cat "$TMP/err")"
# mem of a process that allocates nothing: says so, and which mode ran
$EBPROF mem -p "$sp" -d 1 >"$TMP/out" 2>"$TMP/err" || fail "mem -p of sleep failed: $(cat "$TMP/err")"
grep -q "exact: the probes stayed on within --overhead 5 %: every allocator call traced" "$TMP/out" ||
	fail "mem -p of sleep: $(head -2 "$TMP/out")"
grep -q "^# no allocations seen in 1.0 s" "$TMP/out" || fail "mem -p of sleep: $(head -3 "$TMP/out")"
info "idle targets: cpu and mem say why their reports are empty"

# -d ends a launched command: a success, said so; otherwise its own status
for mode in cpu stat mem; do
	$EBPROF $mode -d 1 -o "$TMP/p.json" -- sleep 10 >/dev/null 2>"$TMP/err"
	rc=$?
	[ $rc -eq 0 ] || fail "$mode -d 1 -- sleep 10: exit $rc: $(cat "$TMP/err")"
	grep -q "^ebprof: stopped 'sleep' (pid [0-9]*) at the end of -d 1 s$" "$TMP/err" ||
		fail "$mode -d: $(cat "$TMP/err")"
done
$EBPROF -d 5 -o "$TMP/p.json" -- sh -c 'exit 3' 2>"$TMP/err"
[ $? -eq 3 ] || fail "a command that ends itself within -d lost its status"
grep -q stopped "$TMP/err" && fail "said stopped of a command that ended itself"
info "-d: exit 0 with one line when it stopped the command; the command's status otherwise"

# the report on stdout and the command's own output never mix
$EBPROF -f folded -- sh -c 'echo ready 123; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done' >"$TMP/p.folded" 2>"$TMP/err" ||
	fail "folded to stdout failed"
grep -q 'ready 123' "$TMP/p.folded" && fail "the command's output is in the profile: $(head -2 "$TMP/p.folded")"
grep -q '^ready 123$' "$TMP/err" || fail "the command's output is lost: $(cat "$TMP/err")"
awk 'NF < 2 || $NF !~ /^[0-9]+$/ { bad = 1 } END { exit bad }' "$TMP/p.folded" || fail "not all lines are folded stacks"
# with -o the command keeps its stdout
$EBPROF -o "$TMP/p.folded" -- sh -c 'echo hello' >"$TMP/out" 2>/dev/null
[ "$(cat "$TMP/out")" = hello ] || fail "with -o the command's stdout moved"
info "stdout: the profile alone; the command's output on stderr"

# every mode says what it wrote with -o
$EBPROF mem -o "$TMP/m.json" -- "$T/alloc_work" basic 10 100 1 >/dev/null 2>"$TMP/err" || fail "mem -o failed"
grep -q "^ebprof: .* alloc_space of command '.*alloc_work basic 10 100 1' (pid [0-9]*) written to '$TMP/m.json'$" "$TMP/err" ||
	fail "mem -o said: $(cat "$TMP/err")"
info "mem -o says what it wrote"
exit 0
