#!/bin/bash
# Python beyond one build: unsupported builds (one line, native profile,
# exit 0), -a finding every Python, a fork, thread churn, --fp, --no-lineno.
. "$(dirname "$0")/lib.sh"
need_root
V=$(pyenv root 2>/dev/null || echo /root/.pyenv)/versions
PYCHECK="python3 $PWD/tests/integration/pycheck.py"
py() { ls -d "$V"/"$1".*/bin/python"${1%%.*}" 2>/dev/null | head -1; }

# 2.7, 3.6, 3.7: told once, why, and profiled native-only
for ver in 2.7 3.6 3.7; do
	P=$(py $ver)
	[ -n "$P" ] || { info "python $ver absent: skipped"; continue; }
	$EBPROF -F 499 -o "$TMP/old.folded" -- "$P" -c 'x = 0
while x < 4000000: x += 1' >/dev/null 2>"$TMP/err" || fail "$ver: ebprof failed: $(cat "$TMP/err")"
	[ "$(grep -c 'not supported' "$TMP/err")" = 1 ] || fail "$ver: no single 'not supported' line: $(cat "$TMP/err")"
	grep -q "profiling native stacks only" "$TMP/err" || fail "$ver: the line does not say what happens"
	n=$(total "$TMP/old.folded")
	ev=$(share "$TMP/old.folded" 'PyEval_EvalFrame')
	info "$ver: '$(sed 's/^ebprof: warning: pid [0-9]*: //' "$TMP/err")'; $n samples, $ev % in the eval loop"
	at_least "$n" 50 || fail "$ver: only $n samples"
	at_least "$ev" 80 || fail "$ver: the native profile misses the eval loop"
done

A=$(py 3.9); B=$(py 3.13)
[ -n "$A" ] && [ -n "$B" ] || skip "pyenv 3.9 and 3.13 are needed"

# -a: every Python on the machine, each with its own version
start "$A" tests/workloads/py_work.py split 20; PA=$WPID
start "$B" tests/workloads/py_work.py split 20; PB=$WPID
sleep 1
$EBPROF -a --per-pid -d 2 -F 499 -o "$TMP/all.json" 2>"$TMP/err" || fail "ebprof -a failed: $(cat "$TMP/err")"
kill "$PA" "$PB"
python3 - "$TMP/all.json" "$PA" "$PB" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
for pid in map(int, sys.argv[2:]):
    st = [s for s in p["stacks"] if s["pid"] == pid]
    n = sum(s["count"] for s in st)
    hot = sum(s["count"] for s in st if any(f.get("python") and f["function"].startswith("hot (py_work.py:") for f in s["frames"]))
    print("  -a: pid %d: %d samples, %d in hot()" % (pid, n, hot))
    assert n > 300 and hot > 0.6 * n, "pid %d lacks its Python frames" % pid
PY

# a fork: the child keeps Python frames, as its own process
$EBPROF -F 499 -o "$TMP/fork.json" -- "$A" tests/workloads/py_work.py fork 2 >/dev/null 2>"$TMP/err" || fail "fork: $(cat "$TMP/err")"
python3 - "$TMP/fork.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
def names(s): return [f["function"].split(" (")[0] for f in s["frames"] if f.get("python")]
by = {}
for s in p["stacks"]:
    by.setdefault(s["pid"], [0, 0])[0] += s["count"]
    if "child_spin" in names(s):
        by[s["pid"]][1] += s["count"]
print("  fork: samples and child_spin samples by pid: %s" % by)
kids = [pid for pid, (n, c) in by.items() if c > 0.8 * n and n > 300]
assert len(by) == 2 and len(kids) == 1, "the child's Python frames are missing"
PY

# 1000s of short threads: each sample of a worker is churn_worker > work
$EBPROF -F 999 -o "$TMP/churn.json" -- "$A" tests/workloads/py_work.py churn 2 >/dev/null 2>"$TMP/err" || fail "churn: $(cat "$TMP/err")"
python3 - "$TMP/churn.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
bad = good = 0
for s in p["stacks"]:
    n = [f["function"].split(" (")[0] for f in s["frames"] if f.get("python")]
    if "churn_worker" in n:
        if n[0] in ("_bootstrap", "Thread._bootstrap") and n[-2:] in (["churn_worker", "work"],) :
            good += s["count"]
        elif n[-1] != "churn_worker":
            bad += s["count"]
print("  churn: %d worker samples right, %d wrong" % (good, bad))
assert good > 500 and bad == 0
PY

# deeper than the walker goes: 128 frames, the innermost, and a warning
$EBPROF -F 499 -o "$TMP/deep.json" -- "$B" tests/workloads/py_work.py deep 2 >/dev/null 2>"$TMP/err" || fail "deep: $(cat "$TMP/err")"
grep -q "Python stacks truncated at 128 frames" "$TMP/err" || fail "no warning about truncated Python stacks: $(cat "$TMP/err")"
python3 - "$TMP/deep.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
deep = [s for s in p["stacks"] if any(f["function"].startswith("recurse (") for f in s["frames"])]
n = sum(s["count"] for s in deep)
ok = sum(s["count"] for s in deep if [f["function"].split(" (")[0] for f in s["frames"] if f.get("python")][-1:] == ["work"]
         and sum(1 for f in s["frames"] if f.get("python")) == 128)
print("  deep: %d samples in the recursion, %d show its innermost 128 frames; truncated %d" % (n, ok, p["python"]["truncated"]))
assert n > 500 and ok > 0.9 * n and p["python"]["truncated"] >= ok
PY

# --fp: no unwind tables; the Python frames still come, above the native leaf
$EBPROF --fp -F 499 -o "$TMP/fp.folded" -- "$B" tests/workloads/py_work.py split 2 >/dev/null 2>&1 || fail "--fp failed"
s=$(share "$TMP/fp.folded" '<module> \(py_work.py:[0-9]+\);main \(py_work.py:[0-9]+\);run_split \(py_work.py:[0-9]+\);(hot|cold) \(py_work.py:[0-9]+\);work \(py_work.py:[0-9]+\)')
info "--fp: $s % of samples show the Python stack <module> > main > run_split > hot|cold > work"
at_least "$s" 95 || fail "--fp lost the Python stacks"

# --fp through pyenv's 3.8, whose libpython has no frame pointers and
# whose every Python call is a native eval call: the walk stops short, and
# the Python frames past it are kept apart by gap frames
P38=$(ls -d "$(pyenv root 2>/dev/null || echo /root/.pyenv)"/versions/3.8*/bin/python3.8 2>/dev/null | head -1)
if [ -x "$P38" ]; then
	$EBPROF --fp -F 999 -o "$TMP/fp38.json" -- "$P38" tests/workloads/py_work.py sorted 2 >/dev/null 2>"$TMP/err" || fail "--fp on 3.8 failed: $(cat "$TMP/err")"
	pycheck sorted_fp "$TMP/fp38.json" 8
fi

# --no-lineno: one frame per function
$EBPROF --no-lineno -F 499 -o "$TMP/nl.folded" -- "$B" tests/workloads/py_work.py split 4 >/dev/null 2>&1 || fail "--no-lineno failed"
grep -q 'py_work.py:[0-9]' "$TMP/nl.folded" && fail "--no-lineno still shows line numbers"
h=$(share "$TMP/nl.folded" ';run_split \(py_work.py\);hot \(py_work.py\);work \(py_work.py\)')
c=$(share "$TMP/nl.folded" ';run_split \(py_work.py\);cold \(py_work.py\);work \(py_work.py\)')
s=$(awk -v h="$h" -v c="$c" 'BEGIN { printf "%.1f", 100 * h / (h + c) }')
n=$(awk -v h="$h" -v c="$c" -v t="$(total "$TMP/nl.folded")" 'BEGIN { printf "%d", (h + c) / 100 * t }')
info "--no-lineno: hot $s % of hot + cold ($n samples)"
within_binom "$s" 75 "$n" || fail "--no-lineno: hot is $s %, not 75"
exit 0
