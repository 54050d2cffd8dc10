#!/bin/bash
# ebprof mem --lines: memory_profiler's question per source line, against
# tracemalloc's figures and amounts known by construction
# (tests/workloads/py_memlines.py: in work(), line 11 keeps a list of N ints
# and drops range's N, line 12 a dict of M strings, line 13 makes a 10 MB
# bytes object, filled, which line 14 frees).
. "$(dirname "$0")/lib.sh"
need_root
W=tests/workloads/py_memlines.py
N=200000 M=80000
PY=/usr/bin/python3.11
[ -x $PY ] || skip "no /usr/bin/python3.11"
$PY $W $N $M truth >"$TMP/truth" || fail "tracemalloc's run"
$EBPROF mem --exact --lines=work -o "$TMP/lines.txt" -- $PY $W $N $M >/dev/null 2>"$TMP/err" ||
	fail "mem --lines: $(cat "$TMP/err")"
python3 - "$TMP/lines.txt" "$TMP/truth" $N $M <<'PY' || exit 1
import re, sys
text = open(sys.argv[1]).read()
N, M = int(sys.argv[3]), int(sys.argv[4])
units = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3}
size = lambda v, u: float(v) * units[u]
sec = text[text.index("Function: work"):]
rows = {}
for l in sec.splitlines():
    m = re.match(r"\s*(\d+)\s+([\d.]+) (\S+)\s+([\d.]+) (\S+)\s+(\d+)\s+(\d+)  ", l)
    if m:
        rows[int(m.group(1))] = (size(m.group(2), m.group(3)), size(m.group(4), m.group(5)), int(m.group(6)), int(m.group(7)))
truth = {int(a): int(b) for _, a, b, _ in (l.split() for l in open(sys.argv[2]))}
print("  " + "\n  ".join(l for l in sec.splitlines()[:4] + [l for l in sec.splitlines() if re.match(r"\s*1[1-4] ", l)]))
print("  tracemalloc: held %s" % truth)
# each line's bytes are shown to 2-3 digits (1 decimal of MiB): 5 % holds that and more
for line in (11, 12):
    assert abs(rows[line][1] / truth[line] - 1) <= 0.05, (line, rows[line], truth[line])
# N ints kept, range's N less the 257 cached; the list's growth: < 200 more
assert 2 * N - 257 <= rows[11][2] <= 2 * N - 257 + 200, rows[11]
# M keys, M range ints (less 257), the formatting's temporaries, the dict's growth
assert 2 * M <= rows[12][2] <= 4 * M + 200, rows[12]
# 10 000 000 bytes + the 33 of a bytes object, freed; filled: 2442 pages of 4096
assert rows[13][2] == 1 and abs(rows[13][0] - 10000033) <= 0.05 * 1024 ** 2 and rows[13][1] == 0, rows[13]
assert abs(rows[13][3] - 10000033 / 4096) <= 0.05 * 2442, rows[13]
assert 14 not in rows or rows[14][2] == 0
assert re.search(r"Total: .* allocated in \d+ allocations, .* still held at the end, \d+ pages first touched; peak RSS [\d.]+ MiB", sec)
PY
# the default modes: each line's share of what was seen (the probes'
# budget), or of what the samples stand for (the interposer), said so
$EBPROF mem --no-preload --lines=work -o "$TMP/dlines.txt" -- $PY $W $N $M >/dev/null 2>"$TMP/err" || fail "mem --lines, default: $(cat "$TMP/err")"
grep -q "(sampled: each line's share of what was seen" "$TMP/dlines.txt" || fail "the budgeted mode's line report does not say it is sampled"
$EBPROF mem --lines=work -o "$TMP/ilines.txt" -- $PY $W $N $M >/dev/null 2>"$TMP/err" || fail "mem --lines, interposer: $(cat "$TMP/err")"
grep -q "(estimates from the samples: each line's share of what they stand for)" "$TMP/ilines.txt" ||
	fail "the interposer's line report does not say it is estimated: $(cat "$TMP/ilines.txt")"
# native code, by its DWARF lines: g() makes 3000 malloc(64) on one line
# a round (tests/workloads/alloc_work.c), freed on the next
L=$(grep -n "keep = malloc(64);" tests/workloads/alloc_work.c | head -1 | cut -d: -f1)
$EBPROF mem --exact --lines=g -o "$TMP/clines.txt" -- "$T/alloc_work" basic 100 1000 >/dev/null 2>"$TMP/err" ||
	fail "mem --lines=g: $(cat "$TMP/err")"
info "alloc_work's g(): $(grep -E "^ +$L " "$TMP/clines.txt")"
grep -Eq "^ +$L +187\.5 KiB +0 B +3000 +[0-9]+[[:space:]]+keep = malloc\(64\);" "$TMP/clines.txt" ||
	fail "g()'s line $L is not 3000 allocations of 64 bytes, all freed: $(cat "$TMP/clines.txt")"
# a function with no such name: one line, exit 1
$EBPROF mem --exact --lines=nothere -o /dev/null -- $PY $W 10 10 >/dev/null 2>"$TMP/err" && fail "--lines=nothere succeeded"
grep -q "no samples with line information in a function named 'nothere'" "$TMP/err" || fail "--lines=nothere: $(cat "$TMP/err")"
exit 0
