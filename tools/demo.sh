#!/bin/bash
# make demo: profile a bundled workload whose true profile is known.
set -e
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "demo: ebprof needs root: run 'sudo make demo'" >&2
	exit 1
fi
echo "== tools/cpu_split: burn_a() does 3x the work of burn_b(), in a frameless leaf =="
.output/tools/cpu_split 10 >/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
sleep 0.3
echo "\$ ebprof -p $pid -d 3 -n 12"
build/ebprof -p "$pid" -d 3 -n 12
echo
echo "\$ ebprof -p $pid -d 3 -o build/demo.svg"
build/ebprof -p "$pid" -d 3 -o build/demo.svg
echo "open build/demo.svg in a browser: hover for details, click to zoom, Search to highlight"
