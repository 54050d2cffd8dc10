#!/bin/bash
# Rust at -O without frame pointers: names demangled, stacks reach _start,
# and the 3:1 split between Burner::burn and light holds.
. "$(dirname "$0")/lib.sh"
need_root
[ -x "$T/rust_hot" ] || skip "rustc is not installed (apt-get install rustc)"
$EBPROF -F 999 -o "$TMP/p.folded" -- "$T/rust_hot" 2 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
head -3 "$TMP/p.folded" | cut -c1-300
c=$(share "$TMP/p.folded" '^rust_hot;_start;__libc_start_main;__libc_start_call_main;main;.*rust_hot::main;rust_hot::workload::run;')
b=$(share "$TMP/p.folded" ';rust_hot::workload::run;rust_hot::workload::Burner::burn$')
l=$(share "$TMP/p.folded" ';rust_hot::workload::run;rust_hot::workload::light$')
info "from _start through rust_hot::main to run: $c %; Burner::burn $b %, light $l %"
at_least "$c" 95 || fail "only $c % of stacks reach _start"
within_binom "$b" 75 "$(total "$TMP/p.folded")" || fail "Burner::burn $b %, expected 75 within 5 sigma"
within_binom "$l" 25 "$(total "$TMP/p.folded")" || fail "light $l %, expected 25 within 5 sigma"
# the same program with v0 mangling ("_R..." names)
if [ -x "$T/rust_hot_v0" ]; then
	$EBPROF -F 999 -o "$TMP/v0.folded" -- "$T/rust_hot_v0" 1 2>"$TMP/err" || fail "ebprof failed: $(cat "$TMP/err")"
	v=$(share "$TMP/v0.folded" ';rust_hot::main;rust_hot::workload::run;<rust_hot::workload::Burner>::burn$')
	info "v0 mangling: <rust_hot::workload::Burner>::burn under run under main: $v %"
	within_binom "$v" 75 "$(total "$TMP/v0.folded")" || fail "v0 names: Burner::burn $v %: $(head -2 "$TMP/v0.folded")"
fi
exit 0
