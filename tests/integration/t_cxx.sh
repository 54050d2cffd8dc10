#!/bin/bash
# C++ names come out demangled, with the right 1:1 split.
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -F 499 -n 4 -- "$T/cxx_hot" 2 >"$TMP/table" 2>&1 || fail "ebprof failed: $(cat "$TMP/table")"
cat "$TMP/table"
m=$(awk '$4 == "shapes::Widget::spin(int)" { print $1 }' "$TMP/table")
t=$(awk '$4 == "unsigned" && $5 == "long" && $6 == "shapes::accumulate<unsigned" { print $1 }' "$TMP/table")
[ -n "$m" ] || fail "shapes::Widget::spin(int) missing"
[ -n "$t" ] || fail "unsigned long shapes::accumulate<unsigned long>(int) missing"
n=$(sed -n 's/.*, \([0-9]*\) samples, .*/\1/p' "$TMP/table")
within_binom "$m" 50 "$n" || fail "Widget::spin $m %, expected 50 within 5 sigma"
within_binom "$t" 50 "$n" || fail "accumulate $t %, expected 50 within 5 sigma"
exit 0
