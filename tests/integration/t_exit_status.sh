#!/bin/bash
# Launch mode exits with the command's status and passes its output through.
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -o "$TMP/p.folded" -- sh -c 'echo hello; exit 7' >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc -eq 7 ] || fail "exit $rc, expected 7: $(cat "$TMP/err")"
[ "$(cat "$TMP/out")" = hello ] || fail "the command's output is missing"
$EBPROF -o "$TMP/p.folded" -- sh -c 'kill -SEGV $$' >/dev/null 2>&1
rc=$?
[ $rc -eq 139 ] || fail "exit $rc for a command killed by SIGSEGV, expected 139"
exit 0
