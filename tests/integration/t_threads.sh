#!/bin/bash
# Threads created after ebprof attached are profiled, each with its stack.
. "$(dirname "$0")/lib.sh"
need_root
start_held "$T/threads" 2
$EBPROF -p "$WPID" -d 4 -F 499 --per-thread -f folded -o "$TMP/p.folded" 2>"$TMP/err" &
EP=$!
sleep 1	# attached well before the threads exist
[ -d "/proc/$WPID/task" ] && [ "$(ls /proc/$WPID/task | wc -l)" -eq 1 ] || fail "threads started early"
kill -USR1 "$WPID"
wait $EP || fail "ebprof failed: $(cat "$TMP/err")"
wait "$WPID" 2>/dev/null
n=$(total "$TMP/p.folded")
cpu=$(sed -n 's/^done cpu_s //p' "$TMP/workload.out")
w=$(share "$TMP/p.folded" ';start_thread;thread_worker;thread_worker_loop$')
tids=$(grep thread_worker_loop "$TMP/p.folded" | cut -d';' -f1 | sort -u | wc -l)
info "samples $n, thread_worker_loop $w %, threads $tids; the threads ran ${cpu:-?} s on a CPU"
# a sample every 1/499 s of the threads' CPU time (~2000 on two whole
# CPUs, fewer when other work shares them): within 5 Poisson sigmas
awk -v n="$n" -v c="${cpu:-0}" 'BEGIN { e = 499 * c; exit !(c > 0.5 && (n - e) ^ 2 <= 25 * e) }' ||
	fail "$n samples for ${cpu:-?} s of CPU at 499 Hz"
at_least "$w" 95 || fail "thread_worker_loop (under start_thread) only $w %"
[ "$tids" -eq 2 ] || fail "expected samples from 2 threads, got $tids"
exit 0
