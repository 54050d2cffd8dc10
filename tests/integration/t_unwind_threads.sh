#!/bin/bash
# Threads (pthread_create, no frame pointers): stacks end in clone3 and
# start_thread, created after ebprof attached.
. "$(dirname "$0")/lib.sh"
need_root
start_held "$T/threads_nofp" 2
$EBPROF -p "$WPID" -d 4 -F 499 -f folded -o "$TMP/p.folded" 2>"$TMP/err" &
EP=$!
sleep 1
kill -USR1 "$WPID"
wait $EP || fail "ebprof failed: $(cat "$TMP/err")"
w=$(share "$TMP/p.folded" 'thread_worker_loop$')
c=$(share "$TMP/p.folded" '^threads_nofp;clone3;start_thread;thread_worker;thread_worker_loop$')
info "thread_worker_loop $w %, of which from clone3;start_thread: $c %"
at_least "$w" 90 || fail "thread_worker_loop only $w %"
at_least "$c" "$(awk -v w="$w" 'BEGIN { print w * 0.95 }')" || fail "only $c % of $w % end in clone3;start_thread"
exit 0
