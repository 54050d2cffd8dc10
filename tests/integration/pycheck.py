"""Checks of ebprof's Python stacks against what tests/workloads/py_work.py and
tests/workloads/py_sort.py do by construction.  Usage: pycheck.py CHECK FILE MINOR [RAN]
where FILE is ebprof's JSON (or, for "lines", its --lines report) and RAN,
for "modules", how many modules the workload ran.
Prints what it measured; exits 1 with the reason when a check fails."""
import json
import re
import sys

FRAME = re.compile(r"^(.*) \(([^()]*?)(?::(\d+))?\)$")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def load(path):
    return json.load(open(path))


def user(s):
    return [f for f in s["frames"] if not f["kernel"]]


def name(f):
    m = FRAME.match(f["function"]) if f.get("python") else None
    return m.group(1) if m else f["function"]


def pyframes(s):
    """(name, line) of the Python frames, outermost first"""
    return [(name(f), f.get("line", 0)) for f in user(s) if f.get("python")]


def common(p, min_py=0.95):
    tot = p["samples"]
    if tot < 100:
        fail("only %d samples" % tot)
    withpy = sum(s["count"] for s in p["stacks"] if pyframes(s))
    # a code object freed within microseconds of its sample (module code
    # at the end of an import) is shown as such, never misnamed: rare
    bad = sum(s["count"] for s in p["stacks"]
              if any(f.get("python") and f["function"].startswith("[") for f in user(s)))
    if bad > 0.01 * tot:
        fail("%d samples with unnamed Python code" % bad)
    share = withpy / tot
    print("  %d samples, %.1f %% with Python frames" % (tot, 100 * share))
    if share < min_py:
        fail("only %.1f %% of samples have Python frames" % (100 * share))
    return tot


WORK = open(__file__.rsplit("/", 3)[0] + "/tests/workloads/py_work.py").read().splitlines()


def binom_bound(p, n, k=5):
    """k binomial sigmas, in %, of a share p (in %) of n samples"""
    return k * 100 * ((p / 100) * (1 - p / 100) / max(n, 1)) ** 0.5


def lineof(func, text):
    """the line of *text* in the body of py_work.py's *func* ("" for module level)"""
    start = 0
    if func:
        start = next(i for i, l in enumerate(WORK) if l.startswith("def %s(" % func))
    return next(i + 1 for i in range(start, len(WORK)) if text in WORK[i])


def split(p, minor):
    common(p)
    hot = cold = chain = 0
    evals = 0
    want = [("<module>", lineof("", "    main()")), ("main", lineof("main", "MODES[mode](deadline)")),
            ("run_split", lineof("run_split", "hot()")), ("hot", lineof("hot", "work(UNIT)"))]
    loop = lineof("work", "for i in range(n)")
    work_lines = (loop, loop + 1)
    for s in p["stacks"]:
        py = pyframes(s)
        names = [n for n, _ in py]
        if "_PyEval_EvalFrameDefault" in [f["function"] for f in user(s)]:
            evals += s["count"]
        if "hot" in names:
            hot += s["count"]
        elif "cold" in names:
            cold += s["count"]
        if py[:4] == want and len(py) >= 5 and py[4][0] == "work" and py[4][1] in work_lines:
            chain += s["count"]
    a = 100.0 * hot / max(hot + cold, 1)
    print("  hot %.1f %%, cold %.1f %%; %d of %d hot samples show %s > work:%d-%d; "
          "%d samples kept a bare eval frame"
          % (a, 100 - a, chain, hot, " > ".join("%s:%d" % w for w in want), loop, loop + 1, evals))
    # 3:1 by construction: 5 binomial sigmas of the samples in both
    if abs(a - 75) > binom_bound(75, hot + cold):
        fail("hot is %.1f %% of hot+cold, not 75 +- %.1f" % (a, binom_bound(75, hot + cold)))
    if chain < 0.9 * hot:
        fail("names or lines wrong in hot's stacks")
    if evals > 0.05 * p["samples"]:
        fail("%d samples kept _PyEval_EvalFrameDefault instead of Python frames" % evals)
    starts = sum(s["count"] for s in p["stacks"] if user(s) and user(s)[0]["function"] == "_start")
    if starts < 0.9 * p["samples"]:
        fail("only %d samples reach _start: the native frames around Python are lost" % starts)


def shapes(p, minor):
    tot = common(p, 0.9)
    method = "Shape.method" if minor >= 11 else "method"
    lam = "run_shapes.<locals>.<lambda>" if minor >= 11 else "<lambda>"
    got = {"method": 0, "recurse": 0, "gen": 0, "lambda": 0}
    deep = 0
    for s in p["stacks"]:
        names = [n for n, _ in pyframes(s)]
        if "run_shapes" not in names:
            continue
        below = names[names.index("run_shapes") + 1:]
        if not below:
            continue
        c = s["count"]
        if below[0] == method:
            got["method"] += c
        elif below[0] == "recurse":
            got["recurse"] += c
            run = 0
            while run < len(below) and below[run] == "recurse":
                run += 1
            if run == 20 and below[20:21] == ["work"]:
                deep += c
        elif below[0] == "gen":
            got["gen"] += c
        elif below[0] == lam:
            got["lambda"] += c
    n = sum(got.values())
    print("  of %d samples in run_shapes' callees: %s; %d recursion samples 20 deep"
          % (n, ", ".join("%s %.1f %%" % (k, 100.0 * v / max(n, 1)) for k, v in got.items()), deep))
    if n < 0.8 * tot:
        fail("only %d of %d samples under run_shapes" % (n, tot))
    # four callees of equal work: each a quarter, to 5 binomial sigmas
    for k, v in got.items():
        if abs(100.0 * v / n - 25) > binom_bound(25, n):
            fail("%s is %.1f %%, not 25 +- %.1f" % (k, 100.0 * v / n, binom_bound(25, n)))
    if deep < 0.95 * got["recurse"]:
        fail("recursion not shown 20 deep: %d of %d" % (deep, got["recurse"]))


def threads(p, minor):
    tot = p["samples"]
    py_tids, hash_tids = set(), set()
    py = hs = hs_native = py_work = hs_start = 0
    for s in p["stacks"]:
        names = [n for n, _ in pyframes(s)]
        fr = user(s)
        if "py_thread_loop" in names:
            py += s["count"]
            py_tids.add(s["tid"])
            if names[-2:] == ["py_thread_loop", "work"]:
                py_work += s["count"]
        elif "hash_thread" in names:
            hs += s["count"]
            hash_tids.add(s["tid"])
            i = [name(f) for f in fr].index("hash_thread")
            if any(re.search("sha", f["function"], re.I) for f in fr[i + 1:]):
                hs_native += s["count"]
            if fr and fr[0]["function"] in ("clone3", "clone") and fr[1:2] and fr[1]["function"] == "start_thread":
                hs_start += s["count"]
    print("  %d samples: Python thread %d (tids %s), hashing thread %d (tids %s), %d of them in SHA-256 code"
          % (tot, py, sorted(py_tids), hs, sorted(hash_tids), hs_native))
    if len(py_tids) != 1 or len(hash_tids) != 1 or py_tids == hash_tids:
        fail("the two threads are not told apart")
    if py < 0.2 * tot or hs < 0.2 * tot:
        fail("a thread is missing: python %d, hashing %d of %d" % (py, hs, tot))
    if py_work < 0.9 * py:
        fail("only %d of %d samples of the Python thread in py_thread_loop > work" % (py_work, py))
    if hs_start < 0.95 * hs:
        fail("only %d of %d samples of the hashing thread start at clone3 > start_thread" % (hs_start, hs))
    if hs_native < 0.8 * hs:
        fail("the GIL-free hashing thread lost its native frames under Python")


def sort_shapes(p):
    """samples under sort_with_key, and those that show the native sort
    between it and the lambda, skip it, or say it was not walked"""
    mixed = direct = gap = total = 0
    for s in p["stacks"]:
        fr = user(s)
        names = [name(f) for f in fr]
        if "sort_with_key" not in names:
            continue
        total += s["count"]
        i = names.index("sort_with_key")
        lam = [k for k in range(i + 1, len(fr)) if fr[k].get("python") and "<lambda>" in names[k]]
        if not lam:
            continue
        between = [f["function"] for f in fr[i + 1:lam[0]] if not f.get("python")]
        # list_sort and friends; a stripped build (Debian's) names its static
        # functions only as python3.11+0xOFFSET
        if any("sort" in b or "+0x" in b for b in between):
            mixed += s["count"]
        elif "[native frames not walked]" in between:
            gap += s["count"]
        else:
            direct += s["count"]
    print("  %d samples in sort_with_key; %d show sort_with_key > sorted (native) > lambda; %d skip the native part;"
          " %d say their native frames were not walked" % (total, mixed, direct, gap))
    return total, mixed, direct, gap


def sorted_(p, minor):
    common(p, 0.9)
    total, mixed, direct, gap = sort_shapes(p)
    if mixed < 0.05 * total or mixed < 10:
        fail("the Python > native > Python shape is missing")
    if direct:
        fail("%d samples show the lambda right under sort_with_key" % direct)


def sorted_fp(p, minor):
    """--fp through a libpython without frame pointers: walks stop short,
    and the Python frames they did not reach must not look called by each
    other (before 3.11, each Python call is a native eval call)"""
    common(p, 0.9)
    total, mixed, direct, gap = sort_shapes(p)
    if direct:
        fail("%d samples show the lambda right under sort_with_key" % direct)
    # the lambda runs in about a third of the samples (744 of 1992 in one run)
    if gap + mixed < 0.2 * total:
        fail("only %d of %d samples reach the lambda" % (gap + mixed, total))


def quick(p, minor):
    tot = p["samples"]
    spin = sum(s["count"] for s in p["stacks"] if "spin" in [n for n, _ in pyframes(s)])
    common(p, 0.6)
    print("  %d of %d samples in spin" % (spin, tot))
    if spin < 0.6 * tot:
        fail("the 0.5 s script's spin is only %d of %d samples" % (spin, tot))


def modules(p, minor):
    """py_work.py modules, read by a reader made late (EBPROF_TEST_PY_LAG_MS):
    each gen_N.py's code is gone before it is read, yet named, and never
    by another module's name though the next one takes its memory"""
    common(p, 0.9)
    gen = noline = 0
    names = set()
    for s in p["stacks"]:
        for f in user(s):
            m = FRAME.match(f["function"]) if f.get("python") else None
            if m and m.group(1) == "<module>" and re.match(r"gen_\d+\.py$", m.group(2)):
                gen += s["count"]
                names.add(m.group(2))
                noline += s["count"] if m.group(3) is None else 0
                break
    print("  %d of %d samples in gen_N.py's module code, %d of them named from what the walker read"
          " (their code gone when read: no line)" % (gen, p["samples"], noline))
    if gen < 0.4 * p["samples"]:
        fail("only %d samples in the modules' code" % gen)
    if noline < 0.5 * gen:
        fail("only %d of %d module samples needed the walker's names: the check did not test them" % (noline, gen))
    # each module runs for a few ms, a few samples: all but a few are
    # sampled.  Reading the memory of a freed module's code names the
    # next one that took it instead, all of them after one
    ran = int(sys.argv[4])
    seen = sorted(int(re.match(r"gen_(\d+)", n).group(1)) for n in names)
    print("  %d of the %d modules that ran named, gen_%d to gen_%d" % (len(names), ran, seen[0], seen[-1]))
    if seen[-1] >= ran:
        fail("a module that never ran is named: gen_%d" % seen[-1])
    if len(names) < 0.6 * ran:
        fail("only %d of the %d modules named in %d samples" % (len(names), ran, gen))


def lines(path, minor):
    text = open(path).read()
    secs = {}
    for sec in text.split("\nFile: ")[1:]:
        m = re.search(r"^Function: (\S+).*\nTotal: (\d+) samples", sec, re.M)
        if not m:
            continue
        rows = {}
        for l in sec.splitlines():
            r = re.match(r"^\s*(\d+)\s+(\d+)\s+([\d.]+)  ", l)
            if r:
                rows[int(r.group(1))] = (int(r.group(2)), float(r.group(3)))
        secs[m.group(1)] = (int(m.group(2)), rows, sec)
    if "insertion_sort" not in secs or "merge_sort" not in secs:
        fail("no --lines report for both sorts: %s" % sorted(secs))
    tot, rows, sec = secs["insertion_sort"]
    loop = sum(rows.get(l, (0, 0))[1] for l in (12, 13, 14))
    print("  insertion_sort %d samples, merge_sort %d; the while loop (lines 12-14) holds %.1f %%"
          % (tot, secs["merge_sort"][0], loop))
    if "while j >= 0 and key < arr[j]:" not in sec:
        fail("the report does not show the source lines")
    if loop < 85:
        fail("the while loop holds only %.1f %% of insertion_sort" % loop)
    if tot < 10 * secs["merge_sort"][0]:
        fail("insertion_sort does not dominate merge_sort")


def idle(p, minor):
    """ebprof wall --threads -p, attached while three threads wait (since
    before the attach, until after the end): each thread's rows add up to
    the run, all of it under idle_worker's wait, Python frames and all"""
    dur = p["duration_s"] * 1e9
    by_tid, under = {}, {}
    for s in p["stacks"]:
        by_tid[s["tid"]] = by_tid.get(s["tid"], 0) + s["values"][0]
        if "idle_worker" in [n for n, _ in pyframes(s)]:
            under[s["tid"]] = under.get(s["tid"], 0) + s["values"][0]
    print("  idle threads: %s s under idle_worker of a %.3f s run"
          % (", ".join("%.4f" % (v / 1e9) for v in under.values()), dur / 1e9))
    if len(under) != 3:
        fail("%d threads under idle_worker, not 3" % len(under))
    for tid, v in under.items():
        # the run is timed from the same clock: its start and end a few ms apart at most
        if abs(by_tid[tid] - dur) > 0.02 * dur or v < 0.99 * by_tid[tid]:
            fail("thread %d: %.4f s in all, %.4f s under idle_worker, for a %.4f s run"
                 % (tid, by_tid[tid] / 1e9, v / 1e9, dur / 1e9))


CHECKS = {"split": split, "shapes": shapes, "threads": threads, "sorted": sorted_, "sorted_fp": sorted_fp,
          "quick": quick, "modules": modules, "idle": idle}

if __name__ == "__main__":
    check, path, minor = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if check == "lines":
        lines(path, minor)
    else:
        CHECKS[check](load(path), minor)
