#!/bin/bash
# Every BPF program of every mode loads on this kernel with room to spare:
# the verifier's processed instructions (BPF_LOG_STATS) at most a quarter
# of its limit of a million.  Kernel 6.18.44's verifier went past the
# million on the unwind-table walk (it explores bpf_loop() callbacks until
# their states converge), and every mode but stat failed to start; this
# names the program and the margin before that happens again.
. "$(dirname "$0")/lib.sh"
need_root
objs=(.output/*.bpf.o)
[ ${#objs[@]} -ge 4 ] || fail "BPF objects missing: ${objs[*]}"
"$T/verifier_cost" 250000 "${objs[@]}" >"$TMP/cost" 2>"$TMP/err" ||
	fail "$(grep -E 'over|not verified|cannot' "$TMP/cost" | head -5 | tr '\n' ';') $(tail -1 "$TMP/cost")"
n=$(grep -c ' [0-9]*$' "$TMP/cost")
[ "$n" -ge 40 ] || fail "only $n programs verified: $(cat "$TMP/cost")"
info "$n programs; $(tail -1 "$TMP/cost")"
info "$(sort -k3 -n "$TMP/cost" | grep -v most | tail -3 | tr -s ' ' | tr '\n' ';')"
