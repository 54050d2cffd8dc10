#!/bin/bash
# ebprof lat on Python functions, by sampling, against calls the workload
# times itself: work() 40 times (~20 ms on the CPU, ~30 ms asleep) and
# Handler.handle() 40 times (~5 ms), on Debian's python3.11 and every
# pyenv CPython 3.8-3.13, launched (through pyenv's shim: a script) and
# attached.
. "$(dirname "$0")/lib.sh"
need_root
# count, p50 and resolution of function $2 in lat JSON $1, and its method
latf() {
	python3 - "$1" "$2" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
f = [f for f in p["functions"] if f["name"] == sys.argv[2]]
assert len(f) == 1, (sys.argv[2], [g["name"] for g in p["functions"]])
f = f[0]
assert sum(b["count"] for b in f["histogram"]) == f["count"], f
assert f["method"].startswith("sampling"), f["method"]
print(f["count"], f["p50_ns"], f["resolution_ns"])
PY
}
# a Python call is followed across samples at 999 Hz: its time within a
# period (1.001 ms) each end, the p50 the middle of a bucket (3.2 %)
p50_ok() { awk -v v="$1" -v t="$2" -v res="$3" 'BEGIN { t *= 1e6; exit !(v >= t * 0.968 - res && v <= t * 1.032 + res) }'; }
# 40 calls, each 50 or 5 ms with 5 ms of other work between them: every
# one seen (a sample falls between any two), none split in two
check() {
	local what=$1 json=$2 out=$3 f want
	for f in work:work Handler.handle:handle; do
		set -- $(latf "$json" "${f%%:*}" 2>/dev/null || latf "$json" "${f##*.}" 2>/dev/null || latf "$json" "${f##*:}")
		[ $# = 3 ] || fail "$what: no row for ${f%%:*}"
		want=$(awk -v k="${f##*:}_p50_ms" '$1 == k { print $2 }' "$out")
		info "$what: ${f%%:*} $1 calls, p50 $(awk -v v="$2" 'BEGIN { printf "%.2f", v / 1e6 }') ms (the workload's $want ms)"
		[ "$1" -ge 38 ] && [ "$1" -le 42 ] || fail "$what: ${f%%:*}: $1 calls, not 40 +- 2"
		p50_ok "$2" "$want" "$3" || fail "$what: ${f%%:*}: p50 $2 ns, the workload's $want ms"
	done
}

pys=(/usr/bin/python3.11)
root=$(pyenv root 2>/dev/null)
for v in 3.8 3.9 3.10 3.11 3.12 3.13; do
	p=$(ls -d "$root"/versions/$v.*/bin/python$v 2>/dev/null | tail -1)
	[ -x "$p" ] && pys+=("$p")
done
[ ${#pys[@]} -ge 2 ] || skip "no pyenv CPython"
for py in "${pys[@]}"; do
	$EBPROF lat work,Handler.handle -f json -o "$TMP/p.json" -- "$py" tests/workloads/py_lat.py 40 \
		>"$TMP/out" 2>"$TMP/err" || fail "lat -- $py: $(cat "$TMP/err")"
	check "$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])') ($py)" "$TMP/p.json" "$TMP/out"
done

# through pyenv's shim, a shell script that execs the interpreter
v312=$(ls -d "$root"/versions/3.12.* 2>/dev/null | tail -1)
if command -v pyenv >/dev/null && [ -x "$root/shims/python3.12" ] && [ -n "$v312" ]; then
	PYENV_VERSION=${v312##*/} PATH=$root/shims:$PATH $EBPROF lat work,Handler.handle -f json -o "$TMP/s.json" -- python3.12 \
		tests/workloads/py_lat.py 40 >"$TMP/out" 2>"$TMP/err" || fail "lat -- shim: $(cat "$TMP/err")"
	check "pyenv's shim python3.12" "$TMP/s.json" "$TMP/out"
fi

# attached to Debian's python3.11 before its calls
start_held /usr/bin/python3.11 tests/workloads/py_lat.py 40
run_attached $EBPROF lat work,Handler.handle -f json -o "$TMP/a.json" -p "$WPID" ||
	fail "lat -p python3.11: $(cat "$TMP/attached.out")"
check "attached to python3.11" "$TMP/a.json" "$TMP/workload.out"

# --exact on 3.8-3.10 and (their eval-frame hook turned on) 3.12+: probes
# on the eval loop time every call; quick(), a microsecond, 5000 times:
# each counted
for py in "${pys[@]}"; do
	minor=$("$py" -c 'import sys; print(sys.version_info[1])')
	if [ "$minor" = 11 ]; then
		# no entry point a call: refused, one line
		$EBPROF lat --exact quick -- "$py" tests/workloads/py_lat.py 1 5 >"$TMP/out" 2>"$TMP/err" &&
			fail "--exact on 3.$minor: exit 0"
		[ "$(grep -c '^ebprof: ' "$TMP/err")" = 1 ] && grep -q "drop --exact" "$TMP/err" ||
			fail "--exact on 3.$minor: $(cat "$TMP/err")"
		continue
	fi
	$EBPROF lat --exact work,quick,py_lat:Handler.handle -f json -o "$TMP/x.json" -- "$py" \
		tests/workloads/py_lat.py 10 5000 >"$TMP/out" 2>"$TMP/err" || fail "lat --exact 3.$minor: $(cat "$TMP/err")"
	set -- $(python3 - "$TMP/x.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
by = {f["name"]: f for f in p["functions"]}
for n in ("work", "quick", "Handler.handle"):
    f = by[n]
    assert f["method"].startswith("probes on CPython") and f["resolution_ns"] == 0, f["method"]
    print(f["count"], f["p50_ns"])
PY
)
	want=$(awk '$1 == "work_p50_ms" { print $2 }' "$TMP/out")
	info "--exact 3.$minor: work $1 calls (p50 $2 ns, the workload's $want ms), quick $3, Handler.handle $5; $(grep -o 'trapped at [0-9]* Python calls' "$TMP/err")"
	[ "$1" = 10 ] && [ "$3" = 5000 ] && [ "$5" = 10 ] || fail "--exact 3.$minor: $1, $3, $5 calls (10, 5000, 10)"
	# probes on each call: the bucket's width and the traps' own time, as for native functions
	awk -v v="$2" -v t="$want" 'BEGIN { t *= 1e6; exit !(v >= t * 0.968 && v <= t * 1.032 + 40000) }' ||
		fail "--exact 3.$minor: work's p50 $2 ns, the workload's $want ms"
done
# attached to a 3.12 that runs without the hook: refused, one line
if [ -n "$v312" ]; then
	start_held "$v312/bin/python3.12" tests/workloads/py_lat.py 1
	$EBPROF lat --exact quick -p "$WPID" >"$TMP/out" 2>"$TMP/err" && fail "--exact -p on 3.12 without the hook: exit 0"
	grep -q "^ebprof: --exact: CPython 3.12 enters its eval loop once a Python call only with its eval-frame hook on" \
		"$TMP/err" && [ "$(wc -l <"$TMP/err")" = 1 ] || fail "--exact -p on 3.12 without the hook: $(cat "$TMP/err")"
	kill -USR1 "$WPID"
	# ... and one started with it: every call
	PYTHONPERFSUPPORT=1 start_held "$v312/bin/python3.12" tests/workloads/py_lat.py 3 777
	run_attached $EBPROF lat --exact quick,work -f json -o "$TMP/h.json" -p "$WPID" ||
		fail "--exact -p on 3.12 with the hook: $(cat "$TMP/attached.out")"
	n=$(python3 -c 'import json, sys; print(" ".join(str(f["count"]) for f in json.load(open(sys.argv[1]))["functions"]))' "$TMP/h.json")
	info "--exact attached to a 3.12 started with PYTHONPERFSUPPORT=1: quick, work: $n calls (777, 3)"
	[ "$n" = "777 3" ] || fail "--exact -p on 3.12 with the hook: $n calls, not 777 and 3"
fi
$EBPROF lat --exact 'wo*' -- /usr/bin/python3.11 tests/workloads/py_lat.py 1 >"$TMP/out" 2>"$TMP/err" && fail "--exact with a glob: exit 0"
grep -q "^ebprof: --exact takes Python functions by their names, no patterns: 'wo\*'" "$TMP/err" ||
	fail "--exact with a glob: $(cat "$TMP/err")"

# a name no function has: said at the end, not an error (it may be defined later)
$EBPROF lat no_such_py_fn -- /usr/bin/python3.11 tests/workloads/py_lat.py 2 >"$TMP/out" 2>"$TMP/err" ||
	fail "lat no_such_py_fn: $(cat "$TMP/err")"
grep -q "^ebprof: no call of a Python function 'no_such_py_fn' was seen" "$TMP/err" ||
	fail "an unseen Python function not said: $(cat "$TMP/err")"
info "$(grep "no call of" "$TMP/err")"
echo PASS
