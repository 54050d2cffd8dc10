#!/bin/bash
# run.sh SECONDS - each fuzzer (.output/fuzz/fuzz_*) for SECONDS from its
# seeds (tests/fuzz/corpus/NAME, and the built ELF files for fuzz_elf), its
# new inputs kept in .output/fuzz/corpus-NAME.  Prints executions and
# crashes per fuzzer; exits 1 if any crashed (the input is in
# .output/fuzz/crash-*).
cd "$(dirname "$0")/../.." || exit 1
secs=${1:-60}
bad=0
for f in .output/fuzz/fuzz_*; do
	name=${f##*/fuzz_}
	work=.output/fuzz/corpus-$name
	mkdir -p "$work"
	seeds=(tests/fuzz/corpus/"$name")
	[ "$name" = elf ] && seeds+=(.output/fuzz/seeds-elf)
	log=.output/fuzz/$name.log
	LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix=.output/fuzz/ \
		-print_final_stats=1 "$work" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	printf 'fuzz %-9s %s s: %s executions, corpus %s inputs, %s\n' "$name" "$secs" "${execs:-?}" \
		"$(ls "$work" | wc -l)" "$([ $rc -eq 0 ] && echo "0 crashes" || echo "CRASHED (see $log)")"
	[ $rc -eq 0 ] || bad=$((bad + 1))
done
[ $bad -eq 0 ]
