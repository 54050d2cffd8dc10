#!/bin/bash
# Runs the unit tests (plain and under ASan+UBSan) and the integration
# tests, and ends with one line: "N passed, N failed, N skipped".
# Integration tests exit 0 (pass), 1 (fail) or 2 (skip), as perf's do.
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0 skip=0
failed=()

for t in .output/tests/test_* .output/tests-asan/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1)
	rc=$?
	counts=$(printf '%s\n' "$out" | tail -n 1)
	if [[ $counts =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
		pass=$((pass + BASH_REMATCH[1]))
		fail=$((fail + BASH_REMATCH[2]))
		skip=$((skip + BASH_REMATCH[3]))
	else
		fail=$((fail + 1))
	fi
	if [ $rc -ne 0 ]; then
		printf '%s\n' "$out" | grep -v '^ok' | sed "s|^|  $t: |"
		[[ $counts =~ \ 0\ failed ]] && fail=$((fail + 1))	# crashed after its tests
		failed+=("$t")
	fi
	echo "unit  $t: ${counts}"
done

# each fuzzer over its seeds once (make fuzz runs them for longer)
for f in .output/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=${f##*/fuzz_}
	seeds=(tests/fuzz/corpus/"$name"/*)
	[ "$name" = elf ] && seeds+=(.output/fuzz/seeds-elf/*)
	out=$(LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp "$f" -runs=0 "${seeds[@]}" 2>&1)
	if [ $? -eq 0 ]; then
		pass=$((pass + 1)); res=PASS
	else
		fail=$((fail + 1)); res=FAIL; failed+=("$f")
		printf '%s\n' "$out" | tail -n 30 | sed 's/^/      /'
	fi
	printf '%-4s  %s (%d seeds)\n' "$res" "$f" "${#seeds[@]}"
done

for t in tests/integration/t_*.sh; do
	[ -n "$ONLY" ] && [[ $t != *$ONLY* ]] && continue
	start=$(date +%s%N)
	out=$(timeout 120 bash "$t" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	case $rc in
	0) pass=$((pass + 1)); res=PASS ;;
	2) skip=$((skip + 1)); res=SKIP ;;
	*) fail=$((fail + 1)); res=FAIL; failed+=("$t") ;;
	esac
	printf '%-4s  %s (%d.%d s)\n' "$res" "$t" $((ms / 1000)) $((ms % 1000 / 100))
	if [ $rc -ne 0 ] || [ -n "$VERBOSE" ]; then
		printf '%s\n' "$out" | sed 's/^/      /' | tail -n 40
	fi
done

[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
