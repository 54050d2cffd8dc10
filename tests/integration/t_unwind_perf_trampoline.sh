#!/bin/bash
# CPython 3.12 with -X perf: its trampolines live in anonymous memory, named
# in /tmp/perf-PID.map; the walk crosses them by frame pointers.
. "$(dirname "$0")/lib.sh"
need_root
PY=$(ls -d /root/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null | head -1)
[ -n "$PY" ] && [ -x "$PY" ] || skip "no CPython 3.12 under pyenv"
start "$PY" -X perf -c '
def hot_function(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
while True:
    hot_function(100000)
'
sleep 1
$EBPROF -p "$WPID" -d 3 -F 499 -f folded -o "$TMP/p.folded" 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
t=$(share "$TMP/p.folded" ';py::hot_function:<string>;')
m=$(share "$TMP/p.folded" '^python3.12;_start;__libc_start_main;__libc_start_call_main;Py_BytesMain;.*;py::<module>:<string>;.*;py::hot_function:<string>;')
info "py::hot_function trampoline in $t % of samples; $m % also cross py::<module> to _start"
at_least "$t" 80 || fail "the trampoline frame is missing: $(head -3 "$TMP/p.folded")"
at_least "$m" "$(awk -v t="$t" 'BEGIN { print t * 0.9 }')" || fail "the walk stops at the trampoline"
exit 0
