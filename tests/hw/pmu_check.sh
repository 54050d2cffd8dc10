#!/bin/bash
# Hardware-counter checks, for a machine with a PMU (this project's CI VM
# has none; run by hand or on a lent machine): EBPROF=... TOOLS=... pmu_check.sh
# insn_loop retires 16 N instructions and 4 N branches in its loops, 75 %
# in loop_a; cpu_split does 75 % of its work in burn_a.
set -u
EBPROF=${EBPROF:-build/ebprof}
TOOLS=${TOOLS:-.output/tools}
OUT=${OUT:-/tmp}
N=1000000000
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
val() { python3 -c 'import json, sys; v = json.load(open(sys.argv[1]))["events"][sys.argv[2]]; print(v["value"] if v["value"] is not None else "null", v.get("counted_pct", 0))' "$@"; }

echo "== machine"
uname -r; grep -m1 "model name" /proc/cpuinfo; nproc
ls /sys/bus/event_source/devices/
if [ ! -e /sys/bus/event_source/devices/cpu ] && [ ! -e /sys/bus/event_source/devices/cpu_core ]; then
	echo "no PMU on this machine (no cpu event source): the hardware checks cannot run here"
	$EBPROF stat -e cycles,instructions,task-clock -- true
	exit 2
fi

echo "== stat: counts against what insn_loop retires by construction"
$EBPROF stat --json -o "$OUT/stat_hw.json" -e cycles,instructions,branches,branch-misses,cache-references,cache-misses,task-clock -- "$TOOLS/insn_loop" $N
cat "$OUT/stat_hw.json"
read -r ins ipct <<<"$(val "$OUT/stat_hw.json" instructions)"
read -r br bpct <<<"$(val "$OUT/stat_hw.json" branches)"
read -r cyc cpct <<<"$(val "$OUT/stat_hw.json" cycles)"
python3 -c "import sys; i, b, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]); sys.exit(not (abs(i - 16 * n) < 0.01 * 16 * n and abs(b - 4 * n) < 0.01 * 4 * n))" "$ins" "$br" $N &&
	ok "instructions $ins (16N = $((16 * N))), branches $br (4N = $((4 * N)))" || bad "instructions $ins branches $br, want $((16 * N)) and $((4 * N))"
$EBPROF stat -e cycles,instructions,branches,branch-misses,cache-references,cache-misses -- "$TOOLS/insn_loop" $N 2>&1 | tee "$OUT/stat_hw.txt"
grep -q "insn per cycle" "$OUT/stat_hw.txt" && ok "IPC printed" || bad "no IPC"

echo "== multiplexing: more events than counters"
EV=cycles,instructions,branches,branch-misses,cache-references,cache-misses,L1-dcache-loads,L1-dcache-load-misses,LLC-loads,LLC-load-misses,dTLB-load-misses,iTLB-load-misses,stalled-cycles-frontend,stalled-cycles-backend,ref-cycles,bus-cycles
$EBPROF stat --json -o "$OUT/stat_mux.json" -e $EV -- "$TOOLS/insn_loop" $N
$EBPROF stat -e $EV -- "$TOOLS/insn_loop" $N 2>&1 | tee "$OUT/stat_mux.txt"
read -r ins ipct <<<"$(val "$OUT/stat_mux.json" instructions)"
python3 -c "import sys; i, p, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]); print('scaled instructions %.4g, counted %.1f %% of the time' % (i, p)); sys.exit(not (p < 99.9 and abs(i - 16 * n) < 0.05 * 16 * n))" "$ins" "$ipct" $N &&
	ok "multiplexed instructions scaled to within 5 % of 16N" || bad "multiplexed instructions $ins at $ipct %"

if [ -r /sys/kernel/btf/vmlinux ]; then
	echo "== cpu -e: stacks on instructions, and IPC per function"
	$EBPROF -e instructions -F 999 -f folded -o "$OUT/ins.folded" -- "$TOOLS/insn_loop" $N
	python3 - "$OUT/ins.folded" <<'PY' && ok "instructions 3:1 between loop_a and loop_b" || bad "instructions split"
import sys
t = a = b = 0
for l in open(sys.argv[1]):
    s, n = l.rsplit(" ", 1); n = int(n); t += n
    a += n if ";loop_a;" in s + ";" else 0
    b += n if ";loop_b;" in s + ";" else 0
print("instructions: loop_a %.1f %%, loop_b %.1f %% of %d" % (100 * a / t, 100 * b / t, t))
sys.exit(not (abs(100 * a / t - 75) < 3 and abs(100 * b / t - 25) < 3))
PY
	$EBPROF -e cycles,instructions -F 999 -n 8 -- "$TOOLS/insn_loop" $N 2>&1 | tee "$OUT/ipc.txt"
	grep -q " IPC " "$OUT/ipc.txt" && ok "IPC column" || bad "no IPC column"
	$EBPROF -e cache-references,cache-misses -F 999 -n 8 -- "$TOOLS/cpu_split" 1 2>&1 | tee "$OUT/miss.txt"
	grep -q "MISS%" "$OUT/miss.txt" && ok "MISS% column" || bad "no MISS% column"
else
	echo "no BTF on this kernel: ebprof cpu cannot run here"
fi
echo "$pass passed, $fail failed"
