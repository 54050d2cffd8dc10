#!/bin/bash
# Nothing survives ebprof: after a normal end, SIGINT, SIGTERM, SIGKILL,
# or the target dying, no ebprof BPF program, link or perf event is left.
. "$(dirname "$0")/lib.sh"
need_root
[ "$(ebprof_progs)" -eq 0 ] || skip "another ebprof is running"
links_before=$(bpftool link show 2>/dev/null | grep -c '^[0-9]')
check() {
	local n
	sleep 0.3
	n=$(ebprof_progs)
	[ "$n" -eq 0 ] || fail "$1: $n ebprof BPF programs still loaded"
	n=$(bpftool link show 2>/dev/null | grep -c '^[0-9]')
	[ "$n" -le "$links_before" ] || fail "$1: BPF links left ($n > $links_before)"
	info "$1: clean"
}
start "$T/cpu_split" 60

$EBPROF -p "$WPID" -d 1 >/dev/null 2>&1 || fail "normal run failed"
check "normal end"

for sig in INT TERM KILL; do
	$EBPROF -p "$WPID" >"$TMP/out" 2>&1 &
	ep=$!
	sleep 1.5
	n=$(ebprof_progs)
	[ "$n" -ge 3 ] || fail "ebprof's programs were not loaded while it ran ($n)"
	kill -$sig $ep
	wait $ep
	rc=$?
	case $sig in
	KILL) [ $rc -eq 137 ] || fail "SIGKILL: exit $rc" ;;
	*) [ $rc -eq 0 ] || fail "SIG$sig: exit $rc"
	   grep -q 'spin_leaf' "$TMP/out" || fail "SIG$sig: no profile printed: $(head -3 "$TMP/out")" ;;
	esac
	check "SIG$sig"
done

# ebprof lat's uprobes (uprobe.multi links): gone after SIGINT and SIGKILL
for sig in INT KILL; do
	$EBPROF lat 'spin_*' -p "$WPID" >"$TMP/out" 2>&1 &
	ep=$!
	sleep 1.5
	[ "$(ebprof_progs)" -ge 3 ] || fail "lat: its programs were not loaded while it ran"
	kill -$sig $ep
	wait $ep
	rc=$?
	[ $sig = KILL ] || [ $rc -eq 0 ] || fail "lat SIG$sig: exit $rc: $(cat "$TMP/out")"
	check "lat SIG$sig"
done

# the target dies under ebprof
$EBPROF -p "$WPID" -d 30 >/dev/null 2>&1 &
ep=$!
sleep 1
kill -9 "$WPID"
wait $ep || fail "ebprof failed when its target died"
check "target killed"

# launch mode: SIGTERM stops the command too, and ebprof reports its status
$EBPROF -- "$T/cpu_split" 60 >/dev/null 2>&1 &
ep=$!
sleep 1
child=$(pgrep -P $ep cpu_split)
[ -n "$child" ] || fail "no child command"
kill -TERM $ep
wait $ep
rc=$?
[ $rc -eq 143 ] || fail "launch mode: exit $rc after SIGTERM, expected 143 (the command's 128+SIGTERM)"
kill -0 "$child" 2>/dev/null && fail "the launched command survived"
check "launch SIGTERM"
exit 0
