#!/bin/bash
# A Python process that does not check out for a while as it starts (as
# when ebprof reads it while the loader is still mapping libpython): its
# Python stacks come on once it does; one that never does is told once,
# why, also when the run ends first.  tests/workloads/py_embed.c breaks _PyRuntime's
# interpreter list before it starts CPython 3.11.
. "$(dirname "$0")/lib.sh"
need_root
P=$(pyenv root 2>/dev/null || echo /root/.pyenv)/versions/3.11.7
LIB=$P/lib/libpython3.11.so.1.0
[ -r "$LIB" ] || skip "pyenv's CPython 3.11.7 is not installed"
RT_INTERP=40	# _PyRuntime.interpreters.head in 3.11
export PYTHONHOME=$P

# broken for 0.2 s, then 1.5 s of spin_here()
$EBPROF -v -F 999 -o "$TMP/ok.folded" -- "$T/py_embed" "$LIB" $RT_INTERP 0.2 1.5 >/dev/null 2>"$TMP/err" ||
	fail "ebprof failed: $(cat "$TMP/err")"
grep -q "does not check out" "$TMP/err" && fail "gave up on a process that checks out later: $(cat "$TMP/err")"
grep -q "Python stacks on" "$TMP/err" || fail "Python stacks never came on: $(cat "$TMP/err")"
n=$(total "$TMP/ok.folded")
spin=$(share "$TMP/ok.folded" 'spin_here \(<string>')
info "broken for 0.2 s: Python stacks on; $spin % of $n samples in spin_here"
at_least "$spin" 80 || fail "only $spin % of the samples show spin_here"

# broken for good: one line, why, native stacks
$EBPROF -F 999 -o "$TMP/bad.folded" -- "$T/py_embed" "$LIB" $RT_INTERP 1 0.5 >/dev/null 2>"$TMP/err" ||
	fail "ebprof failed on a process that never checks out: $(cat "$TMP/err")"
[ "$(grep -c 'does not check out: cannot read the interpreter state: profiling native stacks only' "$TMP/err")" = 1 ] ||
	fail "not one line that says why: $(cat "$TMP/err")"
grep -q "spin_here" "$TMP/bad.folded" && fail "Python frames from a process that does not check out"
info "broken for good: '$(grep 'check out' "$TMP/err" | sed 's/^ebprof: warning: pid [0-9]*: //')'"

# the run ends while it is still broken: said at the end
$EBPROF -d 0.2 -F 999 -o "$TMP/short.folded" -- "$T/py_embed" "$LIB" $RT_INTERP 5 0 >/dev/null 2>"$TMP/err"
[ "$(grep -c 'does not check out: cannot read the interpreter state' "$TMP/err")" = 1 ] ||
	fail "a run that ends first does not say why: $(cat "$TMP/err")"
info "a run shorter than the retries: said once at its end"
exit 0
