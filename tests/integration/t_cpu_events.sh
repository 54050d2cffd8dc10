#!/bin/bash
# ebprof cpu -e: stacks on page faults, weighted by the events each sample
# stands for: fault_split faults 3 pages in touch_a for each in touch_b.
# Two events at once give a ratio per function; hardware events need a PMU.
. "$(dirname "$0")/lib.sh"
need_root
$EBPROF -F 999 -e page-faults -o "$TMP/pf.folded" -- "$T/fault_split" 400 >/dev/null 2>"$TMP/err" || fail "ebprof -e page-faults: $(cat "$TMP/err")"
n=$(total "$TMP/pf.folded")
a=$(share "$TMP/pf.folded" ';touch_a;touch$')
b=$(share "$TMP/pf.folded" ';touch_b;touch$')
info "page-faults: $n faults estimated (400 rounds x 1024 pages = 409600 by construction), touch_a $a %, touch_b $b %"
within "$a" 75 3 || fail "touch_a $a % is not 75 +- 3"
within "$b" 25 3 || fail "touch_b $b % is not 25 +- 3"
awk -v n="$n" 'BEGIN { exit !(n > 0.9 * 409600 && n < 1.1 * 409600) }' || fail "$n faults is not about 409600"

# two events: each function's share of both, and their ratio
$EBPROF -F 999 -e page-faults,minor-faults -n 5 -- "$T/fault_split" 200 >"$TMP/two" 2>&1 || fail "two events: $(cat "$TMP/two")"
grep -q "PAGE-FAULTS *MINOR-FAULTS *RATIO" "$TMP/two" || fail "no two-event columns: $(cat "$TMP/two")"
r=$(awk '$NF == "fault_split" && $(NF-1) == "touch" { print $5 }' "$TMP/two")
info "page-faults and minor-faults: touch's ratio $r (all its faults are minor)"
within "$r" 1 0.05 || fail "the ratio of minor faults to faults in touch is $r, not 1"
$EBPROF -f json -e page-faults,minor-faults -o "$TMP/two.json" -- "$T/fault_split" 50 >/dev/null 2>&1 || fail "two events, JSON"
python3 - "$TMP/two.json" <<'PY' || exit 1
import json, sys
p = json.load(open(sys.argv[1]))
assert p["event"] == "page-faults" and p["event2"] == "minor-faults" and p["weighted"]
# counts are events: both totals are the sums over the stacks, and the
# 50 rounds x 1024 pages fault in each event's count (all are minor faults)
assert p["events"] == sum(s["count"] for s in p["stacks"]) and p["events2"] == sum(s.get("count2", 0) for s in p["stacks"])
assert abs(p["events"] - 51200) < 0.1 * 51200 and abs(p["events2"] - 51200) < 0.1 * 51200, (p["events"], p["events2"])
assert 0 < p["samples"] < p["events"]
print("  JSON: %d samples standing for %d page-faults and %d minor-faults (51200 by construction)" % (p["samples"], p["events"], p["events2"]))
PY

# no PMU here: a hardware event is one clear line and exit 1
if [ ! -e /sys/bus/event_source/devices/cpu ] && [ ! -e /sys/bus/event_source/devices/cpu_core ]; then
	$EBPROF -e cycles,instructions -d 0.3 -- "$T/cpu_split" 0.3 >/dev/null 2>"$TMP/err"; rc=$?
	[ $rc = 1 ] && [ "$(wc -l <"$TMP/err")" = 1 ] && grep -q "event 'cycles' is not supported on this machine (no hardware PMU" "$TMP/err" ||
		fail "hardware event on a VM: rc $rc, $(cat "$TMP/err")"
	info "no PMU: '$(cat "$TMP/err")'"
fi
exit 0
