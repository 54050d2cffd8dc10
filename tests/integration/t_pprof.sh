#!/bin/bash
# pprof output read by go tool pprof (Debian's golang-go): the sample
# types and units, the 3:1 split of cpu_split, whole stacks, and an off-CPU
# profile in nanoseconds.
. "$(dirname "$0")/lib.sh"
need_root
command -v go >/dev/null || skip "go is missing (apt-get install golang-go)"
export HOME=${HOME:-/root} GOFLAGS=-mod=mod GOTOOLCHAIN=local

# a fixed amount of work (~2 s of CPU): as many samples however busy the machine
$EBPROF -F 999 -o "$TMP/cpu.pb.gz" -- "$T/cpu_split" -r 91000 >/dev/null 2>"$TMP/err" || fail "ebprof -o x.pb.gz: $(cat "$TMP/err")"
grep -q "samples of command .* written to '$TMP/cpu.pb.gz'" "$TMP/err" || fail "no word of the file: $(cat "$TMP/err")"
go tool pprof -raw "$TMP/cpu.pb.gz" >"$TMP/raw" 2>&1 || fail "go tool pprof cannot read it: $(head -3 "$TMP/raw")"
grep -q '^Samples:' "$TMP/raw" && grep -qE '^samples/count(\[dflt\])? cpu/nanoseconds$' "$TMP/raw" ||
	fail "sample types: $(sed -n 1,5p "$TMP/raw")"
# each file's mapping carries its build-id, as readelf reads it
for f in "$T/cpu_split" /lib/x86_64-linux-gnu/libc.so.6; do
	bid=$(readelf -n "$f" | awk '/Build ID/ { print $3 }')
	grep -qE "^[0-9]+: 0x[0-9a-f]+/0x[0-9a-f]+/0x[0-9a-f]+ ${f##*/} $bid " "$TMP/raw" ||
		fail "no mapping of ${f##*/} with build-id $bid: $(sed -n '/^Mappings/,$p' "$TMP/raw")"
done
go tool pprof -top -sample_index=samples "$TMP/cpu.pb.gz" >"$TMP/top" 2>&1 || fail "pprof -top: $(cat "$TMP/top")"
cat "$TMP/top" | head -12
# burn_a's share of burn_a + burn_b: 75 %, within 5 binomial sigmas
read -r a b <<<"$(awk '$NF == "burn_a" { a = $4 } $NF == "burn_b" { b = $4 } END { print a + 0, b + 0 }' "$TMP/top")"
n=$((a + b))
[ "$n" -gt 1000 ] || fail "burn_a $a + burn_b $b samples: too few"
within_binom "$(awk -v a="$a" -v n="$n" 'BEGIN { printf "%.2f", 100 * a / n }')" 75 "$n" || fail "3:1 split in pprof's -top"
# the CPU time is the samples times the period
go tool pprof -top -sample_index=cpu "$TMP/cpu.pb.gz" 2>/dev/null | grep -qE 'Total samples = [0-9.]+(ms|s) ' ||
	fail "no CPU time in seconds"
# stacks whole, leaf first: spin_leaf under burn_a under work under main
go tool pprof -traces "$TMP/cpu.pb.gz" >"$TMP/traces" 2>&1 || fail "pprof -traces"
awk '/^-+\+/ { if (s ~ /spin_leaf burn_a work main .*_start/) ok = 1; s = ""; next } { s = s " " $NF }
	END { if (s ~ /spin_leaf burn_a work main .*_start/) ok = 1; exit !ok }' "$TMP/traces" ||
	fail "no whole stack spin_leaf < burn_a < work < main < _start: $(sed -n 1,20p "$TMP/traces")"
info "cpu: go tool pprof reads samples/count and cpu/nanoseconds, burn_a $a of $n, whole stacks"

# off-CPU: nanoseconds, the sleeps' total
$EBPROF off -o "$TMP/off.pb.gz" -- "$T/sleeper" 100 10000 >"$TMP/out" 2>"$TMP/err" || fail "ebprof off -o pb.gz: $(cat "$TMP/err")"
go tool pprof -raw "$TMP/off.pb.gz" 2>/dev/null | grep -qE '^off-cpu/nanoseconds(\[dflt\])? runnable/nanoseconds switches/count$' ||
	fail "off: sample types"
tot=$(go tool pprof -top -sample_index=off-cpu -unit=ms "$TMP/off.pb.gz" 2>/dev/null |
	awk '/Total samples =/ { for (i = 1; i <= NF; i++) if ($i == "=") { v = $(i + 1); sub(/ms/, "", v); print v } }')
truth=$(awk '/^work_s/ { print $2 * 1000 }' "$TMP/out")
info "off: go tool pprof says $tot ms off the CPU; the sleeps took $truth ms"
awk -v a="$tot" -v b="$truth" 'BEGIN { exit !(a >= 0.95 * b && a <= 1.1 * b) }' || fail "off: $tot ms against $truth ms"

# mem: pprof's heap values, the allocation counts exact with --exact
$EBPROF mem --exact -o "$TMP/mem.pb.gz" -- "$T/alloc_work" basic 100 1000 >/dev/null 2>"$TMP/err" ||
	fail "ebprof mem -o pb.gz: $(cat "$TMP/err")"
go tool pprof -raw "$TMP/mem.pb.gz" 2>/dev/null |
	grep -qE '^alloc_space/bytes(\[dflt\])? alloc_objects/count inuse_space/bytes inuse_objects/count$' ||
	fail "mem: sample types"
go tool pprof -top -sample_index=alloc_objects "$TMP/mem.pb.gz" >"$TMP/mtop" 2>&1 || fail "mem: pprof -top"
# leak_f: 100 blocks and the array that holds them
for fc in g:3000 h:1000 leak_f:101; do
	n=$(awk -v f="${fc%%:*}" '$NF == f { print $1 }' "$TMP/mtop")
	[ "$n" = "${fc##*:}" ] || fail "mem: ${fc%%:*} made $n allocations in pprof's view, ${fc##*:} by construction"
done
n=$(go tool pprof -top -sample_index=inuse_objects "$TMP/mem.pb.gz" 2>/dev/null | awk '$NF == "leak_f" { print $1 }')
[ "$n" = 101 ] || fail "mem: leak_f holds $n blocks in pprof's view, 101 by construction"
n=$(go tool pprof -top -sample_index=alloc_space -unit=B "$TMP/mem.pb.gz" 2>/dev/null | awk '$NF == "leak_f" { print $1 }')
[ "$n" = 100800B ] || fail "mem: leak_f allocated $n in pprof's view, 100800B by construction"
info "mem: alloc/inuse space and objects; g 3000, h 1000, leak_f 101 allocations (101 held, 100800 bytes)"

# speedscope: the file format's shape, and the 3:1 split where it should be
$EBPROF -F 999 -o "$TMP/cpu.speedscope.json" -- "$T/cpu_split" -r 46000 >/dev/null 2>"$TMP/err" ||
	fail "ebprof -o x.speedscope.json: $(cat "$TMP/err")"
python3 - "$TMP/cpu.speedscope.json" <<'PY' || fail "speedscope file"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["$schema"] == "https://www.speedscope.app/file-format-schema.json"
frames = d["shared"]["frames"]
assert all(isinstance(f["name"], str) and f["name"] for f in frames)
a = b = 0
for p in d["profiles"]:
    assert p["type"] == "sampled" and p["unit"] == "none" and p["startValue"] == 0
    assert len(p["samples"]) == len(p["weights"]) and p["endValue"] == sum(p["weights"])
    for st, w in zip(p["samples"], p["weights"]):
        assert all(0 <= i < len(frames) for i in st)
        names = [frames[i]["name"] for i in st]
        if "burn_a" in names: a += w
        if "burn_b" in names: b += w
n = a + b
# 75 %, within 5 binomial sigmas of n samples
assert n > 500 and abs(100 * a / n - 75) <= 5 * 100 * (0.75 * 0.25 / n) ** 0.5, (a, b)
print("  speedscope: %d profiles, %d frames; burn_a %d of %d" % (len(d["profiles"]), len(frames), a, n))
PY
# against the schema speedscope's npm package ships (make deps installs it
# in tests/npm), by ajv; a file without its "shared" frames must fail it
NM=tests/npm/node_modules
[ -f "$NM/speedscope/dist/release/file-format-schema.json" ] && [ -d "$NM/ajv" ] ||
	fail "speedscope's schema or ajv is missing from $NM: run make deps"
check() { NODE_PATH=$NM node tests/integration/speedscope_check.js "$NM/speedscope/dist/release/file-format-schema.json" "$1"; }
out=$(check "$TMP/cpu.speedscope.json") || fail "speedscope schema: $out"
$EBPROF off -o "$TMP/off.speedscope.json" -- "$T/sleeper" 20 1000 >/dev/null 2>"$TMP/err" || fail "off -o x.speedscope.json: $(cat "$TMP/err")"
out=$(check "$TMP/off.speedscope.json") || fail "off's speedscope file against the schema: $out"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); del d["shared"]; json.dump(d, open(sys.argv[2], "w"))' \
	"$TMP/cpu.speedscope.json" "$TMP/bad.json"
check "$TMP/bad.json" >/dev/null && fail "the schema check passed a file without its frames"
info "speedscope: cpu and off files valid against speedscope's file-format schema (ajv); a broken one is not"

# binary output never goes to a terminal
script -qec "$EBPROF -f pprof -a -d 1" /dev/null >"$TMP/tty" 2>&1
grep -q "pprof is binary: give -o FILE.pb.gz" "$TMP/tty" || fail "pprof to a terminal: $(cat "$TMP/tty")"
exit 0
