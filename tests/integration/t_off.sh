#!/bin/bash
# ebprof off against waits whose length the workloads time themselves:
# sleeps, a mutex held for a known time, a CPU shared by two threads.
. "$(dirname "$0")/lib.sh"
need_root
# the JSON of an off profile: off-CPU seconds of the stacks through a
# function (each stack once), and of the runnable part
offsum() {
	python3 - "$@" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["mode"] == "off" and p["values"][0] == {"type": "off-cpu", "unit": "nanoseconds"}, p["values"]
want = sys.argv[2]
tot = run = n = 0
for s in p["stacks"]:
    if want == "*" or any(f["function"] == want for f in s["frames"]):
        tot += s["values"][0]; run += s["values"][1]; n += s["values"][2]
print("%.6f %.6f %d" % (tot / 1e9, run / 1e9, n))
PY
}
rel() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= p / 100 * b) }'; }

# 200 sleeps of 10 ms: their time under nanosleep, within 5 % of what the
# workload measured around them (each sleep is one switch out and back)
$EBPROF off -f json -o "$TMP/s.json" -- "$T/sleeper" 200 10000 >"$TMP/out" 2>"$TMP/err" ||
	fail "off -- sleeper: $(cat "$TMP/err")"
truth=$(awk '/^work_s/ { print $2 }' "$TMP/out")
set -- $(offsum "$TMP/s.json" clock_nanosleep)
info "sleeper 200 x 10 ms: off-CPU under clock_nanosleep $1 s in $3 switches (runnable $2 s); the workload timed $truth s"
rel "$1" "$truth" 5 || fail "sleeps: $1 s off-CPU against $truth s timed"
[ "$3" -ge 200 ] && [ "$3" -le 210 ] || fail "sleeps: $3 switches for 200 sleeps"
# the kernel part of the stacks says how it waits
python3 - "$TMP/s.json" <<'PY' || fail "no kernel frames of the sleep"
import json, sys
p = json.load(open(sys.argv[1]))
top = p["stacks"][0]["frames"]
names = [f["function"] for f in top]
assert any(f["kernel"] and "schedule" in f["function"] for f in top), names
assert "main" in names and "_start" in names, names
PY

# a mutex held 10 ms, 100 times: the waiter's time under lock_wait within
# 5 % of what it timed, with the futex in its kernel stack
$EBPROF off -f json -o "$TMP/l.json" -- "$T/offcpu" lock 100 10 >"$TMP/out" 2>"$TMP/err" ||
	fail "off -- offcpu lock: $(cat "$TMP/err")"
truth=$(awk '/^waited_s/ { print $2 }' "$TMP/out")
set -- $(offsum "$TMP/l.json" lock_wait)
info "mutex held 100 x 10 ms: off-CPU under lock_wait $1 s ($3 switches); the waiter timed $truth s"
rel "$1" "$truth" 5 || fail "mutex: $1 s off-CPU under lock_wait against $truth s timed"
python3 - "$TMP/l.json" <<'PY' || fail "lock_wait's stacks do not wait in futex"
import json, sys
p = json.load(open(sys.argv[1]))
s = max((s for s in p["stacks"] if any(f["function"] == "lock_wait" for f in s["frames"])),
        key=lambda s: s["values"][0])
names = [f["function"] for f in s["frames"]]
assert any(f["kernel"] and "futex" in f["function"] for f in s["frames"]), names
PY

# A thread's walk is reused when it blocks again with the same registers
# and the same stack words the walk read.  wait_a() and wait_b() sleep
# through one nap_ms(), from the same depth: only the return address in
# nap_ms()'s frame differs.  Three naps of wait_a() (one call site: the
# 2nd and 3rd reuse the 1st's walk) then one of wait_b() (which must not):
# each within 5 % of the time the workload measured around its naps.  A
# reuse that skipped the stack words put all of it under wait_a().
$EBPROF off --debug -f json -o "$TMP/c.json" -- "$T/offcpu" callers 200 >"$TMP/out" 2>"$TMP/err" ||
	fail "off -- offcpu callers: $(tail -1 "$TMP/err")"
set -- $(awk '/^a_s/ { print $2, $4 }' "$TMP/out")
ta=$1 tb=$2
set -- $(offsum "$TMP/c.json" wait_a)
oa=$1
set -- $(offsum "$TMP/c.json" wait_b)
ob=$1
reused=$(sed -n 's/.*user stacks walked \([0-9]*\), of which reused unchanged .* \([0-9]*\)$/\1 \2/p' "$TMP/err")
info "callers: off-CPU under wait_a $oa s (timed $ta), wait_b $ob s (timed $tb); walks, reused: $reused"
rel "$oa" "$ta" 5 || fail "callers: wait_a $oa s off-CPU against $ta s timed"
rel "$ob" "$tb" 5 || fail "callers: wait_b $ob s off-CPU against $tb s timed"
set -- $reused
# 200 rounds of 4 naps; 2 a round may be reused (a walk in the first epoch
# after a drain is not): at least half of those
[ "${2:-0}" -ge 200 ] && [ "$2" -le 400 ] || fail "callers: $2 of $1 walks reused, 200-400 expected"

# two threads on one CPU: each waits for it about half of the time, as
# runnable, not asleep; --state puts that at the root
$EBPROF off --state -f json -o "$TMP/r.json" -- "$T/offcpu" share 2 >"$TMP/out" 2>"$TMP/err" ||
	fail "off -- offcpu share: $(cat "$TMP/err")"
set -- $(offsum "$TMP/r.json" compete)
truth=$(sed -n 's/.*runnable_s //p' "$TMP/out")
info "two threads sharing a CPU for 2 s: off-CPU under compete $1 s, of which runnable $2 s; the kernel's schedstat: ${truth:-?} s on the run queue"
# 2 threads x 2 s wall, 2 s of CPU between them: about 2 s of waiting for
# the CPU (more when other work shares it).  The kernel's own count of
# the two threads' run-queue time, read at compete()'s ends, is the truth:
# the same waits, so within 2 % (0.001 % here quiet, 0.25 % beside
# stress-ng --cpu 4)
rel "$2" "${truth:-0}" 2 || fail "preemption: $2 s runnable, the kernel counted ${truth:-?} s"
awk -v a="$1" -v b="$2" 'BEGIN { exit !(b >= 0.98 * a) }' || fail "preemption shown as sleep: $1 s off, $2 s runnable"
python3 - "$TMP/r.json" <<'PY' || fail "--state: the runnable time is not under [runnable]"
import json, sys
p = json.load(open(sys.argv[1]))
by = {}
for s in p["stacks"]:
    root = s["frames"][0]["function"]
    by[root] = by.get(root, 0) + s["values"][0]
assert by.get("[runnable]", 0) >= 0.9 * sum(by.values()), by
PY

# --wakers: the waiter on the mutex is woken by the holder's unlock, in
# run_lock(), through futex_wake; the holder's naps end in a timer
# interrupt, which is said, not charged to whatever it interrupted
$EBPROF off --wakers -f json -o "$TMP/w.json" -- "$T/offcpu" lock 100 10 >"$TMP/out" 2>"$TMP/err" ||
	fail "off --wakers: $(cat "$TMP/err")"
truth=$(awk '/^waited_s/ { print $2 }' "$TMP/out")
python3 - "$TMP/w.json" "$truth" <<'PY' || fail "--wakers: $(cat "$TMP/err")"
import json, sys
p = json.load(open(sys.argv[1]))
truth = float(sys.argv[2])
lock = woken = nap = napirq = 0
for s in p["stacks"]:
    names = [f["function"] for f in s["frames"]]
    assert names.count("--") == 1, names
    cut = names.index("--")
    waiter, waker = names[:cut], names[cut + 1:]
    t = s["values"][0] / 1e9
    if "lock_wait" in waiter:
        lock += t
        # the waker, leaf first: the kernel's futex_wake, then the holder's code, then its command
        if any("futex_wake" in n for n in waker) and "run_lock" in waker and waker[-1] == "offcpu":
            woken += t
    if "hold" in waiter and any("nanosleep" in n for n in waiter):
        nap += t
        if waker[-1] == "[interrupt]" and "run_lock" not in waker:
            napirq += t
print("  --wakers: lock_wait %.3f s (the waiter timed %.3f s), %.1f %% of it woken by run_lock's unlock; the holder's naps %.3f s, %.1f %% of them woken by [interrupt]"
      % (lock, truth, 100 * woken / max(lock, 1e-9), nap, 100 * napirq / max(nap, 1e-9)))
assert abs(lock - truth) <= 0.05 * truth, (lock, truth)
assert woken >= 0.98 * lock, (woken, lock)
assert nap > 0.9 and napirq >= 0.95 * nap, (nap, napirq)
PY
[ $? = 0 ] && info "$(python3 - "$TMP/w.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
s = max(p["stacks"], key=lambda s: s["values"][0])
print("heaviest: " + ";".join(f["function"] for f in s["frames"])[-160:])
PY
)"

# folded: microseconds; the table: seconds
$EBPROF off -f folded -o "$TMP/s.folded" -- "$T/sleeper" 50 10000 >/dev/null 2>&1 || fail "folded run"
us=$(total "$TMP/s.folded")
at_least "$us" 480000 || fail "folded total $us us for 0.5 s of sleeps"
awk -v u="$us" 'BEGIN { exit !(u < 600000) }' || fail "folded total $us us for 0.5 s of sleeps"
$EBPROF off -n 5 -- "$T/sleeper" 50 10000 >"$TMP/tab" 2>&1 || fail "table run"
grep -qE '^# event sched_switch, [0-9.]+ s, (4[89][0-9]|5[0-9][0-9])\.[0-9]+ ms off-cpu, 0 lost' "$TMP/tab" ||
	fail "table header: $(sed -n 2p "$TMP/tab")"
grep -qE '^ +SELF% +TOTAL% +TIME  FUNCTION' "$TMP/tab" || fail "table columns: $(sed -n 4p "$TMP/tab")"
info "folded in microseconds ($us), table in seconds"

# A thread that waits from before the attach to after the end (one sleep
# of 4 s, attached 0.5 s in, for 1 s): all of the run is off-CPU under its
# sleep, with its whole user stack, which user space walks from its
# memory (BPF cannot read another process's).  Without the attach-time
# look, it is not in the profile at all.
start "$T/sleeper" 1 4000000
sleep 0.5
t0=$(date +%s%N)
$EBPROF off --debug -p "$WPID" -d 1 -f json -o "$TMP/b.json" 2>"$TMP/err" || fail "off -p sleeper: $(tail -1 "$TMP/err")"
t1=$(date +%s%N)
grep -q "1 threads were off the CPU at the attach" "$TMP/err" || fail "blocked at attach: $(grep 'at the attach' "$TMP/err")"
python3 - "$TMP/b.json" $(((t1 - t0) / 1000)) <<'PY' || fail "a thread blocked since before the attach"
import json, sys
p = json.load(open(sys.argv[1]))
elapsed = int(sys.argv[2]) / 1e6
dur, tot = p["duration_s"], p["totals"][0] / 1e9
s = max(p["stacks"], key=lambda s: s["values"][0])
names = [f["function"] for f in s["frames"]]
print("  blocked since before the attach: %.4f s off-CPU of a %.4f s run (ebprof ran %.3f s), %d switch; %s"
      % (tot, dur, elapsed, p["totals"][2], ";".join(names)))
assert 0.95 * dur <= tot <= elapsed, (tot, dur, elapsed)
assert s["values"][0] / 1e9 >= 0.95 * dur
assert names[:4] == ["_start", "__libc_start_main", "__libc_start_call_main", "main"], names
assert "clock_nanosleep" in names and any(f["kernel"] and "nanosleep" in f["function"] for f in s["frames"]), names
assert p["stack_quality"]["complete"] == p["stack_quality"]["user_stacks"], p["stack_quality"]
PY
kill "$WPID" 2>/dev/null
wait "$WPID" 2>/dev/null

# 300 threads waiting from before the attach (more than one read of the
# look's records holds): each in the profile for the whole run, its user
# stack whole (clone3 > start_thread > idle_thread > idle_wait > read)
start "$T/offcpu" idle 300
# all 301 asleep (state S) before the attach: a thread still on its way to
# read() would go out after the attach, before the look, and be timed
# from then
asleep() { cat /proc/"$WPID"/task/*/stat 2>/dev/null | awk '$3 == "S"' | wc -l; }
for _ in $(seq 100); do [ "$(asleep)" = 301 ] && break; sleep 0.1; done
[ "$(asleep)" = 301 ] || fail "offcpu idle 300: $(asleep) of $(ls "/proc/$WPID/task" | wc -l) threads asleep"
$EBPROF off --debug --per-thread -p "$WPID" -d 1 -f json -o "$TMP/i.json" 2>"$TMP/err" ||
	fail "off -p offcpu idle: $(tail -1 "$TMP/err")"
kill "$WPID"
wait "$WPID" 2>/dev/null
grep -q "301 threads were off the CPU at the attach" "$TMP/err" || fail "idle: $(grep 'at the attach' "$TMP/err")"
python3 - "$TMP/i.json" <<'PY' || fail "300 threads waiting since before the attach"
import json, sys
p = json.load(open(sys.argv[1]))
dur = p["duration_s"]
tids, whole = {}, 0
for s in p["stacks"]:
    tids[s["tid"]] = tids.get(s["tid"], 0) + s["values"][0] / 1e9
    names = [f["function"] for f in s["frames"]]
    if names[:4] == ["clone3", "start_thread", "idle_thread", "idle_wait"]:
        whole += 1
lo, hi = min(tids.values()), max(tids.values())
print("  301 threads waiting since before the attach: %d in the profile, %.4f-%.4f s each in a %.4f s run; "
      "%d stacks from clone3 to idle_wait" % (len(tids), lo, hi, dur, whole))
# the run is timed from the look (before the walks of 301 threads, ~25 ms);
# the JSON gives its length in ms: up to 0.5 ms rounded off
assert len(tids) == 301 and lo >= 0.95 * dur and hi <= dur + 0.0005, (len(tids), lo, hi, dur)
assert whole == 300, whole
PY
[ "$(ebprof_progs)" = 0 ] || fail "BPF programs left"
exit 0
