#!/bin/bash
# A library dlopen()ed after ebprof attached (no frame pointers): its
# frames resolve and unwind through it to main.
. "$(dirname "$0")/lib.sh"
need_root
start_held "$T/dlopen_late" 2
$EBPROF -p "$WPID" -d 4 -F 499 -f folded -o "$TMP/p.folded" 2>"$TMP/err" &
EP=$!
sleep 1
grep -q libdl_hot "/proc/$WPID/maps" && fail "the library was loaded before ebprof attached"
kill -USR1 "$WPID"
wait $EP || fail "ebprof failed: $(cat "$TMP/err")"
d=$(share "$TMP/p.folded" 'dl_inner$')
c=$(share "$TMP/p.folded" '^dlopen_late;_start;__libc_start_main;__libc_start_call_main;main;call_lib;dl_entry;dl_inner$')
info "dl_inner $d %, with the whole chain from _start: $c %"
at_least "$d" 90 || fail "dl_inner only $d % (symbols of the late library?)"
at_least "$c" "$(awk -v d="$d" 'BEGIN { print d * 0.95 }')" || fail "only $c % of $d % unwind to _start"
exit 0
