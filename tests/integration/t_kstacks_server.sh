#!/bin/bash
# Kernel stacks on a real server at the defaults: ebprof -p on a
# redis-server that redis-benchmark keeps busy (pipelined, 20 clients) for
# 8 s at 999 Hz.  Every kernel stack is kept (before, 69-88 were lost to
# the stack-trace map's hash collisions), and the share of samples in the
# kernel agrees with perf's on the same run, sampled the same way: a clock
# on every CPU (perf -a, its samples of redis-server's pid).  perf -p's
# per-task clock reads more kernel time when the CPUs are contended: with
# stress-ng --cpu 1 beside, 68-71 % where perf -a, ebprof and the kernel's
# tick accounting said 64-69 %.
. "$(dirname "$0")/lib.sh"
need_root
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || skip "redis-server/redis-tools not installed (make deps)"
command -v perf >/dev/null || skip "perf not installed (make deps)"
PORT=16390
redis-server --port $PORT --bind 127.0.0.1 --save '' --appendonly no --daemonize no >"$TMP/redis.log" 2>&1 &
RPID=$!
PIDS+=("$RPID")
for _ in $(seq 50); do redis-cli -p $PORT ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
redis-cli -p $PORT ping 2>/dev/null | grep -q PONG || fail "redis-server did not start: $(cat "$TMP/redis.log")"
# bounded: at most 20 s, on loopback only
timeout 20 redis-benchmark -h 127.0.0.1 -p $PORT -P 8 -c 20 -n 100000000 -t set,get -q >/dev/null 2>&1 &
PIDS+=("$!")
sleep 1
perf record -q -F 999 -a -o "$TMP/perf.data" -- sleep 8 >/dev/null 2>&1 &
PERF=$!
$EBPROF -p "$RPID" -F 999 -d 8 -f json -o "$TMP/redis.json" 2>"$TMP/err" || fail "ebprof -p: $(cat "$TMP/err")"
wait $PERF
grep -q "lost\|larger --map-size" "$TMP/err" && fail "ebprof reported losses: $(cat "$TMP/err")"
perf report -i "$TMP/perf.data" --stdio --sort pid,dso 2>/dev/null >"$TMP/perf.txt"
pk=$(awk -v p="$RPID:redis-server" '$2 == p { sub(/%/, "", $1); t += $1; if ($NF == "[kernel.kallsyms]") k += $1 }
	END { if (t > 0) printf "%.2f", 100 * k / t }' "$TMP/perf.txt")
python3 - "$TMP/redis.json" "${pk:-0}" <<'PY' || exit 1
import json, math, sys
p, perf_k = json.load(open(sys.argv[1])), float(sys.argv[2])
n = p["samples"]
lost = p["lost"]
k = sum(s["count"] for s in p["stacks"] if s["frames"] and s["frames"][-1]["kernel"])
missing = sum(s["count"] for s in p["stacks"] if any(f["function"] == "[missing kernel stack]" for f in s["frames"]))
share = 100.0 * k / n
print("  %d samples, %.1f %% in the kernel (perf on the same run: %.1f %%); kernel stacks lost %d, collisions %d, missing %d"
      % (n, share, perf_k, lost["kernel_stacks"], lost["kernel_stack_collisions"], missing))
assert n > 2000, n
assert lost["kernel_stacks"] == 0 and lost["kernel_stack_collisions"] == 0 and missing == 0, lost
# two estimates of one share from n samples each: the difference has sd
# sqrt(2 p (1-p) / n) (<= 0.8 % at n = 8000); 5 sigma of it
sd = math.sqrt(2 * (share / 100) * (1 - share / 100) / n) * 100
assert abs(share - perf_k) <= 5 * sd + 0.01, "kernel share %.1f %% vs perf's %.1f %% (5 sigma = %.1f %%)" % (share, perf_k, 5 * sd)
PY
exit 0
