#!/bin/bash
# Launch mode exits with the command's status and passes its output through;
# a command killed by a signal is said to be, in one line.
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -o "$TMP/p.folded" -- sh -c 'echo hello; exit 7' >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 7 ] || fail "exit $rc, expected 7: $(cat "$TMP/err")"
[ "$(cat "$TMP/out")" = hello ] || fail "the command's output is missing"
$EBPROF -o "$TMP/p.folded" -- sh -c 'kill -SEGV $$' >/dev/null 2>"$TMP/err"
rc=$?
[ $rc -eq 139 ] || fail "exit $rc for a command killed by SIGSEGV, expected 139"
# ... and says so, as the shell would have (it sees only ebprof's status)
grep -q "^ebprof: warning: the command was killed by signal 11 (Segmentation fault)$" "$TMP/err" ||
	fail "a command killed by SIGSEGV: not said: $(cat "$TMP/err")"
# a command ebprof stops itself (-d) is not said to have been killed
$EBPROF -d 0.5 -o "$TMP/p.folded" -- sleep 5 >/dev/null 2>"$TMP/err"
grep -q "killed by signal" "$TMP/err" && fail "a command stopped by -d said killed: $(cat "$TMP/err")"
exit 0
