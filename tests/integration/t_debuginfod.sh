#!/bin/bash
# Names for stripped binaries from a debuginfod server: cpu_split with its
# debug part split off (objcopy --only-keep-debug) and stripped, the debug
# file served by a local debuginfod (Debian's) on 127.0.0.1.  With the
# server its functions are named and the 3:1 split holds; without it (down,
# or --no-debuginfod) the profile completes, named module+offset, and one
# line says why.
. "$(dirname "$0")/lib.sh"
need_root
command -v debuginfod >/dev/null && command -v debuginfod-find >/dev/null ||
	skip "debuginfod is not installed (make deps installs it)"
mkdir -p "$TMP/srv"
objcopy --only-keep-debug "$T/cpu_split" "$TMP/srv/cpu_split.debug" || fail "objcopy"
cp "$T/cpu_split" "$TMP/cpu_split" && strip --strip-all "$TMP/cpu_split" || fail "strip"
bid=$(readelf -n "$TMP/cpu_split" | awk '/Build ID/ { print $3 }')
[ -n "$bid" ] || fail "no build-id in cpu_split"
names() {	# JSON -> the user functions under main, comma-separated, sorted
	python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
print(",".join(sorted({f["function"] for s in p["stacks"] for f in s["frames"] if not f["kernel"]})))' "$1"
}

# stripped, nothing to fetch from: module+offset
$EBPROF -F 999 --no-debuginfod -f json -o "$TMP/s.json" -- "$TMP/cpu_split" 0.3 >/dev/null 2>"$TMP/err" || fail "stripped: $(cat "$TMP/err")"
n=$(names "$TMP/s.json")
[[ $n == *burn_a* ]] && fail "burn_a named without its debug file: the test proves nothing"
[[ $n == *cpu_split+0x* ]] || fail "stripped: no module+offset frame: $n"

port=$((20000 + RANDOM % 20000))
debuginfod -F "$TMP/srv" -p "$port" -d "$TMP/db.sqlite" -t 3600 -g 3600 >"$TMP/srv.log" 2>&1 &
SP=$!
PIDS+=("$SP")
export DEBUGINFOD_URLS=http://127.0.0.1:$port
# until it has indexed the file (a fresh client cache each time: the client
# remembers a miss for 10 minutes)
served=
for i in $(seq 100); do
	DEBUGINFOD_CACHE_PATH=$TMP/probe-$i debuginfod-find debuginfo "$bid" >/dev/null 2>&1 && served=1 && break
	sleep 0.2
done
[ -n "$served" ] || fail "the local debuginfod did not serve $bid: $(tail -5 "$TMP/srv.log")"

# with the server: named, the split right, nothing said
DEBUGINFOD_CACHE_PATH=$TMP/cache $EBPROF -F 999 -f json -o "$TMP/d.json" -- "$TMP/cpu_split" 1 >/dev/null 2>"$TMP/err" ||
	fail "with debuginfod: $(cat "$TMP/err")"
grep -q "debuginfod" "$TMP/err" && fail "debuginfod worked, yet ebprof said: $(cat "$TMP/err")"
python3 - "$TMP/d.json" <<'PY' || fail "names from debuginfod"
import json, sys
p = json.load(open(sys.argv[1]))
a = sum(s["count"] for s in p["stacks"] if "burn_a" in [f["function"] for f in s["frames"]])
b = sum(s["count"] for s in p["stacks"] if "burn_b" in [f["function"] for f in s["frames"]])
n = a + b
share = 100.0 * a / max(n, 1)
bound = 5 * 100 * (0.75 * 0.25 / max(n, 1)) ** 0.5  # 5 binomial sigmas
print("  from debuginfod: burn_a %.1f %% of %d samples in burn_a/burn_b (75 +- %.1f)" % (share, n, bound))
assert n > 500 and abs(share - 75) <= bound
PY
info "names: $(names "$TMP/d.json" | tr ',' '\n' | grep -v '+0x' | tr '\n' ' ')"

# the server gone, a cold cache: the profile completes and says why, once
kill "$SP"; wait "$SP" 2>/dev/null
DEBUGINFOD_CACHE_PATH=$TMP/cache2 $EBPROF -F 999 -f json -o "$TMP/x.json" -- "$TMP/cpu_split" 0.3 >/dev/null 2>"$TMP/err" ||
	fail "server down: exit $?: $(cat "$TMP/err")"
[ "$(grep -c debuginfod "$TMP/err")" = 1 ] && grep -q "1 debug file could not be fetched from $DEBUGINFOD_URLS" "$TMP/err" ||
	fail "server down: not one line about it: $(cat "$TMP/err")"
[[ $(names "$TMP/x.json") == *cpu_split+0x* ]] || fail "server down: no module+offset names"
info "server down: $(grep debuginfod "$TMP/err")"

# a server that takes the connection and never answers: sampling goes on
# as usual, a sample every 1/999 s of the CPU time cpu_split got (its
# getrusage, from rusage_of: ~1000 for its 1 s on a whole CPU, fewer when
# other work shares the CPUs) within 5 Poisson sigmas, and the report
# waits for the file no longer than the stall timeout (DEBUGINFOD_TIMEOUT)
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(16); print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' >"$TMP/hole.port" &
HP=$!
PIDS+=("$HP")
for _ in $(seq 50); do [ -s "$TMP/hole.port" ] && break; sleep 0.1; done
t0=$(date +%s.%N)
DEBUGINFOD_URLS=http://127.0.0.1:$(cat "$TMP/hole.port") DEBUGINFOD_TIMEOUT=2 DEBUGINFOD_CACHE_PATH=$TMP/cache3 \
	$EBPROF -F 999 -f json -o "$TMP/h.json" -- "$T/rusage_of" "$TMP/cpu_split" 1 >/dev/null 2>"$TMP/err" ||
	fail "black hole: $(cat "$TMP/err")"
t=$(echo "$(date +%s.%N) - $t0" | bc)
n=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["samples"])' "$TMP/h.json")
cpu=$(awk '/^user / { print $2 + $4 }' "$TMP/err")
info "a server that never answers: $n samples for ${cpu:-?} s of CPU, ebprof done in $t s, $(grep -c debuginfod "$TMP/err") line: $(grep debuginfod "$TMP/err")"
awk -v n="$n" -v c="${cpu:-0}" 'BEGIN { e = 999 * c; exit !(c > 0.3 && (n - e) ^ 2 <= 25 * e) }' ||
	fail "black hole: $n samples for ${cpu:-?} s of CPU at 999 Hz: the sampling waited"
awk -v t="$t" 'BEGIN { exit !(t < 1 + 2 + 2.5) }' || fail "black hole: ebprof took $t s for 1 s of profile and a 2 s stall timeout"
grep -q "1 debug file could not be fetched .*(Connection timed out)" "$TMP/err" || fail "black hole: $(cat "$TMP/err")"
exit 0
