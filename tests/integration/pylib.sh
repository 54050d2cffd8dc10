# The Python acceptance suite, for one CPython build: sourced by the
# t_python_*.sh scripts after lib.sh, then "py_suite PYTHON".
PYCHECK="python3 $PWD/tests/integration/pycheck.py"

# a check of the last run; when it fails, what ebprof said in that run
pycheck() {
	$PYCHECK "$@" && return
	echo "  ebprof said:"
	sed 's/^/    /' "$TMP/err"
	exit 1
}

py_suite() {
	local py=$1 minor
	[ -x "$py" ] || skip "$py is not installed"
	minor=$("$py" -c 'import sys; print(sys.version_info[1])')
	info "$("$py" --version 2>&1) at $py"

	# attach to a process that has run for a while: 3:1 split, names, lines
	start "$py" tests/workloads/py_work.py split 30
	sleep 1
	$EBPROF -p "$WPID" -d 2 -F 999 -o "$TMP/split.json" 2>"$TMP/err" || fail "ebprof -p failed: $(cat "$TMP/err")"
	grep -q "not supported\|does not check out" "$TMP/err" && fail "refused: $(cat "$TMP/err")"
	kill "$WPID"
	pycheck split "$TMP/split.json" "$minor"

	# threads that wait from before the attach to after the end (py-spy
	# --idle): in ebprof wall, with their Python frames
	start "$py" tests/workloads/py_work.py idle 30
	sleep 1
	$EBPROF wall --threads -p "$WPID" -d 1 -f json -o "$TMP/idle.json" 2>"$TMP/err" ||
		fail "ebprof wall -p failed: $(cat "$TMP/err")"
	kill "$WPID"
	pycheck idle "$TMP/idle.json" "$minor"

	# launch mode: Python frames from the start
	$EBPROF -F 999 -o "$TMP/shapes.json" -- "$py" tests/workloads/py_work.py shapes 2 >/dev/null 2>"$TMP/err" ||
		fail "ebprof -- shapes failed: $(cat "$TMP/err")"
	pycheck shapes "$TMP/shapes.json" "$minor"
	# the process walked is counted after it exited too, as attached
	for j in split shapes; do
		python3 -c 'import json, sys; p = json.load(open(sys.argv[1]))["python"]; assert p["processes"] == 1, p' \
			"$TMP/$j.json" || fail "$j: JSON python.processes is not 1"
	done

	$EBPROF -F 999 --per-thread -o "$TMP/threads.json" -- "$py" tests/workloads/py_work.py threads 2 >/dev/null 2>"$TMP/err" ||
		fail "ebprof -- threads failed: $(cat "$TMP/err")"
	pycheck threads "$TMP/threads.json" "$minor"

	$EBPROF -F 999 -o "$TMP/sorted.json" -- "$py" tests/workloads/py_work.py sorted 2 >/dev/null 2>"$TMP/err" ||
		fail "ebprof -- sorted failed: $(cat "$TMP/err")"
	pycheck sorted "$TMP/sorted.json" "$minor"

	# a script that is gone after 0.5 s: every code object still named
	$EBPROF -F 999 -o "$TMP/quick.json" -- "$py" tests/workloads/py_work.py quick 0.5 >/dev/null 2>"$TMP/err" ||
		fail "ebprof -- quick failed: $(cat "$TMP/err")"
	pycheck quick "$TMP/quick.json" "$minor"

	# module code freed as soon as it has run, with the reader of code
	# objects late, as under load: named from what the walker read
	EBPROF_TEST_PY_LAG_MS=10 $EBPROF -F 999 -o "$TMP/modules.json" -- "$py" tests/workloads/py_work.py modules 2 >"$TMP/modules.out" 2>"$TMP/err" ||
		fail "ebprof -- modules failed: $(cat "$TMP/err")"
	pycheck modules "$TMP/modules.json" "$minor" "$(sed -n 's/^modules //p' "$TMP/modules.out")"

	# the profiling guide's sorts, line by line
	$EBPROF -F 999 --lines -o "$TMP/sort.json" -- "$py" tests/workloads/py_sort.py 7000 >"$TMP/lines" 2>"$TMP/err" ||
		fail "ebprof --lines failed: $(cat "$TMP/err")"
	pycheck lines "$TMP/lines" "$minor"
	exit 0
}
