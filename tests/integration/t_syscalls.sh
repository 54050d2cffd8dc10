#!/bin/bash
# A syscall-heavy workload shows kernel frames under its user frames.
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -F 499 -o "$TMP/p.folded" -- "$T/syscalls" 2 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
k=$(share "$TMP/p.folded" ';main;do_writes;write;.*_\\[k\\]')
entry=$(share "$TMP/p.folded" ';main;do_writes;write;entry_SYSCALL_64[a-z_]*_\\[k\\]')
kw=$(share "$TMP/p.folded" ';do_writes;write;.*;(ksys_write|vfs_write)_\\[k\\]')
info "kernel under main;do_writes;write: $k %, entering at entry_SYSCALL_64: $entry %, through ksys_write: $kw %"
at_least "$k" 50 || fail "only $k % of samples show kernel frames under do_writes -> write"
within "$entry" "$k" 1 || fail "kernel stacks under write do not start at the syscall entry ($entry of $k %)"
at_least "$kw" 5 || fail "only $kw % reach ksys_write/vfs_write"
# --no-kernel drops them
$EBPROF -F 499 --no-kernel -o "$TMP/nk.folded" -- "$T/syscalls" 1 2>"$TMP/err" || fail "ebprof --no-kernel failed"
grep -q '_\[k\]' "$TMP/nk.folded" && fail "--no-kernel still shows kernel frames"
at_least "$(share "$TMP/nk.folded" ';do_writes')" 90 || fail "--no-kernel lost the user stacks"
exit 0
