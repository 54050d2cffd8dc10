#!/bin/bash
# Binaries ebprof cannot reach by path: deleted while running, and inside
# another mount namespace.  Both resolve through /proc/PID/map_files.
. "$(dirname "$0")/lib.sh"
need_root
command -v unshare >/dev/null || skip "no unshare"
cp "$T/cpu_split" "$TMP/deleted_split"
start "$TMP/deleted_split" 5
sleep 0.3
rm "$TMP/deleted_split"
$EBPROF -p "$WPID" -d 1.5 -F 499 -f folded -o "$TMP/del.folded" 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
s=$(share "$TMP/del.folded" ';main;work;burn_[ab];spin_leaf$')
info "deleted binary: $s % fully symbolized"
at_least "$s" 95 || fail "deleted binary: only $s % symbolized"

# a private tmpfs only the workload's mount namespace sees
mkdir -p "$TMP/ns"
unshare -m --propagation private sh -c "mount -t tmpfs none '$TMP/ns' && cp '$T/cpu_split' '$TMP/ns/ns_split' && exec '$TMP/ns/ns_split' 5" >/dev/null &
PIDS+=($!)
sleep 0.5
WPID=$(pgrep -f ns_split | head -1)
[ -n "$WPID" ] || fail "namespaced workload did not start"
[ -e "$TMP/ns/ns_split" ] && fail "the tmpfs leaked into our namespace"
$EBPROF -p "$WPID" -d 1.5 -F 499 -f folded -o "$TMP/ns.folded" 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
s=$(share "$TMP/ns.folded" ';main;work;burn_[ab];spin_leaf$')
info "other mount namespace: $s % fully symbolized"
at_least "$s" 95 || fail "namespaced binary: only $s % symbolized"
kill "$WPID"
exit 0
