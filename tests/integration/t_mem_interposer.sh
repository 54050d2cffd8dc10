#!/bin/bash
# ebprof mem on a launched command, its default: every call counted by
# ebprof's interposer (user/preload/ebmem.c), stacks by sampling the bytes
# allocated.  Totals against valgrind's and what the workload knows it did;
# estimates by stack against the truth, within the bounds ebprof prints;
# where the interposer cannot go (static, setuid, LD_PRELOAD cleared, an
# allocator linked into the program), one line and the probes instead,
# never its counts of what it did see as the whole; a fork's child not
# counted; nothing left.
. "$(dirname "$0")/lib.sh"
need_root
A=$T/alloc_work

# the totals and what is still held at the exit, as valgrind counts them
# (--run-libc-freeres=no: valgrind otherwise frees libc's own buffers at
# the exit, which the program never does); the 700 blocks of 96 bytes and
# their array leak_f() keeps, counted exactly and put to leak_f by stacks
# complete to _start.  The samples are told by a getppid ebprof traces (a
# system call), or by uprobes on the interposer's markers where it cannot
# (EBPROF_TEST_MEM_UPROBE_MARKERS makes it so): both the same
if command -v valgrind >/dev/null; then
	valgrind --run-libc-freeres=no "$A" basic 700 96 >/dev/null 2>"$TMP/vg"
	vg=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs, \([0-9,]*\) frees, \([0-9,]*\) bytes allocated.*/\1 \2 \3/p' "$TMP/vg" | tr -d ,)
	vgu=$(sed -n 's/.*in use at exit: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 \2/p' "$TMP/vg" | tr -d ,)
else
	info "valgrind is not installed: the totals against the program's own"
	vg="4707 4006 330576" vgu="72800 701"
fi
for markers in getppid uprobes; do
[ $markers = uprobes ] && export EBPROF_TEST_MEM_UPROBE_MARKERS=1
$EBPROF mem --leaks --min-age 0 -f json -o "$TMP/basic.json" -- "$A" basic 700 96 >/dev/null 2>"$TMP/err" ||
	fail "ebprof mem: $(cat "$TMP/err")"
unset EBPROF_TEST_MEM_UPROBE_MARKERS
python3 - "$TMP/basic.json" "$vg" "$vgu" $markers <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1])); t = p["totals"]; ip = p["interposer"]; k = ip["bound_sigmas"]
va, vf, vb = (int(x) for x in sys.argv[2].split()); ub, un = (int(x) for x in sys.argv[3].split())
assert ip["markers"] == sys.argv[4], (ip["markers"], sys.argv[4])
assert p["lost"]["samples"] == 0 and sum(s["samples"] for s in p["stacks"]) == ip["samples"], (p["lost"], ip)
print("  basic, samples told by %s: %d allocs, %d frees, %d bytes; %d bytes in %d blocks held at the exit (valgrind: %d, %d, %d; %d in %d)"
      % (sys.argv[4], t["allocs"], t["frees"], t["bytes_allocated"], t["bytes_outstanding"], t["blocks_outstanding"], va, vf, vb, ub, un))
assert p["requested"] == "interposer" and p["exact"], p
assert (t["allocs"], t["frees"], t["bytes_allocated"]) == (va, vf, vb), (t, va, vf, vb)
assert (t["bytes_outstanding"], t["blocks_outstanding"]) == (ub, un), t
# leak_f's: 700 x 96 bytes and its array of 700 pointers, 72 800 bytes in 701 blocks
leak = [s for s in p["stacks"] if s["frames"][-1]["function"] == "leak_f" and s["bytes_outstanding"]]
est = sum(s["bytes_outstanding"] for s in leak)
bnd = sum(s["bounds"]["bytes_outstanding"] ** 2 for s in leak) ** 0.5
blk = sum(s["blocks_outstanding"] for s in leak)
print("  leak_f holds ~%d +- %d bytes in ~%d blocks (700 x 96 + 5600 = 72800 in 701), %d samples"
      % (est, bnd, blk, sum(s["samples"] for s in leak)))
assert abs(est - 72800) <= bnd, (est, bnd)
for s in leak:
    names = [f["function"] for f in s["frames"]]
    assert names[:5] == ["_start", "__libc_start_main", "__libc_start_call_main", "main", "leak_f"], names
# the interposer's own frames are not shown, in allocation stacks or in those that faulted pages in
assert not any(f["module"] == "libebprof-mem.so" for s in p["stacks"] for f in s["frames"]), "interposer frames in a stack"
assert p["interposer"]["peak_exact"] and p["interposer"]["peak_heap"] == 73800, p["interposer"]
PY
done
# jemalloc, tcmalloc, mimalloc preloaded: the interposer's real
# allocator is the one that comes next, and it counts the program's calls
# as the probes on that allocator do (--exact), every call: the same, but
# for what the allocator calls itself (tcmalloc's TCMallocGuard mallocs and
# frees a byte twice, inside it), which only the probes see.  (A library
# that brings libstdc++ in adds its emergency pool, 72,704 bytes, to both.)
for lib in libjemalloc.so.2 libtcmalloc_minimal.so.4 libmimalloc.so.2; do
	if ! ls /usr/lib/x86_64-linux-gnu/$lib >/dev/null 2>&1; then
		info "$lib absent (make deps installs it): skipped"
		continue
	fi
	for m in "" --exact; do
		LD_PRELOAD=$lib $EBPROF mem $m -f json -o "$TMP/pre$m-$lib.json" -- "$A" basic 700 96 >/dev/null 2>"$TMP/err" ||
			fail "LD_PRELOAD=$lib ebprof mem $m: $(cat "$TMP/err")"
	done
	# the blocks the interposer keeps for a class fit any size of it under
	# this allocator too (its classes are not glibc's: jemalloc gives 32
	# bytes for 25, where a class of 9-24 bytes needs 40; alloc_work exits 1)
	LD_PRELOAD=$lib $EBPROF mem -o "$TMP/reuse-$lib.txt" -- "$A" reuse 4 2000 >/dev/null 2>"$TMP/err" ||
		fail "LD_PRELOAD=$lib ebprof mem: alloc_work reuse: a block given out short or overwritten: $(cat "$TMP/err")"
	python3 - "$TMP/pre-$lib.json" "$TMP/pre--exact-$lib.json" "${lib%%.so*}" <<'PY' || exit 1
import json, sys
d, x = (json.load(open(a)) for a in sys.argv[1:3])
assert d["requested"] == "interposer" and d["exact"] and x["exact"], (d["requested"], x["requested"])
keys = ("allocs", "frees", "bytes_allocated")
inside = [sum(s[k] for s in x["stacks"] if any(f["module"].startswith(sys.argv[3]) for f in s["frames"])) for k in keys]
dt, xt = [d["totals"][k] for k in keys], [x["totals"][k] for k in keys]
print("  %s preloaded: the interposer %s; the probes %s, %s of them inside it" % (sys.argv[3], dt, xt, inside))
assert dt == [a - b for a, b in zip(xt, inside)], (dt, xt, inside)
leak = [s for s in d["stacks"] if s["frames"][-1]["function"] == "leak_f"]
assert sum(s["bytes_outstanding"] for s in leak) == 72800, leak
PY
done

# alignments past what a header's offset once held (2 MiB and 4 MiB: once
# refused, ENOMEM), one not a power of two (48: glibc rounds it up, the
# interposer once refused it, EINVAL): allowed and aligned (alloc_work
# exits 1 otherwise), and counted as valgrind counts them
if command -v valgrind >/dev/null; then
	valgrind "$A" align >/dev/null 2>"$TMP/vg" || fail "alloc_work align under valgrind: $(tail -3 "$TMP/vg")"
	vga=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs, \([0-9,]*\) frees, \([0-9,]*\) bytes allocated.*/\1 \2 \3/p' "$TMP/vg" | tr -d ,)
else
	vga="5 4 4198504"
fi
$EBPROF mem -f json -o "$TMP/align.json" -- "$A" align >/dev/null 2>"$TMP/err" ||
	fail "alloc_work align: an alignment refused or not kept: $(cat "$TMP/err")"
python3 - "$TMP/align.json" "$vga" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1])); t = p["totals"]
va, vf, vb = (int(x) for x in sys.argv[2].split())
held = sum(s["bytes_outstanding"] for s in p["stacks"] if s["frames"][-1]["function"] == "aligned_b")
print("  alignments of 2 MiB, 4 MiB, 48: %d allocs, %d frees, %d bytes (valgrind %d, %d, %d); aligned_b holds ~%d"
      % (t["allocs"], t["frees"], t["bytes_allocated"], va, vf, vb, held))
assert (t["allocs"], t["frees"], t["bytes_allocated"]) == (va, vf, vb), t
assert (t["bytes_outstanding"], t["blocks_outstanding"]) == (3000, 1) and held == 3000, (t, held)
PY

# a command that crashes (SIGSEGV) or is killed (SIGKILL) after basic's
# work: the counts are in the file it shares, so the same as valgrind's
# of the whole basic run; ebprof exits with the command's status
for sig in 11 9; do
	rc=0
	$EBPROF mem -f json -o "$TMP/crash$sig.json" -- "$A" crash 700 96 $sig >/dev/null 2>"$TMP/err" || rc=$?
	[ $rc = $((128 + sig)) ] || fail "killed by signal $sig: ebprof exited $rc: $(cat "$TMP/err")"
done
python3 - "$TMP" "$vg" "$vgu" <<'PY' || exit 1
import json, sys
va, vf, vb = (int(x) for x in sys.argv[2].split()); ub, un = (int(x) for x in sys.argv[3].split())
for sig in (11, 9):
    p = json.load(open("%s/crash%d.json" % (sys.argv[1], sig))); t = p["totals"]
    leak = sum(s["bytes_outstanding"] for s in p["stacks"] if s["frames"][-1]["function"] == "leak_f")
    print("  killed by signal %d: %d allocs, %d frees, %d bytes, %d in %d blocks held; leak_f ~%d" %
          (sig, t["allocs"], t["frees"], t["bytes_allocated"], t["bytes_outstanding"], t["blocks_outstanding"], leak))
    assert p["exact"] and (t["allocs"], t["frees"], t["bytes_allocated"]) == (va, vf, vb), (t, va, vf, vb)
    assert (t["bytes_outstanding"], t["blocks_outstanding"]) == (ub, un) and leak == ub, (t, leak)
PY
# a sandbox whose seccomp filter fails the interposer's getppid: the
# samples it takes from then on are not seen, and that is said and
# counted (each sample either seen or lost); the totals stay exact
$EBPROF mem -f json -o "$TMP/denied.json" -- "$A" denied 700 96 >/dev/null 2>"$TMP/err" || fail "denied: $(cat "$TMP/err")"
$EBPROF mem -o "$TMP/denied.txt" -- "$A" denied 700 96 >/dev/null 2>"$TMP/err" || fail "denied: $(cat "$TMP/err")"
grep -q "^# warning: [0-9]* of the interposer's samples not seen (a seccomp filter on getppid?)" "$TMP/denied.txt" ||
	fail "denied: samples lost, not said: $(head -12 "$TMP/denied.txt")"
python3 - "$TMP/denied.json" "$vg" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1])); t = p["totals"]; ip = p["interposer"]
va, vf, vb = (int(x) for x in sys.argv[2].split())
seen = sum(s["samples"] for s in p["stacks"])
print("  getppid denied: %d samples, %d seen, %d said lost; %d allocs, %d frees, %d bytes" % (
    ip["samples"], seen, p["lost"]["samples"], t["allocs"], t["frees"], t["bytes_allocated"]))
assert (t["allocs"], t["frees"], t["bytes_allocated"]) == (va, vf, vb), (t, va, vf, vb)
assert p["lost"]["samples"] >= 700 and seen + p["lost"]["samples"] == ip["samples"], (p["lost"], seen, ip)
PY
[ "$(ebprof_progs)" = 0 ] || fail "BPF programs left loaded"
ls -d /tmp/ebprof-mem.* 2>/dev/null && fail "the interposer's files were left in /tmp"

# the storm: malloc/free pairs of 16-520 bytes, 3 of every 4 from storm_a,
# 1 from storm_b, whose bytes the workload prints.  The totals exact; each
# site's bytes within the bound printed (4 standard deviations of its
# estimate) of the truth, sampled as by default and every 64 KiB (~8000
# samples: bounds within 10 % of storm_a's bytes, 20 % of storm_b's:
# 4 / sqrt(6000 or 2000)).  By default the first 1000 samples take the
# first 1000 allocations, and the storm's ~25 ms at most 500 a second, at
# intervals up to ~50 MB: ~50 samples stand for its 536 MB, and the bounds,
# which must hold with so few, are +-270-680 % (30 runs: none missed;
# before they took the longest interval of the run for every site, one
# run in five had storm_b, seen only in the first 1000, at 2.2 MB +- 12 MB
# of its 134 MB)
storm() {
	$EBPROF mem "$@" -f json -o "$TMP/storm.json" -- "$A" storm 2000000 >"$TMP/storm.out" 2>"$TMP/err" ||
		fail "storm: $(cat "$TMP/err")"
	python3 - "$TMP/storm.json" "$(cat "$TMP/storm.out")" "$*" <<'PY' || exit 1
import json, re, sys
p = json.load(open(sys.argv[1])); t = p["totals"]; ip = p["interposer"]
truth = {k: int(v) for k, v in re.findall(r"(storm_[ab])_bytes (\d+)", sys.argv[2])}
pairs = int(re.search(r"pairs (\d+)", sys.argv[2]).group(1))
by = {}
for s in p["stacks"]:
    f = s["frames"][-1]["function"] if s["frames"] else ""
    if f in truth:
        e, v = by.get(f, (0, 0))
        by[f] = (e + s["bytes_allocated"], v + s["bounds"]["bytes_allocated"] ** 2)
print("  storm %s: %d allocs, %d frees; %d samples (mean interval up to %d bytes); %s" % (
    sys.argv[3] or "(default)", t["allocs"], t["frees"], ip["samples"], ip["sample_bytes_max"],
    ", ".join("%s %d +- %d (truth %d)" % (f, by[f][0], by[f][1] ** 0.5, truth[f]) for f in sorted(by))))
# the pairs, and stdout's buffer
assert t["allocs"] == pairs + 1 and t["frees"] == pairs, t
assert t["bytes_allocated"] - t["bytes_freed"] == t["bytes_outstanding"] and t["blocks_outstanding"] == 1, t
assert t["bytes_allocated"] - sum(truth.values()) in (1024, 4096), (t, truth)
for f in truth:
    assert abs(by[f][0] - truth[f]) <= by[f][1] ** 0.5, (f, by[f], truth[f])
# every sampled block's free told (most along with a later sample): none held by a stack
assert not any(s["bytes_outstanding"] for s in p["stacks"] if s["frames"] and s["frames"][-1]["function"] in truth), p["stacks"]
if sys.argv[3]:
    assert by["storm_a"][1] ** 0.5 <= 0.10 * truth["storm_a"] and by["storm_b"][1] ** 0.5 <= 0.20 * truth["storm_b"], by
PY
}
storm
storm --sample-bytes 64K

# threads: 4 make 100 000 blocks each, the main thread frees all but
# every 1000th.  The totals as valgrind's but for the threads' TLS vectors
# (glibc's dtv: 16 bytes more each, for the interposer's own thread-local
# variables); the blocks held exactly; the peak a floor, and said so; the
# blocks held by thread_alloc within the bound of its estimate, or the
# bytes its samples leave out said (they were made at long intervals; the
# table run says it in the words checked, when its own samples leave it out)
$EBPROF mem -f json -o "$TMP/threads.json" -- "$A" threads 4 100000 >/dev/null 2>"$TMP/err" || fail "threads: $(cat "$TMP/err")"
$EBPROF mem -o "$TMP/threads.txt" -- "$A" threads 4 100000 >/dev/null 2>"$TMP/err" || fail "threads: $(cat "$TMP/err")"
if command -v valgrind >/dev/null; then
	valgrind --run-libc-freeres=no "$A" threads 4 100000 >/dev/null 2>"$TMP/vg"
	vg=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs, \([0-9,]*\) frees, \([0-9,]*\) bytes allocated.*/\1 \2 \3/p' "$TMP/vg" | tr -d ,)
else
	vg="400005 399601 53001088"
fi
python3 - "$TMP/threads.json" "$vg" "$TMP/threads.txt" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1])); t = p["totals"]; ip = p["interposer"]
va, vf, vb = (int(x) for x in sys.argv[2].split())
table = open(sys.argv[3]).read()
held = [s for s in p["stacks"] if s["frames"] and s["frames"][-1]["function"] == "thread_alloc"]
est = sum(s["bytes_outstanding"] for s in held); bnd = sum(s["bounds"]["bytes_outstanding"] ** 2 for s in held) ** 0.5
print("  threads: %d allocs, %d frees, %d bytes (valgrind %d, %d, %d); %d blocks held; peak >= %d; thread_alloc holds ~%d +- %d; left out %d"
      % (t["allocs"], t["frees"], t["bytes_allocated"], va, vf, vb, t["blocks_outstanding"], ip["peak_heap"], est, bnd,
         ip["unattributed_bytes_outstanding"]))
assert (t["allocs"], t["frees"]) == (va, vf) and t["bytes_allocated"] - vb == 16 * 4, (t, va, vf, vb)
assert t["blocks_outstanding"] == 4 * 100 + 4, t
assert not ip["peak_exact"] and ip["threads"] >= 2 and "or more (several threads allocated" in table, ip
assert "the stacks' estimates leave out" not in table or "of the 40.2 KiB held at the end" in table, table
truth = sum(100 + j % 50 for j in range(0, 100000, 1000)) * 4
assert abs(est - truth) <= bnd or ip["unattributed_outstanding_said"], (est, bnd, truth, ip)
PY

# the interposer's per-thread cache of freed blocks (user/preload/ebmem.c,
# bin_of()): blocks of every class and past them, by malloc, calloc and
# realloc, each filled to its size and checked before its free, and
# blocks freed by threads that then end: alloc_work exits 1 (139 when a
# class gave too small a block, checked by hand) if one was short,
# misaligned, not zeroed, overwritten, or glibc's bytes in use did not
# come back after the threads (their kept blocks not given back: 476,192
# bytes by hand).  The totals as valgrind's, the TLS vectors aside.
$EBPROF mem -f json -o "$TMP/reuse.json" -- "$A" reuse 4 2000 >/dev/null 2>"$TMP/err" ||
	fail "reuse: a block given out wrong, or kept past its thread: $(cat "$TMP/err")"
if command -v valgrind >/dev/null; then
	valgrind --run-libc-freeres=no "$A" reuse 4 2000 >/dev/null 2>"$TMP/vg" || fail "alloc_work reuse under valgrind: $(tail -3 "$TMP/vg")"
	vg=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs, \([0-9,]*\) frees, \([0-9,]*\) bytes allocated.*/\1 \2 \3/p' "$TMP/vg" | tr -d ,)
	vgu=$(sed -n 's/.*in use at exit: \([0-9,]*\) bytes in \([0-9,]*\) blocks.*/\1 \2/p' "$TMP/vg" | tr -d ,)
else
	vg="207986 207982 124249027"; vgu="1088 4"
fi
python3 - "$TMP/reuse.json" "$vg" "$vgu" <<'PY' || exit 1
import json, sys
t = json.load(open(sys.argv[1]))["totals"]
va, vf, vb = (int(x) for x in sys.argv[2].split()); ub, un = (int(x) for x in sys.argv[3].split())
print("  reuse: %d allocs, %d frees, %d bytes, %d held in %d (valgrind %d, %d, %d, %d in %d)"
      % (t["allocs"], t["frees"], t["bytes_allocated"], t["bytes_outstanding"], t["blocks_outstanding"], va, vf, vb, ub, un))
assert (t["allocs"], t["frees"], t["bytes_allocated"] - vb) == (va, vf, 16 * 4), (t, va, vf, vb)
assert (t["bytes_outstanding"] - ub, t["blocks_outstanding"]) == (16 * 4, un), (t, ub, un)
PY

# a child forked (no exec) counts nothing: the same script, with the child
# making 200 000 objects or none, counts the same give or take a few
for n in 0 200000; do
	$EBPROF mem -f json -o "$TMP/fork$n.json" -- /usr/bin/python3.11 -c "
import os
pid = os.fork()
if pid == 0:
    keep = [object() for i in range($n)]
    os._exit(0)
os.waitpid(pid, 0)" >/dev/null 2>"$TMP/err" || fail "fork: $(cat "$TMP/err")"
done
python3 - "$TMP/fork0.json" "$TMP/fork200000.json" <<'PY' || exit 1
import json, sys
a, b = (json.load(open(x))["totals"]["allocs"] for x in sys.argv[1:3])
ca, cb = (json.load(open(x))["children_not_counted"] for x in sys.argv[1:3])
print("  a child forked making 0 or 200000 objects: %d and %d allocations counted; %d and %d children said not counted" % (a, b, ca, cb))
assert ca == cb == 1, (ca, cb)
# the parent's are counted (python3.11 starting makes ~36,000: its canonical
# PLT entry for malloc once passed for an allocator of its own, and none were)
assert abs(a - b) <= 50 and a > 10000, (a, b)
PY

# where the interposer cannot go: one line, and the probes instead
cc -O2 -static -Itests/workloads -o "$TMP/alloc_static" tests/workloads/alloc_work.c 2>"$TMP/err" ||
	fail "cannot build a static program: $(cat "$TMP/err")"
$EBPROF mem -o "$TMP/static.txt" -- "$TMP/alloc_static" basic 10 100 >/dev/null 2>"$TMP/err" || fail "static: $(cat "$TMP/err")"
grep -q "cannot run with ebprof's allocation counter (it is statically linked" "$TMP/err" ||
	fail "a static program: not said: $(cat "$TMP/err")"
[ "$(grep -c . "$TMP/err")" -le 2 ] || fail "a static program: more than a line: $(cat "$TMP/err")"
cp "$A" "$TMP/alloc_suid"
chmod u+s "$TMP/alloc_suid"
$EBPROF mem -o "$TMP/suid.txt" -- "$TMP/alloc_suid" basic 10 100 >/dev/null 2>"$TMP/err" || fail "setuid: $(cat "$TMP/err")"
grep -q "cannot run with ebprof's allocation counter (it is setuid" "$TMP/err" || fail "setuid: not said: $(cat "$TMP/err")"
# LD_PRELOAD taken away before the program it runs: seen at its exec, of
# another program (env) or of the same file (a program that restarts
# itself, once seen only at the end: the exec was told by the file)
for how in env reexec; do
	case $how in
	env) cmd=(env -u LD_PRELOAD "$A" loop 3) ;;
	reexec) cmd=("$A" reexec loop 3) ;;
	esac
	$EBPROF mem -f json -o "$TMP/cleared.json" -- "${cmd[@]}" >/dev/null 2>"$TMP/err" ||
		fail "LD_PRELOAD cleared ($how): $(cat "$TMP/err")"
	grep -q "runs without ebprof's allocation counter" "$TMP/err" || fail "LD_PRELOAD cleared ($how): not said: $(cat "$TMP/err")"
	python3 - "$TMP/cleared.json" "$how" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
g = sum(s["allocs"] for s in p["stacks"] if s["frames"] and s["frames"][-1]["function"] == "g")
print("  LD_PRELOAD cleared (%s): probes from %.2f s on, %d of g's allocations seen" % (sys.argv[2], p["probed_from_s"], g))
assert p.get("interposer_not_loaded") and g > 0, p["totals"]
# the first program's own allocations, sampled before its exec, are not the
# probes' counts (their weights once showed as 2,682,477 allocations a
# stack, of [unknown])
assert "interposer" not in p and p["probed_from_s"] > 0, p
assert sum(s["allocs"] for s in p["stacks"]) <= p["totals"]["allocs"], p["totals"]
PY
done
# ... and a program that ends before that is seen: not counted, said so,
# env's allocations (counted before its exec) not given as the command's
$EBPROF mem -f json -o "$TMP/cleared2.json" -- env -u LD_PRELOAD "$A" basic 10 100 >/dev/null 2>"$TMP/err" ||
	fail "LD_PRELOAD cleared, a short program: $(cat "$TMP/err")"
grep -q "pid [0-9]* ran without ebprof's allocation counter (LD_PRELOAD cleared" "$TMP/err" ||
	fail "LD_PRELOAD cleared, a short program: not said: $(cat "$TMP/err")"
python3 - "$TMP/cleared2.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
print("  LD_PRELOAD cleared, a short program: exact %s, %d allocations, probed from %s" %
      (p["exact"], p["totals"]["allocs"], p["probed_from_s"]))
assert p["interposer_not_loaded"] and p["probed_from_s"] is None and not p["exact"] and "interposer" not in p, p
assert p["totals"]["allocs"] == 0 and not any(s["allocs"] for s in p["stacks"]), p["totals"]
PY

# an allocator linked into the program (alloc_own defines malloc, free,
# ...: every call, libc's too, goes there and not to the interposer): one
# line, and the probes on its own functions, before it runs
$EBPROF mem -f json -o "$TMP/own.json" -- "$T/alloc_own" 100 1000 1000 >/dev/null 2>"$TMP/err" || fail "alloc_own: $(cat "$TMP/err")"
grep -q "alloc_own cannot run with ebprof's allocation counter (it defines malloc itself" "$TMP/err" ||
	fail "alloc_own: not said: $(cat "$TMP/err")"
[ "$(grep -c . "$TMP/err")" -le 2 ] || fail "alloc_own: more than a line: $(cat "$TMP/err")"
# ... and through an exec (the interposer finds malloc bound elsewhere, and
# passes through): gone before it is seen, or probed from then on (20
# more rounds of g(), 0.1 s apart)
for rounds in 0 20; do
	$EBPROF mem -f json -o "$TMP/own-exec$rounds.json" -- sh -c "exec '$T/alloc_own' 100 1000 1000 $rounds" >/dev/null \
		2>"$TMP/err" || fail "alloc_own through an exec: $(cat "$TMP/err")"
	grep -q "pid [0-9]* r[au]n[s]* without ebprof's allocation counter (a program that defines malloc itself" "$TMP/err" ||
		fail "alloc_own through an exec ($rounds rounds): not said: $(cat "$TMP/err")"
done
python3 - "$TMP" <<'PY' || exit 1
import json, sys
def by_caller(p):
    by = {}
    for s in p["stacks"]:
        if s["allocs"]:
            f = s["frames"][-1]["function"] if s["frames"] else "?"
            a = by.setdefault(f, [0, 0])
            a[0] += s["allocs"]; a[1] += s["bytes_allocated"]
    return by
p = json.load(open(sys.argv[1] + "/own.json"))
b = by_caller(p)
print("  allocator in the program, probed: %s, f %s" % (p["requested"], b.get("f")))
assert "interposer" not in p and p["requested"] != "interposer", p
# f() keeps 100 blocks of 1000 bytes: the probes (on from the start, within
# --overhead) see some or all of them, never more
assert b.get("f") and 0 < b["f"][0] <= 100 and b["f"][1] == 1000 * b["f"][0], b
for rounds in (0, 20):
    p = json.load(open("%s/own-exec%d.json" % (sys.argv[1], rounds)))
    b, t = by_caller(p), p["totals"]
    print("  ... through an exec, %d rounds: probed from %s s, %d allocations, g %s" %
          (rounds, p["probed_from_s"], t["allocs"], b.get("g")))
    assert p["interposer_not_loaded"] and "defines malloc" in p["interposer_not_loaded_why"] and "interposer" not in p, p
    # what it did: 100 + 1000 (21 + 1000 rounds) allocations, and libc's few
    assert t["allocs"] <= 1100 + 1000 * rounds + 50 and sum(x[0] for x in b.values()) <= t["allocs"], (t, b)
    assert all(f != "?" for f in b), b
    # (the probes within --overhead: on for a first window of the target's
    # CPU time, which sleeps; they may see g() or not)
    if rounds:
        assert p["probed_from_s"] is not None and b.get("g", [0])[0] <= 1000 * (rounds + 1), b
PY
[ "$(ebprof_progs)" = 0 ] || fail "BPF programs left loaded"
ls -d /tmp/ebprof-mem.* 2>/dev/null && fail "the interposer's files were left in /tmp"
exit 0
