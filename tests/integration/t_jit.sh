#!/bin/bash
# Code in an anonymous executable mapping is named by /tmp/perf-PID.map.
. "$(dirname "$0")/lib.sh"
need_root
start "$T/jit" 4
sleep 0.5
$EBPROF -p "$WPID" -d 2 -F 499 -n 5 >"$TMP/table" 2>&1 || fail "ebprof failed: $(cat "$TMP/table")"
cat "$TMP/table"
row=$(grep -E ' jit_hot_loop +perf-'"$WPID"'\.map$' "$TMP/table") || fail "jit_hot_loop from perf-$WPID.map is missing"
self=$(echo "$row" | awk '{ print $1 }')
at_least "$self" 90 || fail "jit_hot_loop holds $self % self, expected > 90"
exit 0
