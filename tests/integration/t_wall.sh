#!/bin/bash
# ebprof wall: on-CPU samples and off-CPU time of the same thread in one
# profile.  offcpu sleepburn sleeps 20 ms then burns 10 ms of CPU per
# round: 2/3 of its wall time in nap(), 1/3 in burn(), which it times.
. "$(dirname "$0")/lib.sh"
need_root

$EBPROF wall -F 999 --per-thread -f json -o "$TMP/w.json" -- "$T/offcpu" sleepburn 100 >"$TMP/out" 2>"$TMP/err" ||
	fail "wall -- offcpu sleepburn: $(cat "$TMP/err")"
read -r slept burned cpu <<<"$(awk '/^slept_s/ { print $2, $4, $8 }' "$TMP/out")"
python3 - "$TMP/w.json" "$slept" "$burned" "$cpu" <<'PY' || fail "wall shares"
import json, sys
p = json.load(open(sys.argv[1]))
slept, burned, cpu = float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
assert p["mode"] == "wall" and [v["type"] for v in p["values"]] == ["wall", "on-cpu", "runnable", "switches", "samples"]
nap = burn = tot = oncpu = 0
for s in p["stacks"]:
    names = [f["function"] for f in s["frames"]]
    w = s["values"][0]
    tot += w
    oncpu += s["values"][1]
    if "nap" in names: nap += w
    if "burn" in names: burn += w
share_nap = 100 * nap / (nap + burn)
truth = 100 * slept / (slept + burned)
print("  nap %.3f s, burn %.3f s: nap %.1f %% (the workload timed %.1f %%); thread total %.3f s, on-CPU %.3f s"
      % (nap / 1e9, burn / 1e9, share_nap, truth, tot / 1e9, oncpu / 1e9))
# the split within 4 points of the workload's own timing (2/3 on an idle
# machine; with the CPUs busy, burn() also waits for one)
assert abs(share_nap - truth) <= 4, (share_nap, truth)
# on the CPU: the CPU time getrusage gives the workload, to within 5
# sigma of the n samples at 1 ms each (sd sqrt(n) samples: ~0.16 s at
# n = 1000), and at least the 100 x 10 ms burn() takes by construction
n = sum(s["values"][4] for s in p["stacks"])
assert abs(oncpu / 1e9 - cpu) <= (5 * n ** 0.5 + 2) * 1e-3 and oncpu >= 0.98e9, (oncpu, cpu, n)
# the thread's rows add up to its wall time: the rounds, plus start and exit
assert 0.97 * (slept + burned) <= tot / 1e9 <= (slept + burned) + 0.25, (tot, slept + burned)
# on-CPU: the burns (10 ms each, timed), within 5 %
assert abs(burn - burned * 1e9) <= 0.05 * burned * 1e9 + 0.02e9, (burn, burned)
PY
info "wall: the thread's time split between nap() and burn() as the workload timed it, and adds up"

# --state puts on-CPU and sleeping apart at the root: 50 x 10 ms of CPU
# and the sleeps, as shares of the wall time the workload timed
$EBPROF wall --state -f folded -o "$TMP/w.folded" -- "$T/offcpu" sleepburn 50 >"$TMP/out" 2>"$TMP/err" ||
	fail "wall --state: $(cat "$TMP/err")"
read -r slept burned <<<"$(awk '/^slept_s/ { print $2, $4 }' "$TMP/out")"
on=$(share "$TMP/w.folded" '^offcpu;\[on-cpu\];')
sl=$(share "$TMP/w.folded" '^offcpu;\[sleeping\];')
won=$(awk -v s="$slept" -v b="$burned" 'BEGIN { printf "%.1f", 100 * 0.5 / (s + b) }')
wsl=$(awk -v s="$slept" -v b="$burned" 'BEGIN { printf "%.1f", 100 * s / (s + b) }')
info "--state: [on-cpu] $on % (the workload: $won %), [sleeping] $sl % ($wsl %) of the wall time"
within "$on" "$won" 5 || fail "--state: [on-cpu] $on %, expected $won"
within "$sl" "$wsl" 5 || fail "--state: [sleeping] $sl %, expected $wsl"

# an idle thread (py-spy --idle): one that waits from before the attach to
# after the end is in the profile, its rows adding up to the run's length
start "$T/sleeper" 1 4000000
sleep 0.5
$EBPROF wall -p "$WPID" -d 1 -f json -o "$TMP/i.json" 2>"$TMP/err" || fail "wall -p sleeper: $(tail -1 "$TMP/err")"
python3 - "$TMP/i.json" <<'PY' || fail "wall: an idle thread"
import json, sys
p = json.load(open(sys.argv[1]))
dur, tot = p["duration_s"], p["totals"][0] / 1e9
print("  a thread idle all along: %.4f s of wall time in a %.4f s run" % (tot, dur))
assert abs(tot - dur) <= 0.02 * dur, (tot, dur)
PY
kill "$WPID" 2>/dev/null
wait "$WPID" 2>/dev/null
[ "$(ebprof_progs)" = 0 ] || fail "BPF programs left"
exit 0
