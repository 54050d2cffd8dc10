#!/bin/bash
# compile_loop.sh -r ROUNDS: a build's process churn, timed by itself.
# Each round compiles qsort_deep.c (86 lines) twice, as gcc -O2 -c and as
# gcc -O0 -g -c: a gcc driver, cc1 and as each time, one core busy.  With
# WAIT_FOR_SIGUSR1=1 in the environment it prints "ready PID" and waits
# for SIGUSR1 first.  Prints "warm" after the round that ends 3 s into the
# work, and at the end "work_s SECONDS rounds ROUNDS steady_s SECONDS"
# (steady_s: the seconds after "warm").
set -u
rounds=10
[ "${1:-}" = -r ] && rounds=$2
src=$(cd "$(dirname "$0")" && pwd)/qsort_deep.c
out=$(mktemp -d /tmp/compile_loop.XXXXXX)
trap 'rm -rf "$out"' EXIT
if [ -n "${WAIT_FOR_SIGUSR1:-}" ]; then
	go=0
	trap 'go=1' USR1
	echo "ready $$"
	while [ $go = 0 ]; do sleep 0.01; done
fi
t0=$(date +%s.%N)
for ((i = 0; i < rounds; i++)); do
	gcc -O2 -c "$src" -o "$out/a.o" || exit 1
	gcc -O0 -g -c "$src" -o "$out/b.o" || exit 1
	# warm: 3 s into the work (the profiler's tables built and caught up)
	if [ -z "${tw:-}" ] && awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { exit !(b - a >= 3) }'; then
		tw=$(date +%s.%N)
		echo warm
	fi
done
t1=$(date +%s.%N)
awk -v a="$t0" -v w="${tw:-$t1}" -v b="$t1" -v r="$rounds" 'BEGIN { printf "work_s %.6f rounds %d steady_s %.6f\n", b - a, r, b - w }'
