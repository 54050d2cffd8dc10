# Helpers of t_mem_python*.sh (sourced after lib.sh): ebprof mem on the
# CPython builds here against objects made in known numbers
# (tests/workloads/py_objects.py), the reference run (pyenv's 3.11 attached,
# checked by construction and against sys.getallocatedblocks()), and
# builds VERSION...: each launched, and pyenv's attached, within 2 % of it.
W=tests/workloads/py_objects.py
N=20000 M=8000 K=12000
V=$(pyenv root 2>/dev/null || echo /root/.pyenv)/versions
DEB=/usr/bin/python3.11
# the same bytes every run: with hash randomization the same calls ask for
# sizes that differ run to run (Debian's 3.11 on py_objects.py, --exact:
# 126,584 calls every seed, 12,719,159 bytes but 12,720,127 with seed 0), so
# two runs beside valgrind's two differed by 1,760 bytes now and then
export PYTHONHASHSEED=0

# what a report holds: the totals, and allocations and bytes by the script's function
cat >"$TMP/by.py" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); t = p["totals"]
# [allocations, bytes, bytes of the stacks of objects (< 256 bytes on
# average), and the interposer's estimates' variances of bytes (from their
# bounds of bound_sigmas standard deviations)]
by = {f: [0, 0, 0, 0] for f in ("ints", "strs", "temps")}
k = p.get("interposer", {}).get("bound_sigmas", 1)
for s in p["stacks"]:
    names = [f["function"].split(" (")[0] for f in s["frames"] if f.get("python")]
    for f in by:
        if f in names:
            by[f][0] += s["allocs"]; by[f][1] += s["bytes_allocated"]
            if s["allocs"] and s["bytes_allocated"] < 256 * s["allocs"]:
                by[f][2] += s["bytes_allocated"]
            by[f][3] += (s.get("bounds", {}).get("bytes_allocated", 0) / k) ** 2
            break
f = p["at_finalize"]
t["frees_all"], t["allocs_all"], t["bytes_all"] = t["frees"] + f["frees"], t["allocs"] + f["allocs"], t["bytes_allocated"] + f["bytes"]
json.dump({"t": t, "by": by, "unseen": p["unseen_frees"], "incomplete": p["incomplete"], "exact": p["exact"],
           "inlined": p["python_allocator_inlined"], "est": p.get("estimate", {}), "ip": p.get("interposer")},
          open(sys.argv[2], "w"))
PY

# -p on py_objects.py during its work: $1 python, $2 output name, the rest ebprof's
attach() {
	local py=$1 out=$2 e
	shift 2
	start "$py" "$W" $N $M $K wait
	for _ in $(seq 100); do grep -q ready "$TMP/workload.out" && break; sleep 0.05; done
	$EBPROF mem -v -p "$WPID" -f json -o "$TMP/$out.json" "$@" 2>"$TMP/$out.err" &
	e=$!
	for _ in $(seq 400); do grep -q "tracing the allocations" "$TMP/$out.err" && break; sleep 0.05; done
	kill -USR1 "$WPID"
	for _ in $(seq 1200); do grep -q "^done" "$TMP/workload.out" && break; sleep 0.05; done
	grep -q "^done" "$TMP/workload.out" || fail "$py never finished its work"
	kill -INT $e
	wait $e || fail "mem -p on $py: $(cat "$TMP/$out.err")"
	sed -n 's/^done blocks //p' "$TMP/workload.out" >"$TMP/$out.blocks"
	kill -USR1 "$WPID"
	wait "$WPID"
	python3 "$TMP/by.py" "$TMP/$out.json" "$TMP/$out.sum"
}

# The reference: pyenv's 3.11 (shared libpython, no LTO) with pymalloc,
# attached: its allocator table's functions probed, every call.  Checked by
# construction and against sys.getallocatedblocks(), which counts
# pymalloc's blocks held.
attach "$V"/3.11.*/bin/python3 ref --exact
python3 - "$TMP/ref.sum" "$(cat "$TMP/ref.blocks")" $N $M $K <<'PY' || exit 1
import json, sys
r = json.load(open(sys.argv[1])); t = r["t"]; by = r["by"]
blocks, N, M, K = (int(a) for a in sys.argv[2:6])
print("  reference (pyenv 3.11, -p, pymalloc): %d allocations, %d frees, %d outstanding; ints %d, strs %d, temps %d; "
      "sys.getallocatedblocks() grew by %d" % (t["allocs"], t["frees"], t["blocks_outstanding"], by["ints"][0],
                                               by["strs"][0], by["temps"][0], blocks))
# N ints kept, and range's N less the 257 small ints cached; the list's
# growth and the comprehension's own objects: < 200 more
assert 2 * N - 257 <= by["ints"][0] <= 2 * N - 257 + 200, by
# a bytes object a round, and the iterator
assert K <= by["temps"][0] <= K + 10 and by["temps"][1] == 73 * by["temps"][0] - 25, by
# M keys and M range ints (less 257), and the formatting's M temporaries
assert 3 * M - 257 <= by["strs"][0] <= 4 * M + 200, by
# pymalloc's blocks held: the ints and keys kept (+ the libc blocks of the list's and dict's buffers)
assert abs(t["blocks_outstanding"] - blocks) <= 10, (t, blocks)
# every free accounted for: of a block seen, or of one from before the attach
assert t["frees"] - r["unseen"] == t["allocs"] - t["blocks_outstanding"] and not r["incomplete"], r
PY

# every build, launched (PYTHONMALLOC=malloc: every allocation reaches
# libc's malloc) and, pyenv's, attached with pymalloc (the table's
# functions): within 2 % of the reference, function by function
check() {
	python3 - "$TMP/ref.sum" "$TMP/$1.sum" "$1" "$2" "${3:-}" <<'PY' || exit 1
import json, sys
r, s = (json.load(open(a)) for a in sys.argv[1:3]); t = s["t"]
print("  %s: %d allocations, %d frees, %d outstanding; ints %d, strs %d, temps %d (%s)"
      % (sys.argv[3], t["allocs"], t["frees"], t["blocks_outstanding"], s["by"]["ints"][0], s["by"]["strs"][0],
         s["by"]["temps"][0], " ".join("%+.2f %%" % (100 * (s["by"][f][0] / r["by"][f][0] - 1)) for f in ("ints", "strs", "temps"))))
assert s["exact"] and not s["incomplete"] and not s["inlined"], s
for f in ("ints", "strs", "temps"):
    assert abs(s["by"][f][0] / r["by"][f][0] - 1) <= 0.02, (f, s["by"], r["by"])
# the objects' bytes (not the list's and dict's buffers, which grow by
# other steps in 3.8): those of 3.11 as the reference's; other versions
# make other objects (3.11's ints are 32 bytes, 3.8's 28; a str is 8 bytes
# smaller from 3.12), so attached beside launched, the same build
base = r if "3.11" in sys.argv[3] or "debian" in sys.argv[3] else json.load(open(sys.argv[5])) if sys.argv[5] else None
for f in ("ints", "strs", "temps"):
    assert base is None or abs(s["by"][f][2] / base["by"][f][2] - 1) <= 0.02, (f, s["by"], base["by"])
# frees consistent with allocations and what is held
assert t["frees"] - s["unseen"] == t["allocs"] - t["blocks_outstanding"], s
if sys.argv[4] == "launched":
    assert s["unseen"] * 100 <= t["frees"], s
PY
}
# the interposer (launched, the default) against the same build launched
# --exact: the totals it counts as those over the whole run, the
# interpreter's teardown too (the environment differs by its two
# variables: a few allocations); the bytes by function within the bounds
# it prints (4 sigma of its estimate; the two runs' own difference, well
# under 0.5 %, added), sampled every 1 KiB on average (~12000 samples) so
# that the bounds are tight: within 20 % of the bytes (temps(): 855
# samples, 4 / sqrt(855) = 13.7 %)
check_interposed() {
	python3 - "$TMP/$1.sum" "$TMP/$2.sum" "$1" <<'PY' || exit 1
import json, sys
s, x = (json.load(open(a)) for a in sys.argv[1:3]); t, xt = s["t"], x["t"]
assert s["ip"] and s["exact"] and not s["incomplete"], s
k = s["ip"]["bound_sigmas"]
print("  %s, interposer: %d allocations, %d frees, %d bytes (--exact, with the teardown: %d, %d, %d); %d samples; %s" % (
    sys.argv[3], t["allocs"], t["frees"], t["bytes_allocated"], xt["allocs_all"], xt["frees_all"], xt["bytes_all"],
    s["ip"]["samples"], ", ".join("%s %d +- %d (exact %d)" % (f, s["by"][f][1], k * s["by"][f][3] ** 0.5, x["by"][f][1])
                                  for f in ("ints", "strs", "temps"))))
assert abs(t["allocs"] - xt["allocs_all"]) <= 50, (t, xt)
assert abs(t["frees"] - xt["frees_all"]) <= 50, (t, xt)
assert abs(t["bytes_allocated"] - xt["bytes_all"]) <= 8192, (t, xt)
assert t["blocks_outstanding"] == t["allocs"] - t["frees"], t
for f in ("ints", "strs", "temps"):
    b = k * s["by"][f][3] ** 0.5
    assert abs(s["by"][f][1] - x["by"][f][1]) <= b + 0.005 * x["by"][f][1] and b <= 0.2 * x["by"][f][1], (f, s["by"], x["by"])
PY
}
builds() {
	local v P
	for v in "$@"; do
		P=$DEB
		[ $v = debian ] || P=$(ls -d "$V"/$v.*/bin/python3 2>/dev/null | head -1)
		[ -x "$P" ] || { info "python $v absent: skipped"; continue; }
		$EBPROF mem --exact -f json -o "$TMP/l$v.json" -- "$P" "$W" $N $M $K >/dev/null 2>"$TMP/l$v.err" ||
			fail "mem -- python $v: $(cat "$TMP/l$v.err")"
		python3 "$TMP/by.py" "$TMP/l$v.json" "$TMP/l$v.sum"
		check l$v launched
		$EBPROF mem --sample-bytes 1024 -f json -o "$TMP/i$v.json" -- "$P" "$W" $N $M $K >/dev/null 2>"$TMP/i$v.err" ||
			fail "mem (interposer) -- python $v: $(cat "$TMP/i$v.err")"
		python3 "$TMP/by.py" "$TMP/i$v.json" "$TMP/i$v.sum"
		check_interposed i$v l$v
		[ $v = debian ] && continue
		attach "$P" p$v --exact
		check p$v attached "$TMP/l$v.sum"
	done
}
