#!/bin/bash
# make soak: `ebprof -a -F 999` for SOAK_MIN minutes (default 30) while
# processes and threads come and go (threads made and joined, children
# forked, short commands, Python interpreters, a compiler).  Checks:
#  - ebprof's heap, less what grows with the stacks and functions seen (the
#    profile, and the symbolizer's demangled names), stays within 10 % after
#    the first minute of what it was then, and so does its RSS less their
#    growth.  The profile grows with the distinct stacks seen (a long tail
#    of them on such a machine: how many is printed); all else (what is
#    kept per process, buffers) must not;
#  - every sample the kernel produced is accounted for: the sampler's runs
#    as the kernel counts them (bpf_stats_enabled, switched on for the run)
#    equal ebprof's own count of them, and those that were the target's are
#    in the profile or counted as lost;
#  - no BPF program, map or link left behind.
# Prints the RSS every 30 s, the accounting, and "soak: passed" or the
# failures; exits 1 on a failure.
set -u
cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" -eq 0 ] || { echo "soak: run as root" >&2; exit 1; }
MIN=${SOAK_MIN:-30}
SECS=$(awk -v m="$MIN" 'BEGIN { printf "%d", m * 60 }')
EBPROF=$PWD/build/ebprof
T=$PWD/.output/tools
TMP=$(mktemp -d /tmp/ebprof-soak.XXXXXX)
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
CHURN=
cleanup() {
	[ -n "$CHURN" ] && kill -- -"$CHURN" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	rm -rf "$TMP"
}
trap cleanup EXIT
bpf_objects() { echo "$(bpftool prog show | grep -c '^[0-9]') $(bpftool map show | grep -c '^[0-9]') $(bpftool link show | grep -c '^[0-9]')"; }
before=$(bpf_objects)
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

sysctl -qw kernel.bpf_stats_enabled=1
# the churn, in its own process group
setsid bash -c "
	while :; do
		$T/thread_churn 200 >/dev/null
		$T/forkmany 50 >/dev/null
		sh -c '$T/cpu_split 0.3 >/dev/null; $T/qsort_deep 0.2 >/dev/null'
		python3 tests/workloads/py_work.py quick 0.2 >/dev/null
		python3 tests/workloads/py_work.py churn 0.3 >/dev/null
		cc -O2 -c tests/workloads/cpu_split.c -o $TMP/churn.o
	done" </dev/null >/dev/null 2>&1 &
CHURN=$!

$EBPROF -v -a -F 999 -d "$SECS" -f json -o "$TMP/soak.json" 2>"$TMP/err" &
EP=$!
t0=$(date +%s)
echo "soak: ebprof -a -F 999 for $MIN min with process and thread churn (pid $EP)"
echo "  min  rss_kb  heap_kb  profile_kb  names_kb  stacks  ebprof_cpu_s"
# the profile's size as the last drain left it: "kB stacks"
# "profile_kB stacks heap_kB names_kB" as the last drain left them
profile_kb() {
	awk '/the profile holds/ { for (i = 1; i < NF; i++) { if ($i == "holds") { s = $(i + 1); p = $(i + 4) }
			if ($i == "use") h = $(i + 1); if ($i == "names") n = $(i + 1) } }
		END { printf "%d %d %d %d\n", p * 1000 / 1.024, s, h * 1000 / 1.024, n * 1000 / 1.024 }' "$TMP/err"
}
while kill -0 $EP 2>/dev/null; do
	sleep 10
	el=$(($(date +%s) - t0))
	r=$(rss_kb $EP)
	[ -n "$r" ] || break
	cpu=$(awk '{ printf "%.1f", ($14 + $15) / 100 }' "/proc/$EP/stat" 2>/dev/null)
	read -r pkb nst hkb nkb < <(profile_kb)
	# not while it writes the profile out at the end
	[ "$pkb" -gt 0 ] && [ "$el" -lt $((SECS - 15)) ] || continue
	echo "$el $r $hkb $((pkb + nkb))" >>"$TMP/mem"
	[ $((el % 30)) -lt 10 ] && printf '  %4.1f  %6d  %7d  %10d  %8d  %6d  %s\n' "$(awk -v s=$el 'BEGIN { print s / 60 }')" \
		"$r" "$hkb" "$pkb" "$nkb" "$nst" "$cpu"
done
wait $EP
rc=$?
kill -- -"$CHURN" 2>/dev/null
CHURN=
sleep 1
after=$(bpf_objects)
bad=0
echo "  ebprof exit $rc: $(grep -v 'drain [0-9]*:' "$TMP/err" | tail -n 3 | tr '\n' ' ')"
[ $rc = 0 ] || bad=1
# from the first minute on: the heap less the profile and names (a leak
# shows there), and the RSS less their growth since (fragmentation shows there)
awk '$1 >= 60 { if (!n++) { h0 = $3 - $4; r0 = $2; p0 = $4 }
		h = $3 - $4; if (h > hmax) hmax = h; r = $2 - ($4 - p0); if (r > rmax) rmax = r }
	END { printf "  at 1 min: heap less the profile and names %d kB, RSS %d kB; largest after: %d kB and %d kB (RSS less their growth)\n", h0, r0, hmax, rmax
		if (!n || hmax > 1.10 * h0) { print "FAIL: the heap (less the profile and names) grew by more than 10 % after the first minute"; bad = 1 }
		if (!n || rmax > 1.10 * r0) { print "FAIL: the RSS grew by more than 10 % beyond the growth of the profile and names after the first minute"; bad = 1 }
		exit bad }' "$TMP/mem" || bad=1
python3 - "$TMP/soak.json" <<'PY' || bad=1
import json, sys
p = json.load(open(sys.argv[1]))
s, lost = p["sampler"], p["lost"]
print("  sampler runs %d (kernel's count %d, skipped by the kernel %d): idle %d, samples %d"
      % (s["runs"], s["kernel_runs"], s["kernel_skipped"], s["idle"], p["samples"]))
print("  samples %d = in the profile %d + lost %d; losses: %s"
      % (p["samples"], p["events"], lost["counts"], lost))
print("  stacks %d, functions %d, processes %d" % (len(p["stacks"]), len(p["functions"]),
      len({x["pid"] for x in p["stacks"]})))
ok = s["runs"] == s["kernel_runs"] and p["samples"] == p["events"] + lost["counts"]
if not ok:
    print("FAIL: samples not accounted for")
sys.exit(0 if ok else 1)
PY
echo "  BPF programs, maps, links before: $before, after: $after"
[ "$before" = "$after" ] || { echo "FAIL: BPF objects left behind"; bad=1; }
[ $bad = 0 ] && echo "soak: passed" || { echo "soak: failed"; exit 1; }
