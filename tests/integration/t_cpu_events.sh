#!/bin/bash
# ebprof cpu -e: stacks on page faults, weighted by the events each sample
# stands for: fault_split faults 3 pages in touch_a for each in touch_b.
# Two events at once give a ratio per function; hardware events need a PMU.
. "$(dirname "$0")/lib.sh"
need_root
# the faults of a run that touches nothing: fault_split's own start-up
$EBPROF -f json -e page-faults -o "$TMP/base.json" -- "$T/fault_split" 0 >/dev/null 2>"$TMP/err" || fail "ebprof -e page-faults: $(cat "$TMP/err")"
base=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["counted"])' "$TMP/base.json")
info "fault_split 0: $base faults counted (start-up)"

$EBPROF -F 4999 -f json -e page-faults -o "$TMP/pf.json" -- "$T/fault_split" 400 >/dev/null 2>"$TMP/err" || fail "ebprof -e page-faults: $(cat "$TMP/err")"
python3 - "$TMP/pf.json" "$base" <<'PY' || exit 1
import json, math, sys
p, base = json.load(open(sys.argv[1])), int(sys.argv[2])
n = p["samples"]
a = sum(s["count"] for s in p["stacks"] if [f["function"] for f in s["frames"]][-2:] == ["touch_a", "touch"])
b = sum(s["count"] for s in p["stacks"] if [f["function"] for f in s["frames"]][-2:] == ["touch_b", "touch"])
tot = p["events"]
print("  page-faults: %d samples; %d counted (400 rounds x 1024 pages = 409600 + %d at start-up); touch_a %.2f %%, touch_b %.2f %%"
      % (n, p["counted"], base, 100.0 * a / tot, 100.0 * b / tot))
# exact: the count is the pages touched plus the start-up faults, but for a
# few pages that differ run to run (stack and heap placement)
assert abs(p["counted"] - base - 409600) <= 64, p["counted"]
# the stacks share out the counted total exactly
assert tot == p["counted"] == sum(s["count"] for s in p["stacks"]), (tot, p["counted"])
# each sample lands in touch_a with probability 3/4: a binomial share; 5
# sigma of it (n ~ 3000 at 4999 Hz: sigma = 0.79 %, bound 3.95 %)
sigma = 100 * math.sqrt(0.75 * 0.25 / n)
assert n >= 1000, n
for got, want in ((100.0 * a / tot, 75), (100.0 * b / tot, 25)):
    assert abs(got - want) <= 5 * sigma, "%.2f %% is not %d +- %.2f" % (got, want, 5 * sigma)
PY

# two events: each function's share of both, and their ratio
$EBPROF -F 999 -e page-faults,minor-faults -n 5 -- "$T/fault_split" 200 >"$TMP/two" 2>&1 || fail "two events: $(cat "$TMP/two")"
grep -q "PAGE-FAULTS *MINOR-FAULTS *RATIO" "$TMP/two" || fail "no two-event columns: $(cat "$TMP/two")"
r=$(awk '$NF == "fault_split" && $(NF-1) == "touch" { print $5 }' "$TMP/two")
info "page-faults and minor-faults: touch's ratio $r (all its faults are minor)"
within "$r" 1 0.05 || fail "the ratio of minor faults to faults in touch is $r, not 1"
$EBPROF -f json -e page-faults,minor-faults -o "$TMP/two.json" -- "$T/fault_split" 50 >/dev/null 2>&1 || fail "two events, JSON"
python3 - "$TMP/two.json" "$base" <<'PY' || exit 1
import json, sys
p, base = json.load(open(sys.argv[1])), int(sys.argv[2])
assert p["event"] == "page-faults" and p["event2"] == "minor-faults" and p["weighted"]
# 99 Hz over a 50 ms burst: a handful of samples, whose weights miss what
# came after each CPU's last one; the totals are counted, and shared out
assert p["events"] == p["counted"] == sum(s["count"] for s in p["stacks"]), (p["events"], p["counted"])
assert p["events2"] == p["counted2"] == sum(s.get("count2", 0) for s in p["stacks"]), (p["events2"], p["counted2"])
# 50 rounds x 1024 pages, all minor faults
assert abs(p["counted"] - base - 51200) <= 64 and abs(p["counted2"] - base - 51200) <= 64, (p["counted"], p["counted2"])
assert 0 < p["samples"] < p["events"]
print("  JSON: %d samples, %d page-faults and %d minor-faults counted (51200 + %d by construction)"
      % (p["samples"], p["events"], p["events2"], base))
PY

# no PMU here: a hardware event is one clear line and exit 1
if [ ! -e /sys/bus/event_source/devices/cpu ] && [ ! -e /sys/bus/event_source/devices/cpu_core ]; then
	$EBPROF -e cycles,instructions -d 0.3 -- "$T/cpu_split" 0.3 >/dev/null 2>"$TMP/err"; rc=$?
	[ $rc = 1 ] && [ "$(wc -l <"$TMP/err")" = 1 ] && grep -q "event 'cycles' is not supported on this machine (no hardware PMU" "$TMP/err" ||
		fail "hardware event on a VM: rc $rc, $(cat "$TMP/err")"
	info "no PMU: '$(cat "$TMP/err")'"
fi
exit 0
