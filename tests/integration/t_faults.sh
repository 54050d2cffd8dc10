#!/bin/bash
# Faults around the target and the output: a full disk, a target stopped
# and continued, a target killed as ebprof attaches, two ebprofs on one
# target, a command that execs another program mid-profile, 500 threads
# created and destroyed, and a pid reused after the target exits.
. "$(dirname "$0")/lib.sh"
need_root

# the output's disk fills up: one line, exit 1, no truncated file left
mkdir -p "$TMP/full"
mount -t tmpfs -o size=4k tmpfs "$TMP/full" || skip "cannot mount a tmpfs"
$EBPROF -F 999 -o "$TMP/full/p.svg" -- "$T/cpu_split" 0.5 >/dev/null 2>"$TMP/err"; rc=$?
left=$(ls -A "$TMP/full")
umount "$TMP/full"
info "full disk: rc $rc, '$(cat "$TMP/err")', left: '${left}'"
[ $rc = 1 ] && [ "$(wc -l <"$TMP/err")" = 1 ] && grep -q "No space left on device" "$TMP/err" ||
	fail "a full disk: rc $rc, $(cat "$TMP/err")"
[ -z "$left" ] || fail "a full disk left '$left' behind"

# stopped for 1 s of a 2.5 s profile, then continued: the profile holds
# the 1.5 s it ran, its 3:1 split intact
start "$T/cpu_split" 0
sleep 0.3
$EBPROF -p "$WPID" -F 999 -d 2.5 -o "$TMP/stop.folded" 2>"$TMP/err" &
EP=$!
sleep 0.7
kill -STOP "$WPID"
sleep 1
kill -CONT "$WPID"
wait $EP || fail "ebprof -p on a stopped and continued target: $(cat "$TMP/err")"
n=$(total "$TMP/stop.folded")
a=$(share "$TMP/stop.folded" ';burn_a(;|$)')
info "stopped 1 s of 2.5: $n samples (at most 1.5 s x 999), burn_a $a %"
# 1.5 s on CPU at 999 Hz, +- the 0.3 s that ebprof's attach takes from the window
# at most 1.5 s on CPU; less when other work shares it
[ "$n" -le 1600 ] && [ "$n" -ge 400 ] || fail "$n samples for ~1.5 s on CPU"
within_binom "$a" 75 "$n" || fail "burn_a $a % after a stop"
kill "$WPID"

# killed while ebprof attaches: no BPF program left, one line at most
for _ in 1 2 3; do
	start "$T/cpu_split" 0
	$EBPROF -p "$WPID" -d 2 -o "$TMP/gone.folded" 2>"$TMP/err" &
	EP=$!
	sleep 0.02
	kill -9 "$WPID"
	wait $EP; rc=$?
	[ $rc -le 1 ] || fail "target killed while attaching: rc $rc"
	[ "$(wc -l <"$TMP/err")" -le 2 ] || fail "target killed while attaching: $(cat "$TMP/err")"
done
[ "$(ebprof_progs)" = 0 ] || fail "BPF programs left after a target died as ebprof attached"

# two ebprofs on one target: each sees the whole split
start "$T/cpu_split" 0
sleep 0.3
$EBPROF -p "$WPID" -F 499 -d 2 -o "$TMP/one.folded" 2>"$TMP/err1" &
E1=$!
$EBPROF -p "$WPID" -F 499 -d 2 -o "$TMP/two.folded" 2>"$TMP/err2" &
E2=$!
wait $E1 || fail "first of two: $(cat "$TMP/err1")"
wait $E2 || fail "second of two: $(cat "$TMP/err2")"
for f in one two; do
	within_binom "$(share "$TMP/$f.folded" ';burn_a(;|$)')" 75 "$(total "$TMP/$f.folded")" ||
		fail "two ebprofs: burn_a in the $f"
done
kill "$WPID"
[ "$(ebprof_progs)" = 0 ] || fail "BPF programs left after two ebprofs"

# a command that execs another program mid-profile: both profiled, both
# walked from _start
$EBPROF -F 999 -o "$TMP/exec.folded" -- sh -c "$T/cpu_split 0.5 >/dev/null; exec $T/qsort_deep 0.5" >/dev/null 2>"$TMP/err" ||
	fail "exec mid-profile: $(cat "$TMP/err")"
c=$(share "$TMP/exec.folded" '^cpu_split(-[0-9]+)?;_start;.*;main;work;burn_[ab]')
q=$(share "$TMP/exec.folded" '^qsort_deep(-[0-9]+)?;_start;.*;main;.*;hot(;|$)')
info "exec mid-profile: cpu_split $c %, qsort_deep $q % (each ~half, from _start)"
at_least "$c" 35 && at_least "$q" 35 || fail "exec mid-profile: cpu_split $c %, qsort_deep $q %"

# a hundred children forked one after another: their faults counted too
# (the counter each task inherits)
$EBPROF -F 999 -e page-faults -f json -o "$TMP/fork.json" -- "$T/forkmany" 100 >/dev/null 2>"$TMP/err" ||
	fail "forkmany: $(cat "$TMP/err")"
python3 - "$TMP/fork.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
pids = {s["pid"] for s in p["stacks"]}
print("  forkmany 100: %d processes sampled, %d page faults counted, %d samples" % (len(pids), p["counted"], p["samples"]))
# each child touches 64 pages: at least 6400 faults in the children
assert p["counted"] >= 6400, p["counted"]
PY
# 500 threads created and destroyed, four at a time, each burning 6 ms of
# its CPU time in churn_a and 2 ms in churn_b: every thread seen, every
# stack complete, the 3:1 split and the sample count as for one thread
start_held "$T/thread_churn" 500
$EBPROF -p "$WPID" -F 999 --per-thread -f folded -o "$TMP/churn.folded" 2>"$TMP/err" &
EP=$!
sleep 1	# attached before the first thread exists
kill -USR1 "$WPID"
wait $EP || fail "500 threads: $(cat "$TMP/err")"
cpu=$(awk '/^threads/ { print $4 }' "$TMP/workload.out")
read -r n a b whole tids < <(awk '{ n += $NF } /;churn_a[; ]/ { a += $NF } /;churn_b[; ]/ { b += $NF }
	/;clone3;start_thread;churn_thread;churn_[ab][; ]/ { w += $NF }
	/;churn_[ab][; ]/ { split($1, f, ";"); t[f[1]] = 1 }
	END { printf "%d %d %d %d %d\n", n, a, b, w, length(t) }' "$TMP/churn.folded")
info "500 threads: $n samples for $cpu s of their CPU at 999 Hz; churn_a $a, churn_b $b, $whole of them complete, $tids threads seen"
# every churn sample walked from clone3 (a stack missing a frame is a bug)
[ $((a + b)) -gt 0 ] && [ "$whole" = $((a + b)) ] || fail "500 threads: $((a + b - whole)) of $((a + b)) stacks incomplete"
within_binom "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", 100 * a / (a + b) }')" 75 $((a + b)) ||
	fail "500 threads: churn_a $a of $((a + b))"
# ~4 s of CPU at 999 Hz: ~4000 samples; 5 Poisson sigmas (sqrt(4000) = 63)
# are +- 316, which also covers the samples of thread start and exit
# outside churn_[ab] (~0.5 %)
awk -v n="$n" -v c="$cpu" 'BEGIN { e = c * 999; exit !(n >= e - 5 * sqrt(e) && n <= e + 5 * sqrt(e)) }' ||
	fail "500 threads: $n samples for $cpu s of CPU at 999 Hz"
# each thread runs 8 ms: ~8 samples; one without any is a chance of e^-8
# (0.03 %), so at most a handful of the 500 may be missing
[ "$tids" -ge 490 ] || fail "500 threads: only $tids threads seen"

# a pid reused: of two targets, one exits and a new process (qsort_deep)
# takes its pid while ebprof runs on with the other; the newcomer is not
# profiled as the old target
start "$T/cpu_split" 0
A=$WPID
start "$T/threads" 4
B=$WPID
sleep 0.2
$EBPROF -p "$A,$B" -F 999 -d 3 -f folded -o "$TMP/reuse.folded" 2>"$TMP/err" &
EP=$!
sleep 1
kill "$A"
wait "$A" 2>/dev/null
python3 - "$A" "$T/qsort_deep" >"$TMP/reuse.out" 2>&1 <<'PY' &
import os, sys
want = int(sys.argv[1])
for _ in range(200):
	with open("/proc/sys/kernel/ns_last_pid", "w") as f:
		f.write(str(want - 1))
	pid = os.fork()
	if pid == 0:
		if os.getpid() == want:
			os.execv(sys.argv[2], [sys.argv[2], "1.5"])
		os._exit(0)
	os.waitpid(pid, 0)
	if pid == want:
		print("reused", pid)
		break
PY
wait $!
wait $EP || fail "pid reuse: $(cat "$TMP/err")"
grep -q "^reused $A" "$TMP/reuse.out" || skip "pid $A was not reused: $(cat "$TMP/reuse.out")"
new=$(grep -c 'qsort_deep\|;hot' "$TMP/reuse.folded")
info "pid reuse: pid $A reused by qsort_deep; its stacks in the profile: $new; cpu_split $(share "$TMP/reuse.folded" '^cpu_split') %, threads $(share "$TMP/reuse.folded" '^threads') %"
[ "$new" = 0 ] || fail "pid reuse: the new process on pid $A was profiled as the old target"
at_least "$(share "$TMP/reuse.folded" '^threads')" 50 || fail "pid reuse: the other target not profiled on"
exit 0
