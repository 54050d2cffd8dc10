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
n=$(total "$TMP/p.folded")
w=$(share "$TMP/p.folded" ';start_thread;thread_worker;thread_worker_loop$')
tids=$(grep thread_worker_loop "$TMP/p.folded" | cut -d';' -f1 | sort -u | wc -l)
info "samples $n, thread_worker_loop $w %, threads $tids"
# ~2000 on two whole CPUs; fewer when other work shares them
at_least "$n" 600 || fail "too few samples: $n (2 threads x 2 s at 499 Hz ~ 2000)"
at_least "$w" 95 || fail "thread_worker_loop (under start_thread) only $w %"
[ "$tids" -eq 2 ] || fail "expected samples from 2 threads, got $tids"
exit 0
